/**
 * Helpers of the worker and daemon fault tests (worker-kill, daemon-kill): one store per test on a
 * backend (SQLite file in BATON_HOME, or a fresh Postgres database), real `baton` child processes
 * started from the built CLI against the faults-workers fixture, and raw reads of the store that
 * the Storage interface does not expose (run_seq).
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import pg from "pg";
import { type BatonInstance, openInstance, type RunRecord } from "../../packages/core/src/internal.js";
import type { Marker } from "../fixtures/faults-workers/definitions.js";
import {
  type CliResult,
  completion,
  describeProc,
  exitOf,
  forget,
  killGroup,
  type Proc,
  spawnBaton,
  spawnCommand,
  waitFor,
} from "../support/processes.js";
import type { StorageBackend, StorageLocation } from "../support/storage-backends.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const FIXTURE = path.join(ROOT, "tests/fixtures/faults-workers");

export interface FaultEnv {
  readonly backend: StorageBackend;
  readonly home: string;
  readonly markerDir: string;
  readonly location: StorageLocation | undefined;
  readonly databaseUrl: string | undefined;
  readonly instance: BatonInstance;
  /** FIXTURE_* settings for the processes started from now on. */
  readonly fixtureEnv: Record<string, string>;
  readonly procs: Proc[];
}

export function requireBuiltCore() {
  if (!existsSync(path.join(ROOT, "packages/core/dist/cli/main.js")))
    throw new Error("build @baton/core first: npx tsc -p packages/core/tsconfig.build.json");
}

/** A fresh store on `backend` (started already) and a temp BATON_HOME. */
export async function openFaultEnv(backend: StorageBackend): Promise<FaultEnv> {
  const home = await mkdtemp(path.join(os.tmpdir(), "baton-faults-"));
  const location = backend.name === "postgres" ? await backend.createLocation() : undefined;
  const databaseUrl = location?.options.databaseUrl;
  const instance = await openInstance({ home, env: {}, ...(databaseUrl ? { databaseUrl } : {}) });
  return {
    backend,
    home,
    markerDir: path.join(home, "markers"),
    location,
    databaseUrl,
    instance,
    fixtureEnv: {},
    procs: [],
  };
}

export async function closeFaultEnv(t: FaultEnv | undefined) {
  if (!t) return;
  for (const proc of t.procs) killGroup(proc, "SIGKILL");
  await Promise.all(t.procs.map((p) => exitOf(p, 5_000).catch(() => undefined)));
  for (const proc of t.procs) forget(proc);
  await t.instance.close();
  if (t.location) await t.backend.destroyLocation(t.location);
  await rm(t.home, { recursive: true, force: true });
}

function childEnv(t: FaultEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(BATON_|FIXTURE_)/.test(k) && k !== "CI" && v !== undefined) env[k] = v;
  env.BATON_HOME = t.home;
  env.FIXTURE_MARKER_DIR = t.markerDir;
  Object.assign(env, t.fixtureEnv);
  if (t.databaseUrl) env.BATON_DATABASE_URL = t.databaseUrl;
  return env;
}

/**
 * Start `baton ARGS` in its own process group, in the fixture directory. `FAULTS_BATON_BIN` (a
 * path) runs another build of the CLI instead: how the reports show a test fails against a
 * deliberately broken build, without rebuilding the dist everyone else's tests run.
 */
export function startBaton(t: FaultEnv, args: readonly string[]): Proc {
  const bin = process.env.FAULTS_BATON_BIN;
  const options = { cwd: FIXTURE, env: childEnv(t) };
  const proc = bin
    ? spawnCommand("baton", process.execPath, [path.resolve(ROOT, bin)], args, options)
    : spawnBaton(args, options);
  t.procs.push(proc);
  return proc;
}

/** Run `baton ARGS` to completion. */
export function baton(t: FaultEnv, args: readonly string[]): Promise<CliResult> {
  return completion(startBaton(t, args));
}

/** SIGKILL a process and its whole group; resolves once the leader is reaped. */
export async function sigkillGroup(proc: Proc): Promise<void> {
  killGroup(proc, "SIGKILL");
  const exit = await exitOf(proc, 10_000);
  if (exit.signal !== "SIGKILL") throw new Error(`expected a SIGKILL death: ${describeProc(proc)}`);
  forget(proc);
}

/** `baton worker --concurrency N --heartbeat-ms HB`, once its children are started. */
export async function startPool(t: FaultEnv, concurrency: number, heartbeatMs: number): Promise<Proc> {
  const proc = startBaton(t, [
    "worker",
    "--concurrency",
    String(concurrency),
    "--heartbeat-ms",
    String(heartbeatMs),
  ]);
  // An exit ends the wait at once (waitFor would retry a thrown error until its deadline).
  const outcome = await waitFor(
    () => `the worker pool to start: ${describeProc(proc)}`,
    () => (proc.exitInfo() ? "exited" : /worker pool started/.test(proc.stderr()) && "started"),
    30_000,
  );
  if (outcome === "exited") throw new Error(`the worker pool exited: ${describeProc(proc)}`);
  return proc;
}

/** Every run, or a backfill's (all pages). */
export async function allRuns(t: FaultEnv, backfillId?: string): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await t.instance.storage.listRuns({
      limit: 1000,
      ...(backfillId ? { backfillId } : {}),
      ...(cursor ? { cursor } : {}),
    });
    runs.push(...page.runs);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return runs;
}

/** Every complete line of markers.jsonl (what the fixture's bodies ran to their end). */
export async function markers(t: FaultEnv): Promise<Marker[]> {
  const file = path.join(t.markerDir, "markers.jsonl");
  if (!existsSync(file)) return [];
  const lines = (await readFile(file, "utf8")).split("\n");
  lines.pop(); // "" after the last newline (or a line still being written)
  return lines.map((l) => JSON.parse(l) as Marker);
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

/** The `p`-th percentile (nearest rank) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** One line the lead tabulates: `FAULT_FIGURES {json}`. */
export function printFigures(figures: Record<string, unknown>) {
  console.log(`FAULT_FIGURES ${JSON.stringify(figures)}`);
}

/** The load average, to note next to measured times (2 shared cores). */
export function loadAverage(): number {
  return Math.round(os.loadavg()[0]! * 100) / 100;
}

/** A run's events as stored: (id, run_seq, type), in run_seq order, read through a raw connection. */
export async function rawEventRows(
  t: FaultEnv,
  runId: string,
): Promise<{ id: number; runSeq: number; type: string; stepKey: string | null }[]> {
  const query =
    "SELECT id, run_seq AS seq, type, step_key AS step FROM event_logs WHERE run_id = $1 ORDER BY run_seq";
  type Row = { id: number | string; seq: number | string; type: string; step: string | null };
  let rows: Row[];
  if (t.databaseUrl) {
    const client = new pg.Client({ connectionString: t.databaseUrl, connectionTimeoutMillis: 10_000 });
    client.on("error", () => {});
    await client.connect();
    try {
      rows = (await client.query<Row>(query, [runId])).rows;
    } finally {
      await client.end().catch(() => {});
    }
  } else {
    const db = new Database(path.join(t.home, "baton.db"), { readonly: true, fileMustExist: true });
    try {
      db.pragma("busy_timeout = 10000");
      rows = db.prepare(query.replace("$1", "?")).all(runId) as Row[];
    } finally {
      db.close();
    }
  }
  return rows.map((r) => ({ id: Number(r.id), runSeq: Number(r.seq), type: r.type, stepKey: r.step }));
}

/** A small seeded PRNG (mulberry32): the same seed gives the same kill points. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
