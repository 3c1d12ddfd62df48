import path from "node:path";
import type Database from "better-sqlite3";
import type { SqliteDatabase } from "kysely";
import { StorageError } from "../../errors.js";

/**
 * SQLite result codes that say something about the machine (disk, permissions, the file itself)
 * rather than about Baton's SQL. better-sqlite3 reports them as a bare message ("database or disk
 * is full"), which names no file and, printed by the CLI, reads like a bug. These become a
 * StorageError naming the store and what to do; anything else (constraints, SQL) passes through.
 */
export function describeSqliteFault(code: string, location: string): string | undefined {
  const files = `${location} (and its -wal and -shm files)`;
  if (code === "SQLITE_FULL")
    return `The SQLite store at ${location} is full (database or disk is full): free space on its disk (or move BATON_HOME to a larger one) and run again; what was stored before is intact.`;
  if (code.startsWith("SQLITE_READONLY") || code === "SQLITE_PERM")
    return `The SQLite store at ${location} is read-only (attempt to write a readonly database, ${code}): make ${files} and the folder ${path.dirname(location)} writable by the user running Baton, or set BATON_HOME to a writable folder.`;
  if (code.startsWith("SQLITE_IOERR"))
    return `Disk I/O error on the SQLite store at ${location} (${code}): check the disk and the file's permissions, then run again.`;
  if (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB")
    return `The SQLite store at ${location} is damaged or is not a SQLite database (${code}): restore it from a backup, or move it away to start an empty store.`;
  if (code.startsWith("SQLITE_CANTOPEN"))
    return `Cannot open the SQLite store at ${location} or its -wal/-shm files (${code}): check that the folder ${path.dirname(location)} exists and is writable.`;
  return undefined;
}

/** `error` as a StorageError naming the store when it is one of the faults above; else unchanged. */
export function translateSqliteError(error: unknown, location: string): unknown {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== "string") return error;
  const message = describeSqliteFault(code, location);
  return message === undefined ? error : new SqliteStoreError(message, code, location, error);
}

/** A machine-level SQLite fault: `sqliteCode` is SQLite's extended code (SQLITE_FULL …). */
export class SqliteStoreError extends StorageError {
  readonly sqliteCode: string;
  readonly location: string;
  constructor(message: string, sqliteCode: string, location: string, cause: unknown) {
    super(message, { cause });
    this.sqliteCode = sqliteCode;
    this.location = location;
  }
}

function guard<T>(location: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw translateSqliteError(error, location);
  }
}

/**
 * The database as Kysely's SqliteDialect uses it (prepare → all/run/iterate), with every call's
 * faults translated. A wrapper rather than a catch in each caller: a write fails wherever it is
 * (an event batch, a heartbeat, a claim, a migration) and each must name the store.
 */
export function withStoreErrors(database: Database.Database, location: string): SqliteDatabase {
  return {
    close: () => database.close(),
    prepare(sqlText: string) {
      const statement = guard(location, () => database.prepare(sqlText));
      return {
        reader: statement.reader,
        all: (parameters: readonly unknown[]) => guard(location, () => statement.all(parameters)),
        run: (parameters: readonly unknown[]) => guard(location, () => statement.run(parameters)),
        iterate(parameters: readonly unknown[]): IterableIterator<unknown> {
          const inner = guard(location, () => statement.iterate(parameters));
          return {
            next: () => guard(location, () => inner.next()),
            return: (value?: unknown) => inner.return?.(value) ?? { done: true, value: undefined },
            [Symbol.iterator]() {
              return this;
            },
          };
        },
      };
    },
  };
}
