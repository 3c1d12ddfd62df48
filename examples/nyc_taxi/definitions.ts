/**
 * The Data Engineering Zoomcamp's NYC taxi pipeline, asset-centric, on DuckDB.
 *
 *   landing/*.csv.gz ─► taxi/raw_trips (month × taxi type) ─► taxi/clean_trips ─► taxi/daily_revenue (month, SQL)
 *   data/*.csv       ─► taxi/zones, taxi/payment_types ───────────────┘        └► taxi/zone_stats (month, SQL)
 *                                                     taxi/clean_trips (all) ─► taxi/monthly_summary, taxi/payment_summary (SQL)
 *                                                     taxi/monthly_summary ─► taxi/quality_report (Python, via pipes)
 *
 * Ingest and cleaning are TypeScript (config, metadata, CSV errors); the four reports are SQL
 * models in models/taxi/*.sql (`sqlAssets`), referencing the TypeScript assets by key.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  asset,
  assetCheck,
  assetJob,
  defineDefinitions,
  fileSensor,
  monthlyPartitions,
  multiPartitions,
  pipesCheck,
  pipesHelperPath,
  runPipes,
  runStatusSensor,
  schedule,
  staticPartitions,
  webhookAlert,
} from "@baton/core";
import {
  type DuckDBWarehouse,
  duckdb,
  duckdbIOManager,
  literal,
  raw,
  sql,
  sqlAssets,
} from "@baton/core/duckdb";
import { z } from "zod";
import { ingestQuery, landingFile } from "./src/ingest.js";
import { partitionOfFile, TAXI_TYPES } from "./src/layout.js";
import { EXAMPLE_DIR, LANDING_DIR, PAYMENT_TYPES_CSV, WAREHOUSE, ZONES_CSV } from "./src/paths.js";

declare module "@baton/core" {
  interface ResourceTypes {
    warehouse: DuckDBWarehouse;
  }
}

export const months = monthlyPartitions({ start: "2019-01", end: "2021-08" });
export const trips = multiPartitions({ month: months, taxi: staticPartitions(TAXI_TYPES) });

export const rawTrips = asset(
  {
    key: "taxi/raw_trips",
    group: "ingest",
    kinds: ["duckdb", "csv"],
    description:
      "One TLC trip file per month and taxi type, loaded with DuckDB's CSV reader into one schema.",
    partitions: trips,
    config: z.object({ landing: z.string().default(LANDING_DIR) }),
    codeVersion: "1",
  },
  async (ctx) => {
    const { month, taxi } = ctx.partitionDimensions;
    const file = landingFile(ctx.config.landing, month, taxi);
    ctx.log.info("loading", { file });
    return ingestQuery(file, taxi);
  },
);

export const zones = asset(
  { key: "taxi/zones", group: "ingest", kinds: ["duckdb"], description: "TLC taxi zone lookup (265 zones)." },
  async () => sql`select LocationID::INTEGER as location_id, Borough as borough, Zone as zone, service_zone
                  from read_csv(${ZONES_CSV}, header = true)`,
);

export const paymentTypes = asset(
  { key: "taxi/payment_types", group: "ingest", kinds: ["duckdb"], description: "TLC payment type codes." },
  async () =>
    sql`select payment_type::INTEGER as payment_type, description from read_csv(${PAYMENT_TYPES_CSV}, header = true)`,
);

const CleanConfig = z.object({
  /** Turn off a filter to see the blocking checks catch what it would have removed. */
  dropNegativeFares: z.boolean().default(true),
  dropDropoffBeforePickup: z.boolean().default(true),
});

