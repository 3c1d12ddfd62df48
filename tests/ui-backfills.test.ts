/**
 * Backfills in a real browser (Chromium) against `baton dev` on tests/fixtures/backfills, with API
 * tokens: a daemon-driven backfill over eight days where one day fails (while a flag file exists)
 * shows its partition bar and counts moving to completion, names the failed key (hover and keyboard)
 * and why the downstream partition was skipped; after the cause is removed, "Retry failed" creates a
 * new backfill that completes, running only the failed day. The list shows both with their progress.
 * A viewer token sees the actions disabled with the reason. Needs the built UI.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
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
import { ROOT } from "./support/cli.js";
import { accessibleDescription, callApi, pageHeading } from "./support/ui-flows.js";

const skipReason = chromiumSkipReason();
if (skipReason !== null) handleMissingChromium(skipReason);

const DEFS = path.join(ROOT, "tests/fixtures/backfills/definitions.ts");
const VIEWER = "view-token-0123456789abcdef";
const LAUNCHER = "launch-token-0123456789abcdef";
const TOKENS = `vera:viewer:${VIEWER},lars:launcher:${LAUNCHER}`;
const DAYS = ["01", "02", "03", "04", "05", "06", "07", "08"].map((d) => `2024-03-${d}`);

interface Backfill {
  backfillId: string;
  status: string;
  partitionKeys: string[];
  counts: Record<string, number>;
}

/** A page signed in with `token` (kept in the session, as the sign-in prompt keeps it). */
async function signedInPage(
  browser: TestBrowser,
  token: string,
  options: Parameters<TestBrowser["newPage"]>[0],
) {
  const page = await browser.newPage(options);
  await page.addInitScript((t) => sessionStorage.setItem("baton.token", t), token);
  return page;
}

