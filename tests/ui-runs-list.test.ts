/**
 * The runs list (/runs) in a real browser (Chromium) against `baton dev` on tests/fixtures/backfills:
 * runs launched through the API show with their status and who launched them; status and asset
 * filters narrow the list and live in the URL (a reload keeps them, back undoes them); a run launched
 * while the page is open appears without a reload; small pages load as the list scrolls; bad filter
 * values (the URL's, and one the API refuses) show a message naming the filter. Needs the built UI.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Locator, Page } from "playwright-core";
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
import { ROOT } from "./support/cli.js";
import { callApi, pageHeading, runStatus } from "./support/ui-flows.js";

const skipReason = chromiumSkipReason();
if (skipReason !== null) handleMissingChromium(skipReason);

const DEFS = path.join(ROOT, "tests/fixtures/backfills/definitions.ts");
const TERMINAL = new Set(["SUCCESS", "FAILURE", "CANCELED"]);

async function launch(dev: DevServer, body: unknown): Promise<string> {
  const answer = await callApi<{ run: { runId: string } }>(dev, "POST", "/api/runs", { body });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body.run.runId;
}

/** Wait (at most 30 s) until every run ended (usable in beforeAll, where expect.poll is not). */
async function settled(dev: DevServer, ids: readonly string[]) {
  const deadline = Date.now() + 30_000;
  for (const id of ids)
    for (;;) {
      const status = await runStatus(dev, id);
      if (TERMINAL.has(status)) break;
      if (Date.now() > deadline) throw new Error(`run ${id} still ${status} after 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

/** The runs table once its first page is painted. */
async function runsTable(page: Page): Promise<Locator> {
  const table = page.getByRole("table", { name: "Runs" });
  await table.and(page.locator('[aria-busy="false"]')).waitFor({ timeout: 15_000 });
  return table;
}

const runLink = (table: Locator, id: string) =>
  table.getByRole("link", { name: id.slice(0, 8), exact: true });
const rowOf = (table: Locator, id: string) =>
  table
    .getByRole("row")
    .filter({ has: table.page().getByRole("link", { name: id.slice(0, 8), exact: true }) });
/** Rows of runs in the table (each has its run's link, named by the id's first 8 characters). */
const runLinkCount = (table: Locator) =>
  table
    .getByRole("row")
    .filter({ has: table.page().getByRole("link", { name: /^[0-9a-f]{8}$/ }) })
    .count();

describe.skipIf(skipReason !== null)("UI runs list (Chromium)", () => {
  let dev: DevServer;
  let browser: TestBrowser;
  let tmp: string;
  const alpha: string[] = [];
  const beta: string[] = [];
  let failed = "";

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), "baton-ui-runs-"));
    const flag = path.join(tmp, "fail-flag");
    writeFileSync(flag, "fail");
    [dev, browser] = await Promise.all([
      startDev({ defs: DEFS, env: { FIXTURE_BF_FAIL_FILE: flag, FIXTURE_BF_STEP_MS: "20" } }),
      launchBrowser(),
    ]);
    for (let i = 0; i < 3; i++) alpha.push(await launch(dev, { selection: "bf/alpha" }));
    for (let i = 0; i < 2; i++) beta.push(await launch(dev, { selection: "bf/beta" }));
    failed = await launch(dev, { selection: "bf/source", partitions: { keys: ["2024-03-04"] } });
    await settled(dev, [...alpha, ...beta, failed]);
    expect(await runStatus(dev, failed)).toBe("FAILURE");
  }, 120_000);
  afterEach(async () => {
    // Pages left open keep their live event streams (and the CPU) busy: one test's pages at a time.
    for (const context of browser?.browser.contexts() ?? []) await context.close().catch(() => undefined);
  });
  afterAll(async () => {
    await browser?.close();
    await dev?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  test("runs show with status and launched-by; a status filter and an asset filter live in the URL", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/runs`);
    await pageHeading(page, "Runs");
    let table = await runsTable(page);
    for (const id of [...alpha, ...beta, failed]) await runLink(table, id).waitFor({ timeout: 10_000 });
    const failedRow = rowOf(table, failed);
    expect(await failedRow.innerText()).toMatch(/failed/);
    expect(await failedRow.getByRole("link", { name: "bf/source", exact: true }).count()).toBe(1);
    expect(await failedRow.innerText()).toContain("2024-03-04");
    const alphaRow = rowOf(table, alpha[0]!);
    expect(await alphaRow.innerText()).toMatch(/succeeded/);
    // Launched through the API without a token: the caller is "local".
    expect(await alphaRow.innerText()).toMatch(/\blocal\b/);
    await screenshot(page, "runs-list");

    // Status: failed → only the failed run; the URL says so and a reload keeps it.
    await page.getByRole("search", { name: "Filter runs" }).getByRole("checkbox", { name: "failed" }).check();
    await expect.poll(() => new URL(page.url()).searchParams.get("status")).toBe("failed");
    await expect.poll(() => runLinkCount(table), { timeout: 10_000 }).toBe(1);
    expect(await runLink(table, failed).count()).toBe(1);
    await page.reload();
    table = await runsTable(page);
    expect(await page.getByRole("checkbox", { name: "failed" }).isChecked()).toBe(true);
    await expect.poll(() => runLinkCount(table), { timeout: 10_000 }).toBe(1);

    // Back undoes the filter: every run again.
    await page.goBack();
    await expect.poll(() => new URL(page.url()).searchParams.get("status")).toBe(null);
    await expect.poll(() => runLinkCount(table), { timeout: 10_000 }).toBe(6);

    // Asset: bf/beta (typed, applied on Enter) → its two runs.
    const asset = page.getByRole("combobox", { name: "Asset", exact: true });
    await asset.fill("bf/beta");
    await asset.press("Enter");
    await expect.poll(() => new URL(page.url()).searchParams.get("asset")).toBe("bf/beta");
    await expect.poll(() => runLinkCount(table), { timeout: 10_000 }).toBe(2);
    for (const id of beta) expect(await runLink(table, id).count()).toBe(1);
    await page.reload();
    table = await runsTable(page);
    expect(await page.getByRole("combobox", { name: "Asset", exact: true }).inputValue()).toBe("bf/beta");
    await expect.poll(() => runLinkCount(table), { timeout: 10_000 }).toBe(2);
    await screenshot(page, "runs-list-filtered");
    expect(errorsOf(page)).toEqual([]);
  }, 60_000);

  test("a run launched while the page is open appears live; small pages load as the list scrolls", async () => {
    const page = await browser.newPage({ viewport: { width: 1024, height: 700 }, colorScheme: "dark" });
    await page.goto(`${dev.url}/runs`);
    const table = await runsTable(page);
    await runLink(table, failed).waitFor({ timeout: 10_000 });
    const fresh = await launch(dev, { selection: "bf/alpha" });
    // Queued (no event yet) or already running: either way it shows without a reload.
    await runLink(table, fresh).waitFor({ timeout: 15_000 });
    await settled(dev, [fresh]);
    const freshRow = rowOf(table, fresh);
    await expect.poll(() => freshRow.innerText(), { timeout: 15_000 }).toMatch(/succeeded/);
    await screenshot(page, "runs-list-dark-small");
    // The other two of light/dark × 1400×900/1024×700.
    for (const [colorScheme, width, height] of [
      ["dark", 1400, 900],
      ["light", 1024, 700],
    ] as const) {
      const other = await browser.newPage({ viewport: { width, height }, colorScheme });
      await other.goto(`${dev.url}/runs`);
      await runLink(await runsTable(other), fresh).waitFor({ timeout: 10_000 });
      await screenshot(other, `runs-list-${colorScheme}-${width}`);
      expect(errorsOf(other)).toEqual([]);
      await other.close();
    }

    // Two runs a page: the oldest run (on the 4th page) is reached by scrolling.
    await page.goto(`${dev.url}/runs?limit=2`);
    const paged = await runsTable(page);
    await page.mouse.move(500, 500);
    for (let i = 0; i < 10 && (await runLink(paged, alpha[0]!).count()) === 0; i++) {
      await page.mouse.wheel(0, 2000);
      await page.waitForTimeout(200);
    }
    await runLink(paged, alpha[0]!).waitFor({ timeout: 10_000 });
    await expect.poll(() => runLinkCount(paged), { timeout: 10_000 }).toBe(7);
    await page.getByText("All 7 runs.").waitFor({ timeout: 10_000 });
    expect(errorsOf(page)).toEqual([]);
  }, 60_000);

  test("bad filter values show a message naming the filter, not a blank page", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/runs?createdAfter=last-tuesday&status=failed,exploded`);
    await pageHeading(page, "Runs");
    const alert = page.getByRole("alert").filter({ hasText: "bad values" });
    await alert.waitFor({ timeout: 10_000 });
    expect(await alert.innerText()).toContain('Created after: "last-tuesday" is not a date');
    expect(await alert.innerText()).toContain('Status: "exploded" is not a run status');
    const after = page.getByRole("textbox", { name: "Created after" });
    expect(await after.getAttribute("aria-invalid")).toBe("true");
    expect(await after.inputValue()).toBe("last-tuesday");
    await screenshot(page, "runs-list-bad-filter");
    // Fixing the value in the field clears the message and shows the runs.
    await after.fill("2020-01-01");
    await after.press("Enter");
    await page.getByText('Created after: "last-tuesday"').first().waitFor({ state: "detached" });
    expect(await page.getByText('Status: "exploded"').count()).toBeGreaterThan(0);

    // Filters that match nothing say what to do next; so does the backfills list before any backfill.
    await page.goto(`${dev.url}/runs?status=canceling`);
    await page.getByRole("heading", { name: "No runs match these filters" }).waitFor({ timeout: 10_000 });
    expect(await page.getByRole("button", { name: "clear all filters" }).count()).toBe(1);
    await screenshot(page, "runs-list-no-match");
    await page.goto(`${dev.url}/backfills`);
    await page.getByRole("heading", { name: "No backfills yet" }).waitFor({ timeout: 10_000 });
    await screenshot(page, "backfills-empty");

    // A value only the API refuses (a tag longer than it accepts): its 400 sits next to the Tag field.
    await page.goto(`${dev.url}/runs?tag=${"x".repeat(1300)}`);
    const tag = page.getByRole("textbox", { name: "Tag", exact: true });
    await expect.poll(() => tag.getAttribute("aria-invalid"), { timeout: 10_000 }).toBe("true");
    const described = await tag.evaluate(
      (el) => el.ownerDocument.getElementById(el.getAttribute("aria-describedby") ?? "")?.textContent ?? "",
    );
    expect(described).toMatch(/^Tag: /);
    expect(
      errorsOf(page).filter((e) => !/Failed to load resource.* 400/.test(e)),
      "only the refused request is logged",
    ).toEqual([]);
  }, 60_000);
});
