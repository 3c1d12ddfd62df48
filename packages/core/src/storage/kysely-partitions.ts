import { type Expression, sql } from "kysely";
import type { InputDataVersions, RunEvent } from "../execution/events.js";
import type { DialectAdapter, Executor } from "./dialects/dialect-adapter.js";
import {
  applySegment,
  type PartitionState,
  type StatusRange,
  type StatusSegment,
  toSegments,
} from "./partition-ranges.js";
import type { PartitionRecord, PartitionsQuery } from "./storage.js";

type Patch = {
  index: number;
  state: PartitionState;
  runId: string;
  at: number;
  /** Index in the batch of the materialization event (its log id is known only once inserted). */
  materializationEvent?: number;
  materializedAt?: number;
  codeVersion?: string | null;
  dataVersion?: string | null;
  inputVersions?: InputDataVersions | null;
  failedAt?: number;
  failureRunId?: string;
};

/** Collects per-partition changes implied by a batch of events. */
export interface PartitionChanges {
  /** assetKey → partitionKey → merged patch (last state wins, columns accumulate). */
  readonly byAsset: Map<string, Map<string, Patch>>;
}

export interface RunPartitions {
  readonly keys: readonly string[];
  readonly indices: readonly number[];
}

/**
 * Derive partition changes from events: a step starting marks its assets' run partitions in
 * progress, a materialization marks its partition materialized, a failed or canceled step marks
 * them failed. Checks never change partition status.
 */
export async function collectPartitionChanges(
  events: readonly RunEvent[],
  runPartitions: (runId: string) => Promise<RunPartitions | null>,
): Promise<PartitionChanges> {
  const byAsset = new Map<string, Map<string, Patch>>();
  const set = (assetKey: string, key: string, patch: Patch) => {
    let m = byAsset.get(assetKey);
    if (!m) {
      m = new Map();
      byAsset.set(assetKey, m);
    }
    const prev = m.get(key);
    m.set(key, prev ? { ...prev, ...patch } : patch);
  };
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.type === "materialization") {
      if (e.partition === undefined || e.partitionIndex === undefined) continue;
      set(e.assetKey, e.partition, {
        index: e.partitionIndex,
        state: "materialized",
        runId: e.runId,
        at: e.timestamp,
        materializationEvent: i,
        materializedAt: e.timestamp,
        codeVersion: e.codeVersion ?? null,
        dataVersion: e.dataVersion ?? null,
        inputVersions: e.inputDataVersions ?? null,
      });
      continue;
    }
    const state: PartitionState | undefined =
      e.type === "step_started" && e.kind !== "check"
        ? "in_progress"
        : e.type === "step_failed" || e.type === "step_canceled"
          ? "failed"
          : undefined;
    if (!state) continue;
    const assetKeys =
      e.type === "step_started" || e.type === "step_failed" || e.type === "step_canceled" ? e.assetKeys : [];
    if (assetKeys.length === 0) continue;
    const partitions = await runPartitions(e.runId);
    if (!partitions) continue;
    for (const assetKey of assetKeys)
      for (let j = 0; j < partitions.keys.length; j++)
        set(assetKey, partitions.keys[j]!, {
          index: partitions.indices[j]!,
          state,
          runId: e.runId,
          at: e.timestamp,
          ...(state === "failed" ? { failedAt: e.timestamp, failureRunId: e.runId } : {}),
        });
  }
  return { byAsset };
}

/**
 * First half of applying changes, before event ids exist: lock each asset (sorted order; unless
 * `alreadyLocked`: the caller took the locks of `partitionAssets(changes)`) and keep its status
 * ranges maximal. The asset locks are held to the end of the transaction, so the
 * second half (`upsertPartitionRows`) is covered by them too.
 */
export async function applyPartitionRanges(
  adapter: DialectAdapter,
  trx: Executor,
  changes: PartitionChanges,
  options: { alreadyLocked?: boolean } = {},
): Promise<void> {
  const assets = [...changes.byAsset.keys()].sort();
  for (const assetKey of assets) {
    // Ranges are read-modify-written: concurrent batches of one asset must not interleave.
    if (!options.alreadyLocked) await adapter.lockAsset(trx, assetKey);
    const byIndex = new Map<number, PartitionState | null>();
    for (const p of changes.byAsset.get(assetKey)!.values()) byIndex.set(p.index, p.state);
    await applySegments(trx, assetKey, toSegments(byIndex));
  }
}

