import { type Expression, type Kysely, Migrator, sql } from "kysely";
import type { CheckSeverity } from "../definitions/asset-check.js";
import type { MetadataMap } from "../definitions/metadata.js";
import { StorageError } from "../errors.js";
import {
  eventAssetKey,
  eventStepKey,
  type RunEvent,
  type RunStatus,
  type StoredRunEvent,
} from "../execution/events.js";
import type { DialectAdapter, Executor } from "./dialects/dialect-adapter.js";
import { createAutomationStore } from "./kysely-automation.js";
import { createBackfillStore, createDynamicPartitionsStore } from "./kysely-backfills.js";
import {
  applyPartitionRanges,
  collectPartitionChanges,
  type PartitionChanges,
  parseInputVersions,
  partitionAssets,
  partitionRowsUpserts,
  planPartitionRanges,
  type RunPartitions,
  readPartitionRanges,
  readPartitions,
  syncPartitionsDefinition,
} from "./kysely-partitions.js";
import { createQueueStore } from "./kysely-queue.js";
import { createRetentionStore } from "./kysely-retention.js";
import { migrationProvider } from "./migrations.js";
import type { BatonDatabase } from "./schema.js";
import type {
  AssetStatusRecord,
  CheckResultRecord,
  CreateRunResult,
  EventsQuery,
  NewRun,
  RunRecord,
  RunsPage,
  RunsQuery,
  Storage,
} from "./storage.js";

export type RunRow = Omit<BatonDatabase["runs"], "id" | "event_seq"> & { id: number; event_seq?: number };

/** `column` contains `needle` exactly (case-sensitive, no wildcards) in either dialect. */
function contains(dialect: "sqlite" | "postgres", column: string, needle: string) {
  return dialect === "sqlite"
    ? sql<boolean>`instr(${sql.ref(column)}, ${needle}) > 0`
    : sql<boolean>`strpos(${sql.ref(column)}, ${needle}) > 0`;
}

/** Insert a run (and its run key) in a write transaction; see `Storage.createRun`. */
async function insertRun(trx: Executor, run: NewRun): Promise<CreateRunResult> {
  return (await insertRuns(trx, [run], 1))[0]!;
}

function runRow(run: NewRun) {
  return {
    run_id: run.runId,
    status: run.status,
    selection: run.selection,
    asset_keys: JSON.stringify(run.assetKeys),
    config: JSON.stringify(run.config === undefined ? {} : run.config),
    tags: JSON.stringify(run.tags),
    parent_run_id: run.parentRunId ?? null,
    root_run_id: run.rootRunId ?? null,
    created_at: run.createdAt,
    started_at: null,
    ended_at: null,
    updated_at: run.createdAt,
    partition_keys: run.partitions ? JSON.stringify(run.partitions.keys) : null,
    partition_indices: run.partitions ? JSON.stringify(run.partitions.indices) : null,
    backfill_id: run.backfillId ?? null,
    priority: run.priority ?? 0,
    request: run.request ? JSON.stringify(run.request) : null,
    worker_id: null,
    heartbeat_at: null,
    cancel_requested: 0,
    end_event_id: null,
  };
}

/**
 * Insert runs (and their run keys) in a write transaction, `chunk` rows per statement (a daemon's
 * backfill chunk was 2 statements per run). Run keys are claimed first: a concurrent or repeated
 * launch (a daemon that crashed after launching, before saving its cursor) finds the earlier run
 * instead of making another; a key repeated within `runs` resolves to its first run.
 */
