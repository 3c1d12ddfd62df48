import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { isBatonError } from "../errors.js";
import type { DialectAdapter } from "./dialects/dialect-adapter.js";
import { openSqliteDialect, parseTestPragmas, TEST_PRAGMAS_ENV } from "./dialects/sqlite-dialect.js";
import { SqliteStoreError } from "./dialects/sqlite-errors.js";
import { createKyselyStorage, migrateStorage } from "./kysely-storage.js";
import { openStorage } from "./open-storage.js";
import { recordRunFailure } from "./record-run-failure.js";
import type { Storage } from "./storage.js";

const T = 1_700_000_000_000;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0)) await fn();
});

async function startedRun(): Promise<{ adapter: DialectAdapter; storage: Storage; file: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), "baton-run-failure-"));
  const file = path.join(dir, "baton.db");
  const adapter = openSqliteDialect(file, { testPragmas: undefined });
  await migrateStorage(adapter);
  const storage = createKyselyStorage(adapter);
  cleanups.push(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });
  await storage.createRun({
    runId: "r1",
    status: "QUEUED",
    selection: "a",
    assetKeys: ["a"],
    config: {},
    tags: {},
    createdAt: T,
  });
  await storage.appendEvents([{ type: "run_started", steps: [], runId: "r1", timestamp: T + 1 }]);
  return { adapter, storage, file };
}

/** A materialization too big for a store capped 2 pages above its size: SQLITE_FULL. */
async function refusedWrite(adapter: DialectAdapter, storage: Storage): Promise<unknown> {
  const { rows } = await sql<{ page_count: number }>`pragma page_count`.execute(adapter.db);
  await sql.raw(`pragma max_page_count = ${rows[0]!.page_count + 2}`).execute(adapter.db);
  const big = { blob: { type: "text" as const, value: "x".repeat(200_000) } };
  return storage
    .appendEvents([
      { type: "materialization", stepKey: "a", assetKey: "a", metadata: big, runId: "r1", timestamp: T + 2 },
    ])
    .then(
      () => undefined,
      (error: unknown) => error,
    );
}

describe("a run whose events the store refused", () => {
  it("SQLITE_FULL is a StorageError naming the store file and the cause", async () => {
    const { adapter, storage, file } = await startedRun();
    const error = await refusedWrite(adapter, storage);
    expect(error).toBeInstanceOf(SqliteStoreError);
    expect((error as SqliteStoreError).sqliteCode).toBe("SQLITE_FULL");
    expect((error as Error).message).toContain(
      `The SQLite store at ${file} is full (database or disk is full)`,
    );
    // The refused batch left nothing behind.
    expect((await storage.getEvents("r1")).map((e) => e.type)).toEqual(["run_started"]);
  });

  it("is marked FAILURE with the reason when a small write still fits, and the error names the run", async () => {
    const { adapter, storage } = await startedRun();
    const error = await refusedWrite(adapter, storage);
    const thrown = await recordRunFailure(storage, "r1", error);
    expect((await storage.getRun("r1"))?.status).toBe("FAILURE");
    const [failed] = await storage.getEvents("r1", { types: ["run_failed"] });
    expect(failed).toMatchObject({ reason: expect.stringContaining("is full (database or disk is full)") });
    expect(isBatonError(thrown) && thrown.code).toBe("STORAGE_ERROR");
    expect((thrown as Error).message).toMatch(/is full .* Run r1 is marked FAILURE/);
  });

  it("says the stored status is stale when even that write is refused", async () => {
    const { adapter, storage } = await startedRun();
    await sql`pragma query_only = 1`.execute(adapter.db);
    const error = await storage.appendEvents([{ type: "run_succeeded", runId: "r1", timestamp: T + 3 }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as SqliteStoreError).sqliteCode).toMatch(/^SQLITE_READONLY/);
    const thrown = await recordRunFailure(storage, "r1", error);
    expect((thrown as Error).message).toMatch(/is read-only .* Run r1 could not be marked failed either/);
    expect((await storage.getRun("r1"))?.status).toBe("STARTED");
  });

  it("leaves a run whose end is stored as it is", async () => {
    const { storage } = await startedRun();
    await storage.appendEvents([{ type: "run_succeeded", runId: "r1", timestamp: T + 3 }]);
    const error = new Error("a late write failed");
    expect(await recordRunFailure(storage, "r1", error)).toBe(error);
    expect((await storage.getRun("r1"))?.status).toBe("SUCCESS");
    expect(await storage.getEvents("r1", { types: ["run_failed"] })).toEqual([]);
  });

  it("returns other errors unchanged (the run is still marked FAILURE)", async () => {
    const { storage } = await startedRun();
    const error = new Error("the body threw");
    expect(await recordRunFailure(storage, "r1", error)).toBe(error);
    expect((await storage.getRun("r1"))?.status).toBe("FAILURE");
  });
});

describe("BATON_TEST_SQLITE_PRAGMAS", () => {
  it("accepts max_page_count and query_only, and refuses anything else by name", () => {
    expect(parseTestPragmas(" max_page_count = 64 ,query_only=1")).toEqual([
      ["max_page_count", 64],
      ["query_only", 1],
    ]);
    expect(parseTestPragmas(undefined)).toEqual([]);
    expect(() => parseTestPragmas("max_pages=64")).toThrow(
      /BATON_TEST_SQLITE_PRAGMAS: "max_pages=64" is not/,
    );
    expect(() => parseTestPragmas("journal_mode=0")).toThrow(/max_page_count, query_only/);
  });
});

describe("openStorage on a store that refuses writes", () => {
  it("a pending migration refused says once what is wrong and what to do (not wrapped in 'Could not open')", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "baton-open-refused-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const previous = process.env[TEST_PRAGMAS_ENV];
    process.env[TEST_PRAGMAS_ENV] = "query_only=1";
    const error = await openStorage({ sqlitePath: path.join(dir, "baton.db") }).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (previous === undefined) delete process.env[TEST_PRAGMAS_ENV];
    else process.env[TEST_PRAGMAS_ENV] = previous;
    expect(isBatonError(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toMatch(/^The SQLite store at .*baton\.db is read-only/);
    expect(message).not.toMatch(/Could not open/);
  });
});
