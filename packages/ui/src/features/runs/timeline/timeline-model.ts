/**
 * The step timeline's model and geometry, free of React and the DOM (unit-tested): rows built once
 * per run response, the time ↔ pixel mapping of a view, zoom and fit, the rows in view, hit tests
 * and axis ticks. The canvas (StepTimeline.tsx) only draws what these functions say is visible.
 */
import type { StepSummary } from "@baton/webserver/api-types";

export type Outcome = StepSummary["attemptSpans"][number]["outcome"];
export type StepStatus = StepSummary["status"];

/** Legend order, with the CSS variable each outcome is painted in and its word. */
export const OUTCOMES: readonly { outcome: Outcome; word: string; cssVar: string }[] = [
  { outcome: "succeeded", word: "succeeded", cssVar: "--st-materialized" },
  { outcome: "running", word: "running", cssVar: "--st-running" },
  { outcome: "retried", word: "failed, retried", cssVar: "--st-stale" },
  { outcome: "failed", word: "failed", cssVar: "--st-failed" },
  { outcome: "canceled", word: "canceled", cssVar: "--st-missing" },
];

export interface Span {
  readonly attempt: number;
  readonly startedAt: number;
  /** null while it runs (drawn up to now). */
  readonly endedAt: number | null;
  readonly outcome: Outcome;
}

export interface TimelineRow {
  readonly stepKey: string;
  readonly status: StepStatus;
  readonly spans: readonly Span[];
  /** Why it was skipped or canceled, or its error message. */
  readonly reason: string | null;
}

export interface TimelineModel {
  readonly rows: readonly TimelineRow[];
  /** Row index by step key. */
  readonly index: ReadonlyMap<string, number>;
  /** The timeline's origin: the run's start, else its first attempt (null: nothing started). */
  readonly origin: number | null;
  /** The last end of an ended attempt (null: none ended). */
  readonly lastEnd: number | null;
  /** Attempts still running. */
  readonly open: number;
  readonly counts: Readonly<Record<StepStatus, number>>;
}

const ZERO_COUNTS: Record<StepStatus, number> = {
  not_started: 0,
  running: 0,
  succeeded: 0,
  failed: 0,
  skipped: 0,
  canceled: 0,
};

/** Once per run response: O(steps + attempts), no copies of the spans. */
export function buildTimeline(steps: readonly StepSummary[], runStartedAt: number | null): TimelineModel {
  const rows: TimelineRow[] = new Array(steps.length);
  const index = new Map<string, number>();
  const counts = { ...ZERO_COUNTS };
  let first = Number.POSITIVE_INFINITY;
  let lastEnd = Number.NEGATIVE_INFINITY;
  let open = 0;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    rows[i] = {
      stepKey: s.stepKey,
      status: s.status,
      spans: s.attemptSpans,
      reason: s.error?.message ?? s.reason,
    };
    index.set(s.stepKey, i);
    counts[s.status] = (counts[s.status] ?? 0) + 1;
    for (const a of s.attemptSpans) {
      if (a.startedAt < first) first = a.startedAt;
      if (a.endedAt === null) open++;
      else if (a.endedAt > lastEnd) lastEnd = a.endedAt;
    }
  }
  const origin = runStartedAt ?? (Number.isFinite(first) ? first : null);
  return {
    rows,
    index,
    origin: origin !== null && Number.isFinite(first) ? Math.min(origin, first) : origin,
    lastEnd: Number.isFinite(lastEnd) ? lastEnd : null,
    open,
    counts,
  };
}

/** The time axis of the plot: `start` ms at x = 0, `msPerPx` ms per CSS pixel. */
export interface TimeView {
  readonly start: number;
  readonly msPerPx: number;
}

export const MIN_MS_PER_PX = 0.05; // 20 px per millisecond
export const MAX_MS_PER_PX = 24 * 3_600_000; // a day per pixel

export const clampScale = (msPerPx: number) => Math.min(MAX_MS_PER_PX, Math.max(MIN_MS_PER_PX, msPerPx));

export const timeToX = (t: number, view: TimeView) => (t - view.start) / view.msPerPx;
export const xToTime = (x: number, view: TimeView) => view.start + x * view.msPerPx;

/**
 * The time range worth showing: origin → the last end, or now while something runs. At least 1 s
 * while live (a run that just started is not zoomed to its first milliseconds), 20 ms once ended.
 */
export function extent(model: TimelineModel, now: number, live: boolean): [number, number] | null {
  if (model.origin === null) return null;
  let end = model.lastEnd ?? model.origin;
  const going = model.open > 0 || live;
  if (going) end = Math.max(end, now);
  return [model.origin, Math.max(end, model.origin + (going ? 1000 : 20))];
}