async function backfillOf(dev: DevServer, id: string): Promise<Backfill> {
  const answer = await callApi<{ backfill: Backfill }>(dev, "GET", `/api/backfills/${id}`, {
    token: LAUNCHER,
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.backfill;
}

async function backfillRuns(dev: DevServer, id: string) {
  const answer = await callApi<{ runs: { runId: string; status: string }[] }>(
    dev,
    "GET",
    `/api/backfills/${id}`,
    {
      token: LAUNCHER,
    },
  );
  return answer.body.runs;
}

const countOf = async (page: Page, label: string) => {
  const text = await page
    .getByRole("list", { name: "Counts" })
    .getByRole("listitem")
    .filter({ hasText: label })
    .innerText();
  return Number(/[\d,]+/.exec(text)?.[0]?.replace(/,/g, "") ?? Number.NaN);
};

describe.skipIf(skipReason !== null)("UI backfills (Chromium)", () => {
  let dev: DevServer;
  let browser: TestBrowser;
  let tmp: string;
  let flag: string;
  let hold: string;
  let first = "";
  let retried = "";
  const plainFetch = globalThis.fetch;

  beforeAll(async () => {
    // The harness reads /api/health while starting: as the launcher (as tests/ui-auth.test.ts does).
    globalThis.fetch = (input, init) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      const headers = new Headers(init?.headers);
      if (/^http:\/\/127\.0\.0\.1:\d+\/api\//.test(url) && !headers.has("authorization")) {
        headers.set("authorization", `Bearer ${LAUNCHER}`);
        return plainFetch(input, { ...init, headers });
      }
      return plainFetch(input, init);
    };
    tmp = mkdtempSync(path.join(os.tmpdir(), "baton-ui-backfills-"));
    flag = path.join(tmp, "fail-flag");
    writeFileSync(flag, "fail");
    hold = path.join(tmp, "hold-flag");
    [dev, browser] = await Promise.all([
      startDev({
        defs: DEFS,
        env: {
          BATON_API_TOKENS: TOKENS,
          FIXTURE_BF_FAIL_FILE: flag,
          FIXTURE_BF_HOLD_FILE: hold,
          FIXTURE_BF_STEP_MS: "100",
        },
      }),
      launchBrowser(),
    ]);
  }, 90_000);
  afterEach(async () => {
    // Pages left open keep their live event streams (and the CPU) busy: one test's pages at a time.
    for (const context of browser?.browser.contexts() ?? []) await context.close().catch(() => undefined);
  });
  afterAll(async () => {
    globalThis.fetch = plainFetch;
    await browser?.close();
    await dev?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  test("a failing backfill: the partition bar and counts move to completion; retry failed completes", async () => {
    writeFileSync(hold, "hold"); // the last day waits until the page has seen the backfill in progress
    const created = await callApi<{ backfill: Backfill }>(dev, "POST", "/api/backfills", {
      token: LAUNCHER,
      body: { selection: "bf/source+", partitions: { range: { from: DAYS[0], to: DAYS.at(-1) } } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    first = created.body.backfill.backfillId;

    const page = await signedInPage(browser, LAUNCHER, { viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/backfills/${first}`);
    await pageHeading(page, `Backfill ${first.slice(0, 8)}`);
    const bar = page.getByRole("slider", { name: "Partitions of this backfill" });
    await bar.waitFor({ timeout: 10_000 });
    const progress = page.getByRole("progressbar", { name: "Backfill progress" });
    const valueNow = async () => Number(await progress.getAttribute("aria-valuenow"));
    // In progress: the first seven days end (one fails) while the last one is held.
    await expect.poll(valueNow, { timeout: 30_000 }).toBe(88); // 14 of 16 asset partitions
    expect(await accessibleDescription(bar)).toMatch(
      /^8 partitions: 1 failed, 1 (running|queued), 6 succeeded\.$/,
    );
    expect(await countOf(page, "Failed")).toBe(1);
    await page
      .getByText(/^running$/)
      .first()
      .waitFor();
    await screenshot(page, "backfill-running");
    // Released: the bar and the counts reach the end without a reload.
    rmSync(hold);
    await expect.poll(valueNow, { timeout: 30_000 }).toBe(100);
    await page
      .getByText(/^failed$/)
      .first()
      .waitFor({ timeout: 15_000 });
    // Ended: one day failed, seven succeeded; its report skipped, with the reason.
    await expect
      .poll(() => accessibleDescription(bar), { timeout: 10_000 })
      .toBe("8 partitions: 1 failed, 7 succeeded.");
    expect(await countOf(page, "Failed")).toBe(1);
    expect(await countOf(page, "Skipped")).toBe(1);
    expect(await countOf(page, "Succeeded")).toBe(14);
    await page
      .getByText(/bf\/report.*2024-03-04.*skipped/)
      .first()
      .waitFor({ timeout: 10_000 });
    await page.getByText("the upstream export for 2024-03-04 is missing").first().waitFor();
    // Why it failed, per failed unit: partition → the failed step and its first error → its run.
    const failures = page.getByRole("list", { name: "Failures" });
    await failures.waitFor({ timeout: 10_000 });
    await page.getByRole("heading", { name: "Failures (1 failed run)" }).waitFor();
    await page.getByRole("heading", { name: "Skipped", exact: true }).waitFor();
    const failure = failures.getByRole("listitem");
    expect(await failure.count()).toBe(1);
    expect((await failure.innerText()).replace(/\s+/g, " ")).toMatch(
      /^2024-03-04 : step "bf\/source" failed: the upstream export for 2024-03-04 is missing \(remove .+ to fix\) run [0-9a-f]{8}$/,
    );
    const failedRunId = (await backfillRuns(dev, first)).find((r) => r.status === "FAILURE")!.runId;
    expect(
      await failure.getByRole("link", { name: `run ${failedRunId.slice(0, 8)}` }).getAttribute("href"),
    ).toBe(`/runs/${failedRunId}`);
    // The failed key, by keyboard (Home, then three steps right) and by hovering its place on the bar.
    await bar.focus();
    await page.keyboard.press("Home");
    for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowRight");
    expect(await bar.getAttribute("aria-valuetext")).toBe("2024-03-04: failed (partition 4 of 8)");
    const box = (await bar.boundingBox())!;
    await page.mouse.move(box.x + box.width * (3.5 / 8), box.y + box.height / 2);
    const tip = page.getByRole("tooltip");
    await expect.poll(() => tip.innerText()).toMatch(/2024-03-04\s+failed/);
    await screenshot(page, "backfill-failed", { fullPage: true });
    expect((await backfillOf(dev, first)).status).toBe("FAILED");

    // Fix the cause, retry: a new backfill runs only the failed day and completes.
    rmSync(flag);
    expect(existsSync(flag)).toBe(false);
    await page.getByRole("button", { name: "Retry failed" }).click();
    await expect.poll(() => page.url(), { timeout: 10_000 }).not.toContain(first);
    retried = new URL(page.url()).pathname.replace(/^\/backfills\//, "");
    await pageHeading(page, `Backfill ${retried.slice(0, 8)}`);
    // It names the backfill it retries.
    await page
      .getByRole("link", { name: first.slice(0, 8), exact: true })
      .first()
      .waitFor({ timeout: 10_000 });
    await expect
      .poll(
        () => page.getByRole("progressbar", { name: "Backfill progress" }).getAttribute("aria-valuenow"),
        {
          timeout: 30_000,
        },
      )
      .toBe("100");
    await page
      .getByText(/^completed$/)
      .first()
      .waitFor({ timeout: 15_000 });
    await expect
      .poll(() => accessibleDescription(bar), { timeout: 10_000 })
      .toBe("8 partitions: 1 succeeded, 7 succeeded earlier.");
    expect(await page.getByRole("table", { name: "Runs of this backfill" }).getByRole("link").count()).toBe(
      1,
    );
    expect((await backfillOf(dev, retried)).status).toBe("COMPLETED");
    await screenshot(page, "backfill-retry-completed", { fullPage: true });
    const dark = await signedInPage(browser, LAUNCHER, {
      viewport: { width: 1024, height: 700 },
      colorScheme: "dark",
    });
    await dark.goto(`${dev.url}/backfills/${first}`);
    await dark.getByRole("slider", { name: "Partitions of this backfill" }).waitFor({ timeout: 10_000 });
    await dark.getByRole("list", { name: "Failures" }).waitFor({ timeout: 10_000 });
    await screenshot(dark, "backfill-failed-dark-1024", { fullPage: true });
    await dark.emulateMedia({ colorScheme: "light" });
    await dark.setViewportSize({ width: 1000, height: 800 });
    await screenshot(dark, "backfill-failed-1000", { fullPage: true });
    expect(errorsOf(page)).toEqual([]);
    expect(errorsOf(dark)).toEqual([]);
  }, 90_000);

  test("the list shows both backfills with their progress; a viewer sees the actions disabled with why", async () => {
    expect(retried, "the first test created the backfills").not.toBe("");
    const page = await signedInPage(browser, LAUNCHER, { viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/backfills`);
    await pageHeading(page, "Backfills");
    const table = page.getByRole("table", { name: "Backfills" });
    await table.waitFor({ timeout: 10_000 });
    for (const id of [first, retried])
      await table
        .getByRole("link", { name: id.slice(0, 8), exact: true })
        .first()
        .waitFor({ timeout: 10_000 });
    const firstBar = table.getByRole("progressbar", { name: `Progress of backfill ${first.slice(0, 8)}` });
    expect(await firstBar.getAttribute("aria-valuenow")).toBe("100");
    expect(await firstBar.getAttribute("aria-valuetext")).toContain("14 succeeded, 1 failed, 1 skipped");
    const firstRow = table.getByRole("row").filter({
      has: page.getByRole("progressbar", { name: `Progress of backfill ${first.slice(0, 8)}` }),
    });
    expect(await firstRow.innerText()).toMatch(/failed/);
    expect(await firstRow.innerText()).toContain("2024-03-01 … 2024-03-08");
    await screenshot(page, "backfills-list");
    const dark = await signedInPage(browser, LAUNCHER, {
      viewport: { width: 1024, height: 700 },
      colorScheme: "dark",
    });
    await dark.goto(`${dev.url}/backfills`);
    await dark.getByRole("table", { name: "Backfills" }).waitFor({ timeout: 10_000 });
    await screenshot(dark, "backfills-list-dark-1024");
    const light = await signedInPage(browser, LAUNCHER, { viewport: { width: 1024, height: 700 } });
    await light.goto(`${dev.url}/backfills`);
    await light.getByRole("table", { name: "Backfills" }).waitFor({ timeout: 10_000 });
    await screenshot(light, "backfills-list-1024");
    await dark.setViewportSize({ width: 1400, height: 900 });
    await screenshot(dark, "backfills-list-dark-1400");
    await dark.goto(`${dev.url}/backfills/${first}`);
    await dark.getByRole("slider", { name: "Partitions of this backfill" }).waitFor({ timeout: 10_000 });
    await screenshot(dark, "backfill-failed-dark-1400", { fullPage: true });

    const viewer = await signedInPage(browser, VIEWER, { viewport: { width: 1024, height: 700 } });
    await viewer.goto(`${dev.url}/backfills/${first}`);
    await pageHeading(viewer, `Backfill ${first.slice(0, 8)}`);
    const retry = viewer.getByRole("button", { name: "Retry failed" });
    await retry.waitFor({ timeout: 10_000 });
    expect(await retry.isDisabled()).toBe(true);
    await viewer
      .getByText(/has the viewer role; this needs a launcher token/)
      .first()
      .waitFor();
    await screenshot(viewer, "backfill-viewer-1024");
    for (const p of [page, dark, light, viewer]) expect(errorsOf(p)).toEqual([]);
  }, 60_000);

  test("a backfill in progress is canceled after a confirmation", async () => {
    writeFileSync(hold, "hold");
    const created = await callApi<{ backfill: Backfill }>(dev, "POST", "/api/backfills", {
      body: { selection: "bf/source", partitions: { keys: ["2024-03-07", "2024-03-08"] } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.backfill.backfillId;
    const page = await signedInPage(browser, LAUNCHER, { viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/backfills/${id}`);
    await pageHeading(page, `Backfill ${id.slice(0, 8)}`);
    const bar = page.getByRole("slider", { name: "Partitions of this backfill" });
    // The held day is running (the other succeeded, or waits behind it).
    await expect.poll(() => accessibleDescription(bar), { timeout: 30_000 }).toMatch(/1 running/);
    await page.getByRole("button", { name: "Cancel backfill" }).click();
    const confirm = page.getByRole("dialog", { name: `Cancel backfill ${id.slice(0, 8)}?` });
    await confirm.waitFor({ timeout: 10_000 });
    await confirm.getByRole("button", { name: "Cancel backfill" }).click();
    await confirm.waitFor({ state: "detached", timeout: 10_000 });
    await expect
      .poll(async () => (await backfillOf(dev, id)).status, { timeout: 10_000 })
      .toMatch(/^CANCEL(ING|ED)$/);
    await page
      .getByText(/^cancel(ing|ed)$/)
      .first()
      .waitFor({ timeout: 10_000 });
    rmSync(hold, { force: true });
    await expect.poll(async () => (await backfillOf(dev, id)).status, { timeout: 30_000 }).toBe("CANCELED");
    await page
      .getByText(/^canceled$/)
      .first()
      .waitFor({ timeout: 15_000 });
    expect(await page.getByRole("button", { name: "Cancel backfill" }).count()).toBe(0);
    await screenshot(page, "backfill-canceled", { fullPage: true });
    expect(errorsOf(page)).toEqual([]);
  }, 60_000);
});
