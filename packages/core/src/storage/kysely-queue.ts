import { sql } from "kysely";
import type { RunEvent } from "../execution/events.js";
import type { DialectAdapter } from "./dialects/dialect-adapter.js";
import type { RunRow } from "./kysely-storage.js";
import type { RunRecord, Storage, WorkerRecord } from "./storage.js";

const ACTIVE = ["STARTING", "STARTED", "CANCELING"] as const;

/**
 * The run queue, workers' heartbeats, cancel requests and leases. Claims run in one write
 * transaction serialized across processes (SQLite: BEGIN IMMEDIATE; Postgres: an advisory
 * transaction lock), so the global and per-tag limits hold with any number of workers.
 */
export function createQueueStore(
  adapter: DialectAdapter,
  toRunRecord: (row: RunRow) => RunRecord,
  appendEvents: (events: readonly RunEvent[]) => Promise<void>,
): Pick<
  Storage,
  | "claimRuns"
  | "heartbeat"
  | "stopWorker"
  | "listWorkers"
  | "requestCancel"
  | "staleRuns"
  | "acquireLease"
  | "releaseLease"
> {
  const { db } = adapter;
  const requestCancel = async (runId: string, now: number): Promise<RunRecord | undefined> => {
    const row = (await db.selectFrom("runs").selectAll().where("run_id", "=", runId).executeTakeFirst()) as
      | RunRow
      | undefined;
    if (!row) return undefined;
    if (row.status === "QUEUED") {
      // Nobody runs it yet: it ends here (unless a worker claims it first; then ask that worker).
      const updated = await adapter.writeTransaction((trx) =>
        trx
          .updateTable("runs")
          .set({ cancel_requested: 1, updated_at: now })
          .where("run_id", "=", runId)
          .where("status", "=", "QUEUED")
          .executeTakeFirst(),
      );
      if (Number(updated.numUpdatedRows) === 1)
        await appendEvents([
          { type: "run_canceled", reason: "canceled before it started", runId, timestamp: now },
        ]);
      else return requestCancel(runId, now);
    } else if ((ACTIVE as readonly string[]).includes(row.status)) {
      await adapter.writeTransaction((trx) =>
        trx
          .updateTable("runs")
          .set({ cancel_requested: 1, status: "CANCELING", updated_at: now })
          .where("run_id", "=", runId)
          .where("status", "in", [...ACTIVE])
          .execute(),
      );
    }
    const after = await db.selectFrom("runs").selectAll().where("run_id", "=", runId).executeTakeFirst();
    return after ? toRunRecord(after as RunRow) : undefined;
  };
  return {
    requestCancel,
    async claimRuns(options) {
      if (options.limit <= 0) return [];
      const limited = options.maxConcurrentRuns !== undefined || (options.tagLimits ?? []).length > 0;
      if (!limited && adapter.name === "postgres") {
        // Without limits nothing needs the runs in progress: one statement claims, with no
        // transaction and no queue lock (5 round trips were 1 per claimed run before). Rows another
        // claimer is taking are skipped (SKIP LOCKED), and a row it took meanwhile fails the outer
        // re-check of the status (READ COMMITTED re-evaluates the WHERE on the newest version), so
        // no run is claimed twice. Claimers with limits still serialize on the queue lock among
        // themselves; this claimer never needed their count.
        // The picks are a CTE (evaluated once): as `id in (subquery)` the planner may re-run the
        // subquery per row, and each re-run skips the rows this statement already updated.
        const rows = (
          await sql`with picked as (select id from runs where status = 'QUEUED' and request is not null
              and cancel_requested = 0 order by priority desc, id asc limit ${options.limit}
              for update skip locked)
            update runs set status = 'STARTING', worker_id = ${options.workerId},
              heartbeat_at = ${options.now}, updated_at = ${options.now}
            from picked where runs.id = picked.id and runs.status = 'QUEUED' and runs.cancel_requested = 0
            returning runs.*`.execute(db)
        ).rows as RunRow[];
        return rows.sort((a, b) => b.priority - a.priority || a.id - b.id).map(toRunRecord);
      }
      return adapter.writeTransaction(async (trx) => {
        await adapter.lockQueue(trx);
        // The runs in progress matter only to limits: without any, do not read them (with many
        // runs in the store this read was the costliest part of a claim, under the queue lock).
        const active = limited
          ? ((await trx
              .selectFrom("runs")
              .select(["tags"])
              .where("status", "in", [...ACTIVE])
              .execute()) as { tags: string }[])
          : [];
        const running = active.map((r) => JSON.parse(r.tags) as Record<string, string>);
        let total = running.length;
        const tagCount = (tags: Record<string, string>, key: string, value: string | undefined) =>
          Object.hasOwn(tags, key) && (value === undefined || tags[key] === value);
        const claimed: RunRecord[] = [];
        // Page through the queue until this worker is full: runs blocked by a tag limit must not
        // hide claimable runs behind them. Runs executed where they were launched (no request)
        // and runs whose cancel was requested are never claimed.
        // Pages sized to the claim (a worker with one free slot reads a few rows, not 200 of them,
        // under the queue lock), growing when tag limits skip runs.
        let page = Math.min(200, Math.max(16, options.limit * 4));
        for (let offset = 0; claimed.length < options.limit; offset += page, page = 200) {
          if (options.maxConcurrentRuns !== undefined && total >= options.maxConcurrentRuns) break;
          const candidates = (await trx
            .selectFrom("runs")
            .selectAll()
            .where("status", "=", "QUEUED")
            .where("request", "is not", null)
            .where("cancel_requested", "=", 0)
            .orderBy("priority", "desc")
            .orderBy("id", "asc")
            .limit(page)
            .offset(offset)
            .execute()) as RunRow[];
          if (candidates.length === 0) break;
          for (const row of candidates) {
            if (claimed.length >= options.limit) break;
            if (options.maxConcurrentRuns !== undefined && total >= options.maxConcurrentRuns) break;
            const tags = JSON.parse(row.tags) as Record<string, string>;
            const blocked = (options.tagLimits ?? []).some(
              (l) =>
                tagCount(tags, l.key, l.value) &&
                running.filter((t) => tagCount(t, l.key, l.value)).length >= l.limit,
            );
            if (blocked) continue;
            const updated = await trx
              .updateTable("runs")
              .set({
                status: "STARTING",
                worker_id: options.workerId,
                heartbeat_at: options.now,
                updated_at: options.now,
              })
              .where("run_id", "=", row.run_id)
              .where("status", "=", "QUEUED")
              .where("cancel_requested", "=", 0)
              .executeTakeFirst();
            if (Number(updated.numUpdatedRows) !== 1) continue;
            running.push(tags);
            total++;
            claimed.push(
              toRunRecord({
                ...row,
                status: "STARTING",
                worker_id: options.workerId,
                heartbeat_at: options.now,
              }),
            );
          }
          if (candidates.length < page) break;
        }
        return claimed;
      });
    },

    heartbeat(worker, runIds, now) {
      return adapter.writeTransaction(async (trx) => {
        const values = { pid: worker.pid, host: worker.host, heartbeat_at: now, status: "running" };
        await trx
          .insertInto("workers")
          .values({ worker_id: worker.workerId, started_at: worker.startedAt, ...values })
          .onConflict((oc) => oc.column("worker_id").doUpdateSet(values))
          .execute();
        if (runIds.length === 0) return [];
        await trx
          .updateTable("runs")
          .set({ heartbeat_at: now })
          .where("run_id", "in", [...runIds])
          .where("worker_id", "=", worker.workerId)
          .where("status", "in", [...ACTIVE])
          .execute();
        const canceled = await trx
          .selectFrom("runs")
          .select("run_id")
          .where("run_id", "in", [...runIds])
          .where("worker_id", "=", worker.workerId)
          .where("cancel_requested", "=", 1)
          .execute();
        return canceled.map((r) => r.run_id);
      });
    },

    async stopWorker(workerId, now) {
      await adapter.writeTransaction((trx) =>
        trx
          .updateTable("workers")
          .set({ status: "stopped", heartbeat_at: now })
          .where("worker_id", "=", workerId)
          .execute(),
      );
    },

    async listWorkers() {
      const rows = await db.selectFrom("workers").selectAll().orderBy("started_at").execute();
      return rows.map(
        (r): WorkerRecord => ({
          workerId: r.worker_id,
          pid: r.pid,
          host: r.host,
          startedAt: r.started_at,
          heartbeatAt: r.heartbeat_at,
          status: r.status as WorkerRecord["status"],
        }),
      );
    },

    async staleRuns(before) {
      // A worker cannot heartbeat while the store is unreachable (a database restart): silence
      // from before this process reached the store again says nothing about the worker. Until a
      // whole timeout has passed since then, no run is stale (Postgres; SQLite has no outages).
      const reachableSince = adapter.reachableSince?.() ?? 0;
      if (reachableSince > before) return [];
      const rows = await db
        .selectFrom("runs")
        .selectAll()
        .where("status", "in", [...ACTIVE])
        .where("heartbeat_at", "<", before)
        .orderBy("id")
        .execute();
      return (rows as RunRow[]).map(toRunRecord);
    },

    acquireLease(name, holder, ttlMs, now) {
      return adapter.writeTransaction(async (trx) => {
        await adapter.lockQueue(trx);
        const row = await trx.selectFrom("leases").selectAll().where("name", "=", name).executeTakeFirst();
        if (row && row.holder !== holder && row.expires_at > now) return false;
        await trx
          .insertInto("leases")
          .values({ name, holder, expires_at: now + ttlMs })
          .onConflict((oc) => oc.column("name").doUpdateSet({ holder, expires_at: now + ttlMs }))
          .execute();
        return true;
      });
    },

    async releaseLease(name, holder) {
      await adapter.writeTransaction((trx) =>
        trx.deleteFrom("leases").where("name", "=", name).where("holder", "=", holder).execute(),
      );
    },
  };
}
