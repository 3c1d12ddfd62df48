// npm run bench:scale — the worker scale test: 1 vs 4 `baton worker` processes on one Postgres
// (loopback), 1,000 runs of a small CPU-bound asset (bench/fixtures/cpu: ~30 ms of SHA-256 each)
// launched at once. For each worker count, on a fresh database: runs/s from the first launch to
// the last run end, and from the first run start to the last run end (launch time excluded); then
// the proof, read from the store (runs and event_logs), that no run was claimed or executed twice:
// every run SUCCESS with exactly one run_started, one step_started and one materialization event,
// executed by exactly one process (the pid the body logs), which is the worker that claimed it
// (runs.worker_id). One JSON line per worker count, then a summary line with the ratio; exits 1 if
// the proof fails for any run.
// Options: BENCH_RUNS=1000  BENCH_WORKERS=1,4 (worker processes per case)  BATON_TEST_DATABASE_URL
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { openInstance } from "@baton/core";
import pg from "pg";
import { loadDefinitions } from "../packages/core/dist/cli/load-definitions.js";
import { createTestDatabase, dropTestDatabase, startTestPostgres } from "../tests/support/postgres.js";
import { stopProcess } from "./stores.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const defsFile = path.join(root, "bench", "fixtures", "cpu", "definitions.ts");
const bin = path.join(root, "packages", "core", "bin", "baton.js");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the store says about every run of the database (see `checkClaims`). */
export interface ClaimProof {
  /** Runs in the store (warm-up and measured). */
  readonly runs: number;
  readonly succeeded: number;
  /** Runs with more than one run_started / step_started event, or executed by more than one process. */
  readonly doubleClaims: number;
  /** Runs without a run_started event, or with no recorded executing process. */
  readonly neverStarted: number;
  /** Runs whose claimer (runs.worker_id) is not the process that executed them. */
  readonly claimerNotExecutor: number;
  /**
   * The most runs one worker (runs.worker_id) had in flight at once (run_started to its end): a
   * `baton worker` child has one slot, so more than 1 means a claim took more runs than it asked for.
   */
  readonly maxInFlightPerWorker: number;
  /** materialization events in the store (must equal `runs`). */
  readonly materializations: number;
  /** Runs with a number of materialization events other than one. */
  readonly runsWithoutOneMaterialization: number;
  /** Distinct executing processes, and runs each executed (descending). */
  readonly executors: number;
  readonly runsPerExecutor: number[];
  /** Mean CPU time of the body as it recorded it (ms). */
  readonly meanCpuMs: number;
  /** Every violated rule, in words; empty when the proof holds. */
  readonly violations: string[];
}

/**
 * The no-double-claim proof, from the store only (not from the bench's own bookkeeping): counts,
 * per run, its run_started / step_started / materialization / run_succeeded events and the
 * distinct pids its body logged, and compares the executing pid with the claiming worker
 * (`worker-<pid>-…` in runs.worker_id).
 */
