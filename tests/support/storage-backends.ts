/**
 * The storage backends the storage contract runs against, selected with `BATON_TEST_STORAGE`
 * (`sqlite`, `postgres` or `all`; default `all`, which is what CI runs).
 *
 * Each backend hands out a fresh, empty store per test (`createLocation`) and can look at it through
 * its own raw connection (`tableNames`), independently of the Storage implementation under test.
 *
 * - sqlite: a new file in a new temp dir per test.
 * - postgres: one throwaway server per test file (see ./postgres.ts), a new database per test, dropped
 *   after it. When Postgres is missing, `handleMissingPostgres` fails the file under CI and warns locally.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import type { StorageOptions } from "../../packages/core/src/storage/open-storage.js";
import {
  createTestDatabase,
  dropTestDatabase,
  handleMissingPostgres,
  requirePostgresOrSkipReason,
  startTestPostgres,
  type TestPostgres,
} from "./postgres.js";

export type BackendName = "sqlite" | "postgres";

const SELECTION_ENV = "BATON_TEST_STORAGE";
const ALL_BACKENDS: readonly BackendName[] = ["sqlite", "postgres"];

/** One empty store, for one test. */
export interface StorageLocation {
  /** What to pass to `openStorage` to open (another connection to) this store. */
  readonly options: StorageOptions;
  /** Human-readable: the SQLite file or the Postgres database URL. */
  readonly description: string;
  /** Names of the tables in the store, read through a raw connection. */
  tableNames(): Promise<string[]>;
}

export interface StorageBackend {
  readonly name: BackendName;
  /** Non-null when the backend's tests must be skipped, and why. */
  readonly skipReason: string | null;
  /** Once per file, before the first `createLocation`. */
  start(): Promise<void>;
  /** Once per file; idempotent. */
  stop(): Promise<void>;
  createLocation(): Promise<StorageLocation>;
  /** Removes a store made by `createLocation` (close every connection to it first). */
  destroyLocation(location: StorageLocation): Promise<void>;
}

/** The backends named by BATON_TEST_STORAGE (default: all). Throws on an unknown value. */
export function selectedBackendNames(): readonly BackendName[] {
  const raw = process.env[SELECTION_ENV]?.trim().toLowerCase();
  if (raw === undefined || raw === "" || raw === "all") return ALL_BACKENDS;
  if (raw === "sqlite" || raw === "postgres") return [raw];
  throw new Error(`${SELECTION_ENV} must be one of sqlite, postgres, all (got "${raw}")`);
}

/**
 * Every backend, each with a skip reason when it is not selected or not available. A selected Postgres
 * that is unavailable goes through `handleMissingPostgres` (throws under CI, warns loudly otherwise).
 */
export function storageBackends(): StorageBackend[] {
  const selected = selectedBackendNames();
  const notSelected = (name: BackendName) =>
    selected.includes(name) ? null : `not selected by ${SELECTION_ENV}=${process.env[SELECTION_ENV]}`;

  let postgresSkip = notSelected("postgres");
  if (postgresSkip === null) {
    postgresSkip = requirePostgresOrSkipReason();
    if (postgresSkip !== null) handleMissingPostgres(postgresSkip);
  }
  return [sqliteBackend(notSelected("sqlite")), postgresBackend(postgresSkip)];
}

function sqliteBackend(skipReason: string | null): StorageBackend {
  const dirs = new Map<StorageLocation, string>();
  return {
    name: "sqlite",
    skipReason,
    start: async () => {},
    stop: async () => {
      for (const dir of dirs.values()) await rm(dir, { recursive: true, force: true });
      dirs.clear();
    },
    async createLocation() {
      const dir = await mkdtemp(path.join(tmpdir(), "baton-storage-contract-"));
      const file = path.join(dir, "baton.db");
      const location: StorageLocation = {
        options: { sqlitePath: file },
        description: file,
        async tableNames() {
          const db = new Database(file, { readonly: true, fileMustExist: true });
          try {
            const rows = db
              .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
              .all() as { name: string }[];
            return rows.map((r) => r.name);
          } finally {
            db.close();
          }
        },
      };
      dirs.set(location, dir);
      return location;
    },
    async destroyLocation(location) {
      const dir = dirs.get(location);
      if (dir === undefined) return;
      dirs.delete(location);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function postgresBackend(skipReason: string | null): StorageBackend {
  let server: TestPostgres | null = null;
  const databases = new Map<StorageLocation, string>();
  return {
    name: "postgres",
    skipReason,
    async start() {
      server = await startTestPostgres();
      if (server === null)
        throw new Error("startTestPostgres() returned null although no skip reason was found");
    },
    async stop() {
      for (const url of databases.values()) await dropTestDatabase(url).catch(() => {});
      databases.clear();
      await server?.stop();
    },
    async createLocation() {
      if (server === null) throw new Error("postgres backend: start() was not called (or failed)");
      const url = await createTestDatabase(server.url);
      const location: StorageLocation = {
        // sqlitePath is required by the type, and must be ignored when databaseUrl is set.
        options: { databaseUrl: url, sqlitePath: "unused" },
        description: url,
        async tableNames() {
          const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
          client.on("error", () => {});
          await client.connect();
          try {
            const result = await client.query<{ name: string }>(
              "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
            );
            return result.rows.map((r) => r.name);
          } finally {
            await client.end().catch(() => {});
          }
        },
      };
      databases.set(location, url);
      return location;
    },
    async destroyLocation(location) {
      const url = databases.get(location);
      if (url === undefined) return;
      databases.delete(location);
      await dropTestDatabase(url);
    },
  };
}
