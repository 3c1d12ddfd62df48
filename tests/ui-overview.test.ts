/**
 * The overview (landing page) in a real browser (Chromium), against `baton dev` on
 * tests/fixtures/overview: a fresh store is all clear and shows the daemon and the worker; runs
 * launched through the API while the page is open show up live (no reload) as a failed run with its
 * reason, an overdue asset, failed blocking and non-blocking checks and a stale asset, and their links
 * lead to the run page and the asset page; a backfill and its run show as in progress until canceled.
 * Needs the built UI.
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
import { callApi, pageHeading, runStatus, setWindowMarker, windowMarker } from "./support/ui-flows.js";

const skipReason = chromiumSkipReason();
if (skipReason !== null) handleMissingChromium(skipReason);

const DEFS = path.join(ROOT, "tests/fixtures/overview/definitions.ts");
const WIDE = { width: 1400, height: 900 };
const SMALL = { width: 1024, height: 700 };

interface HealthAnswer {
  daemon: { id: string } | null;
  workers: { workerId: string; pid: number }[];
}

async function launch(dev: DevServer, selection: string): Promise<string> {
  const answer = await callApi<{ run: { runId: string } }>(dev, "POST", "/api/runs", { body: { selection } });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body.run.runId;
}

const ended = async (dev: DevServer, runId: string) =>
  ["SUCCESS", "FAILURE", "CANCELED"].includes(await runStatus(dev, runId));

/** The overview's section named `name` (a region labelled by its h2). */
const section = (page: Page, name: string) => page.getByRole("region", { name, exact: true });

/** Screenshots of this page at both sizes, light and dark (the same page: no reload between them). */
async function shots(page: Page, name: string) {
  for (const [size, viewport] of [
    ["1400", WIDE],
    ["1024", SMALL],
  ] as const)
    for (const colorScheme of ["light", "dark"] as const) {
      await page.setViewportSize(viewport);
      await page.emulateMedia({ colorScheme });
      await screenshot(page, `overview-${name}-${size}-${colorScheme}`, { fullPage: true });
    }
  await page.setViewportSize(WIDE);
  await page.emulateMedia({ colorScheme: "light" });
}

