/**
 * Browser end-to-end harness: `baton dev` (webserver + daemon + workers) on a loopback port with a
 * temporary BATON_HOME, and Debian's Chromium driven by playwright-core.
 *
 * ```ts
 * const skipReason = chromiumSkipReason();
 * if (skipReason !== null) handleMissingChromium(skipReason); // throws under CI, warns otherwise
 * describe.skipIf(skipReason !== null)("…", () => {
 *   let dev: DevServer;
 *   let browser: TestBrowser;
 *   beforeAll(async () => {
 *     [dev, browser] = await Promise.all([startDev(), launchBrowser()]);
 *   });
 *   afterAll(async () => {
 *     await browser?.close();
 *     await dev?.stop();
 *   });
 *   test("…", async () => {
 *     const page = await browser.newPage({ colorScheme: "dark" });
 *     await page.goto(`${dev.url}/graph`);
 *     await screenshot(page, "graph-dark");
 *   });
 * });
 * ```
 *
 * `startDev()` runs the NYC taxi example on a tiny generated data set (landing folder, warehouse
 * and store all in temp dirs; its file sensor materializes the files on its own: `waitForIdle()`
 * waits for that), or any definitions file given. Every wait is bounded. Needs the BUILT packages
 * (`npm run build`; the root `npm test` builds first) and the built UI for pages to render.
 */
import { accessSync, constants as fsConstants } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { ROOT } from "./cli.js";
import {
  describeProc,
  exitOf,
  forget,
  killGroup,
  type Proc,
  spawnBaton,
  stderrShows,
  waitFor,
} from "./processes.js";

export const CHROMIUM = process.env.BATON_TEST_CHROMIUM ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
] as const;
/** Screenshots land here (git-ignored). */
export const SCREENSHOTS = path.join(ROOT, "tests/.artifacts/screenshots");
export const NYC_TAXI_DEFS = path.join(ROOT, "examples/nyc_taxi/definitions.ts");
export const UI_INDEX = path.join(
  process.env.BATON_UI_DIR ? path.resolve(process.env.BATON_UI_DIR) : path.join(ROOT, "packages/ui/dist"),
  "index.html",
);

/** Bounded waits of this harness (a test never hangs on a browser or a server). */
const START_MS = 45_000;
const STOP_MS = 20_000;
const LAUNCH_MS = 20_000;
const ACTION_MS = 10_000;
const NAVIGATION_MS = 20_000;

// ---------------------------------------------------------------------------------------------
// Skip or fail

const isCi = () => {
  const ci = process.env.CI;
  return ci !== undefined && ci !== "" && ci !== "0" && ci.toLowerCase() !== "false";
};

/** Why browser tests would have to be skipped, or null when Chromium and playwright-core are here. */
export function chromiumSkipReason(): string | null {
  try {
    accessSync(CHROMIUM, fsConstants.X_OK);
  } catch {
    return `no Chromium at ${CHROMIUM}`;
  }
  try {
    createRequire(import.meta.url).resolve("playwright-core");
  } catch {
    return "playwright-core is not installed";
  }
  return null;
}

