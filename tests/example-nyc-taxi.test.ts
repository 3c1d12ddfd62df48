/**
 * End-to-end test of the NYC taxi example (examples/nyc_taxi): generated TLC-layout files for two
 * months × two taxi types, a backfill of every asset into a temp DuckDB warehouse, and every number
 * the warehouse holds checked against values computed independently here, by parsing the very same
 * CSV files with csv-parse and applying the cleaning rules in plain JS.
 *
 * The example reads its paths from `TAXI_LANDING` / `TAXI_WAREHOUSE` at import time, so the
 * definitions are imported dynamically after setting them. They import the BUILT `@baton/core`
 * (packages/core/dist): run `npm run build -w @baton/core` first (the root `npm test` does), and
 * the instance comes from that same module copy.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import type { DuckDBConnection } from "@duckdb/node-api";
import { parse } from "csv-parse/sync";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type {
  BatonInstance,
  Definitions,
  MetadataMap,
  RunRecord,
  RunSummary,
  SensorResult,
  StepSummary,
} from "../packages/core/src/index.js";
import {
  completion,
  describeProc,
  exitOf,
  forget,
  killGroup,
  type Proc,
  spawnBaton,
  spawnCommand,
  waitFor,
} from "./support/processes.js";

type CoreModule = typeof import("../packages/core/src/index.js");
type GenerateModule = typeof import("../examples/nyc_taxi/src/generate.js");
type BackfillRecord = Awaited<ReturnType<BatonInstance["createBackfill"]>>;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const EXAMPLE = path.join(ROOT, "examples", "nyc_taxi");
const ROWS = 3_000;
const MONTHS = ["2019-01", "2019-02"] as const;
const TAXIS = ["yellow", "green"] as const;
const KEYS = MONTHS.flatMap((m) => TAXIS.map((t) => `${m}|${t}`)); // month × taxi keys
const DAY = "2019-01-15";

/** The TLC headers of the 2019–2021 DataTalksClub releases, written out (not taken from layout.ts). */
const YELLOW_HEADER =
  "VendorID,tpep_pickup_datetime,tpep_dropoff_datetime,passenger_count,trip_distance,RatecodeID," +
  "store_and_fwd_flag,PULocationID,DOLocationID,payment_type,fare_amount,extra,mta_tax,tip_amount," +
  "tolls_amount,improvement_surcharge,total_amount,congestion_surcharge";
const GREEN_HEADER =
  "VendorID,lpep_pickup_datetime,lpep_dropoff_datetime,store_and_fwd_flag,RatecodeID,PULocationID," +
  "DOLocationID,passenger_count,trip_distance,fare_amount,extra,mta_tax,tip_amount,tolls_amount,ehail_fee," +
  "improvement_surcharge,total_amount,payment_type,trip_type,congestion_surcharge";

// ---------------------------------------------------------------------------------------------------------
// The independent reference: parse the CSV files, apply the cleaning rules in JS
// ---------------------------------------------------------------------------------------------------------

interface Trip {
  readonly pickup: string; // "YYYY-MM-DD HH:MM:SS", compares like the timestamp
  readonly dropoff: string;
  readonly passengers: string; // "" when missing
  readonly pu: number;
  readonly do: number;
  readonly fare: number;
  readonly total: number;
  readonly tip: number;
  /** TLC payment type code; "" when missing. */
  readonly payment: string;
  /** The columns the example's md5 unique_row_id hashes, as values. */
  readonly identity: string;
}

interface Expected {
  readonly rows: number;
  readonly negative_fare: number;
  readonly dropoff_before_pickup: number;
  readonly unknown_zone: number;
  readonly null_passenger_count: number;
  readonly outside_month: number;
  /** Rows of taxi/clean_trips with the default config. */
  readonly clean: readonly Trip[];
  /** Distinct unique_row_id identities among all rows. */
  readonly distinctIdentities: number;
  /** Rows that would pass with dropNegativeFares=false, and how many of them have a negative fare. */
  readonly cleanKeepingNegative: number;
  readonly negativeKept: number;
}

/** The TLC zone lookup: location id → "borough|zone" (a few ids share a name, e.g. 103–105, 56/57). */
const zoneNames: ReadonlyMap<number, string> = new Map(
  (
    parse(readFileSync(path.join(EXAMPLE, "data", "taxi_zone_lookup.csv")), {
      columns: true,
    }) as Record<string, string>[]
  ).map((r) => [Number(r.locationid), `${r.borough}|${r.zone}`]),
);
const zoneIds: ReadonlySet<number> = new Set(zoneNames.keys());

/** The TLC payment lookup: code → description (0 and 5 are both "Unknown"). */
const paymentNames: ReadonlyMap<string, string> = new Map(
  (
    parse(readFileSync(path.join(EXAMPLE, "data", "payment_type_lookup.csv")), {
      columns: true,
    }) as Record<string, string>[]
  ).map((r) => [String(Number(r.payment_type)), r.description!]),
);

/** The four reports, written as SQL models in examples/nyc_taxi/models/taxi/*.sql. */
const SQL_MODELS = ["taxi/daily_revenue", "taxi/monthly_summary", "taxi/payment_summary", "taxi/zone_stats"];

