import path from "node:path";
import { StorageError } from "../errors.js";
import type { DialectAdapter } from "./dialects/dialect-adapter.js";
import { redactUrl } from "./dialects/redact-url.js";
import { createKyselyStorage, migrateStorage } from "./kysely-storage.js";
import type { Storage } from "./storage.js";

export interface StorageOptions {
  /** `postgres://…` for Postgres; otherwise SQLite at `sqlitePath`. */
  readonly databaseUrl?: string | undefined;
  /** SQLite file (default `<home>/baton.db`). */
  readonly sqlitePath: string;
  /** Apply pending migrations on open (default true). */
  readonly migrate?: boolean;
}

function describeCause(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describeCause(error.errors[0]);
  return error instanceof Error ? error.message || error.name : String(error);
}

/** Open (and by default migrate) the store. Connection problems become one clear StorageError. */
export async function openStorage(
  options: StorageOptions,
): Promise<Storage & { readonly migrated: string[] }> {
  const url = options.databaseUrl?.trim();
  let adapter: DialectAdapter;
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new StorageError(
        `BATON_DATABASE_URL must be a postgres:// or postgresql:// URL (got "${redactUrl(url)}"); unset it to use the embedded SQLite store.`,
      );
    }
    // Each dialect's driver is loaded only when used: a SQLite store never loads pg (~10 MB of
    // resident memory in every process, bench:rss), nor a Postgres one better-sqlite3.
    const { openPostgresDialect } = await import("./dialects/postgres-dialect.js");
    adapter = openPostgresDialect(url);
  } else {
    const { openSqliteDialect } = await import("./dialects/sqlite-dialect.js");
    adapter = openSqliteDialect(path.resolve(options.sqlitePath));
  }
  let migrated: string[] = [];
  try {
    if (options.migrate ?? true) migrated = await migrateStorage(adapter);
    else await adapter.db.selectNoFrom((eb) => eb.lit(1).as("ok")).execute();
  } catch (error) {
    await adapter.close().catch(() => undefined);
    // Already a StorageError naming the store and what to do (a full or read-only SQLite file).
    if (error instanceof StorageError) throw error;
    throw new StorageError(
      `Could not open the ${adapter.name} store at ${adapter.location}: ${describeCause(error)}` +
        (adapter.name === "postgres"
          ? ". Check BATON_DATABASE_URL and that the server is running."
          : `. Check that ${path.dirname(adapter.location)} is writable (or set BATON_HOME).`),
      { cause: error },
    );
  }
  return Object.assign(createKyselyStorage(adapter), { migrated });
}
