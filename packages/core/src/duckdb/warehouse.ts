import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from "@duckdb/node-api";
import { isSqlQuery, query as makeQuery, type SqlParam, type SqlQuery } from "./sql.js";

export type Row = Record<string, unknown>;

/** Rows as plain JS: BIGINT becomes a number when it fits (else a string); dates stay Dates. */
export function normalizeRow(row: Record<string, unknown>): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[k] = normalizeValue(v);
  return out;
}

function normalizeValue(v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(normalizeValue);
  if (v && typeof v === "object" && !(v instanceof Date) && Object.getPrototypeOf(v) === Object.prototype)
    return normalizeRow(v as Record<string, unknown>);
  return v;
}

/** SQL given as a `sql` query, or text with positional parameters. */
export type SqlInput = SqlQuery | string;

function toQuery(input: SqlInput, params?: readonly SqlParam[]): SqlQuery {
  return isSqlQuery(input) ? input : makeQuery(input, params ?? []);
}

/** What asset bodies use: queries on one connection, serialized; transactions on their own. */
export interface DuckDBWarehouse {
  /** The database file (":memory:" for an in-memory one). */
  readonly path: string;
  /** Run a query and return its rows. */
  query<T extends Row = Row>(sql: SqlInput, params?: readonly SqlParam[]): Promise<T[]>;
  /** Run a statement (or several separated by `;` without parameters). */
  run(sql: SqlInput, params?: readonly SqlParam[]): Promise<void>;
  /** Run `fn` in a transaction on a connection of its own; rolled back if it throws. */
  transaction<T>(fn: (tx: Pick<DuckDBWarehouse, "query" | "run">) => Promise<T>): Promise<T>;
  /** The underlying client connection (serialized with `query`/`run` only if you use `exclusive`). */
  exclusive<T>(fn: (connection: DuckDBConnection) => Promise<T>): Promise<T>;
}

/** The process's in-memory database, shared like a file (the client's cache does not keep ":memory:"). */
let memory: Promise<DuckDBInstance> | undefined;

export async function openDuckDBInstance(path: string, readOnly: boolean): Promise<DuckDBInstance> {
  const options: Record<string, string> = readOnly ? { access_mode: "READ_ONLY" } : {};
  if (path === ":memory:") {
    memory ??= DuckDBInstance.create(path);
    return memory;
  }
  // One instance per file per process (DuckDB allows one writer process per file); cached.
  return DuckDBInstance.fromCache(path, options);
}

function ops(connection: DuckDBConnection) {
  return {
    async query<T extends Row = Row>(input: SqlInput, params?: readonly SqlParam[]): Promise<T[]> {
      const q = toQuery(input, params);
      const reader = await connection.runAndReadAll(q.text, q.params as DuckDBValue[]);
      return reader.getRowObjectsJS().map((r) => normalizeRow(r as Record<string, unknown>) as T);
    },
    async run(input: SqlInput, params?: readonly SqlParam[]): Promise<void> {
      const q = toQuery(input, params);
      await connection.run(q.text, q.params.length > 0 ? (q.params as DuckDBValue[]) : undefined);
    },
  };
}

/** Run `fn` in BEGIN … COMMIT on a fresh connection (ROLLBACK on error); closes it. */
export async function inTransaction<T>(
  instance: DuckDBInstance,
  fn: (tx: ReturnType<typeof ops>) => Promise<T>,
): Promise<T> {
  const connection = await instance.connect();
  const tx = ops(connection);
  try {
    await connection.run("begin transaction");
    try {
      const result = await fn(tx);
      await connection.run("commit");
      return result;
    } catch (error) {
      await connection.run("rollback").catch(() => undefined);
      throw error;
    }
  } finally {
    connection.closeSync();
  }
}

export function createWarehouse(
  path: string,
  instance: DuckDBInstance,
  connection: DuckDBConnection,
): DuckDBWarehouse {
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };
  const base = ops(connection);
  return {
    path,
    query: (input, params) => serial(() => base.query(input, params)),
    run: (input, params) => serial(() => base.run(input, params)),
    transaction: (fn) => inTransaction(instance, fn),
    exclusive: (fn) => serial(() => fn(connection)),
  };
}
