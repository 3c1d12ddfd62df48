import type { Storage } from "../storage/storage.js";

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
  for (const run of stale) {
    await storage.appendEvents([
      {
        type: "run_failed",
        reason: workerDiedReason(run.workerId, now - (run.heartbeatAt ?? run.createdAt)),
        runId: run.runId,
        timestamp: now,
      },
    ]);
  }
  return stale.map((r) => r.runId);
}