describe.skipIf(skipReason !== null)("UI overview (Chromium)", () => {
  let dev: DevServer;
  let clearDev: DevServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    [dev, clearDev, browser] = await Promise.all([
      startDev({ defs: DEFS }),
      startDev({ defs: DEFS, env: { FIXTURE_OVERVIEW_CLEAR: "1" } }),
      launchBrowser(),
    ]);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all([dev?.stop(), clearDev?.stop()]);
  }, 60_000);

  test("a fresh store is all clear; the health section shows the daemon and the worker", async () => {
    const health = (await callApi<HealthAnswer>(clearDev, "GET", "/api/health")).body;
    expect(health.workers.length).toBe(1);
    const page = await browser.newPage({ viewport: WIDE });
    await page.goto(`${clearDev.url}/`);
    await pageHeading(page, "Overview");
    await section(page, "All clear").waitFor({ timeout: 15_000 });
    expect(await page.getByRole("status").filter({ hasText: "All clear" }).textContent()).toBe(
      "All clear: nothing needs attention.",
    );
    // Tiles say their counts in words; nothing to list means the link leads to the full list.
    const summary = page.getByRole("navigation", { name: "Summary" });
    await expect.poll(() => summary.getAttribute("aria-busy")).toBe("false");
    const failedTile = summary.getByRole("link", { name: /Failed runs/ });
    expect((await failedTile.textContent())?.startsWith("0")).toBe(true);
    expect(await failedTile.getAttribute("href")).toBe("/runs?status=FAILURE");
    expect(await summary.getByRole("link", { name: /Health/ }).textContent()).toContain("OK");
    // No attention lists on an all-clear page, but what is in progress and the health are shown.
    expect(await section(page, "Failed runs").count()).toBe(0);
    expect(await section(page, "Overdue assets").count()).toBe(0);
    await section(page, "Runs in progress").getByText("No run is running or queued").waitFor();
    const healthSection = section(page, "Daemon and workers");
    await healthSection.getByText("heartbeat").first().waitFor();
    expect(await healthSection.getByRole("definition").first().textContent()).toMatch(/^running/);
    const workers = healthSection.getByRole("table", { name: /Run workers/ });
    await expect.poll(() => workers.getByRole("row").count()).toBe(2); // header + one worker
    expect(await workers.getByRole("row").nth(1).textContent()).toContain(String(health.workers[0]!.pid));
    await shots(page, "all-clear");
    expect(errorsOf(page)).toEqual([]);
  }, 60_000);

  test("a list that cannot be read shows the server's message in place; the rest of the page stays", async () => {
    const page = await browser.newPage({ viewport: SMALL });
    await page.route(/\/api\/runs\?.*status=FAILURE/, (route) =>
      route.fulfill({
        status: 500,
        contentType: "application/json",
        body: JSON.stringify({ error: { code: "internal", message: "the store is locked (test)" } }),
      }),
    );
    await page.goto(`${clearDev.url}/`);
    await pageHeading(page, "Overview");
    const failedSection = section(page, "Failed runs");
    await failedSection
      .getByRole("alert")
      .getByText("the store is locked (test)")
      .waitFor({ timeout: 20_000 });
    const tile = page.getByRole("navigation", { name: "Summary" }).getByRole("link", { name: /Failed runs/ });
    expect(await tile.textContent()).toMatch(/^\?Failed runs.*could not load/);
    expect(await page.getByRole("status").filter({ hasText: "could not be read" }).count()).toBe(1);
    expect(await section(page, "All clear").count()).toBe(0);
    await section(page, "Daemon and workers").getByText("heartbeat").first().waitFor();
    await screenshot(page, "overview-error-1024-light");
    expect(errorsOf(page).filter((e) => !e.includes("Failed to load resource"))).toEqual([]);
  }, 60_000);

  test("a failed run, an overdue asset, failed checks and a stale asset appear live and link to their pages", async () => {
    const page = await browser.newPage({ viewport: WIDE });
    await page.goto(`${dev.url}/`);
    await pageHeading(page, "Overview");
    await setWindowMarker(page, "no reload");
    // Upstream and downstream first, so that materializing the upstream again makes the downstream stale.
    const pair = await launch(dev, "overview/raw+");
    const runs = {
      broken: await launch(dev, "overview/broken"),
      report: await launch(dev, "overview/hourly_report"),
      orders: await launch(dev, "overview/orders+"),
      customers: await launch(dev, "overview/customers"),
    };
    for (const id of [pair, ...Object.values(runs)])
      await expect.poll(() => ended(dev, id), { timeout: 30_000 }).toBe(true);
    expect(await runStatus(dev, runs.broken)).toBe("FAILURE");
    const again = await launch(dev, "overview/raw");
    await expect.poll(() => ended(dev, again), { timeout: 30_000 }).toBe(true);

    // The failed run, by the first 8 characters of its id, with why it failed.
    const failed = page.getByRole("list", { name: "Failed runs" });
    const runLink = failed.getByRole("link", { name: runs.broken.slice(0, 8), exact: true });
    await runLink.waitFor({ timeout: 20_000 });
    expect(await runLink.getAttribute("title")).toBe(runs.broken);
    await failed
      .getByRole("listitem")
      .filter({ hasText: runs.broken.slice(0, 8) })
      .getByText("the orders API answered 503 Service Unavailable", { exact: false })
      .waitFor({ timeout: 10_000 });
    // The overdue asset, with its freshness message.
    const overdue = page.getByRole("list", { name: "Overdue assets" });
    await overdue
      .getByRole("link", { name: "overview/hourly_report", exact: true })
      .waitFor({ timeout: 20_000 });
    await overdue.getByText(/allowed: 0\.001 min/).waitFor({ timeout: 10_000 });
    // Failed checks, blocking and not, each named.
    const checks = page.getByRole("list", { name: "Assets with failed checks" });
    await checks.getByText("orders_not_empty").waitFor({ timeout: 20_000 });
    await checks.getByText("emails_valid").waitFor({ timeout: 10_000 });
    expect(
      await checks.getByRole("listitem").filter({ hasText: "orders_not_empty" }).textContent(),
    ).toContain("blocking");
    expect(await checks.getByRole("listitem").filter({ hasText: "emails_valid" }).textContent()).toContain(
      "warning",
    );
    expect(
      await checks.getByRole("link", { name: "overview/orders", exact: true }).getAttribute("href"),
    ).toBe("/assets/overview/orders");
    // The stale downstream.
    await page
      .getByRole("list", { name: "Stale assets" })
      .getByRole("link", { name: "overview/clean", exact: true })
      .waitFor({ timeout: 20_000 });
    // The tiles count them and link to their sections; the page never reloaded.
    const summary = page.getByRole("navigation", { name: "Summary" });
    const failedTile = summary.getByRole("link", { name: /Failed runs/ });
    expect(await failedTile.getAttribute("href")).toBe("#failed-runs");
    // "View all" opens the runs list with the same filter: failed, created in the last 24 h.
    const viewAll = section(page, "Failed runs").getByRole("link", { name: "View all failed runs" });
    expect(await viewAll.getAttribute("href")).toMatch(/^\/runs\?status=FAILURE&createdAfter=\d{4}-/);
    expect(Number((await failedTile.textContent())?.match(/^\d+/)?.[0])).toBeGreaterThanOrEqual(1);
    expect(await summary.getByRole("link", { name: /Overdue/ }).textContent()).toMatch(/^1Overdue/);
    expect(await page.getByRole("status").filter({ hasText: "Needs attention" }).textContent()).toMatch(
      /1 overdue asset/,
    );
    expect(await section(page, "All clear").count()).toBe(0);
    expect(await windowMarker(page)).toBe("no reload");
    expect(errorsOf(page)).toEqual([]);

    await shots(page, "attention");

    // The links lead to the run page and the asset page.
    await runLink.click();
    await pageHeading(page, `Run ${runs.broken.slice(0, 8)}`);
    expect(new URL(page.url()).pathname).toBe(`/runs/${runs.broken}`);
    await page.goBack();
    await pageHeading(page, "Overview");
    await overdue.getByRole("link", { name: "overview/hourly_report", exact: true }).click();
    await pageHeading(page, "overview/hourly_report");
    expect(new URL(page.url()).pathname).toBe("/assets/overview/hourly_report");
    expect(errorsOf(page)).toEqual([]);
  }, 90_000);

  test("a backfill and its runs show as in progress until canceled", async () => {
    const page = await browser.newPage({ viewport: SMALL, colorScheme: "dark" });
    await page.goto(`${dev.url}/`);
    await pageHeading(page, "Overview");
    const created = await callApi<{ backfill: { backfillId: string } }>(dev, "POST", "/api/backfills", {
      body: { selection: "overview/regions", partitions: { keys: ["eu", "us", "apac"] } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.backfill.backfillId;
    const backfills = page.getByRole("list", { name: "Backfills in progress" });
    const link = backfills.getByRole("link", { name: id.slice(0, 8), exact: true });
    await link.waitFor({ timeout: 20_000 });
    expect(await link.getAttribute("href")).toBe(`/backfills/${id}`);
    await backfills.getByRole("progressbar").waitFor();
    const active = page.getByRole("list", { name: "Runs in progress" });
    await active.getByRole("listitem").filter({ hasText: "running" }).first().waitFor({ timeout: 30_000 });
    expect(await active.getByRole("listitem").first().textContent()).toContain("overview/regions");
    await shots(page, "in-progress");

    const canceled = await callApi(dev, "POST", `/api/backfills/${id}/cancel`, { body: {} });
    expect(canceled.status, JSON.stringify(canceled.body)).toBe(200);
    await link.waitFor({ state: "detached", timeout: 30_000 });
    await section(page, "Backfills in progress")
      .getByText("No backfill is in progress")
      .waitFor({ timeout: 10_000 });
    await section(page, "Runs in progress")
      .getByText("No run is running or queued")
      .waitFor({ timeout: 30_000 });
    expect(errorsOf(page)).toEqual([]);
  }, 90_000);
});
