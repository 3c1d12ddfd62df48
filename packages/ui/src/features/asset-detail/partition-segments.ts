/**
 * The partition health bar's geometry, from the API's compact status ranges (never one item per
 * partition): a 1-D bar of pixel segments, or a 2-D grid of rectangles for multi-partitions.
 */
import type { PartitionStatusRange } from "@baton/webserver/api-types";

export type PartitionState = PartitionStatusRange["status"];
export type Range = Pick<PartitionStatusRange, "status" | "start" | "end">;

export const PARTITION_STATES: readonly PartitionState[] = [
  "materialized",
  "failed",
  "in_progress",
  "missing",
];
export const STATE_WORDS: Record<PartitionState, string> = {
  materialized: "materialized",
  failed: "failed",
  in_progress: "in progress",
  missing: "missing",
};

/** One run of pixels of one status, and the partition indices (inclusive) under it. */
export interface Segment {
  readonly status: PartitionState;
  /** Pixels from the bar's left edge. */
  readonly x: number;
  readonly width: number;
  readonly start: number;
  readonly end: number;
}

const SLOT: Record<PartitionState, number> = { materialized: 0, failed: 1, in_progress: 2, missing: 3 };

/**
 * Ranges → pixel segments over `width` pixels, in O(ranges + width) whatever the partition count.
 * A pixel holding several statuses shows what needs attention: failed, then in progress, then
 * whichever of materialized / missing covers more of it — so one failed partition among a million
 * is still a visible pixel, while a 5%-materialized stretch does not look complete.
 * Adjacent pixels of one status merge into one segment.
 */
export function rangesToSegments(ranges: readonly Range[], total: number, width: number): Segment[] {
  const w = Math.max(0, Math.floor(width));
  if (total <= 0 || w === 0) return [];
  const cover = new Float64Array(w * 4);
  const scale = w / total;
  for (const r of ranges) {
    const a = Math.max(0, r.start) * scale;
    const b = Math.min(total, r.end + 1) * scale;
    if (b <= a) continue;
    const slot = SLOT[r.status];
    const first = Math.floor(a);
    const last = Math.min(w - 1, Math.ceil(b) - 1);
    for (let px = first; px <= last; px++) {
      const overlap = Math.min(b, px + 1) - Math.max(a, px);
      if (overlap > 0) cover[px * 4 + slot]! += overlap;
    }
  }
  const segments: Segment[] = [];
  let runStatus: PartitionState | null = null;
  let runX = 0;
  const close = (endPx: number) => {
    if (runStatus === null) return;
    segments.push({
      status: runStatus,
      x: runX,
      width: endPx - runX,
      start: Math.floor(runX / scale + 1e-9),
      end: Math.min(total - 1, Math.ceil(endPx / scale - 1e-9) - 1),
    });
  };
  for (let px = 0; px < w; px++) {
    const o = px * 4;
    const status: PartitionState | null =
      cover[o + 1]! > 0
        ? "failed"
        : cover[o + 2]! > 0
          ? "in_progress"
          : cover[o]! === 0 && cover[o + 3]! === 0
            ? null
            : cover[o]! > cover[o + 3]!
              ? "materialized"
              : "missing";
    if (status !== runStatus) {
      close(px);
      runStatus = status;
      runX = px;
    }
  }
  close(w);
  return segments;
}

/** The partition index under pixel `x` of a bar `width` pixels wide. */
export function indexAtX(x: number, total: number, width: number): number {
  if (total <= 0 || width <= 0) return -1;
  return Math.min(total - 1, Math.max(0, Math.floor((x / width) * total)));
}

/** The range holding `index` (binary search; ranges are consecutive and in index order). */
export function rangeAt<R extends Range>(ranges: readonly R[], index: number): R | undefined {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    if (index < r.start) hi = mid - 1;
    else if (index > r.end) lo = mid + 1;
    else return r;
  }
  return undefined;
}

/** A rectangle of grid cells of one status: `rows` full rows of `cols` cells from (row, col). */
export interface GridRect {
  readonly status: PartitionState;
  readonly row: number;
  readonly col: number;
  readonly rows: number;
  readonly cols: number;
}

/**
 * Multi-partitions: the grid has one row per key of the first dimension and one column per
 * combination of the others (index = row * columns + column, the last dimension varying fastest:
 * see MULTI_ORDER in the webserver's api/assets.ts). A range is a run of cells read row by row, so
 * it is at most three rectangles: the tail of its first row, whole rows, the head of its last row.
 */
export function rangeToGridRects(range: Range, columns: number): GridRect[] {
  if (columns <= 0 || range.end < range.start) return [];
  const { status } = range;
  const r0 = Math.floor(range.start / columns);
  const c0 = range.start % columns;
  const r1 = Math.floor(range.end / columns);
  const c1 = range.end % columns;
  if (r0 === r1) return [{ status, row: r0, col: c0, rows: 1, cols: c1 - c0 + 1 }];
  const rects: GridRect[] = [];
  let firstFull = r0;
  if (c0 > 0) {
    rects.push({ status, row: r0, col: c0, rows: 1, cols: columns - c0 });
    firstFull = r0 + 1;
  }
  let lastFull = r1;
  if (c1 < columns - 1) lastFull = r1 - 1;
  if (lastFull >= firstFull)
    rects.push({ status, row: firstFull, col: 0, rows: lastFull - firstFull + 1, cols: columns });
  if (c1 < columns - 1) rects.push({ status, row: r1, col: 0, rows: 1, cols: c1 + 1 });
  return rects;
}

export function rangesToGridRects(ranges: readonly Range[], columns: number): GridRect[] {
  const out: GridRect[] = [];
  for (const r of ranges) for (const rect of rangeToGridRects(r, columns)) out.push(rect);
  return out;
}

/** Per-dimension indices of a multi-partition index (row-major, the last dimension fastest). */
export function dimensionIndices(index: number, sizes: readonly number[]): number[] {
  const out = new Array<number>(sizes.length);
  let rest = index;
  for (let d = sizes.length - 1; d >= 0; d--) {
    const size = sizes[d]!;
    out[d] = rest % size;
    rest = Math.floor(rest / size);
  }
  return out;
}

/** The multi-partition key at `index` when every dimension's keys are known (joined with `|`). */
export function multiKeyAt(
  index: number,
  dimensions: readonly { size: number; keys?: readonly string[] | undefined }[],
): string | null {
  if (dimensions.some((d) => !d.keys)) return null;
  const idx = dimensionIndices(
    index,
    dimensions.map((d) => d.size),
  );
  return idx.map((i, d) => dimensions[d]!.keys![i]).join("|");
}
