import { describe, expect, it } from "vitest";
import { numericSeriesNames, seriesColumns, seriesSummary } from "./series";

const point = (timestamp: number, value: number) => ({ timestamp, value, partition: null, runId: "r" });

describe("series", () => {
  it("lists numeric metadata names, most frequent first", () => {
    const names = numericSeriesNames([
      { metadata: { rows: { type: "row_count", value: 1 }, path: { type: "path", value: "/x" } } },
      { metadata: { rows: { type: "row_count", value: 2 }, ms: { type: "duration_ms", value: 3 } } },
      { metadata: { a: { type: "number", value: 3 } } },
    ]);
    expect(names).toEqual([
      { name: "rows", type: "row_count", count: 2 },
      { name: "a", type: "number", count: 1 },
      { name: "ms", type: "duration_ms", count: 1 },
    ]);
  });

  it("sorts points by time into uPlot columns (seconds) and summarises them in words", () => {
    const points = [point(3000, 12345), point(1000, 10), point(2000, 500), point(4000, 12345)];
    expect(seriesColumns(points)).toEqual([
      [1, 2, 3, 4],
      [10, 500, 12345, 12345],
    ]);
    expect(seriesSummary("rows", points)).toBe("rows over time: 4 points, last 12,345, min 10, max 12,345");
    expect(seriesSummary("took", [point(1, 1500)], "duration_ms")).toBe(
      "took over time: 1 point, last 1.50 s",
    );
    expect(seriesSummary("rows", [])).toBe("rows over time: no points yet");
  });
});
