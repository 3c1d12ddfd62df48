import { availableParallelism } from "node:os";
import type { Logger, LogLevel } from "../definitions/context.js";
import type { Definitions } from "../definitions/definitions.js";
import { describeError, serializeError } from "../errors.js";
import type { RunEventBody, RunStatus, StepStatus } from "./events.js";
import { captureConsole } from "./log-capture.js";
import type { ExecutionPlan, PlannedStep } from "./plan.js";
import { createRunResources } from "./resources.js";
import type { KeySpaces, RunPartitions } from "./run-partitions.js";
import {
  type ReadDataVersions,
  runStep,
  type StepEnvironment,
  type StepOutcome,
  stepLogger,
} from "./step-runner.js";

export interface ExecuteOptions {
  readonly runId: string;
  readonly definitions: Definitions;
  readonly plan: ExecutionPlan;
  /** Parsed config per step key (see parseRunConfig). */
  readonly config: ReadonlyMap<string, unknown>;
  /** Instance home, for resources (the default IO manager writes under it). */
  readonly home: string;
  /** The partitions the run covers (undefined: unpartitioned). */
  readonly partitions?: RunPartitions | undefined;
  /** Key spaces for every partitions definition the run touches. */
  readonly keySpaces: KeySpaces;
  /** Steps running at once (default: CPU count). */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  /** The store's data versions of upstream assets, recorded as the versions each step read. */
  readonly readDataVersions?: ReadDataVersions;
  /** Receives every event in order; the caller stamps and stores them. */
  emit(event: RunEventBody): void;
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly random?: () => number;
}

/** Run-level logger (no step): resources log through it. */
function runLogger(emit: (event: RunEventBody) => void): Logger {
  const log = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) =>
    emit({ type: "log", level, message: String(message), source: "logger", fields });
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Execute a plan: steps run concurrently in dependency order (bounded), a failed step or failed
 * blocking check skips everything downstream with the reason, cancellation marks steps not yet
 * started as canceled. Emits the whole event stream, run_started to the final run event.
 */
export async function executePlan(options: ExecuteOptions): Promise<RunStatus> {
  const { plan, emit } = options;
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) controller.abort(options.signal.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const signal = controller.signal;
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? availableParallelism()));

  const env: StepEnvironment = {
    runId: options.runId,
    definitions: options.definitions,
    resources: createRunResources(options.definitions.resources, {
      runId: options.runId,
      home: options.home,
      log: runLogger(options.emit),
    }),
    config: options.config,
    signal,
    values: new Map(),
    partitions: options.partitions,
    keySpaces: options.keySpaces,
    capture: captureConsole(),
    readDataVersions: options.readDataVersions,
    emit,
    now: options.now ?? Date.now,
    sleep: options.sleep ?? abortableSleep,
    random: options.random ?? Math.random,
  };

  emit({
    type: "run_started",
    steps: plan.steps.map((s) => ({ stepKey: s.key, kind: s.kind, assetKeys: s.assetKeys })),
  });
  // Keep the process alive while the run lasts: a body that only awaits its AbortSignal holds
  // no handle, and Node would otherwise exit mid-run (code 13, unsettled top-level await).
  const keepAlive = setInterval(() => {}, 1 << 30);
  const statuses = new Map<string, StepStatus>();
  try {
    await schedule(plan, concurrency, signal, statuses, env);
  } finally {
    await env.resources.teardown((name, error) =>
      stepLogger(env, undefined).error(`teardown of resource "${name}" failed: ${describeError(error)}`, {
        error: serializeError(error),
      }),
    );
    env.capture.release();
    options.signal?.removeEventListener("abort", onAbort);
    clearInterval(keepAlive);
  }

  const counts = { failed: 0, skipped: 0, canceled: 0 };
  for (const s of statuses.values()) if (s !== "succeeded") counts[s]++;
  if (signal.aborted) {
    emit({
      type: "run_canceled",
      reason: signal.reason instanceof Error ? signal.reason.message : "canceled",
    });
    return "CANCELED";
  }
  if (counts.failed + counts.skipped + counts.canceled > 0) {
    const parts = [
      counts.failed && `${counts.failed} step${counts.failed === 1 ? "" : "s"} failed`,
      counts.skipped && `${counts.skipped} skipped`,
    ].filter(Boolean);
    emit({ type: "run_failed", reason: parts.join(", ") });
    return "FAILURE";
  }
  emit({ type: "run_succeeded" });
  return "SUCCESS";
}

