/**
 * The launch dialog's partition picker and the run and backfill pages in a real browser (Chromium),
 * against `baton dev` on tests/fixtures/launch: a key search in a million hourly partitions finds a
 * recent hour and a range is counted exactly before launching; a day × region pick launches a
 * backfill of exactly those keys, whose page shows its progress and runs; a failed run shows its
 * error and cause in full; a running run is canceled after a confirmation; an unknown run is a 404
 * page. Needs the built UI.
 */
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
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
import { callApi, runStatus } from "./support/ui-flows.js";

const skipReason = chromiumSkipReason();
if (skipReason !== null) handleMissingChromium(skipReason);

const DEFS = path.join(ROOT, "tests/fixtures/launch/definitions.ts");

async function openDialog(page: Page, dev: DevServer, key: string) {
  await page.goto(`${dev.url}/graph?sel=${encodeURIComponent(key)}`);
  await page.getByRole("button", { name: /^Materialize selected/ }).click();
  const dialog = page.getByRole("dialog");
  await dialog.waitFor({ timeout: 10_000 });
  return dialog;
}

/** Type into a key combobox and pick the option named `key`. */
async function pickKey(page: Page, label: string, typed: string, key: string) {
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("combobox", { name: label, exact: true }).fill(typed);
  await dialog.getByRole("option", { name: key, exact: true }).click({ timeout: 10_000 });
}

interface Backfill {
  backfillId: string;
  partitionKeys: string[];
}

