import type { DialectAdapter } from "./dialects/dialect-adapter.js";
import type { BatonDatabase } from "./schema.js";
import type {
  AutomationEvaluation,
  InstigatorKind,
  InstigatorState,
  InstigatorStatus,
  Storage,
  TickRecord,
  TickStatus,
} from "./storage.js";

type StateRow = BatonDatabase["instigator_state"];
type TickRow = BatonDatabase["ticks"] & { id: number };

const toState = (r: StateRow): InstigatorState => ({
  name: r.name,
  kind: r.kind as InstigatorKind,
  status: r.status as InstigatorStatus | null,
  cursor: r.cursor,
  lastTickAt: r.last_tick_at,
  updatedAt: r.updated_at,
});

const toTick = (r: TickRow): TickRecord => ({
  id: r.id,
  name: r.name,
  kind: r.kind as InstigatorKind,
  timestamp: r.timestamp,
  status: r.status as TickStatus,
  runIds: JSON.parse(r.run_ids) as string[],
  skipReason: r.skip_reason,
  error: r.error,
  cursor: r.cursor,
  durationMs: r.duration_ms,
});

/** Schedules' and sensors' state and ticks, automation decisions, and a small key-value table. */
export function createAutomationStore(
  adapter: DialectAdapter,
): Pick<
  Storage,
  | "getInstigatorState"
  | "listInstigatorStates"
  | "setInstigatorState"
  | "addTick"
  | "listTicks"
  | "addAutomationEvaluations"
  | "listAutomationEvaluations"
  | "getValue"
  | "setValue"
  | "listValues"
  | "deleteValue"
> {
  const { db } = adapter;
  return {
    async getInstigatorState(name) {
      const row = await db
        .selectFrom("instigator_state")
        .selectAll()
        .where("name", "=", name)
        .executeTakeFirst();
      return row ? toState(row) : undefined;
    },
    async listInstigatorStates() {
      const rows = await db.selectFrom("instigator_state").selectAll().orderBy("name").execute();
      return rows.map(toState);
    },
    async setInstigatorState(name, kind, patch, now) {
      const set: Partial<StateRow> = { updated_at: now };
      if (patch.status !== undefined) set.status = patch.status;
      if (patch.cursor !== undefined) set.cursor = patch.cursor;
      if (patch.lastTickAt !== undefined) set.last_tick_at = patch.lastTickAt;
      await adapter.writeTransaction((trx) =>
        trx
          .insertInto("instigator_state")
          .values({
            name,
            kind,
            status: patch.status ?? null,
            cursor: patch.cursor ?? null,
            last_tick_at: patch.lastTickAt ?? null,
            updated_at: now,
          })
          .onConflict((oc) => oc.column("name").doUpdateSet(set))
          .execute(),
      );
    },
    async addTick(tick) {
      const row = await adapter.writeTransaction((trx) =>
        trx
          .insertInto("ticks")
          .values({
            name: tick.name,
            kind: tick.kind,
            timestamp: tick.timestamp,
            status: tick.status,
            run_ids: JSON.stringify(tick.runIds),
            skip_reason: tick.skipReason,
            error: tick.error,
            cursor: tick.cursor,
            duration_ms: tick.durationMs,
          })
          .returning("id")
          .executeTakeFirstOrThrow(),
      );
      return Number(row.id);
    },
    async listTicks(name, query = {}) {
      let q = db
        .selectFrom("ticks")
        .selectAll()
        .where("name", "=", name)
        .orderBy("id", "desc")
        .limit(Math.min(Math.max(query.limit ?? 20, 1), 1000));
      if (query.beforeId !== undefined) q = q.where("id", "<", query.beforeId);
      return ((await q.execute()) as TickRow[]).map(toTick);
    },
    async addAutomationEvaluations(evaluations) {
      if (evaluations.length === 0) return;
      await adapter.writeTransaction(async (trx) => {
        for (let i = 0; i < evaluations.length; i += adapter.maxRowsPerInsert) {
          await trx
            .insertInto("automation_evaluations")
            .values(
              evaluations.slice(i, i + adapter.maxRowsPerInsert).map((e) => ({
                asset_key: e.assetKey,
                timestamp: e.timestamp,
                condition: e.condition,
                launched: e.launched ? 1 : 0,
                reason: e.reason,
                partition_keys: e.partitionKeys ? JSON.stringify(e.partitionKeys) : null,
                run_id: e.runId,
              })),
            )
            .execute();
        }
      });
    },
    async listAutomationEvaluations(query = {}) {
      let q = db
        .selectFrom("automation_evaluations")
        .selectAll()
        .orderBy("id", "desc")
        .limit(Math.min(Math.max(query.limit ?? 50, 1), 1000));
      if (query.assetKey !== undefined) q = q.where("asset_key", "=", query.assetKey);
      const rows = await q.execute();
      return rows.map(
        (r): AutomationEvaluation => ({
          id: Number(r.id),
          assetKey: r.asset_key,
          timestamp: r.timestamp,
          condition: r.condition,
          launched: r.launched === 1,
          reason: r.reason,
          partitionKeys: r.partition_keys === null ? null : (JSON.parse(r.partition_keys) as string[]),
          runId: r.run_id,
        }),
      );
    },
    async getValue(key) {
      const row = await db.selectFrom("kv").select("value").where("key", "=", key).executeTakeFirst();
      return row?.value;
    },
    async listValues(prefix) {
      // Keys in [prefix, prefix + U+FFFF): a range scan of the primary key.
      const rows = await db
        .selectFrom("kv")
        .select(["key", "value", "updated_at"])
        .where("key", ">=", prefix)
        .where("key", "<", `${prefix}\uffff`)
        .orderBy("key")
        .limit(1000)
        .execute();
      return rows.map((r) => ({ key: r.key, value: r.value, updatedAt: r.updated_at }));
    },
    async deleteValue(key) {
      await adapter.writeTransaction((trx) => trx.deleteFrom("kv").where("key", "=", key).execute());
    },
    async setValue(key, value, now) {
      await adapter.writeTransaction((trx) =>
        trx
          .insertInto("kv")
          .values({ key, value, updated_at: now })
          .onConflict((oc) => oc.column("key").doUpdateSet({ value, updated_at: now }))
          .execute(),
      );
    },
  };
}
