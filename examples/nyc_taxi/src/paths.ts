import path from "node:path";
import { fileURLToPath } from "node:url";

/** The example folder, wherever the process runs from. */
export const EXAMPLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** Trip files land here (generated, or real TLC files dropped in). `TAXI_LANDING` overrides. */
export const LANDING_DIR = process.env.TAXI_LANDING
  ? path.resolve(process.env.TAXI_LANDING)
  : path.join(EXAMPLE_DIR, "landing");
/** The DuckDB warehouse. `TAXI_WAREHOUSE` overrides. */
export const WAREHOUSE = process.env.TAXI_WAREHOUSE
  ? path.resolve(process.env.TAXI_WAREHOUSE)
  : path.join(EXAMPLE_DIR, ".baton", "warehouse.duckdb");
export const ZONES_CSV = path.join(EXAMPLE_DIR, "data", "taxi_zone_lookup.csv");
export const PAYMENT_TYPES_CSV = path.join(EXAMPLE_DIR, "data", "payment_type_lookup.csv");
