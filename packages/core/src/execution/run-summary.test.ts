import { describe, expect, it } from "vitest";
import type { RunEvent } from "./events.js";
import { summarizeRun } from "./run-summary.js";

const ev = (timestamp: number, e: Record<string, unknown>) =>
  ({ timestamp, runId: "r", ...e }) as unknown as RunEvent;
const started = (t: number, stepKey: string) =>
  ev(t, { type: "step_started", stepKey, kind: "asset", assetKeys: [stepKey], attempt: 1 });
const error = { name: "Error", message: "boom" };

describe("summarizeRun attempt spans", () => {
  it("gives one span per attempt, the retry starting after its delay", () => {
    const s = summarizeRun("r", "SUCCESS", [
      ev(0, { type: "run_started", steps: [{ stepKey: "a", kind: "asset", assetKeys: ["a"] }] }),
      started(10, "a"),
      ev(20, { type: "step_retrying", stepKey: "a", attempt: 2, delayMs: 5, error }),
      ev(40, { type: "step_succeeded", stepKey: "a", durationMs: 30 }),
      ev(41, { type: "run_succeeded" }),
    ]);
    const a = s.steps.find((x) => x.stepKey === "a")!;
    expect(a.attempts).toBe(2);
    expect(a.startedAt).toBe(10);
    expect(a.attemptSpans).toEqual([
      { attempt: 1, startedAt: 10, endedAt: 20, outcome: "retried" },
      { attempt: 2, startedAt: 25, endedAt: 40, outcome: "succeeded" },
    ]);
  });

  it("leaves a running attempt open and closes it when the run ends under it", () => {
    const running = summarizeRun("r", "STARTED", [started(10, "a")]);
    expect(running.steps[0]!.attemptSpans).toEqual([
      { attempt: 1, startedAt: 10, endedAt: null, outcome: "running" },
    ]);
    const canceled = summarizeRun("r", "CANCELED", [
      started(10, "a"),
      ev(30, { type: "run_canceled", reason: "asked" }),
    ]);
    expect(canceled.steps[0]!.attemptSpans).toEqual([
      { attempt: 1, startedAt: 10, endedAt: 30, outcome: "canceled" },
    ]);
  });

  it("drops an attempt canceled before its retry delay elapsed", () => {
    const s = summarizeRun("r", "CANCELED", [
      started(10, "a"),
      ev(20, { type: "step_retrying", stepKey: "a", attempt: 2, delayMs: 1000, error }),
      ev(30, { type: "step_canceled", stepKey: "a", assetKeys: ["a"], reason: "canceled while waiting" }),
    ]);
    expect(s.steps[0]!.attemptSpans).toEqual([
      { attempt: 1, startedAt: 10, endedAt: 20, outcome: "retried" },
    ]);
    expect(s.steps[0]!.status).toBe("canceled");
  });

  it("gives a failed step a failed span and a skipped step none", () => {
    const s = summarizeRun("r", "FAILURE", [
      started(10, "a"),
      ev(15, { type: "step_failed", stepKey: "a", assetKeys: ["a"], durationMs: 5, attempt: 1, error }),
      ev(16, {
        type: "step_skipped",
        stepKey: "b",
        assetKeys: ["b"],
        reason: "upstream a failed",
        cause: "a",
      }),
    ]);
    expect(s.steps[0]!.attemptSpans).toEqual([{ attempt: 1, startedAt: 10, endedAt: 15, outcome: "failed" }]);
    expect(s.steps[1]!.attemptSpans).toEqual([]);
  });
});
