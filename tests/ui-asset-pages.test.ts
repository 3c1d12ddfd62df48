/**
 * The catalog and the asset pages in a real browser (Chromium) against `baton dev` on the NYC taxi
 * example: the catalog's filter and sortable columns; an asset page's partition health and its plot
 * of row counts after a second materialization; why a downstream partition is stale, as a chain
 * through its upstreams, after an upstream partition is materialized again with new data. Screenshots of the
 * catalog and the asset pages (light, dark, small window). Needs the built UI.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
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
} from "./support/browser.js";
import {
  type AssetNodeInfo,
  accessibleDescription,
  callApi,
  listAssets,
  pageHeading,
} from "./support/ui-flows.js";

const skipReason = chromiumSkipReason();
if (skipReason !== null) handleMissingChromium(skipReason);

const enc = encodeURIComponent;

interface Reason {
  kind: string;
  message: string;
  upstream?: string;
  causes?: Reason[];
}

/** The asset keys a why answer names, through its nested causes. */
function upstreamsOf(reasons: readonly Reason[]): string[] {
  return reasons.flatMap((r) => [...(r.upstream ? [r.upstream] : []), ...upstreamsOf(r.causes ?? [])]);
}

/** The asset keys of the catalog's rows, top to bottom. */
async function catalogKeys(page: Page): Promise<string[]> {
  const table = page.getByRole("table", { name: "Assets" });
  const rows = table.getByRole("row");
  const keys: string[] = [];
  for (const row of await rows.all()) {
    const link = row.getByRole("link").first();
    if ((await link.count()) > 0) keys.push(((await link.textContent()) ?? "").trim());
  }
  return keys;
}

