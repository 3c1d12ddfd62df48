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
//
// "Ready" is what the UI contract says: the element named "Asset graph" (or "Partition health")
// turns aria-busy="false" once laid out and painted; a MutationObserver installed before the app's
// scripts records performance.now() (ms since navigation start) at that moment.
// Options: BENCH_UI_CASES=graph-1000,initial-js (a subset), BENCH_CHROMIUM=/path/to/chromium,
// BENCH_UI_DIST=/path/to/dist (another build of the UI), BENCH_UI_SCREENSHOTS=1 (a PNG per case in
// tests/.artifacts/bench-ui/, taken once the case is timed).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import {
  type AssetDefinition,
  asset,
  type Definitions,
  defineDefinitions,
  hourlyPartitions,
  openInstance,
  publishSnapshot,
} from "@baton/core";
import { startWebserver } from "@baton/webserver";
import type { Browser, BrowserContext, Page } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** The built UI (BENCH_UI_DIST: another build, e.g. to compare two). */
const UI_DIST = path.resolve(process.env.BENCH_UI_DIST ?? path.join(ROOT, "packages/ui/dist"));
const CHROMIUM = process.env.BENCH_CHROMIUM ?? "/usr/bin/chromium";
const ONLY = process.env.BENCH_UI_CASES?.split(",").map((s) => s.trim());
const wanted = (name: string) => !ONLY || ONLY.some((c) => name.startsWith(c));
/** The UI's URL parameter that expands every group (packages/ui/src/features/asset-graph). */
const EXPANDED = "groups=expanded";

type Line = Record<string, unknown> & { case: string };
const print = (line: Line) => console.log(JSON.stringify({ bench: "ui", ...line }));
const round = (x: number, digits = 3) => +x.toFixed(digits);

/** Run one case; whatever goes wrong becomes a JSON line with `error` (the others still run). */
async function runCase(inputs: Line, fn: () => Promise<Record<string, unknown>>) {
  if (!wanted(inputs.case)) return;
  // The machine is shared: the 1-minute load average when the case started helps read its figure.
  const load1 = round(os.loadavg()[0]!, 1);
  try {
    print({ ...inputs, ...(await fn()), load1 });
  } catch (error) {
    print({ ...inputs, error: (error as Error).message.split("\n")[0]!.slice(0, 300), load1 });
  }
}

/** Reject after `ms` (a case never hangs the bench). */
async function bounded<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Synthetic definitions

/** mulberry32: deterministic. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `assets` assets in `groups` groups (contiguous blocks, group i's assets after group i-1's). The
 * first 2% of each group are its sources; every other asset has 1–3 upstreams, each from its own
 * group's last 60 assets with probability 0.9 (lineage is local: layers of tables), otherwise from
 * any earlier group.
 */
export function syntheticAssets(assets: number, groups: number, seed = 1): AssetDefinition<number>[] {
  const rand = prng(seed);
  const perGroup = Math.ceil(assets / groups);
  const keys: string[] = [];
  const defs: AssetDefinition<number>[] = [];
  for (let i = 0; i < assets; i++) {
    const g = Math.floor(i / perGroup);
    const groupStart = g * perGroup;
    const group = `group_${String(g).padStart(2, "0")}`;
    const key = `${group}/table_${String(i - groupStart).padStart(5, "0")}`;
    const deps = new Set<string>();
    const sources = Math.max(1, Math.floor(perGroup * 0.02));
    if (i - groupStart >= sources) {
      const n = 1 + Math.floor(rand() * 3);
      for (let k = 0; k < n; k++) {
        const inside = g === 0 || rand() < 0.9;
        const j = inside
          ? Math.max(groupStart, i - 1 - Math.floor(rand() * Math.min(60, i - groupStart)))
          : Math.floor(rand() * groupStart);
        deps.add(keys[j]!);
      }
    }
    keys.push(key);
    defs.push(asset({ key, group, deps: [...deps] }, async () => 1));
  }
  return defs;
}

// ---------------------------------------------------------------------------------------------
// A store and the real webserver

interface Served {
  readonly url: string;
  close(): Promise<void>;
}

