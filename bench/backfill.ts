// npm run bench:backfill — a backfill of 10,000 partitions of a no-op asset through the engine
// (multi-run: one run per partition, in-process), then the same range as one single run.
// Options: BENCH_PARTITIONS=10000  BENCH_STORES=sqlite,postgres  BENCH_RUNS_AT_ONCE=8
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { asset, defineDefinitions, hourlyPartitions, openInstance, singleRunBackfill } from "@baton/core";
import { onStores } from "./stores.js";

const N = Number(process.env.BENCH_PARTITIONS ?? 10_000);
const RUNS_AT_ONCE = Number(process.env.BENCH_RUNS_AT_ONCE ?? 8);
const START = Date.UTC(2020, 0, 1);
const hours = hourlyPartitions({ start: new Date(START), end: new Date(START + N * 3_600_000) });
const multi = asset({ key: "noop/multi", partitions: hours }, async () => 1);
const single = asset(
  { key: "noop/single", partitions: hours, backfillPolicy: singleRunBackfill() },
  async (ctx) => ({
    metadata: { partitions: ctx.partitionKeys.length },
  }),
);
const defs = defineDefinitions({ assets: [multi, single] });
const first = hours.resolve({ now: Date.now(), dynamicKeys: () => [] }).keyAt(0);
const last = hours.resolve({ now: Date.now(), dynamicKeys: () => [] }).keyAt(N - 1);

async function runCase(store: "sqlite" | "postgres", databaseUrl?: string) {
  const home = mkdtempSync(path.join(os.tmpdir(), "baton-bench-backfill-"));
  try {
    const instance = await openInstance({ home, env: {}, ...(databaseUrl ? { databaseUrl } : {}) });
    for (const [name, selection] of [
      ["multi-run", "noop/multi"],
      ["single-run", "noop/single"],
    ] as const) {
      const t0 = performance.now();
      const record = await instance.createBackfill(defs, {
        selection,
        partitions: { range: { from: first, to: last } },
      });
      const done = await instance.runBackfill(defs, record.backfillId, { concurrency: RUNS_AT_ONCE });
      const seconds = (performance.now() - t0) / 1000;
      if (done.status !== "COMPLETED") throw new Error(`${name} backfill ended ${done.status}`);
      console.log(
        JSON.stringify({
          bench: "backfill",
          case: `${store}-${name}-${N}`,
          store,
          partitions: N,
          runs: done.counts.runs,
          runsAtOnce: RUNS_AT_ONCE,
          seconds: +seconds.toFixed(2),
          runsPerSecond: +(done.counts.runs / seconds).toFixed(1),
          partitionsPerSecond: +(N / seconds).toFixed(0),
          rssMb: Math.round(process.resourceUsage().maxRSS / 1024),
          dagsterRunsPerSecond: 1,
        }),
      );
    }
    await instance.close();
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

await onStores("backfill", runCase);
