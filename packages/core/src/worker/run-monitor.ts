import type { RunStatus } from "../execution/events.js";
import type { Storage } from "../storage/storage.js";

/** What the store's stale-run query looks at (a run a worker holds). */
const ACTIVE: ReadonlySet<RunStatus> = new Set(["STARTING", "STARTED", "CANCELING"]);

/** "0.6 s", "12 s": a sub-second silence (short test heartbeats) is not rounded to "0 s". */
function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/**
 * The reason a run is failed with when its worker stopped heartbeating. It starts with "the worker
 * died" (what a user needs to know first: the run did not fail on its own, re-execute it) and then
 * says how the monitor knows.
 */
export function workerDiedReason(workerId: string | null, silentMs: number): string {
  return `the worker died: ${workerId ?? "its worker (unknown)"} stopped heartbeating (nothing for ${seconds(silentMs)}); it was probably killed, ran out of memory or lost its machine`;
}

/**
 * Fail runs whose worker stopped heartbeating (killed, out of memory, machine gone): a run in
 * progress with no heartbeat for `timeoutMs` ends FAILURE with the reason. Returns their ids.
 */
export async function failStaleRuns(storage: Storage, now: number, timeoutMs: number): Promise<string[]> {
  const stale = await storage.staleRuns(now - timeoutMs);
  const failed: string[] = [];
  for (const listed of stale) {
    // Read again just before failing it: a late (not dead) worker may have heartbeated or ended the
    // run since the list was read (the list can be a busy tick old), and a run_failed appended
    // after its run_succeeded would turn a successful run into a failed one.
    const run = await storage.getRun(listed.runId);
    if (!run || !ACTIVE.has(run.status) || (run.heartbeatAt ?? run.createdAt) >= now - timeoutMs) continue;
    await storage.appendEvents([
      {
        type: "run_failed",
        reason: workerDiedReason(run.workerId, now - (run.heartbeatAt ?? run.createdAt)),
        runId: run.runId,
        timestamp: now,
      },
    ]);
    failed.push(run.runId);
  }
  return failed;
}