export async function checkClaims(databaseUrl: string): Promise<ClaimProof> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const perRun = `
      SELECT r.run_id, r.status, r.worker_id,
        count(*) FILTER (WHERE e.type = 'run_started') AS run_starts,
        count(*) FILTER (WHERE e.type = 'step_started') AS step_starts,
        count(*) FILTER (WHERE e.type = 'materialization') AS materializations,
        count(*) FILTER (WHERE e.type = 'run_succeeded') AS successes,
        count(DISTINCT (e.body::jsonb -> 'fields' ->> 'pid'))
          FILTER (WHERE e.type = 'log' AND e.body::jsonb -> 'fields' ? 'pid') AS pids,
        min(e.body::jsonb -> 'fields' ->> 'pid')
          FILTER (WHERE e.type = 'log' AND e.body::jsonb -> 'fields' ? 'pid') AS pid
      FROM runs r LEFT JOIN event_logs e ON e.run_id = r.run_id
      GROUP BY r.run_id, r.status, r.worker_id`;
    const summary = (
      await client.query(`
      WITH per_run AS (${perRun})
      SELECT
        count(*)::int AS runs,
        count(*) FILTER (WHERE status = 'SUCCESS' AND successes = 1)::int AS succeeded,
        count(*) FILTER (WHERE run_starts > 1 OR step_starts > 1 OR pids > 1)::int AS double_claims,
        count(*) FILTER (WHERE run_starts = 0 OR pids = 0)::int AS never_started,
        count(*) FILTER (WHERE pids = 1
          AND (worker_id IS NULL OR worker_id NOT LIKE 'worker-' || pid || '-%'))::int AS claimer_not_executor,
        count(*) FILTER (WHERE materializations <> 1)::int AS runs_without_one_materialization
      FROM per_run`)
    ).rows[0] as Record<string, number>;
    const materializations = Number(
      (await client.query(`SELECT count(*) AS n FROM event_logs WHERE type = 'materialization'`)).rows[0].n,
    );
    const executors = (
      await client.query(`
      SELECT body::jsonb -> 'fields' ->> 'pid' AS pid, count(DISTINCT run_id)::int AS runs
      FROM event_logs WHERE type = 'log' AND body::jsonb -> 'fields' ? 'pid'
      GROUP BY 1 ORDER BY 2 DESC`)
    ).rows as { pid: string; runs: number }[];
    const maxInFlightPerWorker = Number(
      (
        await client.query(`
        SELECT coalesce(max(n), 0)::int AS n FROM (
          SELECT a.run_id, count(*) AS n FROM runs a JOIN runs b
            ON b.worker_id = a.worker_id AND b.started_at <= a.started_at AND b.ended_at > a.started_at
          GROUP BY a.run_id) overlapping`)
      ).rows[0].n,
    );
    const meanCpuMs = Number(
      (
        await client.query(`
        SELECT avg((body::jsonb -> 'metadata' -> 'cpu_ms' ->> 'value')::float) AS ms
        FROM event_logs WHERE type = 'materialization'`)
      ).rows[0].ms ?? Number.NaN,
    );
    const proof = {
      runs: summary.runs!,
      succeeded: summary.succeeded!,
      doubleClaims: summary.double_claims!,
      neverStarted: summary.never_started!,
      claimerNotExecutor: summary.claimer_not_executor!,
      maxInFlightPerWorker,
      materializations,
      runsWithoutOneMaterialization: summary.runs_without_one_materialization!,
      executors: executors.length,
      runsPerExecutor: executors.map((e) => e.runs),
      meanCpuMs: +meanCpuMs.toFixed(1),
    };
    const violations: string[] = [];
    if (proof.doubleClaims > 0)
      violations.push(`${proof.doubleClaims} run(s) started more than once or executed by several processes`);
    if (proof.succeeded !== proof.runs)
      violations.push(
        `${proof.runs - proof.succeeded} of ${proof.runs} run(s) did not end SUCCESS exactly once`,
      );
    if (proof.neverStarted > 0)
      violations.push(`${proof.neverStarted} run(s) have no start or no executing process`);
    if (proof.claimerNotExecutor > 0)
      violations.push(
        `${proof.claimerNotExecutor} run(s) were executed by a process other than their claimer`,
      );
    if (proof.maxInFlightPerWorker > 1)
      violations.push(
        `a worker process had ${proof.maxInFlightPerWorker} runs in flight at once (it has 1 slot: a claim took more than it asked for)`,
      );
    if (proof.materializations !== proof.runs || proof.runsWithoutOneMaterialization > 0)
      violations.push(
        `${proof.materializations} materialization(s) for ${proof.runs} run(s) (${proof.runsWithoutOneMaterialization} run(s) without exactly one)`,
      );
    return { ...proof, violations };
  } finally {
    await client.end();
  }
}

export interface ScaleResult {
  readonly bench: "scale";
  readonly store: "postgres";
  readonly workers: number;
  readonly runs: number;
  readonly warmupRuns: number;
  /** First launch → last run end (store timestamps). */
  readonly seconds: number;
  readonly runsPerSecond: number;
  /** First run_started → last run end: launch time excluded. */
  readonly secondsFromFirstStart: number;
  readonly runsPerSecondFromFirstStart: number;
  readonly launchSeconds: number;
  /** Mean run_started → end of one run (ms), and the mean number of runs in flight over the span. */
  readonly meanRunMs: number;
  readonly meanInFlight: number;
  /**
   * Linux /proc figures over the measured runs: the share of all cores busy (every process on the
   * machine: workers, Postgres, this bench, and anything else running), and the CPU seconds the
   * worker pool's processes used, per run (null elsewhere).
   */
  readonly machineCpuBusy: number | null;
  readonly workerCpuMsPerRun: number | null;
  readonly cores: number;
  /** The machine's 1-minute load average when the measured launches began and when the runs ended. */
  readonly loadAverage: [number, number];
  readonly doubleClaims: number;
  readonly proof: Omit<ClaimProof, "doubleClaims" | "violations">;
  readonly violations: string[];
}