export const cleanTrips = asset(
  {
    key: "taxi/clean_trips",
    group: "transform",
    kinds: ["duckdb"],
    description:
      "Trips without negative fares, time travel, unknown zones, missing passenger counts or stray dates.",
    partitions: trips,
    ins: { raw: rawTrips, zones },
    resources: ["warehouse"],
    config: CleanConfig,
    codeVersion: "1",
  },
  async (ctx, { raw, zones }) => {
    const { month } = ctx.partitionDimensions;
    const window = ctx.partitionTimeWindow!;
    const from = window.start.toISOString().slice(0, 19).replace("T", " ");
    const to = window.end.toISOString().slice(0, 19).replace("T", " ");
    const [counts] = await ctx.resources.warehouse.query(sql`
      select count(*) as rows,
        count(*) filter (where fare_amount < 0 or total_amount < 0) as negative_fare,
        count(*) filter (where dropoff_datetime <= pickup_datetime) as dropoff_before_pickup,
        count(*) filter (where pu_location_id not in (select location_id from ${zones})
                            or do_location_id not in (select location_id from ${zones})) as unknown_zone,
        count(*) filter (where passenger_count is null) as null_passenger_count,
        count(*) filter (where pickup_datetime < ${from}::TIMESTAMP or pickup_datetime >= ${to}::TIMESTAMP) as outside_month
      from ${raw}`);
    ctx.addMetadata({ month, ...counts });
    const c = ctx.config;
    return sql`
      select * from ${raw}
      where (${!c.dropNegativeFares} or (fare_amount >= 0 and total_amount >= 0))
        and (${!c.dropDropoffBeforePickup} or dropoff_datetime > pickup_datetime)
        and pu_location_id in (select location_id from ${zones})
        and do_location_id in (select location_id from ${zones})
        and passenger_count is not null
        and pickup_datetime >= ${from}::TIMESTAMP and pickup_datetime < ${to}::TIMESTAMP`;
  },
);

/**
 * The reports as SQL models, one `.sql` file each under models/ (the path is the key:
 * models/taxi/daily_revenue.sql is `taxi/daily_revenue`). `{{ ref('taxi/clean_trips') }}` names a
 * TypeScript asset listed in `sources`; the header comment gives description, group, partitions
 * (`months`, by name) and checks. Their tables are the ones the DuckDB IO manager reads, so
 * TypeScript assets downstream (taxi/quality_report) read them like any other asset.
 */
export const reports = sqlAssets({
  dir: path.join(EXAMPLE_DIR, "models"),
  warehouse: "warehouse",
  partitions: { months },
  sources: [cleanTrips, zones, paymentTypes],
});

/**
 * A step written in Python (standard library only): DuckDB exports taxi/monthly_summary to a CSV
 * file, `python3 python/quality_report.py <csv>` reads it with `csv` and reports metadata, two
 * checks (turned into this asset's checks by `pipesCheck`) and one row per taxi type, stored here.
 */