describe.skipIf(skipReason !== null)("UI catalog and asset pages (Chromium)", () => {
  let dev: DevServer;
  let browser: TestBrowser;
  let assets: AssetNodeInfo[];
  let changed: string | undefined;

  beforeAll(async () => {
    [dev, browser] = await Promise.all([startDev(), launchBrowser()]);
    await dev.waitForIdle(60_000);
    assets = await listAssets(dev);
    // A second materialization of the zones (two points to plot), and of one raw trips partition
    // from a new file (its downstream partitions become stale; the same file again would not: its
    // data version would not change).
    changed = await mkdtemp(path.join(tmpdir(), "baton-ui-changed-"));
    const { generateMonth } = await import("../examples/nyc_taxi/src/generate.js");
    await generateMonth({ month: "2019-01", taxi: "yellow", rows: 400, dir: changed });
    for (const body of [
      { selection: "taxi/zones" },
      {
        selection: "taxi/raw_trips",
        partitions: { keys: ["2019-01|yellow"] },
        config: { "taxi/raw_trips": { landing: changed } },
      },
    ]) {
      const answer = await callApi(dev, "POST", "/api/runs", { body });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    }
    await dev.waitForIdle(60_000);
  }, 150_000);
  afterEach(async () => {
    // Pages left open keep their live event streams (and the CPU) busy: one test's pages at a time.
    for (const context of browser?.browser.contexts() ?? []) await context.close().catch(() => undefined);
  });
  afterAll(async () => {
    await browser?.close();
    await dev?.stop();
    if (changed) await rm(changed, { recursive: true, force: true });
  }, 60_000);

  test("catalog: every asset, a text filter, columns that sort, rows that open the asset page", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/catalog`);
    await pageHeading(page, "Catalog");
    const all = assets.map((a) => a.key);
    await expect.poll(() => catalogKeys(page), { timeout: 10_000 }).toHaveLength(all.length);
    expect([...(await catalogKeys(page))].sort()).toEqual([...all].sort());
    await screenshot(page, "catalog-1400x900");

    // Sorting by the asset column: aria-sort says which way, the rows follow.
    const header = page.getByRole("columnheader", { name: /^Asset/ });
    const sortButton = header.getByRole("button");
    const ascending = [...all].sort((a, b) => a.localeCompare(b));
    // A click re-renders asynchronously: wait for aria-sort to move before reading it.
    const clickSort = async () => {
      const before = await header.getAttribute("aria-sort");
      await sortButton.click();
      await expect.poll(() => header.getAttribute("aria-sort"), { timeout: 5_000 }).not.toBe(before);
      return header.getAttribute("aria-sort");
    };
    let sort = await clickSort();
    if (sort !== "ascending") {
      expect(sort).toBe("descending");
      sort = await clickSort();
    }
    expect(sort).toBe("ascending");
    await expect.poll(() => catalogKeys(page), { timeout: 5_000 }).toEqual(ascending);
    expect(await clickSort()).toBe("descending");
    await expect.poll(() => catalogKeys(page), { timeout: 5_000 }).toEqual([...ascending].reverse());
    // Only one column is sorted at a time.
    expect(
      await page
        .getByRole("columnheader")
        .and(page.locator('[aria-sort="ascending"], [aria-sort="descending"]'))
        .count(),
    ).toBe(1);

    // The text filter: the assets whose key or description mention "payment".
    const filter = page.getByLabel("Filter assets");
    await filter.fill("payment");
    const expected = assets
      .filter((a) => `${a.key} ${a.description ?? ""}`.toLowerCase().includes("payment"))
      .map((a) => a.key)
      .sort((a, b) => b.localeCompare(a));
    expect(expected).toEqual(["taxi/payment_types", "taxi/payment_summary"]);
    await expect.poll(() => catalogKeys(page), { timeout: 5_000 }).toEqual(expected);
    expect(await page.getByText(`${expected.length} of ${all.length} assets`).count()).toBe(1);
    await screenshot(page, "catalog-filtered");

    // A row's link opens its asset page.
    await page
      .getByRole("table", { name: "Assets" })
      .getByRole("link", { name: "taxi/payment_types", exact: true })
      .click();
    await expect
      .poll(() => new URL(page.url()).pathname, { timeout: 10_000 })
      .toBe("/assets/taxi/payment_types");
    await pageHeading(page, "taxi/payment_types");
    expect(errorsOf(page)).toEqual([]);
  }, 60_000);

  test("asset page: partition health as the API counts it, and a row-count plot of two materializations", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    // Partitioned: the health bar, painted, described with the API's counts.
    await page.goto(`${dev.url}/assets/taxi/raw_trips`);
    await pageHeading(page, "taxi/raw_trips");
    expect(await page.getByRole("button", { name: "Materialize", exact: true }).isEnabled()).toBe(true);
    const health = page.getByRole("figure", { name: "Partition health" });
    await health.and(page.locator('[aria-busy="false"]')).waitFor({ timeout: 15_000 });
    const counts = await dev.api<{ total: number; counts: { materialized: number; missing: number } }>(
      `/api/assets/${enc("taxi/raw_trips")}/partitions`,
    );
    expect(counts.counts.materialized).toBe(2);
    const described = await accessibleDescription(health);
    expect(described).toContain(`${counts.total} partitions`);
    expect(described).toContain(`${counts.counts.materialized} materialized`);
    expect(described).toContain(`${counts.counts.missing} missing`);
    await screenshot(page, "asset-page-partitioned-1400x900");

    // Unpartitioned, materialized twice: the numeric metadata plotted over time.
    const series = await dev.api<{ points: unknown[] }>(
      `/api/assets/${enc("taxi/zones")}/metadata/row_count`,
    );
    const n = series.points.length; // the sensor's two files each materialized the zones, then one more
    expect(n).toBeGreaterThanOrEqual(2);
    await page.goto(`${dev.url}/assets/taxi/zones`);
    await pageHeading(page, "taxi/zones");
    const select = page.getByRole("combobox", { name: "Metadata series" });
    await select.waitFor({ timeout: 10_000 });
    await select.selectOption("row_count");
    const plot = page.getByRole("img", { name: /^row_count/ });
    await plot.and(page.locator('[aria-busy="false"]')).waitFor({ timeout: 15_000 });
    expect(await plot.getAttribute("aria-label")).toMatch(new RegExp(`${n} points`));
    await screenshot(page, "asset-page-1400x900");
    await plot.scrollIntoViewIfNeeded();
    await screenshot(page, "asset-page-plot-1400x900");
    expect(errorsOf(page)).toEqual([]);

    for (const [name, options] of [
      ["asset-page-1024x700", { viewport: { width: 1024, height: 700 } }],
      ["asset-page-dark-1400x900", { viewport: { width: 1400, height: 900 }, colorScheme: "dark" }],
      ["asset-page-dark-1024x700", { viewport: { width: 1024, height: 700 }, colorScheme: "dark" }],
      [
        "asset-page-partitioned-dark-1400x900",
        { viewport: { width: 1400, height: 900 }, colorScheme: "dark" },
      ],
    ] as const) {
      const p = await browser.newPage(options);
      const key = name.includes("partitioned") ? "taxi/raw_trips" : "taxi/zones";
      await p.goto(`${dev.url}/assets/${key}`);
      await pageHeading(p, key);
      if (key === "taxi/zones")
        await p
          .getByRole("img", { name: /over time/ })
          .and(p.locator('[aria-busy="false"]'))
          .waitFor({ timeout: 15_000 });
      else
        await p
          .getByRole("figure", { name: "Partition health" })
          .and(p.locator('[aria-busy="false"]'))
          .waitFor({ timeout: 15_000 });
      await screenshot(p, name);
      expect(errorsOf(p), name).toEqual([]);
      await p.context().close();
    }
  }, 90_000);

  test("why a downstream partition is stale: the chain up to the re-materialized raw trips", async () => {
    const why = await dev.api<{ status: string; reasons: Reason[] }>(
      `/api/assets/${enc("taxi/daily_revenue")}/why?partition=2019-01`,
    );
    expect(why.status).toBe("stale");
    const chain = upstreamsOf(why.reasons);
    expect(chain).toContain("taxi/clean_trips");
    expect(chain).toContain("taxi/raw_trips");

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/assets/taxi/daily_revenue`);
    await pageHeading(page, "taxi/daily_revenue");
    // Open the partition by typing its key.
    const picker = page.getByRole("main").getByLabel("Partition", { exact: true });
    await picker.fill("2019-01");
    await page.getByRole("button", { name: "Open", exact: true }).click();
    const panel = page.getByRole("region", { name: /Partition 2019-01/ });
    await panel.waitFor({ timeout: 10_000 });
    // Every reason of the API's answer, with links up the chain.
    for (const message of collectMessages(why.reasons))
      await panel.getByText(message, { exact: false }).first().waitFor({ timeout: 10_000 });
    for (const key of ["taxi/clean_trips", "taxi/raw_trips"])
      expect(await panel.getByRole("link", { name: key, exact: true }).count(), key).toBeGreaterThan(0);
    expect(await panel.getByText(/stale/).count()).toBeGreaterThan(0);
    await panel.scrollIntoViewIfNeeded();
    await screenshot(page, "asset-page-why-stale");
    expect(errorsOf(page)).toEqual([]);
  }, 60_000);
});

function collectMessages(reasons: readonly Reason[]): string[] {
  return reasons.flatMap((r) => [r.message, ...collectMessages(r.causes ?? [])]);
}