/** The assets whose partition locks `applyPartitionRanges` needs, sorted. */
export function partitionAssets(changes: PartitionChanges): string[] {
  return [...changes.byAsset.keys()].sort();
}

/** Second half: upsert the partition rows, with the materialization events' log ids (`ids`). */
export async function upsertPartitionRows(
  adapter: DialectAdapter,
  trx: Executor,
  changes: PartitionChanges,
  ids: readonly number[],
): Promise<void> {
  for (const q of partitionRowsUpserts(adapter, trx, changes, (i) => ids[i]!)) await q.execute();
}

/**
 * The partition rows' upserts (not executed), each event's id given by `idOf(event index)`: a
 * number, or an expression (Postgres: a subquery on the events' INSERT … RETURNING in the same
 * statement).
 */
export function partitionRowsUpserts(
  adapter: DialectAdapter,
  trx: Executor,
  changes: PartitionChanges,
  idOf: (eventIndex: number) => number | Expression<number>,
) {
  const out = [];
  const assets = [...changes.byAsset.keys()].sort();
  for (const assetKey of assets) {
    const patches = changes.byAsset.get(assetKey)!;
    const entries = [...patches].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (let start = 0; start < entries.length; start += adapter.maxRowsPerInsert) {
      const rows = entries.slice(start, start + adapter.maxRowsPerInsert).map(([key, p]) => {
        const materialized = p.materializationEvent !== undefined;
        return {
          asset_key: assetKey,
          partition_key: key,
          partition_index: p.index,
          status: p.state,
          last_run_id: p.runId,
          last_materialization_event_id: materialized ? idOf(p.materializationEvent!) : null,
          last_materialized_at: p.materializedAt ?? null,
          code_version: materialized ? (p.codeVersion ?? null) : null,
          data_version: materialized ? (p.dataVersion ?? null) : null,
          input_versions: materialized && p.inputVersions ? JSON.stringify(p.inputVersions) : null,
          last_failure_run_id: p.failureRunId ?? null,
          last_failed_at: p.failedAt ?? null,
          updated_at: p.at,
        };
      });
      out.push(
        trx
          .insertInto("asset_partitions")
          .values(rows)
          .onConflict((oc) =>
            oc.columns(["asset_key", "partition_key"]).doUpdateSet((eb) => ({
              status: eb.ref("excluded.status"),
              partition_index: eb.ref("excluded.partition_index"),
              last_run_id: eb.ref("excluded.last_run_id"),
              updated_at: eb.ref("excluded.updated_at"),
              last_materialization_event_id: eb.fn.coalesce(
                "excluded.last_materialization_event_id",
                "asset_partitions.last_materialization_event_id",
              ),
              last_materialized_at: eb.fn.coalesce(
                "excluded.last_materialized_at",
                "asset_partitions.last_materialized_at",
              ),
              // A new materialization replaces its versions, unknown (null) ones too: an older
              // materialization's data version must not describe the new value.
              code_version: ofNewMaterialization("code_version"),
              data_version: ofNewMaterialization("data_version"),
              input_versions: ofNewMaterialization("input_versions"),
              last_failure_run_id: eb.fn.coalesce(
                "excluded.last_failure_run_id",
                "asset_partitions.last_failure_run_id",
              ),
              last_failed_at: eb.fn.coalesce("excluded.last_failed_at", "asset_partitions.last_failed_at"),
            })),
          ),
      );
    }
  }
  return out;
}

/**
 * For the one-statement write (Postgres): with the assets already locked, read the ranges each
 * asset's change touches and return the range writes as statements to run later, or undefined
 * when an asset's change is more than one segment (each segment's read depends on the previous
 * one's writes: use `applyPartitionRanges`). The writes touch disjoint rows (deletes of the
 * starts no new range reuses, upserts of the new ranges), so they may share one statement.
 */