/** A view showing the whole extent in `width` px, with a little room on the right. */
export function fitView(model: TimelineModel, now: number, live: boolean, width: number): TimeView {
  const range = extent(model, now, live);
  const w = Math.max(width, 1);
  if (!range) return { start: now - 30_000, msPerPx: 60_000 / w };
  const [a, b] = range;
  const msPerPx = clampScale(((b - a) * 1.04) / w);
  return { start: a - (b - a) * 0.01, msPerPx };
}

/** Zoom by `factor` (> 1 zooms in) keeping the time under `anchorX` where it is. */
export function zoomAt(view: TimeView, factor: number, anchorX: number): TimeView {
  const t = xToTime(anchorX, view);
  const msPerPx = clampScale(view.msPerPx / factor);
  return { start: t - anchorX * msPerPx, msPerPx };
}

export const panBy = (view: TimeView, dx: number): TimeView => ({
  start: view.start - dx * view.msPerPx,
  msPerPx: view.msPerPx,
});

/** Rows [first, last) that intersect a viewport `height` px tall scrolled by `scrollTop`. */
export function visibleRows(scrollTop: number, height: number, rowHeight: number, count: number) {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight));
  const last = Math.min(count, Math.ceil((scrollTop + Math.max(0, height)) / rowHeight));
  return { first, last: Math.max(first, last) };
}

/** The span's painted extent in plot pixels (running spans end at `now`; at least `minWidth` wide). */
export function spanX(span: Span, view: TimeView, now: number, minWidth = 2): [number, number] {
  const x0 = timeToX(span.startedAt, view);
  const end = span.endedAt ?? Math.max(now, span.startedAt);
  const x1 = timeToX(end, view);
  return [x0, Math.max(x1, x0 + minWidth)];
}

/** The attempt of `row` under plot x (± slop px), the last one drawn winning; -1 when none. */
export function hitSpan(row: TimelineRow, x: number, view: TimeView, now: number, slop = 3): number {
  for (let i = row.spans.length - 1; i >= 0; i--) {
    const [x0, x1] = spanX(row.spans[i]!, view, now);
    if (x >= x0 - slop && x <= x1 + slop) return i;
  }
  return -1;
}

const STEPS_MS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000,
  600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

/** Axis ticks at a round interval (relative to `origin`) at least `minPx` apart, inside [0, width]. */
export function ticks(
  view: TimeView,
  width: number,
  origin: number,
  minPx = 90,
): { step: number; ticks: { x: number; offset: number }[] } {
  const want = view.msPerPx * minPx;
  const step = STEPS_MS.find((s) => s >= want) ?? Math.ceil(want / 86_400_000) * 86_400_000;
  const out: { x: number; offset: number }[] = [];
  const t0 = xToTime(0, view);
  const t1 = xToTime(width, view);
  let k = Math.ceil((t0 - origin) / step);
  for (let n = 0; n < 1000; n++, k++) {
    const t = origin + k * step;
    if (t > t1) break;
    out.push({ x: timeToX(t, view), offset: k * step + 0 });
  }
  return { step, ticks: out };
}

/** An axis label for an offset from the run's start at this tick step: "+850 ms", "+12 s", "+2:30", "+1:05:00". */
export function formatOffset(ms: number, step: number): string {
  const sign = ms < 0 ? "−" : "+";
  const a = Math.abs(ms);
  if (step < 1000)
    return a < 1000 ? `${sign}${Math.round(a)} ms` : `${sign}${(a / 1000).toFixed(step < 100 ? 2 : 1)} s`;
  const total = Math.round(a / 1000);
  if (total < 60) return `${sign}${total} s`;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${sign}${h}:${pad(m)}:${pad(s)}` : `${sign}${m}:${pad(s)}`;
}

/** Keep the tail of a long key: "…/clean_trips:no_negative_fares" in at most `maxChars` characters. */
export function truncateStart(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  if (maxChars <= 1) return "…";
  return `…${text.slice(text.length - (maxChars - 1))}`;
}

const STATUS_WORDS: readonly [StepStatus, string][] = [
  ["running", "running"],
  ["succeeded", "succeeded"],
  ["failed", "failed"],
  ["skipped", "skipped"],
  ["canceled", "canceled"],
  ["not_started", "not started"],
];

/** The timeline in words: "12 steps: 10 succeeded, 1 failed, 1 skipped; 2 retries." */
export function describeTimeline(model: TimelineModel): string {
  const n = model.rows.length;
  if (n === 0) return "No steps yet.";
  const parts = STATUS_WORDS.filter(([s]) => model.counts[s] > 0).map(
    ([s, w]) => `${model.counts[s].toLocaleString("en")} ${w}`,
  );
  let retries = 0;
  for (const r of model.rows) if (r.spans.length > 1) retries += r.spans.length - 1;
  const retried =
    retries > 0 ? `; ${retries.toLocaleString("en")} ${retries === 1 ? "retry" : "retries"}` : "";
  return `${n.toLocaleString("en")} ${n === 1 ? "step" : "steps"}: ${parts.join(", ")}${retried}.`;
}
