// Shared by bench/ui.ts (graph and partition cases) and bench/ui-ops.ts (run, log, runs-list and
// live-event cases): JSON lines, bounded cases, a temp store served by the real webserver,
// Chromium, and the readiness observer installed in every page before the app's scripts.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  type AssetDefinition,
  asset,
  type Definitions,
  openInstance,
  publishSnapshot,
} from "@baton/core/internal";
import { startWebserver } from "@baton/webserver";
import type { Browser, BrowserContext, Page } from "playwright-core";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** The built UI (BENCH_UI_DIST: another build, e.g. to compare two). */
export const UI_DIST = path.resolve(process.env.BENCH_UI_DIST ?? path.join(ROOT, "packages/ui/dist"));
const CHROMIUM = process.env.BENCH_CHROMIUM ?? "/usr/bin/chromium";
const ONLY = process.env.BENCH_UI_CASES?.split(",").map((s) => s.trim());
export const wanted = (name: string) => !ONLY || ONLY.some((c) => name.startsWith(c));

export type Line = Record<string, unknown> & { case: string };
export const print = (line: Line) => console.log(JSON.stringify({ bench: "ui", ...line }));
export const round = (x: number, digits = 3) => +x.toFixed(digits);

/** Run one case; whatever goes wrong becomes a JSON line with `error` (the others still run). */
export async function runCase(inputs: Line, fn: () => Promise<Record<string, unknown>>) {
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
export async function bounded<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
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

/** mulberry32: deterministic. */
export function prng(seed: number) {
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

export type Instance = Awaited<ReturnType<typeof openInstance>>;

export interface Served {
  readonly url: string;
  /** The store behind the server (cases that write while the page watches). */
  readonly instance: Instance;
  close(): Promise<void>;
}

/** A temp SQLite store with `definitions` published and `seed` applied, served with no workers. */
export async function serve(
  definitions: Definitions,
  seed?: (instance: Instance) => Promise<void>,
): Promise<Served> {
  const home = mkdtempSync(path.join(os.tmpdir(), "baton-bench-ui-"));
  const instance = await openInstance({ home, env: {} });
  try {
    await publishSnapshot(instance.storage, definitions);
    await seed?.(instance);
    const server = await startWebserver({ instance, port: 0, ui: { dir: UI_DIST } });
    return {
      url: server.url,
      instance,
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

/**
 * Installed before the app's scripts: records when "Asset graph" / "Partition health" become ready
 * (performance.now(), ms since navigation start), as `graphReadyAt` / `partitionsReadyAt`.
 *
 * With `window.__batonBenchWatch` set first (see `watchInit`), it records instead, in
 * `__batonBench.ready[name]`, when each watched name is ready by the UI contract:
 *   "Step timeline"  aria-busy="false";
 *   "Logs"           aria-busy="false" and its "Log lines" has aria-rowcount ≥ 1 and a painted line;
 *   "Runs"           aria-busy="false" with at least one row linking to a run;
 *   any other name   aria-busy="false";
 * and `__batonBench.rowsAt` when "Log lines"'s aria-rowcount first reaches `rowTarget` (if set).
 * It stops observing once everything watched is recorded.
 */
export const OBSERVER = `(() => {
  const watch = window.__batonBenchWatch;
  const bench = (window.__batonBench = {
    graphReadyAt: undefined,
    partitionsReadyAt: undefined,
    ready: {},
    rowsAt: undefined,
  });
  const nameOf = (el) => {
    const label = el.getAttribute("aria-label");
    if (label) return label.trim();
    const by = el.getAttribute("aria-labelledby");
    if (by)
      return by
        .split(/\\s+/)
        .map((id) => (id && document.getElementById(id)?.textContent?.trim()) || "")
        .join(" ")
        .trim();
    if (el.tagName === "TABLE") return el.querySelector(":scope > caption")?.textContent?.trim() || "";
    return "";
  };
  const find = (name, root = document) => {
    for (const el of root.querySelectorAll("[aria-label], [aria-labelledby], table"))
      if (nameOf(el) === name) return el;
    return undefined;
  };
  bench.nameOf = nameOf;
  bench.find = find;
  const rowsOf = (el) => Number(el?.getAttribute("aria-rowcount") ?? NaN);
  const readyByContract = (name, el) => {
    if (name === "Logs") {
      const lines = find("Log lines", el);
      return !!lines && rowsOf(lines) >= 1 && (lines.textContent || "").trim() !== "";
    }
    if (name === "Runs") return !!el.querySelector('a[href*="/runs/"]');
    return true;
  };
  let observer;
  const check = () => {
    if (!watch) {
      for (const el of document.querySelectorAll('[aria-busy="false"]')) {
        const name = nameOf(el);
        if (bench.graphReadyAt === undefined && name === "Asset graph" && el.querySelector("[aria-label]"))
          bench.graphReadyAt = performance.now();
        if (bench.partitionsReadyAt === undefined && name === "Partition health")
          bench.partitionsReadyAt = performance.now();
      }
      return;
    }
    const now = performance.now();
    let pending = false;
    for (const name of watch.names) {
      if (bench.ready[name] !== undefined) continue;
      pending = true;
      for (const el of document.querySelectorAll('[aria-busy="false"]'))
        if (nameOf(el) === name && readyByContract(name, el)) {
          bench.ready[name] = now;
          break;
        }
    }
    if (watch.rowTarget !== undefined && bench.rowsAt === undefined) {
      pending = true;
      for (const el of document.querySelectorAll("[aria-rowcount]"))
        if (rowsOf(el) >= watch.rowTarget && nameOf(el) === "Log lines") bench.rowsAt = now;
    }
    if (!pending) observer?.disconnect();
  };
  const start = () => {
    observer = new MutationObserver(check);
    observer.observe(document.documentElement, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ["aria-busy", "aria-label", "aria-labelledby", "aria-rowcount"],
    });
  };
  if (document.documentElement) start();
  else document.addEventListener("DOMContentLoaded", start, { once: true });
})();`;

/** An init script (before OBSERVER) naming what to watch: see OBSERVER. */
export function watchInit(names: readonly string[], rowTarget?: number): string {
  return `window.__batonBenchWatch = ${JSON.stringify({ names, ...(rowTarget !== undefined ? { rowTarget } : {}) })};
try { performance.setResourceTimingBufferSize(100000); } catch {}`;
}

export async function launch(): Promise<Browser> {
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

/** A fresh browser context (1440×900) with the readiness observer; `before`: init scripts run first. */
export async function newContext(browser: Browser, ...before: string[]): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  for (const script of before) await context.addInitScript(script);
  await context.addInitScript(OBSERVER);
  return context;
}

/**
 * Poll an expression in the page until it is not undefined (page.evaluate goes through the
 * DevTools protocol: the app's CSP, which forbids eval, does not apply, unlike waitForFunction).
 */
export async function pollPage<T>(
  page: Page,
  expression: string,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = (await page.evaluate(expression)) as T | undefined;
    if (value !== undefined && value !== null) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** BENCH_UI_SCREENSHOTS=1: a PNG per case under tests/.artifacts/bench-ui/ (to look at what was timed). */
export async function snapshot(page: Page, name: string) {
  if (!process.env.BENCH_UI_SCREENSHOTS) return;
  const dir = path.join(ROOT, "tests/.artifacts/bench-ui");
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}

export function uiBuilt() {
  if (!existsSync(path.join(UI_DIST, "index.html")))
    throw new Error(`the UI is not built (${path.relative(ROOT, UI_DIST)}/index.html missing)`);
}

/** Start recording requestAnimationFrame deltas in the page (read them with `stopFrames`). */
export async function startFrames(page: Page) {
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
}

/** Stop recording; the frame-time distribution (the first delta dropped). */
export async function stopFrames(
  page: Page,
): Promise<{ frames: number; p50FrameMs: number; p95FrameMs: number; maxFrameMs: number }> {
  const deltas = (await page.evaluate(
    "(() => { window.__batonFrames.on = false; return window.__batonFrames.deltas; })()",
  )) as number[];
  const sorted = deltas.slice(1).sort((a, b) => a - b);
  if (sorted.length < 10) throw new Error(`only ${sorted.length} frames recorded`);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
  return {
    frames: sorted.length,
    p50FrameMs: round(at(0.5), 1),
    p95FrameMs: round(at(0.95), 1),
    maxFrameMs: round(sorted.at(-1)!, 1),
  };
}

/** The value at quantile `p` of `values` (nearest rank). */
export function quantile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))]!;
}
