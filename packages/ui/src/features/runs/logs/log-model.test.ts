import type { RunEvent } from "@baton/webserver/api-types";
import { describe, expect, it } from "vitest";
import {
  DEBUG,
  ERROR,
  INFO,
  type LogFilter,
  LogStore,
  lineText,
  logFileText,
  matchRanges,
  nextPosition,
  ordinalOf,
  positionOfLine,
  toLine,
  viewOf,
  WARN,
} from "./log-model";

const RUN = "r1";
let nextId = 1;
const ev = (body: Record<string, unknown>, id = nextId++): RunEvent =>
  ({ id, runId: RUN, timestamp: Date.UTC(2026, 0, 2, 3, 4, 5, 678), ...body }) as unknown as RunEvent;
const log = (level: string, message: string, stepKey?: string, id?: number, source = "logger") =>
  ev({ type: "log", level, message, source, ...(stepKey ? { stepKey } : {}) }, id);

const ALL: LogFilter = { minLevel: DEBUG, step: null, query: "", onlyMatches: false };

describe("toLine: events as rows", () => {
  it("step lifecycle events read as sentences at sensible levels", () => {
    const started = toLine(
      ev({ type: "step_started", stepKey: "a", kind: "asset", assetKeys: ["a"], attempt: 2 }),
    );
    expect([started.message, started.level, started.step]).toEqual(["step started (attempt 2)", INFO, "a"]);
    expect(
      toLine(ev({ type: "step_started", stepKey: "a", kind: "asset", assetKeys: ["a"], attempt: 1 })).message,
    ).toBe("step started");
    expect(toLine(ev({ type: "step_succeeded", stepKey: "a", durationMs: 1234 })).message).toBe(
      "succeeded in 1.2 s",
    );
    const skipped = toLine(
      ev({
        type: "step_skipped",
        stepKey: "b",
        assetKeys: ["b"],
        reason: 'blocking check "a:fresh" failed',
        cause: "a:fresh",
      }),
    );
    expect([skipped.message, skipped.level]).toEqual(['skipped: blocking check "a:fresh" failed', WARN]);
    const canceled = toLine(ev({ type: "run_canceled", reason: "canceled by alice" }));
    expect([canceled.message, canceled.level]).toEqual(["run canceled: canceled by alice", WARN]);
    expect(toLine(ev({ type: "op_started", stepKey: "m", op: "load" })).level).toBe(DEBUG);
    expect(toLine(ev({ type: "run_started", steps: [{}, {}] })).message).toBe("run started · 2 steps");
  });

  it("materializations and checks name the asset or check and the row count", () => {
    const m = toLine(
      ev({
        type: "materialization",
        stepKey: "taxi/clean_trips",
        assetKey: "taxi/clean_trips",
        partition: "2019-01",
        metadata: { path: { type: "path", value: "/w/x" }, rows: { type: "row_count", value: 1234 } },
      }),
    );
    expect(m.message).toBe("materialized taxi/clean_trips · partition 2019-01 · rows 1,234 · path /w/x");
    expect(m.level).toBe(INFO);
    const check = (passed: boolean, blocking: boolean, severity: string) =>
      toLine(
        ev({
          type: "check_evaluation",
          stepKey: "c",
          assetKey: "taxi/trips",
          checkName: "no_negative_fares",
          passed,
          blocking,
          severity,
          metadata: {},
        }),
      );
    expect([check(false, true, "ERROR").message, check(false, true, "ERROR").level]).toEqual([
      "check no_negative_fares failed (blocking)",
      ERROR,
    ]);
    expect([check(false, false, "WARN").message, check(false, false, "WARN").level]).toEqual([
      "check no_negative_fares failed (warn)",
      WARN,
    ]);
    expect([check(true, true, "ERROR").message, check(true, true, "ERROR").level]).toEqual([
      "check no_negative_fares passed",
      INFO,
    ]);
  });

  it("failures are errors with the message inline and the stack and causes behind it", () => {
    const line = toLine(
      ev({
        type: "step_failed",
        stepKey: "a",
        assetKeys: ["a"],
        durationMs: 40,
        attempt: 1,
        error: {
          name: "UserCodeError",
          message: "the warehouse refused the load",
          stack: "UserCodeError: the warehouse refused the load\n    at body (defs.ts:3:9)",
          cause: {
            name: "Error",
            message: "disk quota exceeded",
            stack: "Error: disk quota exceeded\n    at x",
          },
        },
      }),
    );
    expect(line.level).toBe(ERROR);
    expect(line.message).toBe("failed after 40 ms: UserCodeError: the warehouse refused the load");
    expect(line.detail).toBe("    at body (defs.ts:3:9)\nCaused by: disk quota exceeded\n    at x");
    const retry = toLine(
      ev({
        type: "step_retrying",
        stepKey: "a",
        attempt: 1,
        delayMs: 2000,
        error: { name: "Error", message: "flaky" },
      }),
    );
    expect([retry.message, retry.level, retry.detail]).toEqual([
      "attempt 1 failed, retrying in 2.0 s: flaky",
      WARN,
      null,
    ]);
  });

  it("log lines keep their level, source and step; fields follow the message", () => {
    const out = toLine(log("debug", "Hello World", "a", undefined, "stdout"));
    expect([out.level, out.source, out.step, out.lower]).toEqual([DEBUG, "stdout", "a", "hello world"]);
    const f = toLine(
      ev({ type: "log", level: "warn", message: "slow", source: "logger", fields: { ms: 5 } }),
    );
    expect([f.message, f.level, f.step]).toEqual(['slow {"ms":5}', WARN, null]);
  });
});

