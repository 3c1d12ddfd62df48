/**
 * The run page in a real browser (Chromium) against `baton dev` on tests/fixtures/run-detail: a run
 * materialized from the graph whose steps go from queued to running to succeeded (the Steps table's
 * words) with its log lines arriving live; a failed blocking check whose downstream steps say they
 * were skipped because of it, re-executed from failure once its cause is fixed (only the failed and
 * skipped steps run again); a slow run canceled from its page, the step that was running canceled and
 * the later one never run; a synthetic 10,000-step run (served by the test) whose timeline paints
 * soon after the response (the time is printed; bench:ui's run-timeline-5000 holds the 1 s target),
 * scrolls fluidly, shows an attempt's timings on hover and zooms. Screenshots light/dark at 1400×900
 * and 1024×700; an asset that throws from a helper: the Errors box, the Steps table and the log viewer show
 * the user's frames first (the .ts line), the internal ones behind "Show N internal frames". Needs the
 * built UI.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
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
import { callApi, graphReady, pageHeading, runStatus, summarizeErrors } from "./support/ui-flows.js";

const skipReason = chromiumSkipReason();
if (skipReason !== null) handleMissingChromium(skipReason);

const DEFS = path.join(ROOT, "tests/fixtures/run-detail/definitions.ts");
const CHECK = "rd/fares:no_negative_fares";

interface StepInfo {
  stepKey: string;
  status: string;
  attempts: number;
  attemptSpans: { outcome: string }[];
  reason: string | null;
}
interface RunDetail {
  run: { runId: string; status: string; parentRunId: string | null };
  summary: { steps: StepInfo[] };
}

const stepsTable = (page: Page) => page.getByRole("table", { name: "Steps" });

/** The Steps table's rows as { step key: [status, …the other cells] }, read in the page. */
async function stepRows(page: Page): Promise<Record<string, string[]>> {
  return stepsTable(page).evaluate((table) => {
    const out: Record<string, string[]> = {};
    for (const tr of table.querySelectorAll("tbody tr")) {
      const cells = [...tr.querySelectorAll("td")].map((td) => (td.textContent ?? "").trim());
      if (cells.length > 1) out[cells[0]!] = cells.slice(1);
    }
    return out;
  });
}

/** Record, in the page, every status word each step shows in the Steps table (survives client-side navigation). */
async function recordStepStatuses(page: Page) {
  await page.evaluate(() => {
    const seen: Record<string, string[]> = {};
    (window as unknown as { __steps: typeof seen }).__steps = seen;
    const read = () => {
      const table = document.querySelector('table[aria-label="Steps"]');
      if (!table) return;
      for (const tr of table.querySelectorAll("tbody tr")) {
        const cells = tr.querySelectorAll("td");
        if (cells.length < 2) continue;
        const key = (cells[0]!.textContent ?? "").trim();
        const word = (cells[1]!.textContent ?? "").trim();
        const list = seen[key] ?? [];
        seen[key] = list;
        if (list[list.length - 1] !== word) list.push(word);
      }
    };
    new MutationObserver(read).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
    });
  });
}

const seenStatuses = (page: Page) =>
  page.evaluate(() => (window as unknown as { __steps: Record<string, string[]> }).__steps);

async function timelineReady(page: Page) {
  const timeline = page.getByRole("region", { name: "Step timeline" });
  await expect.poll(() => timeline.getAttribute("aria-busy"), { timeout: 15_000 }).toBe("false");
  return timeline;
}

async function launch(dev: DevServer, selection: string): Promise<string> {
  const launched = await callApi<{ run: { runId: string } }>(dev, "POST", "/api/runs", {
    body: { selection },
  });
  expect(launched.status, JSON.stringify(launched.body)).toBe(201);
  return launched.body.run.runId;
}

const detailOf = async (dev: DevServer, runId: string) =>
  (await callApi<RunDetail>(dev, "GET", `/api/runs/${runId}`)).body;

