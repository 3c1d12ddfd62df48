import type { DuckDBConnection, DuckDBInstance, DuckDBValue } from "@duckdb/node-api";
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

/**
 * DuckDB's client and native module (~25 MB resident), loaded when a run first opens a database:
 * processes that load definitions using DuckDB but never run them (the daemon, the webserver, idle
 * run workers) do not pay for it.
 */
let client: Promise<typeof import("@duckdb/node-api")> | undefined;
const loadClient = () => {
  client ??= import("@duckdb/node-api");
  return client;
};

/** The process's in-memory database, shared like a file (kept for the process's life). */
let memory: Promise<DuckDBInstance> | undefined;

interface Shared {
  readonly instance: Promise<DuckDBInstance>;
  users: number;
}
/** Open file instances of this process, by path and mode, with how many runs use each. */
const open = new Map<string, Shared>();

const LOCK_CONFLICT = /Could not set lock|Conflicting lock/i;

/**
 * Open a DuckDB file, waiting while another process holds its lock (DuckDB allows one writer
 * process per file: run workers in other processes take turns, run by run) up to `lockTimeoutMs`.
 */
async function openWaiting(path: string, options: Record<string, string>, lockTimeoutMs: number) {
  const deadline = Date.now() + lockTimeoutMs;
  for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
    try {
      // Through the client's cache: every user of this file in the process gets the same database.
      const { DuckDBInstance } = await loadClient();
      return await DuckDBInstance.fromCache(path, options);
    } catch (error) {
      const message = (error as Error).message ?? "";
      if (!LOCK_CONFLICT.test(message)) throw error;
      if (Date.now() + delay > deadline)
        throw new Error(
          `DuckDB file ${path} stayed locked by another process for ${Math.round(lockTimeoutMs / 1000)} s (${message.split("\n")[0]}). ` +
            "DuckDB allows one writer process per file: runs in other processes wait for each other; " +
            "a process holding it for long (e.g. a DuckDB CLI session) blocks them.",
          { cause: error },
        );
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** Set in run worker processes (by their supervisor): see `acquireDuckDBInstance`. */
export const RELEASE_IDLE_ENV = "BATON_DUCKDB_RELEASE_IDLE";

/**
 * Use a DuckDB database for a while (a run): one instance per file per process, shared by the
 * runs in flight. In run worker processes (`BATON_DUCKDB_RELEASE_IDLE=1`) it is closed when the
 * last run releases it, so the file lock is held only while that worker runs something on it and
 * workers take turns; other processes keep it open (cheaper, and nothing else competes).
 */
export async function acquireDuckDBInstance(
  path: string,
  readOnly: boolean,
  lockTimeoutMs = 120_000,
): Promise<{ instance: DuckDBInstance; release: () => void }> {
  if (path === ":memory:") {
    memory ??= loadClient().then(({ DuckDBInstance }) => DuckDBInstance.create(path));
    return { instance: await memory, release: () => {} };
  }
  const key = `${readOnly ? "ro" : "rw"}:${path}`;
  let shared = open.get(key);
  if (!shared) {
    shared = {
      instance: openWaiting(path, readOnly ? { access_mode: "READ_ONLY" } : {}, lockTimeoutMs),
      users: 0,
    };
    open.set(key, shared);
  }
  shared.users++;
  const entry = shared;
  let instance: DuckDBInstance;
  try {
    instance = await entry.instance;
  } catch (error) {
    entry.users--;
    if (open.get(key) === entry) open.delete(key);
    throw error;
  }
  let released = false;
  return {
    instance,
    release: () => {
      if (released) return;
      released = true;
      entry.users--;
      if (entry.users === 0 && open.get(key) === entry && process.env[RELEASE_IDLE_ENV] === "1") {
        open.delete(key);
        instance.closeSync();
      }
    },
  };
}

const CSV_ERROR_LINE = /CSV Error on Line: (\d+)/;

/** At most `max` characters of the first line of `text` (an excerpt of a CSV line in a message). */
function excerpt(text: string, max = 120): string {
  const first = text.split(/\r?\n/, 1)[0] ?? "";
  return first.length > max ? `${first.slice(0, max)}…` : first;
}

/**
 * DuckDB's CSV reader errors (`CSV Error on Line: N`, then the line, the reason, hints and the
 * reader's options) as one sentence naming the file, the line and, for a bad value, the column:
 *
 *   malformed CSV: /data/yellow_tripdata_2019-03.csv line 7, column fare_amount: could not convert "abc" to DOUBLE (line: 2,2019-03-01 …)
 *   malformed CSV: /data/yellow_tripdata_2019-03.csv line 9: expected 18 columns, found 17 (line: …)
 *
 * Other errors are returned as they are. The original error is the `cause`.
 */
export function describeCsvError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const message = error.message;
  const line = CSV_ERROR_LINE.exec(message)?.[1];
  if (line === undefined) return error;
  const file = /^\s*file = (.+)$/m.exec(message)?.[1]?.trim() ?? "(unknown file)";
  const original = /Original Line: ([^\n]*)/.exec(message)?.[1];
  const converting = /Error when converting column "((?:[^"]|"")+)"\. (.+)$/m.exec(message);
  const columns = /Expected Number of Columns: (\d+) Found: (\d+)/.exec(message);
  let where = `${file} line ${line}`;
  let reason: string;
  if (converting) {
    where += `, column ${converting[1]!.replaceAll('""', '"')}`;
    const convert = /^Could not convert string (".*") to '([^']+)'$/.exec(converting[2]!.trim());
    reason = convert
      ? `could not convert ${convert[1]} to ${convert[2]}`
      : converting[2]!.trim().replace(/^\p{Lu}/u, (c) => c.toLowerCase());
  } else if (columns) {
    reason = `expected ${columns[1]} columns, found ${columns[2]}`;
  } else {
    // DuckDB's other reasons (csv_error.cpp); else the first line after the original line that is
    // not a hint (an unterminated quote's "original line" runs over many lines: known reasons first).
    const known =
      /^(Value with unterminated quote found|Maximum line size of .*|Invalid unicode.*)\.?$/m.exec(
        message.slice(message.indexOf("Original Line:")),
      )?.[1];
    const after = message.slice(message.indexOf("Original Line:")).split("\n").slice(1);
    const text =
      known ?? after.map((l) => l.trim()).find((l) => l !== "" && !/^(Possible|\*|file =)/.test(l));
    reason = (text ?? "unreadable line").replace(/\.$/, "").replace(/^\p{Lu}/u, (c) => c.toLowerCase());
  }
  const shown = original === undefined ? "" : ` (line: ${excerpt(original)})`;
  return new Error(`malformed CSV: ${where}: ${reason}${shown}`, { cause: error });
}

function ops(connection: DuckDBConnection) {
  return {
    async query<T extends Row = Row>(input: SqlInput, params?: readonly SqlParam[]): Promise<T[]> {
      const q = toQuery(input, params);
      try {
        const reader = await connection.runAndReadAll(q.text, q.params as DuckDBValue[]);
        return reader.getRowObjectsJS().map((r) => normalizeRow(r as Record<string, unknown>) as T);
      } catch (error) {
        throw describeCsvError(error);
      }
    },
    async run(input: SqlInput, params?: readonly SqlParam[]): Promise<void> {
      const q = toQuery(input, params);
      try {
        await connection.run(q.text, q.params.length > 0 ? (q.params as DuckDBValue[]) : undefined);
      } catch (error) {
        throw describeCsvError(error);
      }
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
