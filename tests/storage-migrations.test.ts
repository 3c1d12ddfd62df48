/**
 * Upgrades of the store, on every backend (BATON_TEST_STORAGE=sqlite|postgres|all, default all).
 *
 * 1. Oldest to latest in one step: a store built with only the first migration (Kysely's
 *    Migrator `migrateTo`, with the migration table names `migrateStorage` uses), data written in
 *    that version's shape, then `baton migrate` (the CLI, a real process) applies every other
 *    migration; everything is read back through the Storage API.
 * 2. Step by step: after each migration, more data in that version's shape (partitions and
 *    backfills at 0002, the run queue at 0003, automation at 0004, data versions at 0005), the
 *    last migration applied by `openStorage` (the product's open path); then all of it is read
 *    back, and writes continue where the old data left off (per-run event sequence numbers).
 * 3. Two processes opening a fresh store at the same moment (released together), several rounds:
 *    both succeed, each migration is recorded once, the schema equals a store migrated alone, and
 *    each process's write is readable.
 *
 * Migrations are enumerated from `migrationProvider`: a new migration is stepped through (and must
 * carry all the data above) without touching this file. Seeds exist for the versions that
 * changed the shape of stored data; a migration that only adds indexes needs none.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { type Kysely, Migrator } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventAssetKey, eventStepKey, type RunEvent } from "../packages/core/src/execution/events.js";
import type { DialectAdapter } from "../packages/core/src/storage/dialects/dialect-adapter.js";
import { migrationProvider } from "../packages/core/src/storage/migrations.js";
import { openStorage } from "../packages/core/src/storage/open-storage.js";
import type { Storage } from "../packages/core/src/storage/storage.js";
import { BIN } from "./support/cli.js";
import { type BackendName, type StorageLocation, storageBackends } from "./support/storage-backends.js";

const T = 1_700_000_000_000;
const FAR = T + 1_000_000_000_000;
/** Rows are written in each old version's own shape, not the current schema's. */
type OldDb = Kysely<any>;

/** Every migration name, in the order the migrator applies them. */
async function migrationNames(dialect: BackendName): Promise<string[]> {
  return Object.keys(await migrationProvider(dialect).getMigrations()).sort();
}

async function openAdapter(backend: BackendName, location: StorageLocation): Promise<DialectAdapter> {
  if (backend === "sqlite") {
    const { openSqliteDialect } = await import("../packages/core/src/storage/dialects/sqlite-dialect.js");
    return openSqliteDialect(location.options.sqlitePath);
  }
  const { openPostgresDialect } = await import("../packages/core/src/storage/dialects/postgres-dialect.js");
  return openPostgresDialect(location.options.databaseUrl!);
}

/** Kysely's Migrator with the table names `migrateStorage` (kysely-storage.ts) uses. */
function migrator(adapter: DialectAdapter) {
  return new Migrator({
    db: adapter.db,
    provider: migrationProvider(adapter.name),
    migrationTableName: "baton_migrations",
    migrationLockTableName: "baton_migrations_lock",
  });
}

async function migrateTo(adapter: DialectAdapter, name: string) {
  const { error } = await migrator(adapter).migrateTo(name);
  if (error) throw error;
}

const json = (value: unknown) => JSON.stringify(value);
const meta = (rows: number) => ({ rows: { type: "number", value: rows } });

/** Ids of stored rows the checks need, filled in by the seeds. */
type Ids = Record<string, number>;

