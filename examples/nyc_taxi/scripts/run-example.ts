// npm run example — generate a small data set if the landing folder has none, materialize every
// asset for the months found there (a backfill on the embedded store under .baton/), and print a
// summary table from the warehouse.
import { readdirSync } from "node:fs";
import path from "node:path";
import { openInstance } from "@baton/core";
import { DuckDBInstance } from "@duckdb/node-api";
import definitions from "../definitions.js";
import { generateMonth } from "../src/generate.js";
import { partitionOfFile, TAXI_TYPES } from "../src/layout.js";
import { EXAMPLE_DIR, LANDING_DIR, WAREHOUSE } from "../src/paths.js";

function landed(): string[] {
  try {
    return readdirSync(LANDING_DIR)
      .map(partitionOfFile)
      .filter((p): p is string => p !== undefined)
      .sort();
  } catch {
    return [];
  }
}

let partitions = landed();
if (partitions.length === 0) {
  console.log(`No trip files in ${LANDING_DIR}: generating 2019-01..2019-02 (20,000 rows per file)…`);
  for (const month of ["2019-01", "2019-02"])
    for (const taxi of TAXI_TYPES) await generateMonth({ month, taxi, rows: 20_000, dir: LANDING_DIR });
  partitions = landed();
}
console.log(`Materializing every asset for ${partitions.length} landed files: ${partitions.join(", ")}`);

// The same store as `npm run example:dev` (BATON_HOME, default examples/nyc_taxi/.baton).
const home = process.env.BATON_HOME ? path.resolve(process.env.BATON_HOME) : path.join(EXAMPLE_DIR, ".baton");
const instance = await openInstance({ home, env: {} });
const t0 = performance.now();
const backfill = await instance.createBackfill(definitions, {
  selection: "*",
  partitions: { keys: partitions },
});
let last = -1;
const done = await instance.runBackfill(definitions, backfill.backfillId, {
  onProgress: (p) => {
    if (p.unitsDone !== last) {
      last = p.unitsDone;
      process.stderr.write(`\r  ${p.unitsDone}/${p.unitsTotal} runs`);
    }
  },
});
process.stderr.write("\n");
const c = done.counts;
console.log(
  `Backfill ${done.status} in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${c.runs} runs, ` +
    `${c.materialized}/${c.targeted} asset partitions materialized, ${c.failed} failed, ${c.skipped} skipped`,
);
await instance.close();

const db = await DuckDBInstance.fromCache(WAREHOUSE);
const conn = await db.connect();
const show = async (title: string, query: string) => {
  const rows = (await conn.runAndReadAll(query)).getRowObjectsJson();
  console.log(`\n${title}`);
  console.table(rows);
};
await show(
  "taxi/monthly_summary",
  "select month, taxi_type, trips::INTEGER as trips, revenue, avg_distance from taxi.monthly_summary order by month, taxi_type",
);
await show(
  "Cleaning (taxi/clean_trips vs taxi/raw_trips)",
  `select r._partition as partition, count(*)::INTEGER as raw_rows,
          (select count(*)::INTEGER from taxi.clean_trips c where c._partition = r._partition) as clean_rows
   from taxi.raw_trips r group by 1 order by 1`,
);
await show(
  "Top pickup zones (taxi/zone_stats)",
  "select zone, borough, sum(pickups)::INTEGER as pickups, round(sum(revenue), 2) as revenue from taxi.zone_stats group by all order by pickups desc limit 5",
);
await show(
  "Quality report (taxi/quality_report, computed by python/quality_report.py)",
  "select taxi_type, months::INTEGER as months, trips::INTEGER as trips, revenue, revenue_per_trip from taxi.quality_report order by taxi_type",
);
conn.closeSync();
console.log(`\nWarehouse: ${WAREHOUSE}\nRun history: cd examples/nyc_taxi && npx baton runs list`);
process.exitCode = done.status === "COMPLETED" ? 0 : 1;
