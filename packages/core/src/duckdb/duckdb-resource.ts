import path from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { type ResourceDefinition, resource } from "../definitions/resource.js";
import { acquireDuckDBInstance, createWarehouse, type DuckDBWarehouse } from "./warehouse.js";

export interface DuckDBOptions {
  /** Database file; relative paths are relative to the process's working directory. ":memory:" works too. */
  readonly path: string;
  /** Open read-only (several processes may read one file). */
  readonly readOnly?: boolean;
}

/**
 * A DuckDB database as a resource: one connection per run, opened at setup and closed at
 * teardown (also when the run fails). `ctx.resources.NAME` is a `DuckDBWarehouse`.
 */
export function duckdb(options: DuckDBOptions): ResourceDefinition<DuckDBWarehouse> {
  const file = options.path === ":memory:" ? options.path : path.resolve(options.path);
  const opened = new WeakMap<DuckDBWarehouse, { connection: DuckDBConnection; release: () => void }>();
  return resource({
    description: `DuckDB at ${file}${options.readOnly ? " (read-only)" : ""}`,
    async setup() {
      if (file !== ":memory:")
        await import("node:fs/promises").then((fs) => fs.mkdir(path.dirname(file), { recursive: true }));
      const { instance, release } = await acquireDuckDBInstance(file, Boolean(options.readOnly));
      try {
        const connection = await instance.connect();
        const warehouse = createWarehouse(file, instance, connection);
        opened.set(warehouse, { connection, release });
        return warehouse;
      } catch (error) {
        release();
        throw error;
      }
    },
    teardown(warehouse) {
      const o = opened.get(warehouse);
      o?.connection.closeSync();
      o?.release();
    },
  });
}
