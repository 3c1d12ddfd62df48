// npm run bench:partitions — an asset with 1,000,000 hourly partitions, 500,000 of them
// materialized in scattered blocks (seeded through the public store API, appendEvents, in bulk).
// Times: full partition status (ranges + keys), count missing, and lazy key-space lookups;
// next to the physical floor of reading 500,000 per-partition rows with raw SQL.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  asset,
  defineDefinitions,
  hourlyPartitions,
  openInstance,
  partitionStatus,
} from "@baton/core/internal";
import Database from "better-sqlite3";
import pg from "pg";
import { loadKeySpaces } from "../packages/core/dist/instance/run-partitions-request.js";
import { countRanges } from "../packages/core/dist/storage/partition-ranges.js";
import { onStores } from "./stores.js";

const TOTAL = 1_000_000;
const START = Date.UTC(2000, 0, 1);
const hours = hourlyPartitions({ start: new Date(START), end: new Date(START + TOTAL * 3_600_000) });
const defs = defineDefinitions({
  assets: [asset({ key: "metrics/hourly", partitions: hours }, async () => 1)],
});

function median(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const r = fn();
  return [r, performance.now() - t0];
}
async function timeAsync<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}

// Key-space laziness: no key list is ever built.
{
  const space = hours.resolve({ now: Date.now(), dynamicKeys: () => [] });
  const rss0 = process.memoryUsage().rss;
  const [count, countMs] = time(() => space.count());
  const [, keyAtMs] = time(() => {
    for (let i = 0; i < 10_000; i++) space.keyAt((i * 97_919) % TOTAL);
  });
  const [, indexOfMs] = time(() => {
    for (let i = 0; i < 10_000; i++) space.indexOf(space.keyAt((i * 7_919) % TOTAL));
  });
  console.log(
    JSON.stringify({
      bench: "partitions",
      case: "keyspace-1000000",
      partitions: count,
      countMs: +countMs.toFixed(3),
      keyAtUs: +((keyAtMs * 1000) / 10_000).toFixed(2),
      keyAtPlusIndexOfUs: +((indexOfMs * 1000) / 10_000).toFixed(2),
      rssGrowthMb: Math.round((process.memoryUsage().rss - rss0) / 1_048_576),
    }),
  );
}

async function seed(instance: Awaited<ReturnType<typeof openInstance>>) {
  const space = hours.resolve({ now: Date.now(), dynamicKeys: () => [] });
  await instance.storage.syncPartitionsDefinition("metrics/hourly", hours.fingerprint, (k) =>
    space.indexOf(k),
  );
  // 1,000 blocks of 500 materialized partitions, each followed by a gap of 500 (scattered).
  const runId = "seed-run";
  await instance.storage.createRun({
    runId,
    status: "QUEUED",
    selection: "seed",
    assetKeys: ["metrics/hourly"],
    config: {},
    tags: {},
    createdAt: Date.now(),
  });
  let batch: Parameters<typeof instance.storage.appendEvents>[0][number][] = [];
  const flush = async () => {
    await instance.storage.appendEvents(batch);
    batch = [];
  };
  const t0 = performance.now();
  for (let block = 0; block < 1000; block++) {
    for (let j = 0; j < 500; j++) {
      const index = block * 1000 + j;
      batch.push({
        type: "materialization",
        runId,
        timestamp: Date.now(),
        stepKey: "metrics/hourly",
        assetKey: "metrics/hourly",
        metadata: {},
        partition: space.keyAt(index),
        partitionIndex: index,
      });
    }
    if (batch.length >= 50_000) await flush();
  }
  await flush();
  return (performance.now() - t0) / 1000;
}

async function runCase(store: "sqlite" | "postgres", databaseUrl?: string) {
  const home = mkdtempSync(path.join(os.tmpdir(), "baton-bench-parts-"));
  try {
    const instance = await openInstance({ home, env: {}, ...(databaseUrl ? { databaseUrl } : {}) });
    const seedSeconds = await seed(instance);
    const spaces = await loadKeySpaces(defs, instance.storage, Date.now());
    const statusMs: number[] = [];
    const missingMs: number[] = [];
    let ranges = 0;
    let missing = 0;
    for (let i = 0; i < 7; i++) {
      const [status, ms] = await timeAsync(() =>
        partitionStatus(defs, instance.storage, spaces, "metrics/hourly"),
      );
      statusMs.push(ms);
      ranges = status.ranges.length;
      const [counts, ms2] = await timeAsync(async () =>
        countRanges(await instance.storage.getPartitionRanges("metrics/hourly"), TOTAL),
      );
      missingMs.push(ms2);
      missing = counts.missing;
    }
    await instance.close();
    const floorMs = await rowFloor(store, home, databaseUrl);
    console.log(
      JSON.stringify({
        bench: "partitions",
        case: `${store}-status-1000000`,
        store,
        partitions: TOTAL,
        materialized: TOTAL - missing,
        ranges,
        seedSeconds: +seedSeconds.toFixed(2),
        statusP50Ms: +median(statusMs).toFixed(2),
        statusMaxMs: +Math.max(...statusMs).toFixed(2),
        countMissingP50Ms: +median(missingMs).toFixed(2),
        floorReadAllRowsMs: +floorMs.toFixed(1),
        ratio: +(median(statusMs) / floorMs).toFixed(3),
      }),
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** The physical floor of the naive design: read every stored partition row (key, status) with raw SQL. */
async function rowFloor(store: "sqlite" | "postgres", home: string, url?: string) {
  if (store === "sqlite") {
    const db = new Database(path.join(home, "baton.db"), { readonly: true });
    const stmt = db
      .prepare(
        "select partition_key, status from asset_partitions where asset_key = ? order by partition_index",
      )
      .raw();
    const [, ms] = time(() => stmt.all("metrics/hourly"));
    db.close();
    return ms;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const [, ms] = await timeAsync(() =>
    client.query(
      "select partition_key, status from asset_partitions where asset_key = $1 order by partition_index",
      ["metrics/hourly"],
    ),
  );
  await client.end();
  return ms;
}

await onStores("partitions", runCase);
