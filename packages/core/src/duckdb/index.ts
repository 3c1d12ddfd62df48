/**
 * @baton/core/duckdb: DuckDB as a resource and as an IO manager.
 *
 * ```ts
 * import { duckdb, duckdbIOManager, sql, union } from "@baton/core/duckdb";
 * resources: { warehouse: duckdb({ path: ".baton/warehouse.duckdb" }),
 *              io_manager: duckdbIOManager({ path: ".baton/warehouse.duckdb" }) }
 * ```
 */

export {
  type DuckDBIOManagerOptions,
  type DuckDBTable,
  duckdbIOManager,
  PARTITION_COLUMN,
  tableNameOf,
  union,
} from "./duckdb-io-manager.js";
export { type DuckDBOptions, duckdb } from "./duckdb-resource.js";
export { ident, literal, query, raw, type SqlInline, type SqlParam, type SqlQuery, sql } from "./sql.js";
export {
  type SqlAssets,
  type SqlAssetsOptions,
  type SqlModelAsset,
  type SqlModelInput,
  sqlAssets,
} from "./sql-models.js";
export type { DuckDBWarehouse, Row, SqlInput } from "./warehouse.js";