export const qualityReport = asset(
  {
    key: "taxi/quality_report",
    group: "reports",
    kinds: ["duckdb", "python"],
    description: "Trips and revenue per trip by taxi type, computed by a Python script (pipes).",
    ins: { summary: reports.byKey("taxi/monthly_summary") },
    resources: ["warehouse"],
  },
  async (ctx, { summary }) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "taxi-quality-"));
    try {
      const csv = path.join(dir, "monthly_summary.csv");
      await ctx.resources.warehouse.run(
        sql`copy (select month, taxi_type, trips, revenue, avg_distance from ${summary} order by all) to ${raw(literal(csv))} (header, delimiter ',')`,
      );
      return await runPipes(ctx, {
        command: "python3",
        args: [path.join(EXAMPLE_DIR, "python", "quality_report.py"), csv],
        env: { PYTHONPATH: path.dirname(pipesHelperPath("python")), PYTHONDONTWRITEBYTECODE: "1" },
      }).catch((error: unknown) => {
        if (error instanceof Error && /could not start "python3".*ENOENT/.test(error.message))
          throw new Error(
            `taxi/quality_report runs python/quality_report.py and needs python3 (>= 3.9, standard library only) on PATH: ${error.message}`,
          );
        throw error;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);

export const revenuePerTripInRange = pipesCheck({
  asset: qualityReport,
  name: "revenue_per_trip_in_range",
  description: "Revenue per trip of every month × taxi type between $2.50 and $200 (reported by Python).",
});

export const avgDistancePositive = pipesCheck({
  asset: qualityReport,
  name: "avg_distance_positive",
  severity: "WARN",
  description: "Every month × taxi type has a positive average distance (reported by Python).",
});

export const nonEmpty = assetCheck(
  { asset: rawTrips, name: "non_empty", blocking: true, description: "The file had at least one trip." },
  async (_ctx, table) => {
    const rows = await table.count();
    return { passed: rows > 0, metadata: { rows } };
  },
);

export const rowCountDrift = assetCheck(
  {
    asset: rawTrips,
    name: "row_count_drift",
    severity: "WARN",
    description: "Rows within ±50% of the previous month of the same taxi type (when it was loaded).",
    resources: ["warehouse"],
  },
  async (ctx, table) => {
    const [month, taxi] = (ctx.partitionKey ?? "").split("|");
    const [y, m] = month!.split("-").map(Number) as [number, number];
    const previous = `${m === 1 ? y - 1 : y}-${String(m === 1 ? 12 : m - 1).padStart(2, "0")}|${taxi}`;
    const rows = await table.count();
    const [prev] = await ctx.resources.warehouse.query(
      sql`select count(*)::BIGINT as n from taxi.raw_trips where _partition = ${previous}`,
    );
    const before = Number(prev?.n ?? 0);
    if (before === 0) return { passed: true, metadata: { rows, previous: "not loaded" } };
    const change = (rows - before) / before;
    return {
      passed: Math.abs(change) <= 0.5,
      metadata: { rows, previous_rows: before, change: Math.round(change * 1000) / 1000 },
    };
  },
);

export const noNegativeFares = assetCheck(
  { asset: cleanTrips, name: "no_negative_fares", blocking: true, resources: ["warehouse"] },
  async (ctx, table) => {
    const [row] = await ctx.resources.warehouse.query(
      sql`select count(*)::BIGINT as bad from ${table} where fare_amount < 0 or total_amount < 0`,
    );
    const bad = Number(row?.bad ?? 0);
    return { passed: bad === 0, metadata: { bad } };
  },
);

export const pickupBeforeDropoff = assetCheck(
  { asset: cleanTrips, name: "pickup_before_dropoff", blocking: true, resources: ["warehouse"] },
  async (ctx, table) => {
    const [row] = await ctx.resources.warehouse.query(
      sql`select count(*)::BIGINT as bad from ${table} where dropoff_datetime <= pickup_datetime`,
    );
    const bad = Number(row?.bad ?? 0);
    return { passed: bad === 0, metadata: { bad } };
  },
);

const monthly = assetJob({ name: "monthly", selection: "group:ingest* or taxi/raw_trips*" });

/**
 * A trip file landing in `landing/` (e.g. `yellow_tripdata_2019-03.csv.gz`) materializes its
 * `month|taxi` partition and everything downstream of it (with the two small lookups it reads, so
 * a fresh warehouse works too): the target spans the month × taxi and
 * the monthly assets, so each file becomes a small daemon backfill, keyed by the file's identity
 * (path + size + mtime), so the same file never runs twice and a re-delivered file runs again.
 * A file whose `taxi/raw_trips` partition was materialized after it last changed (e.g. by
 * `npm run example` before `npm run example:dev`) is current: the sensor skips it.
 */
export const landingSensor = fileSensor({
  name: "taxi_landing",
  dir: LANDING_DIR,
  selection: "taxi/raw_trips* or taxi/zones or taxi/payment_types",
  pattern: /(?:^|\/)(?:yellow|green)_tripdata_\d{4}-\d{2}\.csv(?:\.gz)?$/,
  partitionKey: (file) => partitionOfFile(path.basename(file.relativePath)) ?? null,
  skipIfMaterialized: rawTrips,
  defaultStatus: "RUNNING",
});

/**
 * On the 2nd of each month, materialize the month that just closed (both taxi types and the
 * monthly assets). The partitions here end at 2021-08 (the public files), so it is off by default:
 * start it with `baton schedule start monthly_refresh` on a definition without `end`.
 */
export const monthlyRefresh = schedule({
  name: "monthly_refresh",
  cron: "0 6 2 * *",
  timezone: "America/New_York",
  job: monthly,
  description: "materialize the month that just closed",
});

/** Failed runs are posted to `$TAXI_ALERT_WEBHOOK` (any URL accepting JSON; unset: no alert). */
export const failureAlerts = runStatusSensor({
  name: "failure_alerts",
  status: "FAILURE",
  alerts: [webhookAlert({ url: () => process.env.TAXI_ALERT_WEBHOOK || undefined })],
  defaultStatus: "RUNNING",
});

export default defineDefinitions({
  assets: [rawTrips, zones, paymentTypes, cleanTrips, ...reports.assets, qualityReport],
  checks: [
    ...reports.checks,
    nonEmpty,
    rowCountDrift,
    noNegativeFares,
    pickupBeforeDropoff,
    revenuePerTripInRange,
    avgDistancePositive,
  ],
  resources: {
    warehouse: duckdb({ path: WAREHOUSE }),
    io_manager: duckdbIOManager({ path: WAREHOUSE }),
  },
  jobs: [monthly],
  schedules: [monthlyRefresh],
  sensors: [landingSensor, failureAlerts],
});
