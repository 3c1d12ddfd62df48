import { createHash, randomUUID } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { DuckDBInstance } from "@duckdb/node-api";
import type { IOManager, OutputResult } from "../definitions/io-manager.js";
import { md } from "../definitions/metadata.js";
import { type ResourceDefinition, resource } from "../definitions/resource.js";
import { BatonError } from "../errors.js";
import { createKeyedQueue } from "../util/keyed-queue.js";
import { ident, inlineAs, isSqlQuery, literal, raw, type SqlInline, type SqlQuery, sql } from "./sql.js";
import { acquireDuckDBInstance, inTransaction, type Row } from "./warehouse.js";

/** Column holding the partition key in tables of partitioned assets. */
export const PARTITION_COLUMN = "_partition";

/**
 * What downstream `ins` receive from the DuckDB IO manager: a handle on the asset's rows (of one
 * partition, when partitioned). Interpolate it in `sql\`…\`` as a relation, or read it.
 */
export interface DuckDBTable extends SqlInline {
  readonly assetKey: string;
  /** `"schema"."table"` */
  readonly table: string;
  readonly partitionKey: string | undefined;
  /** Rows (all, or the first `limit`) as plain objects. */
  rows(limit?: number): Promise<Row[]>;
  count(): Promise<number>;
  /** How a handle prints in JSON (logs, metadata). */
  toJSON(): { table: string; partitionKey: string | undefined };
}

/** Schema and table of an asset key: `taxi/clean_trips` → `"taxi"."clean_trips"`. */
export function tableNameOf(assetKey: string): { schema: string; table: string; qualified: string } {
  const parts = assetKey.split("/");
  const schema = parts.length > 1 ? parts[0]! : "main";
  const table = parts.length > 1 ? parts.slice(1).join("__") : parts[0]!;
  return { schema, table, qualified: `${ident(schema)}.${ident(table)}` };
}

/**
 * The rows of several partitions (an input keyed by partition, e.g. a month reading both taxi
 * types, or an unpartitioned asset reading all of them) as one relation.
 */
export function union(tables: DuckDBTable | Readonly<Record<string, DuckDBTable>>): SqlInline {
  if (isTable(tables)) return tables;
  const list = Object.values(tables);
  if (list.length === 0)
    throw new BatonError("USER_CODE_ERROR", "union(): no partitions to read (the input is empty)");
  const byTable = new Map<string, DuckDBTable[]>();
  for (const t of list) byTable.set(t.table, [...(byTable.get(t.table) ?? []), t]);
  const parts = [...byTable.entries()].map(([table, ts]) => {
    const keys = ts.map((t) => t.partitionKey).filter((k): k is string => k !== undefined);
    return keys.length === 0
      ? `select * from ${table}`
      : `select * exclude (${PARTITION_COLUMN}) from ${table} where ${PARTITION_COLUMN} in (${keys.map(literal).join(", ")})`;
  });
  return raw(`(${parts.join(" union all ")})`);
}

/** One NDJSON line; BIGINTs keep every digit (written as raw JSON numbers, not strings). */
function rowJson(row: unknown): string {
  const text = JSON.stringify(row, (_k, v) => (typeof v === "bigint" ? `\u0000bigint:${v}` : v));
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, "$1");
}

function isTable(value: unknown): value is DuckDBTable {
  return typeof value === "object" && value !== null && typeof (value as DuckDBTable).rows === "function";
}

function tableHandle(
  instance: DuckDBInstance,
  assetKey: string,
  partitionKey: string | undefined,
): DuckDBTable {
  const { qualified } = tableNameOf(assetKey);
  const relation =
    partitionKey === undefined
      ? `(select * from ${qualified})`
      : `(select * exclude (${PARTITION_COLUMN}) from ${qualified} where ${PARTITION_COLUMN} = ${literal(partitionKey)})`;
  const read = async (q: SqlQuery) => inTransaction(instance, (tx) => tx.query(q));
  const handle = {
    assetKey,
    table: qualified,
    partitionKey,
    rows: (limit?: number) =>
      read(
        limit === undefined
          ? sql`select * from ${raw(relation)}`
          : sql`select * from ${raw(relation)} limit ${limit}`,
      ),
    async count() {
      const [row] = await read(sql`select count(*)::BIGINT as n from ${raw(relation)}`);
      return Number(row?.n ?? 0);
    },
    toJSON: () => ({ table: qualified, partitionKey }),
  };
  return inlineAs(relation, handle);
}

/**
 * Writes to one database file are serialized within the process: DuckDB's optimistic concurrency
 * makes concurrent transactions creating the same schema or table fail with a write-write
 * conflict (steps of one run, or runs of a backfill, storing at the same time). Reads are not
 * queued, and one file has one writing process anyway.
 */
const writeQueue = createKeyedQueue();

export interface DuckDBIOManagerOptions {
  readonly path: string;
  /** Rows kept in the materialization's preview metadata (default 5; 0 for none). */
  readonly previewRows?: number;
  /**
   * Record a data version per materialization (default true): a hash of the columns and of the
   * rows as a multiset (the sum of DuckDB's row hashes, in the row count's scan), so a table
   * stored again with the same rows in any order does not make downstream assets stale. False:
   * no version (staleness falls back to materialization order), and no extra hashing.
   */
  readonly dataVersions?: boolean;
}

