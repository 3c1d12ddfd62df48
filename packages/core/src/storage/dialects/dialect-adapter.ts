import type { Kysely, Transaction } from "kysely";
import type { BatonDatabase } from "../schema.js";

export type Executor = Kysely<BatonDatabase> | Transaction<BatonDatabase>;

/** The few things that differ between the databases; each dialect is one small file. */
export interface DialectAdapter {
  readonly name: "sqlite" | "postgres";
  /** Human-readable location, password hidden. */
  readonly location: string;
  readonly db: Kysely<BatonDatabase>;
  /** Run `fn` in a write transaction (SQLite: `BEGIN IMMEDIATE`, so writers queue instead of failing). */
  writeTransaction<T>(fn: (trx: Executor) => Promise<T>): Promise<T>;
  /**
   * Serialize writers of one asset's partition ranges until the transaction ends (Postgres: an
   * advisory transaction lock; SQLite: writes are already serialized). Call in sorted key order.
   */
  lockAsset(trx: Executor, assetKey: string): Promise<void>;
  /** Serialize claimers of the run queue until the transaction ends (same mechanism as lockAsset). */
  lockQueue(trx: Executor): Promise<void>;
  /**
   * Serialize event writers until the transaction ends, so event ids become visible in id order
   * (Postgres assigns sequence values at insert but commits later; readers that follow the log by
   * id — the live stream, run-status sensors — would otherwise skip a late commit for good).
   * Taken before any partition lock (a fixed order: no deadlock).
   */
  lockEventLog(trx: Executor): Promise<void>;
  /**
   * Tell other processes that events were written (Postgres: `pg_notify` on the events channel,
   * delivered when the transaction commits, never for one that rolls back). Absent: nobody is told
   * and readers poll.
   */
  notifyEvents?(trx: Executor): Promise<void>;
  /** See `Storage.watchEvents`; absent on SQLite (readers poll). */
  watchEvents?(onWake: () => void): () => void;
  /** Rows per multi-row INSERT (bounded by the dialect's parameter limit). */
  readonly maxRowsPerInsert: number;
  close(): Promise<void>;
}
