import { type Expression, type ExpressionBuilder, type SqlBool, sql } from "kysely";
import type { RunEventType } from "../execution/events.js";
import type { DialectAdapter, Executor } from "./dialects/dialect-adapter.js";
import type { BatonDatabase } from "./schema.js";
import type { PurgeCounts, PurgeOptions, PurgeResult, Storage } from "./storage.js";

/**
 * Events a purge keeps for every run, whatever its age: the run-level ones (a run's start with its
 * planned steps, its end with the reason: history lists, run summaries, `runs.end_event_id` for
 * run-status sensors) and each step's outcome (the run page's step list, failure reasons read by
 * run-status sensors and backfill failure lists). One to a few rows per step; logs and the
 * step-level chatter (starts, retries, ops) are the volume.
 */
export const KEPT_EVENT_TYPES: readonly RunEventType[] = [
  "run_started",
  "run_succeeded",
  "run_failed",
  "run_canceled",
  "step_succeeded",
  "step_failed",
  "step_skipped",
  "step_canceled",
];

const TERMINAL = ["SUCCESS", "FAILURE", "CANCELED"] as const;
/** Runs per pass over the event log (each pass deletes in statements of `batchSize` rows). */
const RUNS_PER_PASS = 500;
const DEFAULT_BATCH = 5000;

type EventsEb = ExpressionBuilder<BatonDatabase, "event_logs">;

/**
 * Event rows of ended runs (runs.id in (afterRunId, upToRunId] when given) that a purge deletes:
 * not a kept type, and not an event a status row points at (the latest materialization of each
 * asset and asset partition, the latest result of each check) — those stay whatever their age, so
 * asset pages, partition status, staleness and check status read the same after a purge.
 */
function purgeable(eb: EventsEb, cutoff: number, runIds?: readonly string[]): Expression<SqlBool> {
  // A batch names its runs: a literal list makes both planners read them through the
  // event_logs (run_id, id) index (with a subquery on a runs range, Postgres chose a sequential
  // scan of the whole log per statement: quadratic over a large purge).
  const runs =
    runIds ??
    eb
      .selectFrom("runs")
      .select("runs.run_id")
      .where("runs.ended_at", "<", cutoff)
      .where("runs.status", "in", [...TERMINAL]);
  // Uncorrelated subqueries (hashed once per statement by both databases): a correlated NOT EXISTS
  // on asset_partitions would scan an asset's partitions per event (no index on the event id).
  const latestMaterializations = eb
    .selectFrom("asset_status")
    .select("asset_status.last_materialization_event_id as id")
    .where("asset_status.last_materialization_event_id", "is not", null)
    .unionAll(
      eb
        .selectFrom("asset_partitions")
        .select("asset_partitions.last_materialization_event_id as id")
        .where("asset_partitions.last_materialization_event_id", "is not", null),
    );
  const latestChecks = eb.selectFrom("asset_check_latest").select("asset_check_latest.event_id as id");
  return eb.and([
    eb("event_logs.run_id", "in", runs as never),
    eb("event_logs.type", "not in", [...KEPT_EVENT_TYPES]),
    eb.not(
      eb.and([
        eb("event_logs.type", "=", "materialization"),
        eb("event_logs.id", "in", latestMaterializations as never),
      ]),
    ),
    eb.not(
      eb.and([
        eb("event_logs.type", "=", "check_evaluation"),
        eb("event_logs.id", "in", latestChecks as never),
      ]),
    ),
  ]);
}

/**
 * Let the process's other work run between statements: better-sqlite3 is synchronous, so without
 * this a purge's awaits resolve as microtasks and a daemon purging a large SQLite store would starve
 * its own loops (lease renewal, run monitoring, sensors) until the purge ends.
 */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

const zero = (): { -readonly [K in keyof PurgeCounts]: number } => ({
  runs: 0,
  events: 0,
  logs: 0,
  ticks: 0,
  automationEvaluations: 0,
});

/**
 * Retention: purge old runs' events, old ticks and old automation decisions in bounded statements
 * (at most `batchSize` rows each, its own write transaction), so the store's write lock (SQLite) or
 * the rows' locks (Postgres) are held only briefly and the daemon and workers keep working.
 */
