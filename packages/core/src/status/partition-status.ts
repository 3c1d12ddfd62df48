import type { Definitions } from "../definitions/definitions.js";
import type { KeySpaces } from "../execution/run-partitions.js";
import { syncAssetPartitions } from "../instance/run-partitions-request.js";
import { countRanges, type PartitionState } from "../storage/partition-ranges.js";
import type { Storage } from "../storage/storage.js";

export type PartitionStatusName = PartitionState | "missing";

export interface StatusRangeWithKeys {
  readonly status: PartitionStatusName;
  /** Inclusive indices and keys. */
  readonly start: number;
  readonly end: number;
  readonly startKey: string;
  readonly endKey: string;
}

export interface AssetPartitionStatus {
  readonly assetKey: string;
  readonly total: number;
  readonly counts: Readonly<Record<PartitionStatusName, number>>;
  /** The whole key space as consecutive ranges (missing ones included), in order. */
  readonly ranges: readonly StatusRangeWithKeys[];
}

/**
 * Status of every partition of an asset, as compact ranges: one indexed read of the stored
 * ranges (never the event log, never one row per partition), with the gaps as "missing".
 */
export async function partitionStatus(
  definitions: Definitions,
  storage: Storage,
  spaces: KeySpaces,
  assetKey: string,
): Promise<AssetPartitionStatus> {
  const def = definitions.computationOf(assetKey).partitions;
  if (!def) throw new Error(`"${assetKey}" is not partitioned`);
  const space = spaces.of(def);
  await syncAssetPartitions(definitions, storage, spaces, assetKey);
  const total = space.count();
  const stored = (await storage.getPartitionRanges(assetKey)).filter((r) => r.start < total);
  const ranges: StatusRangeWithKeys[] = [];
  const push = (status: PartitionStatusName, start: number, end: number) =>
    ranges.push({ status, start, end, startKey: space.keyAt(start), endKey: space.keyAt(end) });
  let next = 0;
  for (const r of stored) {
    if (r.start > next) push("missing", next, r.start - 1);
    const end = Math.min(r.end, total - 1);
    push(r.status, r.start, end);
    next = end + 1;
  }
  if (next < total) push("missing", next, total - 1);
  return { assetKey, total, counts: countRanges(stored, total), ranges };
}
