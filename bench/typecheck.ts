// npm run bench:typecheck — what `--typecheck` adds to a run's start-up, and `baton check` alone.
// Wall time of the built CLI as a child process (median of BENCH_RUNS, default 5) on a small
// fixture and on the NYC taxi example, each materializing one small asset: without --typecheck
// (the default: no tsc spawned), with it, `baton check`, and the floor: the project's own
// `tsc --noEmit -p tsconfig.json`.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BIN = path.join(ROOT, "packages/core/bin/baton.js");
const TSC = path.join(ROOT, "node_modules/typescript/bin/tsc");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

const projects = [
  { name: "fixture", dir: path.join(ROOT, "tests/fixtures/typecheck/clean"), select: "trips" },
  { name: "example", dir: path.join(ROOT, "examples/nyc_taxi"), select: "taxi/payment_types" },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function timed(args: string[], cwd: string, env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, env, encoding: "utf8" });
  const ms = performance.now() - t0;
  if (r.status !== 0)
    throw new Error(`${args.join(" ")} in ${cwd} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return ms;
}

for (const project of projects) {
  const scratch = mkdtempSync(path.join(os.tmpdir(), "baton-bench-typecheck-"));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(BATON_|TAXI_)/.test(k)) env[k] = v;
  Object.assign(env, {
    BATON_HOME: scratch,
    TAXI_WAREHOUSE: path.join(scratch, "warehouse.duckdb"),
    TAXI_LANDING: path.join(scratch, "landing"),
  });
  const cases: Record<string, string[]> = {
    materialize: [BIN, "materialize", "--select", project.select],
    "materialize-typecheck": [BIN, "materialize", "--select", project.select, "--typecheck"],
    check: [BIN, "check"],
    tsc: [TSC, "--noEmit", "-p", "tsconfig.json"],
  };
  try {
    // One warm-up of each (file system caches, the store's migrations), not measured.
    for (const args of Object.values(cases)) timed(args, project.dir, env);
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    for (let i = 0; i < RUNS; i++)
      for (const [name, args] of Object.entries(cases)) samples[name]!.push(timed(args, project.dir, env));
    const p50 = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
    for (const name of Object.keys(cases)) {
      const extra =
        name === "materialize-typecheck"
          ? {
              addedMs: Math.round(p50[name]! - p50.materialize!),
              ratio: +(p50[name]! / p50.materialize!).toFixed(2),
            }
          : name === "check"
            ? { ratio: +(p50[name]! / p50.tsc!).toFixed(2) }
            : {};
      console.log(
        JSON.stringify({
          bench: "typecheck",
          case: `${project.name}-${name}`,
          project: project.name,
          select: name.startsWith("materialize") ? project.select : undefined,
          runs: RUNS,
          p50Ms: Math.round(p50[name]!),
          minMs: Math.round(Math.min(...samples[name]!)),
          maxMs: Math.round(Math.max(...samples[name]!)),
          ...extra,
        }),
      );
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