/**
 * Stores tabular asset values in DuckDB: an asset returning rows (an array of objects) or a
 * `sql\`select …\`` query becomes table `schema.table` named from its key. Partitioned assets
 * replace only their partition's rows (delete then insert, in one transaction, keyed by the
 * `_partition` column), so re-materializing a month never duplicates rows. Downstream assets
 * receive a `DuckDBTable` handle, not the rows. Records row count, schema and a preview.
 */
export function duckdbIOManager(options: DuckDBIOManagerOptions): ResourceDefinition<IOManager> {
  const file = options.path === ":memory:" ? options.path : path.resolve(options.path);
  const previewRows = options.previewRows ?? 5;
  const dataVersions = options.dataVersions ?? true;
  const releases = new WeakMap<IOManager, () => void>();
  return resource({
    description: `DuckDB tables in ${file}`,
    async setup(): Promise<IOManager> {
      if (file !== ":memory:") await mkdir(path.dirname(file), { recursive: true });
      const { instance, release } = await acquireDuckDBInstance(file, false);
      const manager: IOManager = {
        reuseInRun: false,
        async handleOutput(ctx, value): Promise<OutputResult | undefined> {
          if (value === undefined) return undefined;
          const { schema, qualified } = tableNameOf(ctx.assetKey);
          let source: SqlQuery;
          let cleanup: string | undefined;
          if (isSqlQuery(value)) source = value;
          else if (isTable(value)) source = sql`select * from ${value}`;
          else if (Array.isArray(value)) {
            if (value.length === 0)
              throw new BatonError(
                "USER_CODE_ERROR",
                `"${ctx.assetKey}" returned no rows; return undefined to store nothing`,
              );
            const bad = value.findIndex((r) => typeof r !== "object" || r === null || Array.isArray(r));
            if (bad >= 0)
              throw new BatonError(
                "USER_CODE_ERROR",
                `the DuckDB IO manager stores rows as objects; "${ctx.assetKey}" returned an array whose item ${bad} is ${Array.isArray(value[bad]) ? "an array" : String(value[bad])}`,
              );
            cleanup = path.join(os.tmpdir(), `baton-duckdb-${randomUUID()}.ndjson`);
            await writeFile(cleanup, value.map(rowJson).join("\n"));
            source = sql`select * from read_json_auto(${cleanup})`;
          } else {
            throw new BatonError(
              "USER_CODE_ERROR",
              `the DuckDB IO manager stores rows (an array of objects) or a sql\`select …\` query; "${ctx.assetKey}" returned ${typeof value}`,
            );
          }
          const q = (text: string) => raw(text);
          try {
            return await writeQueue.run(file, () =>
              inTransaction(instance, async (tx) => {
                await tx.run(`create schema if not exists ${ident(schema)}`);
                let where = "";
                if (ctx.partitionKey === undefined) {
                  await tx.run(sql`create or replace table ${q(qualified)} as ${source}`);
                } else {
                  const key = literal(ctx.partitionKey);
                  where = ` where ${PARTITION_COLUMN} = ${key}`;
                  await tx.run(
                    sql`create table if not exists ${q(qualified)} as select *, ''::VARCHAR as ${q(PARTITION_COLUMN)} from (${source}) limit 0`,
                  );
                  await tx.run(`delete from ${qualified}${where}`);
                  await tx.run(
                    sql`insert into ${q(qualified)} by name select *, ${q(key)} as ${q(PARTITION_COLUMN)} from (${source})`,
                  );
                }
                const columnsSql = ctx.partitionKey === undefined ? "*" : `* exclude (${PARTITION_COLUMN})`;
                const [count] = await tx.query(
                  dataVersions
                    ? `select count(*)::BIGINT as n, coalesce(sum(hash(r)), 0)::VARCHAR as h from (select ${columnsSql} from ${qualified}${where}) r`
                    : `select count(*)::BIGINT as n from ${qualified}${where}`,
                );
                const columns = (await tx.query(`describe ${qualified}`))
                  .map((c) => ({ name: String(c.column_name), type: String(c.column_type) }))
                  .filter((c) => c.name !== PARTITION_COLUMN);
                const preview =
                  previewRows > 0
                    ? await tx.query(`select ${columnsSql} from ${qualified}${where} limit ${previewRows}`)
                    : [];
                return {
                  metadata: {
                    row_count: md.rowCount(Number(count?.n ?? 0)),
                    table: md.text(qualified),
                    schema: md.tableSchema(columns),
                    ...(previewRows > 0 ? { preview: md.json(preview) } : {}),
                  },
                  ...(dataVersions
                    ? {
                        dataVersion: createHash("sha256")
                          .update(JSON.stringify([columns, String(count?.n ?? 0), String(count?.h ?? "")]))
                          .digest("hex")
                          .slice(0, 16),
                      }
                    : {}),
                };
              }),
            );
          } finally {
            if (cleanup) await rm(cleanup, { force: true });
          }
        },
        async loadInput(ctx) {
          const { schema, table } = tableNameOf(ctx.assetKey);
          const exists = await inTransaction(instance, (tx) =>
            tx.query(
              sql`select 1 from information_schema.tables where table_schema = ${schema} and table_name = ${table}`,
            ),
          );
          if (exists.length === 0)
            throw new BatonError(
              "USER_CODE_ERROR",
              `No DuckDB table for asset "${ctx.assetKey}" in ${file}. Materialize it first, or select it in this run.`,
            );
          return tableHandle(instance, ctx.assetKey, ctx.partitionKey);
        },
      };
      releases.set(manager, release);
      return manager;
    },
    // The run is over: this process stops holding the file (another worker process may need it).
    teardown(manager) {
      releases.get(manager)?.();
    },
  });
}
