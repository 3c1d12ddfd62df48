import type { MetadataMap } from "../definitions/metadata.js";
import type { SerializedError } from "../errors.js";
import type { RunEvent, RunStatus, StepKind } from "./events.js";

export type StepSummaryStatus = "not_started" | "running" | "succeeded" | "failed" | "skipped" | "canceled";

/** One attempt of a step: a bar on the run's timeline. */
export interface StepAttempt {
  readonly attempt: number;
  readonly startedAt: number;
  /** null while it runs. */
  readonly endedAt: number | null;
  readonly outcome: "running" | "succeeded" | "failed" | "retried" | "canceled";
}

export interface StepSummary {
  readonly stepKey: string;
  readonly kind: StepKind | undefined;
  readonly assetKeys: readonly string[];
  readonly status: StepSummaryStatus;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  readonly durationMs: number | null;
  readonly attempts: number;
  /** Each attempt with its timings, in order (empty when it never started). */
  readonly attemptSpans: readonly StepAttempt[];
  /** Why it was skipped or canceled. */
  readonly reason: string | null;
  readonly error: SerializedError | null;
  readonly materializations: readonly { readonly assetKey: string; readonly metadata: MetadataMap }[];
  readonly checks: readonly {
    readonly assetKey: string;
    readonly checkName: string;
    readonly passed: boolean;
    readonly blocking: boolean;
    readonly severity: string;
    readonly metadata: MetadataMap;
  }[];
}

export interface RunSummary {
  readonly runId: string;
  readonly status: RunStatus;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  readonly durationMs: number | null;
  readonly reason: string | null;
  readonly steps: readonly StepSummary[];
}

type MutableStep = { -readonly [K in keyof StepSummary]: StepSummary[K] } & {
  attemptSpans: StepAttempt[];
  materializations: StepSummary["materializations"][number][];
  checks: StepSummary["checks"][number][];
};

/** Close the step's open attempt, if any. */
function endAttempt(s: MutableStep, at: number, outcome: StepAttempt["outcome"]): void {
  const last = s.attemptSpans[s.attemptSpans.length - 1];
  if (!last || last.endedAt !== null) return;
  // Ended while waiting to retry: that attempt never started.
  if (at < last.startedAt) s.attemptSpans.pop();
  else s.attemptSpans[s.attemptSpans.length - 1] = { ...last, endedAt: at, outcome };
}

/** Fold a run's events into per-step outcomes. The one place that interprets the stream. */
export function summarizeRun(runId: string, status: RunStatus, events: readonly RunEvent[]): RunSummary {
  const steps = new Map<string, MutableStep>();
  const step = (key: string): MutableStep => {
    let s = steps.get(key);
    if (!s) {
      s = {
        stepKey: key,
        kind: undefined,
        assetKeys: [],
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
      };
      steps.set(key, s);
    }
    return s;
  };
  let startedAt: number | null = null;
  let endedAt: number | null = null;
  let reason: string | null = null;
  for (const e of events) {
    switch (e.type) {
      case "run_started":
        startedAt = e.timestamp;
        for (const planned of e.steps) {
          const s = step(planned.stepKey);
          s.kind = planned.kind;
          s.assetKeys = planned.assetKeys;
        }
        break;
      case "run_succeeded":
        endedAt = e.timestamp;
        break;
      case "run_failed":
      case "run_canceled":
        endedAt = e.timestamp;
        reason = e.reason;
        // A run that ended under a step (crash, cancel): its open attempts end there too.
        for (const s of steps.values())
          endAttempt(s, e.timestamp, e.type === "run_canceled" ? "canceled" : "failed");
        break;
      case "step_started": {
        const s = step(e.stepKey);
        s.kind = e.kind;
        s.assetKeys = e.assetKeys;
        s.status = "running";
        if (s.startedAt === null) s.startedAt = e.timestamp;
        s.attempts = Math.max(s.attempts, e.attempt);
        s.attemptSpans.push({
          attempt: e.attempt,
          startedAt: e.timestamp,
          endedAt: null,
          outcome: "running",
        });
        break;
      }
      case "step_retrying": {
        const s = step(e.stepKey);
        s.attempts = e.attempt;
        s.error = e.error;
        endAttempt(s, e.timestamp, "retried");
        // The next attempt starts after the delay (no event of its own marks it).
        s.attemptSpans.push({
          attempt: e.attempt,
          startedAt: e.timestamp + e.delayMs,
          endedAt: null,
          outcome: "running",
        });
        break;
      }
      case "step_succeeded": {
        const s = step(e.stepKey);
        s.status = "succeeded";
        s.endedAt = e.timestamp;
        endAttempt(s, e.timestamp, "succeeded");
        s.durationMs = e.durationMs;
        s.error = null;
        break;
      }
      case "step_failed": {
        const s = step(e.stepKey);
        s.status = "failed";
        s.endedAt = e.timestamp;
        endAttempt(s, e.timestamp, "failed");
        s.durationMs = e.durationMs;
        s.error = e.error;
        s.reason = e.error.message;
        break;
      }
      case "step_skipped": {
        const s = step(e.stepKey);
        s.assetKeys = e.assetKeys;
        s.status = "skipped";
        s.reason = e.reason;
        break;
      }
      case "step_canceled": {
        const s = step(e.stepKey);
        s.status = "canceled";
        s.reason = e.reason;
        if (s.startedAt !== null) s.endedAt = e.timestamp;
        endAttempt(s, e.timestamp, "canceled");
        break;
      }
      case "materialization":
        step(e.stepKey).materializations.push({ assetKey: e.assetKey, metadata: e.metadata });
        break;
      case "check_evaluation":
        step(e.stepKey).checks.push({
          assetKey: e.assetKey,
          checkName: e.checkName,
          passed: e.passed,
          blocking: e.blocking,
          severity: e.severity,
          metadata: e.metadata,
        });
        break;
      default:
        break;
    }
  }
  return {
    runId,
    status,
    startedAt,
    endedAt,
    durationMs: startedAt !== null && endedAt !== null ? endedAt - startedAt : null,
    reason,
    steps: [...steps.values()],
  };
}