describe("LogStore: event-id order, each event once", () => {
  it("drops repeats, puts late events in their place, and knows the last id and the steps", () => {
    const store = new LogStore();
    expect(store.add([log("info", "1", "a", 1), log("info", "2", "b", 2), log("info", "4", "a", 4)])).toBe(3);
    // a resumed stream repeating what a page already had, and an older event arriving late
    expect(store.add([log("info", "2", "b", 2), log("info", "4", "a", 4), log("info", "3", "c", 3)])).toBe(1);
    expect(store.add([log("info", "5", "a", 5)])).toBe(1);
    expect(store.lines.map((l) => l.id)).toEqual([1, 2, 3, 4, 5]);
    expect(store.lastId).toBe(5);
    expect(store.reorders).toBe(1);
    expect([...store.steps].sort()).toEqual(["a", "b", "c"]);
    expect(store.indexOf(4)).toBe(3);
    expect(store.indexOf(99)).toBe(-1);
  });
});

describe("viewOf: filtering, search, errors", () => {
  const store = new LogStore();
  store.add([
    log("debug", "connecting", "a", 1),
    log("info", "Loaded 10 rows", "a", 2),
    log("warn", "slow query", "b", 3),
    log("error", "load failed: ROWS missing", "b", 4),
    log("info", "rows written", "a", 5),
    log("error", "gave up", "a", 6),
  ]);

  it("minimum level and step", () => {
    expect(viewOf(store, ALL).rows).toEqual([0, 1, 2, 3, 4, 5]);
    expect(viewOf(store, { ...ALL, minLevel: WARN }).rows).toEqual([2, 3, 5]);
    expect(viewOf(store, { ...ALL, step: "b" }).rows).toEqual([2, 3]);
    expect(viewOf(store, { ...ALL, minLevel: ERROR, step: "a" }).rows).toEqual([5]);
  });

  it("search matches case-insensitively (positions in the filtered rows); only-matches hides the rest", () => {
    const v = viewOf(store, { ...ALL, minLevel: INFO, query: "  ROWS " });
    expect(v.rows).toEqual([1, 2, 3, 4, 5]);
    expect(v.matches).toEqual([0, 2, 3]);
    expect(v.errors).toEqual([2, 4]);
    const only = viewOf(store, { ...ALL, query: "rows", onlyMatches: true });
    expect(only.rows).toEqual([1, 3, 4]);
    expect(only.matches).toEqual([0, 1, 2]);
    expect(matchRanges("rows and rows", "rows")).toEqual([
      [0, 4],
      [9, 13],
    ]);
    expect(matchRanges("abc", "")).toEqual([]);
  });

  it("extends in place as lines arrive, as a rebuild would; rebuilds after a reorder or a new filter", () => {
    const s = new LogStore();
    s.add([log("info", "x", "a", 10), log("error", "boom x", "a", 20)]);
    const filter = { ...ALL, query: "x" };
    const v1 = viewOf(s, filter);
    s.add([log("info", "y", "a", 30), log("error", "x again", "b", 40)]);
    const v2 = viewOf(s, filter, v1);
    expect(v2).toBe(v1);
    expect(v2.rows).toEqual(viewOf(s, filter).rows);
    expect(v2.matches).toEqual([0, 1, 3]);
    expect(v2.errors).toEqual([1, 3]);
    s.add([log("warn", "late x", "a", 15)]);
    const v3 = viewOf(s, filter, v2);
    expect(v3).not.toBe(v2);
    expect(v3.rows.map((i) => s.lines[i]!.id)).toEqual([10, 15, 20, 30, 40]);
    expect(viewOf(s, { ...filter, minLevel: ERROR }, v3)).not.toBe(v3);
    const other = new LogStore();
    other.add([log("info", "x", "a", 10)]);
    expect(viewOf(other, filter, v3).store).toBe(other);
  });
});

