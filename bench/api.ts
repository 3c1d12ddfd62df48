// npm run bench:api — the webserver under load: 5,000 assets, 100,000 runs and an asset with
// 1,000,000 hourly partitions (500,000 materialized in 1,000 blocks) seeded; 20 concurrent loopback
// clients (in a worker thread) for 10 s per endpoint. Prints p50/p99 latency per endpoint as JSON lines.
// Options: BENCH_SECONDS=10  BENCH_CLIENTS=20  BENCH_RUNS=100000  BENCH_STORES=sqlite,postgres
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import {
  asset,
  defineDefinitions,
  hourlyPartitions,
  type NewRun,
  openInstance,
  publishSnapshot,
} from "@baton/core/internal";
import { startWebserver } from "@baton/webserver";
import { benchDag } from "./dag.js";
import { onStores } from "./stores.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 20);
const RUNS = Number(process.env.BENCH_RUNS ?? 100_000);
const PARTITIONS = 1_000_000;
const START = Date.UTC(2000, 0, 1);
const hours = hourlyPartitions({ start: new Date(START), end: new Date(START + PARTITIONS * 3_600_000) });
const definitions = defineDefinitions({
  assets: [...benchDag(4_999), asset({ key: "metrics/hourly", partitions: hours }, async () => 1)],
});
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

async function seed(instance: Awaited<ReturnType<typeof openInstance>>) {
  const storage = instance.storage;
  await publishSnapshot(storage, definitions);
  const space = hours.resolve({ now: Date.now(), dynamicKeys: () => [] });
  await storage.syncPartitionsDefinition("metrics/hourly", hours.fingerprint, (k) => space.indexOf(k));
  const now = Date.now();
  const run = (i: number): NewRun => ({
    runId: `run-${String(i).padStart(7, "0")}`,
    status: "QUEUED",
    selection: "*",
    assetKeys: [`asset_${i % 4_999}`],
    config: {},
    tags: { "bench/i": String(i) },
    createdAt: now - (RUNS - i) * 1000,
  });
  for (let i = 0; i < RUNS; i += 5_000)
    await storage.createRuns(Array.from({ length: Math.min(5_000, RUNS - i) }, (_, j) => run(i + j)));
  let batch: Parameters<typeof storage.appendEvents>[0][number][] = [];
  for (let block = 0; block < 1000; block++) {
    for (let j = 0; j < 500; j++) {
      const index = block * 1000 + j;
      batch.push({
        type: "materialization",
        runId: "run-0000000",
        timestamp: Date.now(),
        stepKey: "metrics/hourly",
        assetKey: "metrics/hourly",
        metadata: {},
        partition: space.keyAt(index),
        partitionIndex: index,
      });
    }
    if (batch.length >= 50_000) {
      await storage.appendEvents(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await storage.appendEvents(batch);
}

/** The clients run in a worker thread, so they do not share the server's event loop. */
const CLIENT_CODE = `
const { parentPort, workerData } = require("node:worker_threads");
(async () => {
  const { url, clients, seconds } = workerData;
  const latencies = [];
  let errors = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < until) {
      const t0 = performance.now();
      const res = await fetch(url);
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (!res.ok) errors++;
    }
  }));
  parentPort.postMessage({ latencies, errors });
})();
`;

async function load(url: string): Promise<{ p50: number; p99: number; requests: number; errors: number }> {
  const worker = new Worker(CLIENT_CODE, {
    eval: true,
    workerData: { url, clients: CLIENTS, seconds: SECONDS },
  });
  const { latencies, errors } = await new Promise<{ latencies: number[]; errors: number }>(
    (resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    },
  );
  await worker.terminate();
  return {
    p50: +pct(latencies, 0.5).toFixed(1),
    p99: +pct(latencies, 0.99).toFixed(1),
    requests: latencies.length,
    errors,
  };
}

async function runCase(store: "sqlite" | "postgres", databaseUrl?: string) {
  const home = mkdtempSync(path.join(os.tmpdir(), "baton-bench-api-"));
  const instance = await openInstance({ home, env: {}, ...(databaseUrl ? { databaseUrl } : {}) });
  try {
    const t0 = performance.now();
    await seed(instance);
    const seedSeconds = (performance.now() - t0) / 1000;
    const server = await startWebserver({ instance, port: 0 });
    try {
      const cases = [
        ["asset-graph", "/api/assets", 100],
        ["runs-page", "/api/runs?limit=50", 50],
        ["runs-page-deep", `/api/runs?limit=50&cursor=${Math.floor(RUNS / 2)}`, 50],
        ["partition-status", "/api/assets/metrics%2Fhourly/partitions", 200],
      ] as const;
      for (const [name, route, target] of cases) {
        await fetch(server.url + route).then((r) => r.arrayBuffer()); // warm
        const r = await load(server.url + route);
        console.log(
          JSON.stringify({
            bench: "api",
            case: `${store}-${name}`,
            store,
            route,
            clients: CLIENTS,
            seconds: SECONDS,
            assets: 5_000,
            runs: RUNS,
            partitions: PARTITIONS,
            seedSeconds: +seedSeconds.toFixed(1),
            ...r,
            targetP99Ms: target,
          }),
        );
      }
    } finally {
      await server.close();
    }
  } finally {
    await instance.close();
    rmSync(home, { recursive: true, force: true });
  }
}

await onStores("api", runCase);
process.exit(0);
