import type { Storage } from "../storage/storage.js";

/**
 * Fail runs whose worker stopped heartbeating (killed, out of memory, machine gone): a run in
 * progress with no heartbeat for `timeoutMs` ends FAILURE with the reason. Returns their ids.
 */
export async function failStaleRuns(storage: Storage, now: number, timeoutMs: number): Promise<string[]> {
  const stale = await storage.staleRuns(now - timeoutMs);
  for (const run of stale) {
    const silentFor = Math.round((now - (run.heartbeatAt ?? run.createdAt)) / 1000);
    await storage.appendEvents([
      {
        type: "run_failed",
        reason: `its worker ${run.workerId ?? "(unknown)"} stopped heartbeating (nothing for ${silentFor} s); it was probably killed`,
        runId: run.runId,
        timestamp: now,
      },
    ]);
  }
  return stale.map((r) => r.runId);
}