describe.skipIf(skipReason !== null)("UI run page (Chromium)", () => {
  let dev: DevServer;
  let browser: TestBrowser;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "baton-ui-run-detail-"));
    [dev, browser] = await Promise.all([
      startDev({ defs: DEFS, env: { FIXTURE_RD_DIR: dir } }),
      launchBrowser(),
    ]);
  }, 90_000);
  afterEach(async () => {
    // One test's pages at a time (each keeps a live event stream open).
    for (const context of browser?.browser.contexts() ?? []) await context.close().catch(() => undefined);
  });
  afterAll(async () => {
    await browser?.close();
    await dev?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  test("materialized from the graph: steps go from queued to running to succeeded, logs arrive live", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/graph?sel=rd/extract,rd/transform,rd/load`);
    await graphReady(page);
    await recordStepStatuses(page);
    await page.getByRole("button", { name: /^Materialize selected/ }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor({ timeout: 10_000 });
    const launchButton = dialog.getByRole("button", { name: "Launch run" });
    await expect.poll(() => launchButton.isEnabled(), { timeout: 10_000 }).toBe(true);
    await launchButton.click();
    await dialog.waitFor({ state: "detached", timeout: 10_000 });
    await page.getByRole("link", { name: "View run" }).click();
    await expect.poll(() => new URL(page.url()).pathname, { timeout: 10_000 }).toMatch(/^\/runs\/[\w-]+$/);
    const runId = new URL(page.url()).pathname.slice("/runs/".length);
    await pageHeading(page, `Run ${runId.slice(0, 8)}`);

    // Live: the page shows a running step (no reload), then everything succeeded.
    await expect
      .poll(async () => Object.values(await stepRows(page)).some((c) => c[0] === "running"), {
        timeout: 15_000,
      })
      .toBe(true);
    const timeline = await timelineReady(page);
    await screenshot(page, "run-detail-running-1400x900");
    await expect.poll(() => runStatus(dev, runId), { timeout: 30_000 }).toBe("SUCCESS");
    await expect
      .poll(async () => Object.values(await stepRows(page)).map((c) => c[0]), { timeout: 10_000 })
      .toEqual(["succeeded", "succeeded", "succeeded"]);
    await page.getByRole("main").getByText("succeeded", { exact: true }).first().waitFor();
    expect(await timeline.textContent()).toContain("3 steps: 3 succeeded.");

    const seen = await seenStatuses(page);
    for (const key of ["rd/extract", "rd/transform", "rd/load"]) {
      const words = seen[key] ?? [];
      expect(words[words.length - 1], `${key}: ${JSON.stringify(seen)}`).toBe("succeeded");
      expect(words, `${key}: ${JSON.stringify(seen)}`).toContain("running");
      expect(words.indexOf("running")).toBeLessThan(words.indexOf("succeeded"));
    }
    // The last step waited while the first ran: queued (run not started) or not started (run started).
    expect(["queued", "not started"], JSON.stringify(seen)).toContain(seen["rd/load"]![0]);

    // Launched by the local user (no tokens configured); the assets it materialized are links.
    const facts = page.getByRole("region", { name: "Run details" });
    expect(await facts.textContent()).toContain("Launched bylocal user");
    await page.getByRole("link", { name: "rd/load", exact: true }).first().waitFor();

    // Log lines arrived live in the Logs section (the log viewer of the same page).
    const logs = page.getByRole("region", { name: "Logs" });
    await logs.getByText("extract: read 120 rows from the source").first().waitFor({ timeout: 15_000 });
    await logs.getByText("transform: dropped 3 duplicate rows").first().waitFor({ timeout: 15_000 });

    // Clicking a step picks it (the log viewer's step filter, kept in the URL).
    await stepsTable(page).getByRole("button", { name: "rd/transform", exact: true }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get("step")).toBe("rd/transform");
    await screenshot(page, "run-detail-succeeded-1400x900");

    const dark = await browser.newPage({ viewport: { width: 1024, height: 700 }, colorScheme: "dark" });
    await dark.goto(`${dev.url}/runs/${runId}`);
    await timelineReady(dark);
    await screenshot(dark, "run-detail-succeeded-dark-1024x700");
    const light = await browser.newPage({ viewport: { width: 1024, height: 700 } });
    await light.goto(`${dev.url}/runs/${runId}`);
    await timelineReady(light);
    await screenshot(light, "run-detail-succeeded-1024x700");
    expect(summarizeErrors(errorsOf(page))).toBe("[]");
    expect(summarizeErrors(errorsOf(dark))).toBe("[]");
  }, 80_000);

  test("a failed blocking check skips what is downstream; re-executed from failure once fixed", async () => {
    const runId = await launch(dev, "rd/fares*");
    await expect.poll(() => runStatus(dev, runId), { timeout: 30_000 }).toBe("FAILURE");
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/runs/${runId}`);
    await pageHeading(page, `Run ${runId.slice(0, 8)}`);
    await timelineReady(page);
    await expect.poll(async () => Object.keys(await stepRows(page)).length, { timeout: 10_000 }).toBe(4);
    const rows = await stepRows(page);
    expect(rows["rd/fares"]![0]).toBe("succeeded");
    expect(rows[CHECK]![0]).toBe("failed");
    expect(rows[CHECK]!.join(" ")).toContain(`blocking check "${CHECK}" failed`);
    expect(rows["rd/report"]![0]).toBe("skipped");
    expect(rows["rd/report"]!.join(" ")).toContain(`skipped: blocking check "${CHECK}" failed`);
    expect(rows["rd/summary"]![0]).toBe("skipped");
    expect(rows["rd/summary"]!.join(" ")).toContain('skipped: upstream step "rd/report" was skipped');
    // The error is on the page, and the run can be re-executed from failure.
    await page.getByRole("region", { name: "Errors" }).getByText(`Step ${CHECK} failed`).waitFor();
    await screenshot(page, "run-detail-failed-check-1400x900");
    const dark = await browser.newPage({ viewport: { width: 1400, height: 900 }, colorScheme: "dark" });
    await dark.goto(`${dev.url}/runs/${runId}`);
    await timelineReady(dark);
    await screenshot(dark, "run-detail-failed-check-dark-1400x900");

    // Fix the cause, then re-execute from failure: a new run of only the failed and skipped steps.
    await writeFile(path.join(dir, "fares-ok"), "fixed\n");
    await page.getByRole("button", { name: "Re-execute from failure" }).click();
    await expect.poll(() => new URL(page.url()).pathname, { timeout: 10_000 }).not.toBe(`/runs/${runId}`);
    const newId = new URL(page.url()).pathname.slice("/runs/".length);
    await pageHeading(page, `Run ${newId.slice(0, 8)}`);
    await expect.poll(() => runStatus(dev, newId), { timeout: 30_000 }).toBe("SUCCESS");
    const detail = await detailOf(dev, newId);
    expect(detail.run.parentRunId).toBe(runId);
    expect(detail.summary.steps.map((s) => s.stepKey).sort()).toEqual([CHECK, "rd/report", "rd/summary"]);
    expect(detail.summary.steps.every((s) => s.status === "succeeded")).toBe(true);
    await expect
      .poll(
        async () =>
          Object.entries(await stepRows(page))
            .map(([k, c]) => `${k} ${c[0]}`)
            .sort(),
        {
          timeout: 10_000,
        },
      )
      .toEqual([`${CHECK} succeeded`, "rd/report succeeded", "rd/summary succeeded"]);
    // It says what it re-executes, with a link back.
    const parent = page
      .getByRole("region", { name: "Run details" })
      .getByRole("link", { name: runId.slice(0, 8) });
    expect(await parent.getAttribute("href")).toBe(`/runs/${runId}`);
    expect(await page.getByRole("button", { name: "Re-execute from failure" }).count()).toBe(0);
    expect(summarizeErrors(errorsOf(page))).toBe("[]");
  }, 60_000);

  test("a slow run canceled from its page: the running step is canceled, the next never runs", async () => {
    const runId = await launch(dev, "rd/warmup*");
    await expect
      .poll(
        async () => (await detailOf(dev, runId)).summary.steps.find((s) => s.stepKey === "rd/slow")?.status,
        {
          timeout: 30_000,
        },
      )
      .toBe("running");
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/runs/${runId}`);
    await timelineReady(page);
    await expect
      .poll(async () => (await stepRows(page))["rd/slow"]?.[0], { timeout: 10_000 })
      .toBe("running");
    await page.getByRole("button", { name: "Cancel run" }).click();
    const confirm = page.getByRole("dialog", { name: `Cancel run ${runId.slice(0, 8)}?` });
    await confirm.waitFor({ timeout: 5_000 });
    await confirm.getByRole("button", { name: "Cancel run" }).click();
    await confirm.waitFor({ state: "detached", timeout: 10_000 });
    await expect.poll(() => runStatus(dev, runId), { timeout: 20_000 }).toBe("CANCELED");
    await expect
      .poll(
        async () => {
          const rows = await stepRows(page);
          return ["rd/warmup", "rd/slow", "rd/publish"].map((k) => rows[k]?.[0]);
        },
        { timeout: 10_000 },
      )
      .toEqual(["succeeded", "canceled", "canceled"]);
    // Where it stopped: rd/slow started and was canceled after one attempt; rd/publish never started.
    const rows = await stepRows(page);
    expect(rows["rd/slow"]![1]).not.toBe("—");
    expect(rows["rd/publish"]!.slice(1, 4)).toEqual(["—", "—", "—"]);
    const detail = await detailOf(dev, runId);
    const slow = detail.summary.steps.find((s) => s.stepKey === "rd/slow")!;
    expect(slow.attemptSpans.map((a) => a.outcome)).toEqual(["canceled"]);
    const publish = detail.summary.steps.find((s) => s.stepKey === "rd/publish");
    expect(publish?.attemptSpans ?? []).toEqual([]);
    const timeline = await timelineReady(page);
    expect(await timeline.textContent()).toContain("3 steps: 1 succeeded, 2 canceled.");
    expect(await page.getByRole("button", { name: "Cancel run" }).count()).toBe(0);
    await page.getByRole("button", { name: "Re-execute from failure" }).waitFor();
    await screenshot(page, "run-detail-canceled-1400x900");
    expect(summarizeErrors(errorsOf(page))).toBe("[]");
  }, 60_000);

  test("an asset that throws: the user's frames first (file:line:col of the .ts), internal frames behind a button", async () => {
    // Where fare-rules.ts throws: the line after its RD-THROW marker, at `new Error`.
    const source = readFileSync(path.join(ROOT, "tests/fixtures/run-detail/fare-rules.ts"), "utf8").split(
      "\n",
    );
    const line = source.findIndex((l) => l.includes("RD-THROW")) + 2;
    const where = `fare-rules.ts:${line}:${source[line - 1]!.indexOf("new Error") + 1}`;

    const runId = await launch(dev, "rd/broken");
    await expect.poll(() => runStatus(dev, runId), { timeout: 30_000 }).toBe("FAILURE");
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${dev.url}/runs/${runId}`);
    await timelineReady(page);

    // The Errors box: the user's frames, the throw first, then a button for Baton's and Node's.
    const errors = page.getByRole("region", { name: "Errors" });
    const userFrames = errors.getByRole("list", { name: "Frames in your code" });
    await userFrames.waitFor({ timeout: 10_000 });
    const items = await userFrames.getByRole("listitem").allTextContents();
    expect(items[0]).toContain(where);
    expect(items[0]).toContain("checkFares");
    expect(
      items.some((t) => /^definitions\.ts:\d+:\d+/.test(t)),
      JSON.stringify(items),
    ).toBe(true);
    const toggle = errors.getByRole("button", { name: /^Show \d+ internal frames?$/ });
    expect(await toggle.getAttribute("aria-expanded")).toBe("false");
    const internal = errors.getByRole("list", { name: "Internal frames", includeHidden: true });
    expect(await internal.isVisible()).toBe(false);
    const count = Number(/\d+/.exec((await toggle.textContent()) ?? "")![0]);
    expect(count).toBeGreaterThan(0);
    await screenshot(page, "run-detail-user-frames-1400x900");
    await toggle.click();
    const hide = errors.getByRole("button", {
      name: `Hide ${count} internal frame${count === 1 ? "" : "s"}`,
    });
    expect(await hide.getAttribute("aria-expanded")).toBe("true");
    expect(await internal.isVisible()).toBe(true);
    expect(await internal.getByRole("listitem").count()).toBe(count);
    expect(await internal.textContent()).toContain("Baton");
    await screenshot(page, "run-detail-internal-frames-1400x900");

    // The Steps table names the user's line next to the error.
    const rows = await stepRows(page);
    expect(rows["rd/broken"]![0]).toBe("failed");
    expect(rows["rd/broken"]!.join(" ")).toContain(`at ${where} in checkFares`);
    await stepsTable(page).scrollIntoViewIfNeeded();
    await screenshot(page, "run-detail-step-error-where-1400x900");

    // The log viewer's error line: expanded, the same frames, the user's first.
    const logs = page.getByRole("region", { name: "Logs" });
    await logs.getByRole("button", { name: "Show stack trace" }).first().click({ timeout: 15_000 });
    const logFrames = logs.getByRole("list", { name: "Frames in your code" });
    expect((await logFrames.getByRole("listitem").first().textContent()) ?? "").toContain(where);
    await logs.getByRole("button", { name: /^Show \d+ internal frames?$/ }).waitFor();
    await logs.scrollIntoViewIfNeeded();
    await screenshot(page, "run-detail-log-frames-1400x900");

    const dark = await browser.newPage({ viewport: { width: 1400, height: 900 }, colorScheme: "dark" });
    await dark.goto(`${dev.url}/runs/${runId}`);
    await timelineReady(dark);
    await dark
      .getByRole("region", { name: "Errors" })
      .getByRole("list", { name: "Frames in your code" })
      .waitFor();
    await screenshot(dark, "run-detail-user-frames-dark-1400x900");
    expect(summarizeErrors(errorsOf(page))).toBe("[]");
    expect(summarizeErrors(errorsOf(dark))).toBe("[]");
  }, 60_000);

  test("a 10,000-step run: the timeline paints soon after the response (time reported) and scrolls fluidly", async () => {
    const id = "synthetic-10k-steps-run";
    const body = JSON.stringify(syntheticRun(id, 10_000));
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    let servedAt = 0;
    await page.route(`**/api/runs/${id}`, async (route) => {
      servedAt = Date.now();
      await route.fulfill({ status: 200, contentType: "application/json", body });
    });
    // Its logs and events: an ended run with none (the log viewer reads them).
    await page.route(`**/api/runs/${id}/**`, (route) =>
      route.fulfill({
        status: 200,
        contentType: "application/json",
        body: '{"logs":[],"events":[],"nextAfter":null}',
      }),
    );
    // Record when the timeline turns ready, from before the app's scripts run.
    await page.addInitScript(() => {
      const w = window as unknown as { __paintedAt?: number };
      const check = () => {
        const el = document.querySelector('[aria-label="Step timeline"]');
        if (el && el.getAttribute("aria-busy") === "false" && w.__paintedAt === undefined)
          w.__paintedAt = performance.now();
      };
      new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true });
    });
    await page.goto(`${dev.url}/runs/${id}`);
    const timeline = await timelineReady(page);
    // From the end of the run's response (resource timing) to the painted timeline.
    const { paintedAt, responseEnd } = await page.evaluate((runId) => {
      const entry = performance
        .getEntriesByType("resource")
        .find((e) => new URL(e.name).pathname === `/api/runs/${runId}`) as
        | PerformanceResourceTiming
        | undefined;
      return {
        paintedAt: (window as unknown as { __paintedAt?: number }).__paintedAt ?? 0,
        responseEnd: entry?.responseEnd ?? 0,
      };
    }, id);
    const firstPaint = Math.round(paintedAt - responseEnd);
    console.log(
      `[ui-run-detail] 10,000-step run (${(body.length / 1e6).toFixed(1)} MB): timeline painted ${firstPaint} ms after the response (served at +${Math.round(responseEnd)} ms, painted at +${Math.round(paintedAt)} ms); test-side ${Date.now() - servedAt} ms since served`,
    );
    expect(responseEnd).toBeGreaterThan(0);
    expect(firstPaint).toBeGreaterThan(0);
    // The target (≤ 1 s for 5,000 steps) is bench:ui's run-timeline-5000; here a bound that a loaded CI machine meets.
    expect(firstPaint).toBeLessThan(10_000);
    expect(await timeline.textContent()).toContain("10,000 steps:");
    // The table is virtualized: 10,001 rows announced, a few dozen in the DOM.
    expect(await stepsTable(page).getAttribute("aria-rowcount")).toBe("10001");
    expect(await stepsTable(page).getByRole("row").count()).toBeLessThan(100);

    // Scroll the timeline through its rows, a step per frame: the frames take little longer than idle
    // frames of the same page (only the rows in view are drawn). Compared with idle frames measured
    // just before, since the absolute frame time says more about the machine than about the page.
    const chart = timeline.getByRole("application");
    await page.waitForTimeout(1000); // the log viewer's step filter is filled after the first paint
    const { idle, scrolling } = await chart.evaluate(async (el) => {
      const frames = async (n: number, each: () => void) => {
        const times: number[] = [];
        let last = performance.now();
        for (let i = 0; i < n; i++) {
          each();
          await new Promise((r) => requestAnimationFrame(r));
          const t = performance.now();
          times.push(t - last);
          last = t;
        }
        times.sort((a, b) => a - b);
        return times[Math.floor(times.length * 0.95)]!;
      };
      const idle = await frames(60, () => {});
      const scrolling = await frames(90, () => {
        el.scrollTop += 2000;
      });
      return { idle, scrolling };
    });
    console.log(
      `[ui-run-detail] timeline scroll: p95 frame ${scrolling.toFixed(1)} ms (idle frames of the page: p95 ${idle.toFixed(1)} ms)`,
    );
    expect(scrolling).toBeLessThan(Math.max(idle, 17) + 50);

    // Hover a bar: a tooltip with the step, attempt and timings; click picks the step.
    await chart.evaluate((el) => {
      el.scrollTop = 0;
    });
    const box = (await chart.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.6, box.y + 26 + 11);
    await page.getByText(/^Attempt 1: succeeded$/).waitFor({ timeout: 5_000 });
    await page
      .getByText(/^Duration /)
      .first()
      .waitFor();
    await screenshot(page, "run-detail-10k-steps-1400x900");
    await page.mouse.click(box.x + box.width * 0.6, box.y + 26 + 11);
    await expect.poll(() => new URL(page.url()).searchParams.get("step")).toBe("step/00000");
    // Zoom with the buttons and the keyboard; Fit comes back to the whole run.
    await timeline.getByRole("button", { name: "Zoom in" }).click();
    expect(await timeline.getByRole("button", { name: "Fit" }).getAttribute("aria-pressed")).toBe("false");
    await chart.press("f");
    expect(await timeline.getByRole("button", { name: "Fit" }).getAttribute("aria-pressed")).toBe("true");
    const errors = errorsOf(page).filter((e) => !/Failed to load resource/.test(e));
    expect(summarizeErrors(errors)).toBe("[]");
  }, 60_000);
});

