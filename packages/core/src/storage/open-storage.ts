import path from "node:path";
import { StorageError } from "../errors.js";
import type { DialectAdapter } from "./dialects/dialect-adapter.js";
import { openPostgresDialect, redactUrl } from "./dialects/postgres-dialect.js";
import { openSqliteDialect } from "./dialects/sqlite-dialect.js";
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
    adapter = openPostgresDialect(url);
  } else {
    adapter = openSqliteDialect(path.resolve(options.sqlitePath));
  }
  let migrated: string[] = [];
  try {
    if (options.migrate ?? true) migrated = await migrateStorage(adapter);
    else await adapter.db.selectNoFrom((eb) => eb.lit(1).as("ok")).execute();
  } catch (error) {
    await adapter.close().catch(() => undefined);
    if (error instanceof StorageError) throw error;
    throw new StorageError(
      `Could not reach the ${adapter.name} store at ${adapter.location}: ${(error as Error).message || String(error)}` +
        (adapter.name === "postgres" ? ". Check BATON_DATABASE_URL and that the server is running." : ""),
      { cause: error },
    );
  }
  return Object.assign(createKyselyStorage(adapter), { migrated });
}