/** Under CI a missing browser fails the suite; locally it is skipped with a loud message. */
export function handleMissingChromium(reason: string): void {
  const advice =
    "Install it: apt-get install -y --no-install-recommends chromium (or set BATON_TEST_CHROMIUM)";
  if (isCi())
    throw new Error(`Browser tests cannot be skipped under CI (CI=${process.env.CI}): ${reason}. ${advice}`);
  const line = "!".repeat(100);
  console.warn(`\n${line}\n!!! Browser tests SKIPPED: ${reason}. ${advice}\n${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// baton dev

export interface DevOptions {
  /** Definitions file (default: the NYC taxi example on a tiny generated data set). */
  readonly defs?: string;
  /** Extra environment for baton dev and its workers. */
  readonly env?: Readonly<Record<string, string>>;
  /** Run workers (default 1). */
  readonly workers?: number;
  /** NYC taxi example only: trip files to generate (default one month, yellow and green, 500 rows each). */
  readonly months?: readonly string[];
  readonly rows?: number;
}

export interface Health {
  readonly daemon: { id: string } | null;
  readonly workers: readonly { workerId: string; pid: number }[];
  readonly definitions: { hash: string; assets: number } | null;
}

export interface DevServer {
  /** e.g. http://127.0.0.1:41234 (no trailing slash). */
  readonly url: string;
  readonly home: string;
  /** NYC taxi example only: the landing folder its file sensor watches (drop files here). */
  readonly landing: string | undefined;
  readonly proc: Proc;
  /** GET an API path (e.g. "/api/health") as JSON; throws on a non-2xx answer. */
  api<T = unknown>(pathname: string): Promise<T>;
  /**
   * Wait until no run or backfill is in progress, and (NYC taxi example) the file sensor has
   * launched a backfill per generated file: everything materialized. At most `ms`.
   */
  waitForIdle(ms?: number): Promise<void>;
  /** Ctrl-C, then SIGKILL if still running after a bound; temp dirs removed. */
  stop(): Promise<void>;
}

function childEnv(extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(BATON_|TAXI_|FIXTURE_)/.test(k) && k !== "CI" && v !== undefined) env[k] = v;
  return { ...env, ...extra };
}

/** `baton dev --port 0` on a temp store; resolves once definitions are published and the workers are up. */
export async function startDev(options: DevOptions = {}): Promise<DevServer> {
  const defs = path.resolve(options.defs ?? NYC_TAXI_DEFS);
  const workers = options.workers ?? 1;
  const scratch: string[] = [];
  const temp = async (prefix: string) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    scratch.push(dir);
    return dir;
  };
  const home = await temp("baton-ui-home-");
  const env: Record<string, string> = { BATON_HOME: home };
  let landing: string | undefined;
  let files = 0;
  if (defs === NYC_TAXI_DEFS) {
    landing = await temp("baton-ui-landing-");
    env.TAXI_LANDING = landing;
    env.TAXI_WAREHOUSE = path.join(home, "warehouse.duckdb");
    const { generateMonth } = await import("../../examples/nyc_taxi/src/generate.js");
    for (const month of options.months ?? ["2019-01"])
      for (const taxi of ["yellow", "green"] as const)
        files += (await generateMonth({ month, taxi, rows: options.rows ?? 500, dir: landing })) ? 1 : 0;
  }
  // Another build of the UI (e.g. \`vite build --outDir\` elsewhere, so that parallel work does not
  // replace the files a running test is loading).
  if (process.env.BATON_UI_DIR) env.BATON_UI_DIR = process.env.BATON_UI_DIR;
  Object.assign(env, options.env ?? {});
  const proc = spawnBaton(
    [
      "dev",
      "--defs",
      defs,
      "--port",
      "0",
      "--workers",
      String(workers),
      "--no-watch",
      "--interval-ms",
      "200",
    ],
    { cwd: path.dirname(defs), env: childEnv(env) },
  );
  const cleanup = async () => {
    if (proc.exitInfo() === undefined) {
      proc.child.kill("SIGINT");
      await exitOf(proc, STOP_MS).catch(() => {
        killGroup(proc, "SIGKILL");
        return exitOf(proc, 5_000).catch(() => undefined);
      });
    }
    killGroup(proc, "SIGKILL"); // workers of a baton dev that was force-stopped
    forget(proc);
    for (const dir of scratch) await rm(dir, { recursive: true, force: true });
  };
  try {
    await stderrShows(proc, "baton dev: daemon + ", START_MS);
    const url = /baton dev: webserver on (http:\/\/[^\s]+)/.exec(proc.stderr())?.[1];
    if (!url) throw new Error(`baton dev printed no webserver URL: ${describeProc(proc)}`);
    const api = async <T>(pathname: string): Promise<T> => {
      const res = await fetch(`${url}${pathname}`, { signal: AbortSignal.timeout(ACTION_MS) });
      if (!res.ok) throw new Error(`GET ${pathname}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    await waitFor(
      () => `baton dev to publish its definitions and start ${workers} worker(s): ${describeProc(proc)}`,
      async () => {
        if (proc.exitInfo()) throw new Error(`baton dev exited: ${describeProc(proc)}`);
        const h = await api<Health>("/api/health");
        return h.definitions !== null && h.daemon !== null && h.workers.length >= workers;
      },
      START_MS,
    );
    return {
      url,
      home,
      landing,
      proc,
      api,
      async waitForIdle(ms = 60_000) {
        await waitFor(
          () => `runs to finish: ${describeProc(proc)}`,
          async () => {
            const backfills = await api<{ backfills: { status: string }[] }>("/api/backfills?limit=1000");
            if (backfills.backfills.length < files) return false;
            if (backfills.backfills.some((b) => ["REQUESTED", "RUNNING", "CANCELING"].includes(b.status)))
              return false;
            const busy = await api<{ runs: unknown[] }>(
              "/api/runs?status=QUEUED,STARTING,STARTED,CANCELING&limit=1",
            );
            return busy.runs.length === 0;
          },
          ms,
        );
      },
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Chromium

export interface PageOptions {
  readonly colorScheme?: "light" | "dark";
  readonly viewport?: { width: number; height: number };
  /** Share a context (and so its storage: IndexedDB, caches) with earlier pages. */
  readonly context?: BrowserContext;
}

export interface TestBrowser {
  readonly browser: Browser;
  /** A page in a fresh context (cold storage), unless `context` is given; bounded default timeouts. */
  newPage(options?: PageOptions): Promise<Page>;
  close(): Promise<void>;
}

const pageErrors = new WeakMap<Page, string[]>();

/** Uncaught exceptions and console errors the page has had so far. */
export function errorsOf(page: Page): readonly string[] {
  return pageErrors.get(page) ?? [];
}

/** Chromium (a fresh temporary profile) through playwright-core. */
export async function launchBrowser(): Promise<TestBrowser> {
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS],
    headless: true,
    timeout: LAUNCH_MS,
  });
  return {
    browser,
    async newPage(options: PageOptions = {}) {
      const contextOptions = {
        colorScheme: options.colorScheme ?? "light",
        viewport: options.viewport ?? { width: 1280, height: 800 },
      };
      const context = options.context ?? (await browser.newContext(contextOptions));
      const page = await context.newPage();
      if (options.context) {
        await page.setViewportSize(contextOptions.viewport);
        await page.emulateMedia({ colorScheme: contextOptions.colorScheme });
      }
      page.setDefaultTimeout(ACTION_MS);
      page.setDefaultNavigationTimeout(NAVIGATION_MS);
      const errors: string[] = [];
      pageErrors.set(page, errors);
      page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(`console.error: ${message.text()}`);
      });
      return page;
    },
    async close() {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        browser.close().catch(() => undefined),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, STOP_MS);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}

/** Save a PNG of the viewport under tests/.artifacts/screenshots/NAME.png; returns its path. */
export async function screenshot(
  page: Page,
  name: string,
  options: { fullPage?: boolean } = {},
): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name.replace(/[^\w.-]+/g, "-")}.png`);
  await page.screenshot({ path: file, fullPage: options.fullPage ?? false, animations: "disabled" });
  return file;
}
