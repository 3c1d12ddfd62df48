import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  asset,
  assetCheck,
  type BatonInstance,
  type Definitions,
  defineDefinitions,
  graphAsset,
  InvalidConfigError,
  type MaterializeRequest,
  md,
  multiAsset,
  openInstance,
  type RunEventType,
  type RunSummary,
  resource,
  type StepSummary,
  type StoredRunEvent,
} from "../index.js";

let home: string;
let instance: BatonInstance;

beforeEach(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), "baton-exec-"));
  instance = await openInstance({ home });
});

afterEach(async () => {
  await instance.close();
  fs.rmSync(home, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// helpers

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

type EventOf<T extends RunEventType> = Extract<StoredRunEvent, { type: T }>;

function ofType<T extends RunEventType>(events: readonly StoredRunEvent[], type: T): EventOf<T>[] {
  return events.filter((e): e is EventOf<T> => e.type === type);
}

function stepOf(summary: RunSummary, key: string): StepSummary {
  const step = summary.steps.find((s) => s.stepKey === key);
  if (!step) throw new Error(`no step ${key} in summary (${summary.steps.map((s) => s.stepKey).join(", ")})`);
  return step;
}

function statuses(summary: RunSummary): Record<string, string> {
  return Object.fromEntries(summary.steps.map((s) => [s.stepKey, s.status]));
}

function storedValue(assetKey: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(home, "storage", `${assetKey}.json`), "utf8"));
}

/** Materialize, then check the stored run agrees with the returned summary. */
async function materialize(defs: Definitions, request: MaterializeRequest = {}) {
  const summary = await instance.materialize(defs, request);
  return { summary, ...(await stored(summary)) };
}

async function stored(summary: RunSummary) {
  const storedSummary = await instance.runSummary(summary.runId);
  expect(storedSummary).toEqual(summary);
  const record = await instance.storage.getRun(summary.runId);
  expect(record).toBeDefined();
  expect(record!.status).toBe(summary.status);
  const events = await instance.storage.getEvents(summary.runId);
  expect(events[0]?.type).toBe("run_started");
  return { record: record!, events };
}

/** Index of the first event matching `type` and `stepKey`. */
function indexOf(events: readonly StoredRunEvent[], type: RunEventType, stepKey: string): number {
  const i = events.findIndex((e) => e.type === type && "stepKey" in e && e.stepKey === stepKey);
  expect(i, `${type} of ${stepKey}`).toBeGreaterThanOrEqual(0);
  return i;
}

// ---------------------------------------------------------------------------------------------
// 1. Dependency order, value passing, metadata

describe("dependency order and value passing", () => {
  it("runs a chain a → b → c in order and passes each returned value downstream", async () => {
    const calls: string[] = [];
    const seen: Record<string, unknown> = {};
    const a = asset({ key: "a" }, () => {
      calls.push("a");
      return { rows: [1, 2, 3] as number[], label: "A" };
    });
    const b = asset({ key: "b", ins: { a } }, (_ctx, { a }) => {
      calls.push("b");
      seen.b = a;
      return a.rows.map((r) => r * 10);
    });
    const c = asset({ key: "c", ins: { b } }, async (_ctx, { b }) => {
      calls.push("c");
      seen.c = b;
      return b.reduce((s, x) => s + x, 0);
    });
    // Declared out of order on purpose: order must come from the graph.
    const defs = defineDefinitions({ assets: [c, b, a] });
    const { summary, events, record } = await materialize(defs);

    expect(calls).toEqual(["a", "b", "c"]);
    expect(seen.b).toEqual({ rows: [1, 2, 3], label: "A" });
    expect(seen.c).toEqual([10, 20, 30]);
    expect(summary.status).toBe("SUCCESS");
    expect(summary.reason).toBeNull();
    expect(summary.steps.map((s) => s.stepKey)).toEqual(["a", "b", "c"]);
    expect(statuses(summary)).toEqual({ a: "succeeded", b: "succeeded", c: "succeeded" });
    expect(record.status).toBe("SUCCESS");
    expect(record.assetKeys).toEqual(["a", "b", "c"]);

    expect(events.at(-1)!.type).toBe("run_succeeded");
    expect(indexOf(events, "step_succeeded", "a")).toBeLessThan(indexOf(events, "step_started", "b"));
    expect(indexOf(events, "step_succeeded", "b")).toBeLessThan(indexOf(events, "step_started", "c"));
    expect(ofType(events, "materialization").map((e) => e.assetKey)).toEqual(["a", "b", "c"]);

    expect(storedValue("a")).toEqual({ rows: [1, 2, 3], label: "A" });
    expect(storedValue("b")).toEqual([10, 20, 30]);
    expect(storedValue("c")).toBe(60);

    const assetStatuses = await instance.storage.getAssetStatuses();
    expect(assetStatuses.map((s) => s.assetKey)).toEqual(["a", "b", "c"]);
    for (const s of assetStatuses) {
      expect(s.lastMaterialization?.runId).toBe(summary.runId);
      expect(s.lastFailure).toBeNull();
    }
  });

  it("runs a diamond: the join sees both branches' values, after both finished", async () => {
    const calls: string[] = [];
    let joined: unknown;
    const top = asset({ key: "top" }, () => {
      calls.push("top");
      return 2;
    });
    const left = asset({ key: "left", ins: { top } }, async (_ctx, { top }) => {
      calls.push("left");
      await sleep(3);
      return top + 1;
    });
    const right = asset({ key: "right", ins: { top } }, (_ctx, { top }) => {
      calls.push("right");
      return top * 10;
    });
    const bottom = asset({ key: "bottom", ins: { l: left, r: right } }, (_ctx, inputs) => {
      calls.push("bottom");
      joined = inputs;
      return inputs.l + inputs.r;
    });
    const defs = defineDefinitions({ assets: [bottom, right, left, top] });
    const { summary, events } = await materialize(defs, { concurrency: 4 });

    expect(summary.status).toBe("SUCCESS");
    expect(calls[0]).toBe("top");
    expect(calls[3]).toBe("bottom");
    expect(new Set(calls.slice(1, 3))).toEqual(new Set(["left", "right"]));
    expect(joined).toEqual({ l: 3, r: 20 });
    expect(storedValue("bottom")).toBe(23);
    for (const [up, down] of [
      ["top", "left"],
      ["top", "right"],
      ["left", "bottom"],
      ["right", "bottom"],
    ] as const) {
      expect(indexOf(events, "step_succeeded", up)).toBeLessThan(indexOf(events, "step_started", down));
    }
  });

  it("stores the value of a { value, metadata } envelope and records typed, merged metadata", async () => {
    let downstreamSaw: unknown;
    const table = asset({ key: "warehouse/table" }, (ctx) => {
      ctx.addMetadata({ added: 7 });
      ctx.addMetadata({ source: md.path("/data/in.csv") });
      return {
        value: [{ id: 1 }, { id: 2 }],
        metadata: {
          count: 2,
          label: "two rows",
          ok: true,
          extra: { nested: [1, 2] },
          link: md.url("https://example.com/t"),
          rows: md.rowCount(2),
          took: md.durationMs(12),
          schema: md.tableSchema([{ name: "id", type: "int" }]),
        },
      };
    });
    const down = asset({ key: "down", ins: { table } }, (_ctx, { table }) => {
      downstreamSaw = table;
      return table.length;
    });
    const defs = defineDefinitions({ assets: [table, down] });
    const { summary, events } = await materialize(defs);

    expect(summary.status).toBe("SUCCESS");
    expect(storedValue("warehouse/table")).toEqual([{ id: 1 }, { id: 2 }]);
    expect(downstreamSaw).toEqual([{ id: 1 }, { id: 2 }]);
    expect(storedValue("down")).toBe(2);

    const expected = {
      added: { type: "number", value: 7 },
      source: { type: "path", value: "/data/in.csv" },
      count: { type: "number", value: 2 },
      label: { type: "text", value: "two rows" },
      ok: { type: "bool", value: true },
      extra: { type: "json", value: { nested: [1, 2] } },
      link: { type: "url", value: "https://example.com/t" },
      rows: { type: "row_count", value: 2 },
      took: { type: "duration_ms", value: 12 },
      schema: { type: "table_schema", value: [{ name: "id", type: "int" }] },
    };
    const mats = ofType(events, "materialization");
    expect(mats.map((m) => m.assetKey)).toEqual(["warehouse/table", "down"]);
    expect(mats[0]!.metadata).toEqual(expected);
    expect(mats[1]!.metadata).toEqual({});
    expect(stepOf(summary, "warehouse/table").materializations).toEqual([
      { assetKey: "warehouse/table", metadata: expected },
    ]);
    const [status] = await instance.storage.getAssetStatuses(["warehouse/table"]);
    expect(status!.lastMaterialization!.metadata).toEqual(expected);
    expect(status!.lastMaterialization!.runId).toBe(summary.runId);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Bounded concurrency

describe("bounded concurrency", () => {
  function independentAssets() {
    const state = { inFlight: 0, max: 0 };
    const assets = Array.from({ length: 6 }, (_, i) =>
      asset({ key: `p${i}` }, async () => {
        state.inFlight++;
        state.max = Math.max(state.max, state.inFlight);
        await sleep(5);
        state.inFlight--;
        return i;
      }),
    );
    return { state, defs: defineDefinitions({ assets }) };
  }

  /** Largest number of steps between step_started and their terminal event, from stored events. */
  function maxConcurrentFromEvents(events: readonly StoredRunEvent[]): number {
    let current = 0;
    let max = 0;
    for (const e of events) {
      if (e.type === "step_started") max = Math.max(max, ++current);
      if (e.type === "step_succeeded" || e.type === "step_failed") current--;
    }
    return max;
  }

  it("never runs more than `concurrency: 2` steps at once, and does use both slots", async () => {
    const { state, defs } = independentAssets();
    const { summary, events } = await materialize(defs, { concurrency: 2 });
    expect(summary.status).toBe("SUCCESS");
    expect(state.max).toBe(2);
    expect(state.inFlight).toBe(0);
    expect(ofType(events, "step_started")).toHaveLength(6);
    expect(ofType(events, "step_succeeded")).toHaveLength(6);
    expect(maxConcurrentFromEvents(events)).toBe(2);
    expect(summary.steps.every((s) => s.status === "succeeded")).toBe(true);
  });

  it("runs one step at a time with `concurrency: 1`", async () => {
    const { state, defs } = independentAssets();
    const { summary, events } = await materialize(defs, { concurrency: 1 });
    expect(summary.status).toBe("SUCCESS");
    expect(state.max).toBe(1);
    expect(maxConcurrentFromEvents(events)).toBe(1);
    expect(ofType(events, "materialization")).toHaveLength(6);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Failures

describe("a failing step", () => {
  it("records the error, skips everything downstream transitively, and runs independent branches", async () => {
    const ran: string[] = [];
    let thrown: Error | undefined;
    const a = asset({ key: "a" }, () => {
      ran.push("a");
      return 1;
    });
    const b = asset({ key: "b", ins: { a } }, (): number => {
      ran.push("b");
      thrown = new Error("kaboom in b");
      throw thrown;
    });
    const c = asset({ key: "c", ins: { b } }, (_ctx, { b }) => {
      ran.push("c");
      return b + 1;
    });
    const d = asset({ key: "d", ins: { c } }, (_ctx, { c }) => {
      ran.push("d");
      return c + 1;
    });
    const e = asset({ key: "e" }, async () => {
      ran.push("e");
      await sleep(2);
      return "independent";
    });
    const e2 = asset({ key: "e2", ins: { e } }, (_ctx, { e }) => {
      ran.push("e2");
      return `${e}!`;
    });
    const defs = defineDefinitions({ assets: [a, b, c, d, e, e2] });
    const { summary, events, record } = await materialize(defs, { concurrency: 2 });

    expect(new Set(ran)).toEqual(new Set(["a", "b", "e", "e2"]));
    expect(summary.status).toBe("FAILURE");
    expect(record.status).toBe("FAILURE");
    expect(summary.reason).toBe("1 step failed, 2 skipped");
    expect(statuses(summary)).toEqual({
      a: "succeeded",
      b: "failed",
      c: "skipped",
      d: "skipped",
      e: "succeeded",
      e2: "succeeded",
    });

    const failed = ofType(events, "step_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.stepKey).toBe("b");
    expect(failed[0]!.assetKeys).toEqual(["b"]);
    expect(failed[0]!.attempt).toBe(1);
    expect(failed[0]!.error.message).toContain('"b"');
    expect(failed[0]!.error.message).toContain("kaboom in b");
    expect(failed[0]!.error.stack).toEqual(expect.any(String));
    expect(failed[0]!.error.cause?.message).toBe("kaboom in b");
    expect(thrown?.stack).toEqual(expect.any(String));
    expect(failed[0]!.error.cause?.stack).toContain(thrown!.stack!);

    const stepB = stepOf(summary, "b");
    expect(stepB.error?.message).toBe(failed[0]!.error.message);
    expect(stepB.reason).toBe(failed[0]!.error.message);
    expect(stepB.attempts).toBe(1);

    const skipped = ofType(events, "step_skipped");
    expect(skipped.map((s) => [s.stepKey, s.reason, s.cause])).toEqual([
      ["c", 'upstream step "b" failed', "b"],
      ["d", 'upstream step "c" was skipped', "c"],
    ]);
    expect(skipped.map((s) => s.assetKeys)).toEqual([["c"], ["d"]]);
    expect(stepOf(summary, "c").reason).toBe('upstream step "b" failed');
    expect(stepOf(summary, "d").reason).toBe('upstream step "c" was skipped');
    expect(ofType(events, "step_started").map((s) => s.stepKey)).not.toContain("c");
    expect(ofType(events, "step_started").map((s) => s.stepKey)).not.toContain("d");
    expect(ofType(events, "run_failed")).toHaveLength(1);
    expect(events.at(-1)!.type).toBe("run_failed");

    const assetStatuses = new Map((await instance.storage.getAssetStatuses()).map((s) => [s.assetKey, s]));
    expect([...assetStatuses.keys()].sort()).toEqual(["a", "b", "e", "e2"]);
    expect(assetStatuses.get("b")!.lastFailure?.runId).toBe(summary.runId);
    expect(assetStatuses.get("b")!.lastMaterialization).toBeNull();
    expect(assetStatuses.get("a")!.lastFailure).toBeNull();
    expect(assetStatuses.get("a")!.lastMaterialization?.runId).toBe(summary.runId);
    expect(storedValue("e2")).toBe("independent!");
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Checks

describe("asset checks", () => {
  it("a failed blocking check skips downstream with a reason naming the check; the run fails", async () => {
    const checkSaw: unknown[] = [];
    let bRan = false;
    const a = asset({ key: "a" }, () => 5);
    const positive = assetCheck({ asset: a, name: "big_enough", blocking: true }, (ctx, value) => {
      checkSaw.push(value, ctx.assetKey, ctx.checkName);
      return { passed: value > 10, metadata: { value } };
    });
    const b = asset({ key: "b", ins: { a } }, (_ctx, { a }) => {
      bRan = true;
      return a;
    });
    const c = asset({ key: "c", ins: { b } }, (_ctx, { b }) => b);
    const defs = defineDefinitions({ assets: [a, b, c], checks: [positive] });
    const { summary, events, record } = await materialize(defs);

    expect(checkSaw).toEqual([5, "a", "big_enough"]);
    expect(bRan).toBe(false);
    expect(summary.status).toBe("FAILURE");
    expect(record.status).toBe("FAILURE");
    expect(statuses(summary)).toEqual({
      a: "succeeded",
      "a:big_enough": "failed",
      b: "skipped",
      c: "skipped",
    });
    expect(stepOf(summary, "b").reason).toBe('blocking check "a:big_enough" failed');
    expect(stepOf(summary, "c").reason).toBe('upstream step "b" was skipped');
    expect(ofType(events, "step_skipped").map((s) => [s.stepKey, s.cause])).toEqual([
      ["b", "a:big_enough"],
      ["c", "b"],
    ]);

    const evaluations = ofType(events, "check_evaluation");
    expect(evaluations).toHaveLength(1);
    expect(evaluations[0]).toMatchObject({
      stepKey: "a:big_enough",
      assetKey: "a",
      checkName: "big_enough",
      passed: false,
      blocking: true,
      severity: "ERROR",
      metadata: { value: { type: "number", value: 5 } },
    });
    expect(stepOf(summary, "a:big_enough").checks).toEqual([
      {
        assetKey: "a",
        checkName: "big_enough",
        passed: false,
        blocking: true,
        severity: "ERROR",
        metadata: { value: { type: "number", value: 5 } },
      },
    ]);
    const failed = ofType(events, "step_failed");
    expect(failed.map((f) => f.stepKey)).toEqual(["a:big_enough"]);
    expect(failed[0]!.error.message).toContain('blocking check "a:big_enough" failed');

    const checks = await instance.storage.getLatestCheckResults();
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({
      assetKey: "a",
      checkName: "big_enough",
      runId: summary.runId,
      passed: false,
      blocking: true,
      severity: "ERROR",
      metadata: { value: { type: "number", value: 5 } },
    });
    // A failed check is not a failed materialization of the asset.
    const [aStatus] = await instance.storage.getAssetStatuses(["a"]);
    expect(aStatus!.lastMaterialization?.runId).toBe(summary.runId);
    expect(aStatus!.lastFailure).toBeNull();
  });

  it("a passing blocking check lets downstream run after it", async () => {
    const a = asset({ key: "a" }, () => 50);
    const check = assetCheck({ asset: a, name: "big_enough", blocking: true }, (_ctx, value) => ({
      passed: value > 10,
    }));
    const b = asset({ key: "b", ins: { a } }, (_ctx, { a }) => a + 1);
    const defs = defineDefinitions({ assets: [a, b], checks: [check] });
    const { summary, events } = await materialize(defs);
    expect(summary.status).toBe("SUCCESS");
    expect(statuses(summary)).toEqual({ a: "succeeded", "a:big_enough": "succeeded", b: "succeeded" });
    expect(indexOf(events, "step_succeeded", "a:big_enough")).toBeLessThan(
      indexOf(events, "step_started", "b"),
    );
    const checks = await instance.storage.getLatestCheckResults("a");
    expect(checks.map((c) => [c.checkName, c.passed, c.blocking])).toEqual([["big_enough", true, true]]);
  });

  it("a failed non-blocking WARN check is recorded but downstream runs and the run succeeds", async () => {
    const checkSaw: unknown[] = [];
    let bSaw: unknown;
    const a = asset({ key: "a" }, () => ({ total: 3 }));
    const warn = assetCheck({ asset: a, name: "has_many", severity: "WARN" }, (_ctx, value) => {
      checkSaw.push(value);
      return { passed: value.total > 100, description: "too few rows" };
    });
    const b = asset({ key: "b", ins: { a } }, (_ctx, { a }) => {
      bSaw = a;
      return a.total * 2;
    });
    const defs = defineDefinitions({ assets: [a, b], checks: [warn] });
    const { summary, events, record } = await materialize(defs);

    expect(checkSaw).toEqual([{ total: 3 }]);
    expect(bSaw).toEqual({ total: 3 });
    expect(summary.status).toBe("SUCCESS");
    expect(record.status).toBe("SUCCESS");
    expect(statuses(summary)).toEqual({ a: "succeeded", "a:has_many": "succeeded", b: "succeeded" });
    const evaluations = ofType(events, "check_evaluation");
    expect(evaluations).toHaveLength(1);
    expect(evaluations[0]).toMatchObject({
      assetKey: "a",
      checkName: "has_many",
      passed: false,
      blocking: false,
      severity: "WARN",
      description: "too few rows",
    });
    expect(ofType(events, "step_skipped")).toHaveLength(0);
    expect(ofType(events, "step_failed")).toHaveLength(0);
    const checks = await instance.storage.getLatestCheckResults("a");
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({
      assetKey: "a",
      checkName: "has_many",
      runId: summary.runId,
      passed: false,
      blocking: false,
      severity: "WARN",
    });
  });

  it("a check that throws fails its step (error names the check), other steps continue", async () => {
    const a = asset({ key: "a" }, () => 1);
    const boom = assetCheck({ asset: a, name: "explodes" }, (): { passed: boolean } => {
      throw new Error("check went boom");
    });
    const b = asset({ key: "b", ins: { a } }, (_ctx, { a }) => a + 1);
    const defs = defineDefinitions({ assets: [a, b], checks: [boom] });
    const { summary, events, record } = await materialize(defs);

    expect(summary.status).toBe("FAILURE");
    expect(record.status).toBe("FAILURE");
    expect(statuses(summary)).toEqual({ a: "succeeded", "a:explodes": "failed", b: "succeeded" });
    const failed = ofType(events, "step_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.stepKey).toBe("a:explodes");
    expect(failed[0]!.error.message).toContain("a:explodes");
    expect(failed[0]!.error.message).toContain("check went boom");
    expect(ofType(events, "check_evaluation")).toHaveLength(0);
    expect(await instance.storage.getLatestCheckResults()).toEqual([]);
    expect(storedValue("b")).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------
// 5. Retries

describe("retries", () => {
  it("retries a flaky asset until it succeeds, exposing ctx.attempt", async () => {
    const attempts: number[] = [];
    const flaky = asset({ key: "flaky", retryPolicy: { maxRetries: 2, delayMs: 1 } }, (ctx) => {
      attempts.push(ctx.attempt);
      if (ctx.attempt < 3) throw new Error(`fail #${ctx.attempt}`);
      return "finally";
    });
    const after = asset({ key: "after", ins: { flaky } }, (_ctx, { flaky }) => `${flaky}!`);
    const defs = defineDefinitions({ assets: [flaky, after] });
    const { summary, events, record } = await materialize(defs);

    expect(attempts).toEqual([1, 2, 3]);
    expect(summary.status).toBe("SUCCESS");
    expect(record.status).toBe("SUCCESS");
    expect(statuses(summary)).toEqual({ flaky: "succeeded", after: "succeeded" });
    const retrying = ofType(events, "step_retrying");
    expect(retrying.map((r) => [r.stepKey, r.attempt, r.delayMs])).toEqual([
      ["flaky", 2, 1],
      ["flaky", 3, 1],
    ]);
    expect(retrying[0]!.error.message).toContain("fail #1");
    expect(retrying[1]!.error.message).toContain("fail #2");
    expect(ofType(events, "step_failed")).toHaveLength(0);
    expect(ofType(events, "step_started").filter((s) => s.stepKey === "flaky")).toHaveLength(1);
    const step = stepOf(summary, "flaky");
    expect(step.attempts).toBe(3);
    expect(step.error).toBeNull();
    expect(storedValue("after")).toBe("finally!");
  });

  it("fails after maxRetries + 1 attempts", async () => {
    const attempts: number[] = [];
    const broken = asset({ key: "broken", retryPolicy: { maxRetries: 1, delayMs: 1 } }, (ctx): number => {
      attempts.push(ctx.attempt);
      throw new Error(`always fails (attempt ${ctx.attempt})`);
    });
    const defs = defineDefinitions({ assets: [broken] });
    const { summary, events, record } = await materialize(defs);

    expect(attempts).toEqual([1, 2]);
    expect(summary.status).toBe("FAILURE");
    expect(record.status).toBe("FAILURE");
    expect(ofType(events, "step_retrying").map((r) => r.attempt)).toEqual([2]);
    const failed = ofType(events, "step_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.attempt).toBe(2);
    expect(failed[0]!.error.message).toContain("always fails (attempt 2)");
    const step = stepOf(summary, "broken");
    expect(step.status).toBe("failed");
    expect(step.attempts).toBe(2);
    const [status] = await instance.storage.getAssetStatuses(["broken"]);
    expect(status!.lastFailure?.runId).toBe(summary.runId);
  });

  it("grows the delay exponentially", async () => {
    const attempts: number[] = [];
    const flaky = asset(
      {
        key: "flaky",
        retryPolicy: { maxRetries: 2, delayMs: 5, backoff: "exponential", jitter: "none" },
      },
      (ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt < 3) throw new Error("not yet");
        return 1;
      },
    );
    const { summary, events } = await materialize(defineDefinitions({ assets: [flaky] }));
    expect(summary.status).toBe("SUCCESS");
    expect(attempts).toEqual([1, 2, 3]);
    expect(ofType(events, "step_retrying").map((r) => [r.attempt, r.delayMs])).toEqual([
      [2, 5],
      [3, 10],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// 6. Cancellation

describe("cancellation", () => {
  it("cancels the running step through ctx.signal and the steps not started yet", async () => {
    const controller = new AbortController();
    const started = deferred();
    let sawAborted: boolean | undefined;
    const ran: string[] = [];
    const slow = asset({ key: "slow" }, async (ctx) => {
      ran.push("slow");
      started.resolve();
      await untilAborted(ctx.signal);
      sawAborted = ctx.signal.aborted;
      ctx.signal.throwIfAborted();
      return "never";
    });
    const other = asset({ key: "other" }, () => {
      ran.push("other");
      return 1;
    });
    const after = asset({ key: "after", ins: { slow } }, (_ctx, { slow }) => {
      ran.push("after");
      return slow;
    });
    const defs = defineDefinitions({ assets: [slow, other, after] });
    const pending = instance.materialize(defs, { signal: controller.signal, concurrency: 1 });
    await started.promise;
    setTimeout(() => controller.abort(new Error("stopped by the test")), 1);
    const summary = await pending;
    const { events, record } = await stored(summary);

    expect(ran).toEqual(["slow"]);
    expect(sawAborted).toBe(true);
    expect(summary.status).toBe("CANCELED");
    expect(record.status).toBe("CANCELED");
    expect(summary.reason).toBe("stopped by the test");
    expect(statuses(summary)).toEqual({ slow: "canceled", other: "canceled", after: "canceled" });
    expect(stepOf(summary, "slow").reason).toBe("the run was canceled while this step ran");
    expect(stepOf(summary, "other").reason).toContain("before this step started");
    expect(stepOf(summary, "after").reason).toContain("before this step started");
    expect(ofType(events, "step_started").map((s) => s.stepKey)).toEqual(["slow"]);
    expect(ofType(events, "step_canceled").map((s) => s.stepKey)).toEqual(["other", "after", "slow"]);
    expect(ofType(events, "materialization")).toHaveLength(0);
    expect(ofType(events, "run_canceled")).toHaveLength(1);
    expect(events.at(-1)!.type).toBe("run_canceled");
    expect(await instance.storage.getAssetStatuses()).toEqual([]);
  });

  it("can be canceled from inside another step", async () => {
    const controller = new AbortController();
    const slowStarted = deferred();
    let sawAborted: boolean | undefined;
    const slow = asset({ key: "slow" }, async (ctx) => {
      slowStarted.resolve();
      await untilAborted(ctx.signal);
      sawAborted = ctx.signal.aborted;
      ctx.signal.throwIfAborted();
      return 0;
    });
    const trigger = asset({ key: "trigger" }, async () => {
      await slowStarted.promise;
      controller.abort(new Error("canceled by trigger"));
      return "pulled";
    });
    const other = asset({ key: "other" }, () => 1);
    const after = asset({ key: "after", ins: { slow } }, (_ctx, { slow }) => slow);
    const defs = defineDefinitions({ assets: [slow, trigger, other, after] });
    const { summary, events, record } = await materialize(defs, {
      signal: controller.signal,
      concurrency: 2,
    });

    expect(sawAborted).toBe(true);
    expect(summary.status).toBe("CANCELED");
    expect(record.status).toBe("CANCELED");
    expect(summary.reason).toBe("canceled by trigger");
    expect(statuses(summary)).toEqual({
      slow: "canceled",
      // Its body returned normally: the value is stored, the step is not rewritten as canceled.
      trigger: "succeeded",
      other: "canceled",
      after: "canceled",
    });
    expect(stepOf(summary, "slow").reason).toBe("the run was canceled while this step ran");
    expect(stepOf(summary, "other").reason).toBe("the run was canceled before this step started");
    expect(stepOf(summary, "after").reason).toBe("the run was canceled before this step started");
    expect(ofType(events, "step_started").map((s) => s.stepKey)).toEqual(["slow", "trigger"]);
  });

  it("a cancel while a step waits to retry cancels it without another attempt", async () => {
    const controller = new AbortController();
    const attempts: number[] = [];
    const flaky = asset({ key: "flaky", retryPolicy: { maxRetries: 3, delayMs: 10_000 } }, (ctx): number => {
      attempts.push(ctx.attempt);
      throw new Error("transient");
    });
    const pending = instance.materialize(defineDefinitions({ assets: [flaky] }), {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === "step_retrying") setTimeout(() => controller.abort(new Error("give up")), 1);
      },
    });
    const summary = await pending;
    const { events } = await stored(summary);
    expect(attempts).toEqual([1]);
    expect(summary.status).toBe("CANCELED");
    expect(stepOf(summary, "flaky").status).toBe("canceled");
    expect(stepOf(summary, "flaky").reason).toBe("the run was canceled while waiting to retry");
    expect(ofType(events, "step_retrying").map((r) => r.attempt)).toEqual([2]);
    expect(ofType(events, "step_failed")).toHaveLength(0);
  });

  it("a signal aborted before the run starts cancels every step without running any", async () => {
    const controller = new AbortController();
    controller.abort(new Error("too late"));
    let ran = false;
    const a = asset({ key: "a" }, () => {
      ran = true;
      return 1;
    });
    const b = asset({ key: "b", ins: { a } }, (_ctx, { a }) => a);
    const { summary, events } = await materialize(defineDefinitions({ assets: [a, b] }), {
      signal: controller.signal,
    });
    expect(ran).toBe(false);
    expect(summary.status).toBe("CANCELED");
    expect(summary.reason).toBe("too late");
    expect(statuses(summary)).toEqual({ a: "canceled", b: "canceled" });
    expect(ofType(events, "step_started")).toHaveLength(0);
    for (const s of summary.steps) expect(s.reason).toContain("before this step started");
  });
});

// ---------------------------------------------------------------------------------------------
// 7. Re-execution

describe("re-execution", () => {
  function failingMiddle() {
    const state = { failB: true, aCalls: 0, bCalls: 0, cCalls: 0, bSaw: [] as unknown[] };
    const a = asset({ key: "a" }, () => {
      state.aCalls++;
      return { n: 41 };
    });
    const b = asset({ key: "b", ins: { a } }, (_ctx, { a }) => {
      state.bCalls++;
      state.bSaw.push(a);
      if (state.failB) throw new Error("b is not ready");
      return a.n + 1;
    });
    const c = asset({ key: "c", ins: { b } }, (_ctx, { b }) => {
      state.cCalls++;
      return b * 2;
    });
    return { state, defs: defineDefinitions({ assets: [a, b, c] }) };
  }

  it("from failure runs only the failed step and downstream, loading upstream values from storage", async () => {
    const { state, defs } = failingMiddle();
    const { summary: first } = await materialize(defs);
    expect(first.status).toBe("FAILURE");
    expect(statuses(first)).toEqual({ a: "succeeded", b: "failed", c: "skipped" });
    expect(state).toMatchObject({ aCalls: 1, bCalls: 1, cCalls: 0 });
    expect(storedValue("a")).toEqual({ n: 41 });

    state.failB = false;
    const second = await instance.reexecute(defs, first.runId, { fromFailure: true });
    const { record, events } = await stored(second);

    expect(second.runId).not.toBe(first.runId);
    expect(second.status).toBe("SUCCESS");
    expect(second.steps.map((s) => s.stepKey)).toEqual(["b", "c"]);
    expect(statuses(second)).toEqual({ b: "succeeded", c: "succeeded" });
    expect(state.aCalls).toBe(1);
    expect(state.bCalls).toBe(2);
    expect(state.cCalls).toBe(1);
    expect(state.bSaw).toEqual([{ n: 41 }, { n: 41 }]);
    expect(record.parentRunId).toBe(first.runId);
    expect(record.rootRunId).toBe(first.runId);
    expect(record.assetKeys).toEqual(["b", "c"]);
    expect(ofType(events, "step_started").map((s) => s.stepKey)).toEqual(["b", "c"]);
    expect(storedValue("c")).toBe(84);

    const byKey = new Map((await instance.storage.getAssetStatuses()).map((s) => [s.assetKey, s]));
    expect(byKey.get("a")!.lastMaterialization!.runId).toBe(first.runId);
    expect(byKey.get("b")!.lastMaterialization!.runId).toBe(second.runId);
    expect(byKey.get("b")!.lastFailure!.runId).toBe(first.runId);
    expect(byKey.get("c")!.lastMaterialization!.runId).toBe(second.runId);
  });

  it("from failure reads the upstream value through the IO manager (the JSON file under the home)", async () => {
    const { state, defs } = failingMiddle();
    const { summary: first } = await materialize(defs);
    expect(first.status).toBe("FAILURE");
    // Replace what the filesystem IO manager stored for "a": the re-execution must read it.
    fs.writeFileSync(path.join(home, "storage", "a.json"), JSON.stringify({ n: 99 }));
    state.failB = false;
    const second = await instance.reexecute(defs, first.runId, { fromFailure: true });
    expect(second.status).toBe("SUCCESS");
    expect(state.aCalls).toBe(1);
    expect(state.bSaw.at(-1)).toEqual({ n: 99 });
    expect(storedValue("b")).toBe(100);
  });

  it("from failure after a failed blocking check re-evaluates the check on the stored value before downstream", async () => {
    let threshold = 10;
    let aCalls = 0;
    const checkSaw: unknown[] = [];
    const a = asset({ key: "a" }, () => {
      aCalls++;
      return 5;
    });
    const gate = assetCheck({ asset: a, name: "gate", blocking: true }, (_ctx, value) => {
      checkSaw.push(value);
      return { passed: value > threshold };
    });
    const b = asset({ key: "b", ins: { a } }, (_ctx, { a }) => a * 2);
    const defs = defineDefinitions({ assets: [a, b], checks: [gate] });
    const { summary: first } = await materialize(defs);
    expect(statuses(first)).toEqual({ a: "succeeded", "a:gate": "failed", b: "skipped" });

    threshold = 1;
    const second = await instance.reexecute(defs, first.runId, { fromFailure: true });
    const { events } = await stored(second);
    expect(aCalls).toBe(1);
    expect(checkSaw).toEqual([5, 5]);
    expect(second.status).toBe("SUCCESS");
    expect(statuses(second)).toEqual({ b: "succeeded", "a:gate": "succeeded" });
    expect(indexOf(events, "step_succeeded", "a:gate")).toBeLessThan(indexOf(events, "step_started", "b"));
    const checks = await instance.storage.getLatestCheckResults("a");
    expect(checks.map((c) => [c.checkName, c.passed, c.runId])).toEqual([["gate", true, second.runId]]);
    expect(storedValue("b")).toBe(10);
  });

  it("without fromFailure runs everything again", async () => {
    const { state, defs } = failingMiddle();
    const { summary: first } = await materialize(defs);
    state.failB = false;
    const again = await instance.reexecute(defs, first.runId);
    const { record } = await stored(again);
    expect(again.status).toBe("SUCCESS");
    expect(again.steps.map((s) => s.stepKey)).toEqual(["a", "b", "c"]);
    expect(statuses(again)).toEqual({ a: "succeeded", b: "succeeded", c: "succeeded" });
    expect(state).toMatchObject({ aCalls: 2, bCalls: 2, cCalls: 1 });
    expect(record.parentRunId).toBe(first.runId);
    expect(record.rootRunId).toBe(first.runId);
  });
});

// ---------------------------------------------------------------------------------------------
// 8. Multi-asset subsetting

describe("multi-asset subsetting", () => {
  function multi(canSubset: boolean) {
    const seen: string[][] = [];
    const m = multiAsset({ name: "m", canSubset, outs: { x: { key: "m/x" }, y: { key: "m/y" } } }, (ctx) => {
      seen.push([...ctx.selectedOutputs].sort());
      const out: { x?: number; y?: string } = {};
      if (ctx.selectedOutputs.has("x")) out.x = 7;
      if (ctx.selectedOutputs.has("y")) out.y = "why";
      return out;
    });
    let downSaw: unknown;
    const down = asset({ key: "down", ins: { x: m.outs.x } }, (_ctx, { x }) => {
      downSaw = x;
      return x * 3;
    });
    return { seen, defs: defineDefinitions({ assets: [m, down] }), downSaw: () => downSaw };
  }

  it("selecting one output runs the body with only that output and materializes only it", async () => {
    const { seen, defs } = multi(true);
    const { summary, events, record } = await materialize(defs, { assetKeys: ["m/x"] });
    expect(seen).toEqual([["x"]]);
    expect(summary.status).toBe("SUCCESS");
    expect(record.assetKeys).toEqual(["m/x"]);
    expect(statuses(summary)).toEqual({ m: "succeeded" });
    expect(stepOf(summary, "m").assetKeys).toEqual(["m/x"]);
    expect(stepOf(summary, "m").kind).toBe("multi");
    expect(ofType(events, "materialization").map((e) => e.assetKey)).toEqual(["m/x"]);
    expect(storedValue("m/x")).toBe(7);
    expect(fs.existsSync(path.join(home, "storage", "m", "y.json"))).toBe(false);
    expect((await instance.storage.getAssetStatuses()).map((s) => s.assetKey)).toEqual(["m/x"]);
  });

  it("selecting both outputs materializes both, and downstream receives its input", async () => {
    const { seen, defs, downSaw } = multi(true);
    const { summary, events } = await materialize(defs);
    expect(seen).toEqual([["x", "y"]]);
    expect(summary.status).toBe("SUCCESS");
    expect(statuses(summary)).toEqual({ m: "succeeded", down: "succeeded" });
    expect(ofType(events, "materialization").map((e) => e.assetKey)).toEqual(["m/x", "m/y", "down"]);
    expect(storedValue("m/x")).toBe(7);
    expect(storedValue("m/y")).toBe("why");
    expect(downSaw()).toBe(7);
    expect(storedValue("down")).toBe(21);
  });

  it("selecting one output of a multi-asset without canSubset is rejected before any run", async () => {
    const { seen, defs } = multi(false);
    await expect(instance.materialize(defs, { assetKeys: ["m/x"] })).rejects.toThrow(/cannot be subset/);
    expect(seen).toEqual([]);
    expect((await instance.storage.listRuns()).runs).toEqual([]);
    // Selecting both is fine.
    const { summary } = await materialize(defs, { assetKeys: ["m/x", "m/y"] });
    expect(summary.status).toBe("SUCCESS");
    expect(seen).toEqual([["x", "y"]]);
  });
});

// ---------------------------------------------------------------------------------------------
// 9. Graph assets

describe("graph assets", () => {
  it("records each op in order and stores the body's result", async () => {
    const g = graphAsset({ key: "g", ops: ["download", "parse"] }, async (g) => {
      const raw = await g.op("download", async () => "1,2,3");
      return g.op("parse", (op) => {
        expect(op.opName).toBe("parse");
        return raw.split(",").map(Number);
      });
    });
    const { summary, events } = await materialize(defineDefinitions({ assets: [g] }));
    expect(summary.status).toBe("SUCCESS");
    expect(stepOf(summary, "g").kind).toBe("graph");
    const trace = events
      .filter((e) => e.type.startsWith("op_") || e.type.startsWith("step_") || e.type === "materialization")
      .map((e) => (e.type.startsWith("op_") ? `${e.type}:${(e as EventOf<"op_started">).op}` : e.type));
    expect(trace).toEqual([
      "step_started",
      "op_started:download",
      "op_succeeded:download",
      "op_started:parse",
      "op_succeeded:parse",
      "materialization",
      "step_succeeded",
    ]);
    for (const e of ofType(events, "op_succeeded")) expect(e.stepKey).toBe("g");
    expect(storedValue("g")).toEqual([1, 2, 3]);
  });

  it("a failing op emits op_failed and fails the step", async () => {
    let afterRan = false;
    const g = graphAsset({ key: "g", ops: ["download", "parse"] }, async (g) => {
      await g.op("download", () => "x");
      await g.op("parse", (): number => {
        throw new Error("cannot parse x");
      });
      afterRan = true;
      return 1;
    });
    const { summary, events } = await materialize(defineDefinitions({ assets: [g] }));
    expect(afterRan).toBe(false);
    expect(summary.status).toBe("FAILURE");
    expect(statuses(summary)).toEqual({ g: "failed" });
    expect(ofType(events, "op_succeeded").map((e) => e.op)).toEqual(["download"]);
    const opFailed = ofType(events, "op_failed");
    expect(opFailed.map((e) => [e.stepKey, e.op])).toEqual([["g", "parse"]]);
    expect(opFailed[0]!.error.message).toContain("cannot parse x");
    const failed = ofType(events, "step_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.error.message).toContain("parse");
    expect(failed[0]!.error.message).toContain("cannot parse x");
    expect(indexOf(events, "op_failed", "g")).toBeLessThan(indexOf(events, "step_failed", "g"));
    expect(ofType(events, "materialization")).toHaveLength(0);
  });

  it("an op name not declared in `ops` fails the step", async () => {
    let bodyRan = false;
    const g = graphAsset({ key: "g", ops: ["download"] }, async (g) => {
      const op = g.op as unknown as (name: string, fn: () => unknown) => Promise<unknown>;
      await op("sneaky", () => {
        bodyRan = true;
        return 1;
      });
      return 1;
    });
    const { summary, events } = await materialize(defineDefinitions({ assets: [g] }));
    expect(bodyRan).toBe(false);
    expect(summary.status).toBe("FAILURE");
    expect(statuses(summary)).toEqual({ g: "failed" });
    expect(ofType(events, "op_started")).toHaveLength(0);
    const failed = ofType(events, "step_failed");
    expect(failed[0]!.error.message).toContain('op "sneaky" is not declared');
  });
});

// ---------------------------------------------------------------------------------------------
// 10. Log capture

describe("log capture", () => {
  it("routes console output of concurrent steps to the right step, in order, and restores console", async () => {
    const methods = ["log", "info", "debug", "trace", "warn", "error"] as const;
    const before = Object.fromEntries(methods.map((m) => [m, console[m]]));
    const interleaving: string[] = [];
    let patchedInside = false;
    const make = (name: string) =>
      asset({ key: name }, async (ctx) => {
        patchedInside ||= console.log !== before.log;
        for (let i = 0; i < 20; i++) {
          console.log("from " + name + " " + i);
          interleaving.push(name);
          await tick();
        }
        console.error(`oops from ${name}`);
        ctx.log.info(`structured ${name}`, { who: name, n: 1 });
        return name;
      });
    const defs = defineDefinitions({ assets: [make("A"), make("B")] });
    const { summary, events } = await materialize(defs, { concurrency: 2 });

    expect(summary.status).toBe("SUCCESS");
    expect(patchedInside).toBe(true);
    // The two bodies really were interleaved.
    expect(interleaving.indexOf("B")).toBeLessThan(interleaving.lastIndexOf("A"));

    for (const name of ["A", "B"]) {
      const logs = ofType(events, "log").filter((e) => e.stepKey === name);
      expect(logs.map((l) => ({ source: l.source, level: l.level, message: l.message }))).toEqual([
        ...Array.from({ length: 20 }, (_, i) => ({
          source: "stdout",
          level: "info",
          message: `from ${name} ${i}`,
        })),
        { source: "stderr", level: "error", message: `oops from ${name}` },
        { source: "logger", level: "info", message: `structured ${name}` },
      ]);
      expect(logs.at(-1)!.fields).toEqual({ who: name, n: 1 });
    }
    // Nothing lost or attributed to no step.
    expect(ofType(events, "log")).toHaveLength(44);

    for (const m of methods) expect(console[m], `console.${m} restored`).toBe(before[m]);
    expect(() => console.log("console.log works outside a run")).not.toThrow();
  });

  it("console output of the caller's onEvent callback is not captured as the step's output", async () => {
    // A caller printing progress from onEvent is outside every step. (Only non-log events are
    // printed here, so a capture bug cannot recurse: printing every event recurses without end.)
    const printed: string[] = [];
    const a = asset({ key: "a" }, () => {
      console.log("hello from a");
      return 1;
    });
    const { summary, events } = await materialize(defineDefinitions({ assets: [a] }), {
      onEvent: (e) => {
        if (e.type === "log") return;
        printed.push(e.type);
        console.log(`[progress] ${e.type}`);
      },
    });
    expect(summary.status).toBe("SUCCESS");
    expect(printed).toEqual([
      "run_started",
      "step_started",
      "materialization",
      "step_succeeded",
      "run_succeeded",
    ]);
    expect(ofType(events, "log").map((e) => [e.stepKey, e.source, e.message])).toEqual([
      ["a", "stdout", "hello from a"],
    ]);
  });

  it("keeps concurrent runs apart and restores console after failed runs too", async () => {
    const before = console.log;
    const make = (key: string, fail: boolean) =>
      asset({ key }, async () => {
        for (let i = 0; i < 5; i++) {
          console.log(`${key} line ${i}`);
          await tick();
        }
        if (fail) throw new Error(`${key} failed`);
        return key;
      });
    const [r1, r2] = await Promise.all([
      instance.materialize(defineDefinitions({ assets: [make("one", false)] })),
      instance.materialize(defineDefinitions({ assets: [make("two", true)] })),
    ]);
    expect(r1.status).toBe("SUCCESS");
    expect(r2.status).toBe("FAILURE");
    expect(console.log).toBe(before);
    for (const [run, key] of [
      [r1, "one"],
      [r2, "two"],
    ] as const) {
      const { events } = await stored(run);
      expect(ofType(events, "log").map((e) => [e.stepKey, e.source, e.message])).toEqual(
        Array.from({ length: 5 }, (_, i) => [key, "stdout", `${key} line ${i}`]),
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 11. Resources

describe("resources", () => {
  it("sets a resource up once per run for concurrent users and tears it down once", async () => {
    let setups = 0;
    const torn: unknown[] = [];
    const setupRunIds: string[] = [];
    const db = resource({
      setup: async (ctx) => {
        setups++;
        setupRunIds.push(ctx.runId);
        await sleep(5);
        return { id: setups };
      },
      teardown: (value) => {
        torn.push(value);
      },
    });
    const got: unknown[] = [];
    const users = ["u1", "u2", "u3"].map((key) =>
      asset({ key, resources: ["db"] }, async (ctx) => {
        got.push(ctx.resources.db);
        await sleep(2);
        return key;
      }),
    );
    const defs = defineDefinitions({ assets: users, resources: { db } });
    const { summary } = await materialize(defs, { concurrency: 3 });

    expect(summary.status).toBe("SUCCESS");
    expect(setups).toBe(1);
    expect(setupRunIds).toEqual([summary.runId]);
    expect(got).toHaveLength(3);
    expect(new Set(got).size).toBe(1);
    expect(got[0]).toEqual({ id: 1 });
    expect(torn).toHaveLength(1);
    expect(torn[0]).toBe(got[0]);

    // A second run sets it up again.
    const second = await instance.materialize(defs, { concurrency: 3 });
    expect(second.status).toBe("SUCCESS");
    expect(setups).toBe(2);
    expect(torn).toHaveLength(2);
  });

  it("tears resources down even when a step fails", async () => {
    const torn: string[] = [];
    const db = resource({
      setup: () => "conn",
      teardown: (value) => {
        torn.push(value);
      },
    });
    const bad = asset({ key: "bad", resources: ["db"] }, (): number => {
      throw new Error("step failed");
    });
    const { summary } = await materialize(defineDefinitions({ assets: [bad], resources: { db } }));
    expect(summary.status).toBe("FAILURE");
    expect(torn).toEqual(["conn"]);
  });

  it("a teardown error is logged as an error event and does not change the run outcome", async () => {
    const db = resource({
      setup: () => ({ ok: true }),
      teardown: () => {
        throw new Error("teardown boom");
      },
    });
    const user = asset({ key: "user", resources: ["db"] }, () => 1);
    const { summary, events, record } = await materialize(
      defineDefinitions({ assets: [user], resources: { db } }),
    );
    expect(summary.status).toBe("SUCCESS");
    expect(record.status).toBe("SUCCESS");
    expect(statuses(summary)).toEqual({ user: "succeeded" });
    const errors = ofType(events, "log").filter((e) => e.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain('resource "db"');
    expect(errors[0]!.message).toContain("teardown boom");
    expect(errors[0]!.stepKey).toBeUndefined();
    expect(events.at(-1)!.type).toBe("run_succeeded");
  });

  it("a resource whose setup throws fails the steps needing it, naming the resource", async () => {
    let attemptsToSetup = 0;
    const db = resource({
      setup: (): string => {
        attemptsToSetup++;
        throw new Error("connection refused");
      },
    });
    const ran: string[] = [];
    const u1 = asset({ key: "u1", resources: ["db"] }, () => {
      ran.push("u1");
      return 1;
    });
    const u2 = asset({ key: "u2", resources: ["db"] }, () => {
      ran.push("u2");
      return 2;
    });
    const free = asset({ key: "free" }, () => {
      ran.push("free");
      return 3;
    });
    const downstream = asset({ key: "downstream", ins: { u1 } }, (_ctx, { u1 }) => u1);
    const defs = defineDefinitions({ assets: [u1, u2, free, downstream], resources: { db } });
    const { summary, events, record } = await materialize(defs, { concurrency: 3 });

    expect(ran).toEqual(["free"]);
    expect(attemptsToSetup).toBe(1);
    expect(summary.status).toBe("FAILURE");
    expect(record.status).toBe("FAILURE");
    expect(statuses(summary)).toEqual({
      u1: "failed",
      u2: "failed",
      free: "succeeded",
      downstream: "skipped",
    });
    const failed = ofType(events, "step_failed");
    expect(failed.map((f) => f.stepKey).sort()).toEqual(["u1", "u2"]);
    for (const f of failed) {
      expect(f.error.message).toContain('resource "db"');
      expect(f.error.message).toContain("connection refused");
    }
    expect(stepOf(summary, "downstream").reason).toBe('upstream step "u1" failed');
  });
});

// ---------------------------------------------------------------------------------------------
// 12. Run config

describe("run config", () => {
  function configured() {
    const seen: unknown[] = [];
    const a = asset({ key: "asset/key", config: z.object({ n: z.number().default(3) }) }, (ctx) => {
      seen.push(ctx.config);
      return ctx.config.n * 2;
    });
    const plain = asset({ key: "plain" }, () => "p");
    return { seen, defs: defineDefinitions({ assets: [a, plain] }) };
  }

  it("parses defaults when no config is given", async () => {
    const { seen, defs } = configured();
    const { summary } = await materialize(defs);
    expect(summary.status).toBe("SUCCESS");
    expect(seen).toEqual([{ n: 3 }]);
    expect(storedValue("asset/key")).toBe(6);
  });

  it("passes the given config and stores it on the run", async () => {
    const { seen, defs } = configured();
    const config = { "asset/key": { n: 5 } };
    const { summary, record } = await materialize(defs, { config });
    expect(summary.status).toBe("SUCCESS");
    expect(seen).toEqual([{ n: 5 }]);
    expect(storedValue("asset/key")).toBe(10);
    expect(record.config).toEqual(config);
  });

  it("rejects invalid config with InvalidConfigError naming the field, before creating a run", async () => {
    const { seen, defs } = configured();
    const error = await instance.materialize(defs, { config: { "asset/key": { n: "x" } } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as InvalidConfigError).message).toContain("asset/key.n");
    expect((error as InvalidConfigError).issues.map((i) => i.path)).toEqual(["asset/key.n"]);
    expect(seen).toEqual([]);
    expect((await instance.storage.listRuns()).runs).toEqual([]);
  });

  it("rejects config for an unknown step key, naming the key, before creating a run", async () => {
    const { seen, defs } = configured();
    const error = await instance.materialize(defs, { config: { "no/such/step": { n: 1 } } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as InvalidConfigError).message).toContain("no/such/step");
    expect(seen).toEqual([]);
    expect((await instance.storage.listRuns()).runs).toEqual([]);
  });

  it("rejects config for a step that declares no schema", async () => {
    const { defs } = configured();
    await expect(instance.materialize(defs, { config: { plain: { n: 1 } } })).rejects.toBeInstanceOf(
      InvalidConfigError,
    );
    expect((await instance.storage.listRuns()).runs).toEqual([]);
  });
});