describe.skipIf(skipReason !== null)("UI launch picker, run and backfill pages (Chromium)", () => {
  let dev: DevServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    [dev, browser] = await Promise.all([startDev({ defs: DEFS }), launchBrowser()]);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await dev?.stop();
  }, 60_000);

  test("a million hourly partitions: a recent hour is found by search, a range is counted exactly", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const dialog = await openDialog(page, dev, "fixture/hourly");
    expect((await dialog.getByRole("heading").first().textContent())?.trim()).toBe("Materialize");
    // Far past the server's substring scan (the first 200,000 keys): found as a prefix.
    await pickKey(page, "Partition key", "2060-06-01-1", "2060-06-01-13:00");
    await expect
      .poll(() => dialog.locator(".launch-summary").textContent())
      .toContain("for partition 2060-06-01-13:00");
    await dialog
      .getByRole("radiogroup", { name: "Which partitions" })
      .getByText(/^Range/)
      .click();
    await pickKey(page, "From", "1951-01-01-00", "1951-01-01-00:00");
    await pickKey(page, "To (inclusive)", "2060-12-31-23", "2060-12-31-23:00");
    const from = Date.UTC(1951, 0, 1);
    const to = Date.UTC(2060, 11, 31, 23);
    const n = (to - from) / 3_600_000 + 1;
    await expect
      .poll(() => dialog.locator(".launch-summary").textContent(), { timeout: 10_000 })
      .toContain(`over ${n.toLocaleString("en")} partitions`);
    expect(await dialog.getByRole("button", { name: "Launch backfill" }).isEnabled()).toBe(true);
    // The page never received the key space: only pages of keys.
    expect(await dialog.getByRole("option").count()).toBe(0);
    await screenshot(page, "run-pages-hourly-range");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached", timeout: 5_000 });
    expect(errorsOf(page)).toEqual([]);
  }, 60_000);

  test("day × region picks launch a backfill of exactly those keys; its page shows progress and runs", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const dialog = await openDialog(page, dev, "fixture/grid");
    await pickKey(page, "First day", "2024-01-02", "2024-01-02");
    await pickKey(page, "Last day", "2024-01-03", "2024-01-03");
    await dialog.getByRole("checkbox", { name: "us", exact: true }).uncheck();
    await expect.poll(() => dialog.locator(".launch-summary").textContent()).toContain("over 4 partitions");
    await dialog.getByRole("button", { name: "Launch backfill" }).click();
    await dialog.waitFor({ state: "detached", timeout: 10_000 });
    const link = page.getByRole("link", { name: "View backfill" });
    const href = (await link.getAttribute("href", { timeout: 10_000 })) ?? "";
    const id = href.replace(/^\/backfills\//, "");
    const stored = await callApi<{ backfill: Backfill }>(dev, "GET", `/api/backfills/${id}`);
    expect(stored.body.backfill.partitionKeys).toEqual([
      "2024-01-02|eu",
      "2024-01-02|apac",
      "2024-01-03|eu",
      "2024-01-03|apac",
    ]);
    await link.click();
    const h1 = page.getByRole("heading", { level: 1 });
    await expect
      .poll(async () => (await h1.textContent())?.trim(), { timeout: 10_000 })
      .toBe(`Backfill ${id.slice(0, 8)}`);
    const bar = page.getByRole("progressbar");
    await expect.poll(() => bar.getAttribute("aria-valuenow"), { timeout: 30_000 }).toBe("100");
    await expect.poll(() => page.getByRole("table").getByRole("link").count(), { timeout: 10_000 }).toBe(4);
    await screenshot(page, "run-pages-backfill", { fullPage: true });
    expect(errorsOf(page)).toEqual([]);
  }, 60_000);

  test("a failed run shows its error and its cause in full", async () => {
    const launched = await callApi<{ run: { runId: string } }>(dev, "POST", "/api/runs", {
      body: { selection: "fixture/fails" },
    });
    expect(launched.status).toBe(201);
    const runId = launched.body.run.runId;
    await expect.poll(() => runStatus(dev, runId), { timeout: 30_000 }).toBe("FAILURE");
    const page = await browser.newPage({ viewport: { width: 1024, height: 700 }, colorScheme: "dark" });
    await page.goto(`${dev.url}/runs/${runId}`);
    const h1 = page.getByRole("heading", { level: 1 });
    await h1.waitFor({ timeout: 10_000 });
    expect((await h1.textContent())?.trim()).toBe(`Run ${runId.slice(0, 8)}`);
    await page.getByText("the warehouse refused the load").first().waitFor({ timeout: 10_000 });
    await page.getByText("disk quota exceeded on /data").first().waitFor();
    expect(await page.getByText("Caused by").count()).toBeGreaterThan(0);
    await screenshot(page, "run-pages-failed-dark", { fullPage: true });
    expect(errorsOf(page)).toEqual([]);
  }, 60_000);

  test("a running run is canceled after a confirmation; an unknown run is a 404 page", async () => {
    const launched = await callApi<{ run: { runId: string } }>(dev, "POST", "/api/runs", {
      body: { selection: "fixture/slow" },
    });
    const runId = launched.body.run.runId;
    await expect.poll(() => runStatus(dev, runId), { timeout: 30_000 }).toBe("STARTED");
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/runs/${runId}`);
    await page.getByRole("button", { name: "Cancel run" }).click();
    const confirm = page.getByRole("dialog", { name: `Cancel run ${runId.slice(0, 8)}?` });
    await confirm.waitFor({ timeout: 5_000 });
    // Backing out changes nothing.
    await confirm.getByRole("button", { name: "Keep it" }).click();
    await confirm.waitFor({ state: "detached" });
    expect(await runStatus(dev, runId)).toBe("STARTED");
    await page.getByRole("button", { name: "Cancel run" }).click();
    await confirm.getByRole("button", { name: "Cancel run" }).click();
    await confirm.waitFor({ state: "detached", timeout: 10_000 });
    await expect.poll(() => runStatus(dev, runId), { timeout: 10_000 }).toMatch(/^CANCEL(ING|ED)$/);
    // The page follows without a reload: the badge says canceling (or canceled) and the button is gone.
    await page
      .getByText(/^cancel(ing|ed)$/)
      .first()
      .waitFor({ timeout: 10_000 });
    expect(await page.getByRole("button", { name: "Cancel run" }).count()).toBe(0);

    await page.goto(`${dev.url}/runs/no-such-run`);
    // While loading the heading is "Run <id8>"; the 404 answer makes it say there is no such run.
    const h1 = page.getByRole("heading", { level: 1 });
    await expect
      .poll(async () => (await h1.textContent())?.trim(), { timeout: 10_000 })
      .toBe("No run no-such-run");
    expect(await page.getByRole("link", { name: /Back to the asset graph/ }).count()).toBe(1);
    expect(errorsOf(page).filter((e) => !/Failed to load resource.* 404/.test(e))).toEqual([]);
  }, 60_000);
});
