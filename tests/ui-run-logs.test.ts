/**
 * The run's log viewer in a real browser (Chromium) against `baton dev` on tests/fixtures/run-logs:
 * a run of 10,000 lines (ctx.log and console; warn and error lines at known positions) filtered by
 * step and minimum level (the level still set after a reload), searched (highlights, a count,
 * Enter / Shift+Enter), the next error jumped to and focused, downloaded as a .log file (all lines
 * and the shown ones); a failed page load said and retried; an error's stack and cause behind a
 * toggle; 1,000 lines a second kept up with; a slow run's lines arriving live with the tail followed
 * until the user scrolls up; a dropped connection resumed with no gap and no repeat. Needs the built UI.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Locator, Page } from "playwright-core";
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
import { waitFor } from "./support/processes.js";
import { callApi, runStatus } from "./support/ui-flows.js";

const skipReason = chromiumSkipReason();
if (skipReason !== null) handleMissingChromium(skipReason);

const DEFS = path.join(ROOT, "tests/fixtures/run-logs/definitions.ts");
// Kept in step with tests/fixtures/run-logs/definitions.ts (not imported: it imports @baton/core).
const LINES = 10_000;
const ERROR_AT = [2_500, 6_000, 8_750];
const WARN_AT = [1_000, 5_000, 9_000];

interface StoredEvent {
  id: number;
  type: string;
  stepKey?: string;
  level?: string;
  message?: string;
}

/** Every stored event of a run, page by page. */
async function eventsOf(dev: DevServer, runId: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  let after: number | null = null;
  for (;;) {
    const q: string = after === null ? "" : `&after=${after}`;
    const page = await callApi<{ events: StoredEvent[]; nextAfter: number | null }>(
      dev,
      "GET",
      `/api/runs/${runId}/events?limit=5000${q}`,
    );
    expect(page.status).toBe(200);
    out.push(...page.body.events);
    if (page.body.nextAfter === null) return out;
    after = page.body.nextAfter;
  }
}

async function launch(dev: DevServer, selection: string): Promise<string> {
  const launched = await callApi<{ run: { runId: string } }>(dev, "POST", "/api/runs", {
    body: { selection },
  });
  expect(launched.status, JSON.stringify(launched.body)).toBe(201);
  return launched.body.run.runId;
}

async function waitForStatus(dev: DevServer, runId: string, status: string, ms = 60_000) {
  await waitFor(`run ${runId} to be ${status}`, async () => (await runStatus(dev, runId)) === status, ms);
}

const logsOf = (page: Page) => page.getByRole("region", { name: "Logs" });
const linesOf = (page: Page) => page.getByRole("table", { name: "Log lines" });
const rowCount = async (lines: Locator) => Number(await lines.getAttribute("aria-rowcount"));
const rowWith = (lines: Locator, text: string) => lines.getByRole("row").filter({ hasText: text });

/** Open a run's page and wait for its log viewer's first paint. */
async function openRun(page: Page, dev: DevServer, runId: string) {
  await page.goto(`${dev.url}/runs/${runId}`);
  const logs = logsOf(page);
  await logs.waitFor({ timeout: 20_000 });
  await expect.poll(() => logs.getAttribute("aria-busy"), { timeout: 20_000 }).toBe("false");
  await expect.poll(() => linesOf(page).getAttribute("aria-busy")).toBe("false");
  return { logs, lines: linesOf(page) };
}

/** True when `row` is rendered and inside the visible part of the scrolling list. */
const inView = (row: Locator) =>
  row.evaluate((el) => {
    const scroller = el.closest("table")!.parentElement!;
    const r = el.getBoundingClientRect();
    const s = scroller.getBoundingClientRect();
    return r.top >= s.top && r.bottom <= s.bottom + 1;
  });

/** The text of the focused element. */
const focusedText = (page: Page) => page.evaluate(() => document.activeElement?.textContent ?? "");

