// bench:ui's cases for the operations pages (issue 11): a 5,000-step run's timeline, a
// 100,000-line log, the runs list over 100,000 runs, and a run page taking 1,000 events a
// second. Described in bench/ui.ts's header; run from there (BENCH_UI_CASES selects).
//
// Everything is seeded through the storage API (`createRuns`, `appendEvents`), so the rows and
// events are exactly what a run writes, and the API's answers (run status, start and end times,
// the run summary's per-attempt spans) come from them as they would in production.
import { type AssetDefinition, defineDefinitions, type RunEvent } from "@baton/core";
import type { Browser, BrowserContext, Page } from "playwright-core";
import {
  bounded,
  type Instance,
  newContext,
  pollPage,
  prng,
  quantile,
  round,
  runCase,
  type Served,
  serve,
  snapshot,
  startFrames,
  stopFrames,
  syntheticAssets,
  wanted,
  watchInit,
} from "./ui-support.js";

export const OPS_CASES = [
  "run-timeline-5000",
  "log-viewer-100000",
  "runs-list-100000",
  "events-1000-per-second",
] as const;

export async function opsCases(browser: Browser) {
  await runTimelineCase(browser);
  await logViewerCase(browser);
  await runsListCase(browser);
  await liveEventsCase(browser);
}

// ---------------------------------------------------------------------------------------------
// Helpers

type Storage = Instance["storage"];
type NewRun = Parameters<Storage["createRuns"]>[0][number];

/** Resources a case opened, closed when it ends (also when `bounded` gives up on it). */
class Scope {
  private readonly cleanups: (() => Promise<unknown>)[] = [];
  defer(fn: () => Promise<unknown>) {
    this.cleanups.push(fn);
  }
  async serve(...args: Parameters<typeof serve>): Promise<Served> {
    const served = await serve(...args);
    this.defer(() => served.close());
    return served;
  }
  async context(browser: Browser, ...before: string[]): Promise<BrowserContext> {
    const context = await newContext(browser, ...before);
    this.defer(() => context.close());
    return context;
  }
  async close() {
    for (const fn of this.cleanups.reverse()) await fn().catch(() => undefined);
    this.cleanups.length = 0;
  }
}

/** `body` bounded by `ms` (the bench never hangs); whatever it opened is closed either way. */
async function scoped<T>(what: string, ms: number, body: (scope: Scope) => Promise<T>): Promise<T> {
  const scope = new Scope();
  try {
    return await bounded(what, ms, body(scope));
  } finally {
    await scope.close();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => round(ms / 1000);
const secondsSince = (t0: number) => round((performance.now() - t0) / 1000, 1);

/** Append in transactions of `size` events (sorted by time first: log ids follow the clock). */
async function appendSorted(storage: Storage, events: RunEvent[], size = 5_000) {
  events.sort((a, b) => a.timestamp - b.timestamp);
  for (let i = 0; i < events.length; i += size) await storage.appendEvents(events.slice(i, i + size));
}

function stepError(key: string, attempt: number) {
  return {
    name: "Error",
    message: `connection reset while writing ${key} (attempt ${attempt})`,
    stack: `Error: connection reset while writing ${key}\n    at write (warehouse.ts:88:11)\n    at materialize (assets.ts:41:5)`,
  };
}

const keysOf = (defs: readonly AssetDefinition<number>[]) => defs.map((d) => d.spec.key);

/** GET `url` `n` times one after another (warm keep-alive): p50 and p95 in ms, and the last body. */
async function timeApi(
  url: string,
  n: number,
): Promise<{ p50: number; p95: number; bytes: number; body: unknown }> {
  const times: number[] = [];
  let text = "";
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const response = await fetch(url);
    text = await response.text();
    times.push(performance.now() - t0);
    if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${text.slice(0, 200)}`);
  }
  return {
    p50: round(quantile(times, 0.5), 1),
    p95: round(quantile(times, 0.95), 1),
    bytes: Buffer.byteLength(text),
    body: JSON.parse(text),
  };
}

/** Why a readiness wait failed, in the page's terms (no such element, still busy, …). */
async function explain(page: Page, names: readonly string[]): Promise<string> {
  const found = (await page.evaluate(`(${JSON.stringify(names)}).map((name) => {
    const el = window.__batonBench?.find(name);
    return [name, el ? { busy: el.getAttribute("aria-busy"), rows: el.getAttribute("aria-rowcount") } : null];
  })`)) as [string, { busy: string | null; rows: string | null } | null][];
  const heading = (await page.evaluate(`document.querySelector("h1")?.textContent ?? ""`)) as string;
  const states = found.map(([n, s]) =>
    s
      ? `"${n}" aria-busy=${s.busy ?? "(none)"} aria-rowcount=${s.rows ?? "(none)"}`
      : `no element named "${n}"`,
  );
  return `${states.join("; ")} (h1: "${heading.trim().slice(0, 80)}")`;
}

/** Navigate and wait until `name` is ready by the contract; ms since navigation start. */
async function readyAfterNavigation(
  page: Page,
  url: string,
  name: string,
  timeoutMs: number,
): Promise<number> {
  await page.goto(url, { waitUntil: "commit", timeout: timeoutMs });
  try {
    return await pollPage<number>(
      page,
      `window.__batonBench?.ready?.[${JSON.stringify(name)}]`,
      timeoutMs,
      `"${name}"`,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}: ${await explain(page, [name, "Log lines"])}`);
  }
}