export async function planPartitionRanges(trx: Executor, changes: PartitionChanges) {
  const out = [];
  for (const assetKey of [...changes.byAsset.keys()].sort()) {
    const byIndex = new Map<number, PartitionState | null>();
    for (const p of changes.byAsset.get(assetKey)!.values()) byIndex.set(p.index, p.state);
    const segments = toSegments(byIndex);
    if (segments.length !== 1) return undefined;
    const { remove, add } = applySegment(await touchingRanges(trx, assetKey, segments[0]!), segments[0]!);
    const addStarts = new Set(add.map((r) => r.start));
    if (addStarts.size !== add.length) return undefined;
    const removeStarts = remove.map((r) => r.start).filter((start) => !addStarts.has(start));
    if (removeStarts.length > 0)
      out.push(
        trx
          .deleteFrom("asset_partition_ranges")
          .where("asset_key", "=", assetKey)
          .where("start_index", "in", removeStarts),
      );
    if (add.length > 0)
      out.push(
        trx
          .insertInto("asset_partition_ranges")
          .values(
            add.map((r) => ({
              asset_key: assetKey,
              start_index: r.start,
              end_index: r.end,
              status: r.status,
            })),
          )
          .onConflict((oc) =>
            oc.columns(["asset_key", "start_index"]).doUpdateSet((eb) => ({
              end_index: eb.ref("excluded.end_index"),
              status: eb.ref("excluded.status"),
            })),
          ),
      );
  }
  return out;
}

/** The column from the new row when it records a materialization, else the stored one. */
const ofNewMaterialization = (column: "code_version" | "data_version" | "input_versions") =>
  sql<
    string | null
  >`case when ${sql.ref("excluded.last_materialization_event_id")} is not null then ${sql.ref(`excluded.${column}`)} else ${sql.ref(`asset_partitions.${column}`)} end`;

async function touchingRanges(trx: Executor, assetKey: string, seg: StatusSegment): Promise<StatusRange[]> {
  // Ranges are disjoint and sorted, so those touching [start-1, end+1] are the ones ending inside
  // it plus at most one straddling its right edge (the first ending after it, kept when it starts
  // inside). One query: it runs under the asset's lock, in every partitioned event write.
  const last = seg.end + 1;
  const rows = await trx
    .selectFrom("asset_partition_ranges")
    .select(["start_index", "end_index", "status"])
    .where("asset_key", "=", assetKey)
    .where("end_index", ">=", seg.start - 1)
    .where(
      "end_index",
      "<=",
      sql<number>`coalesce((select min(r2.end_index) from asset_partition_ranges as r2 where r2.asset_key = ${assetKey} and r2.end_index > ${last}), ${last})`,
    )
    .orderBy("end_index")
    .execute();
  return rows
    .filter((r) => r.end_index <= last || r.start_index <= last)
    .map((r) => ({
      start: r.start_index,
      end: r.end_index,
      status: r.status as PartitionState,
    }));
}

export async function applySegments(trx: Executor, assetKey: string, segments: readonly StatusSegment[]) {
  for (const seg of segments) {
    const { remove, add } = applySegment(await touchingRanges(trx, assetKey, seg), seg);
    if (remove.length > 0)
      await trx
        .deleteFrom("asset_partition_ranges")
        .where("asset_key", "=", assetKey)
        .where(
          "start_index",
          "in",
          remove.map((r) => r.start),
        )
        .execute();
    if (add.length > 0)
      await trx
        .insertInto("asset_partition_ranges")
        .values(
          add.map((r) => ({ asset_key: assetKey, start_index: r.start, end_index: r.end, status: r.status })),
        )
        .execute();
  }
}

export async function readPartitionRanges(db: Executor, assetKey: string): Promise<StatusRange[]> {
  const rows = await db
    .selectFrom("asset_partition_ranges")
    .select(["start_index", "end_index", "status"])
    .where("asset_key", "=", assetKey)
    .orderBy("start_index")
    .execute();
  return rows.map((r) => ({ start: r.start_index, end: r.end_index, status: r.status as PartitionState }));
}

/** Keys per `IN (…)` list: below SQLite's 32,766 and Postgres' 65,535 bound parameters. */
export const IN_LIST_CHUNK = 10_000;