/** A finished run of `n` steps in waves of 8 concurrent steps, some retried, a few failed and skipped. */
function syntheticRun(runId: string, n: number) {
  const t0 = Date.now() - 3_600_000;
  const steps = [];
  const wave = 8;
  const per = 2500;
  const total = Math.ceil(n / wave) * per;
  for (let i = 0; i < n; i++) {
    const key = `step/${String(i).padStart(5, "0")}`;
    if (i === 0) {
      // One step spans the whole run (what the test hovers).
      steps.push(
        step(key, "succeeded", [{ attempt: 1, startedAt: t0, endedAt: t0 + total, outcome: "succeeded" }]),
      );
      continue;
    }
    const start = t0 + Math.floor(i / wave) * per + (i % wave) * 50;
    if (i % 997 === 0) {
      steps.push(step(key, "skipped", [], `upstream step "step/${String(i - 1).padStart(5, "0")}" failed`));
      continue;
    }
    if (i % 97 === 0)
      steps.push(
        step(key, "succeeded", [
          { attempt: 1, startedAt: start, endedAt: start + 600, outcome: "retried" },
          { attempt: 2, startedAt: start + 1000, endedAt: start + 2000, outcome: "succeeded" },
        ]),
      );
    else if (i % 996 === 0)
      steps.push(
        step(key, "failed", [{ attempt: 1, startedAt: start, endedAt: start + 900, outcome: "failed" }]),
      );
    else
      steps.push(
        step(key, "succeeded", [
          { attempt: 1, startedAt: start, endedAt: start + 400 + (i % 13) * 120, outcome: "succeeded" },
        ]),
      );
  }
  return {
    run: {
      runId,
      status: "FAILURE",
      selection: "step/*",
      assetKeys: steps.map((s) => s.stepKey),
      config: {},
      tags: { "baton/launched-by": "bench" },
      parentRunId: null,
      rootRunId: null,
      createdAt: t0 - 500,
      startedAt: t0,
      endedAt: t0 + total,
      partitionKeys: null,
      backfillId: null,
      priority: 0,
      request: null,
      workerId: null,
      heartbeatAt: null,
      cancelRequested: false,
    },
    summary: {
      runId,
      status: "FAILURE",
      startedAt: t0,
      endedAt: t0 + total,
      durationMs: total,
      reason: null,
      steps,
    },
  };
}

function step(
  stepKey: string,
  status: string,
  attemptSpans: { attempt: number; startedAt: number; endedAt: number; outcome: string }[],
  reason: string | null = null,
) {
  const first = attemptSpans[0];
  const last = attemptSpans[attemptSpans.length - 1];
  return {
    stepKey,
    kind: "asset",
    assetKeys: [stepKey],
    status,
    startedAt: first?.startedAt ?? null,
    endedAt: last?.endedAt ?? null,
    durationMs: last && first ? last.endedAt - first.startedAt : null,
    attempts: attemptSpans.length,
    attemptSpans,
    reason,
    error:
      status === "failed"
        ? { name: "Error", message: `${stepKey} failed`, stack: `Error: ${stepKey} failed\n    at x` }
        : null,
    materializations: status === "succeeded" ? [{ assetKey: stepKey, metadata: {} }] : [],
    checks: [],
  };
}
