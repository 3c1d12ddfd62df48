import os from "node:os";
import type { Definitions } from "../definitions/definitions.js";
import { BatonError, RunNotFoundError, serializeError } from "../errors.js";
import { type RunStatus, TERMINAL_RUN_STATUSES } from "../execution/events.js";
import type { BatonInstance } from "../instance/instance.js";
import type { WorkerRecord } from "../storage/storage.js";

export interface ExecuteRunOptions {
  readonly instance: BatonInstance;
  readonly definitions: Definitions;
  readonly runId: string;
  /**
   * The worker the run was claimed for. Default: whichever worker claimed it (the launcher that
   * created this process); when given, a run claimed by another worker is refused.
   */
  readonly workerId?: string;
  /** How often to keep the run alive and pick up its cancel request (default 1,000 ms). */
  readonly heartbeatMs?: number;
  /** Aborting cancels the run (e.g. SIGTERM when Kubernetes deletes the Job's pod). */
  readonly signal?: AbortSignal;
}

/**
 * Execute exactly one run in this process: what `baton worker --run-id ID` (a Kubernetes Job's
 * container) does. The run must have been claimed by a launcher (status STARTING: the launcher
 * took it from the queue within the store's limits, so no other worker can take it) and not be
 * started yet; this process then heartbeats it under the claiming worker's id (the store keeps a
 * run alive only for the worker that claimed it), which keeps it alive against the daemon's
 * heartbeat monitor and picks up a cancel request. A run canceled before it started ends
 * CANCELED here without executing. Returns the run's final status; throws a BatonError
 * (USAGE_ERROR / RUN_NOT_FOUND) for a run that is not in a state to execute.
 */
export async function executeRun(options: ExecuteRunOptions): Promise<RunStatus> {
  const { instance, runId } = options;
  const storage = instance.storage;
  const run = await storage.getRun(runId);
  if (!run) throw new RunNotFoundError(runId);
  const refuse = (why: string) => new BatonError("USAGE_ERROR", `Run ${runId} ${why}`);
  if (TERMINAL_RUN_STATUSES.has(run.status))
    throw refuse(`already ended (${run.status}); there is nothing to execute.`);
  if (!run.request)
    throw refuse("was executed where it was launched (it was never queued); there is nothing to execute.");
  if (run.status === "QUEUED")
    throw refuse(
      "is QUEUED: no launcher has claimed it yet. `baton worker --run-id` executes a run a launcher claimed (a Kubernetes Job); `baton worker` runs queued runs.",
    );
  if (run.startedAt !== null || run.status === "STARTED")
    throw refuse(
      `already started (worker ${run.workerId ?? "(unknown)"}); a run is executed once (re-execute it instead).`,
    );
  if (options.workerId !== undefined && run.workerId !== options.workerId)
    throw refuse(`was claimed by worker ${run.workerId ?? "(none)"}, not ${options.workerId}.`);
  if (run.status === "CANCELING") {
    await storage.appendEvents([
      { type: "run_canceled", reason: "canceled before it started", runId, timestamp: Date.now() },
    ]);
    return "CANCELED";
  }

  // Heartbeat as the claiming worker; keep its recorded process and host (the launcher's) so the
  // worker list does not flip between the launcher and its Jobs' pods.
  const workerId = run.workerId ?? `run-${runId}`;
  const known = (await storage.listWorkers().catch(() => [] as WorkerRecord[])).find(
    (w) => w.workerId === workerId,
  );
  const worker = known
    ? { workerId, pid: known.pid, host: known.host, startedAt: known.startedAt }
    : { workerId, pid: process.pid, host: os.hostname(), startedAt: Date.now() };
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason ?? new Error("the run was canceled"));
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let beating: Promise<void> | undefined;
  const beat = () => {
    beating ??= storage
      .heartbeat(worker, [runId], Date.now())
      .then((cancel) => {
        if (cancel.includes(runId)) controller.abort(new Error("the run was canceled"));
      })
      .catch(() => undefined)
      .finally(() => {
        beating = undefined;
      });
    return beating;
  };
  await beat();
  const timer = setInterval(() => void beat(), options.heartbeatMs ?? 1000);
  try {
    const summary = await instance.executeQueuedRun(options.definitions, runId, {
      signal: controller.signal,
    });
    return summary.status;
  } catch (error) {
    // It could not even start (its assets are not in these definitions, store trouble): say why.
    await storage.appendEvents([
      {
        type: "run_failed",
        reason: `the worker could not execute it: ${serializeError(error).message}`,
        error: serializeError(error),
        runId,
        timestamp: Date.now(),
      },
    ]);
    return "FAILURE";
  } finally {
    clearInterval(timer);
    options.signal?.removeEventListener("abort", onAbort);
    await beating;
  }
}
