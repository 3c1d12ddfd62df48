import { StorageError } from "../errors.js";
import type { DialectAdapter } from "./dialects/dialect-adapter.js";
import { IN_LIST_CHUNK } from "./kysely-partitions.js";
import type { BatonDatabase } from "./schema.js";
import type { BackfillRecord, BackfillStatus, Storage } from "./storage.js";

function toBackfillRecord(row: Omit<BatonDatabase["backfills"], "id">): BackfillRecord {
  return {
    backfillId: row.backfill_id,
    status: row.status as BackfillStatus,
    selection: row.selection,
    assetKeys: JSON.parse(row.asset_keys),
    partitionKeys: JSON.parse(row.partition_keys),
    options: JSON.parse(row.options),
    counts: JSON.parse(row.counts),
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    endedAt: row.ended_at,
  };
}

/** Dynamic partition keys per name, in insertion order. */
export function createDynamicPartitionsStore(
  adapter: DialectAdapter,
): Pick<Storage, "addDynamicPartitions" | "removeDynamicPartitions" | "getDynamicPartitions"> {
  const { db } = adapter;
  return {
    async addDynamicPartitions(name, keys) {
      return adapter.writeTransaction(async (trx) => {
        const existing = new Set(
          (
            await trx
              .selectFrom("dynamic_partitions")
              .select("partition_key")
              .where("name", "=", name)
              .execute()
          ).map((r) => r.partition_key),
        );
        const added = [...new Set(keys)].filter((k) => !existing.has(k));
        const now = Date.now();
        for (let i = 0; i < added.length; i += adapter.maxRowsPerInsert)
          await trx
            .insertInto("dynamic_partitions")
            .values(
              added
                .slice(i, i + adapter.maxRowsPerInsert)
                .map((k) => ({ name, partition_key: k, created_at: now })),
            )
            .execute();
        return added;
      });
    },
    async removeDynamicPartitions(name, keys) {
      if (keys.length === 0) return [];
      return adapter.writeTransaction(async (trx) => {
        const removed: string[] = [];
        const unique = [...new Set(keys)];
        for (let i = 0; i < unique.length; i += IN_LIST_CHUNK) {
          const chunk = unique.slice(i, i + IN_LIST_CHUNK);
          const present = (
            await trx
              .selectFrom("dynamic_partitions")
              .select("partition_key")
              .where("name", "=", name)
              .where("partition_key", "in", chunk)
              .execute()
          ).map((r) => r.partition_key);
          if (present.length > 0)
            await trx
              .deleteFrom("dynamic_partitions")
              .where("name", "=", name)
              .where("partition_key", "in", present)
              .execute();
          removed.push(...present);
        }
        return removed;
      });
    },
    async getDynamicPartitions(name) {
      const rows = await db
        .selectFrom("dynamic_partitions")
        .select("partition_key")
        .where("name", "=", name)
        .orderBy("id")
        .execute();
      return rows.map((r) => r.partition_key);
    },
  };
}

/** Stored backfills (the runs themselves carry the backfill id). */
export function createBackfillStore(
  adapter: DialectAdapter,
): Pick<Storage, "createBackfill" | "getBackfill" | "listBackfills" | "updateBackfill"> {
  const { db } = adapter;
  return {
    async createBackfill(b) {
      await adapter.writeTransaction((trx) =>
        trx
          .insertInto("backfills")
          .values({
            backfill_id: b.backfillId,
            status: b.status,
            selection: b.selection,
            asset_keys: JSON.stringify(b.assetKeys),
            partition_keys: JSON.stringify(b.partitionKeys),
            options: JSON.stringify(b.options),
            counts: JSON.stringify(b.counts),
            error: null,
            created_at: b.createdAt,
            updated_at: b.createdAt,
            ended_at: null,
          })
          .execute(),
      );
    },
    async getBackfill(backfillId) {
      const row = await db
        .selectFrom("backfills")
        .selectAll()
        .where("backfill_id", "=", backfillId)
        .executeTakeFirst();
      return row ? toBackfillRecord(row) : undefined;
    },
    async listBackfills(query = {}) {
      const limit = Math.min(Math.max(query.limit ?? 50, 1), 1000);
      let q = db
        .selectFrom("backfills")
        .selectAll()
        .orderBy("id", "desc")
        .limit(limit + 1);
      if (query.cursor !== undefined) {
        const before = Number(query.cursor);
        if (!Number.isSafeInteger(before))
          throw new StorageError(`Invalid backfills cursor "${query.cursor}"`);
        q = q.where("id", "<", before);
      }
      if (query.statuses && query.statuses.length > 0) q = q.where("status", "in", [...query.statuses]);
      const rows = await q.execute();
      const page = rows.slice(0, limit);
      return {
        backfills: page.map(toBackfillRecord),
        nextCursor: rows.length > limit ? String(page[page.length - 1]!.id) : null,
      };
    },
    async updateBackfill(backfillId, patch) {
      const values: Partial<Omit<BatonDatabase["backfills"], "id">> = { updated_at: Date.now() };
      if (patch.status !== undefined) values.status = patch.status;
      if (patch.counts !== undefined) values.counts = JSON.stringify(patch.counts);
      if (patch.error !== undefined) values.error = patch.error;
      if (patch.endedAt !== undefined) values.ended_at = patch.endedAt;
      await adapter.writeTransaction((trx) =>
        trx.updateTable("backfills").set(values).where("backfill_id", "=", backfillId).execute(),
      );
    },
  };
}