async function insertRuns(trx: Executor, runs: readonly NewRun[], chunk: number): Promise<CreateRunResult[]> {
  const out: CreateRunResult[] = new Array(runs.length);
  const keyOf = (run: NewRun) => (run.runKey ? `${run.runKey.owner}\u0000${run.runKey.key}` : undefined);
  for (let start = 0; start < runs.length; start += chunk) {
    const part = runs.slice(start, start + chunk);
    // The first run of each key in this chunk asks for it; later ones share its outcome.
    const firstOfKey = new Map<string, number>();
    part.forEach((run, i) => {
      const k = keyOf(run);
      if (k !== undefined && !firstOfKey.has(k)) firstOfKey.set(k, i);
    });
    const taken = new Set<string>();
    if (firstOfKey.size > 0) {
      const asking = [...firstOfKey.values()].map((i) => part[i]!);
      const inserted = await trx
        .insertInto("run_keys")
        .values(
          asking.map((run) => ({
            owner: run.runKey!.owner,
            run_key: run.runKey!.key,
            run_id: run.runId,
            created_at: run.createdAt,
          })),
        )
        .onConflict((oc) => oc.columns(["owner", "run_key"]).doNothing())
        .returning(["owner", "run_key"])
        .execute();
      for (const r of inserted) taken.add(`${r.owner}\u0000${r.run_key}`);
    }
    // Keys held by earlier runs: those runs' ids.
    const existing = new Map<string, string>();
    const lost = [...firstOfKey.keys()].filter((k) => !taken.has(k));
    for (const k of lost) {
      const [owner, key] = k.split("\u0000") as [string, string];
      const row = await trx
        .selectFrom("run_keys")
        .select("run_id")
        .where("owner", "=", owner)
        .where("run_key", "=", key)
        .executeTakeFirstOrThrow();
      existing.set(k, row.run_id);
    }
    const fresh: NewRun[] = [];
    part.forEach((run, i) => {
      const k = keyOf(run);
      if (k === undefined || (firstOfKey.get(k) === i && taken.has(k))) {
        fresh.push(run);
        out[start + i] = { created: true, runId: run.runId };
      } else
        out[start + i] = {
          created: false,
          runId: existing.get(k) ?? part[firstOfKey.get(k)!]!.runId,
        };
    });
    if (fresh.length > 0) await trx.insertInto("runs").values(fresh.map(runRow)).execute();
  }
  return out;
}

function toRunRecord(row: RunRow): RunRecord {
  return {
    runId: row.run_id,
    status: row.status as RunStatus,
    selection: row.selection,
    assetKeys: JSON.parse(row.asset_keys),
    config: JSON.parse(row.config),
    tags: JSON.parse(row.tags),
    parentRunId: row.parent_run_id,
    rootRunId: row.root_run_id,
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    partitionKeys: row.partition_keys === null ? null : JSON.parse(row.partition_keys),
    backfillId: row.backfill_id,
    priority: row.priority,
    request: row.request === null ? null : JSON.parse(row.request),
    workerId: row.worker_id,
    heartbeatAt: row.heartbeat_at,
    cancelRequested: row.cancel_requested === 1,
  };
}

/** Run status implied by a run-level event, with the timestamp column it sets. */
function runTransition(
  event: RunEvent,
): { status: RunStatus; column: "started_at" | "ended_at" } | undefined {
  switch (event.type) {
    case "run_started":
      return { status: "STARTED", column: "started_at" };
    case "run_succeeded":
      return { status: "SUCCESS", column: "ended_at" };
    case "run_failed":
      return { status: "FAILURE", column: "ended_at" };
    case "run_canceled":
      return { status: "CANCELED", column: "ended_at" };
    default:
      return undefined;
  }
}

