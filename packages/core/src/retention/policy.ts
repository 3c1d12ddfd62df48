/**
 * A retention policy and the purge cutoffs it gives: plain data, so the daemon can take one without
 * loading the config reader (zod, the CLI's file lookup) into `@baton/core/internal`.
 */

/** `retention` in baton.config.json, as milliseconds. */
export interface RetentionPolicy {
  /** Ended runs' step events and logs older than this. */
  readonly eventsMs?: number;
  readonly ticksMs?: number;
  readonly automationMs?: number;
  /** How often the daemon purges (default 1 hour). */
  readonly everyMs: number;
}

/** Cutoffs (epoch ms) for a purge at `now` under `policy`. */
export function retentionCutoffs(policy: Omit<RetentionPolicy, "everyMs">, now: number) {
  return {
    ...(policy.eventsMs !== undefined ? { eventsBefore: now - policy.eventsMs } : {}),
    ...(policy.ticksMs !== undefined ? { ticksBefore: now - policy.ticksMs } : {}),
    ...(policy.automationMs !== undefined ? { automationBefore: now - policy.automationMs } : {}),
  };
}
