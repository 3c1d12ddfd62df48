// npm run bench:queue — runs through the queue to real worker processes (`baton worker
// --concurrency 2`): launch→running latency with warm workers (sequential launches: median,
// p95), then 2,000 no-op runs launched at once: runs/s to all SUCCESS; then a 10,000-partition
// backfill (one run per partition) driven by `baton daemon`: total seconds to COMPLETED.
// Options: BENCH_RUNS=2000  BENCH_LATENCY_RUNS=50  BENCH_BACKFILL_PARTITIONS=10000
//          BENCH_STORES=sqlite,postgres
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openInstance } from "@baton/core";
import { loadDefinitions } from "../packages/core/dist/cli/load-definitions.js";
import { onStores, stopProcess } from "./stores.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 2000);
const LATENCY_RUNS = Number(process.env.BENCH_LATENCY_RUNS ?? 50);
const BACKFILL_PARTITIONS = Number(process.env.BENCH_BACKFILL_PARTITIONS ?? 10_000);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const defsFile = path.join(root, "bench", "fixtures", "noop", "definitions.ts");
const bin = path.join(root, "packages", "core", "bin", "baton.js");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

async function runCase(store: "sqlite" | "postgres", databaseUrl?: string) {
  const home = mkdtempSync(path.join(os.tmpdir(), "baton-bench-queue-"));
  const env = {
    ...process.env,
    BATON_HOME: home,
    ...(databaseUrl ? { BATON_DATABASE_URL: databaseUrl } : {}),
  };
  const definitions = await loadDefinitions(defsFile);
  const instance = await openInstance({ home, env: {}, ...(databaseUrl ? { databaseUrl } : {}) });
  let pool: ChildProcess | undefined;
  let daemon: ChildProcess | undefined;
  try {
    pool = spawn(process.execPath, [bin, "worker", "--concurrency", "2", "--defs", defsFile], {
      env,
      stdio: "ignore",
    });
    for (
      let i = 0;
      i < 300 && (await instance.storage.listWorkers()).filter((w) => w.status === "running").length < 2;
      i++
    )
      await sleep(100);
    // Warm the workers (first runs load modules lazily), then measure latency one run at a time.
    const waitFor = async (runId: string, statuses: string[]) => {
      for (;;) {
        const run = await instance.storage.getRun(runId);
        if (run && statuses.includes(run.status)) return run;
        await sleep(5);
      }
    };
    for (let i = 0; i < 5; i++)
      await waitFor((await instance.launchRun(definitions, { selection: "noop" })).runId, ["SUCCESS"]);
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_RUNS; i++) {
      const run = await instance.launchRun(definitions, { selection: "noop" });
      const done = await waitFor(run.runId, ["SUCCESS", "FAILURE"]);
      latencies.push(done.startedAt! - done.createdAt);
    }
    const t0 = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < RUNS; i++)
      ids.push((await instance.launchRun(definitions, { selection: "noop" })).runId);
    const launchSeconds = (performance.now() - t0) / 1000;
    for (;;) {
      const pending = (
        await instance.storage.listRuns({ statuses: ["QUEUED", "STARTING", "STARTED"], limit: 1 })
      ).runs.length;
      if (pending === 0) break;
      await sleep(50);
    }
    const seconds = (performance.now() - t0) / 1000;
    const failed = (await instance.storage.listRuns({ statuses: ["FAILURE"], limit: 1000 })).runs.length;
    console.log(
      JSON.stringify({
        bench: "queue",
        case: `${store}-2workers`,
        store,
        workers: 2,
        latencyRuns: LATENCY_RUNS,
        launchToRunningP50Ms: pct(latencies, 0.5),
        launchToRunningP95Ms: pct(latencies, 0.95),
        runs: RUNS,
        failed,
        launchSeconds: +launchSeconds.toFixed(2),
        seconds: +seconds.toFixed(2),
        runsPerSecond: +(RUNS / seconds).toFixed(1),
        dagsterQueuedStartSeconds: "3-6",
      }),
    );

    // A backfill through the daemon: it queues the runs in chunks; the same two workers run them.
    daemon = spawn(process.execPath, [bin, "daemon", "--defs", defsFile], { env, stdio: "ignore" });
    const keys = Array.from({ length: BACKFILL_PARTITIONS }, (_, i) => `p${String(i).padStart(5, "0")}`);
    const b0 = performance.now();
    const created = await instance.createBackfill(definitions, {
      selection: "noop_partitioned",
      partitions: { range: { from: keys[0]!, to: keys[keys.length - 1]! } },
      daemon: true,
    });
    let record = created;
    for (;;) {
      record = (await instance.storage.getBackfill(created.backfillId))!;
      if (["COMPLETED", "FAILED", "CANCELED"].includes(record.status)) break;
      await sleep(200);
    }
    const backfillSeconds = (performance.now() - b0) / 1000;
    console.log(
      JSON.stringify({
        bench: "queue",
        case: `${store}-daemon-backfill`,
        store,
        workers: 2,
        partitions: BACKFILL_PARTITIONS,
        status: record.status,
        runs: record.counts.runs,
        materialized: record.counts.materialized,
        seconds: +backfillSeconds.toFixed(2),
        runsPerSecond: +(record.counts.runs / backfillSeconds).toFixed(1),
        targetSeconds: 60,
        dagsterBackfillRunsPerSecond: "~1",
        // Other processes on the machine change these figures: say how busy it was.
        cores: os.availableParallelism(),
        loadAverage1m: +os.loadavg()[0]!.toFixed(1),
      }),
    );
  } finally {
    await stopProcess(daemon);
    // The pool's children finish and exit with it.
    await stopProcess(pool);
    await instance.close();
    rmSync(home, { recursive: true, force: true });
  }
}

await onStores("queue", runCase);
process.exit(0);