/** The "Log lines" element's aria-rowcount now (NaN when missing). */
async function logRows(page: Page): Promise<number> {
  return (await page.evaluate(
    `Number(window.__batonBench?.find("Log lines")?.getAttribute("aria-rowcount") ?? NaN)`,
  )) as number;
}

// ---------------------------------------------------------------------------------------------
// run-timeline-5000

/**
 * A finished 5,000-step run as the executor would have written it: steps in dependency order on
 * 16 slots, 200 ms–20 s each; ~3% retried once (step_retrying, then success), a few failing near
 * the end of the last groups with their downstream steps skipped (cause named), one log line and a
 * materialization per succeeded step; run_failed with the executor's reason.
 */
async function seedTimelineRun(storage: Storage, defs: readonly AssetDefinition<number>[], runId: string) {
  const rand = prng(11);
  const keys = keysOf(defs);
  const index = new Map(keys.map((k, i) => [k, i]));
  const deps = defs.map((d) => d.spec.deps.map((k) => index.get(k)!));
  const t0 = Date.now() - 3 * 3_600_000;
  await storage.createRun({
    runId,
    status: "QUEUED",
    selection: "*",
    assetKeys: keys,
    config: {},
    tags: { "baton/launched-by": "bench" },
    createdAt: t0 - 4_000,
  });
  const events: RunEvent[] = [
    {
      type: "run_started",
      runId,
      timestamp: t0,
      steps: keys.map((k) => ({ stepKey: k, kind: "asset" as const, assetKeys: [k] })),
    },
  ];
  const slots = new Array<number>(16).fill(t0 + 20);
  const end = new Array<number>(keys.length);
  const outcome = new Array<"succeeded" | "failed" | "skipped">(keys.length);
  const counts = { succeeded: 0, failed: 0, skipped: 0, retried: 0 };
  const perGroup = keys.length / 20;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const ready = Math.max(t0 + 20, ...deps[i]!.map((d) => end[d]!));
    const blocker = deps[i]!.find((d) => outcome[d] !== "succeeded");
    if (blocker !== undefined) {
      const upstream = keys[blocker]!;
      events.push({
        type: "step_skipped",
        runId,
        timestamp: ready,
        stepKey: key,
        assetKeys: [key],
        reason:
          outcome[blocker] === "failed"
            ? `upstream step "${upstream}" failed`
            : `upstream step "${upstream}" was skipped`,
        cause: upstream,
      });
      end[i] = ready;
      outcome[i] = "skipped";
      counts.skipped++;
      continue;
    }
    let slot = 0;
    for (let s = 1; s < slots.length; s++) if (slots[s]! < slots[slot]!) slot = s;
    const start = Math.max(ready, slots[slot]!) + 5 + Math.floor(rand() * 40);
    const duration = Math.round(200 * 100 ** rand());
    events.push({
      type: "step_started",
      runId,
      timestamp: start,
      stepKey: key,
      kind: "asset",
      assetKeys: [key],
      attempt: 1,
    });
    events.push({
      type: "log",
      runId,
      timestamp: start + Math.floor(duration * 0.3),
      stepKey: key,
      level: "info",
      source: "logger",
      message: `materializing ${key}`,
    });
    const r = rand();
    // Failures only near the end (the last 4% of the last 3 groups): a tail of skips, not most
    // of the run (lineage crosses groups, so an early failure would skip thousands).
    const fails = i >= perGroup * 17 && i % perGroup >= perGroup * 0.96 && r < 0.3;
    let finish = start + duration;
    if (!fails && r > 0.97) {
      const failedAt = start + Math.floor(duration / 2);
      events.push({
        type: "step_retrying",
        runId,
        timestamp: failedAt,
        stepKey: key,
        attempt: 2,
        delayMs: 2_000,
        error: stepError(key, 1),
      });
      finish = failedAt + 2_000 + Math.round(200 * 100 ** rand());
      counts.retried++;
    }
    if (fails) {
      events.push({
        type: "step_failed",
        runId,
        timestamp: finish,
        stepKey: key,
        assetKeys: [key],
        durationMs: finish - start,
        attempt: 1,
        error: stepError(key, 1),
      });
      outcome[i] = "failed";
      counts.failed++;
    } else {
      events.push({
        type: "materialization",
        runId,
        timestamp: finish - 1,
        stepKey: key,
        assetKey: key,
        metadata: { rows: { type: "row_count", value: Math.floor(rand() * 1e6) } },
      });
      events.push({
        type: "step_succeeded",
        runId,
        timestamp: finish,
        stepKey: key,
        durationMs: finish - start,
      });
      outcome[i] = "succeeded";
      counts.succeeded++;
    }
    end[i] = finish;
    slots[slot] = finish;
  }
  const last = Math.max(...end) + 50;
  events.push({
    type: "run_failed",
    runId,
    timestamp: last,
    reason: [
      counts.failed && `${counts.failed} step${counts.failed === 1 ? "" : "s"} failed`,
      counts.skipped && `${counts.skipped} skipped`,
    ]
      .filter(Boolean)
      .join(", "),
  });
  await appendSorted(storage, events);
  return { ...counts, events: events.length, runMinutes: round((last - t0) / 60_000, 1) };
}

