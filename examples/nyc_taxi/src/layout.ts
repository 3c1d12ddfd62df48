/**
 * The TLC trip file layouts used by the DataTalksClub nyc-tlc-data releases (2019–2021), and the
 * landing-folder naming: `yellow_tripdata_2019-01.csv.gz` ↔ partition `2019-01|yellow`.
 */
export const TAXI_TYPES = ["yellow", "green"] as const;
export type TaxiType = (typeof TAXI_TYPES)[number];

export const YELLOW_COLUMNS = [
  "VendorID",
  "tpep_pickup_datetime",
  "tpep_dropoff_datetime",
  "passenger_count",
  "trip_distance",
  "RatecodeID",
  "store_and_fwd_flag",
  "PULocationID",
  "DOLocationID",
  "payment_type",
  "fare_amount",
  "extra",
  "mta_tax",
  "tip_amount",
  "tolls_amount",
  "improvement_surcharge",
  "total_amount",
  "congestion_surcharge",
] as const;

export const GREEN_COLUMNS = [
  "VendorID",
  "lpep_pickup_datetime",
  "lpep_dropoff_datetime",
  "store_and_fwd_flag",
  "RatecodeID",
  "PULocationID",
  "DOLocationID",
  "passenger_count",
  "trip_distance",
  "fare_amount",
  "extra",
  "mta_tax",
  "tip_amount",
  "tolls_amount",
  "ehail_fee",
  "improvement_surcharge",
  "total_amount",
  "payment_type",
  "trip_type",
  "congestion_surcharge",
] as const;

const FILE = /^(yellow|green)_tripdata_(\d{4}-\d{2})\.csv(\.gz)?$/;

/** The partition key of a landing file name, or undefined when the name does not fit. */
export function partitionOfFile(name: string): string | undefined {
  const m = FILE.exec(name);
  return m ? `${m[2]}|${m[1]}` : undefined;
}

export function fileNameOf(month: string, taxi: TaxiType, gzip = true): string {
  return `${taxi}_tripdata_${month}.csv${gzip ? ".gz" : ""}`;
}