/**
 * One case on a fresh database: `baton worker --concurrency <workers>` (each child process runs
 * one run at a time), `warmup` runs to get the children's code loaded, then `runs` runs launched
 * at once (one after the other, without waiting), until none is queued or running.
 */
export async function runScaleCase(
  databaseUrl: string,
  workers: number,
  runs: number,
  warmup = workers * 2,
): Promise<ScaleResult> {
  const home = mkdtempSync(path.join(os.tmpdir(), "baton-bench-scale-"));
  const env = { ...process.env, BATON_HOME: home, BATON_DATABASE_URL: databaseUrl };
  const definitions = await loadDefinitions(defsFile);
  const instance = await openInstance({ home, env: {}, databaseUrl });
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let pool: ChildProcess | undefined;
  let stderr = "";
  const fail = (what: string) =>
    new Error(
      `bench:scale (${workers} workers): ${what}; the worker pool's stderr ends with:\n${stderr.slice(-2000)}`,
    );
  try {
    pool = spawn(process.execPath, [bin, "worker", "--concurrency", String(workers), "--defs", defsFile], {
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    pool.stderr!.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-20_000);
    });
    const running = async () =>
      (await instance.storage.listWorkers()).filter((w) => w.status === "running").length;
    for (let i = 0; (await running()) < workers; i++) {
      if (i >= 300 || pool.exitCode !== null) throw fail(`${await running()} of ${workers} workers came up`);
      await sleep(100);
    }
    /** Until nothing is queued or running (from the store); fails when no run ended for 60 s. */
    const drain = async () => {
      let ended = -1;
      let since = Date.now();
      for (;;) {
        const { pending, done } = (
          await client.query(
            `SELECT count(*) FILTER (WHERE status IN ('QUEUED', 'STARTING', 'STARTED'))::int AS pending,
               count(*) FILTER (WHERE status IN ('SUCCESS', 'FAILURE', 'CANCELED'))::int AS done FROM runs`,
          )
        ).rows[0] as { pending: number; done: number };
        if (pending === 0) return;
        if (pool!.exitCode !== null) throw fail("the worker pool exited");
        if (done !== ended) [ended, since] = [done, Date.now()];
        else if (Date.now() - since > 60_000) throw fail(`no run ended for 60 s (${pending} still pending)`);
        await sleep(100);
      }
    };
    for (let i = 0; i < warmup; i++) await instance.launchRun(definitions, { selection: "cpu" });
    await drain();

    const loadBefore = os.loadavg()[0]!;
    const machineBefore = machineCpu();
    const poolBefore = treeCpuSeconds(pool.pid!);
    const t0 = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < runs; i++)
      ids.push((await instance.launchRun(definitions, { selection: "cpu" })).runId);
    const launchSeconds = (performance.now() - t0) / 1000;
    await drain();
    const loadAfter = os.loadavg()[0]!;
    const machineAfter = machineCpu();
    const poolAfter = treeCpuSeconds(pool.pid!);

    const span = (
      await client.query(
        `SELECT min(created_at)::float8 AS first_launch, min(started_at)::float8 AS first_start,
           max(ended_at)::float8 AS last_end, sum(ended_at - started_at)::float8 AS busy FROM runs WHERE run_id = ANY($1)`,
        [ids],
      )
    ).rows[0] as { first_launch: number; first_start: number; last_end: number; busy: number };
    const seconds = (span.last_end - span.first_launch) / 1000;
    const secondsFromFirstStart = (span.last_end - span.first_start) / 1000;
    const { doubleClaims, violations, ...proof } = await checkClaims(databaseUrl);
    return {
      bench: "scale",
      store: "postgres",
      workers,
      runs,
      warmupRuns: warmup,
      seconds: +seconds.toFixed(2),
      runsPerSecond: +(runs / seconds).toFixed(1),
      secondsFromFirstStart: +secondsFromFirstStart.toFixed(2),
      runsPerSecondFromFirstStart: +(runs / secondsFromFirstStart).toFixed(1),
      launchSeconds: +launchSeconds.toFixed(2),
      meanRunMs: +(span.busy / runs).toFixed(1),
      meanInFlight: +(span.busy / (span.last_end - span.first_start)).toFixed(2),
      machineCpuBusy:
        machineBefore && machineAfter
          ? +((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)).toFixed(
              2,
            )
          : null,
      workerCpuMsPerRun:
        poolBefore !== null && poolAfter !== null
          ? +(((poolAfter - poolBefore) * 1000) / runs).toFixed(1)
          : null,
      cores: os.availableParallelism(),
      loadAverage: [+loadBefore.toFixed(2), +loadAfter.toFixed(2)],
      doubleClaims,
      proof,
      violations,
    };
  } finally {
    // The pool's children finish and exit with it.
    await stopProcess(pool);
    await client.end();
    await instance.close();
    rmSync(home, { recursive: true, force: true });
  }
}

