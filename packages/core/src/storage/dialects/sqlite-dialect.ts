import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect, sql } from "kysely";
import { StorageError } from "../../errors.js";
import { createKeyedQueue } from "../../util/keyed-queue.js";
import type { BatonDatabase } from "../schema.js";
import type { DialectAdapter, Executor } from "./dialect-adapter.js";
import { describeSqliteFault, withStoreErrors } from "./sqlite-errors.js";

/**
 * For fault tests only: pragmas applied to every connection this process opens, as
 * `name=integer[,name=integer]`, e.g. `max_page_count=64` (the file cannot grow past 64 pages:
 * writes then fail with SQLITE_FULL, as on a full disk, without mounting a small filesystem) or
 * `query_only=1` (writes fail with SQLITE_READONLY). Only these two names are accepted.
 */
export const TEST_PRAGMAS_ENV = "BATON_TEST_SQLITE_PRAGMAS";
const TEST_PRAGMAS = new Set(["max_page_count", "query_only"]);

/** Parse `TEST_PRAGMAS_ENV`; a typo must not silently leave the fault out of a test. */
export function parseTestPragmas(value: string | undefined): [string, number][] {
  if (value === undefined || value.trim() === "") return [];
  return value.split(",").map((item) => {
    const match = /^\s*([a-z_]+)\s*=\s*(\d+)\s*$/.exec(item);
    if (!match || !TEST_PRAGMAS.has(match[1]!))
      throw new StorageError(
        `${TEST_PRAGMAS_ENV}: "${item.trim()}" is not name=integer with a name among ${[...TEST_PRAGMAS].join(", ")} (it is for fault tests; unset it otherwise).`,
      );
    return [match[1]!, Number(match[2])];
  });
}

/**
 * Write transactions on one file queue here when a process holds several connections to it.
 * better-sqlite3 waits for a lock synchronously (busy_timeout sleeps on the event-loop thread),
 * so a second in-process writer would freeze the process while the first one sits at an
 * `await` and can never commit. Across processes, BEGIN IMMEDIATE + busy_timeout serialize.
 */
const writeQueue = createKeyedQueue();

/**
 * Switch to WAL, retrying while another process holds the file: the switch needs an exclusive
 * lock, and SQLite answers SQLITE_BUSY at once (busy_timeout does not apply) when waiting could
 * deadlock with another process's BEGIN IMMEDIATE — e.g. several processes opening and
 * migrating a fresh file at the same moment.
 */
function enableWal(database: Database.Database, timeoutMs = 10_000): void {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 0; ; attempt++) {
    try {
      database.pragma("journal_mode = WAL");
      return;
    } catch (error) {
      const busy = /database is locked|SQLITE_BUSY/i.test(String((error as Error).message ?? error));
      if (!busy || Date.now() > deadline) throw error;
      Atomics.wait(pause, 0, 0, Math.min(200, 10 * 2 ** Math.min(attempt, 4)));
    }
  }
}

/**
 * The embedded store: one SQLite file in WAL mode, safe for several processes. Writes take the
 * lock up front (`BEGIN IMMEDIATE`): with Kysely's deferred `BEGIN`, two writing processes hit
 * SQLITE_BUSY in ~18% of transactions here; with IMMEDIATE they wait on busy_timeout instead.
 */
export function openSqliteDialect(
  file: string,
  options: { testPragmas?: string | undefined } = { testPragmas: process.env[TEST_PRAGMAS_ENV] },
): DialectAdapter {
  const location = file === ":memory:" ? file : path.resolve(file);
  const testPragmas = parseTestPragmas(options.testPragmas);
  let database: Database.Database;
  try {
    if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    database = new Database(file);
    // busy_timeout first: switching to WAL needs a lock another process may hold.
    database.pragma("busy_timeout = 10000");
    enableWal(database);
    database.pragma("synchronous = NORMAL");
    database.pragma("foreign_keys = ON");
    for (const [name, value] of testPragmas) database.pragma(`${name} = ${value}`);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const fault = typeof code === "string" ? describeSqliteFault(code, location) : undefined;
    throw new StorageError(
      fault ?? `Could not open the SQLite store at ${location}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const db = new Kysely<BatonDatabase>({
    dialect: new SqliteDialect({ database: withStoreErrors(database, location) }),
  });
  const lockKey = location;
  return {
    name: "sqlite",
    location,
    db,
    maxRowsPerInsert: 1000,
    lockAsset: async () => {},
    lockQueue: async () => {},
    lockEventLog: async () => {},
    lockRunEvents: async () => {},
    writeTransaction<T>(fn: (trx: Executor) => Promise<T>): Promise<T> {
      return writeQueue.run(lockKey, () =>
        db.connection().execute(async (conn) => {
          await sql`begin immediate`.execute(conn);
          try {
            const result = await fn(conn);
            await sql`commit`.execute(conn);
            return result;
          } catch (error) {
            await sql`rollback`.execute(conn).catch(() => undefined);
            throw error;
          }
        }),
      );
    },
    close: () => db.destroy(),
  };
}
