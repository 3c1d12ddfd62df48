/**
 * The launch dialog in a real browser (Chromium) against `baton dev` on the NYC taxi example: a
 * 3-month backfill of taxi/raw_trips (months whose trip files sit in a folder the file sensor does
 * not watch, given through the generated config form) whose partitions fill in the graph live as
 * its runs finish; one partition launched from the asset page, which navigates to the run page.
 * Screenshots of the dialog, the run page and the backfill page. Needs the built UI.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { generateMonth } from "../examples/nyc_taxi/src/generate.js";
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
  accessibleDescription,
  assetNode,
  graphReady,
  listRuns,
  pageHeading,
  partitionsDone,
  runStatus,
  setWindowMarker,
  windowMarker,
} from "./support/ui-flows.js";

const skipReason = chromiumSkipReason();
if (skipReason !== null) handleMissingChromium(skipReason);

const RAW = "taxi/raw_trips";
const MONTHS = ["2019-02", "2019-03", "2019-04"];

/** Pick a key in one of the dialog's key comboboxes (type to filter, then choose the option). */
async function pickKey(page: Page, label: string, key: string) {
  const dialog = page.getByRole("dialog");
  const box = dialog.getByRole("combobox", { name: label, exact: true });
  await box.fill(key);
  await dialog.getByRole("option", { name: key, exact: true }).click();
}

interface Backfill {
  backfillId: string;
  status: string;
  config?: Record<string, unknown>;
}