/** Click a download button; the file's text. */
async function download(page: Page, button: Locator): Promise<{ name: string; text: string }> {
  const [file] = await Promise.all([page.waitForEvent("download", { timeout: 15_000 }), button.click()]);
  const where = await file.path();
  return { name: file.suggestedFilename(), text: await readFile(where, "utf8") };
}

/** Lines of a downloaded log (continuation lines of a stack are indented: left out). */
const fileLines = (text: string) => text.split("\n").filter((l) => l !== "" && !l.startsWith(" "));

/**
 * A TCP proxy in front of the dev server whose connections the test can cut (a dropped connection,
 * as a flaky network or a restarted load balancer would: the browser sees the stream end).
 */
interface CuttableProxy {
  readonly url: string;
  /** Cut every open connection and refuse new ones until `restore()`. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

async function startProxy(target: string): Promise<CuttableProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client);
    sockets.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      s.on("error", end);
      s.on("close", end);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port: own } = server.address() as net.AddressInfo;
  const cutAll = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    url: `http://127.0.0.1:${own}`,
    cut() {
      refusing = true;
      cutAll();
    },
    restore() {
      refusing = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        cutAll();
        server.close(() => resolve());
      }),
  };
}

describe.skipIf(skipReason !== null)("UI run log viewer (Chromium)", () => {
  let dev: DevServer;
  let browser: TestBrowser;
  let bigRun: string;
  let bigEvents: StoredEvent[];
  let scratch: string;
  let release: string;

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), "baton-ui-logs-"));
    release = path.join(scratch, "release");
    [dev, browser] = await Promise.all([
      startDev({ defs: DEFS, env: { FIXTURE_LOGS_RELEASE: release } }),
      launchBrowser(),
    ]);
    bigRun = await launch(dev, "logs/many");
    await waitForStatus(dev, bigRun, "SUCCESS");
    bigEvents = await eventsOf(dev, bigRun);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await dev?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }, 60_000);

  test("10,000 lines: every event a row; step and minimum level filters, the level kept after a reload", async () => {
    expect(bigEvents.filter((e) => e.type === "log").length).toBe(LINES);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const { logs, lines } = await openRun(page, dev, bigRun);
    await expect.poll(() => rowCount(lines), { timeout: 20_000 }).toBe(bigEvents.length);
    await logs.getByText(`${bigEvents.length.toLocaleString("en")} lines`, { exact: true }).waitFor();
    // an ended run opens at its start
    expect(await inView(rowWith(lines, "run started"))).toBe(true);
    await logs.getByText("3 errors", { exact: true }).waitFor();

    const level = logs.getByRole("combobox", { name: "Minimum level" });
    await level.selectOption("warn");
    const warnAndUp = bigEvents.filter((e) => e.level === "warn" || e.level === "error");
    expect(warnAndUp.length).toBe(WARN_AT.length + ERROR_AT.length);
    await expect.poll(() => rowCount(lines)).toBe(warnAndUp.length);
    for (const n of WARN_AT) await rowWith(lines, `warning at line ${n}`).waitFor();
    const warnRow = rowWith(lines, `warning at line ${WARN_AT[0]}`);
    expect((await warnRow.getByRole("cell").nth(1).textContent())?.trim()).toBe("WARN");

    await page.reload();
    const again = await openRun(page, dev, bigRun);
    expect(await again.logs.getByRole("combobox", { name: "Minimum level" }).inputValue()).toBe("warn");
    await expect.poll(() => rowCount(again.lines), { timeout: 20_000 }).toBe(warnAndUp.length);

    await again.logs.getByRole("combobox", { name: "Minimum level" }).selectOption("debug");
    const step = again.logs.getByRole("combobox", { name: "Step" });
    await step.selectOption("logs/many");
    const ofStep = bigEvents.filter((e) => e.stepKey === "logs/many").length;
    expect(ofStep).toBeLessThan(bigEvents.length);
    await expect.poll(() => rowCount(again.lines), { timeout: 20_000 }).toBe(ofStep);
    await again.logs.getByRole("combobox", { name: "Minimum level" }).selectOption("error");
    await step.selectOption("");
    await expect.poll(() => rowCount(again.lines)).toBe(ERROR_AT.length);
    expect(errorsOf(page)).toEqual([]);
  }, 90_000);

  test("search highlights and counts matches, Enter / Shift+Enter move between them; no match is said", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const { logs, lines } = await openRun(page, dev, bigRun);
    await expect.poll(() => rowCount(lines), { timeout: 20_000 }).toBe(bigEvents.length);
    const search = logs.getByRole("searchbox", { name: "Search logs" });
    await search.fill("FAILURE at line");
    await logs.getByText("3 matching lines", { exact: true }).waitFor();
    await search.press("Enter");
    await logs.getByText("1 of 3 matching lines", { exact: true }).waitFor();
    const first = rowWith(lines, `failure at line ${ERROR_AT[0]}`);
    await expect.poll(() => inView(first)).toBe(true);
    expect(await first.locator("mark").allTextContents()).toEqual(["failure at line"]);
    await search.press("Enter");
    await logs.getByText("2 of 3 matching lines", { exact: true }).waitFor();
    await expect.poll(() => inView(rowWith(lines, `stderr failure at line ${ERROR_AT[1]}`))).toBe(true);
    await search.press("Shift+Enter");
    await logs.getByText("1 of 3 matching lines", { exact: true }).waitFor();
    await expect.poll(() => inView(first)).toBe(true);
    await search.press("Shift+Enter"); // wraps to the last
    await logs.getByText("3 of 3 matching lines", { exact: true }).waitFor();
    await expect.poll(() => inView(rowWith(lines, `failure at line ${ERROR_AT[2]}`))).toBe(true);
    expect(await rowCount(lines)).toBe(bigEvents.length); // search alone hides nothing
    await logs.getByRole("checkbox", { name: "Only matching" }).check();
    await expect.poll(() => rowCount(lines)).toBe(3);
    await logs.scrollIntoViewIfNeeded();
    await screenshot(page, "run-logs-search");

    await search.fill("no such text anywhere");
    await logs.getByText("No line matches “no such text anywhere”", { exact: true }).waitFor();
    await expect.poll(() => rowCount(lines)).toBe(0);
    await logs.getByText(/^No line matches “no such text anywhere”\.$/).waitFor();
    await screenshot(page, "run-logs-no-match");
    expect(errorsOf(page)).toEqual([]);
  }, 60_000);

  test("jump to the next and previous error: the error line is shown and focused", async () => {
    const page = await browser.newPage({ viewport: { width: 1024, height: 700 } });
    const { logs, lines } = await openRun(page, dev, bigRun);
    await expect.poll(() => rowCount(lines), { timeout: 20_000 }).toBe(bigEvents.length);
    const next = logs.getByRole("button", { name: "Next error" });
    const previous = logs.getByRole("button", { name: "Previous error" });
    await next.click();
    const first = rowWith(lines, `failure at line ${ERROR_AT[0]}`);
    await expect.poll(() => focusedText(page)).toContain(`failure at line ${ERROR_AT[0]}`);
    expect(await inView(first)).toBe(true);
    await logs.getByText("error 1 of 3", { exact: true }).waitFor();
    await next.click();
    await expect.poll(() => focusedText(page)).toContain(`stderr failure at line ${ERROR_AT[1]}`);
    expect(await inView(rowWith(lines, `failure at line ${ERROR_AT[1]}`))).toBe(true);
    await logs.getByText("error 2 of 3", { exact: true }).waitFor();
    await previous.click();
    await expect.poll(() => focusedText(page)).toContain(`failure at line ${ERROR_AT[0]}`);
    // the keyboard moves on from the focused line
    await page.keyboard.press("ArrowDown");
    await expect.poll(() => focusedText(page)).toContain(`line ${ERROR_AT[0]! + 1} of the big log`);
    await logs.scrollIntoViewIfNeeded();
    await screenshot(page, "run-logs-next-error-1024");
    expect(errorsOf(page)).toEqual([]);
  }, 60_000);

  test("download all lines, or only the shown ones, as a .log file", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const { logs, lines } = await openRun(page, dev, bigRun);
    await expect.poll(() => rowCount(lines), { timeout: 20_000 }).toBe(bigEvents.length);
    const all = await download(
      page,
      logs.getByRole("button", { name: `Download all ${bigEvents.length.toLocaleString("en")} lines` }),
    );
    expect(all.name).toBe(`run-${bigRun.slice(0, 8)}.log`);
    const allLines = fileLines(all.text);
    expect(allLines.length).toBe(bigEvents.length);
    expect(allLines.filter((l) => / ERROR /.test(l)).length).toBe(ERROR_AT.length);
    expect(all.text).toMatch(/Z INFO {2}logs\/many \[stdout\] line 1 of the big log \(stdout\)\n/);

    await logs.getByRole("combobox", { name: "Minimum level" }).selectOption("error");
    await expect.poll(() => rowCount(lines)).toBe(ERROR_AT.length);
    const shown = await download(page, logs.getByRole("button", { name: "Download 3 shown lines" }));
    expect(shown.name).toBe(`run-${bigRun.slice(0, 8)}-filtered.log`);
    expect(fileLines(shown.text).map((l) => l.replace(/^\S+ /, ""))).toEqual([
      `ERROR logs/many failure at line ${ERROR_AT[0]} {"line":${ERROR_AT[0]}}`,
      `ERROR logs/many [stderr] stderr failure at line ${ERROR_AT[1]}`,
      `ERROR logs/many failure at line ${ERROR_AT[2]} {"line":${ERROR_AT[2]}}`,
    ]);
    expect(errorsOf(page)).toEqual([]);
  }, 60_000);

  test("a failed load is said and retried; an error's stack and cause open from its line", async () => {
    const runId = await launch(dev, "logs/fails");
    await waitForStatus(dev, runId, "FAILURE");
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, colorScheme: "dark" });
    await page.route("**/api/runs/*/events*", (route) => route.abort("connectionrefused"));
    await page.goto(`${dev.url}/runs/${runId}`);
    const logs = logsOf(page);
    const alert = logs.getByRole("alert");
    await alert.waitFor({ timeout: 20_000 });
    expect(await alert.textContent()).toContain("Could not load the logs");
    await page.unroute("**/api/runs/*/events*");
    await logs.getByRole("button", { name: "Try again" }).click();
    const lines = linesOf(page);
    const events = await eventsOf(dev, runId);
    await expect.poll(() => rowCount(lines), { timeout: 20_000 }).toBe(events.length);
    await alert.waitFor({ state: "detached" });
    const failed = rowWith(lines, "the warehouse refused the load").first();
    await failed.getByRole("button", { name: "Show stack trace" }).first().click();
    await failed
      .getByText(/Caused by: disk quota exceeded on \/data/)
      .first()
      .waitFor();
    await failed.getByRole("button", { name: "Hide stack trace" }).first().waitFor();
    // the opened row is measured: the next line starts below it, wrapped or not
    const after = rowWith(lines, "run failed: 1 step failed");
    const below = async () => {
      const a = await failed.boundingBox();
      const b = await after.boundingBox();
      return a !== null && b !== null && a.height > 100 && b.y >= a.y + a.height - 1;
    };
    await expect.poll(below).toBe(true);
    await logs.getByRole("checkbox", { name: "Wrap lines" }).check();
    await expect.poll(below).toBe(true);
    await logs.scrollIntoViewIfNeeded();
    await screenshot(page, "run-logs-failed-dark");
  }, 60_000);

  test("1,000 lines a second: the viewer keeps up and ends with every line", async () => {
    const runId = await launch(dev, "logs/burst");
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const { lines } = await openRun(page, dev, runId);
    await waitForStatus(dev, runId, "SUCCESS", 60_000);
    const events = await eventsOf(dev, runId);
    expect(events.filter((e) => e.type === "log").length).toBe(5_000);
    await expect.poll(() => rowCount(lines), { timeout: 10_000 }).toBe(events.length);
    // the tail was followed to the end
    await expect.poll(() => inView(rowWith(lines, "run succeeded"))).toBe(true);
    expect(errorsOf(page)).toEqual([]);
  }, 60_000);

  test("a running run's lines arrive live, the tail followed until scrolled up; a dropped connection resumes with no gap or repeat", async () => {
    const runId = await launch(dev, "logs/slow");
    const proxy = await startProxy(dev.url);
    try {
      const page = await browser.newPage({ viewport: { width: 1024, height: 700 }, colorScheme: "dark" });
      const { logs, lines } = await openRun(page, { ...dev, url: proxy.url }, runId);
      await logs.scrollIntoViewIfNeeded();
      await expect.poll(() => rowCount(lines), { timeout: 20_000 }).toBeGreaterThan(5);
      const before = await rowCount(lines);
      await expect.poll(() => rowCount(lines), { timeout: 10_000 }).toBeGreaterThan(before + 5);
      expect(await runStatus(dev, runId)).toBe("STARTED");
      await logs.getByText("live", { exact: true }).waitFor();
      // following: the newest line is in view
      await expect
        .poll(async () => {
          const n = await rowCount(lines);
          const last = lines.locator(`tr[aria-rowindex="${n}"]`);
          return (await last.count()) === 1 && (await inView(last));
        })
        .toBe(true);

      // scrolled up: no longer followed, new lines counted on the way back
      // One wheel event can land before a busy page laid out the newest lines (seen once in a full
      // run): scroll again until the list says it stopped following, as a user would.
      await lines.hover();
      const jump = logs.getByRole("button", { name: /^Jump to latest/ });
      await expect
        .poll(
          async () => {
            await page.mouse.wheel(0, -300);
            return jump.isVisible();
          },
          { timeout: 10_000 },
        )
        .toBe(true);
      await expect
        .poll(async () => (await jump.textContent()) ?? "", { timeout: 10_000 })
        .toMatch(/\(\d+ new\)$/);
      await screenshot(page, "run-logs-live-dark-1024");
      await jump.click();
      await jump.waitFor({ state: "detached" });

      // the connection drops for a while; lines keep being written meanwhile
      proxy.cut();
      await logs.getByText("reconnecting…", { exact: true }).waitFor({ timeout: 10_000 });
      const cutAt = await rowCount(lines);
      await page.waitForTimeout(1_500);
      expect(await rowCount(lines)).toBe(cutAt);
      proxy.restore();
      await logs.getByText("live", { exact: true }).waitFor({ timeout: 20_000 });
      await expect.poll(() => rowCount(lines), { timeout: 10_000 }).toBeGreaterThan(cutAt + 5);

      await writeFile(release, "");
      await waitForStatus(dev, runId, "SUCCESS", 60_000);
      const events = await eventsOf(dev, runId);
      await expect.poll(() => rowCount(lines), { timeout: 30_000 }).toBe(events.length);
      const all = await download(page, logs.getByRole("button", { name: /^Download all/ }));
      const ticks = fileLines(all.text)
        .map((l) => /tick (\d+)$/.exec(l)?.[1])
        .filter((t) => t !== undefined)
        .map(Number);
      const logged = events.filter((e) => e.type === "log").length;
      expect(logged).toBeGreaterThan(cutAt);
      expect(ticks).toEqual(Array.from({ length: logged - 1 }, (_, i) => i));
      expect(fileLines(all.text).filter((l) => l.endsWith(" released")).length).toBe(1);
      await screenshot(page, "run-logs-live-done-dark-1024");
    } finally {
      await proxy.close();
    }
  }, 90_000);
});