async function serve(
  definitions: Definitions,
  seed?: (instance: Awaited<ReturnType<typeof openInstance>>) => Promise<void>,
): Promise<Served> {
  const home = mkdtempSync(path.join(os.tmpdir(), "baton-bench-ui-"));
  const instance = await openInstance({ home, env: {} });
  try {
    await publishSnapshot(instance.storage, definitions);
    await seed?.(instance);
    const server = await startWebserver({ instance, port: 0, ui: { dir: UI_DIST } });
    return {
      url: server.url,
      async close() {
        await server.close();
        await instance.close();
        rmSync(home, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await instance.close();
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// In the page

/** Installed before the app's scripts: records when "Asset graph" / "Partition health" become ready. */
const OBSERVER = `(() => {
  const bench = (window.__batonBench = { graphReadyAt: undefined, partitionsReadyAt: undefined });
  const nameOf = (el) =>
    el.getAttribute("aria-label") ||
    (el.getAttribute("aria-labelledby") || "")
      .split(/\\s+/)
      .map((id) => (id && document.getElementById(id)?.textContent?.trim()) || "")
      .join(" ")
      .trim();
  const check = () => {
    for (const el of document.querySelectorAll('[aria-busy="false"]')) {
      const name = nameOf(el);
      if (bench.graphReadyAt === undefined && name === "Asset graph" && el.querySelector("[aria-label]"))
        bench.graphReadyAt = performance.now();
      if (bench.partitionsReadyAt === undefined && name === "Partition health")
        bench.partitionsReadyAt = performance.now();
    }
  };
  const start = () =>
    new MutationObserver(check).observe(document.documentElement, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ["aria-busy", "aria-label", "aria-labelledby"],
    });
  if (document.documentElement) start();
  else document.addEventListener("DOMContentLoaded", start, { once: true });
})();`;

async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 20_000,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await context.addInitScript(OBSERVER);
  return context;
}

/**
 * Poll an expression in the page until it is not undefined (page.evaluate goes through the
 * DevTools protocol: the app's CSP, which forbids eval, does not apply, unlike waitForFunction).
 */
async function pollPage<T>(page: Page, expression: string, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = (await page.evaluate(expression)) as T | undefined;
    if (value !== undefined && value !== null) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Navigate and wait for the graph to be ready; seconds from navigation start. */
async function timeGraph(page: Page, url: string, timeoutMs: number, name: string): Promise<number> {
  await page.goto(url, { waitUntil: "commit", timeout: timeoutMs });
  const at = await pollPage<number>(page, "window.__batonBench?.graphReadyAt", timeoutMs, "Asset graph");
  await snapshot(page, name);
  return at / 1000;
}

/** BENCH_UI_SCREENSHOTS=1: a PNG per case under tests/.artifacts/bench-ui/ (to look at what was timed). */
async function snapshot(page: Page, name: string) {
  if (!process.env.BENCH_UI_SCREENSHOTS) return;
  const dir = path.join(ROOT, "tests/.artifacts/bench-ui");
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}

function uiBuilt() {
  if (!existsSync(path.join(UI_DIST, "index.html")))
    throw new Error(`the UI is not built (${path.relative(ROOT, UI_DIST)}/index.html missing)`);
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
  await page.evaluate(`(() => {
    const f = (window.__batonFrames = { deltas: [], on: true });
    let last = performance.now();
    const tick = (t) => {
      f.deltas.push(t - last);
      last = t;
      if (f.on) requestAnimationFrame(tick);
    };
    requestAnimationFrame((t) => { last = t; requestAnimationFrame(tick); });
  })()`);
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
  const deltas = (await page.evaluate(
    "(() => { window.__batonFrames.on = false; return window.__batonFrames.deltas; })()",
  )) as number[];
  const sorted = deltas.slice(1).sort((a, b) => a - b);
  if (sorted.length < 10) throw new Error(`only ${sorted.length} frames recorded`);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
  return {
    frames: sorted.length,
    interactSeconds: round((performance.now() - t0) / 1000, 1),
    p50FrameMs: round(at(0.5), 1),
    p95FrameMs: round(at(0.95), 1),
    maxFrameMs: round(sorted.at(-1)!, 1),
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
async function seedPartitions(instance: Awaited<ReturnType<typeof openInstance>>) {
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
  ])
    if (wanted(c)) print({ case: c, error: message });
}
if (browser) {
  try {
    await graphCases(browser);
    await partitionCases(browser);
  } finally {
    await browser.close();
  }
}
console.error(`bench:ui: ${((performance.now() - started) / 1000).toFixed(0)} s`);
