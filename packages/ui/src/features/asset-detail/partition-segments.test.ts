import { describe, expect, it } from "vitest";
import {
  dimensionIndices,
  indexAtX,
  multiKeyAt,
  type Range,
  rangeAt,
  rangesToGridRects,
  rangesToSegments,
  rangeToGridRects,
} from "./partition-segments";

const r = (status: Range["status"], start: number, end: number): Range => ({ status, start, end });

describe("rangesToSegments", () => {
  it("maps ranges to pixels one to one when partitions are wider than pixels", () => {
    const segs = rangesToSegments([r("materialized", 0, 4), r("missing", 5, 9)], 10, 100);
    expect(segs).toEqual([
      { status: "materialized", x: 0, width: 50, start: 0, end: 4 },
      { status: "missing", x: 50, width: 50, start: 5, end: 9 },
    ]);
  });

  it("merges adjacent ranges of one status into one segment", () => {
    const segs = rangesToSegments([r("materialized", 0, 1), r("materialized", 2, 3)], 4, 40);
    expect(segs).toEqual([{ status: "materialized", x: 0, width: 40, start: 0, end: 3 }]);
  });

  it("keeps one failed partition among a million visible as a pixel", () => {
    const total = 1_000_000;
    const segs = rangesToSegments(
      [r("materialized", 0, 499_999), r("failed", 500_000, 500_000), r("materialized", 500_001, total - 1)],
      total,
      1000,
    );
    expect(segs.map((s) => [s.status, s.x, s.width])).toEqual([
      ["materialized", 0, 500],
      ["failed", 500, 1],
      ["materialized", 501, 499],
    ]);
    expect(segs[1]).toMatchObject({ start: 500_000, end: 500_999 });
  });

  it("shows in progress over materialized/missing, and the majority of those two otherwise", () => {
    // 10 partitions over 2 pixels: pixel 0 = partitions 0-4, pixel 1 = 5-9
    expect(
      rangesToSegments(
        [r("materialized", 0, 1), r("missing", 2, 4), r("in_progress", 5, 5), r("missing", 6, 9)],
        10,
        2,
      ).map((s) => s.status),
    ).toEqual(["missing", "in_progress"]);
    expect(rangesToSegments([r("materialized", 0, 2), r("missing", 3, 4)], 5, 1)[0]!.status).toBe(
      "materialized",
    );
  });

  it("bounds the output: 1,000 ranges over 1,000,000 partitions give at most one segment per pixel", () => {
    const ranges: Range[] = [];
    for (let i = 0; i < 500; i++) {
      ranges.push(r("materialized", i * 2000, i * 2000 + 99));
      ranges.push(r("missing", i * 2000 + 100, i * 2000 + 1999));
    }
    const segs = rangesToSegments(ranges, 1_000_000, 1200);
    expect(segs.length).toBeLessThanOrEqual(1200);
    expect(segs.reduce((n, s) => n + s.width, 0)).toBe(1200);
    // 5% materialized, spread thinly: reads as missing rather than as complete
    expect(segs.every((s) => s.status === "missing")).toBe(true);
  });

  it("answers nothing for an empty key space or a bar without width", () => {
    expect(rangesToSegments([], 0, 100)).toEqual([]);
    expect(rangesToSegments([r("missing", 0, 9)], 10, 0)).toEqual([]);
  });
});

describe("hit testing", () => {
  it("finds the index under a pixel and the range holding an index", () => {
    expect(indexAtX(0, 10, 100)).toBe(0);
    expect(indexAtX(99.9, 10, 100)).toBe(9);
    expect(indexAtX(150, 10, 100)).toBe(9);
    const ranges = [r("materialized", 0, 4), r("failed", 5, 5), r("missing", 6, 9)];
    expect(rangeAt(ranges, 5)?.status).toBe("failed");
    expect(rangeAt(ranges, 9)?.status).toBe("missing");
    expect(rangeAt(ranges, 10)).toBeUndefined();
  });
});

describe("grid (multi-partitions)", () => {
  it("splits a wrapped range into the tail of its first row, whole rows and the head of its last row", () => {
    // 3 columns; cells 2..10 = row 0 col 2, rows 1-2 whole, row 3 cols 0-1
    expect(rangeToGridRects(r("materialized", 2, 10), 3)).toEqual([
      { status: "materialized", row: 0, col: 2, rows: 1, cols: 1 },
      { status: "materialized", row: 1, col: 0, rows: 2, cols: 3 },
      { status: "materialized", row: 3, col: 0, rows: 1, cols: 2 },
    ]);
  });

  it("keeps a range inside one row as one rectangle and aligned rows as one block", () => {
    expect(rangeToGridRects(r("failed", 4, 4), 2)).toEqual([
      { status: "failed", row: 2, col: 0, rows: 1, cols: 1 },
    ]);
    expect(rangeToGridRects(r("missing", 0, 63), 2)).toEqual([
      { status: "missing", row: 0, col: 0, rows: 32, cols: 2 },
    ]);
  });

  it("covers every cell exactly once", () => {
    const ranges = [r("materialized", 0, 6), r("failed", 7, 7), r("missing", 8, 19)];
    const cells = new Map<string, string>();
    for (const rect of rangesToGridRects(ranges, 4))
      for (let y = rect.row; y < rect.row + rect.rows; y++)
        for (let x = rect.col; x < rect.col + rect.cols; x++) {
          expect(cells.has(`${y},${x}`)).toBe(false);
          cells.set(`${y},${x}`, rect.status);
        }
    expect(cells.size).toBe(20);
    expect(cells.get("1,3")).toBe("failed");
  });

  it("decomposes an index into dimension indices, last dimension fastest, and names its key", () => {
    expect(dimensionIndices(5, [32, 2])).toEqual([2, 1]);
    expect(dimensionIndices(23, [2, 3, 4])).toEqual([1, 2, 3]);
    const dims = [
      { size: 3, keys: ["2019-01", "2019-02", "2019-03"] },
      { size: 2, keys: ["yellow", "green"] },
    ];
    expect(multiKeyAt(3, dims)).toBe("2019-02|green");
    expect(multiKeyAt(3, [{ size: 3 }, { size: 2, keys: ["a", "b"] }])).toBeNull();
  });
});
