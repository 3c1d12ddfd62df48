import type { Definitions } from "../definitions/definitions.js";
import { describeError } from "../errors.js";
import type { BatonInstance } from "../instance/instance.js";

/** Tag on a run (or set by `--max-retries`): how many times the daemon re-executes it from failure. */
export const MAX_RETRIES_TAG = "baton/max-retries";
export const RETRY_NUMBER_TAG = "baton/retry-number";
const CURSOR_KEY = "daemon/retries-cursor";
const HISTORY_MS = 3_600_000;

/**
 * Automatic retries: a queued run that ended FAILURE with `baton/max-retries` N > its retry number
 * is re-executed from failure (what did not materialize) as a new queued run, once (keyed by the
 * failed run's id).
 */
export async function retryFailedRuns(
  instance: BatonInstance,
  definitions: Definitions,
  now: number,
  log: (line: string) => void,
): Promise<string[]> {
  const storage = instance.storage;
  // From the first run ever on (a run that failed before any daemon ran is retried too), but a
  // failure older than an hour when first seen is history, not something to retry now.
  let cursor = (await storage.getValue(CURSOR_KEY)) ?? "0";
  const launched: string[] = [];
  for (;;) {
    const page = await storage.listEndedRuns({ after: cursor, statuses: ["FAILURE"], limit: 200 });
    for (const run of page.runs) {
      const max = Number(run.tags[MAX_RETRIES_TAG] ?? 0);
      const attempt = Number(run.tags[RETRY_NUMBER_TAG] ?? 0);
      if (!run.request || !(max > attempt)) continue;
      if (run.endedAt !== null && now - run.endedAt > HISTORY_MS) continue;
      try {
        const summary = await instance.runSummary(run.runId);
        const materialized = new Set(
          summary.steps.flatMap((s) =>
            s.status === "succeeded" ? s.materializations.map((m) => m.assetKey) : [],
          ),
        );
        const assetKeys = run.request.assetKeys.filter(
          (k) => !materialized.has(k) && definitions.graph.has(k),
        );
        if (assetKeys.length === 0) continue;
        const retry = await instance.launchRun(definitions, {
          assetKeys,
          ...(run.request.partitionKeys ? { partitions: { keys: run.request.partitionKeys } } : {}),
          config: run.config,
          tags: { ...run.tags, [RETRY_NUMBER_TAG]: String(attempt + 1) },
          parentRunId: run.runId,
          rootRunId: run.rootRunId ?? run.runId,
          ...(run.backfillId ? { backfillId: run.backfillId } : {}),
          runKey: { owner: "retries", key: run.runId },
          now,
        });
        if (retry.created) {
          launched.push(retry.runId);
          log(`run ${run.runId} failed: retry ${attempt + 1}/${max} is run ${retry.runId}`);
        }
      } catch (error) {
        log(`run ${run.runId}: could not launch its retry: ${describeError(error)}`);
      }
    }
    if (page.cursor && page.cursor !== cursor) {
      cursor = page.cursor;
      await storage.setValue(CURSOR_KEY, cursor, now);
    }
    if (page.runs.length < 200) break;
  }
  return launched;
}
