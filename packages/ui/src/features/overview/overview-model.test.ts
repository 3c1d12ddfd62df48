import type {
  Backfill,
  ChecksPage,
  GraphAssetStatus,
  Health,
  Run,
  RunDetail,
  StepSummary,
} from "@baton/webserver/api-types";
import { describe, expect, it } from "vitest";
import {
  activeBackfills,
  activeRunItems,
  assetAttention,
  assetHref,
  assetsLabel,
  attentionTotal,
  capList,
  countLabel,
  failedChecks,
  failedRunItems,
  failedRunsHref,
  failureReason,
  healthView,
  plural,
  verdict,
  windowStart,
} from "./overview-model";

const status = (s: Partial<GraphAssetStatus> = {}): GraphAssetStatus => ({
  status: "materialized",
  lastMaterializedAt: 1000,
  lastRunId: null,
  running: false,
  queued: false,
  failed: false,
  stale: false,
  overdue: false,
  checks: { passed: 0, failed: 0 },
  partitions: null,
  ...s,
});

const run = (runId: string, s: Partial<Run> = {}): Run => ({
  runId,
  status: "FAILURE",
  selection: "x",
  assetKeys: ["x"],
  config: {},
  tags: {},
  parentRunId: null,
  rootRunId: null,
  createdAt: 0,
  startedAt: null,
  endedAt: null,
  partitionKeys: null,
  backfillId: null,
  priority: 0,
  request: null,
  workerId: null,
  heartbeatAt: null,
  cancelRequested: false,
  ...s,
});

const backfill = (backfillId: string, s: Partial<Backfill> = {}): Backfill => ({
  backfillId,
  status: "RUNNING",
  selection: "x",
  assetKeys: ["x"],
  partitionKeys: [],
  options: {},
  counts: { targeted: 10, materialized: 2, failed: 1, skipped: 0, canceled: 0, runs: 3 },
  error: null,
  createdAt: 0,
  updatedAt: 0,
  endedAt: null,
  ...s,
});

const step = (s: Partial<StepSummary>): StepSummary => ({
  stepKey: "a",
  assetKeys: ["a"],
  status: "succeeded",
  startedAt: null,
  endedAt: null,
  durationMs: null,
  attempts: 1,
  attemptSpans: [],
  reason: null,
  error: null,
  materializations: [],
  checks: [],
  ...s,
});

const health = (h: Partial<Health> = {}): Health => ({
  status: "ok",
  store: { dialect: "sqlite", reachable: true, latencyMs: 2 },
  daemon: { id: "d1", heartbeatAgeMs: 500 },
  workers: [{ workerId: "w1", host: "h", pid: 1, heartbeatAgeMs: 300 }],
  definitions: { hash: "x", publishedAt: 0, assets: 3 },
  definitionsLoadError: null,
  ...h,
});

describe("capList and counts", () => {
  it("cuts a list to the cap and keeps its length", () => {
    const c = capList(Array.from({ length: 25 }, (_, i) => i));
    expect(c.shown).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(c.total).toBe(25);
    expect(countLabel(c)).toBe("25");
  });
  it("marks a count the server cut as a lower bound", () => {
    const c = capList(
      Array.from({ length: 100 }, (_, i) => i),
      10,
      true,
    );
    expect(countLabel(c)).toBe("100+");
    expect(plural(c, "failed run", "failed runs")).toBe("100+ failed runs");
    expect(plural(capList([1]), "failed run", "failed runs")).toBe("1 failed run");
    expect(plural(capList([1], 10, true), "failed run", "failed runs")).toBe("1+ failed runs");
  });
  it("formats thousands", () => {
    expect(countLabel({ total: 1234, atLeast: false })).toBe("1,234");
  });
});