function readCsv(file: string): { header: string; records: Record<string, string>[] } {
  const bytes = readFileSync(file);
  const text = (file.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8");
  const records = parse(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  return { header: text.slice(0, text.indexOf("\n")), records };
}

function tripsOf(file: string, taxi: string): Trip[] {
  const p = taxi === "yellow" ? "tpep" : "lpep";
  return readCsv(file).records.map((r) => ({
    pickup: r[`${p}_pickup_datetime`]!,
    dropoff: r[`${p}_dropoff_datetime`]!,
    passengers: r.passenger_count!,
    pu: Number(r.PULocationID),
    do: Number(r.DOLocationID),
    fare: Number(r.fare_amount),
    total: Number(r.total_amount),
    tip: Number(r.tip_amount),
    payment: r.payment_type ?? "",
    identity: [
      r.VendorID,
      r[`${p}_pickup_datetime`],
      r[`${p}_dropoff_datetime`],
      r.PULocationID,
      r.DOLocationID,
      Number(r.fare_amount),
      Number(r.trip_distance),
    ].join("|"),
  }));
}

function nextMonth(month: string): string {
  const [y, m] = month.split("-").map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, "0")}`;
}

function expectedOf(trips: readonly Trip[], month: string): Expected {
  const from = `${month}-01 00:00:00`;
  const to = `${nextMonth(month)}-01 00:00:00`;
  const negative = (t: Trip) => t.fare < 0 || t.total < 0;
  const backwards = (t: Trip) => t.dropoff <= t.pickup;
  const unknownZone = (t: Trip) => !zoneIds.has(t.pu) || !zoneIds.has(t.do);
  const noPassengers = (t: Trip) => t.passengers === "";
  const outside = (t: Trip) => t.pickup < from || t.pickup >= to;
  const otherwiseClean = (t: Trip) => !backwards(t) && !unknownZone(t) && !noPassengers(t) && !outside(t);
  const keepingNegative = trips.filter(otherwiseClean);
  return {
    rows: trips.length,
    negative_fare: trips.filter(negative).length,
    dropoff_before_pickup: trips.filter(backwards).length,
    unknown_zone: trips.filter(unknownZone).length,
    null_passenger_count: trips.filter(noPassengers).length,
    outside_month: trips.filter(outside).length,
    clean: keepingNegative.filter((t) => !negative(t)),
    distinctIdentities: new Set(trips.map((t) => t.identity)).size,
    cleanKeepingNegative: keepingNegative.length,
    negativeKept: keepingNegative.filter(negative).length,
  };
}

const cents = (trips: readonly Trip[]) => trips.reduce((sum, t) => sum + Math.round(t.total * 100), 0);
const tipCents = (trips: readonly Trip[]) => trips.reduce((sum, t) => sum + Math.round(t.tip * 100), 0);

// ---------------------------------------------------------------------------------------------------------
// Helpers on runs and the warehouse
// ---------------------------------------------------------------------------------------------------------

function stepOf(summary: RunSummary, assetKey: string, kind: "asset" | "check" = "asset"): StepSummary {
  const step = summary.steps.find(
    (s) => s.assetKeys.includes(assetKey) && (kind === "check" ? s.kind === "check" : s.kind !== "check"),
  );
  if (!step)
    throw new Error(
      `no ${kind} step of ${assetKey} in run: ${summary.steps.map((s) => s.stepKey).join(", ")}`,
    );
  return step;
}

function checkOf(summary: RunSummary, assetKey: string, checkName: string) {
  const check = summary.steps
    .flatMap((s) => s.checks)
    .find((c) => c.assetKey === assetKey && c.checkName === checkName);
  if (!check) throw new Error(`no evaluation of ${assetKey}:${checkName} in run ${summary.runId}`);
  return check;
}

/** Metadata values as plain values: `{ rows: { type: "number", value: 3000 } }` → `{ rows: 3000 }`. */
function plain(metadata: MetadataMap): Record<string, unknown> {
  return Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, v.value]));
}

async function allRuns(instance: BatonInstance, backfillId?: string): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await instance.storage.listRuns({
      limit: 1000,
      ...(backfillId !== undefined ? { backfillId } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
    });
    out.push(...page.runs);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return out.reverse();
}

// ---------------------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------------------

describe("examples/nyc_taxi end to end", () => {
  let tmp: string;
  let landing: string;
  let warehouse: string;
  let core: CoreModule;
  let gen: GenerateModule;
  let definitions: Definitions;
  let instance: BatonInstance;
  let conn: DuckDBConnection;
  let backfill: BackfillRecord;
  const files = new Map<string, string>(); // partition key → landing file
  const expected = new Map<string, Expected>(); // partition key → reference
  const distinctAfterFirstLoad = new Map<string, number>();

  const query = async (text: string): Promise<Record<string, unknown>[]> =>
    (await conn.runAndReadAll(text))
      .getRowObjectsJS()
      .map((row) =>
        Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v])),
      );
  const countOf = async (table: string, partition: string) =>
    Number((await query(`select count(*) as n from ${table} where _partition = '${partition}'`))[0]!.n);

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), "baton-nyc-taxi-"));
    landing = path.join(tmp, "landing");
    warehouse = path.join(tmp, "warehouse.duckdb");
    process.env.TAXI_LANDING = landing;
    process.env.TAXI_WAREHOUSE = warehouse;
    gen = await import("../examples/nyc_taxi/src/generate.js");
    const defs = await import("../examples/nyc_taxi/definitions.js");
    definitions = defs.default as unknown as Definitions;
    // The same module copy as the definitions (the built package), as the example's own script does.
    core = (await import("@baton/core")) as unknown as CoreModule;
    instance = await core.openInstance({ home: path.join(tmp, "home"), env: {} });

    for (const month of MONTHS)
      for (const taxi of TAXIS) {
        const file = await gen.generateMonth({ month, taxi, rows: ROWS, dir: landing });
        files.set(`${month}|${taxi}`, file);
        expected.set(`${month}|${taxi}`, expectedOf(tripsOf(file, taxi), month));
      }

    backfill = await instance.createBackfill(definitions, { selection: "*", partitions: { keys: KEYS } });
    backfill = await instance.runBackfill(definitions, backfill.backfillId);

    const { DuckDBInstance } = await import("@duckdb/node-api");
    conn = await (await DuckDBInstance.fromCache(warehouse)).connect();
  });

  afterAll(async () => {
    conn?.closeSync();
    await instance?.close();
    delete process.env.TAXI_LANDING;
    delete process.env.TAXI_WAREHOUSE;
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  describe("generated data", () => {
    it("writes the exact TLC header row for each taxi type, and the asked number of rows", () => {
      for (const key of KEYS) {
        const taxi = key.split("|")[1]!;
        const { header, records } = readCsv(files.get(key)!);
        expect(header).toBe(taxi === "yellow" ? YELLOW_HEADER : GREEN_HEADER);
        expect(records).toHaveLength(ROWS);
        expect(path.basename(files.get(key)!)).toBe(`${taxi}_tripdata_${key.split("|")[0]}.csv.gz`);
      }
    });

    it("is deterministic: the same month twice is byte-identical after gunzip, other months differ", async () => {
      const again = path.join(tmp, "again");
      const a = await gen.generateMonth({ month: "2019-01", taxi: "yellow", rows: ROWS, dir: again });
      const first = gunzipSync(await readFile(files.get("2019-01|yellow")!));
      const second = gunzipSync(await readFile(a));
      expect(second.equals(first)).toBe(true);
      const feb = gunzipSync(await readFile(files.get("2019-02|yellow")!));
      expect(feb.equals(first)).toBe(false);
      // Not just a different header or date: the data rows differ.
      const body = (b: Buffer) =>
        b
          .toString("utf8")
          .split("\n")
          .slice(1, 50)
          .map((l) => l.slice(40));
      expect(body(feb)).not.toEqual(body(first));
      const green = gunzipSync(await readFile(files.get("2019-01|green")!));
      expect(green.equals(first)).toBe(false);
    });

    it("has dirty rows of every kind the cleaning step removes", () => {
      for (const key of KEYS) {
        const e = expected.get(key)!;
        expect(e.negative_fare).toBeGreaterThan(0);
        expect(e.dropoff_before_pickup).toBeGreaterThan(0);
        expect(e.unknown_zone).toBeGreaterThan(0);
        expect(e.null_passenger_count).toBeGreaterThan(0);
        expect(e.clean.length).toBeLessThan(e.rows);
        expect(e.clean.length).toBeGreaterThan(e.rows * 0.9);
      }
    });
  });

  describe("a backfill of every asset over 2 months × 2 taxi types", () => {
    it("completes with exact counts", async () => {
      expect(backfill.status).toBe("COMPLETED");
      expect(backfill.error).toBeNull();
      // raw_trips 4 + clean_trips 4 + daily_revenue 2 + zone_stats 2 + zones, payment_types,
      // monthly_summary, payment_summary, quality_report 1 each.
      expect(backfill.counts).toEqual({
        targeted: 17,
        materialized: 17,
        failed: 0,
        skipped: 0,
        canceled: 0,
        runs: 11,
      });
      const runs = await allRuns(instance, backfill.backfillId);
      expect(backfill.counts.runs).toBe(runs.length);
      expect(runs.every((r) => r.status === "SUCCESS")).toBe(true);
      // One run per unit: raw+clean per month × taxi, each monthly report per month, the lookups
      // with what reads only them (the summaries are two SQL models: payment_summary goes with
      // payment_types, monthly_summary with the Python report reading it).
      const layout = runs
        .map((r) => `${[...r.assetKeys].sort().join(",")} @ ${r.partitionKeys?.join(",") ?? "-"}`)
        .sort();
      expect(layout).toEqual(
        [
          ...KEYS.map((k) => `taxi/clean_trips,taxi/raw_trips @ ${k}`),
          ...MONTHS.map((m) => `taxi/daily_revenue @ ${m}`),
          ...MONTHS.map((m) => `taxi/zone_stats @ ${m}`),
          "taxi/monthly_summary,taxi/quality_report @ -",
          "taxi/payment_summary,taxi/payment_types @ -",
          "taxi/zones @ -",
        ].sort(),
      );
      const rawRuns = runs.filter((r) => r.assetKeys.includes("taxi/raw_trips"));
      expect(rawRuns.flatMap((r) => r.partitionKeys ?? []).sort()).toEqual([...KEYS].sort());
      for (const r of rawRuns) expect(r.assetKeys).toContain("taxi/clean_trips");
      const months = runs.filter((r) => r.assetKeys.includes("taxi/daily_revenue"));
      expect(months.flatMap((r) => r.partitionKeys ?? []).sort()).toEqual([...MONTHS]);
      for (const key of ["taxi/raw_trips", "taxi/clean_trips"]) {
        const parts = await instance.storage.getPartitions(key);
        expect(parts.map((p) => [p.partitionKey, p.status]).sort()).toEqual(
          [...KEYS].sort().map((k) => [k, "materialized"]),
        );
      }
      const months2 = await instance.storage.getPartitions("taxi/daily_revenue");
      expect(months2.map((p) => [p.partitionKey, p.status]).sort()).toEqual(
        MONTHS.map((m) => [m, "materialized"]),
      );
    });

    it("makes the landing sensor skip the loaded files, unless a file changed or the code version did", async () => {
      const defs = await import("../examples/nyc_taxi/definitions.js");
      const { partitionOfFile } = await import("../examples/nyc_taxi/src/layout.js");
      // The example's sensor, without the settle delay (a file touched just now counts at once).
      const sensor = core.fileSensor({
        name: "landing_now",
        dir: landing,
        settleMs: 0,
        partitionKey: (f) => partitionOfFile(f.relativePath) ?? null,
        skipIfMaterialized: defs.rawTrips,
      });
      const evaluate = async (d: Definitions) => {
        const quiet = { debug() {}, info() {}, warn() {}, error() {} };
        const out = await sensor.evaluate({
          sensorName: sensor.name,
          cursor: null,
          now: new Date(),
          lastTickAt: null,
          signal: new AbortController().signal,
          log: quiet,
          store: instance.storage,
          definitions: d,
        });
        return out as SensorResult;
      };
      expect(await evaluate(definitions)).toMatchObject({
        runRequests: [],
        skipReason:
          "4 file(s) already loaded: their taxi/raw_trips partitions were materialized after the files last changed",
      });
      // A new code version of taxi/raw_trips: every file is loaded again.
      const trips = core.multiPartitions({
        month: core.monthlyPartitions({ start: "2019-01", end: "2021-08" }),
        taxi: core.staticPartitions(TAXIS),
      });
      const v2 = core.defineDefinitions({
        assets: [core.asset({ key: "taxi/raw_trips", partitions: trips, codeVersion: "2" }, () => [])],
      }) as unknown as Definitions;
      expect(((await evaluate(v2)).runRequests ?? []).map((r) => r.partitionKey).sort()).toEqual(
        [...KEYS].sort(),
      );
      // A file changed after its partition was materialized: that one file.
      const now = new Date();
      await utimes(files.get("2019-02|green")!, now, now);
      const changed = await evaluate(definitions);
      expect(changed.runRequests?.map((r) => r.partitionKey)).toEqual(["2019-02|green"]);
      expect(changed.skipReason).toBeUndefined();
      // An asset the definitions do not have: the tick fails, naming the sensor and the key.
      const typo = core.fileSensor({
        name: "typo",
        dir: landing,
        partitionKey: (f) => partitionOfFile(f.relativePath) ?? null,
        skipIfMaterialized: "taxi/raw_trip",
      });
      await expect(
        Promise.resolve(
          typo.evaluate({
            sensorName: "typo",
            cursor: null,
            now: new Date(),
            lastTickAt: null,
            signal: new AbortController().signal,
            log: { debug() {}, info() {}, warn() {}, error() {} },
            store: instance.storage,
            definitions,
          }),
        ),
      ).rejects.toThrow(
        'fileSensor "typo": skipIfMaterialized names "taxi/raw_trip", which is not an asset of these definitions',
      );
    });

    it("loads every CSV data row into taxi/raw_trips, with its file name", async () => {
      for (const key of KEYS) {
        const [n] = await query(
          `select count(*) as n, count(distinct unique_row_id) as ids, min(filename) as f1, max(filename) as f2,
                  min(taxi_type) as t1, max(taxi_type) as t2
           from taxi.raw_trips where _partition = '${key}'`,
        );
        const e = expected.get(key)!;
        const [month, taxi] = key.split("|");
        expect(n).toEqual({
          n: e.rows,
          ids: e.distinctIdentities,
          f1: `${taxi}_tripdata_${month}.csv.gz`,
          f2: `${taxi}_tripdata_${month}.csv.gz`,
          t1: taxi,
          t2: taxi,
        });
        distinctAfterFirstLoad.set(key, Number(n!.ids));
      }
      expect(Number((await query("select count(*) as n from taxi.raw_trips"))[0]!.n)).toBe(
        ROWS * KEYS.length,
      );
    });

    it("keeps exactly the rows passing the cleaning rules in taxi/clean_trips", async () => {
      for (const key of KEYS) {
        const e = expected.get(key)!;
        const [row] = await query(
          `select count(*) as n, round(sum(total_amount), 2) as revenue,
                  count(*) filter (where fare_amount < 0 or total_amount < 0) as negative,
                  count(*) filter (where passenger_count is null) as no_passengers
           from taxi.clean_trips where _partition = '${key}'`,
        );
        expect(row!.n).toBe(e.clean.length);
        expect(Math.round(Number(row!.revenue) * 100)).toBe(cents(e.clean));
        expect(row!.negative).toBe(0);
        expect(row!.no_passengers).toBe(0);
      }
    });

    it("records the dirty-row counts of each partition in the taxi/clean_trips materialization", async () => {
      const events = await instance.storage.getMaterializations("taxi/clean_trips", { limit: 100 });
      expect(events).toHaveLength(KEYS.length);
      for (const key of KEYS) {
        const event = events.find((e) => e.type === "materialization" && e.partition === key);
        expect(event, key).toBeDefined();
        if (event?.type !== "materialization") continue;
        const e = expected.get(key)!;
        expect(plain(event.metadata)).toMatchObject({
          month: key.split("|")[0],
          rows: e.rows,
          negative_fare: e.negative_fare,
          dropoff_before_pickup: e.dropoff_before_pickup,
          unknown_zone: e.unknown_zone,
          null_passenger_count: e.null_passenger_count,
          outside_month: e.outside_month,
          row_count: e.clean.length,
        });
      }
      const raw = await instance.storage.getMaterializations("taxi/raw_trips", { limit: 100 });
      for (const key of KEYS) {
        const event = raw.find((e) => e.type === "materialization" && e.partition === key);
        expect(event?.type === "materialization" && plain(event.metadata).row_count, key).toBe(ROWS);
      }
    });

    it(`computes taxi/daily_revenue per day and taxi type (checked on ${DAY})`, async () => {
      const rows = await query(
        `select taxi_type, trips, revenue from taxi.daily_revenue
         where _partition = '2019-01' and day = DATE '${DAY}' order by taxi_type`,
      );
      const want = TAXIS.map((taxi) => {
        const trips = expected.get(`2019-01|${taxi}`)!.clean.filter((t) => t.pickup.startsWith(DAY));
        return { taxi_type: taxi, trips: trips.length, cents: cents(trips) };
      }).sort((a, b) => a.taxi_type.localeCompare(b.taxi_type));
      expect(want.every((w) => w.trips > 0)).toBe(true);
      expect(
        rows.map((r) => ({
          taxi_type: r.taxi_type,
          trips: r.trips,
          cents: Math.round(Number(r.revenue) * 100),
        })),
      ).toEqual(want);
      // Every clean trip of a month lands on one of its days.
      for (const month of MONTHS) {
        const [sum] = await query(
          `select sum(trips) as trips, count(distinct day) as days, min(day)::VARCHAR as first,
                  max(day)::VARCHAR as last from taxi.daily_revenue where _partition = '${month}'`,
        );
        const clean = TAXIS.flatMap((t) => expected.get(`${month}|${t}`)!.clean);
        expect(Number(sum!.trips)).toBe(clean.length);
        expect(sum!.days).toBe(new Set(clean.map((t) => t.pickup.slice(0, 10))).size);
        expect(String(sum!.first).startsWith(month)).toBe(true);
        expect(String(sum!.last).startsWith(month)).toBe(true);
      }
    });

    it("computes taxi/monthly_summary trips and revenue per month and taxi type", async () => {
      const rows = await query(
        "select month, taxi_type, trips, revenue from taxi.monthly_summary order by month, taxi_type",
      );
      const want = MONTHS.flatMap((month) =>
        [...TAXIS].sort().map((taxi) => {
          const clean = expected.get(`${month}|${taxi}`)!.clean;
          return { month, taxi_type: taxi, trips: clean.length, cents: cents(clean) };
        }),
      );
      expect(
        rows.map((r) => ({
          month: r.month,
          taxi_type: r.taxi_type,
          trips: r.trips,
          cents: Math.round(Number(r.revenue) * 100),
        })),
      ).toEqual(want);
    });

    it("runs the Python quality report (pipes): one row per taxi type, metadata and its checks", async () => {
      const rows = await query(
        "select taxi_type, months, trips, revenue, revenue_per_trip from taxi.quality_report order by taxi_type",
      );
      const want = [...TAXIS].sort().map((taxi) => {
        const clean = MONTHS.flatMap((m) => expected.get(`${m}|${taxi}`)!.clean);
        return { taxi_type: taxi, months: MONTHS.length, trips: clean.length, cents: cents(clean) };
      });
      expect(
        rows.map((r) => ({
          taxi_type: r.taxi_type,
          months: Number(r.months),
          trips: Number(r.trips),
          cents: Math.round(Number(r.revenue) * 100),
        })),
      ).toEqual(want);
      for (const r of rows)
        expect(Number(r.revenue_per_trip)).toBeCloseTo(Number(r.revenue) / Number(r.trips), 2);

      const [m] = await instance.storage.getMaterializations("taxi/quality_report", { limit: 1 });
      if (m?.type !== "materialization") throw new Error("no materialization of taxi/quality_report");
      expect(plain(m.metadata)).toMatchObject({
        summary_rows: MONTHS.length * TAXIS.length,
        total_trips: want.reduce((n, w) => n + w.trips, 0),
      });
      const logs = (await instance.storage.getEvents(m.runId)).filter(
        (e) => e.type === "log" && e.stepKey === "taxi/quality_report",
      );
      const messages = logs.map((e) => (e.type === "log" ? e.message : ""));
      // The script's own log line, sent through the Python helper.
      const read = new RegExp(
        `^read ${MONTHS.length * TAXIS.length} rows of taxi/monthly_summary from .*\\.csv$`,
      );
      expect(messages.filter((l) => read.test(l))).toHaveLength(1);

      const checks = await instance.storage.getLatestCheckResults("taxi/quality_report");
      expect(checks.map((c) => [c.checkName, c.passed, c.severity]).sort()).toEqual([
        ["avg_distance_positive", true, "WARN"],
        ["revenue_per_trip_in_range", true, "ERROR"],
      ]);
      expect(plain(checks.find((c) => c.checkName === "revenue_per_trip_in_range")!.metadata)).toMatchObject({
        out_of_range: 0,
        min: 2.5,
        max: 200,
      });
    });

    it("computes taxi/payment_summary trips and tips per payment type over every month", async () => {
      const rows = await query("select payment, trips, tips from taxi.payment_summary");
      const clean = KEYS.flatMap((k) => expected.get(k)!.clean);
      const byPayment = new Map<string, Trip[]>();
      for (const t of clean) {
        const name = t.payment === "" ? "(none)" : (paymentNames.get(String(Number(t.payment))) ?? "(none)");
        byPayment.set(name, [...(byPayment.get(name) ?? []), t]);
      }
      expect(byPayment.size).toBeGreaterThan(2);
      expect(
        Object.fromEntries(
          rows.map((r) => [r.payment ?? "(none)", [r.trips, Math.round(Number(r.tips) * 100)]]),
        ),
      ).toEqual(
        Object.fromEntries([...byPayment].map(([name, trips]) => [name, [trips.length, tipCents(trips)]])),
      );
      // Most trips first.
      const trips = rows.map((r) => Number(r.trips));
      expect(trips).toEqual([...trips].sort((a, b) => b - a));
    });

    it("has the four reports as SQL models: kind sql, their SQL on the definition, header checks run", async () => {
      const sqlAssets = definitions.computations
        .flatMap((c) => c.specs)
        .filter((spec) => spec.kinds.includes("sql"))
        .map((spec) => spec.key);
      expect([...sqlAssets].sort()).toEqual(SQL_MODELS);
      for (const key of SQL_MODELS) {
        const spec = definitions.computationOf(key).specs[0]!;
        const file = path.join(EXAMPLE, "models", `${key}.sql`);
        expect(spec.metadata.sql, key).toEqual({ type: "text", value: readFileSync(file, "utf8").trimEnd() });
        expect(spec.group, key).toBe("reports");
        expect(Object.values(definitions.computationOf(key).ins), key).toContain("taxi/clean_trips");
        expect(spec.codeVersion, key).toMatch(/^[0-9a-f]{12}$/);
      }
      expect(definitions.computationOf("taxi/daily_revenue").partitions).toBeDefined();
      expect(definitions.computationOf("taxi/monthly_summary").partitions).toBeUndefined();
      // The header checks, evaluated in the backfill (per month for the partitioned models), all passed.
      const evaluations: string[] = [];
      for (const run of await allRuns(instance, backfill.backfillId)) {
        const summary = await instance.runSummary(run.runId);
        for (const c of summary.steps.flatMap((s) => s.checks))
          if (SQL_MODELS.includes(c.assetKey))
            evaluations.push(
              `${c.assetKey}:${c.checkName}@${run.partitionKeys?.join(",") ?? "-"}:${c.passed}`,
            );
      }
      expect(evaluations.sort()).toEqual(
        [
          ...MONTHS.flatMap((m) => [
            `taxi/daily_revenue:accepted_values_taxi_type@${m}:true`,
            `taxi/daily_revenue:not_null_day@${m}:true`,
            `taxi/daily_revenue:row_count@${m}:true`,
            `taxi/zone_stats:not_null_zone@${m}:true`,
            `taxi/zone_stats:row_count@${m}:true`,
          ]),
          "taxi/monthly_summary:accepted_values_taxi_type@-:true",
          "taxi/monthly_summary:row_count@-:true",
          "taxi/payment_summary:unique_payment@-:true",
        ].sort(),
      );
      // A materialization of a model records what the DuckDB IO manager's do.
      const [m] = await instance.storage.getMaterializations("taxi/daily_revenue", {
        limit: 1,
        partition: "2019-01",
      });
      if (m?.type !== "materialization") throw new Error("no materialization of taxi/daily_revenue");
      expect(m.dataVersion).toMatch(/^[0-9a-f]{16}$/);
      expect(plain(m.metadata)).toMatchObject({
        table: '"taxi"."daily_revenue"',
        schema: [
          { name: "day", type: "DATE" },
          { name: "taxi_type", type: "VARCHAR" },
          { name: "trips", type: "BIGINT" },
          { name: "revenue", type: "DOUBLE" },
          { name: "fares", type: "DOUBLE" },
          { name: "avg_distance", type: "DOUBLE" },
        ],
      });
      expect(plain(m.metadata).row_count).toBe(
        Number(
          (await query("select count(*) as n from taxi.daily_revenue where _partition = '2019-01'"))[0]!.n,
        ),
      );
    });

    it("computes taxi/zone_stats pickups and revenue per pickup zone for each month", async () => {
      expect(zoneIds.size).toBe(265);
      for (const month of MONTHS) {
        const clean = TAXIS.flatMap((t) => expected.get(`${month}|${t}`)!.clean);
        const byZone = new Map<string, Trip[]>();
        for (const t of clean) {
          const name = zoneNames.get(t.pu)!;
          byZone.set(name, [...(byZone.get(name) ?? []), t]);
        }
        const rows = await query(
          `select borough, zone, pickups, revenue from taxi.zone_stats where _partition = '${month}'`,
        );
        const got = Object.fromEntries(
          rows.map((r) => [`${r.borough}|${r.zone}`, [r.pickups, Math.round(Number(r.revenue) * 100)]]),
        );
        const want = Object.fromEntries(
          [...byZone].map(([name, trips]) => [name, [trips.length, cents(trips)]]),
        );
        expect(got).toEqual(want);
        expect(rows.reduce((n, r) => n + Number(r.pickups), 0)).toBe(clean.length);
        // Ordered by pickups, busiest first.
        const pickups = rows.map((r) => Number(r.pickups));
        expect(pickups).toEqual([...pickups].sort((a, b) => b - a));
      }
    });
  });

  describe("re-materializing a month", () => {
    it("replaces its rows without duplicates and leaves the other partitions untouched", async () => {
      const key = "2019-01|yellow";
      const others = KEYS.filter((k) => k !== key);
      const fingerprint = async (table: string, partition: string) =>
        (
          await query(
            `select count(*) as n, min(unique_row_id) as lo, max(unique_row_id) as hi,
                    sum(hash(unique_row_id)) as h from ${table} where _partition = '${partition}'`,
          )
        )[0];
      const before = new Map<string, unknown>();
      for (const k of others)
        for (const t of ["taxi.raw_trips", "taxi.clean_trips"])
          before.set(`${t} ${k}`, await fingerprint(t, k));
      const eventsBefore = new Map(
        (await instance.storage.getPartitions("taxi/clean_trips")).map((p) => [
          p.partitionKey,
          p.lastMaterialization?.eventId,
        ]),
      );

      const summary = await instance.materialize(definitions, {
        selection: "taxi/raw_trips,taxi/clean_trips",
        partitions: { keys: [key] },
      });
      expect(summary.status).toBe("SUCCESS");
      expect(stepOf(summary, "taxi/raw_trips").status).toBe("succeeded");
      expect(stepOf(summary, "taxi/clean_trips").status).toBe("succeeded");

      const e = expected.get(key)!;
      const [raw] = await query(
        `select count(*) as n, count(distinct unique_row_id) as ids from taxi.raw_trips where _partition = '${key}'`,
      );
      expect(raw).toEqual({ n: e.rows, ids: distinctAfterFirstLoad.get(key) });
      expect(await countOf("taxi.clean_trips", key)).toBe(e.clean.length);
      expect(Number((await query("select count(*) as n from taxi.raw_trips"))[0]!.n)).toBe(
        ROWS * KEYS.length,
      );

      for (const k of others)
        for (const t of ["taxi.raw_trips", "taxi.clean_trips"])
          expect(await fingerprint(t, k), `${t} ${k}`).toEqual(before.get(`${t} ${k}`));
      const eventsAfter = new Map(
        (await instance.storage.getPartitions("taxi/clean_trips")).map((p) => [
          p.partitionKey,
          p.lastMaterialization?.eventId,
        ]),
      );
      for (const k of others) expect(eventsAfter.get(k), k).toBe(eventsBefore.get(k));
      expect(eventsAfter.get(key)!).toBeGreaterThan(eventsBefore.get(key)!);
    });
  });

  describe("blocking checks", () => {
    it("no_negative_fares fails when the filter is off: the run fails at the check", async () => {
      const key = "2019-02|green";
      const e = expected.get(key)!;
      expect(e.negativeKept).toBeGreaterThan(0);
      // One run covers one partitions definition: month × taxi (raw + clean) here.
      const summary = await instance.materialize(definitions, {
        selection: "taxi/raw_trips+",
        partitions: { keys: [key] },
        config: { "taxi/clean_trips": { dropNegativeFares: false } },
      });
      expect(summary.status).toBe("FAILURE");
      const check = checkOf(summary, "taxi/clean_trips", "no_negative_fares");
      expect(check.passed).toBe(false);
      expect(check.blocking).toBe(true);
      expect(plain(check.metadata)).toEqual({ bad: e.negativeKept });
      expect(checkOf(summary, "taxi/clean_trips", "pickup_before_dropoff").passed).toBe(true);
      expect(stepOf(summary, "taxi/clean_trips").status).toBe("succeeded");
      expect(await countOf("taxi.clean_trips", key)).toBe(e.cleanKeepingNegative);
      const stored = (await instance.storage.getLatestCheckResults("taxi/clean_trips")).find(
        (c) => c.checkName === "no_negative_fares",
      );
      expect(stored).toMatchObject({ passed: false, blocking: true, runId: summary.runId });

      // Reports of another partitions definition cannot join that run: the error says to backfill.
      const mixed = await instance
        .materialize(definitions, { selection: "taxi/clean_trips*", partitions: { keys: [key] } })
        .then(
          () => undefined,
          (error: Error) => error,
        );
      expect(mixed?.message).toContain("partitioned differently");
      expect(mixed?.message).toContain("backfill");

      const again = await instance.materialize(definitions, {
        selection: "taxi/clean_trips",
        partitions: { keys: [key] },
      });
      expect(again.status).toBe("SUCCESS");
      expect(await countOf("taxi.clean_trips", key)).toBe(e.clean.length);
    });

    it("as a backfill of taxi/clean_trips* (one partition), the failed check stops the month's reports", async () => {
      const key = "2019-02|yellow";
      const e = expected.get(key)!;
      expect(e.negativeKept).toBeGreaterThan(0);
      const dailyBefore = await instance.storage.getPartitions("taxi/daily_revenue", { keys: ["2019-02"] });
      const summaryBefore = (
        await instance.storage.getMaterializations("taxi/monthly_summary", { limit: 1 })
      )[0];

      const created = await instance.createBackfill(definitions, {
        selection: "taxi/clean_trips*",
        partitions: { keys: [key] },
        config: { "taxi/clean_trips": { dropNegativeFares: false } },
      });
      const done = await instance.runBackfill(definitions, created.backfillId);
      expect(done.status).toBe("FAILED");
      // clean_trips was stored (its check failed afterwards); daily_revenue, zone_stats (2019-02),
      // monthly_summary, payment_summary and quality_report were never run.
      expect(done.counts).toMatchObject({
        targeted: 6,
        materialized: 1,
        failed: 0,
        skipped: 5,
        canceled: 0,
        runs: 1,
      });

      // Skipped units have no run: the backfill records why, naming the failed check.
      const lines = (done.error ?? "").split("\n");
      for (const asset of [
        "taxi/daily_revenue [2019-02]",
        "taxi/zone_stats [2019-02]",
        "taxi/monthly_summary, taxi/quality_report",
        "taxi/payment_summary",
      ]) {
        const line = lines.find((l) => l.startsWith(asset));
        expect(line, asset).toContain(
          'skipped: upstream taxi/clean_trips [2019-02|yellow] failed: blocking check "taxi/clean_trips:no_negative_fares" failed',
        );
      }
      expect(lines).toHaveLength(4);

      const [run] = await allRuns(instance, created.backfillId);
      expect(run?.partitionKeys).toEqual([key]);
      expect(run?.assetKeys).toEqual(["taxi/clean_trips"]);
      const summary = await instance.runSummary(run!.runId);
      expect(summary.status).toBe("FAILURE");
      expect(stepOf(summary, "taxi/clean_trips").status).toBe("succeeded");
      const checkStep = summary.steps.find((s) => s.stepKey === "taxi/clean_trips:no_negative_fares");
      expect(checkStep).toMatchObject({ kind: "check", status: "failed" });
      expect(checkStep?.reason).toContain("taxi/clean_trips:no_negative_fares");
      const check = checkOf(summary, "taxi/clean_trips", "no_negative_fares");
      expect(check).toMatchObject({ passed: false, blocking: true });
      expect(plain(check.metadata)).toEqual({ bad: e.negativeKept });
      expect(await countOf("taxi.clean_trips", key)).toBe(e.cleanKeepingNegative);

      const dailyAfter = await instance.storage.getPartitions("taxi/daily_revenue", { keys: ["2019-02"] });
      expect(dailyAfter[0]?.lastMaterialization?.eventId).toBe(dailyBefore[0]?.lastMaterialization?.eventId);
      const summaryAfter = (
        await instance.storage.getMaterializations("taxi/monthly_summary", { limit: 1 })
      )[0];
      expect(summaryAfter?.id).toBe(summaryBefore?.id);

      const again = await instance.materialize(definitions, {
        selection: "taxi/clean_trips",
        partitions: { keys: [key] },
      });
      expect(again.status).toBe("SUCCESS");
      expect(await countOf("taxi.clean_trips", key)).toBe(e.clean.length);
    });
  });

  describe("landing files", () => {
    it("a missing file fails the run, naming the expected file and how to generate it", async () => {
      const summary = await instance.materialize(definitions, {
        selection: "taxi/raw_trips",
        partitions: { keys: ["2019-03|green"] },
      });
      expect(summary.status).toBe("FAILURE");
      const step = stepOf(summary, "taxi/raw_trips");
      expect(step.status).toBe("failed");
      expect(step.error?.message).toContain("green_tripdata_2019-03.csv.gz");
      expect(step.error?.message).toContain("npm run example:data");
      expect(await countOf("taxi.raw_trips", "2019-03|green")).toBe(0);
    });

    it("a malformed file fails its run naming the file, line and column; the other files still ingest", async () => {
      // Real TLC-layout files for 2019-06: yellow with a bad fare on one row, green with a row
      // missing its last fields; and a good 2019-07 yellow file beside them.
      const scratch = path.join(tmp, "malformed");
      const lines = async (month: string, taxi: "yellow" | "green") =>
        gunzipSync(await readFile(await gen.generateMonth({ month, taxi, rows: 50, dir: scratch })))
          .toString("utf8")
          .trimEnd()
          .split("\n");
      const yellow = await lines("2019-06", "yellow");
      const fare = YELLOW_HEADER.split(",").indexOf("fare_amount");
      const row = yellow[20]!.split(",");
      row[fare] = "12x50";
      yellow[20] = row.join(",");
      const yellowFile = path.join(landing, "yellow_tripdata_2019-06.csv");
      await writeFile(yellowFile, `${yellow.join("\n")}\n`);
      const green = await lines("2019-06", "green");
      green[33] = green[33]!.split(",").slice(0, 5).join(",");
      const greenFile = path.join(landing, "green_tripdata_2019-06.csv");
      await writeFile(greenFile, `${green.join("\n")}\n`);
      await gen.generateMonth({ month: "2019-07", taxi: "yellow", rows: 50, dir: landing });

      const keys = ["2019-06|yellow", "2019-06|green", "2019-07|yellow"];
      const created = await instance.createBackfill(definitions, {
        selection: "taxi/raw_trips",
        partitions: { keys },
      });
      const done = await instance.runBackfill(definitions, created.backfillId);
      expect(done.counts).toMatchObject({ targeted: 3, materialized: 1, failed: 2 });
      const runs = await allRuns(instance, created.backfillId);
      const byKey = new Map(runs.map((r) => [r.partitionKeys?.[0], r]));
      expect(byKey.get("2019-07|yellow")?.status).toBe("SUCCESS");
      expect(await countOf("taxi.raw_trips", "2019-07|yellow")).toBe(50);

      // Line numbers count the header as line 1: data row i (0-based after it) is line i + 1.
      const yellowRun = await instance.runSummary(byKey.get("2019-06|yellow")!.runId);
      expect(yellowRun.status).toBe("FAILURE");
      expect(stepOf(yellowRun, "taxi/raw_trips").error?.message).toContain(
        `malformed CSV: ${yellowFile} line 21, column fare_amount: could not convert "12x50" to DOUBLE (line: ${yellow[20]!.slice(0, 120)}`,
      );
      const greenRun = await instance.runSummary(byKey.get("2019-06|green")!.runId);
      expect(greenRun.status).toBe("FAILURE");
      expect(stepOf(greenRun, "taxi/raw_trips").error?.message).toContain(
        `malformed CSV: ${greenFile} line 34: expected 20 columns, found 5 (line: ${green[33]})`,
      );
      // Nothing of the failed partitions was stored.
      expect(await countOf("taxi.raw_trips", "2019-06|yellow")).toBe(0);
      expect(await countOf("taxi.raw_trips", "2019-06|green")).toBe(0);
    });

    it("reads a real, plain TLC file (empty congestion_surcharge and passenger_count) the same way", async () => {
      // Rows as the 2019 DataTalksClub files have them: "1.50"-style numbers, an empty trailing
      // congestion_surcharge, and (for some vendors) empty VendorID, passenger_count, RatecodeID,
      // store_and_fwd_flag and payment_type.
      const lines = [
        YELLOW_HEADER,
        "1,2019-03-01 00:24:41,2019-03-01 00:39:53,1,3.40,1,N,158,234,1,13.5,0.5,0.5,2.96,0,0.3,17.76,2.5",
        "2,2019-03-01 00:30:00,2019-03-01 00:41:10,2,1.50,1,N,161,236,2,8,0.5,0.5,0,0,0.3,9.3,",
        ",2019-03-02 08:00:00,2019-03-02 08:20:00,,5.44,,,237,238,,23.12,0,0.5,0,0,0.3,26.42,2.5",
        "2,2019-03-03 10:00:00,2019-03-03 10:05:00,1,0.80,1,N,48,48,3,-5,0,-0.5,0,0,-0.3,-5.8,0",
        "1,2019-02-28 23:59:00,2019-03-01 00:10:00,1,2.00,1,N,142,239,1,9,0.5,0.5,2,0,0.3,12.3,2.5",
      ];
      const file = path.join(landing, "yellow_tripdata_2019-03.csv");
      await writeFile(file, `${lines.join("\n")}\n`);

      const key = "2019-03|yellow";
      const summary = await instance.materialize(definitions, {
        selection: "taxi/raw_trips,taxi/clean_trips",
        partitions: { keys: [key] },
      });
      expect(summary.status).toBe("SUCCESS");
      // 5 rows after 3,000 in February: the (non-blocking) drift warning fires, the run succeeds.
      const drift = checkOf(summary, "taxi/raw_trips", "row_count_drift");
      expect(drift).toMatchObject({ passed: false, blocking: false, severity: "WARN" });
      expect(plain(drift.metadata)).toMatchObject({ rows: 5, previous_rows: ROWS });

      const rows = await query(
        `select filename, taxi_type, vendor_id, pickup_datetime::VARCHAR as pickup, passenger_count,
                trip_distance, ratecode_id, store_and_fwd_flag, pu_location_id, do_location_id, payment_type,
                fare_amount, total_amount, congestion_surcharge, ehail_fee, trip_type, length(unique_row_id) as id_len
         from taxi.raw_trips where _partition = '${key}' order by pickup_datetime`,
      );
      expect(rows).toHaveLength(5);
      for (const r of rows)
        expect(r).toMatchObject({
          filename: "yellow_tripdata_2019-03.csv",
          taxi_type: "yellow",
          ehail_fee: null,
          trip_type: null,
          id_len: 32,
        });
      expect(rows.map((r) => [r.pickup, r.vendor_id, r.passenger_count, r.congestion_surcharge])).toEqual([
        ["2019-02-28 23:59:00", 1, 1, 2.5],
        ["2019-03-01 00:24:41", 1, 1, 2.5],
        ["2019-03-01 00:30:00", 2, 2, null],
        ["2019-03-02 08:00:00", null, null, 2.5],
        ["2019-03-03 10:00:00", 2, 1, 0],
      ]);
      expect(rows[1]).toMatchObject({
        trip_distance: 3.4,
        ratecode_id: 1,
        store_and_fwd_flag: "N",
        pu_location_id: 158,
        do_location_id: 234,
        payment_type: 1,
        fare_amount: 13.5,
        total_amount: 17.76,
      });
      expect(rows[3]).toMatchObject({ ratecode_id: null, store_and_fwd_flag: null, payment_type: null });

      // The same rules as for generated files, checked against the JS reference on this file.
      const e = expectedOf(tripsOf(file, "yellow"), "2019-03");
      expect(e).toMatchObject({
        rows: 5,
        negative_fare: 1,
        null_passenger_count: 1,
        outside_month: 1,
        dropoff_before_pickup: 0,
        unknown_zone: 0,
      });
      const clean = await query(
        `select pickup_datetime::VARCHAR as pickup from taxi.clean_trips where _partition = '${key}' order by 1`,
      );
      expect(clean.map((r) => r.pickup)).toEqual(e.clean.map((t) => t.pickup).sort());
      expect(clean.map((r) => r.pickup)).toEqual(["2019-03-01 00:24:41", "2019-03-01 00:30:00"]);
      const mat = (await instance.storage.getMaterializations("taxi/clean_trips", { limit: 1 }))[0];
      expect(mat?.type === "materialization" && mat.partition).toBe(key);
      if (mat?.type === "materialization")
        expect(plain(mat.metadata)).toMatchObject({
          rows: 5,
          negative_fare: 1,
          null_passenger_count: 1,
          outside_month: 1,
          dropoff_before_pickup: 0,
          unknown_zone: 0,
          row_count: 2,
        });
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// `npm run example` then `npm run example:dev` on the same store, as real processes
// ---------------------------------------------------------------------------------------------------------

describe("examples/nyc_taxi: the landing sensor after `npm run example`", () => {
  const procs: Proc[] = [];
  let tmp: string | undefined;
  let instance: BatonInstance | undefined;

  afterEach(async () => {
    await instance?.close();
    for (const p of procs.splice(0)) {
      killGroup(p, "SIGKILL");
      await exitOf(p, 5_000).catch(() => undefined);
      forget(p);
    }
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("skips the files the example already loaded, and still ingests a new and a modified file", async () => {
    tmp = await mkdtemp(path.join(tmpdir(), "baton-nyc-taxi-dev-"));
    const landing = path.join(tmp, "landing");
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env))
      if (!/^(BATON_|TAXI_)/.test(k) && k !== "CI" && v !== undefined) env[k] = v;
    Object.assign(env, {
      BATON_HOME: path.join(tmp, "home"),
      TAXI_LANDING: landing,
      TAXI_WAREHOUSE: path.join(tmp, "warehouse.duckdb"),
    });
    const gen = await import("../examples/nyc_taxi/src/generate.js");
    for (const taxi of TAXIS) await gen.generateMonth({ month: "2019-01", taxi, rows: 200, dir: landing });

    // npm run example: a backfill of every asset for the landed files (no sensor involved).
    const example = spawnCommand(
      "run-example",
      process.execPath,
      ["--import", "tsx"],
      ["scripts/run-example.ts"],
      {
        cwd: EXAMPLE,
        env,
      },
    );
    procs.push(example);
    const ran = await completion(example);
    expect(ran.code, describeProc(example)).toBe(0);
    expect(ran.stdout).toContain("Backfill COMPLETED");

    const core = (await import("@baton/core")) as unknown as CoreModule;
    instance = await core.openInstance({ home: env.BATON_HOME!, env: {} });
    const store = instance.storage;
    const runsBefore = (await store.listRuns({ limit: 1000 })).runs.length;
    expect(runsBefore).toBeGreaterThan(0);

    // npm run example:dev on the same store: the sensor's first tick launches nothing.
    const dev = spawnBaton(
      ["--defs", "definitions.ts", "dev", "--workers", "1", "--no-webserver", "--no-watch"],
      {
        cwd: EXAMPLE,
        env,
      },
    );
    procs.push(dev);
    const first = await waitFor(
      () => `a tick of taxi_landing: ${describeProc(dev)}`,
      async () => (await store.listTicks("taxi_landing", { limit: 10 })).at(-1),
      60_000,
    );
    expect(first, describeProc(dev)).toMatchObject({
      status: "SKIPPED",
      runIds: [],
      skipReason:
        "2 file(s) already loaded: their taxi/raw_trips partitions were materialized after the files last changed",
    });
    expect((await store.listRuns({ limit: 1000 })).runs.length).toBe(runsBefore);

    // A new file and a modified one (its mtime after the materialization) are ingested.
    const modified = path.join(landing, "green_tripdata_2019-01.csv.gz");
    const later = new Date(Date.now() + 1000);
    await utimes(modified, later, later);
    await gen.generateMonth({ month: "2019-02", taxi: "yellow", rows: 200, dir: landing });
    const launched = await waitFor(
      () => `taxi_landing to launch 2 backfills: ${describeProc(dev)}`,
      async () => {
        const ids = (await store.listTicks("taxi_landing", { limit: 100 })).flatMap((t) => t.runIds);
        return ids.length >= 2 && ids;
      },
      60_000,
    );
    const done = await waitFor(
      () => `the new and the modified file's partitions to be materialized: ${describeProc(dev)}`,
      async () => {
        const parts = await store.getPartitions("taxi/raw_trips", {
          keys: ["2019-01|green", "2019-02|yellow"],
        });
        const fresh = parts.filter(
          (p) => p.status === "materialized" && (p.lastMaterialization?.timestamp ?? 0) > later.getTime(),
        );
        return fresh.length === 2 && parts;
      },
      90_000,
    );
    expect(done.map((p) => p.partitionKey).sort()).toEqual(["2019-01|green", "2019-02|yellow"]);
    expect(launched).toHaveLength(2);
    const runs = (await store.listRuns({ limit: 1000 })).runs.slice(0, -runsBefore);
    expect(runs.every((r) => r.tags["baton/sensor"] === "taxi_landing")).toBe(true);
    const files = new Set(runs.map((r) => r.tags["baton/file"]));
    expect([...files].sort()).toEqual(["green_tripdata_2019-01.csv.gz", "yellow_tripdata_2019-02.csv.gz"]);
    // The untouched file was never loaded again.
    const untouched = await store.getPartitions("taxi/raw_trips", { keys: ["2019-01|yellow"] });
    expect(untouched[0]!.lastMaterialization!.timestamp).toBeLessThan(later.getTime());
  }, 180_000);
});
