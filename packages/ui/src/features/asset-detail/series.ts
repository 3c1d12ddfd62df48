/** Numeric metadata over time: which series exist, and a sentence that describes one. */
import type { MaterializationEvent, MetadataSeries } from "@baton/webserver/api-types";
import { formatDuration, formatNumber, NUMERIC_TYPES } from "./metadata";

export interface SeriesName {
  readonly name: string;
  readonly type: string;
  /** In how many of the given materializations it appears. */
  readonly count: number;
}

/** The numeric metadata names seen in these materializations, most frequent first. */
export function numericSeriesNames(
  materializations: readonly Pick<MaterializationEvent, "metadata">[],
): SeriesName[] {
  const seen = new Map<string, { type: string; count: number }>();
  for (const m of materializations)
    for (const [name, v] of Object.entries(m.metadata))
      if (NUMERIC_TYPES.has(v.type)) {
        const s = seen.get(name);
        if (s) s.count++;
        else seen.set(name, { type: v.type, count: 1 });
      }
  return [...seen]
    .map(([name, s]) => ({ name, ...s }))
    .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
}

export function formatSeriesValue(value: number, type: string | undefined): string {
  return type === "duration_ms" ? formatDuration(value) : formatNumber(value);
}

/** Points sorted by time, as uPlot's columns (seconds on x). */
export function seriesColumns(points: MetadataSeries["points"]): [number[], number[]] {
  const sorted = [...points].sort((a, b) => a.timestamp - b.timestamp);
  return [sorted.map((p) => p.timestamp / 1000), sorted.map((p) => p.value)];
}

/** "rows over time: 4 points, last 12,345, min 10, max 12,345" — the chart's accessible name. */
export function seriesSummary(name: string, points: MetadataSeries["points"], type?: string): string {
  if (points.length === 0) return `${name} over time: no points yet`;
  const [, values] = seriesColumns(points);
  const fmt = (v: number) => formatSeriesValue(v, type);
  const last = values[values.length - 1]!;
  const min = Math.min(...values);
  const max = Math.max(...values);
  const n = points.length;
  return `${name} over time: ${formatNumber(n)} point${n === 1 ? "" : "s"}, last ${fmt(last)}${
    n > 1 ? `, min ${fmt(min)}, max ${fmt(max)}` : ""
  }`;
}
