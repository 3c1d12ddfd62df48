// npm run bench:ingest — a 1,000,000-row yellow month (gzip CSV in the TLC layout), loaded as
// partition 2019-01|yellow of taxi/raw_trips through Baton (engine, DuckDB IO manager, events,
// store), against the bare DuckDB floor in the same process: the same read_csv query in
// CREATE TABLE … LIMIT 0 + INSERT INTO … SELECT. Repetitions alternate; medians reported.
// Options: BENCH_ROWS=1000000  BENCH_REPEAT=3
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const work = mkdtempSync(path.join(os.tmpdir(), "baton-bench-ingest-"));
process.env.TAXI_LANDING = path.join(work, "landing");
process.env.TAXI_WAREHOUSE = path.join(work, "warehouse.duckdb");

const { generateMonth } = await import("../examples/nyc_taxi/src/generate.js");
const { ingestQuery } = await import("../examples/nyc_taxi/src/ingest.js");
const { default: definitions } = await import("../examples/nyc_taxi/definitions.js");
const { openInstance } = await import("@baton/core");

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  const t0 = performance.now();
  const file = await generateMonth({
    month: "2019-01",
    taxi: "yellow",
    rows: ROWS,
    dir: process.env.TAXI_LANDING,
  });
  const generateSeconds = (performance.now() - t0) / 1000;
  const instance = await openInstance({ home: path.join(work, "home"), env: {} });
  const floorDb = await DuckDBInstance.create(path.join(work, "floor.duckdb"));
  const floor = await floorDb.connect();
  const q = ingestQuery(file, "yellow");

  const baton: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    let t = performance.now();
    const run = await instance.materialize(definitions, {
      selection: "taxi/raw_trips",
      partitions: { keys: ["2019-01|yellow"] },
      checkKeys: [],
    });
    if (run.status !== "SUCCESS") throw new Error(`Baton run ended ${run.status}: ${run.reason}`);
    baton.push((performance.now() - t) / 1000);

    t = performance.now();
    await floor.run("drop table if exists raw_trips");
    await floor.run(`create table raw_trips as select * from (${q.text}) limit 0`, q.params as never);
    await floor.run(`insert into raw_trips select * from (${q.text})`, q.params as never);
    bare.push((performance.now() - t) / 1000);
  }
  const rows = Number(
    (await floor.runAndReadAll("select count(*)::INTEGER as n from raw_trips")).getRowObjectsJson()[0]!.n,
  );
  floor.closeSync();
  await instance.close();
  console.log(
    JSON.stringify({
      bench: "ingest",
      case: `yellow-${ROWS}`,
      rows,
      repeat: REPEAT,
      generateSeconds: +generateSeconds.toFixed(2),
      batonSeconds: +median(baton).toFixed(3),
      bareDuckdbSeconds: +median(bare).toFixed(3),
      ratio: +(median(baton) / median(bare)).toFixed(3),
      batonRuns: baton.map((s) => +s.toFixed(3)),
      bareRuns: bare.map((s) => +s.toFixed(3)),
    }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
