import { existsSync } from "node:fs";
import path from "node:path";
import { raw, type SqlQuery, sql } from "@baton/core/duckdb";
import { fileNameOf, GREEN_COLUMNS, type TaxiType, YELLOW_COLUMNS } from "./layout.js";

/** The landing file of a partition (gzip or plain CSV), or an error saying what to do. */
export function landingFile(dir: string, month: string, taxi: TaxiType): string {
  for (const gzip of [true, false]) {
    const file = path.join(dir, fileNameOf(month, taxi, gzip));
    if (existsSync(file)) return file;
  }
  throw new Error(
    `no trip file for ${month}|${taxi} in ${dir} (expected ${fileNameOf(month, taxi)} or ${fileNameOf(month, taxi, false)}). ` +
      `Generate data with \`npm run example:data -- --months ${month}\` or drop the TLC file there.`,
  );
}

const TYPES: Record<string, string> = {
  VendorID: "INTEGER",
  tpep_pickup_datetime: "TIMESTAMP",
  tpep_dropoff_datetime: "TIMESTAMP",
  lpep_pickup_datetime: "TIMESTAMP",
  lpep_dropoff_datetime: "TIMESTAMP",
  passenger_count: "DOUBLE",
  trip_distance: "DOUBLE",
  RatecodeID: "DOUBLE",
  store_and_fwd_flag: "VARCHAR",
  PULocationID: "INTEGER",
  DOLocationID: "INTEGER",
  payment_type: "DOUBLE",
  fare_amount: "DOUBLE",
  extra: "DOUBLE",
  mta_tax: "DOUBLE",
  tip_amount: "DOUBLE",
  tolls_amount: "DOUBLE",
  ehail_fee: "DOUBLE",
  improvement_surcharge: "DOUBLE",
  total_amount: "DOUBLE",
  trip_type: "DOUBLE",
  congestion_surcharge: "DOUBLE",
};

function columnsSpec(taxi: TaxiType): string {
  const cols = taxi === "yellow" ? YELLOW_COLUMNS : GREEN_COLUMNS;
  return `{${cols.map((c) => `'${c}': '${TYPES[c]}'`).join(", ")}}`;
}

/**
 * DuckDB's own CSV reader over one TLC file, normalised to one schema for both layouts, with the
 * course's md5 `unique_row_id` (vendor, pickup/dropoff times, locations, fare, distance) and the
 * source `filename`. The dialect is fixed (no sniffing): a row with too few or too many fields, or
 * a value of the wrong type, fails the run with the file, line and column
 * (`malformed CSV: …/yellow_tripdata_2019-03.csv line 7, column fare_amount: could not convert "abc" to DOUBLE …`)
 * instead of DuckDB's "could not detect the dialect" without a line.
 */
export function ingestQuery(file: string, taxi: TaxiType): SqlQuery {
  const p = taxi === "yellow" ? "tpep" : "lpep";
  const pickup = raw(`${p}_pickup_datetime`);
  const dropoff = raw(`${p}_dropoff_datetime`);
  const green = taxi === "green";
  return sql`
    select
      md5(concat_ws('|', coalesce(VendorID::VARCHAR, ''), ${pickup}::VARCHAR, ${dropoff}::VARCHAR,
        coalesce(PULocationID::VARCHAR, ''), coalesce(DOLocationID::VARCHAR, ''),
        coalesce(fare_amount::VARCHAR, ''), coalesce(trip_distance::VARCHAR, ''))) as unique_row_id,
      ${path.basename(file)} as filename,
      ${taxi} as taxi_type,
      VendorID as vendor_id,
      ${pickup} as pickup_datetime,
      ${dropoff} as dropoff_datetime,
      passenger_count::INTEGER as passenger_count,
      trip_distance,
      RatecodeID::INTEGER as ratecode_id,
      store_and_fwd_flag,
      PULocationID as pu_location_id,
      DOLocationID as do_location_id,
      payment_type::INTEGER as payment_type,
      fare_amount, extra, mta_tax, tip_amount, tolls_amount,
      ${raw(green ? "ehail_fee" : "null::DOUBLE")} as ehail_fee,
      improvement_surcharge, total_amount,
      ${raw(green ? "trip_type::INTEGER" : "null::INTEGER")} as trip_type,
      congestion_surcharge
    from read_csv(${file}, header = true, columns = ${raw(columnsSpec(taxi))},
                  delim = ',', quote = '"', escape = '"', auto_detect = false,
                  timestampformat = '%Y-%m-%d %H:%M:%S', nullstr = '')`;
}
