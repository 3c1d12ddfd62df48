import { describeError, isBatonError, StorageError, serializeError } from "../errors.js";
import { TERMINAL_RUN_STATUSES } from "../execution/events.js";
import type { Storage } from "./storage.js";

/**
 * A run whose record exists but whose execution threw — most often because its events could not
 * be stored (a full or read-only SQLite store, a lost database): without this it stays QUEUED or
 * STARTED for ever, and nothing else (no worker heartbeat for a run executed in the CLI's process)
 * would ever end it. Try to end it as FAILURE with the reason: the failed write was rolled back,
 * and a one-event write often still fits (a few bytes on a nearly full disk) or the fault has
 * passed. (A queued run's worker does the same: worker/run-worker.ts.) Returns the error to throw: a store fault is rewritten to name the run and what
 * became of it; anything else is returned unchanged.
 */
export async function recordRunFailure(storage: Storage, runId: string, error: unknown): Promise<unknown> {
  // A run whose end is stored keeps it (reads still work on a full or read-only store).
  const run = await storage.getRun(runId).catch(() => undefined);
  if (run && TERMINAL_RUN_STATUSES.has(run.status)) return error;
  let marked = false;
  try {
    await storage.appendEvents([
      {
        type: "run_failed",
        reason: `it could not be executed or recorded: ${describeError(error)}`,
        error: serializeError(error),
        runId,
        timestamp: Date.now(),
      },
    ]);
    marked = true;
  } catch {
    // The store still refuses writes: the message below says how to end the run later.
  }
  if (!isBatonError(error) || error.code !== "STORAGE_ERROR") return error;
  const after = marked
    ? `Run ${runId} is marked FAILURE; re-execute it once the store has room.`
    : `Run ${runId} could not be marked failed either: its stored status (QUEUED or STARTED) is stale.`;
  return new StorageError(`${error.message} ${after}`, { cause: error });
}
