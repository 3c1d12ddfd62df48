// npm run bench:ui — the web UI in headless Chromium (playwright-core, /usr/bin/chromium) against
// the real webserver on synthetic definitions shaped like real lineage (1–3 upstreams per asset,
// ~90% inside its own group), published to a temp SQLite store (no workers). One JSON line per case;
// nothing is asserted: each line carries its `target`, and a case that cannot run prints `error`.
//
//   graph-1000            /graph, 1,000 assets in 10 groups, cold (fresh browser context)     ≤ 1 s
//   graph-5000-expanded   /graph?groups=expanded, 5,000 assets in 20 groups: cold ≤ 3 s, then the
//                         same context again (layouts cached in IndexedDB): warm ≤ 1 s
//   pan-zoom-5000         wheel zoom and drag across that graph: p95 requestAnimationFrame delta ≤ 33 ms
//   graph-10000-expanded  10,000 assets in 40 groups, cold ≤ 6 s
//   graph-2000-one-group  one group of 2,000 assets, cold (reported)
//   partitions-100000 / partitions-1000000: an asset page's "Partition health" bar, from the
//                         /partitions response arriving to the bar's aria-busy="false": ≤ 0.5 s / ≤ 1 s
//   initial-js            the app's initial JavaScript (index.html's module script and modulepreloads),
//                         gzipped, elk's worker excluded: ≤ 300 kB
// The operations pages (bench/ui-ops.ts; runs and events seeded through the storage API):
//   run-timeline-5000     /runs/<id> of a finished 5,000-step run (retries, failures, skips): from the
//                         GET /api/runs/<id> response's end to "Step timeline" ready ≤ 1 s (median of
//                         3 fresh contexts); the response's size and time reported
//   log-viewer-100000     /runs/<id> of a run with 100,000 log lines: "Logs" painted with lines ≤ 1 s
//                         after navigation (median of 3 fresh contexts); wheel scrolling "Log lines"
//                         with jumps to the end and the middle while the lines load, and again once
//                         aria-rowcount reached 100,000 (when: reported): p95 frame delta ≤ 33 ms
//   runs-list-100000      /runs over 100,000 stored runs, server warmed by one GET /api/runs, browser
//                         cold (median of 3 fresh contexts): table "Runs" painted with rows ≤ 0.3 s;
//                         also reported: a reload with the browser cache warm, a click on the nav link
//                         from the landing page, and the API's own p50 for that page (and a page deep
//                         in, and a status filter)
//   events-1000-per-second  a started run's page while 1,000 events/s are appended for 10 s (98% log
//                         lines): p95 frame delta, and the lag (events written − lines shown, sampled
//                         every second, 2 s of settling after): keepsUp = the final lag ≤ 0.5% of the
//                         events and the lag's max in the burst's 2nd half ≤ 1.5 × the 1st half's + 250
//
// "Ready" is what the UI contract says: the element named "Asset graph" (or "Partition health",
// "Step timeline", "Logs" with its "Log lines" holding at least one line, the table "Runs" with a
// run link in it) turns aria-busy="false" once laid out and painted; a MutationObserver installed
// before the app's scripts records performance.now() (ms since navigation start) at that moment.
// `npm run bench:ui` first builds every workspace, the UI into packages/ui/dist included; to time
// another build without touching that one: `npx tsx bench/ui.ts` with BENCH_UI_DIST.
// Options: BENCH_UI_CASES=graph-1000,initial-js (a subset), BENCH_CHROMIUM=/path/to/chromium,
// BENCH_UI_DIST=/path/to/dist (another build of the UI), BENCH_UI_SCREENSHOTS=1 (a PNG per case in
// tests/.artifacts/bench-ui/, taken once the case is timed).
import { readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { asset, defineDefinitions, hourlyPartitions } from "@baton/core";
import type { Browser, Page } from "playwright-core";
import { OPS_CASES, opsCases } from "./ui-ops.js";
import {
  bounded,
  type Instance,
  launch,
  newContext,
  pollPage,
  print,
  round,
  runCase,
  serve,
  snapshot,
  startFrames,
  stopFrames,
  syntheticAssets,
  UI_DIST,
  uiBuilt,
  wanted,
} from "./ui-support.js";

export { syntheticAssets };

/** The UI's URL parameter that expands every group (packages/ui/src/features/asset-graph). */
const EXPANDED = "groups=expanded";

/** Navigate and wait for the graph to be ready; seconds from navigation start. */
async function timeGraph(page: Page, url: string, timeoutMs: number, name: string): Promise<number> {
  await page.goto(url, { waitUntil: "commit", timeout: timeoutMs });
  const at = await pollPage<number>(page, "window.__batonBench?.graphReadyAt", timeoutMs, "Asset graph");
  await snapshot(page, name);
  return at / 1000;
}

// ---------------------------------------------------------------------------------------------
// Cases

/** The app's initial JavaScript: index.html's module scripts and modulepreloads, gzipped. */
function initialJs(): Record<string, unknown> {
  uiBuilt();
  const html = readFileSync(path.join(UI_DIST, "index.html"), "utf8");
  const files = new Set<string>();
  for (const tag of html.match(/<(?:script|link)\b[^>]*>/gi) ?? []) {
    const attr = (name: string) => new RegExp(`\\b${name}\\s*=\\s*["']([^"']+)["']`, "i").exec(tag)?.[1];
    const src = tag.startsWith("<script")
      ? attr("src")
      : attr("rel") === "modulepreload"
        ? attr("href")
        : undefined;
    if (src && !/^[a-z]+:\/\//i.test(src) && !/elk.*worker|worker.*elk/i.test(src)) files.add(src);
  }
  if (files.size === 0) throw new Error("no script in packages/ui/dist/index.html");
  let raw = 0;
  let gz = 0;
  for (const file of files) {
    const bytes = readFileSync(path.join(UI_DIST, file.replace(/^\//, "").split(/[?#]/)[0]!));
    raw += bytes.length;
    gz += gzipSync(bytes, { level: 9 }).length;
  }
  return { files: files.size, rawKb: round(raw / 1024, 1), kb: round(gz / 1024, 1), target: 300 };
}

async function graphCases(browser: Browser) {
  // 1,000 assets in 10 groups, default view, cold.
  if (wanted("graph-1000")) {
    const served = await serve(defineDefinitions({ assets: syntheticAssets(1_000, 10) }));
    try {
      await runCase({ case: "graph-1000", assets: 1_000, groups: 10, cache: "cold" }, async () => {
        const context = await newContext(browser);
        try {
          const seconds = await timeGraph(
            await context.newPage(),
            `${served.url}/graph`,
            30_000,
            "graph-1000",
          );
          return { seconds: round(seconds), target: 1 };
        } finally {
          await context.close();
        }
      });
    } finally {
      await served.close();
    }
  }

  // 5,000 assets in 20 groups, all expanded: cold, warm (same context: cached layout), pan/zoom.
  if (wanted("graph-5000") || wanted("pan-zoom")) {
    const served = await serve(defineDefinitions({ assets: syntheticAssets(5_000, 20) }));
    const context = await newContext(browser);
    const url = `${served.url}/graph?${EXPANDED}`;
    try {
      let cold = false;
      const inputs = { assets: 5_000, groups: 20, expanded: true };
      await runCase({ case: "graph-5000-expanded", ...inputs, cache: "cold" }, async () => {
        const page = await context.newPage();
        const seconds = await timeGraph(page, url, 45_000, "graph-5000-expanded-cold");
        cold = true;
        await page.close();
        return { seconds: round(seconds), target: 3 };
      });
      let warmPage: Page | undefined;
      await runCase({ case: "graph-5000-expanded", ...inputs, cache: "warm" }, async () => {
        if (!cold) throw new Error("the cold load did not finish");
        warmPage = await context.newPage();
        const seconds = await timeGraph(warmPage, url, 30_000, "graph-5000-expanded-warm");
        return { seconds: round(seconds), target: 1 };
      });
      await runCase({ case: "pan-zoom-5000", ...inputs }, async () => {
        if (!warmPage) throw new Error("the graph did not load");
        const figures = await panZoom(warmPage);
        await snapshot(warmPage, "pan-zoom-5000");
        return figures;
      });
    } finally {
      await context.close();
      await served.close();
    }
  }

  for (const c of [
    { name: "graph-10000-expanded", assets: 10_000, groups: 40, timeoutMs: 60_000, target: 6 },
    { name: "graph-2000-one-group", assets: 2_000, groups: 1, timeoutMs: 45_000, target: undefined },
  ]) {
    if (!wanted(c.name)) continue;
    const served = await serve(defineDefinitions({ assets: syntheticAssets(c.assets, c.groups) }));
    try {
      await runCase(
        { case: c.name, assets: c.assets, groups: c.groups, expanded: true, cache: "cold" },
        async () => {
          const context = await newContext(browser);
          try {
            const seconds = await timeGraph(
              await context.newPage(),
              `${served.url}/graph?${EXPANDED}`,
              c.timeoutMs,
              c.name,
            );
            return { seconds: round(seconds), ...(c.target !== undefined ? { target: c.target } : {}) };
          } finally {
            await context.close();
          }
        },
      );
    } finally {
      await served.close();
    }
  }
}

/** Wheel zoom and drags across the graph while the page records requestAnimationFrame deltas. */
async function panZoom(page: Page): Promise<Record<string, unknown>> {
  const viewport = page.viewportSize() ?? { width: 1440, height: 900 };
  const cx = viewport.width / 2;
  const cy = viewport.height / 2;
  // Every drag comes back to where it started and every zoom in is undone: the view stays on
  // the graph (fit to screen, then closer in), never wandering off to an empty, cheap viewport.
  const dragLoop = async () => {
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx - 400, cy - 200, { steps: 25 });
    await page.mouse.move(cx + 400, cy + 200, { steps: 40 });
    await page.mouse.move(cx, cy, { steps: 20 });
    await page.mouse.up();
  };
  const wheel = async (clicks: number, deltaY: number) => {
    for (let i = 0; i < clicks; i++) {
      await page.mouse.wheel(0, deltaY);
      await page.waitForTimeout(30);
    }
  };
  await startFrames(page);
  const t0 = performance.now();
  await page.mouse.move(cx, cy);
  for (let round = 0; round < 2; round++) {
    await dragLoop(); // the whole graph
    await wheel(8, -120); // zoom in
    await dragLoop();
    await wheel(6, -120); // closer: full node renderings
    await dragLoop();
    await wheel(14, 120); // back out to the whole graph
  }
  const frames = await stopFrames(page);
  return {
    frames: frames.frames,
    interactSeconds: round((performance.now() - t0) / 1000, 1),
    p50FrameMs: frames.p50FrameMs,
    p95FrameMs: frames.p95FrameMs,
    maxFrameMs: frames.maxFrameMs,
    target: 33,
  };
}

const START = Date.UTC(2000, 0, 1);
const PARTITIONED = [100_000, 1_000_000].map((partitions) => ({
  key: `metrics/hourly_${partitions >= 1_000_000 ? `${partitions / 1_000_000}m` : `${partitions / 1000}k`}`,
  partitions,
  definition: hourlyPartitions({ start: new Date(START), end: new Date(START + partitions * 3_600_000) }),
}));

/**
 * 1,000 status ranges: 500 blocks of 100 materialized partitions spread evenly, each followed by a
 * missing gap (what the bar draws depends on the ranges and the total, not on how many events).
 */
async function seedPartitions(instance: Instance) {
  const storage = instance.storage;
  await storage.createRun({
    runId: "bench-seed",
    status: "QUEUED",
    selection: "seed",
    assetKeys: PARTITIONED.map((p) => p.key),
    config: {},
    tags: {},
    createdAt: Date.now(),
  });
  for (const p of PARTITIONED) {
    const def = p.definition;
    const space = def.resolve({ now: Date.now(), dynamicKeys: () => [] });
    await storage.syncPartitionsDefinition(p.key, def.fingerprint, (k) => space.indexOf(k));
    const stride = p.partitions / 500;
    let batch: Parameters<typeof storage.appendEvents>[0][number][] = [];
    for (let b = 0; b < 500; b++) {
      for (let j = 0; j < 100; j++) {
        const index = b * stride + j;
        batch.push({
          type: "materialization",
          runId: "bench-seed",
          timestamp: Date.now(),
          stepKey: p.key,
          assetKey: p.key,
          metadata: {},
          partition: space.keyAt(index),
          partitionIndex: index,
        });
      }
      if (batch.length >= 50_000) {
        await storage.appendEvents(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await storage.appendEvents(batch);
  }
}

async function partitionCases(browser: Browser) {
  if (!PARTITIONED.some((p) => wanted(`partitions-${p.partitions}`))) return;
  const definitions = defineDefinitions({
    assets: [
      ...syntheticAssets(50, 2),
      ...PARTITIONED.map((p) =>
        asset({ key: p.key, group: "metrics", partitions: p.definition }, async () => 1),
      ),
    ],
  });
  const t0 = performance.now();
  const served = await serve(definitions, seedPartitions);
  const seedSeconds = round((performance.now() - t0) / 1000, 1);
  try {
    for (const p of PARTITIONED) {
      const target = p.partitions >= 1_000_000 ? 1 : 0.5;
      await runCase(
        { case: `partitions-${p.partitions}`, partitions: p.partitions, ranges: 1000 },
        async () => {
          const context = await newContext(browser);
          try {
            const page = await context.newPage();
            await page.goto(`${served.url}/assets/${p.key}`, { waitUntil: "commit", timeout: 30_000 });
            await pollPage(page, "window.__batonBench?.partitionsReadyAt", 30_000, "Partition health");
            await snapshot(page, `partitions-${p.partitions}`);
            const t = (await page.evaluate(`(() => {
            const ready = window.__batonBench.partitionsReadyAt;
            const responses = performance
              .getEntriesByType("resource")
              .filter((e) => /\\/api\\/assets\\/[^?]+\\/partitions$/.test(new URL(e.name).pathname) && e.responseEnd <= ready);
            const last = responses.at(-1);
            return last ? { ready, responseEnd: last.responseEnd, bytes: last.encodedBodySize } : { ready };
          })()`)) as { ready: number; responseEnd?: number; bytes?: number };
            if (t.responseEnd === undefined)
              throw new Error("the bar was ready before any /partitions response arrived");
            return {
              seconds: round((t.ready - t.responseEnd) / 1000),
              sinceNavigationSeconds: round(t.ready / 1000),
              responseKb: t.bytes !== undefined ? round(t.bytes / 1024, 1) : undefined,
              seedSeconds,
              target,
            };
          } finally {
            await context.close();
          }
        },
      );
    }
  } finally {
    await served.close();
  }
}

// ---------------------------------------------------------------------------------------------

const started = performance.now();
await runCase({ case: "initial-js" }, async () => initialJs());
let browser: Browser | undefined;
try {
  uiBuilt();
  browser = await bounded("launching Chromium", 30_000, launch());
} catch (error) {
  const message = (error as Error).message;
  for (const c of [
    "graph-1000",
    "graph-5000-expanded",
    "pan-zoom-5000",
    "graph-10000-expanded",
    "graph-2000-one-group",
    "partitions-100000",
    "partitions-1000000",
    ...OPS_CASES,
  ])
    if (wanted(c)) print({ case: c, error: message });
}
if (browser) {
  try {
    await graphCases(browser);
    await partitionCases(browser);
    await opsCases(browser);
  } finally {
    await browser.close();
  }
}
console.error(`bench:ui: ${((performance.now() - started) / 1000).toFixed(0)} s`);