async function runTimelineCase(browser: Browser) {
  const name = "run-timeline-5000";
  if (!wanted(name)) return;
  await runCase({ case: name, steps: 5_000 }, () =>
    scoped(name, 180_000, async (scope) => {
      const defs = syntheticAssets(5_000, 20, 7);
      const runId = "00000000-0000-4000-8000-timeline5000";
      let seeded: Awaited<ReturnType<typeof seedTimelineRun>> | undefined;
      const t0 = performance.now();
      const served = await scope.serve(defineDefinitions({ assets: defs }), async (instance) => {
        seeded = await seedTimelineRun(instance.storage, defs, runId);
      });
      const seedSeconds = secondsSince(t0);
      // The API's answer, checked: every step, every attempt span, the run's outcome.
      const api = await timeApi(`${served.url}/api/runs/${runId}`, 5);
      const detail = api.body as {
        run: { status: string };
        summary: { steps: { status: string; attemptSpans: unknown[] }[] };
      };
      const spans = detail.summary.steps.reduce((n, s) => n + s.attemptSpans.length, 0);
      const expectedSpans = seeded!.succeeded + seeded!.failed + seeded!.retried;
      if (detail.summary.steps.length !== 5_000 || spans !== expectedSpans || detail.run.status !== "FAILURE")
        throw new Error(
          `seeded run reads back wrong: ${detail.summary.steps.length} steps, ${spans} spans (expected ${expectedSpans}), ${detail.run.status}`,
        );

      // Three fresh browser contexts (the machine is noisy): the median, and each one.
      type Timing = { ready: number; responseEnd?: number; start?: number; bytes?: number; decoded?: number };
      const timings: Timing[] = [];
      for (let i = 0; i < 3; i++) {
        const context = await scope.context(browser, watchInit(["Step timeline"]));
        const page = await context.newPage();
        await readyAfterNavigation(page, `${served.url}/runs/${runId}`, "Step timeline", 30_000);
        if (i === 0) await snapshot(page, name);
        const t = (await page.evaluate(`(() => {
          const ready = window.__batonBench.ready["Step timeline"];
          const responses = performance
            .getEntriesByType("resource")
            .filter((e) => new URL(e.name).pathname === "/api/runs/${runId}" && e.responseEnd <= ready);
          const last = responses.at(-1);
          return last
            ? { ready, responseEnd: last.responseEnd, start: last.startTime, bytes: last.encodedBodySize, decoded: last.decodedBodySize }
            : { ready };
        })()`)) as Timing;
        await context.close();
        if (t.responseEnd === undefined)
          throw new Error(`"Step timeline" was ready before any GET /api/runs/${runId} response arrived`);
        timings.push(t);
      }
      const after = timings.map((t) => t.ready - t.responseEnd!);
      const median = timings[after.indexOf(quantile(after, 0.5))]!;
      return {
        seconds: seconds(quantile(after, 0.5)),
        samples: after.map(seconds),
        sinceNavigationSeconds: seconds(median.ready),
        responseSeconds: seconds(median.responseEnd! - median.start!),
        responseKb: round(median.bytes! / 1024, 1),
        responseDecodedKb: round(median.decoded! / 1024, 1),
        apiP50Ms: api.p50,
        attemptSpans: spans,
        ...seeded,
        seedSeconds,
        target: 1,
      };
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// log-viewer-100000

const WORDS =
  "rows written partition batch upstream loaded parsed checksum schema column nulls duration warehouse file chunk retry commit".split(
    " ",
  );

/** A log line as a step would print it: mostly short, some long (a JSON dump), a few multi-line. */
function logLine(
  rand: () => number,
  i: number,
): {
  level: "info" | "warn" | "error";
  source: "logger" | "stdout" | "stderr";
  message: string;
  fields?: Record<string, unknown>;
} {
  const r = rand();
  const words = Array.from(
    { length: 4 + Math.floor(rand() * 10) },
    () => WORDS[Math.floor(rand() * WORDS.length)]!,
  );
  let message = `${words.join(" ")} #${i}`;
  if (rand() < 0.01)
    message += ` ${JSON.stringify(Array.from({ length: 20 + Math.floor(rand() * 80) }, (_, k) => ({ column: `c${k}`, nulls: Math.floor(rand() * 100) })))}`;
  if (r < 0.03)
    return {
      level: "error",
      source: rand() < 0.5 ? "stderr" : "logger",
      message: `${message}\nError: write failed\n    at write (warehouse.ts:88:11)\n    at materialize (assets.ts:41:5)`,
    };
  if (r < 0.15) return { level: "warn", source: "logger", message };
  if (r < 0.25) return { level: "info", source: "stdout", message };
  return rand() < 0.1
    ? { level: "info", source: "logger", message, fields: { rows: Math.floor(rand() * 1e5), batch: i } }
    : { level: "info", source: "logger", message };
}

/** A finished run of 20 steps with `lines` log lines between them (info, warn, error; stdout/stderr). */
async function seedLogRun(storage: Storage, keys: readonly string[], runId: string, lines: number) {
  const rand = prng(5);
  const t0 = Date.now() - 3_600_000;
  await storage.createRun({
    runId,
    status: "QUEUED",
    selection: keys.join(","),
    assetKeys: keys,
    config: {},
    tags: { "baton/launched-by": "bench" },
    createdAt: t0 - 2_000,
  });
  const events: RunEvent[] = [
    {
      type: "run_started",
      runId,
      timestamp: t0,
      steps: keys.map((k) => ({ stepKey: k, kind: "asset" as const, assetKeys: [k] })),
    },
  ];
  const perStep = Math.ceil(lines / keys.length);
  let t = t0 + 10;
  let written = 0;
  for (const key of keys) {
    events.push({
      type: "step_started",
      runId,
      timestamp: t,
      stepKey: key,
      kind: "asset",
      assetKeys: [key],
      attempt: 1,
    });
    const started = t;
    for (let j = 0; j < perStep && written < lines; j++, written++) {
      t += 1 + Math.floor(rand() * 30);
      const line = logLine(rand, written);
      events.push({ type: "log", runId, timestamp: t, ...(rand() < 0.02 ? {} : { stepKey: key }), ...line });
    }
    t += 5;
    events.push({ type: "materialization", runId, timestamp: t, stepKey: key, assetKey: key, metadata: {} });
    events.push({
      type: "step_succeeded",
      runId,
      timestamp: t + 1,
      stepKey: key,
      durationMs: t + 1 - started,
    });
    t += 10;
  }
  events.push({ type: "run_succeeded", runId, timestamp: t });
  await appendSorted(storage, events, 10_000);
  return events.length;
}

/** The element that scrolls "Log lines" (itself, a descendant or an ancestor), as a page expression. */
const LOG_SCROLLER = `(() => {
  const lines = window.__batonBench.find("Log lines");
  const scrolls = (e) => e && e.scrollHeight > e.clientHeight + 1 && /(auto|scroll)/.test(getComputedStyle(e).overflowY);
  if (scrolls(lines)) return { el: lines, which: "Log lines" };
  const inside = [...lines.querySelectorAll("*")].find(scrolls);
  if (inside) return { el: inside, which: "inside Log lines" };
  for (let e = lines.parentElement; e; e = e.parentElement) if (scrolls(e)) return { el: e, which: "around Log lines" };
  return { el: document.scrollingElement, which: "the page" };
})()`;

async function logViewerCase(browser: Browser) {
  const name = "log-viewer-100000";
  if (!wanted(name)) return;
  const LINES = 100_000;
  await runCase({ case: name, lines: LINES }, () =>
    scoped(name, 300_000, async (scope) => {
      const defs = syntheticAssets(50, 2, 3);
      const runId = "00000000-0000-4000-8000-logs00100000";
      let events = 0;
      const t0 = performance.now();
      const served = await scope.serve(defineDefinitions({ assets: defs }), async (instance) => {
        events = await seedLogRun(instance.storage, keysOf(defs).slice(0, 20), runId, LINES);
      });
      const seedSeconds = secondsSince(t0);
      // The API's pages of 5,000 (log lines only, and every event), checked and timed.
      const logsPage = await timeApi(`${served.url}/api/runs/${runId}/logs?limit=5000`, 3);
      const eventsPage = await timeApi(`${served.url}/api/runs/${runId}/events?limit=5000`, 3);
      const runDetail = await timeApi(`${served.url}/api/runs/${runId}`, 5);
      for (const [what, page] of [
        ["logs", logsPage.body],
        ["events", eventsPage.body],
      ] as const) {
        const { nextAfter, ...rest } = page as { nextAfter: number | null } & Record<string, unknown[]>;
        const items = Object.values(rest)[0] ?? [];
        if (items.length !== 5_000 || nextAfter === null)
          throw new Error(`GET /${what}?limit=5000 answered ${items.length} items, nextAfter ${nextAfter}`);
      }

      // First paint in three fresh contexts (the machine is noisy; the median is the figure):
      // two closed once painted, the third one scrolled and left to load every line.
      const paints: number[] = [];
      for (let i = 0; i < 2; i++) {
        const context = await scope.context(browser, watchInit(["Logs"]));
        const page = await context.newPage();
        paints.push(await readyAfterNavigation(page, `${served.url}/runs/${runId}`, "Logs", 30_000));
        await context.close();
      }
      const context = await scope.context(browser, watchInit(["Logs"], LINES));
      const page = await context.newPage();
      paints.push(await readyAfterNavigation(page, `${served.url}/runs/${runId}`, "Logs", 30_000));
      const rowsAtPaint = await logRows(page);
      // Where the last paint's time went: the run's answer, the first page of lines.
      const answered = (await page.evaluate(`(() => {
        const entries = performance.getEntriesByType("resource");
        const at = (re) => entries.find((e) => re.test(new URL(e.name).pathname));
        const run = at(/^\\/api\\/runs\\/[^/]+$/);
        const logs = at(/^\\/api\\/runs\\/[^/]+\\/(logs|events)$/);
        return { run: run?.responseEnd, logs: logs?.responseEnd, logsUrl: logs ? new URL(logs.name).pathname + new URL(logs.name).search : undefined };
      })()`)) as { run?: number; logs?: number; logsUrl?: string };

      // Scroll as a reader would: wheel down through the lines, jump to the end, wheel back up,
      // jump to the middle and wheel on; frame deltas recorded throughout.
      const box = (await page.evaluate(`(() => {
        const r = window.__batonBench.find("Log lines").getBoundingClientRect();
        return { x: r.x + r.width / 2, y: r.y + Math.min(r.height / 2, 300) };
      })()`)) as { x: number; y: number };
      await page.mouse.move(box.x, box.y);
      const wheel = async (clicks: number, deltaY: number) => {
        for (let i = 0; i < clicks; i++) {
          await page.mouse.wheel(0, deltaY);
          await page.waitForTimeout(30);
        }
      };
      /** Jump the scroller to the end or the middle; where it scrolled and the line rows there. */
      const jump = (to: "end" | "middle") =>
        page.evaluate(`(() => {
          const { el, which } = ${LOG_SCROLLER};
          el.scrollTop = ${to === "end" ? "el.scrollHeight" : "el.scrollHeight / 2"};
          return { which, scrollTop: Math.round(el.scrollTop), scrollHeight: el.scrollHeight };
        })()`) as Promise<{ which: string; scrollTop: number; scrollHeight: number }>;
      const scroll = async () => {
        await startFrames(page);
        const t1 = performance.now();
        await wheel(40, 400);
        const atEnd = await jump("end");
        await page.waitForTimeout(300);
        await wheel(30, -400);
        await jump("middle");
        await page.waitForTimeout(300);
        await wheel(30, 400);
        return { ...(await stopFrames(page)), seconds: secondsSince(t1), atEnd };
      };
      // Once while the lines are still loading (as a reader would right after the first paint),
      // then again once every line is in.
      const { atEnd, seconds: scrollSeconds, ...frames } = await scroll();
      await snapshot(page, name);
      let allRows: number | undefined;
      try {
        allRows = await pollPage<number>(page, "window.__batonBench.rowsAt", 120_000, "all lines");
      } catch {
        allRows = undefined;
      }
      const loaded = allRows === undefined ? undefined : await scroll();
      return {
        firstPaintSeconds: seconds(quantile(paints, 0.5)),
        firstPaintSamples: paints.map(seconds),
        firstPaintTarget: 1,
        rowsAtFirstPaint: rowsAtPaint,
        runAnsweredSeconds: answered.run === undefined ? null : seconds(answered.run),
        firstLinesAnsweredSeconds: answered.logs === undefined ? null : seconds(answered.logs),
        firstLinesRequest: answered.logsUrl ?? null,
        ...frames,
        scrollSeconds,
        loadedP50FrameMs: loaded?.p50FrameMs ?? null,
        loadedP95FrameMs: loaded?.p95FrameMs ?? null,
        loadedMaxFrameMs: loaded?.maxFrameMs ?? null,
        scroller: atEnd.which,
        scrollHeightPx: atEnd.scrollHeight,
        frameTarget: 33,
        allLinesSeconds: allRows === undefined ? null : seconds(allRows),
        rowcount: await logRows(page),
        runApiP50Ms: runDetail.p50,
        logsApiP50Ms: logsPage.p50,
        eventsApiP50Ms: eventsPage.p50,
        eventsPageKb: round(eventsPage.bytes / 1024, 1),
        events,
        seedSeconds,
      };
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// runs-list-100000

/**
 * `count` runs, one a minute up to now, newest last: mostly ended (SUCCESS 86%, FAILURE 9%,
 * CANCELED 2%), launched by tokens, a sensor, an hourly schedule (with its partition) or a
 * backfill; the newest 8 running and 6 queued. Created and then started and ended through
 * `appendEvents`, in transactions of 5,000 runs.
 */
async function seedRuns(storage: Storage, keys: readonly string[], count: number) {
  const rand = prng(3);
  const now = Date.now();
  const ids: string[] = [];
  for (let b = 0; b < count; b += 5_000) {
    const runs: NewRun[] = [];
    const events: RunEvent[] = [];
    for (let i = b; i < Math.min(count, b + 5_000); i++) {
      const createdAt = now - (count - i) * 60_000;
      const runId = `${(0x10000000 + i).toString(16)}-0000-4000-8000-${String(i).padStart(12, "0")}`;
      ids.push(runId);
      const r = rand();
      const start = Math.floor(rand() * (keys.length - 4));
      const assetKeys = keys.slice(start, start + 1 + Math.floor(rand() * 4));
      const hour = new Date(createdAt - 3_600_000).toISOString().slice(0, 13);
      const [tags, extra]: [Record<string, string>, Partial<NewRun>] =
        r < 0.25
          ? [{ "baton/sensor": "landing_files", "baton/file": `landing/trips_${i}.csv` }, {}]
          : r < 0.4
            ? [
                { "baton/schedule": "hourly_refresh", "baton/scheduled-time": `${hour}:00:00Z` },
                { partitions: { keys: [`${hour.replace("T", "-")}:00`], indices: [i] } },
              ]
            : r < 0.45
              ? [{ "baton/backfill": "bf-2026-11" }, { backfillId: "bf-2026-11" }]
              : [{ "baton/launched-by": rand() < 0.5 ? "ci" : "alice" }, {}];
      runs.push({
        runId,
        status: "QUEUED",
        selection: assetKeys.join(","),
        assetKeys,
        config: {},
        tags,
        createdAt,
        ...extra,
      });
      const fromEnd = count - i;
      if (fromEnd <= 6) continue; // queued
      events.push({
        type: "run_started",
        runId,
        timestamp: createdAt + 500,
        steps: assetKeys.map((k) => ({ stepKey: k, kind: "asset" as const, assetKeys: [k] })),
      });
      if (fromEnd <= 14) continue; // running
      const endedAt = createdAt + 500 + Math.round(1_000 * 100 ** rand());
      const o = rand();
      events.push(
        o < 0.86
          ? { type: "run_succeeded", runId, timestamp: endedAt }
          : o < 0.95
            ? { type: "run_failed", runId, timestamp: endedAt, reason: "1 step failed" }
            : o < 0.97
              ? { type: "run_canceled", runId, timestamp: endedAt, reason: "canceled by alice" }
              : { type: "run_succeeded", runId, timestamp: endedAt },
      );
    }
    await storage.createRuns(runs);
    await storage.appendEvents(events);
  }
  return ids;
}

async function runsListCase(browser: Browser) {
  const name = "runs-list-100000";
  if (!wanted(name)) return;
  const RUNS = 100_000;
  await runCase({ case: name, runs: RUNS, cache: "server warm, browser cold" }, () =>
    scoped(name, 360_000, async (scope) => {
      const defs = syntheticAssets(200, 4, 9);
      let ids: string[] = [];
      const t0 = performance.now();
      const served = await scope.serve(defineDefinitions({ assets: defs }), async (instance) => {
        ids = await seedRuns(instance.storage, keysOf(defs), RUNS);
      });
      const seedSeconds = secondsSince(t0);
      // Warm the server: one GET /api/runs, checked (newest first, the newest seeded run on top).
      const warm = await timeApi(`${served.url}/api/runs`, 1);
      const newest = (warm.body as { runs: { runId: string; status: string }[] }).runs[0];
      if (!newest || newest.runId !== ids.at(-1) || newest.status !== "QUEUED")
        throw new Error(`GET /api/runs: newest is ${JSON.stringify(newest)}, expected ${ids.at(-1)} QUEUED`);

      // Three cold browser contexts (the machine is noisy): each one's first page painted, and
      // where its time went (scripts loaded, the first /api/runs answer), all from navigation start.
      type Load = { ready: number; scriptsEnd: number; apiStart?: number; apiEnd?: number; limit?: string };
      const loads: Load[] = [];
      let browserWarm: number | undefined;
      for (let i = 0; i < 3; i++) {
        const context = await scope.context(browser, watchInit(["Runs"]));
        const page = await context.newPage();
        const ready = await readyAfterNavigation(page, `${served.url}/runs`, "Runs", 30_000);
        if (i === 0) await snapshot(page, name);
        const parts = (await page.evaluate(`(() => {
          const entries = performance.getEntriesByType("resource");
          const scripts = entries.filter((e) => e.initiatorType === "script" || /\\.js$/.test(new URL(e.name).pathname));
          const api = entries.find((e) => new URL(e.name).pathname === "/api/runs");
          return {
            scriptsEnd: Math.max(0, ...scripts.map((e) => e.responseEnd)),
            apiStart: api?.startTime,
            apiEnd: api?.responseEnd,
            limit: api ? new URL(api.name).searchParams.get("limit") ?? undefined : undefined,
          };
        })()`)) as Omit<Load, "ready">;
        loads.push({ ready, ...parts });
        // The last context again, its HTTP cache warm: a reload of /runs.
        if (i === 2) browserWarm = await readyAfterNavigation(page, `${served.url}/runs`, "Runs", 30_000);
        await context.close();
      }
      // As a user gets there: from the landing page (settled), a click on the nav link "Runs".
      const inApp = await (async () => {
        const context = await scope.context(browser, watchInit(["Runs"]));
        const page = await context.newPage();
        await page.goto(`${served.url}/`, { waitUntil: "load", timeout: 30_000 });
        await page.getByRole("link", { name: "Runs", exact: true }).first().waitFor({ timeout: 30_000 });
        await sleep(2_000);
        if (await page.evaluate("window.__batonBench.ready.Runs !== undefined"))
          throw new Error('the landing page already has an element named "Runs"');
        const clickedAt = (await page.evaluate(`(() => {
          const link = [...document.querySelectorAll("a")].find((a) => a.textContent.trim() === "Runs" && new URL(a.href).pathname === "/runs");
          const t = performance.now();
          link.click();
          return t;
        })()`)) as number;
        const ready = await pollPage<number>(
          page,
          "window.__batonBench.ready.Runs",
          30_000,
          '"Runs" after the click',
        );
        await context.close();
        return ready - clickedAt;
      })().catch((error: Error) => error.message.split("\n")[0]!);
      const readies = loads.map((l) => l.ready);
      const median = loads[readies.indexOf(quantile(readies, 0.5))]!;
      const limit = loads.map((l) => l.limit).find((l) => l !== undefined);
      // The API alone: the page's first page, and a page deep in the list (a cursor halfway).
      const pageSize = limit ? Number(limit) : 50;
      const first = await timeApi(`${served.url}/api/runs?limit=${pageSize}`, 30);
      const deep = await timeApi(`${served.url}/api/runs?limit=${pageSize}&cursor=${RUNS / 2}`, 30);
      const failed = await timeApi(`${served.url}/api/runs?limit=${pageSize}&status=FAILURE`, 30);
      return {
        seconds: seconds(median.ready),
        samples: readies.map(seconds),
        target: 0.3,
        scriptsLoadedSeconds: seconds(median.scriptsEnd),
        apiRequestSentSeconds: median.apiStart === undefined ? null : seconds(median.apiStart),
        apiAnsweredSeconds: median.apiEnd === undefined ? null : seconds(median.apiEnd),
        browserWarmSeconds: browserWarm === undefined ? null : seconds(browserWarm),
        inAppNavigationSeconds: typeof inApp === "number" ? seconds(inApp) : inApp,
        pageLimit: limit ? Number(limit) : null,
        apiP50Ms: first.p50,
        apiP95Ms: first.p95,
        apiCursorHalfwayP50Ms: deep.p50,
        apiStatusFailureP50Ms: failed.p50,
        apiPageKb: round(first.bytes / 1024, 1),
        seedSeconds,
      };
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// events-1000-per-second

async function liveEventsCase(browser: Browser) {
  const name = "events-1000-per-second";
  if (!wanted(name)) return;
  const RATE = 1_000;
  const BURST_MS = 10_000;
  await runCase({ case: name, rate: RATE, burstSeconds: BURST_MS / 1000 }, () =>
    scoped(name, 120_000, async (scope) => {
      const defs = syntheticAssets(200, 4, 13);
      const keys = keysOf(defs);
      const runId = "00000000-0000-4000-8000-live00001000";
      const rand = prng(17);
      const served = await scope.serve(defineDefinitions({ assets: defs }), async (instance) => {
        // A started run: its steps planned, the first 4 running, 200 lines so far.
        const t0 = Date.now() - 60_000;
        await instance.storage.createRun({
          runId,
          status: "QUEUED",
          selection: keys.join(","),
          assetKeys: keys,
          config: {},
          tags: { "baton/launched-by": "bench" },
          createdAt: t0 - 1_000,
        });
        const events: RunEvent[] = [
          {
            type: "run_started",
            runId,
            timestamp: t0,
            steps: keys.map((k) => ({ stepKey: k, kind: "asset" as const, assetKeys: [k] })),
          },
          ...keys.slice(0, 4).map(
            (k, i): RunEvent => ({
              type: "step_started",
              runId,
              timestamp: t0 + i,
              stepKey: k,
              kind: "asset",
              assetKeys: [k],
              attempt: 1,
            }),
          ),
        ];
        for (let i = 0; i < 200; i++)
          events.push({
            type: "log",
            runId,
            timestamp: t0 + 10 + i * 100,
            stepKey: keys[i % 4]!,
            ...logLine(rand, i),
          });
        await appendSorted(instance.storage, events);
      });
      const storage = served.instance.storage;

      const context = await scope.context(browser, watchInit(["Logs"]));
      const page = await context.newPage();
      await readyAfterNavigation(page, `${served.url}/runs/${runId}`, "Logs", 30_000);
      // Settled: the row count stable for a second (the live stream connected meanwhile).
      let baseline = await logRows(page);
      for (let stable = 0; stable < 4; ) {
        await sleep(250);
        const rows = await logRows(page);
        stable = rows === baseline ? stable + 1 : 0;
        baseline = rows;
      }
      await snapshot(page, `${name}-before`);

      // The burst: every 50 ms, the events due by then (98% log lines; the rest steps starting and
      // succeeding), each batch one appendEvents, as a busy run's workers would write them.
      let logs = 0;
      let all = 0;
      let issued = 0;
      let running = keys.slice(0, 4);
      let next = 4;
      const startedAt = new Map(running.map((k) => [k, Date.now() - 60_000]));
      const burst = async () => {
        const start = performance.now();
        for (;;) {
          const elapsed = performance.now() - start;
          const due = Math.min(RATE * (BURST_MS / 1000), Math.floor((elapsed / 1000) * RATE));
          const batch: RunEvent[] = [];
          let batchLogs = 0;
          const now = Date.now();
          for (; issued < due; issued++) {
            if (rand() < 0.02) {
              // A step ends (the oldest running) or the next one starts: ~6 at once.
              if ((running.length >= 6 || next >= keys.length) && running.length > 0) {
                const done = running[0]!;
                running = running.slice(1);
                batch.push({
                  type: "step_succeeded",
                  runId,
                  timestamp: now,
                  stepKey: done,
                  durationMs: now - startedAt.get(done)!,
                });
              } else if (next < keys.length) {
                const key = keys[next++]!;
                running = [...running, key];
                startedAt.set(key, now);
                batch.push({
                  type: "step_started",
                  runId,
                  timestamp: now,
                  stepKey: key,
                  kind: "asset",
                  assetKeys: [key],
                  attempt: 1,
                });
              }
            } else {
              batch.push({
                type: "log",
                runId,
                timestamp: now,
                ...(running.length > 0 ? { stepKey: running[Math.floor(rand() * running.length)]! } : {}),
                ...logLine(rand, 200 + logs + batchLogs),
              });
              batchLogs++;
            }
          }
          // Counted once stored: the lag is against what the page could have seen.
          if (batch.length > 0) await storage.appendEvents(batch);
          all += batch.length;
          logs += batchLogs;
          if (issued >= RATE * (BURST_MS / 1000)) return;
          await sleep(Math.max(0, 50 - ((performance.now() - start) % 50)));
        }
      };
      const samples: { t: number; logs: number; all: number; rows: number }[] = [];
      await startFrames(page);
      const t1 = performance.now();
      let writtenAt: number | undefined;
      const writer = burst().then(() => {
        writtenAt = performance.now();
      });
      let frames: Awaited<ReturnType<typeof stopFrames>> | undefined;
      for (let s = 1; s <= BURST_MS / 1000 + 2; s++) {
        await sleep(Math.max(0, t1 + s * 1000 - performance.now()));
        // Events written by the time the count came back (a conservative lag).
        const rows = (await logRows(page)) - baseline;
        samples.push({ t: s, logs, all, rows });
        if (s === BURST_MS / 1000) {
          await writer;
          frames = await stopFrames(page);
        }
      }
      await writer;
      const writeSeconds = round((writtenAt! - t1) / 1000, 1);
      await snapshot(page, `${name}-after`);
      const finalRows = samples.at(-1)!.rows;
      // Which events the viewer counts as lines: only log events, or every event (whichever the
      // settled count matches).
      const countsAll = Math.abs(finalRows - all) < Math.abs(finalRows - logs);
      const lag = samples.map((s) => (countsAll ? s.all : s.logs) - s.rows);
      const during = lag.slice(0, BURST_MS / 1000);
      const firstHalf = Math.max(...during.slice(0, during.length / 2));
      const secondHalf = Math.max(...during.slice(during.length / 2));
      const finalLag = lag.at(-1)!;
      return {
        ...(frames ?? {}),
        frameTarget: 33,
        eventsWritten: all,
        logLinesWritten: logs,
        linesCounted: countsAll ? "every event" : "log events",
        rowsAdded: finalRows,
        lagSeries: lag,
        finalLag,
        maxLag: Math.max(...lag),
        keepsUp: Math.abs(finalLag) <= 0.005 * all && secondHalf <= 1.5 * firstHalf + RATE / 4,
        writeSeconds,
      };
    }),
  );
}
