import type { AssetJobDefinition } from "./job.js";

export const SCHEDULE_BRAND = Symbol.for("baton.schedule");

/** What a schedule or sensor launches: a job (by definition or name) or a selection string. */
export interface RunTarget {
  readonly job?: string;
  readonly selection?: string;
}

export function toTarget(
  job: AssetJobDefinition | string | undefined,
  selection: string | undefined,
): RunTarget {
  return {
    ...(job !== undefined ? { job: typeof job === "string" ? job : job.name } : {}),
    ...(selection !== undefined ? { selection } : {}),
  };
}

export interface ScheduleTickContext {
  /** The tick's scheduled time (not when the daemon got to it). */
  readonly scheduledTime: Date;
}

export interface ScheduleOptions {
  readonly name: string;
  /** Five-field cron (`0 6 1 * *`); `@daily`-style macros work too. */
  readonly cron: string;
  /** IANA zone the cron is read in (default UTC); DST transitions are handled by cron-parser. */
  readonly timezone?: string;
  readonly job?: AssetJobDefinition | string;
  readonly selection?: string;
  /**
   * Partitioned targets: the partition(s) a tick requests. Default for time-window partitions:
   * the latest window that closed at or before the tick (a monthly schedule on the 1st
   * materializes the month that just ended). Other partitions need this function.
   */
  readonly partitionKeys?: (ctx: ScheduleTickContext) => string | readonly string[];
  readonly config?:
    | Readonly<Record<string, unknown>>
    | ((ctx: ScheduleTickContext) => Readonly<Record<string, unknown>>);
  readonly tags?: Readonly<Record<string, string>>;
  /** State until someone runs `baton schedule start|stop` (default STOPPED, as in Dagster). */
  readonly defaultStatus?: "RUNNING" | "STOPPED";
  /**
   * After downtime, launch at most this many of the missed ticks (the latest ones); the rest are
   * recorded as skipped. Default 0: missed ticks are not replayed.
   */
  readonly catchUp?: number;
  readonly description?: string;
}

export interface ScheduleDefinition {
  readonly [SCHEDULE_BRAND]: true;
  readonly kind: "schedule";
  readonly name: string;
  readonly cron: string;
  readonly timezone: string;
  readonly target: RunTarget;
  readonly partitionKeys: ((ctx: ScheduleTickContext) => string | readonly string[]) | undefined;
  readonly config: ScheduleOptions["config"];
  readonly tags: Readonly<Record<string, string>>;
  readonly defaultStatus: "RUNNING" | "STOPPED";
  readonly catchUp: number;
  readonly description: string | undefined;
}

/** A cron schedule launching a job or selection (queued for run workers by `baton daemon`). */
export function schedule(options: ScheduleOptions): ScheduleDefinition {
  return {
    [SCHEDULE_BRAND]: true,
    kind: "schedule",
    name: options.name,
    cron: options.cron,
    timezone: options.timezone ?? "UTC",
    target: toTarget(options.job, options.selection),
    partitionKeys: options.partitionKeys,
    config: options.config,
    tags: { ...(options.tags ?? {}) },
    defaultStatus: options.defaultStatus ?? "STOPPED",
    catchUp: options.catchUp ?? 0,
    description: options.description,
  };
}

export function isScheduleDefinition(value: unknown): value is ScheduleDefinition {
  return (
    typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[SCHEDULE_BRAND] === true
  );
}
