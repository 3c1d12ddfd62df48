import { randomUUID } from "node:crypto";
import os from "node:os";
import type { Definitions } from "../definitions/definitions.js";
import { serializeError } from "../errors.js";
import type { RunStatus } from "../execution/events.js";
import type { BatonInstance } from "../instance/instance.js";
import type { RunRecord, TagLimit } from "../storage/storage.js";

export interface RunWorkerOptions {
  readonly instance: BatonInstance;
  /**
   * Loaded once; every run of this worker executes against them. A function loads them when the
   * first run is queued (before claiming it): an idle worker holds none of the user's code (nor
   * TypeScript's loader, nor DuckDB). If it throws, this worker claims nothing (other workers may).
   */
  readonly definitions: Definitions | (() => Promise<Definitions>);
  /** The lazy definitions could not be loaded (called once). */
  onLoadFailed?(error: unknown): void;
  /**
   * With lazy definitions: once they are loaded, stop (return) after this long without a run, so
   * the process can be replaced by one holding nothing (DuckDB and the user's imports stay in
   * memory otherwise). Default: never.
   */
  readonly idleExitMs?: number;
  readonly workerId?: string;
  /** Runs executed at once by this worker (default 1). */
  readonly slots?: number;
  /** How often to look for queued runs (default 100 ms). */
  readonly pollMs?: number;
  /** How often to report liveness and pick up cancel requests (default 1,000 ms). */
  readonly heartbeatMs?: number;
  readonly maxConcurrentRuns?: number;
  readonly tagLimits?: readonly TagLimit[];
  /** Stop claiming when aborted; runs in flight finish (abort them with `cancelInFlight`). */
  readonly signal: AbortSignal;
  readonly cancelInFlight?: AbortSignal;
  /** Asked before each claim; false: stop claiming (e.g. the code was reloaded), finish, return. */
  readonly mayClaim?: () => Promise<boolean>;
  onRunStart?(runId: string): void;
  onRunEnd?(runId: string, status: RunStatus): void;
}

/**
 * A run worker: claims queued runs (within the global and per-tag limits, atomically against other
 * workers) and executes them with the definitions it loaded once; heartbeats for itself and its
 * runs, and aborts a run when its cancel is requested. Returns when `signal` is aborted and its
 * runs have ended.
 */
export async function runWorker(options: RunWorkerOptions): Promise<void> {
  const { instance } = options;
  const storage = instance.storage;
  let definitions = typeof options.definitions === "function" ? undefined : options.definitions;
  let loadFailed = false;
  /** True once the definitions are loaded; loads them when a run is queued. */
  const ready = async (): Promise<boolean> => {
    if (definitions) return true;
    if (loadFailed || typeof options.definitions !== "function") return false;
    const queued = await storage.listRuns({ statuses: ["QUEUED"], limit: 1 }).catch(() => undefined);
    if (!queued || queued.runs.length === 0) return false;
    try {
      definitions = await options.definitions();
      return true;
    } catch (error) {
      loadFailed = true;
      options.onLoadFailed?.(error);
      return false;
    }
  };
  const worker = {
    workerId: options.workerId ?? `worker-${randomUUID()}`,
    pid: process.pid,
    host: os.hostname(),
    startedAt: Date.now(),
  };
  const slots = Math.max(1, options.slots ?? 1);
  const pollMs = options.pollMs ?? 100;
  const heartbeatMs = options.heartbeatMs ?? 1000;
  const active = new Map<string, { controller: AbortController; done: Promise<void> }>();
  let beating: Promise<void> | undefined;
  // Wakes the claim loop early (a run ended: a slot is free now, no need to wait for the poll).
  let wake: () => void = () => {};

  const beat = () => {
    if (beating) return beating;
    beating = storage
      .heartbeat(worker, [...active.keys()], Date.now())
      .then((cancel) => {
        for (const runId of cancel) active.get(runId)?.controller.abort(new Error("the run was canceled"));
      })
      .catch(() => undefined)
      .finally(() => {
        beating = undefined;
      });
    return beating;
  };

  const start = (run: RunRecord) => {
    const runId = run.runId;
    const controller = new AbortController();
    const inFlight = options.cancelInFlight;
    const onCancel = () => controller.abort(inFlight?.reason);
    inFlight?.addEventListener("abort", onCancel, { once: true });
    options.onRunStart?.(runId);
    const done = instance
      .executeQueuedRun(definitions!, runId, { signal: controller.signal, run })
      .then(
        (summary) => options.onRunEnd?.(runId, summary.status),
        async (error: unknown) => {
          // It could not even start (definitions changed since launch, store trouble): record why.
          await storage
            .appendEvents([
              {
                type: "run_failed",
                reason: `the worker could not execute it: ${serializeError(error).message}`,
                error: serializeError(error),
                runId,
                timestamp: Date.now(),
              },
            ])
            .catch(() => undefined);
          options.onRunEnd?.(runId, "FAILURE");
        },
      )
      .finally(() => {
        inFlight?.removeEventListener("abort", onCancel);
        active.delete(runId);
        wake();
      });
    active.set(runId, { controller, done });
  };

  await beat();
  const heartbeat = setInterval(() => void beat(), heartbeatMs);
  const idleExitMs = typeof options.definitions === "function" ? options.idleExitMs : undefined;
  let idleSince = Date.now();
  try {
    while (!options.signal.aborted) {
      if (active.size > 0) idleSince = Date.now();
      else if (idleExitMs !== undefined && definitions && Date.now() - idleSince >= idleExitMs) break;
      const free = slots - active.size;
      if (free > 0 && options.mayClaim && !(await options.mayClaim().catch(() => true))) break;
      if (free > 0 && (await ready())) {
        const claimed = await storage
          .claimRuns({
            workerId: worker.workerId,
            limit: free,
            now: Date.now(),
            ...(options.maxConcurrentRuns !== undefined
              ? { maxConcurrentRuns: options.maxConcurrentRuns }
              : {}),
            ...(options.tagLimits ? { tagLimits: options.tagLimits } : {}),
          })
          .catch(() => []);
        for (const run of claimed) start(run);
        if (claimed.length > 0) continue;
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          options.signal.removeEventListener("abort", done);
          wake = () => {};
          resolve();
        };
        wake = done;
        const timer = setTimeout(done, pollMs);
        options.signal.addEventListener("abort", done, { once: true });
      });
    }
    await Promise.all([...active.values()].map((a) => a.done));
  } finally {
    clearInterval(heartbeat);
    await beating;
    await storage.stopWorker(worker.workerId, Date.now()).catch(() => undefined);
  }
}