export async function readPartitions(
  db: Executor,
  assetKey: string,
  query: PartitionsQuery = {},
): Promise<PartitionRecord[]> {
  if (query.keys && query.keys.length > IN_LIST_CHUNK) {
    const unique = [...new Set(query.keys)];
    const out: PartitionRecord[] = [];
    for (let i = 0; i < unique.length; i += IN_LIST_CHUNK) {
      const keys = unique.slice(i, i + IN_LIST_CHUNK);
      out.push(...(await readPartitions(db, assetKey, { ...query, keys, limit: undefined })));
    }
    out.sort((a, b) => a.partitionIndex - b.partitionIndex);
    return query.limit !== undefined ? out.slice(0, query.limit) : out;
  }
  let q = db
    .selectFrom("asset_partitions")
    .selectAll()
    .where("asset_key", "=", assetKey)
    .orderBy("partition_index");
  if (query.keys) {
    if (query.keys.length === 0) return [];
    q = q.where("partition_key", "in", [...query.keys]);
  }
  if (query.startIndex !== undefined) q = q.where("partition_index", ">=", query.startIndex);
  if (query.endIndex !== undefined) q = q.where("partition_index", "<=", query.endIndex);
  if (query.statuses && query.statuses.length > 0) q = q.where("status", "in", [...query.statuses]);
  if (query.materializedAfterEventId !== undefined)
    q = q.where("last_materialization_event_id", ">", query.materializedAfterEventId);
  if (query.limit !== undefined) q = q.limit(query.limit);
  const rows = await q.execute();
  return rows.map((r) => ({
    assetKey: r.asset_key,
    partitionKey: r.partition_key,
    partitionIndex: r.partition_index,
    status: r.status as PartitionState,
    lastRunId: r.last_run_id,
    lastMaterialization:
      r.last_materialization_event_id === null
        ? null
        : {
            eventId: r.last_materialization_event_id,
            timestamp: r.last_materialized_at!,
            codeVersion: r.code_version,
            dataVersion: r.data_version,
            inputDataVersions: parseInputVersions(r.input_versions),
          },
    lastFailure:
      r.last_failure_run_id === null ? null : { runId: r.last_failure_run_id, timestamp: r.last_failed_at! },
  }));
}

/** Re-index rows and rebuild ranges when the partitions definition changed. */
export async function syncPartitionsDefinition(
  adapter: DialectAdapter,
  assetKey: string,
  fingerprint: string,
  indexOf: (key: string) => number,
): Promise<boolean> {
  const cache = adapter.partitionDefs;
  if (cache?.known(assetKey, fingerprint)) return false;
  const since = cache?.generation() ?? 0;
  const current = await adapter.db
    .selectFrom("asset_partition_defs")
    .select("fingerprint")
    .where("asset_key", "=", assetKey)
    .executeTakeFirst();
  if (current?.fingerprint === fingerprint) {
    cache?.remember(assetKey, fingerprint, since);
    return false;
  }
  return adapter.writeTransaction(async (trx) => {
    await adapter.lockAsset(trx, assetKey);
    const again = await trx
      .selectFrom("asset_partition_defs")
      .select("fingerprint")
      .where("asset_key", "=", assetKey)
      .executeTakeFirst();
    if (again?.fingerprint === fingerprint) return false;
    const rows = await trx
      .selectFrom("asset_partitions")
      .select(["partition_key", "partition_index", "status"])
      .where("asset_key", "=", assetKey)
      .execute();
    const byIndex = new Map<number, PartitionState>();
    const dropped: string[] = [];
    for (const r of rows) {
      const index = indexOf(r.partition_key);
      if (index < 0) {
        dropped.push(r.partition_key);
        continue;
      }
      byIndex.set(index, r.status as PartitionState);
      if (index !== r.partition_index)
        await trx
          .updateTable("asset_partitions")
          .set({ partition_index: index })
          .where("asset_key", "=", assetKey)
          .where("partition_key", "=", r.partition_key)
          .execute();
    }
    // Keys no longer in the definition keep their history rows but leave the status ranges.
    for (const key of dropped)
      await trx
        .updateTable("asset_partitions")
        .set({ partition_index: -1 })
        .where("asset_key", "=", assetKey)
        .where("partition_key", "=", key)
        .execute();
    await trx.deleteFrom("asset_partition_ranges").where("asset_key", "=", assetKey).execute();
    await applySegments(trx, assetKey, toSegments(byIndex));
    await trx
      .insertInto("asset_partition_defs")
      .values({ asset_key: assetKey, fingerprint })
      .onConflict((oc) => oc.column("asset_key").doUpdateSet({ fingerprint }))
      .execute();
    // Other processes' caches (and this one's) forget this asset at commit.
    await cache?.changed(trx, assetKey);
    return true;
  });
}

/** A stored `input_versions` column (null, or JSON written by this file). */
export function parseInputVersions(text: string | null): InputDataVersions | null {
  return text === null ? null : (JSON.parse(text) as InputDataVersions);
}
