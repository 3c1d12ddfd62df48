// npm run bench:sensor — a file dropped into a folder watched by a file sensor → its run RUNNING:
// `baton daemon` and `baton worker --concurrency 2` as real processes; 50 files, one at a time,
// written as a user would (so the sensor's 200 ms settle wait for files still being written is
// included; BENCH_SETTLE=0 backdates each file's mtime to leave it out). Prints median and p95
// latency (drop → run started) as JSON.
// Options: BENCH_FILES=50  BENCH_STORES=sqlite,postgres
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openInstance } from "@baton/core";
import { onStores, stopProcess } from "./stores.js";

const FILES = Number(process.env.BENCH_FILES ?? 50);
const SETTLE = process.env.BENCH_SETTLE !== "0";
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const defsFile = path.join(root, "bench", "fixtures", "noop", "definitions.ts");
const bin = path.join(root, "packages", "core", "bin", "baton.js");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

async function runCase(store: "sqlite" | "postgres", databaseUrl?: string) {
  const home = mkdtempSync(path.join(os.tmpdir(), "baton-bench-sensor-"));
  const dir = path.join(home, "landing");
  mkdirSync(dir);
  const env = {
    ...process.env,
    BATON_HOME: home,
    BENCH_SENSOR_DIR: dir,
    ...(databaseUrl ? { BATON_DATABASE_URL: databaseUrl } : {}),
  };
  const instance = await openInstance({ home, env: {}, ...(databaseUrl ? { databaseUrl } : {}) });
  const children: ChildProcess[] = [];
  try {
    children.push(
      spawn(process.execPath, [bin, "worker", "--concurrency", "2", "--defs", defsFile], {
        env,
        stdio: "ignore",
      }),
    );
    const daemonOut: string[] = [];
    const daemon = spawn(process.execPath, [bin, "daemon", "--defs", defsFile], {
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    daemon.stderr!.on("data", (d: Buffer) => daemonOut.push(d.toString()));
    children.push(daemon);
    while (!daemonOut.join("").includes("is the leader")) await sleep(50);
    while ((await instance.storage.listWorkers()).filter((w) => w.status === "running").length < 2)
      await sleep(50);
    // The sensor's first evaluation (on an empty folder) happens as the daemon starts.
    while ((await instance.storage.listTicks("bench_files", { limit: 1 })).length === 0) await sleep(50);

    const latencies: number[] = [];
    for (let i = 0; i < FILES + 3; i++) {
      const name = `file-${String(i).padStart(3, "0")}.csv`;
      const file = path.join(dir, name);
      const dropped = Date.now();
      writeFileSync(file, `id\n${i}\n`);
      if (!SETTLE) utimesSync(file, new Date(dropped - 5000), new Date(dropped - 5000));
      let started: number | null = null;
      for (let polls = 0; started === null; polls++) {
        if (polls > 2000) throw new Error(`no run started for ${name} within 10 s`);
        const { runs } = await instance.storage.listRuns({ limit: 5 });
        const run = runs.find((r) => r.tags["baton/file"] === name);
        if (run?.startedAt) started = run.startedAt;
        else await sleep(5);
      }
      if (i >= 3) latencies.push(started - dropped); // the first files warm the workers up
      await sleep(50);
    }
    console.log(
      JSON.stringify({
        bench: "sensor",
        case: `${store}-file-to-running`,
        store,
        files: FILES,
        settleWait: SETTLE,
        p50Ms: pct(latencies, 0.5),
        p95Ms: pct(latencies, 0.95),
        maxMs: Math.max(...latencies),
        targetMedianMs: 1000,
        dagsterSensorToRunSeconds: "~17 (30 s default interval)",
      }),
    );
  } finally {
    for (const child of children) await stopProcess(child);
    await instance.close();
    rmSync(home, { recursive: true, force: true });
  }
}

await onStores("sensor", runCase);
process.exit(0);
