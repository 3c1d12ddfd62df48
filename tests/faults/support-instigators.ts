/**
 * Helpers of the instigator fault tests (instigator-crash, alert-endpoint): one store per test on a
 * backend (SQLite file in BATON_HOME, or a fresh Postgres database), a real `baton daemon` started
 * from the built CLI on the faults-instigators fixture, and reads of what the store says (runs,
 * ticks, cursors).
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  type BatonInstance,
  openInstance,
  type RunRecord,
  type TickRecord,
} from "../../packages/core/src/internal.js";
import {
  describeProc,
  exitOf,
  forget,
  killGroup,
  type Proc,
  spawnBaton,
  waitFor,
} from "../support/processes.js";
import { type StorageBackend, type StorageLocation, storageBackends } from "../support/storage-backends.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const FIXTURE = path.join(ROOT, "tests/fixtures/faults-instigators");
/** The daemon's loops every 200 ms: its leader lease lasts max(3 × 200, 2000) ms. */
export const DAEMON_ARGS = ["daemon", "--interval-ms", "200"] as const;

export interface InstigatorEnv {
  readonly backend: StorageBackend;
  readonly home: string;
  /** The directory the fixture's `items_*` sensors list. */
  readonly itemsDir: string;
  readonly location: StorageLocation | undefined;
  readonly databaseUrl: string | undefined;
  readonly instance: BatonInstance;
  readonly procs: Proc[];
}

/**
 * The selected backends that can run here. A selected Postgres that is missing already threw under
 * CI (storageBackends), so nothing CI selects is ever left out; BATON_TEST_STORAGE narrows locally.
 */
export function runnableBackends(): StorageBackend[] {
  return storageBackends().filter((b) => b.skipReason === null);
}

export function requireBuiltCore() {
  if (!existsSync(path.join(ROOT, "packages/core/dist/cli/main.js")))
    throw new Error("build @baton/core first: npx tsc -p packages/core/tsconfig.build.json");
}

/** A fresh store on `backend` (started already) and a temp BATON_HOME. */
export async function openInstigatorEnv(backend: StorageBackend): Promise<InstigatorEnv> {
  const home = await mkdtemp(path.join(os.tmpdir(), "baton-faults-instigators-"));
  const location = backend.name === "postgres" ? await backend.createLocation() : undefined;
  const databaseUrl = location?.options.databaseUrl;
  const instance = await openInstance({ home, env: {}, ...(databaseUrl ? { databaseUrl } : {}) });
  const itemsDir = path.join(home, "items");
  await mkdir(itemsDir, { recursive: true });
  return { backend, home, itemsDir, location, databaseUrl, instance, procs: [] };
}

export async function closeInstigatorEnv(t: InstigatorEnv | undefined) {
  if (!t) return;
  for (const proc of t.procs) killGroup(proc, "SIGKILL");
  await Promise.all(t.procs.map((p) => exitOf(p, 5_000).catch(() => undefined)));
  for (const proc of t.procs) forget(proc);
  await t.instance.close();
  if (t.location) await t.backend.destroyLocation(t.location);
  await rm(t.home, { recursive: true, force: true });
}

function childEnv(t: InstigatorEnv, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(BATON_|FIXTURE_)/.test(k) && k !== "CI" && v !== undefined) env[k] = v;
  env.BATON_HOME = t.home;
  env.FIXTURE_ITEMS_DIR = t.itemsDir;
  if (t.databaseUrl) env.BATON_DATABASE_URL = t.databaseUrl;
  return { ...env, ...extra };
}

/** `baton daemon --interval-ms 200` with `env` (FIXTURE_RUNNING, BATON_FAULT_POINT…), once it leads. */
export async function startDaemon(t: InstigatorEnv, env: Record<string, string>): Promise<Proc> {
  const daemon = spawnBaton(DAEMON_ARGS, { cwd: FIXTURE, env: childEnv(t, env) });
  t.procs.push(daemon);
  const leads = waitFor(
    () => `the daemon to lead: ${describeProc(daemon)}`,
    () => daemon.stderr().includes("is the leader"),
    45_000,
  );
  // A daemon that dies first fails at once (its output says why), not after the whole wait. One
  // that led and then reached its fault point (within one poll of `leads`) did lead.
  const dies = daemon.closed.then(() => {
    if (daemon.stderr().includes("is the leader")) return;
    throw new Error(`the daemon exited before leading: ${describeProc(daemon)}`);
  });
  await Promise.race([leads, dies]);
  return daemon;
}

/** The daemon died of SIGKILL (its fault point), within `ms`. */
export async function expectSigkilled(daemon: Proc, ms: number): Promise<void> {
  const exit = await exitOf(daemon, ms);
  if (exit.signal !== "SIGKILL") throw new Error(`expected a SIGKILL death: ${describeProc(daemon)}`);
  forget(daemon);
}

/** Every run (all pages). */
export async function allRuns(t: InstigatorEnv): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await t.instance.storage.listRuns({ limit: 1000, ...(cursor ? { cursor } : {}) });
    runs.push(...page.runs);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return runs;
}

/** A sensor's or schedule's ticks, oldest first. */
export async function ticksOf(t: InstigatorEnv, name: string): Promise<TickRecord[]> {
  return (await t.instance.storage.listTicks(name, { limit: 1000 })).reverse();
}

export async function cursorOf(t: InstigatorEnv, name: string): Promise<string | null | undefined> {
  return (await t.instance.storage.getInstigatorState(name))?.cursor;
}

/** How many times each value occurs. */
export function tally(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** Values occurring more than once, with their counts. */
export function duplicates(values: readonly string[]): Record<string, number> {
  return Object.fromEntries(Object.entries(tally(values)).filter(([, n]) => n > 1));
}

/** Largest gap between consecutive timestamps (ms), or 0. */
export function maxGap(timestamps: readonly number[]): number {
  const sorted = [...timestamps].sort((a, b) => a - b);
  let gap = 0;
  for (let i = 1; i < sorted.length; i++) gap = Math.max(gap, sorted[i]! - sorted[i - 1]!);
  return gap;
}

/** One line the lead tabulates: `FAULT_FIGURES {json}`. */
export function printFigures(figures: Record<string, unknown>) {
  console.log(`FAULT_FIGURES ${JSON.stringify(figures)}`);
}

/** The load average, to note next to measured times (2 shared cores). */
export function loadAverage(): number {
  return Math.round(os.loadavg()[0]! * 100) / 100;
}