describe("assetAttention", () => {
  it("groups assets by what needs attention, an asset in every group it belongs to", () => {
    const a = assetAttention({
      ok: status(),
      checks: status({ checks: { passed: 1, failed: 1 } }),
      late: status({ overdue: true, stale: true, lastMaterializedAt: 50 }),
      old: status({ stale: true, lastMaterializedAt: 10 }),
    });
    expect(a.checkFailed.map((x) => x.key)).toEqual(["checks"]);
    expect(a.overdue.map((x) => x.key)).toEqual(["late"]);
    expect(a.stale.map((x) => x.key)).toEqual(["old", "late"]);
  });
  it("sorts failed checks by how many failed, then by key", () => {
    const a = assetAttention({
      b: status({ checks: { passed: 0, failed: 1 } }),
      a: status({ checks: { passed: 0, failed: 1 } }),
      c: status({ checks: { passed: 0, failed: 3 } }),
    });
    expect(a.checkFailed.map((x) => x.key)).toEqual(["c", "a", "b"]);
  });
  it("lists never-materialized overdue assets first, then the oldest", () => {
    const a = assetAttention({
      recent: status({ overdue: true, lastMaterializedAt: 900 }),
      never: status({ overdue: true, lastMaterializedAt: null }),
      old: status({ overdue: true, lastMaterializedAt: 100 }),
    });
    expect(a.overdue.map((x) => x.key)).toEqual(["never", "old", "recent"]);
  });
  it("is empty before the statuses arrive", () => {
    expect(assetAttention(undefined)).toEqual({ checkFailed: [], overdue: [], stale: [] });
  });
});

describe("failedChecks", () => {
  it("lists the failed ones, blocking first", () => {
    const check = (checkName: string, passed: boolean, blocking: boolean) => ({
      assetKey: "a",
      checkName,
      runId: "r",
      eventId: 1,
      passed,
      blocking,
      severity: "ERROR" as const,
      metadata: {},
      timestamp: 5,
    });
    const page: ChecksPage = {
      latest: [check("z_ok", true, true), check("b_warn", false, false), check("y_block", false, true)],
      history: [],
      nextCursor: null,
    };
    expect(failedChecks(page).map((c) => c.name)).toEqual(["y_block", "b_warn"]);
    expect(failedChecks(undefined)).toEqual([]);
  });
});

describe("runs and backfills", () => {
  it("lists failed runs, the latest to end first", () => {
    const runs = [
      run("a", { createdAt: 1, endedAt: 5 }),
      run("b", { createdAt: 2, endedAt: 9 }),
      run("c", { createdAt: 3, endedAt: null }),
      run("d", { status: "SUCCESS", endedAt: 100 }),
    ];
    expect(failedRunItems(runs).map((r) => r.runId)).toEqual(["b", "a", "c"]);
  });
  it("lists running runs before queued ones, each run once", () => {
    const running = [
      run("r1", { status: "STARTED", startedAt: 10 }),
      run("r2", { status: "CANCELING", startedAt: 20 }),
      run("q1", { status: "STARTING", createdAt: 1 }),
    ];
    const queued = [
      run("q1", { status: "QUEUED", createdAt: 1 }),
      run("q2", { status: "QUEUED", createdAt: 5 }),
      run("done", { status: "SUCCESS", createdAt: 6 }),
    ];
    expect(activeRunItems(running, queued).map((r) => `${r.runId}:${r.status}`)).toEqual([
      "r2:CANCELING",
      "r1:STARTED",
      "q1:STARTING",
      "q2:QUEUED",
    ]);
  });
  it("keeps backfills in progress, newest first", () => {
    const list = [
      backfill("old", { createdAt: 1 }),
      backfill("done", { status: "COMPLETED", createdAt: 9 }),
      backfill("new", { status: "REQUESTED", createdAt: 5 }),
      backfill("stopping", { status: "CANCELING", createdAt: 3 }),
      backfill("failed", { status: "FAILED", createdAt: 4 }),
    ];
    expect(activeBackfills(list).map((b) => b.backfillId)).toEqual(["new", "stopping", "old"]);
  });
  it("says why a run failed: the first failed step's error, else the run's reason", () => {
    const detail = (steps: StepSummary[], reason: string | null = null): RunDetail => ({
      run: run("r"),
      summary: { runId: "r", status: "FAILURE", startedAt: 0, endedAt: 1, durationMs: 1, reason, steps },
    });
    expect(
      failureReason(
        detail([
          step({ stepKey: "ok" }),
          step({
            stepKey: "load",
            status: "failed",
            error: { name: "Error", message: "refused\nstack line", stack: null, cause: null } as never,
          }),
        ]),
      ),
    ).toBe("load: refused");
    expect(failureReason(detail([], "the worker died"))).toBe("the worker died");
    const named = step({
      stepKey: "a/b",
      status: "failed",
      error: {
        name: "UserCodeError",
        message: 'Error in asset "a/b": boom',
        stack: null,
        cause: null,
      } as never,
    });
    expect(failureReason(detail([named]))).toBe('Error in asset "a/b": boom');
    expect(failureReason(detail([]))).toBeNull();
    expect(failureReason(undefined)).toBeNull();
  });
  it("names a run's assets briefly", () => {
    expect(assetsLabel([])).toBe("no assets");
    expect(assetsLabel(["a", "b"])).toBe("a, b");
    expect(assetsLabel(["a", "b", "c"])).toBe("a and 2 more");
  });
});

