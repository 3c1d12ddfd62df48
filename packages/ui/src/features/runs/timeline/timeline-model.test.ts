import type { StepSummary } from "@baton/webserver/api-types";
import { describe, expect, it } from "vitest";
import {
  buildTimeline,
  describeTimeline,
  extent,
  fitView,
  formatOffset,
  hitSpan,
  MIN_MS_PER_PX,
  panBy,
  spanX,
  ticks,
  timeToX,
  truncateStart,
  visibleRows,
  xToTime,
  zoomAt,
} from "./timeline-model";

const T = 1_700_000_000_000;

function step(key: string, over: Partial<StepSummary> = {}): StepSummary {
  return {
    stepKey: key,
    assetKeys: [key],
    status: "not_started",
    startedAt: null,
    endedAt: null,
    durationMs: null,
    attempts: 0,
    attemptSpans: [],
    reason: null,
    error: null,
    materializations: [],
    checks: [],
    ...over,
  };
}

const steps: StepSummary[] = [
  step("a", {
    status: "succeeded",
    attemptSpans: [{ attempt: 1, startedAt: T, endedAt: T + 1000, outcome: "succeeded" }],
  }),
  step("b", {
    status: "running",
    attemptSpans: [
      { attempt: 1, startedAt: T + 1000, endedAt: T + 1500, outcome: "retried" },
      { attempt: 2, startedAt: T + 2500, endedAt: null, outcome: "running" },
    ],
  }),
  step("c", { status: "skipped", reason: 'blocking check "a:ok" failed' }),
];

describe("step timeline model", () => {
  it("builds rows once, with the origin, the last end, open attempts and counts", () => {
    const m = buildTimeline(steps, T - 200);
    expect(m.rows.map((r) => r.stepKey)).toEqual(["a", "b", "c"]);
    expect(m.index.get("b")).toBe(1);
    expect(m.origin).toBe(T - 200);
    expect(m.lastEnd).toBe(T + 1500);
    expect(m.open).toBe(1);
    expect(m.counts).toMatchObject({ succeeded: 1, running: 1, skipped: 1, failed: 0 });
    expect(m.rows[2]!.reason).toBe('blocking check "a:ok" failed');
    // The spans are the response's own arrays (no copies per response).
    expect(m.rows[1]!.spans).toBe(steps[1]!.attemptSpans);
    // Without a run start, the first attempt is the origin.
    expect(buildTimeline(steps, null).origin).toBe(T);
    expect(buildTimeline([step("x")], null).origin).toBeNull();
  });

  it("describes itself in words", () => {
    expect(describeTimeline(buildTimeline(steps, T))).toBe(
      "3 steps: 1 running, 1 succeeded, 1 skipped; 1 retry.",
    );
    expect(describeTimeline(buildTimeline([], null))).toBe("No steps yet.");
  });

  it("extends to now while something runs, fits the extent in the width", () => {
    const m = buildTimeline(steps, T);
    expect(extent(m, T + 10_000, false)).toEqual([T, T + 10_000]);
    const done = buildTimeline([steps[0]!], T);
    expect(extent(done, T + 10_000, false)).toEqual([T, T + 1000]);
    // A 5 ms run is shown over 20 ms once ended, over a second while it goes on.
    const quick = buildTimeline(
      [step("q", { attemptSpans: [{ attempt: 1, startedAt: T, endedAt: T + 5, outcome: "succeeded" }] })],
      T,
    );
    expect(extent(quick, T + 10, false)).toEqual([T, T + 20]);
    expect(extent(quick, T + 10, true)).toEqual([T, T + 1000]);
    const v = fitView(m, T + 10_000, false, 1000);
    expect(timeToX(T, v)).toBeGreaterThan(0);
    expect(timeToX(T + 10_000, v)).toBeLessThan(1000);
    expect(timeToX(T + 10_000, v)).toBeGreaterThan(950);
  });

  it("zooms around the cursor and pans by pixels", () => {
    const v = { start: T, msPerPx: 10 };
    const z = zoomAt(v, 2, 300);
    expect(z.msPerPx).toBe(5);
    expect(xToTime(300, z)).toBeCloseTo(xToTime(300, v));
    expect(zoomAt(v, 1e9, 0).msPerPx).toBe(MIN_MS_PER_PX);
    expect(panBy(v, 100).start).toBe(T - 1000);
  });

  it("finds the rows in view (culling) and the attempt under the pointer", () => {
    expect(visibleRows(0, 100, 20, 10_000)).toEqual({ first: 0, last: 5 });
    expect(visibleRows(199_990, 100, 20, 10_000)).toEqual({ first: 9999, last: 10_000 });
    expect(visibleRows(50, 100, 20, 3)).toEqual({ first: 2, last: 3 });
    const m = buildTimeline(steps, T);
    const v = { start: T, msPerPx: 10 };
    const b = m.rows[1]!;
    expect(hitSpan(b, 120, v, T + 4000)).toBe(0); // T+1200: the retried attempt
    expect(hitSpan(b, 200, v, T + 4000)).toBe(-1); // T+2000: waiting to retry
    expect(hitSpan(b, 320, v, T + 4000)).toBe(1); // running, drawn up to now
    expect(hitSpan(b, 500, v, T + 4000)).toBe(-1);
    expect(spanX(b.spans[1]!, v, T + 4000)).toEqual([250, 400]);
    // A zero-length attempt is still visible.
    expect(spanX({ attempt: 1, startedAt: T, endedAt: T, outcome: "failed" }, v, T)).toEqual([0, 2]);
  });

  it("puts axis ticks at round offsets from the run's start", () => {
    const { step: s, ticks: t } = ticks({ start: T - 500, msPerPx: 100 }, 1000, T);
    expect(s).toBe(10_000);
    expect(t[0]).toEqual({ x: 5, offset: 0 });
    expect(t[1]!.offset).toBe(10_000);
    expect(formatOffset(850, 100)).toBe("+850 ms");
    expect(formatOffset(1500, 500)).toBe("+1.5 s");
    expect(formatOffset(12_000, 1000)).toBe("+12 s");
    expect(formatOffset(150_000, 30_000)).toBe("+2:30");
    expect(formatOffset(3_900_000, 600_000)).toBe("+1:05:00");
  });

  it("truncates long step keys from the start", () => {
    expect(truncateStart("taxi/clean_trips", 40)).toBe("taxi/clean_trips");
    expect(truncateStart("taxi/clean_trips:no_negative_fares", 12)).toBe("…ative_fares");
  });
});