describe.skipIf(skipReason !== null)("UI launch dialog (Chromium)", () => {
  let dev: DevServer;
  let browser: TestBrowser;
  let elsewhere: string;

  beforeAll(async () => {
    elsewhere = await mkdtemp(path.join(os.tmpdir(), "baton-ui-unwatched-"));
    for (const month of [...MONTHS, "2019-05"])
      for (const taxi of ["yellow", "green"] as const)
        await generateMonth({ month, taxi, rows: 200, dir: elsewhere });
    [dev, browser] = await Promise.all([startDev(), launchBrowser()]);
    await dev.waitForIdle(60_000);
  }, 120_000);
  afterEach(async () => {
    // Pages left open keep their live event streams (and the CPU) busy: one test's pages at a time.
    for (const context of browser?.browser.contexts() ?? []) await context.close().catch(() => undefined);
  });
  afterAll(async () => {
    await browser?.close();
    await dev?.stop();
    if (elsewhere) await rm(elsewhere, { recursive: true, force: true });
  }, 60_000);

  test("a 3-month backfill of the raw trips from the graph: its partitions fill in live", async () => {
    const start = await dev.api<{
      assets: Record<string, { partitions: { materialized: number; total: number } }>;
    }>("/api/graph/status");
    const before = start.assets[RAW]!.partitions;
    const backfillsBefore = (await dev.api<{ backfills: Backfill[] }>("/api/backfills?limit=1000")).backfills
      .length;

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/graph`);
    await graphReady(page);
    await setWindowMarker(page, "no-reload");
    const node = assetNode(page, RAW);
    await expect
      .poll(async () => partitionsDone(await accessibleDescription(node)), { timeout: 10_000 })
      .toEqual({ done: before.materialized, total: before.total });
    // Record every "partitions: X of N done" the node goes through.
    await page.evaluate((key) => {
      const seen: number[] = [];
      (window as unknown as { __done: number[] }).__done = seen;
      const read = () => {
        const el = [...document.querySelectorAll("button[aria-describedby]")].find(
          (b) => b.getAttribute("aria-label") === key,
        );
        const id = el?.getAttribute("aria-describedby");
        const m = /partitions: (\d+) of/.exec((id && document.getElementById(id)?.textContent) || "");
        if (m && seen[seen.length - 1] !== Number(m[1])) seen.push(Number(m[1]));
      };
      read();
      new MutationObserver(read).observe(document.body, {
        subtree: true,
        childList: true,
        characterData: true,
      });
    }, RAW);

    // Keyboard: a node is a button; Enter opens its panel.
    await node.press("Enter");
    const panel = page.getByRole("complementary", { name: RAW });
    await panel.waitFor({ timeout: 10_000 });
    await panel.getByRole("button", { name: "Materialize", exact: true }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor({ timeout: 10_000 });
    await pickKey(page, "First month", MONTHS[0]!);
    await pickKey(page, "Last month", MONTHS[MONTHS.length - 1]!);
    // Both taxi types are ticked by default.
    for (const taxi of ["yellow", "green"])
      expect(await dialog.getByRole("checkbox", { name: taxi, exact: true }).isChecked(), taxi).toBe(true);
    const landing = dialog.getByRole("textbox", { name: /^Landing/ });
    expect(await landing.inputValue()).toBe(dev.landing);
    await landing.fill(elsewhere);
    const launch = dialog.getByRole("button", { name: "Launch backfill" });
    await expect.poll(() => launch.isEnabled(), { timeout: 10_000 }).toBe(true);
    expect(await dialog.textContent()).toContain(`${MONTHS.length * 2} partitions`);
    await screenshot(page, "launch-dialog-backfill-1400x900");
    await launch.click();
    await dialog.waitFor({ state: "detached", timeout: 10_000 });
    const view = page.getByRole("link", { name: "View backfill" });
    await view.waitFor({ timeout: 10_000 });
    const href = (await view.getAttribute("href")) ?? "";
    expect(href).toMatch(/^\/backfills\/[\w-]+$/);
    const backfillId = href.slice("/backfills/".length);

    // The API has exactly this backfill, with the config from the form.
    const backfills = (await dev.api<{ backfills: Backfill[] }>("/api/backfills?limit=1000")).backfills;
    expect(backfills.length).toBe(backfillsBefore + 1);
    expect(backfills.map((b) => b.backfillId)).toContain(backfillId);

    // The node's partitions count climbs to +6 as the runs finish, live (no reload).
    const target = before.materialized + MONTHS.length * 2;
    await expect
      .poll(async () => partitionsDone(await accessibleDescription(node))?.done, {
        timeout: 60_000,
        interval: 250,
      })
      .toBe(target);
    const seen = await page.evaluate(() => (window as unknown as { __done: number[] }).__done);
    expect(seen[0]).toBe(before.materialized);
    expect(seen[seen.length - 1]).toBe(target);
    for (let i = 1; i < seen.length; i++)
      expect(seen[i]!, JSON.stringify(seen)).toBeGreaterThan(seen[i - 1]!);
    expect(seen.length, `counts seen: ${JSON.stringify(seen)}`).toBeGreaterThan(2); // filled step by step
    expect(await windowMarker(page)).toBe("no-reload");
    await expect
      .poll(
        async () => (await dev.api<{ backfill: Backfill }>(`/api/backfills/${backfillId}`)).backfill.status,
        {
          timeout: 20_000,
        },
      )
      .toBe("COMPLETED");
    const runs = (await listRuns(dev)).filter((r) => r.backfillId === backfillId);
    expect(runs.length).toBe(MONTHS.length * 2);
    for (const r of runs) expect(r.config).toEqual({ [RAW]: { landing: elsewhere } });
    await screenshot(page, "graph-after-backfill");

    // The toast's link opens the backfill page.
    await page.goto(`${dev.url}${href}`);
    await pageHeading(page);
    await page.getByText(backfillId).first().waitFor({ timeout: 10_000 });
    await screenshot(page, "backfill-page-1400x900");
    expect(errorsOf(page)).toEqual([]);
  }, 120_000);

  test("one partition launched from the asset page navigates to its run page", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/assets/${RAW}`);
    await pageHeading(page, RAW);
    const runsBefore = new Set((await listRuns(dev)).map((r) => r.runId));
    await page.getByRole("main").getByRole("button", { name: "Materialize", exact: true }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor({ timeout: 10_000 });
    // The radios are visually hidden inside their labels (a segmented control): click the label.
    const which = dialog.getByRole("radiogroup", { name: "Which partitions" });
    await which.getByText(/^One partition/).click();
    expect(await which.getByRole("radio", { name: /^One partition/ }).isChecked()).toBe(true);
    const key = "2019-05|green";
    await pickKey(page, "Partition key", key);
    await dialog.getByRole("textbox", { name: /^Landing/ }).fill(elsewhere);
    const launch = dialog.getByRole("button", { name: "Launch run" });
    await expect.poll(() => launch.isEnabled(), { timeout: 10_000 }).toBe(true);
    await screenshot(page, "launch-dialog-one-partition");
    await launch.click();
    await expect.poll(() => new URL(page.url()).pathname, { timeout: 10_000 }).toMatch(/^\/runs\/[\w-]+$/);
    const runId = new URL(page.url()).pathname.slice("/runs/".length);
    const fresh = (await listRuns(dev)).filter((r) => !runsBefore.has(r.runId));
    expect(fresh.map((r) => r.runId)).toEqual([runId]);
    expect(fresh[0]!.partitionKeys).toEqual([key]);
    await expect.poll(async () => runStatus(dev, runId), { timeout: 30_000 }).toBe("SUCCESS");
    await pageHeading(page);
    // The run page follows the run live: it says it succeeded without a reload.
    await page.getByText("succeeded", { exact: true }).first().waitFor({ timeout: 15_000 });
    await screenshot(page, "run-page-1400x900");
    expect(errorsOf(page)).toEqual([]);
  }, 90_000);
});