function sortedByKey<V>(map: Map<string, V>): [string, V][] {
  return [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Apply versioned migrations; returns the names applied now. Postgres: Kysely's migrator takes an
 * advisory lock. SQLite: its lock is a no-op, so the whole migration runs in one BEGIN IMMEDIATE
 * (SQLite DDL is transactional): concurrent openers wait, then find nothing left to do.
 */
export async function migrateStorage(adapter: DialectAdapter): Promise<string[]> {
  const migratorOf = (db: Kysely<BatonDatabase>) =>
    new Migrator({
      db,
      provider: migrationProvider(adapter.name),
      migrationTableName: "baton_migrations",
      migrationLockTableName: "baton_migrations_lock",
    });
  const migrate = async (db: Kysely<BatonDatabase>) => {
    const { error, results } = await migratorOf(db).migrateToLatest();
    if (error) throw error;
    return results;
  };
  // An up-to-date SQLite store is opened without its write lock: a process starting beside a busy
  // writer does not queue behind it, and a read-only store can still be read.
  if (adapter.name === "sqlite" && (await migratorOf(adapter.db).getMigrations()).every((m) => m.executedAt))
    return [];
  const results =
    adapter.name === "sqlite"
      ? await adapter.writeTransaction((trx) => migrate(trx as Kysely<BatonDatabase>))
      : await migrate(adapter.db);
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

export function createKyselyStorage(adapter: DialectAdapter): Storage {
  const { db } = adapter;

  function eventsInsert(trx: Executor, events: readonly RunEvent[], seqs: readonly number[], from = 0) {
    return trx.insertInto("event_logs").values(
      events.map((e, i) => ({
        run_id: e.runId,
        run_seq: seqs[from + i]!,
        type: e.type,
        step_key: eventStepKey(e) ?? null,
        asset_key: eventAssetKey(e) ?? null,
        timestamp: e.timestamp,
        body: JSON.stringify(e),
      })),
    );
  }

  async function insertEvents(trx: Executor, events: readonly RunEvent[], seqs: readonly number[]) {
    const ids: number[] = new Array(events.length);
    for (let start = 0; start < events.length; start += adapter.maxRowsPerInsert) {
      const chunk = events.slice(start, start + adapter.maxRowsPerInsert);
      const rows = await eventsInsert(trx, chunk, seqs, start)
        .returning(["id", "run_id", "run_seq"])
        .execute();
      // Map ids back by (run, seq): RETURNING order is not guaranteed and a batch may mix runs.
      const idOf = new Map<string, number>();
      for (const r of rows) idOf.set(`${r.run_id}\u0000${r.run_seq}`, r.id);
      chunk.forEach((e, i) => {
        ids[start + i] = idOf.get(`${e.runId}\u0000${seqs[start + i]!}`)!;
      });
    }
    return ids;
  }

  /**
   * The writes that need the events' ids (`idOf(event index)`: a number, or a subquery in the
   * one-statement write), not executed, in a fixed order (partition rows, run ends, asset status
   * and checks in key order: concurrent batches cannot deadlock). Undefined when two of them would
   * write one row and `sequential` is false: one statement may write a row only once.
   */
  function idDependentWrites(
    trx: Executor,
    events: readonly RunEvent[],
    idOf: (i: number) => number | Expression<number>,
    changes: PartitionChanges,
    sequential = false,
  ) {
    // Partition rows: distinct (asset, key) per batch, so each is written once.
    const writes: { execute(): Promise<unknown> }[] = [...partitionRowsUpserts(adapter, trx, changes, idOf)];
    const latestMaterialization = new Map<
      string,
      { event: RunEvent & { type: "materialization" }; i: number }
    >();
    const latestFailure = new Map<string, RunEvent>();
    const latestCheck = new Map<string, { event: RunEvent & { type: "check_evaluation" }; i: number }>();
    const ended = new Set<string>();
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const transition = runTransition(event);
      if (transition) {
        if (event.type === "run_started") continue; // phase 1
        if (!sequential && ended.has(event.runId)) return undefined;
        ended.add(event.runId);
        writes.push(
          trx
            .updateTable("runs")
            .set({
              status: transition.status,
              [transition.column]: event.timestamp,
              updated_at: event.timestamp,
              end_event_id: idOf(i),
            })
            .where("run_id", "=", event.runId)
            // A run's first end stands: a late end (a worker the monitor gave up on finishing
            // after all, a killed pod's SIGTERM) is kept in the log but does not flip its status.
            .where("end_event_id", "is", null),
        );
      } else if (event.type === "materialization") {
        latestMaterialization.set(event.assetKey, { event, i });
      } else if (event.type === "step_failed") {
        for (const key of event.assetKeys) latestFailure.set(key, event);
      } else if (event.type === "check_evaluation") {
        latestCheck.set(`${event.assetKey}\u0000${event.checkName}`, { event, i });
      }
    }
    for (const [, { event, i }] of sortedByKey(latestMaterialization)) {
      const id = idOf(i);
      const values = {
        last_materialization_event_id: id,
        last_materialization_run_id: event.runId,
        last_materialized_at: event.timestamp,
        last_materialization_metadata: JSON.stringify(event.metadata),
        last_code_version: event.codeVersion ?? null,
        last_data_version: event.dataVersion ?? null,
        last_input_versions: event.inputDataVersions ? JSON.stringify(event.inputDataVersions) : null,
        updated_at: event.timestamp,
      };
      writes.push(
        trx
          .insertInto("asset_status")
          .values({ asset_key: event.assetKey, ...values })
          .onConflict((oc) =>
            oc
              .column("asset_key")
              .doUpdateSet(values)
              .where(sql<boolean>`coalesce(asset_status.last_materialization_event_id, 0) < ${id}`),
          ),
      );
    }
    for (const [assetKey, event] of sortedByKey(latestFailure)) {
      if (!sequential && latestMaterialization.has(assetKey)) return undefined;
      const values = {
        last_failure_run_id: event.runId,
        last_failed_at: event.timestamp,
        updated_at: event.timestamp,
      };
      writes.push(
        trx
          .insertInto("asset_status")
          .values({ asset_key: assetKey, ...values })
          .onConflict((oc) => oc.column("asset_key").doUpdateSet(values)),
      );
    }
    for (const [, { event, i }] of sortedByKey(latestCheck)) {
      const values = {
        run_id: event.runId,
        event_id: idOf(i),
        passed: event.passed ? 1 : 0,
        blocking: event.blocking ? 1 : 0,
        severity: event.severity,
        metadata: JSON.stringify(event.metadata),
        timestamp: event.timestamp,
      };
      writes.push(
        trx
          .insertInto("asset_check_latest")
          .values({ asset_key: event.assetKey, check_name: event.checkName, ...values })
          .onConflict((oc) => oc.columns(["asset_key", "check_name"]).doUpdateSet(values)),
      );
    }
    return writes;
  }

  const storage: Storage = {
    dialect: adapter.name,
    location: adapter.location,

    createRun(run: NewRun) {
      return adapter.writeTransaction((trx) => insertRun(trx, run));
    },

    async createRuns(runs: readonly NewRun[]) {
      if (runs.length === 0) return [];
      return adapter.writeTransaction((trx) => insertRuns(trx, runs, adapter.maxRowsPerInsert));
    },

    async listEndedRuns(query = {}) {
      const limit = Math.min(Math.max(query.limit ?? 100, 1), 1000);
      let q = db
        .selectFrom("runs")
        .selectAll()
        .where("end_event_id", "is not", null)
        .orderBy("end_event_id", "asc")
        .limit(limit);
      if (query.statuses && query.statuses.length > 0) q = q.where("status", "in", [...query.statuses]);
      if (query.after !== undefined) {
        const after = Number(query.after);
        if (!/^\d+$/.test(query.after) || !Number.isSafeInteger(after))
          throw new StorageError(
            `Invalid ended-runs cursor "${query.after}" (expected a number from a previous page)`,
          );
        q = q.where("end_event_id", ">", after);
      }
      const rows = (await q.execute()) as RunRow[];
      const last = rows[rows.length - 1];
      return {
        runs: rows.map(toRunRecord),
        cursor: last ? String(last.end_event_id) : (query.after ?? null),
      };
    },

    async getRunKeys(owner, keys) {
      const out = new Map<string, string>();
      for (let i = 0; i < keys.length; i += 500) {
        const rows = await db
          .selectFrom("run_keys")
          .select(["run_key", "run_id"])
          .where("owner", "=", owner)
          .where("run_key", "in", keys.slice(i, i + 500))
          .execute();
        for (const r of rows) out.set(r.run_key, r.run_id);
      }
      return out;
    },

    async listRunKeys(owner, query = {}) {
      let q = db
        .selectFrom("run_keys")
        .innerJoin("runs", "runs.run_id", "run_keys.run_id")
        .select(["run_keys.run_key", "run_keys.run_id", "runs.status", "runs.updated_at"])
        .where("run_keys.owner", "=", owner);
      if (query.updatedSince !== undefined) q = q.where("runs.updated_at", ">=", query.updatedSince);
      const rows = await q.execute();
      return rows.map((r) => ({
        key: r.run_key,
        runId: r.run_id,
        status: r.status as RunStatus,
        updatedAt: r.updated_at,
      }));
    },

    async getRun(runId) {
      const row = await db.selectFrom("runs").selectAll().where("run_id", "=", runId).executeTakeFirst();
      return row ? toRunRecord(row as RunRow) : undefined;
    },

    async listRuns(query: RunsQuery = {}): Promise<RunsPage> {
      const limit = Math.min(Math.max(query.limit ?? 50, 1), 1000);
      let q = db
        .selectFrom("runs")
        .selectAll()
        .orderBy("id", "desc")
        .limit(limit + 1);
      if (query.statuses && query.statuses.length > 0) q = q.where("status", "in", [...query.statuses]);
      if (query.backfillId !== undefined) q = q.where("backfill_id", "=", query.backfillId);
      // JSON columns: match the exact JSON of the element (escaped for LIKE).
      if (query.assetKey !== undefined)
        q = q.where(contains(adapter.name, "asset_keys", JSON.stringify(query.assetKey)));
      if (query.tag !== undefined) {
        const k = JSON.stringify(query.tag.key);
        const v = query.tag.value === undefined ? "" : JSON.stringify(query.tag.value);
        q = q.where(contains(adapter.name, "tags", `${k}:${v}`));
      }
      if (query.createdAfter !== undefined) q = q.where("created_at", ">=", query.createdAfter);
      if (query.createdBefore !== undefined) q = q.where("created_at", "<", query.createdBefore);
      if (query.cursor !== undefined) {
        const before = Number(query.cursor);
        if (!Number.isSafeInteger(before)) throw new StorageError(`Invalid runs cursor "${query.cursor}"`);
        q = q.where("id", "<", before);
      }
      const rows = (await q.execute()) as RunRow[];
      const page = rows.slice(0, limit);
      return {
        runs: page.map(toRunRecord),
        nextCursor: rows.length > limit ? String(page[page.length - 1]!.id) : null,
      };
    },

    /*
     * Two phases, so the serialized part is short. Phase 1 holds only per-run locks (the runs'
     * rows, sorted, so concurrent writers of different runs proceed in parallel): per-run
     * sequence numbers, the runs' partitions, run starts — work that needs no event id and writes
     * no row another writer's phase 2 may write. Phase 2 takes the event-log lock, then the
     * assets' partition locks (sorted; one statement on Postgres) for the status ranges, inserts
     * the events (allocating their ids), does the writes that need those ids (on Postgres usually
     * in the INSERT's statement), and commits. Round trips are what this costs on a busy machine
     * (each wakes a backend and the writer's process): a usual Postgres write is 6.
     *
     * Why ids still become visible in id order: ids are allocated only inside phase 2, and phase 2
     * runs under one transaction-scoped lock released at commit. So when a transaction holding
     * ids [a, b] commits, every transaction that allocated a smaller id has already committed (or
     * rolled back, leaving a gap that never fills); a reader that saw id b can never later find a
     * new id below b. Lock order is always run locks → event-log lock → asset locks (other asset
     * lock takers take no event lock), and phase 1 writes only its own runs' rows, which no other
     * event writer's phase 2 writes (run locks), so no cycle: no deadlock. The holder of the
     * event-log lock waits on no run row but its own (other run-row writers — heartbeats, claims,
     * cancels — hold no event-log or asset lock).
     */
    async appendEvents(events) {
      if (events.length === 0) return;
      await adapter.writeTransaction(async (trx) => {
        // ---- Phase 1: no event ids yet ----
        const runIds = [...new Set(events.map((e) => e.runId))].sort();
        const counts = new Map<string, number>();
        const firstStart = new Map<string, number>();
        for (const e of events) {
          counts.set(e.runId, (counts.get(e.runId) ?? 0) + 1);
          if (e.type === "run_started" && !firstStart.has(e.runId)) firstStart.set(e.runId, e.timestamp);
        }
        // One statement per run (sorted ids: row locks in a fixed order) allocates its sequence
        // numbers, records its start and returns its partitions; it was 4 round trips (run lock,
        // max(run_seq), partitions, start). The row lock the UPDATE takes, held to commit, is the
        // run's event lock: a concurrent writer of the run waits on it and then (READ COMMITTED
        // re-reads the locked row) sees the event_seq this one wrote. greatest(…, max(run_seq))
        // covers events written by a version that did not keep event_seq (before migration 0008).
        // Starting must not undo a cancel requested meanwhile (CANCELING stays until the end), but
        // the run did start: its start time is recorded either way. An end in the same batch is
        // applied after this (phase 2), as in event order.
        const greatest = adapter.name === "postgres" ? sql`greatest` : sql`max`;
        const firstSeq = new Map<string, number>();
        const runPartitionCache = new Map<string, RunPartitions | null>();
        const missing: string[] = [];
        for (const runId of runIds) {
          const n = counts.get(runId)!;
          const startedAt = firstStart.get(runId);
          const starting = sql`status in ('QUEUED', 'STARTING')`;
          const setStart =
            startedAt === undefined
              ? sql``
              : sql`, status = case when ${starting} then 'STARTED' else status end,
                  started_at = case when ${starting} or started_at is null then ${startedAt} else started_at end,
                  updated_at = case when ${starting} or started_at is null then ${startedAt} else updated_at end`;
          const { rows } = await sql<{
            event_seq: number;
            partition_keys: string | null;
            partition_indices: string | null;
          }>`update runs set event_seq = ${greatest}(event_seq,
                (select coalesce(max(run_seq), 0) from event_logs where event_logs.run_id = runs.run_id)) + ${n}
              ${setStart}
            where run_id = ${runId}
            returning event_seq, partition_keys, partition_indices`.execute(trx);
          const row = rows[0];
          if (!row) {
            missing.push(runId);
            continue;
          }
          firstSeq.set(runId, Number(row.event_seq) - n + 1);
          runPartitionCache.set(
            runId,
            row.partition_keys && row.partition_indices
              ? { keys: JSON.parse(row.partition_keys), indices: JSON.parse(row.partition_indices) }
              : null,
          );
        }
        if (missing.length > 0) {
          // Events of a run with no runs row (written directly to the store): an advisory lock
          // per run and the stored sequence numbers, as before event_seq.
          await adapter.lockRunEvents(trx, missing);
          const rows = await trx
            .selectFrom("event_logs")
            .select(["run_id", (eb) => eb.fn.max("run_seq").as("max_seq")])
            .where("run_id", "in", missing)
            .groupBy("run_id")
            .execute();
          for (const runId of missing) firstSeq.set(runId, 1);
          for (const r of rows) firstSeq.set(r.run_id, Number(r.max_seq) + 1);
        }
        const seqs = events.map((e) => {
          const next = firstSeq.get(e.runId)!;
          firstSeq.set(e.runId, next + 1);
          return next;
        });
        const changes = await collectPartitionChanges(events, async (runId) => {
          if (!runPartitionCache.has(runId)) runPartitionCache.set(runId, null);
          return runPartitionCache.get(runId)!;
        });

        // ---- Phase 2: serialized from id allocation to commit ----
        await adapter.lockEventLog(trx, partitionAssets(changes));
        // Postgres, usual batches: the events' INSERT and every write that needs their ids go in
        // one statement (data-modifying CTEs; an id is a subquery on the INSERT's RETURNING): 2
        // statements under the event-log lock (ranges read, then that) instead of 7.
        if (adapter.name === "postgres" && events.length <= adapter.maxRowsPerInsert) {
          const rangeWrites = await planPartitionRanges(trx, changes);
          const idOf = (i: number) =>
            sql<number>`(select id from ev where run_id = ${events[i]!.runId} and run_seq = ${seqs[i]!})`;
          const writes = rangeWrites && idDependentWrites(trx, events, idOf, changes);
          if (rangeWrites && writes) {
            const ctes = [...rangeWrites, ...writes].map((q, n) => sql`, ${sql.raw(`w${n}`)} as (${q})`);
            await sql`with ev as (${eventsInsert(trx, events, seqs).returning(["id", "run_id", "run_seq"])})${sql.join(ctes, sql``)} select count(*) from ev`.execute(
              trx,
            );
            return;
          }
          // Not for this batch (several segments of an asset, or a row written twice): the ranges
          // were only read so far; write as below.
        }
        await applyPartitionRanges(adapter, trx, changes, { alreadyLocked: true });
        const ids = await insertEvents(trx, events, seqs);
        for (const q of idDependentWrites(trx, events, (i) => ids[i]!, changes, true)!) await q.execute();
      });
    },

    async getEvents(runId, query: EventsQuery = {}) {
      let q = db
        .selectFrom("event_logs")
        .select(["id", "body"])
        .where("run_id", "=", runId)
        .orderBy("id", "asc");
      if (query.afterId !== undefined) q = q.where("id", ">", query.afterId);
      if (query.types && query.types.length > 0) q = q.where("type", "in", [...query.types]);
      if (query.limit !== undefined) q = q.limit(query.limit);
      const rows = await q.execute();
      return rows.map((r) => ({ ...(JSON.parse(r.body) as RunEvent), id: r.id }) as StoredRunEvent);
    },

    async getEventsAfter(afterId, query = {}) {
      let q = db
        .selectFrom("event_logs")
        .select(["id", "body"])
        .where("id", ">", afterId)
        .orderBy("id", "asc")
        .limit(Math.min(Math.max(query.limit ?? 500, 1), 5000));
      if (query.runId !== undefined) q = q.where("run_id", "=", query.runId);
      if (query.types && query.types.length > 0) q = q.where("type", "in", [...query.types]);
      const rows = await q.execute();
      return rows.map((r) => ({ ...(JSON.parse(r.body) as RunEvent), id: r.id }) as StoredRunEvent);
    },

    ...(adapter.watchEvents ? { watchEvents: (onWake: () => void) => adapter.watchEvents!(onWake) } : {}),

    async latestEventId() {
      const row = await db
        .selectFrom("event_logs")
        .select((eb) => eb.fn.max("id").as("max"))
        .executeTakeFirst();
      return Number(row?.max ?? 0);
    },

    async getAssetStatuses(assetKeys) {
      let q = db.selectFrom("asset_status").selectAll().orderBy("asset_key");
      if (assetKeys) {
        if (assetKeys.length === 0) return [];
        q = q.where("asset_key", "in", [...assetKeys]);
      }
      const rows = await q.execute();
      return rows.map(
        (r): AssetStatusRecord => ({
          assetKey: r.asset_key,
          lastMaterialization:
            r.last_materialization_event_id === null
              ? null
              : {
                  runId: r.last_materialization_run_id!,
                  eventId: r.last_materialization_event_id,
                  timestamp: r.last_materialized_at!,
                  metadata: JSON.parse(r.last_materialization_metadata ?? "{}") as MetadataMap,
                  codeVersion: r.last_code_version,
                  dataVersion: r.last_data_version,
                  inputDataVersions: parseInputVersions(r.last_input_versions),
                },
          lastFailure:
            r.last_failure_run_id === null
              ? null
              : { runId: r.last_failure_run_id, timestamp: r.last_failed_at! },
        }),
      );
    },

    async getMaterializations(assetKey, query = {}) {
      let q = db
        .selectFrom("event_logs")
        .select(["id", "body"])
        .where("asset_key", "=", assetKey)
        .where("type", "=", "materialization")
        .orderBy("id", "desc")
        .limit(Math.min(query.limit ?? 100, 10_000));
      if (query.beforeId !== undefined) q = q.where("id", "<", query.beforeId);
      if (query.afterId !== undefined)
        q = q.where("id", ">", query.afterId).clearOrderBy().orderBy("id", "asc");
      // The partition is in the event body: match its exact JSON property.
      if (query.partition !== undefined)
        q = q.where(contains(adapter.name, "body", `"partition":${JSON.stringify(query.partition)}`));
      const rows = await q.execute();
      return rows.map((r) => ({ ...(JSON.parse(r.body) as RunEvent), id: r.id }) as StoredRunEvent);
    },

    async getCheckEvaluations(assetKey, query = {}) {
      let q = db
        .selectFrom("event_logs")
        .select(["id", "body"])
        .where("asset_key", "=", assetKey)
        .where("type", "=", "check_evaluation")
        .orderBy("id", "desc")
        .limit(Math.min(query.limit ?? 100, 10_000));
      if (query.beforeId !== undefined) q = q.where("id", "<", query.beforeId);
      if (query.checkName !== undefined)
        q = q.where(contains(adapter.name, "body", `"checkName":${JSON.stringify(query.checkName)}`));
      const rows = await q.execute();
      return rows.map((r) => ({ ...(JSON.parse(r.body) as RunEvent), id: r.id }) as StoredRunEvent);
    },

    async getLatestCheckResults(assetKey) {
      let q = db.selectFrom("asset_check_latest").selectAll().orderBy("asset_key").orderBy("check_name");
      if (assetKey !== undefined) q = q.where("asset_key", "=", assetKey);
      const rows = await q.execute();
      return rows.map(
        (r): CheckResultRecord => ({
          assetKey: r.asset_key,
          checkName: r.check_name,
          runId: r.run_id,
          eventId: r.event_id,
          passed: r.passed === 1,
          blocking: r.blocking === 1,
          severity: r.severity as CheckSeverity,
          metadata: JSON.parse(r.metadata) as MetadataMap,
          timestamp: r.timestamp,
        }),
      );
    },

    getPartitionRanges: (assetKey) => readPartitionRanges(db, assetKey),
    getPartitions: (assetKey, query) => readPartitions(db, assetKey, query),
    syncPartitionsDefinition: (assetKey, fingerprint, indexOf) =>
      syncPartitionsDefinition(adapter, assetKey, fingerprint, indexOf),

    ...createQueueStore(adapter, toRunRecord, (events) => storage.appendEvents(events)),
    ...createDynamicPartitionsStore(adapter),
    ...createBackfillStore(adapter),
    ...createAutomationStore(adapter),
    ...createRetentionStore(adapter),

    close: () => adapter.close(),
  };
  return storage;
}