describe("healthView", () => {
  it("counts a failed reload of the definitions as a problem", () => {
    const failure = { message: "boom", file: "/p/definitions.ts", line: 3, column: 1, since: 1, at: 2 };
    expect(healthView(health({ definitionsLoadError: failure })).problems.map((p) => p.title)).toEqual([
      "The definitions failed to load",
    ]);
  });
  it("is healthy with a daemon beating and a worker", () => {
    const v = healthView(health());
    expect(v.daemon).toEqual({ state: "running", ageMs: 500 });
    expect(v.problems).toEqual([]);
  });
  it("says plainly that no daemon means no schedules, sensors or backfills", () => {
    for (const daemon of [null, { id: "d", heartbeatAgeMs: 60_000 }]) {
      const v = healthView(health({ daemon }));
      expect(v.daemon.state).toBe(daemon ? "late" : "absent");
      expect(v.problems[0]?.title).toBe("The daemon is not running");
      expect(v.problems[0]?.detail).toMatch(/Schedules, sensors.*backfills will not advance/);
    }
  });
  it("flags no workers, silent workers and no definitions", () => {
    expect(healthView(health({ workers: [] })).problems.map((p) => p.title)).toEqual([
      "No run worker is running",
    ]);
    const late = healthView(
      health({ workers: [{ workerId: "w", host: "h", pid: 2, heartbeatAgeMs: 20_000 }], definitions: null }),
    );
    expect(late.workers[0]?.late).toBe(true);
    expect(late.problems.map((p) => p.title)).toEqual([
      "No worker has reported recently",
      "No definitions published yet",
    ]);
  });
});

describe("the page's verdict", () => {
  const none = { failedRuns: 0, failedChecks: 0, overdue: 0, stale: 0, healthProblems: 0 };
  it("is all clear when nothing needs attention", () => {
    expect(attentionTotal(none)).toBe(0);
    expect(verdict(none)).toBe("All clear: nothing needs attention.");
  });
  it("counts what needs attention in words", () => {
    const c = { ...none, failedRuns: 2, overdue: 1, healthProblems: 1 };
    expect(attentionTotal(c)).toBe(4);
    expect(verdict(c)).toBe("Needs attention: 2 failed runs, 1 overdue asset, 1 health problem.");
  });
});

describe("links", () => {
  it("links an asset by its key segments and a window of 24 h", () => {
    expect(assetHref("taxi/raw trips")).toBe("/assets/taxi/raw%20trips");
    expect(windowStart(Date.UTC(2024, 0, 2))).toBe("2024-01-01T00:00:00.000Z");
    expect(failedRunsHref(Date.UTC(2024, 0, 2, 0, 0, 42))).toBe(
      "/runs?status=FAILURE&createdAfter=2024-01-01T00%3A00%3A00.000Z",
    );
  });
});