/** All cores' busy and total jiffies since boot (/proc/stat), or null off Linux. */
function machineCpu(): { busy: number; total: number } | null {
  try {
    const fields = readFileSync("/proc/stat", "utf8")
      .split("\n")[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    // idle + iowait are not busy.
    return { busy: total - fields[3]! - fields[4]!, total };
  } catch {
    return null;
  }
}

/** CPU seconds used by a process and its descendants (and its reaped children), or null off Linux. */
function treeCpuSeconds(pid: number): number | null {
  const ticks = 100; // USER_HZ: 100 on every Linux architecture Node supports
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) in parentheses: utime is the 14th field.
    const f = stat
      .slice(stat.lastIndexOf(")") + 2)
      .split(" ")
      .map(Number);
    let seconds = (f[11]! + f[12]! + f[13]! + f[14]!) / ticks;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const children = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
      for (const child of children ? children.split(" ") : []) seconds += treeCpuSeconds(Number(child)) ?? 0;
    }
    return seconds;
  } catch {
    return null;
  }
}

/** BENCH_WORKERS ("1,4"): whole numbers ≥ 1, or a clear error naming the variable. */
export function parseWorkerCounts(text: string | undefined): number[] {
  const raw = text === undefined || text.trim() === "" ? "1,4" : text;
  const counts = raw.split(",").map((s) => s.trim());
  for (const c of counts)
    if (!/^[1-9][0-9]*$/.test(c))
      throw new Error(
        `BENCH_WORKERS must be a comma-separated list of whole numbers ≥ 1 (got "${raw}": "${c}")`,
      );
  return counts.map(Number);
}

export function parseRuns(text: string | undefined): number {
  if (text === undefined || text.trim() === "") return 1000;
  if (!/^[1-9][0-9]*$/.test(text.trim()))
    throw new Error(`BENCH_RUNS must be a whole number ≥ 1 (got "${text}")`);
  return Number(text);
}

async function main(): Promise<number> {
  let runs: number;
  let workerCounts: number[];
  try {
    runs = parseRuns(process.env.BENCH_RUNS);
    workerCounts = parseWorkerCounts(process.env.BENCH_WORKERS);
  } catch (error) {
    console.error(`bench:scale: ${(error as Error).message}`);
    return 2;
  }
  const server = await startTestPostgres();
  if (!server) {
    console.error(
      "bench:scale: no Postgres available (install postgresql or set BATON_TEST_DATABASE_URL); this bench needs one",
    );
    return 1;
  }
  const results: ScaleResult[] = [];
  try {
    for (const workers of workerCounts) {
      const url = await createTestDatabase(server.url);
      try {
        const result = await runScaleCase(url, workers, runs);
        console.log(JSON.stringify(result));
        results.push(result);
      } finally {
        await dropTestDatabase(url);
      }
    }
  } finally {
    await server.stop();
  }
  const base = results[0]!;
  const ratios = Object.fromEntries(
    results
      .slice(1)
      .map((r) => [`${r.workers}vs${base.workers}`, +(r.runsPerSecond / base.runsPerSecond).toFixed(2)]),
  );
  const ratiosFromFirstStart = Object.fromEntries(
    results
      .slice(1)
      .map((r) => [
        `${r.workers}vs${base.workers}`,
        +(r.runsPerSecondFromFirstStart / base.runsPerSecondFromFirstStart).toFixed(2),
      ]),
  );
  const violations = results.flatMap((r) => r.violations.map((v) => `${r.workers} workers: ${v}`));
  console.log(
    JSON.stringify({
      bench: "scale",
      summary: true,
      store: "postgres",
      cores: os.availableParallelism(),
      runs,
      runsPerSecond: Object.fromEntries(results.map((r) => [r.workers, r.runsPerSecond])),
      ratio: ratios,
      ratioFromFirstStart: ratiosFromFirstStart,
      doubleClaims: results.reduce((n, r) => n + r.doubleClaims, 0),
      proofHolds: violations.length === 0,
      violations,
    }),
  );
  if (violations.length > 0) {
    console.error(`bench:scale: the no-double-claim proof failed:\n  ${violations.join("\n  ")}`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href)
  process.exit(await main());
