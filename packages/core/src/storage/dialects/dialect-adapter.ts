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
   * Serialize writers of these runs' events until the transaction ends (their per-run sequence
   * numbers are read then written). Called first, with the run ids sorted.
   */
  lockRunEvents(trx: Executor, runIds: readonly string[]): Promise<void>;
  /**
   * Serialize the last part of event writers — from allocating event ids to commit — so event ids
   * become visible in id order (Postgres assigns sequence values at insert but commits later;
   * readers that follow the log by id — the live stream, run-status sensors — would otherwise
   * skip a late commit for good). Taken after the run locks and before any partition lock (a
   * fixed order: no deadlock), when only the ranges and the id-dependent writes are left. Postgres: also `pg_notify` on the
   * events channel in the same statement (delivered on commit; see `watchEvents`), and then the
   * partition locks of `assetKeys` (sorted; as `lockAsset`), so a write takes them all in one round trip.
   */
  lockEventLog(trx: Executor, assetKeys?: readonly string[]): Promise<void>;
  /**
   * Postgres: a per-process cache of the partitions fingerprints stored per asset, kept correct
   * across processes by a notification on every change (see postgres-dialect.ts). `known` is true
   * only when the stored fingerprint is certainly `fingerprint`; `remember` what a read (started
   * at `generation()`) or a write found; `changed` notifies, inside the writing transaction.
   * Absent on SQLite (a read there is an in-process call).
   */
  readonly partitionDefs?: {
    known(assetKey: string, fingerprint: string): boolean;
    generation(): number;
    remember(assetKey: string, fingerprint: string, since: number): void;
    changed(trx: Executor, assetKey: string): Promise<void>;
  };
  /** See `Storage.watchEvents`; absent on SQLite (readers poll). */
  watchEvents?(onWake: () => void): () => void;
  /**
   * Since when this process can reach the store again after it last lost it (ms since the epoch;
   * 0 if it never lost it). The run monitor does not take an outage for dead workers. Absent on
   * SQLite (a local file is never unreachable).
   */
  reachableSince?(): number;
  /** Rows per multi-row INSERT (bounded by the dialect's parameter limit). */
  readonly maxRowsPerInsert: number;
  close(): Promise<void>;
}