export function createRetentionStore(adapter: DialectAdapter): Pick<Storage, "purge" | "vacuum"> {
  const { db } = adapter;

  async function countEvents(cutoff: number) {
    const row = await db
      .selectFrom("event_logs")
      .select([
        sql<number>`count(*)`.as("n"),
        sql<number>`coalesce(sum(case when type = 'log' then 1 else 0 end), 0)`.as("logs"),
        sql<number>`count(distinct run_id)`.as("runs"),
      ])
      .where((eb) => purgeable(eb, cutoff))
      .executeTakeFirstOrThrow();
    return { runs: Number(row.runs), logs: Number(row.logs), events: Number(row.n) - Number(row.logs) };
  }

  /** Ticks older than `cutoff` except the newest of each schedule/sensor. */
  const oldTicks = (cutoff: number) =>
    db
      .selectFrom("ticks")
      .select("id")
      .where("timestamp", "<", cutoff)
      .where(
        "id",
        "not in",
        db
          .selectFrom("ticks as t")
          .select((eb) => eb.fn.max("t.id").as("id"))
          .groupBy("t.name"),
      );

  /** Automation decisions older than `cutoff` except the newest of each asset. */
  const oldEvaluations = (cutoff: number) =>
    db
      .selectFrom("automation_evaluations")
      .select("id")
      .where("timestamp", "<", cutoff)
      .where(
        "id",
        "not in",
        db
          .selectFrom("automation_evaluations as e")
          .select((eb) => eb.fn.max("e.id").as("id"))
          .groupBy("e.asset_key"),
      );

  /**
   * `id` is one of the ids `subquery` selects. Postgres: `id = any(array(…))` looks them up by
   * primary key; `id in (…)` with a LIMIT inside was planned as a hash semi-join over a sequential
   * scan of the whole table, per statement.
   */
  const idIn = (subquery: Expression<unknown>) =>
    adapter.name === "postgres"
      ? sql<SqlBool>`id = any(array(${subquery}))`
      : sql<SqlBool>`id in (${subquery})`;

  async function purge(options: PurgeOptions): Promise<PurgeResult> {
    const batch = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH));
    const counts = zero();
    const signal = options.signal;
    const stopped = () => signal?.aborted === true;
    const progress = () => options.onProgress?.({ ...counts });

    if (options.dryRun) {
      if (options.eventsBefore !== undefined) Object.assign(counts, await countEvents(options.eventsBefore));
      if (options.ticksBefore !== undefined) {
        const r = await db
          .selectFrom(oldTicks(options.ticksBefore).as("x"))
          .select(sql<number>`count(*)`.as("n"))
          .executeTakeFirstOrThrow();
        counts.ticks = Number(r.n);
      }
      if (options.automationBefore !== undefined) {
        const r = await db
          .selectFrom(oldEvaluations(options.automationBefore).as("x"))
          .select(sql<number>`count(*)`.as("n"))
          .executeTakeFirstOrThrow();
        counts.automationEvaluations = Number(r.n);
      }
      return { ...counts, canceled: false };
    }

    if (options.eventsBefore !== undefined) {
      const cutoff = options.eventsBefore;
      // Pass over ended runs in id order, RUNS_PER_PASS at a time; within a pass, delete at most
      // `batch` events per statement until none is left.
      let after = 0;
      while (!stopped()) {
        const page = await db
          .selectFrom("runs")
          .select(["id", "run_id"])
          .where("id", ">", after)
          .where("ended_at", "<", cutoff)
          .where("status", "in", [...TERMINAL])
          .orderBy("id")
          .limit(RUNS_PER_PASS)
          .execute();
        if (page.length === 0) break;
        const runIds = page.map((r) => r.run_id);
        const touched = new Set<string>();
        for (;;) {
          const deleted = await adapter.writeTransaction(async (trx) => {
            const ids = trx
              .selectFrom("event_logs")
              .select("event_logs.id")
              .where((eb) => purgeable(eb, cutoff, runIds))
              .limit(batch);
            const del = trx.deleteFrom("event_logs").where(idIn(ids)).returning(["run_id", "type"]);
            if (adapter.name === "sqlite") {
              const rows = await del.execute();
              return {
                n: rows.length,
                logs: rows.filter((r) => r.type === "log").length,
                runs: rows.map((r) => r.run_id),
              };
            }
            // Postgres: count in the server (a data-modifying CTE) instead of shipping every
            // deleted row's run id and type back (5,000 rows per statement).
            const { rows } = await sql<{ n: string; logs: string; runs: string[] | null }>`with d as (${del})
              select count(*) as n, count(*) filter (where type = 'log') as logs, array_agg(distinct run_id) as runs from d`.execute(
              trx,
            );
            const r = rows[0]!;
            return { n: Number(r.n), logs: Number(r.logs), runs: r.runs ?? [] };
          });
          for (const runId of deleted.runs) touched.add(runId);
          counts.logs += deleted.logs;
          counts.events += deleted.n - deleted.logs;
          if (deleted.n > 0) progress();
          if (deleted.n < batch || stopped()) break;
          await yieldToEventLoop();
        }
        counts.runs += touched.size;
        after = Number(page[page.length - 1]!.id);
        await yieldToEventLoop();
      }
    }

    /** Delete with `statement` (one bounded DELETE, its own transaction) until it deletes less than `batch`. */
    const drain = async (
      key: "ticks" | "automationEvaluations",
      statement: (trx: Executor) => Promise<bigint>,
    ) => {
      while (!stopped()) {
        const n = Number(await adapter.writeTransaction(statement));
        counts[key] += n;
        if (n > 0) progress();
        if (n < batch) break;
        await yieldToEventLoop();
      }
    };
    const ticksBefore = options.ticksBefore;
    if (ticksBefore !== undefined)
      await drain("ticks", async (trx) => {
        const r = await trx
          .deleteFrom("ticks")
          .where(idIn(oldTicks(ticksBefore).orderBy("id").limit(batch)))
          .executeTakeFirst();
        return r.numDeletedRows;
      });
    const automationBefore = options.automationBefore;
    if (automationBefore !== undefined)
      await drain("automationEvaluations", async (trx) => {
        const r = await trx
          .deleteFrom("automation_evaluations")
          .where(idIn(oldEvaluations(automationBefore).orderBy("id").limit(batch)))
          .executeTakeFirst();
        return r.numDeletedRows;
      });
    return { ...counts, canceled: stopped() };
  }

  return {
    purge,
    async vacuum() {
      // SQLite: VACUUM rewrites the file (it needs the whole store to itself while it runs, and up
      // to twice the file's size on disk). Postgres: a plain VACUUM (ANALYZE) marks the space
      // reusable and refreshes statistics without the exclusive lock VACUUM FULL takes.
      if (adapter.name === "sqlite") await sql`vacuum`.execute(db);
      else await sql`vacuum (analyze) event_logs, ticks, automation_evaluations`.execute(db);
    },
  };
}