async function insertEvents(db: OldDb, runId: string, bodies: Record<string, unknown>[], ids: Ids, from = 1) {
  for (const [i, body] of bodies.entries()) {
    const event = { ...body, runId, timestamp: T + from + i };
    const row = await db
      .insertInto("event_logs")
      .values({
        run_id: runId,
        run_seq: from + i,
        type: body.type,
        step_key: eventStepKey(event as unknown as RunEvent) ?? null,
        asset_key: eventAssetKey(event as unknown as RunEvent) ?? null,
        timestamp: event.timestamp,
        body: json(event),
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    ids[`${runId}#${from + i}`] = Number(row.id);
  }
}

/** Data written in the shape of the store right after migration `version` (prefix). */
const seeds: Record<string, (db: OldDb, ids: Ids) => Promise<void>> = {
  "0001": async (db, ids) => {
    const run = {
      selection: "m/a+",
      parent_run_id: null,
      root_run_id: null,
      config: json({ "m/a": { x: 1 } }),
      tags: json({ team: "data" }),
    };
    await db
      .insertInto("runs")
      .values([
        {
          ...run,
          run_id: "r-success",
          status: "SUCCESS",
          asset_keys: json(["m/a", "m/b"]),
          created_at: T,
          started_at: T + 1,
          ended_at: T + 7,
          updated_at: T + 7,
        },
        {
          ...run,
          run_id: "r-failed",
          status: "FAILURE",
          asset_keys: json(["m/b"]),
          config: "{}",
          parent_run_id: "r-success",
          root_run_id: "r-success",
          created_at: T + 10,
          started_at: T + 11,
          ended_at: T + 14,
          updated_at: T + 14,
        },
      ])
      .execute();
    const steps = [{ stepKey: "m/a", kind: "asset", assetKeys: ["m/a"] }];
    await insertEvents(
      db,
      "r-success",
      [
        { type: "run_started", steps },
        { type: "step_started", stepKey: "m/a", kind: "asset", assetKeys: ["m/a"], attempt: 1 },
        { type: "materialization", stepKey: "m/a", assetKey: "m/a", metadata: meta(3), codeVersion: "v1" },
        {
          type: "check_evaluation",
          stepKey: "m/a:not_empty",
          assetKey: "m/a",
          checkName: "not_empty",
          passed: true,
          blocking: false,
          severity: "WARN",
          metadata: meta(3),
        },
        { type: "step_succeeded", stepKey: "m/a", durationMs: 2 },
        { type: "log", stepKey: "m/a", level: "info", message: "loaded", source: "logger" },
        { type: "run_succeeded" },
      ],
      ids,
    );
    const error = { name: "Error", message: "b exploded" };
    await insertEvents(
      db,
      "r-failed",
      [
        { type: "run_started", steps: [{ stepKey: "m/b", kind: "asset", assetKeys: ["m/b"] }] },
        { type: "step_started", stepKey: "m/b", kind: "asset", assetKeys: ["m/b"], attempt: 1 },
        { type: "step_failed", stepKey: "m/b", assetKeys: ["m/b"], durationMs: 1, attempt: 1, error },
        { type: "run_failed", reason: "1 step failed" },
      ],
      ids,
      11,
    );
    await db
      .insertInto("asset_status")
      .values([
        {
          asset_key: "m/a",
          last_materialization_event_id: ids["r-success#3"],
          last_materialization_run_id: "r-success",
          last_materialized_at: T + 3,
          last_materialization_metadata: json(meta(3)),
          last_code_version: "v1",
          last_failure_run_id: null,
          last_failed_at: null,
          updated_at: T + 3,
        },
        {
          asset_key: "m/b",
          last_materialization_event_id: null,
          last_materialization_run_id: null,
          last_materialized_at: null,
          last_materialization_metadata: null,
          last_code_version: null,
          last_failure_run_id: "r-failed",
          last_failed_at: T + 13,
          updated_at: T + 13,
        },
      ])
      .execute();
    await db
      .insertInto("asset_check_latest")
      .values({
        asset_key: "m/a",
        check_name: "not_empty",
        run_id: "r-success",
        event_id: ids["r-success#4"],
        passed: 1,
        blocking: 0,
        severity: "WARN",
        metadata: json(meta(3)),
        timestamp: T + 4,
      })
      .execute();
  },

  "0002": async (db, ids) => {
    await db
      .insertInto("runs")
      .values({
        run_id: "r-part",
        status: "SUCCESS",
        selection: "m/p",
        asset_keys: json(["m/p"]),
        config: "{}",
        tags: json({ "baton/backfill": "bf-1" }),
        created_at: T + 20,
        started_at: T + 21,
        ended_at: T + 24,
        updated_at: T + 24,
        partition_keys: json(["2024-01-01", "2024-01-02"]),
        partition_indices: json([0, 1]),
        backfill_id: "bf-1",
      })
      .execute();
    await insertEvents(
      db,
      "r-part",
      [
        { type: "run_started", steps: [{ stepKey: "m/p", kind: "asset", assetKeys: ["m/p"] }] },
        ...[0, 1].map((i) => ({
          type: "materialization",
          stepKey: "m/p",
          assetKey: "m/p",
          metadata: meta(i),
          partition: `2024-01-0${i + 1}`,
          partitionIndex: i,
        })),
        { type: "run_succeeded" },
      ],
      ids,
      21,
    );
    await db
      .insertInto("asset_partitions")
      .values(
        [0, 1].map((i) => ({
          asset_key: "m/p",
          partition_key: `2024-01-0${i + 1}`,
          partition_index: i,
          status: "materialized",
          last_run_id: "r-part",
          last_materialization_event_id: ids[`r-part#${22 + i}`],
          last_materialized_at: T + 22 + i,
          code_version: "v2",
          data_version: `dv-p${i}`,
          last_failure_run_id: null,
          last_failed_at: null,
          updated_at: T + 22 + i,
        })),
      )
      .execute();
    await db
      .insertInto("asset_partition_ranges")
      .values({ asset_key: "m/p", start_index: 0, end_index: 1, status: "materialized" })
      .execute();
    await db.insertInto("asset_partition_defs").values({ asset_key: "m/p", fingerprint: "fp-1" }).execute();
    await db
      .insertInto("dynamic_partitions")
      .values([
        { name: "regions", partition_key: "eu", created_at: T },
        { name: "regions", partition_key: "us", created_at: T + 1 },
      ])
      .execute();
    await db
      .insertInto("backfills")
      .values({
        backfill_id: "bf-1",
        status: "COMPLETED",
        selection: "m/p",
        asset_keys: json(["m/p"]),
        partition_keys: json(["2024-01-01", "2024-01-02"]),
        options: json({ force: false }),
        counts: json({ targeted: 2, materialized: 2, failed: 0, skipped: 0, canceled: 0, runs: 1 }),
        error: null,
        created_at: T + 19,
        updated_at: T + 25,
        ended_at: T + 25,
      })
      .execute();
  },

  "0003": async (db) => {
    const queued = (runId: string, priority: number, createdAt: number) => ({
      run_id: runId,
      status: "QUEUED",
      selection: "m/a",
      asset_keys: json(["m/a"]),
      config: "{}",
      tags: "{}",
      created_at: createdAt,
      updated_at: createdAt,
      priority,
      request: json({ assetKeys: ["m/a"] }),
      cancel_requested: 0,
    });
    // Older but less urgent first: a claim must take the urgent one.
    await db
      .insertInto("runs")
      .values([queued("r-queued-low", 0, T + 30), queued("r-queued", 5, T + 31)])
      .execute();
    await db
      .insertInto("workers")
      .values({
        worker_id: "w-1",
        pid: 123,
        host: "old-host",
        started_at: T,
        heartbeat_at: T + 5,
        status: "stopped",
      })
      .execute();
    await db.insertInto("leases").values({ name: "daemon", holder: "d-1", expires_at: FAR }).execute();
  },

  "0004": async (db, ids) => {
    await db
      .insertInto("instigator_state")
      .values({
        name: "nightly",
        kind: "schedule",
        status: "RUNNING",
        cursor: "cursor-1",
        last_tick_at: T + 40,
        updated_at: T + 40,
      })
      .execute();
    await db
      .insertInto("ticks")
      .values({
        name: "nightly",
        kind: "schedule",
        timestamp: T + 40,
        status: "SUCCESS",
        run_ids: json(["r-queued"]),
        skip_reason: null,
        error: null,
        cursor: "cursor-1",
        duration_ms: 12,
      })
      .execute();
    await db
      .insertInto("run_keys")
      .values({ owner: "schedule:nightly", run_key: "2024-01-01", run_id: "r-queued", created_at: T + 40 })
      .execute();
    await db
      .insertInto("automation_evaluations")
      .values({
        asset_key: "m/a",
        timestamp: T + 41,
        condition: "eager",
        launched: 1,
        reason: "upstream updated",
        partition_keys: null,
        run_id: "r-queued",
      })
      .execute();
    await db
      .insertInto("kv")
      .values({ key: "cursor/x", value: "42", updated_at: T + 42 })
      .execute();
    // A 0004 writer records the log id of a run's end: run-status sensors read runs in that order.
    await db
      .updateTable("runs")
      .set({ end_event_id: ids["r-success#7"] })
      .where("run_id", "=", "r-success")
      .execute();
  },

  "0005": async (db) => {
    await db
      .updateTable("asset_status")
      .set({ last_data_version: "dv-a", last_input_versions: json({ "m/src": "dv-src" }) })
      .where("asset_key", "=", "m/a")
      .execute();
    await db
      .updateTable("asset_partitions")
      .set({ input_versions: json({ "m/src": { "2024-01-01": "v" } }) })
      .where("partition_key", "=", "2024-01-01")
      .execute();
  },
};

const seedFor = (name: string) => seeds[name.slice(0, 4)];

/** What the 0001 data must read back as, whatever came after. */
async function check0001(storage: Storage, ids: Ids) {
  const ok = await storage.getRun("r-success");
  expect(ok).toMatchObject({
    status: "SUCCESS",
    selection: "m/a+",
    assetKeys: ["m/a", "m/b"],
    config: { "m/a": { x: 1 } },
    tags: { team: "data" },
    parentRunId: null,
    createdAt: T,
    startedAt: T + 1,
    endedAt: T + 7,
    partitionKeys: null,
    backfillId: null,
    priority: 0,
    request: null,
    workerId: null,
    heartbeatAt: null,
    cancelRequested: false,
  });
  expect(await storage.getRun("r-failed")).toMatchObject({
    status: "FAILURE",
    parentRunId: "r-success",
    rootRunId: "r-success",
  });
  const events = await storage.getEvents("r-success");
  expect(events.map((e) => e.type)).toEqual([
    "run_started",
    "step_started",
    "materialization",
    "check_evaluation",
    "step_succeeded",
    "log",
    "run_succeeded",
  ]);
  expect(events.map((e) => e.id)).toEqual([1, 2, 3, 4, 5, 6, 7].map((s) => ids[`r-success#${s}`]));
  expect((await storage.listRuns({ statuses: ["FAILURE"] })).runs.map((r) => r.runId)).toEqual(["r-failed"]);
  expect((await storage.listRuns({ assetKey: "m/b" })).runs.map((r) => r.runId)).toEqual([
    "r-failed",
    "r-success",
  ]);
  const [a, b] = await storage.getAssetStatuses(["m/a", "m/b"]);
  expect(a!.lastMaterialization).toMatchObject({
    runId: "r-success",
    eventId: ids["r-success#3"],
    timestamp: T + 3,
    metadata: meta(3),
    codeVersion: "v1",
  });
  expect(b).toMatchObject({ assetKey: "m/b", lastMaterialization: null, lastFailure: { runId: "r-failed" } });
  expect(await storage.getLatestCheckResults("m/a")).toEqual([
    {
      assetKey: "m/a",
      checkName: "not_empty",
      runId: "r-success",
      eventId: ids["r-success#4"],
      passed: true,
      blocking: false,
      severity: "WARN",
      metadata: meta(3),
      timestamp: T + 4,
    },
  ]);
  expect((await storage.getMaterializations("m/a")).map((e) => e.id)).toEqual([ids["r-success#3"]]);
  expect((await storage.getCheckEvaluations("m/a", { checkName: "not_empty" })).map((e) => e.id)).toEqual([
    ids["r-success#4"],
  ]);
  const failed = await storage.getEvents("r-failed", { types: ["run_failed"] });
  expect(failed).toMatchObject([{ type: "run_failed", reason: "1 step failed" }]);
  // Writes continue after the old events: the next per-run sequence number follows the stored ones.
  await storage.appendEvents([
    {
      type: "log",
      level: "info",
      message: "after upgrade",
      source: "logger",
      runId: "r-success",
      timestamp: T + 99,
    },
  ]);
  const after = await storage.getEvents("r-success", { afterId: ids["r-success#7"] });
  expect(after).toMatchObject([{ message: "after upgrade" }]);
}

/** Everything the step-by-step seeds wrote, read back. */
async function checkAll(storage: Storage, ids: Ids) {
  await check0001(storage, ids);
  // 0002: partitions, dynamic partitions, backfills.
  expect(await storage.getRun("r-part")).toMatchObject({
    partitionKeys: ["2024-01-01", "2024-01-02"],
    backfillId: "bf-1",
  });
  expect((await storage.listRuns({ backfillId: "bf-1" })).runs.map((r) => r.runId)).toEqual(["r-part"]);
  expect(await storage.getPartitionRanges("m/p")).toEqual([{ start: 0, end: 1, status: "materialized" }]);
  const parts = await storage.getPartitions("m/p");
  expect(parts.map((p) => [p.partitionKey, p.partitionIndex, p.status, p.lastRunId])).toEqual([
    ["2024-01-01", 0, "materialized", "r-part"],
    ["2024-01-02", 1, "materialized", "r-part"],
  ]);
  expect(parts[1]!.lastMaterialization).toMatchObject({
    eventId: ids["r-part#23"],
    codeVersion: "v2",
    dataVersion: "dv-p1",
  });
  expect((await storage.getMaterializations("m/p", { partition: "2024-01-02" })).map((e) => e.id)).toEqual([
    ids["r-part#23"],
  ]);
  // Same partitions definition as stored: nothing to re-index.
  expect(await storage.syncPartitionsDefinition("m/p", "fp-1", () => -1)).toBe(false);
  expect(await storage.getDynamicPartitions("regions")).toEqual(["eu", "us"]);
  expect(await storage.getBackfill("bf-1")).toMatchObject({
    status: "COMPLETED",
    assetKeys: ["m/p"],
    partitionKeys: ["2024-01-01", "2024-01-02"],
    options: { force: false },
    counts: { targeted: 2, materialized: 2, runs: 1 },
    endedAt: T + 25,
  });
  // 0004 (read before the claim below changes r-queued): automation state.
  expect(await storage.getInstigatorState("nightly")).toMatchObject({
    kind: "schedule",
    status: "RUNNING",
    cursor: "cursor-1",
    lastTickAt: T + 40,
  });
  expect(await storage.listTicks("nightly")).toMatchObject([
    { status: "SUCCESS", runIds: ["r-queued"], cursor: "cursor-1", durationMs: 12 },
  ]);
  expect(await storage.getRunKeys("schedule:nightly", ["2024-01-01", "2024-01-02"])).toEqual(
    new Map([["2024-01-01", "r-queued"]]),
  );
  const again = await storage.createRun({
    runId: "r-duplicate",
    status: "QUEUED",
    selection: "m/a",
    assetKeys: ["m/a"],
    config: {},
    tags: {},
    createdAt: T + 50,
    runKey: { owner: "schedule:nightly", key: "2024-01-01" },
  });
  expect(again).toEqual({ created: false, runId: "r-queued" });
  expect(await storage.listAutomationEvaluations({ assetKey: "m/a" })).toMatchObject([
    { condition: "eager", launched: true, reason: "upstream updated", runId: "r-queued" },
  ]);
  expect(await storage.getValue("cursor/x")).toBe("42");
  expect((await storage.listEndedRuns()).runs.map((r) => r.runId)).toContain("r-success");
  // 0003: the queue, workers and leases.
  expect(await storage.listWorkers()).toMatchObject([
    { workerId: "w-1", host: "old-host", status: "stopped" },
  ]);
  expect(await storage.acquireLease("daemon", "d-2", 1000, T + 60)).toBe(false);
  expect(await storage.acquireLease("daemon", "d-1", 1000, T + 60)).toBe(true);
  const claimed = await storage.claimRuns({ workerId: "w-2", limit: 1, now: T + 60 });
  expect(claimed.map((r) => [r.runId, r.status, r.priority, r.request])).toEqual([
    ["r-queued", "STARTING", 5, { assetKeys: ["m/a"] }],
  ]);
  // 0005: data versions.
  const [a] = await storage.getAssetStatuses(["m/a"]);
  expect(a!.lastMaterialization).toMatchObject({
    dataVersion: "dv-a",
    inputDataVersions: { "m/src": "dv-src" },
  });
  expect(parts[0]!.lastMaterialization?.inputDataVersions).toEqual({ "m/src": { "2024-01-01": "v" } });
}

/** Tables, their columns and the indexes, read through a raw connection. */
async function schemaOf(backend: BackendName, location: StorageLocation): Promise<string[]> {
  if (backend === "sqlite") {
    const db = new Database(location.options.sqlitePath, { readonly: true, fileMustExist: true });
    try {
      const cols = db
        .prepare(
          "select m.name || '.' || p.name as c from sqlite_master m join pragma_table_info(m.name) p where m.type = 'table' and m.name not like 'sqlite_%'",
        )
        .all() as { c: string }[];
      const idx = db
        .prepare("select 'index ' || name as c from sqlite_master where type = 'index'")
        .all() as {
        c: string;
      }[];
      return [...cols, ...idx].map((r) => r.c).sort();
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({
    connectionString: location.options.databaseUrl,
    connectionTimeoutMillis: 10_000,
  });
  client.on("error", () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ c: string }>(
      `select table_name || '.' || column_name as c from information_schema.columns where table_schema = 'public'
       union all select 'index ' || indexname from pg_indexes where schemaname = 'public'`,
    );
    return rows.map((r) => r.c).sort();
  } finally {
    await client.end().catch(() => {});
  }
}

async function migrationRows(backend: BackendName, location: StorageLocation): Promise<string[]> {
  const adapter = await openAdapter(backend, location);
  try {
    const rows = await (adapter.db as OldDb)
      .selectFrom("baton_migrations")
      .select("name")
      .orderBy("name")
      .execute();
    return rows.map((r) => r.name as string);
  } finally {
    await adapter.close();
  }
}

interface ChildResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function collect(child: ReturnType<typeof spawn>, what: string, timeoutMs = 60_000): Promise<ChildResult> {
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (c: string) => {
    stdout += c;
  });
  child.stderr!.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${what} did not exit in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `baton migrate` against the location, as a user would run it. */
async function cliMigrate(location: StorageLocation): Promise<ChildResult> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^BATON_/.test(k) && v !== undefined) env[k] = v;
  if (location.options.databaseUrl) env.BATON_DATABASE_URL = location.options.databaseUrl;
  else env.BATON_HOME = path.dirname(location.options.sqlitePath);
  const cwd = await mkdtemp(path.join(tmpdir(), "baton-migrate-cwd-"));
  try {
    const child = spawn(process.execPath, [BIN, "migrate"], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    return await collect(child, "baton migrate");
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

/**
 * Two processes open (and so migrate) the same fresh store once released together through their
 * stdin; each then creates a run. Returns what each migrated.
 */
interface Opened {
  readonly migrated: string[];
  /** Date.now() when released, and once its store was open (migrated). */
  readonly start: number;
  readonly opened: number;
}

async function openTogether(location: StorageLocation, runIds: readonly string[]): Promise<Opened[]> {
  // The built module (as `baton` runs it; build core first, as for the CLI suites): plain node
  // starts in a fraction of tsx's time under load (this test took 95 s with tsx, 53 s without).
  const openStorageUrl = new URL("../packages/core/dist/storage/open-storage.js", import.meta.url).href;
  const script = `
    const { openStorage } = await import(${JSON.stringify(openStorageUrl)});
    const [options, runId] = [JSON.parse(process.argv[1]), process.argv[2]];
    process.stdout.write("ready\\n");
    await new Promise((resolve) => process.stdin.once("data", resolve));
    const start = Date.now();
    const store = await openStorage(options);
    const opened = Date.now();
    await store.createRun({ runId, status: "QUEUED", selection: "*", assetKeys: ["x"], config: {}, tags: {}, createdAt: ${T} });
    await store.close();
    process.stdout.write("migrated " + JSON.stringify({ migrated: store.migrated, start, opened }) + "\\n");
    process.stdin.destroy();
  `;
  const children = runIds.map((runId) => {
    const child = spawn(
      process.execPath,
      ["--input-type=module", "-e", script, JSON.stringify(location.options), runId],
      { cwd: new URL("..", import.meta.url), stdio: ["pipe", "pipe", "pipe"] },
    );
    const ready = new Promise<void>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        if (out.includes("ready\n")) resolve();
      });
      child.on("exit", () => reject(new Error(`opener ${runId} exited before it was ready`)));
    });
    ready.catch(() => {});
    return { child, ready, result: collect(child, `opener ${runId}`) };
  });
  try {
    await Promise.all(children.map((c) => c.ready));
    for (const { child } of children) child.stdin.write("go\n");
    const results = await Promise.all(children.map((c) => c.result));
    return results.map((r, i) => {
      expect(r.code, `opener ${runIds[i]}: exit ${r.code}\n${r.stdout}\n${r.stderr}`).toBe(0);
      const line = r.stdout.split("\n").find((l) => l.startsWith("migrated "))!;
      return JSON.parse(line.slice("migrated ".length)) as Opened;
    });
  } finally {
    for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}

for (const backend of storageBackends()) {
  describe.skipIf(backend.skipReason !== null)(`store migrations (${backend.name})`, () => {
    const locations: StorageLocation[] = [];
    const fresh = async () => {
      const location = await backend.createLocation();
      locations.push(location);
      return location;
    };
    beforeAll(() => backend.start(), 60_000);
    afterAll(async () => {
      for (const location of locations) await backend.destroyLocation(location).catch(() => {});
      await backend.stop();
    }, 60_000);

    it("a store of the oldest version upgrades to the latest with `baton migrate`, every row readable", {
      timeout: 90_000,
    }, async () => {
      const names = await migrationNames(backend.name);
      expect(names.length).toBeGreaterThan(1);
      const location = await fresh();
      const ids: Ids = {};
      const old = await openAdapter(backend.name, location);
      try {
        await migrateTo(old, names[0]!);
        await seedFor(names[0]!)!(old.db as OldDb, ids);
      } finally {
        await old.close();
      }
      const r = await cliMigrate(location);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      const line = r.stdout.trim();
      expect(line.startsWith(`applied ${names.length - 1} migration(s) to `), line).toBe(true);
      expect(line.endsWith(`: ${names.slice(1).join(", ")}`), line).toBe(true);
      if (backend.name === "sqlite") expect(line).toContain(location.options.sqlitePath);
      const storage = await openStorage(location.options);
      try {
        expect(storage.migrated).toEqual([]);
        await check0001(storage, ids);
      } finally {
        await storage.close();
      }
      expect(await migrationRows(backend.name, location)).toEqual(names);
    });

    it("a store stepped through every migration, with data in each version's shape, reads back whole", {
      timeout: 90_000,
    }, async () => {
      const names = await migrationNames(backend.name);
      const location = await fresh();
      const ids: Ids = {};
      const seeded: string[] = [];
      const old = await openAdapter(backend.name, location);
      try {
        // Every migration but the last by hand, seeding after each; the last one by openStorage.
        for (const name of names.slice(0, -1)) {
          await migrateTo(old, name);
          const seed = seedFor(name);
          if (seed) {
            await seed(old.db as OldDb, ids);
            seeded.push(name.slice(0, 4));
          }
        }
      } finally {
        await old.close();
      }
      expect(seeded).toEqual(["0001", "0002", "0003", "0004", "0005"]);
      const storage = await openStorage(location.options);
      try {
        expect(storage.migrated).toEqual(names.slice(-1));
        await checkAll(storage, ids);
      } finally {
        await storage.close();
      }
      expect(await migrationRows(backend.name, location)).toEqual(names);
      // The upgraded schema is the schema of a store created at the latest version.
      const reference = await fresh();
      await (await openStorage(reference.options)).close();
      expect(await schemaOf(backend.name, location)).toEqual(await schemaOf(backend.name, reference));
    });

    it("two processes opening a fresh store at once: both succeed, each migration recorded once", {
      timeout: 120_000,
    }, async () => {
      const names = await migrationNames(backend.name);
      const reference = await fresh();
      await (await openStorage(reference.options)).close();
      const referenceSchema = await schemaOf(backend.name, reference);
      const rounds = 3;
      const appliedBy: number[] = [];
      const startSpreadMs: number[] = [];
      const openMs: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const location = await fresh();
        const runIds = [`p1-${round}`, `p2-${round}`];
        const opened = await openTogether(location, runIds);
        const migrated = opened.map((o) => o.migrated);
        startSpreadMs.push(Math.abs(opened[0]!.start - opened[1]!.start));
        openMs.push(...opened.map((o) => o.opened - o.start));
        // Every migration applied exactly once between them (one may have waited for the other).
        expect(migrated.flat().sort()).toEqual(names);
        appliedBy.push(migrated.filter((m) => m.length > 0).length);
        expect(await migrationRows(backend.name, location)).toEqual(names);
        expect(await schemaOf(backend.name, location)).toEqual(referenceSchema);
        const storage = await openStorage(location.options);
        try {
          expect(storage.migrated).toEqual([]);
          for (const runId of runIds) expect((await storage.getRun(runId))?.runId).toBe(runId);
        } finally {
          await storage.close();
        }
      }
      console.log(
        `MIGRATION_FIGURES ${JSON.stringify({ backend: backend.name, rounds, processes: 2, migrations: names.length, processesThatApplied: appliedBy, startSpreadMs, openMs, load1: loadavg()[0] })}`,
      );
    });
  });
}
