/**
 * The asset graph in a real browser (Chromium), end to end against `baton dev` on the NYC taxi
 * example: every asset in its group box with its status, the selection search agreeing with the
 * graph's lineage, inline selection errors, the side panel, materializing from the graph with live
 * updates (no reload), and screenshots (light, dark, small window). Needs the built UI.
 */
import { existsSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import {
  chromiumSkipReason,
  type DevServer,
  errorsOf,
  handleMissingChromium,
  launchBrowser,
  screenshot,
  startDev,
  type TestBrowser,
  UI_INDEX,
} from "./support/browser.js";
import {
  type AssetNodeInfo,
  accessibleDescription,
  assetNode,
  callApi,
  downstreamOf,
  graphOf,
  graphReady,
  listAssets,
  listRuns,
  pageHeading,
  runStatus,
  setWindowMarker,
  windowMarker,
} from "./support/ui-flows.js";

const skipReason = chromiumSkipReason();
if (skipReason !== null) handleMissingChromium(skipReason);

const STATUS_WORDS = [
  "materialized",
  "missing",
  "stale",
  "failed",
  "running",
  "queued",
  "check failed",
  "overdue",
];
const startsWithStatus = (description: string) => STATUS_WORDS.some((w) => description.startsWith(w));

describe.skipIf(skipReason !== null)("UI asset graph (Chromium)", () => {
  let dev: DevServer;
  let browser: TestBrowser;
  let assets: AssetNodeInfo[];

  beforeAll(async () => {
    expect(existsSync(UI_INDEX), `${UI_INDEX} is missing: build the UI (npm run build -w @baton/ui)`).toBe(
      true,
    );
    [dev, browser] = await Promise.all([startDev(), launchBrowser()]);
    await dev.waitForIdle(60_000);
    assets = await listAssets(dev);
  }, 120_000);
  afterEach(async () => {
    // Pages left open keep their live event streams (and the CPU) busy: one test's pages at a time.
    for (const context of browser?.browser.contexts() ?? []) await context.close().catch(() => undefined);
  });
  afterAll(async () => {
    await browser?.close();
    await dev?.stop();
  }, 60_000);

  test("every asset is a node inside its group box, described by its status", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/graph`);
    const graph = await graphReady(page);
    await pageHeading(page, "Asset graph");
    // The header: the two sections and the live indicator (the event stream connects).
    const nav = page.getByRole("banner").getByRole("navigation");
    for (const name of ["Asset graph", "Catalog"])
      expect(await nav.getByRole("link", { name, exact: true }).count(), name).toBe(1);
    await page.getByRole("banner").getByText("Live", { exact: true }).waitFor({ timeout: 10_000 });

    const groups = new Map<string, string[]>();
    for (const a of assets) groups.set(a.group, [...(groups.get(a.group) ?? []), a.key]);
    expect(groups.size).toBeGreaterThan(1);
    for (const [group, keys] of groups) {
      const box = graph.getByRole("group", { name: group, exact: true });
      await box.waitFor({ timeout: 10_000 });
      for (const key of keys) {
        const node = box.getByRole("button", { name: key, exact: true });
        expect(await node.count(), `node ${key} inside group ${group}`).toBe(1);
      }
    }
    // No node outside the assets the API knows, and each exactly once.
    for (const a of assets) expect(await assetNode(page, a.key).count(), a.key).toBe(1);
    // Statuses are in place once the status answer is in (the sensor materialized everything it lands).
    const status = await dev.api<{ assets: Record<string, { status: string; partitions: unknown }> }>(
      "/api/graph/status",
    );
    for (const a of assets) {
      await expect
        .poll(() => accessibleDescription(assetNode(page, a.key)), { timeout: 10_000 })
        .toMatch(new RegExp(`^${status.assets[a.key]!.status.replace("_", " ")}`));
      const description = await accessibleDescription(assetNode(page, a.key));
      expect(startsWithStatus(description), `${a.key}: "${description}"`).toBe(true);
      if (a.partitions) expect(description, a.key).toMatch(/partitions: \d+ of \d+ done/);
    }
    await screenshot(page, "graph-1400x900");
    expect(errorsOf(page)).toEqual([]);
  }, 60_000);

  test("the selection search matches exactly what the lineage says", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/graph`);
    await graphReady(page);
    const search = page.getByRole("searchbox", { name: "Asset selection" });
    const byKey = new Map(assets.map((a) => [a.key, a]));
    const groupOf = (g: string) => assets.filter((a) => a.group === g).map((a) => a.key);
    expect(groupOf("ingest").length).toBeGreaterThan(0);
    const cases: [string, Set<string>][] = [
      ["group:ingest*", downstreamOf(assets, groupOf("ingest"))],
      ["group:ingest", new Set(groupOf("ingest"))],
      ["+taxi/clean_trips", new Set(["taxi/clean_trips", ...byKey.get("taxi/clean_trips")!.deps])],
      [
        "taxi/zones+",
        new Set(["taxi/zones", ...assets.filter((a) => a.deps.includes("taxi/zones")).map((a) => a.key)]),
      ],
    ];
    for (const [selection, expected] of cases) {
      await search.fill(selection);
      await expect
        .poll(() => page.getByText(/\d+ of \d+ assets match/).textContent({ timeout: 5_000 }), {
          timeout: 10_000,
        })
        .toContain(`${expected.size} of ${assets.length} assets match`);
      await graphReady(page);
      for (const a of assets) {
        await expect
          .poll(() => accessibleDescription(assetNode(page, a.key)), { timeout: 5_000 })
          .toContain(expected.has(a.key) ? "matches the search" : "outside the search");
        if (!expected.has(a.key))
          expect(await accessibleDescription(assetNode(page, a.key))).not.toContain("matches the search");
      }
    }

    expect(errorsOf(page)).toEqual([]);
  }, 90_000);

  test('"Only matches" filters the graph to the matches', async () => {
    // "Only matches": the graph shows the matching assets and nothing else.
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/graph`);
    await graphReady(page);
    const search = page.getByRole("searchbox", { name: "Asset selection" });
    const onlySelection = "+taxi/clean_trips";
    const onlyExpected = new Set([
      "taxi/clean_trips",
      ...assets.find((a) => a.key === "taxi/clean_trips")!.deps,
    ]);
    await search.fill(onlySelection);
    const only = page.getByRole("checkbox", { name: "Only matches" });
    await only.click();
    await graphReady(page); // reports page errors when the graph is gone
    expect(errorsOf(page)).toEqual([]);
    expect(await only.isChecked()).toBe(true);
    await expect
      .poll(
        () =>
          graphOf(page)
            .getByRole("button", { name: /^taxi\// })
            .count(),
        { timeout: 10_000 },
      )
      .toBe(onlyExpected.size);
    for (const key of onlyExpected) expect(await assetNode(page, key).count(), key).toBe(1);
    await screenshot(page, "graph-only-matches");
    expect(errorsOf(page)).toEqual([]);
  }, 60_000);

  test("a bad selection: the parser's message inline, as the API answers it", async () => {
    // A bad selection: the parser's message inline (role alert), the same the API answers.
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/graph`);
    await graphReady(page);
    const search = page.getByRole("searchbox", { name: "Asset selection" });
    const bad = "group:ingest and (";
    await search.fill(bad);
    const alert = page.getByRole("alert").filter({ hasText: /\S/ });
    await alert.first().waitFor({ timeout: 10_000 });
    const shown = (await alert.first().textContent())?.trim() ?? "";
    expect(shown).not.toBe("");
    expect(await search.getAttribute("aria-invalid")).toBe("true");
    const runsBefore = (await listRuns(dev)).length;
    const api = await callApi<{ error: { message: string; field: string } }>(dev, "POST", "/api/runs", {
      body: { selection: bad },
    });
    expect(api.status).toBe(400);
    expect(api.body.error.field).toMatch(/(^|\.)selection$/);
    // The UI parses with the same parser as the API: its first line names the same problem.
    expect(api.body.error.message).toContain(shown.split("\n")[0]!.trim());
    expect((await listRuns(dev)).length).toBe(runsBefore);
    await screenshot(page, "graph-search-error");
    expect(errorsOf(page)).toEqual([]);
  }, 90_000);

  test("clicking a node opens the side panel; shift-click adds to the selection", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/graph`);
    await graphReady(page);
    await assetNode(page, "taxi/clean_trips").click();
    const panel = page.getByRole("complementary", { name: "taxi/clean_trips" });
    await panel.waitFor({ timeout: 10_000 });
    expect(await panel.getByRole("heading", { name: "taxi/clean_trips" }).count()).toBe(1);
    expect(await panel.getByRole("button", { name: "Materialize", exact: true }).isEnabled()).toBe(true);
    const link = panel.getByRole("link", { name: "Open asset page" });
    expect(await link.getAttribute("href")).toBe("/assets/taxi/clean_trips");
    expect(await assetNode(page, "taxi/clean_trips").getAttribute("aria-pressed")).toBe("true");
    // Selecting enables "Materialize selected"; shift-click adds a second asset.
    const selectedButton = page.getByRole("button", { name: /^Materialize selected/ });
    expect(await selectedButton.isEnabled()).toBe(true);
    await assetNode(page, "taxi/zones").click({ modifiers: ["Shift"] });
    await expect.poll(() => selectedButton.textContent(), { timeout: 5_000 }).toContain("(2)");
    await screenshot(page, "graph-panel-1400x900");
    // The panel's link opens the asset page (client-side).
    await link.click();
    await expect
      .poll(() => new URL(page.url()).pathname, { timeout: 10_000 })
      .toBe("/assets/taxi/clean_trips");
    expect(errorsOf(page)).toEqual([]);
  }, 90_000);

  test("the graph at 1024×700 and in dark mode", async () => {
    for (const [name, options] of [
      ["graph-1024x700", { viewport: { width: 1024, height: 700 } }],
      ["graph-dark-1400x900", { viewport: { width: 1400, height: 900 }, colorScheme: "dark" }],
      ["graph-dark-1024x700", { viewport: { width: 1024, height: 700 }, colorScheme: "dark" }],
    ] as const) {
      const p = await browser.newPage(options);
      await p.goto(`${dev.url}/graph`);
      await graphReady(p);
      expect(await assetNode(p, "taxi/raw_trips").count()).toBe(1);
      await screenshot(p, name);
      expect(errorsOf(p), name).toEqual([]);
      await p.context().close();
    }
  }, 90_000);

  test("Materialize an unpartitioned asset from the graph: queued, run, materialized again without a reload", async () => {
    const key = assets.find((a) => a.partitions === null && a.deps.length === 0)?.key;
    expect(key, "an unpartitioned root asset in the example").toBeDefined();
    const before = await dev.api<{
      assets: Record<string, { status: string; lastMaterializedAt: number | null; lastRunId: string | null }>;
    }>("/api/graph/status");
    const runsBefore = new Set((await listRuns(dev)).map((r) => r.runId));

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/graph`);
    await graphReady(page);
    await setWindowMarker(page, "no-reload");
    // Record every description the node goes through (runs of a small asset take well under a second).
    await page.evaluate((k) => {
      const seen: string[] = [];
      (window as unknown as { __seen: string[] }).__seen = seen;
      const read = () => {
        const node = [...document.querySelectorAll("button[aria-describedby]")].find(
          (b) => b.getAttribute("aria-label") === k,
        );
        const id = node?.getAttribute("aria-describedby");
        const text = id ? (document.getElementById(id)?.textContent ?? "") : "";
        if (text && seen[seen.length - 1] !== text) seen.push(text);
      };
      read();
      new MutationObserver(read).observe(document.body, {
        subtree: true,
        childList: true,
        characterData: true,
        attributes: true,
      });
    }, key!);

    // Opened with the keyboard (Enter on the node's button): mouse clicks are covered above.
    await assetNode(page, key!).press("Enter");
    const panel = page.getByRole("complementary", { name: key! });
    await panel.waitFor({ timeout: 10_000 });
    await screenshot(page, "graph-panel-keyboard-1400x900");
    await panel.getByRole("button", { name: "Materialize", exact: true }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor({ timeout: 10_000 });
    await screenshot(page, "launch-dialog-unpartitioned");
    await dialog.getByRole("button", { name: "Launch run" }).click();
    await dialog.waitFor({ state: "detached", timeout: 10_000 });
    // The toast: queued, with a link to the run.
    const viewRun = page.getByRole("link", { name: "View run" });
    await viewRun.waitFor({ timeout: 10_000 });
    const href = (await viewRun.getAttribute("href")) ?? "";
    expect(href).toMatch(/^\/runs\/[\w-]+$/);
    expect(await page.getByRole("status").filter({ has: viewRun }).textContent()).toMatch(/queued/i);
    const runId = href.slice("/runs/".length);

    // The API has the run, for exactly this asset, and it succeeds.
    const fresh = (await listRuns(dev)).filter((r) => !runsBefore.has(r.runId));
    expect(fresh.map((r) => r.runId)).toEqual([runId]);
    expect(fresh[0]!.assetKeys).toEqual([key]);
    await expect.poll(async () => runStatus(dev, runId), { timeout: 30_000 }).toBe("SUCCESS");

    // Live, without a reload: the panel links the new run as the latest materialization, the node
    // is materialized again, and it went through queued/running on the way.
    await panel
      .getByRole("link")
      .and(page.locator(`[href="/runs/${runId}"]`))
      .waitFor({ timeout: 15_000 });
    await expect
      .poll(() => accessibleDescription(assetNode(page, key!)), { timeout: 15_000 })
      .toMatch(/^materialized/);
    const seen = await page.evaluate(() => (window as unknown as { __seen: string[] }).__seen);
    expect(
      seen.some((d) => /^(queued|running)/.test(d)),
      `descriptions seen: ${JSON.stringify(seen)}`,
    ).toBe(true);
    expect(seen[seen.length - 1]).toMatch(/^materialized/);
    const after = await dev.api<{
      assets: Record<string, { lastMaterializedAt: number | null; lastRunId: string }>;
    }>("/api/graph/status");
    expect(after.assets[key!]!.lastRunId).toBe(runId);
    expect(after.assets[key!]!.lastMaterializedAt!).toBeGreaterThan(
      before.assets[key!]!.lastMaterializedAt ?? 0,
    );
    expect(await windowMarker(page)).toBe("no-reload");
    expect(new URL(page.url()).pathname).toBe("/graph");
    await screenshot(page, "graph-after-materialize");
    expect(errorsOf(page)).toEqual([]);
  }, 90_000);
});
