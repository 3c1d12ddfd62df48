// npm run bench:rss — resident memory of `baton dev` on the NYC taxi example (the dev process with
// its daemon and webserver, and its run workers), as the example's `npm run example:dev` starts it,
// on a temp store. Two moments: idle right after start-up, and idle again after the landing sensor
// ran a file (workers that loaded DuckDB for a run), and once the idle workers were replaced by fresh
// ones (BATON_WORKER_IDLE_EXIT_MS). Per process RSS from /proc/<pid>/status (VmRSS,
// with RssAnon: the heap and native allocations, RssFile: mapped code) and the total, as JSON lines.
// PSS (shared pages split between the processes) is what the processes together take from the machine.
// Linux only (reads /proc). Options: BENCH_WORKERS=2  BENCH_SETTLE_MS=6000  BENCH_WEBSERVER=1
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openInstance } from "@baton/core";
import { generateMonth } from "../examples/nyc_taxi/src/generate.js";

const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 6000);
const WEBSERVER = process.env.BENCH_WEBSERVER !== "0";
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const example = path.join(root, "examples", "nyc_taxi");
const bin = path.join(root, "packages", "core", "bin", "baton.js");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (process.platform !== "linux") {
  console.error("bench:rss reads /proc: Linux only");
  process.exit(1);
}

interface Sample {
  readonly pid: number;
  readonly role: string;
  readonly rssMB: number;
  readonly anonMB: number;
  readonly fileMB: number;
  /** Proportional set size: shared pages (node's binary, libraries) divided among the processes sharing them. */
  readonly pssMB: number;
}

const kB = (status: string, field: string) =>
  Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
const mb = (k: number) => Math.round(k / 102.4) / 10;

/** Every process of the group led by `pgid` (baton dev and its workers), with its RSS. */
function sample(pgid: number): Sample[] {
  const out: Sample[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command name (which may hold spaces): state ppid pgrp …
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== pgid) continue;
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const role = cmdline.includes("--child") ? "worker" : cmdline.includes("dev") ? "dev" : cmdline[0]!;
      out.push({
        pid: Number(entry),
        role,
        rssMB: mb(kB(status, "VmRSS")),
        anonMB: mb(kB(status, "RssAnon")),
        fileMB: mb(kB(status, "RssFile")),
        pssMB: mb(kB(readFileSync(`/proc/${entry}/smaps_rollup`, "utf8"), "Pss")),
      });
    } catch {
      // gone meanwhile
    }
  }
  return out.sort((a, b) => (a.role === b.role ? a.pid - b.pid : a.role === "dev" ? -1 : 1));
}

function report(phase: string, samples: readonly Sample[]) {
  for (const s of samples) console.log(JSON.stringify({ bench: "rss", phase, ...s }));
  const sum = (f: (s: Sample) => number) => Math.round(samples.reduce((t, s) => t + f(s), 0) * 10) / 10;
  console.log(
    JSON.stringify({
      bench: "rss",
      phase,
      process: "total",
      processes: samples.length,
      workers: WORKERS,
      rssMB: sum((s) => s.rssMB),
      pssMB: sum((s) => s.pssMB),
    }),
  );
}

// The example's `dev` script sets V8 flags in NODE_OPTIONS: the same here.
const devScript = (
  JSON.parse(readFileSync(path.join(example, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
  }
).scripts.dev!;
const flags = /NODE_OPTIONS="\$NODE_OPTIONS ([^"]*)"/.exec(devScript)?.[1];
const tmp = mkdtempSync(path.join(os.tmpdir(), "baton-bench-rss-"));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  ...(flags ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} ${flags}`.trim() } : {}),
  BATON_HOME: path.join(tmp, "home"),
  TAXI_LANDING: path.join(tmp, "landing"),
  TAXI_WAREHOUSE: path.join(tmp, "warehouse.duckdb"),
};
let dev: ChildProcess | undefined;
try {
  // As `npm run example:dev` starts it (file watching on), on a free port.
  dev = fork(
    bin,
    [
      "dev",
      "--defs",
      "definitions.ts",
      "--workers",
      String(WORKERS),
      "--report-to-parent",
      ...(WEBSERVER ? ["--port", "0"] : ["--no-webserver"]),
    ],
    // Not this script's tsx loader flags (fork's default): `baton` is JavaScript.
    { cwd: example, env, execArgv: [], stdio: ["ignore", "ignore", "inherit", "ipc"], detached: true },
  );
  const pgid = dev.pid!;
  await new Promise<void>((resolve, reject) => {
    dev!.on("message", (m: { type?: string }) => m?.type === "baton-dev-ready" && resolve());
    dev!.on("exit", (code) => reject(new Error(`baton dev exited (${code}) before it was ready`)));
  });
  const instance = await openInstance({ home: env.BATON_HOME!, env: {} });
  // `baton dev` keeps one worker while idle and starts the others (up to --workers) while it is busy.
  const workersUp = async (count = 1) => {
    for (let i = 0; i < 600; i++) {
      const s = sample(pgid);
      if (s.filter((p) => p.role === "worker").length === count) {
        // Each worker registers as it starts.
        const live = await instance.storage.listWorkers();
        if (live.filter((w) => w.status === "running").length >= count) return;
      }
      await sleep(100);
    }
    throw new Error("the workers did not start within 60 s");
  };
  await workersUp();
  await sleep(SETTLE_MS);
  report("idle-after-start", sample(pgid));

  // A trip file lands: the sensor launches its backfill (raw → clean → reports), the workers run it.
  await generateMonth({ month: "2019-01", taxi: "yellow", rows: 20_000, dir: env.TAXI_LANDING! });
  const deadline = Date.now() + 120_000;
  for (;;) {
    const list = (await instance.storage.listBackfills({ limit: 10 })).backfills;
    if (list.length > 0 && list.every((b) => ["COMPLETED", "FAILED", "CANCELED"].includes(b.status))) break;
    if (Date.now() > deadline) throw new Error("the landed file's backfill did not finish within 120 s");
    await sleep(250);
  }
  await sleep(SETTLE_MS);
  report("idle-after-run", sample(pgid));

  // A worker idle for BATON_WORKER_IDLE_EXIT_MS (default 60 s) with the code loaded is replaced by a
  // fresh one, small until its next run.
  const idleExit = Number(env.BATON_WORKER_IDLE_EXIT_MS || 60_000);
  if (idleExit > 0) {
    const before = sample(pgid)
      .filter((p) => p.role === "worker")
      .map((p) => p.pid);
    const until = Date.now() + idleExit + 30_000;
    while (sample(pgid).some((p) => before.includes(p.pid)) && Date.now() < until) await sleep(500);
    await workersUp();
    await sleep(SETTLE_MS);
    report("idle-after-worker-recycle", sample(pgid));
  }
  await instance.close();
} finally {
  if (dev?.pid !== undefined) {
    try {
      process.kill(-dev.pid, "SIGINT");
    } catch {
      // already gone
    }
    await new Promise((r) => dev!.once("exit", r).once("error", r));
  }
  rmSync(tmp, { recursive: true, force: true });
}
