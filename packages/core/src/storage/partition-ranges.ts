/**
 * Partition status is kept as maximal runs of consecutive partition indices with one status
 * ("ranges"), so reading the status of 1,000,000 partitions reads as many rows as there are
 * runs, and "missing" is simply what no range covers. This module is the pure algebra; the
 * store applies its output in the same transaction as the events that caused it.
 */
export type PartitionState = "materialized" | "failed" | "in_progress";

export const PARTITION_STATES: readonly PartitionState[] = ["materialized", "failed", "in_progress"];

/** Inclusive index bounds. */
export interface StatusRange {
  readonly start: number;
  readonly end: number;
  readonly status: PartitionState;
}

/** A run of consecutive indices set to one state (null: forget them, i.e. missing). */
export interface StatusSegment {
  readonly start: number;
  readonly end: number;
  readonly status: PartitionState | null;
}

/** Group index→state changes into maximal consecutive segments of equal state. */
export function toSegments(changes: ReadonlyMap<number, PartitionState | null>): StatusSegment[] {
  const indices = [...changes.keys()].sort((a, b) => a - b);
  const out: StatusSegment[] = [];
  for (const i of indices) {
    const status = changes.get(i)!;
    const last = out[out.length - 1];
    if (last && last.end === i - 1 && last.status === status) out[out.length - 1] = { ...last, end: i };
    else out.push({ start: i, end: i, status });
  }
  return out;
}

/**
 * Given the stored ranges touching [seg.start - 1, seg.end + 1] (sorted, disjoint), return which
 * to delete and which to insert so the stored ranges stay disjoint and maximal after `seg`.
 */
export function applySegment(
  touching: readonly StatusRange[],
  seg: StatusSegment,
): { remove: StatusRange[]; add: StatusRange[] } {
  const remove: StatusRange[] = [];
  const add: StatusRange[] = [];
  let start = seg.start;
  let end = seg.end;
  for (const r of touching) {
    const overlaps = r.end >= seg.start && r.start <= seg.end;
    const adjacent = r.end === seg.start - 1 || r.start === seg.end + 1;
    if (!overlaps && !adjacent) continue;
    if (seg.status !== null && r.status === seg.status) {
      // Same state: absorb it (merge).
      remove.push(r);
      start = Math.min(start, r.start);
      end = Math.max(end, r.end);
      continue;
    }
    if (!overlaps) continue;
    // Different state overlapping: keep the parts outside the segment.
    remove.push(r);
    if (r.start < seg.start) add.push({ start: r.start, end: seg.start - 1, status: r.status });
    if (r.end > seg.end) add.push({ start: seg.end + 1, end: r.end, status: r.status });
  }
  if (seg.status !== null) add.push({ start, end, status: seg.status });
  return { remove, add };
}

/** Count of indices per state, and missing, for a key space of `total` partitions. */
export function countRanges(ranges: readonly StatusRange[], total: number) {
  const counts = { materialized: 0, failed: 0, in_progress: 0, missing: 0 };
  for (const r of ranges) if (r.start < total) counts[r.status] += Math.min(r.end, total - 1) - r.start + 1;
  counts.missing = Math.max(0, total - counts.materialized - counts.failed - counts.in_progress);
  return counts;
}