describe("navigation", () => {
  it("next and previous wrap around; from -1 is before the first row", () => {
    const errors = [3, 10, 42];
    expect(nextPosition(errors, -1, 1)).toBe(3);
    expect(nextPosition(errors, 3, 1)).toBe(10);
    expect(nextPosition(errors, 11, 1)).toBe(42);
    expect(nextPosition(errors, 42, 1)).toBe(3);
    expect(nextPosition(errors, 10, -1)).toBe(3);
    expect(nextPosition(errors, 3, -1)).toBe(42);
    expect(nextPosition(errors, 100, -1)).toBe(42);
    expect(nextPosition([], 0, 1)).toBe(-1);
    expect(ordinalOf(errors, 10)).toBe(2);
    expect(ordinalOf(errors, 11)).toBe(0);
  });

  it("a line's row, or the next row shown when it is filtered out", () => {
    const store = new LogStore();
    store.add([log("info", "a", "a", 1), log("debug", "b", "a", 2), log("info", "c", "a", 3)]);
    const v = viewOf(store, { ...ALL, minLevel: INFO });
    expect(positionOfLine(v, 0)).toBe(0);
    expect(positionOfLine(v, 1)).toBe(1);
    expect(positionOfLine(v, 2)).toBe(1);
  });
});

describe("download text", () => {
  it("one line per event (ISO time, level, step, source), stacks indented below", () => {
    const store = new LogStore();
    store.add([
      log("info", "hello", "a", 1, "stdout"),
      ev(
        {
          type: "run_failed",
          reason: "step a failed",
          error: { name: "Error", message: "boom", stack: "Error: boom\n    at f (x.ts:1:1)" },
        },
        2,
      ),
    ]);
    expect(lineText(store.lines[0]!)).toBe("2026-01-02T03:04:05.678Z INFO  a [stdout] hello");
    expect(logFileText(store.lines)).toBe(
      "2026-01-02T03:04:05.678Z INFO  a [stdout] hello\n" +
        "2026-01-02T03:04:05.678Z ERROR - run failed: step a failed — boom\n" +
        "        at f (x.ts:1:1)\n",
    );
    expect(logFileText(store.lines, [0])).toBe("2026-01-02T03:04:05.678Z INFO  a [stdout] hello\n");
    expect(logFileText(store.lines, [])).toBe("");
  });
});