async function schedule(
  plan: ExecutionPlan,
  concurrency: number,
  signal: AbortSignal,
  statuses: Map<string, StepStatus>,
  env: StepEnvironment,
): Promise<void> {
  const dependents = new Map<string, PlannedStep[]>();
  const waiting = new Map<string, number>();
  for (const step of plan.steps) {
    waiting.set(step.key, step.dependsOn.length);
    for (const dep of step.dependsOn) {
      const list = dependents.get(dep) ?? [];
      list.push(step);
      dependents.set(dep, list);
    }
  }
  const ready: PlannedStep[] = plan.steps.filter((s) => s.dependsOn.length === 0);
  let head = 0;
  let running = 0;

  const skipDownstream = (from: PlannedStep, outcome: StepOutcome) => {
    const stack: { step: PlannedStep; cause: string; reason: string }[] = [];
    const reasonFor = (cause: PlannedStep, o: StepStatus | "check_failed") =>
      o === "check_failed"
        ? `blocking check "${cause.key}" failed`
        : o === "failed"
          ? `upstream step "${cause.key}" failed`
          : o === "canceled"
            ? `upstream step "${cause.key}" was canceled`
            : `upstream step "${cause.key}" was skipped`;
    const first = outcome.checkFailed ? "check_failed" : outcome.status;
    for (const d of dependents.get(from.key) ?? [])
      stack.push({ step: d, cause: from.key, reason: reasonFor(from, first) });
    while (stack.length > 0) {
      const { step, cause, reason } = stack.pop()!;
      if (statuses.has(step.key)) continue;
      statuses.set(step.key, "skipped");
      env.emit({ type: "step_skipped", stepKey: step.key, assetKeys: step.assetKeys, reason, cause });
      for (const d of dependents.get(step.key) ?? [])
        stack.push({ step: d, cause: step.key, reason: reasonFor(step, "skipped") });
    }
  };

  await new Promise<void>((resolve) => {
    const pump = () => {
      if (signal.aborted) {
        for (const step of plan.steps) {
          if (!statuses.has(step.key) && !started.has(step.key)) {
            statuses.set(step.key, "canceled");
            env.emit({
              type: "step_canceled",
              stepKey: step.key,
              assetKeys: [],
              reason: "the run was canceled before this step started",
            });
          }
        }
      }
      while (!signal.aborted && running < concurrency && head < ready.length) {
        const step = ready[head++]!;
        if (statuses.has(step.key)) continue;
        started.add(step.key);
        running++;
        runStep(env, step)
          .catch((error): StepOutcome => {
            // runStep handles user errors itself; this is a last resort so a run never hangs.
            env.emit({
              type: "step_failed",
              stepKey: step.key,
              assetKeys: step.check ? [] : step.assetKeys,
              durationMs: 0,
              attempt: 1,
              error: serializeError(error),
            });
            return { status: "failed" };
          })
          .then((outcome) => {
            running--;
            statuses.set(step.key, outcome.status);
            if (outcome.status === "succeeded") {
              for (const d of dependents.get(step.key) ?? []) {
                const left = waiting.get(d.key)! - 1;
                waiting.set(d.key, left);
                if (left === 0 && !statuses.has(d.key)) ready.push(d);
              }
            } else {
              skipDownstream(step, outcome);
            }
            pump();
          });
      }
      if (running === 0 && (signal.aborted || head >= ready.length)) resolve();
    };
    const started = new Set<string>();
    signal.addEventListener("abort", () => pump(), { once: true });
    pump();
  });
}
