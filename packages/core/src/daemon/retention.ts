import type { BatonInstance } from "../instance/instance.js";
import { type RetentionPolicy, retentionCutoffs } from "../retention/policy.js";
import type { PurgeResult } from "../storage/storage.js";

export interface RetentionTaskOptions {
  readonly instance: BatonInstance;
  readonly policy: RetentionPolicy;
  readonly log: (line: string) => void;
}

/** One line for a purge: what went, from before when, how long it took. */
export function describePurge(result: PurgeResult, cutoffs: ReturnType<typeof retentionCutoffs>, ms: number) {
  const parts: string[] = [];
  if (cutoffs.eventsBefore !== undefined)
    parts.push(
      `${result.events} events and ${result.logs} log lines of ${result.runs} runs ended before ${new Date(cutoffs.eventsBefore).toISOString()}`,
    );
  if (cutoffs.ticksBefore !== undefined)
    parts.push(`${result.ticks} ticks before ${new Date(cutoffs.ticksBefore).toISOString()}`);
  if (cutoffs.automationBefore !== undefined)
    parts.push(
      `${result.automationEvaluations} automation decisions before ${new Date(cutoffs.automationBefore).toISOString()}`,
    );
  return `${parts.join(", ")} in ${(ms / 1000).toFixed(1)} s${result.canceled ? " (stopped early)" : ""}`;
}

/**
 * The daemon's retention task: purges by `policy` when due (every `policy.everyMs` by the daemon's
 * clock, first at once), in the store's bounded statements, so runs and ticks keep going meanwhile.
 * `step` is the loop body; the daemon's signal stops a purge between statements.
 */
export function createRetentionTask(options: RetentionTaskOptions) {
  const { instance, policy, log } = options;
  let dueAt = Number.NEGATIVE_INFINITY;
  return {
    /** How often the daemon should call `step` (it does nothing until due). */
    periodMs: Math.min(policy.everyMs, 60_000),
    async step(now: number, signal?: AbortSignal): Promise<PurgeResult | undefined> {
      if (now < dueAt) return undefined;
      dueAt = now + policy.everyMs;
      const cutoffs = retentionCutoffs(policy, now);
      const started = Date.now();
      const result = await instance.storage.purge({ ...cutoffs, ...(signal ? { signal } : {}) });
      const purged = result.events + result.logs + result.ticks + result.automationEvaluations;
      if (purged > 0 || result.canceled)
        log(`retention: purged ${describePurge(result, cutoffs, Date.now() - started)}`);
      return result;
    },
  };
}
