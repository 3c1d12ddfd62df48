import type { Definitions } from "../definitions/definitions.js";
import type { MultiPartitionKeySpace, PartitionsDefinition } from "../definitions/partitions/partitions.js";
import type { ScheduleDefinition } from "../definitions/schedule.js";
import { describeError } from "../errors.js";
import { resolveSelection } from "../graph/selection.js";
import type { BatonInstance } from "../instance/instance.js";
import { loadKeySpaces } from "../instance/run-partitions-request.js";
import type { InstigatorStatus, Storage, TickStatus } from "../storage/storage.js";
import { faultPoint } from "../util/fault-points.js";
import { cronTicksBetween, recentCronTicks } from "./cron-ticks.js";
import { type Launched, launchRequest } from "./launcher.js";

export interface ScheduleEvalOptions {
  readonly instance: BatonInstance;
  readonly definitions: Definitions;
  readonly now: number;
  /** A tick older than this when the daemon gets to it counts as missed (default 60 s). */
  readonly lateToleranceMs?: number;
  readonly log?: (line: string) => void;
}

export interface ScheduleTickOutcome {
  readonly scheduledTime: number;
  readonly status: TickStatus;
  readonly launched: readonly Launched[];
  readonly skipReason: string | null;
  readonly error: string | null;
}

export function scheduleStatus(schedule: ScheduleDefinition, stored: InstigatorStatus | null | undefined) {
  return stored ?? schedule.defaultStatus;
}

/**
 * The partition keys a tick requests. Time windows: the latest window that closed at or before the
 * tick; a multi-partitioned target with one time dimension: that window × every other key.
 */
export async function schedulePartitionKeys(
  schedule: ScheduleDefinition,
  definitions: Definitions,
  instance: BatonInstance,
  scheduledTime: number,
): Promise<readonly string[] | undefined> {
  if (schedule.partitionKeys) {
    const out = schedule.partitionKeys({ scheduledTime: new Date(scheduledTime) });
    return typeof out === "string" ? [out] : out;
  }
  const selection = definitions.selectionOf(schedule.target);
  let anchor: PartitionsDefinition | undefined;
  const selected = resolveSelection(selection, definitions.graph);
  for (const key of definitions.graph.topologicalOrder()) {
    if (!selected.has(key)) continue;
    anchor = definitions.computationOf(key).partitions;
    if (anchor) break;
  }
  if (!anchor) return undefined;
  const spaces = await loadKeySpaces(definitions, instance.storage, scheduledTime);
  const timeDimension = (def: PartitionsDefinition) => {
    if (def.kind === "time") return def;
    if (def.kind === "multi") {
      const times = def.dimensionNames.filter((n) => def.dimensions[n]!.kind === "time");
      if (times.length === 1) return def.dimensions[times[0]!]!;
    }
    return undefined;
  };
  const time = timeDimension(anchor);
  if (time?.kind !== "time")
    throw new Error(
      `the target is partitioned (${anchor.describeFormat()}) without a single time dimension: give the schedule partitionKeys`,
    );
  const timeSpace = time.resolve(spaces.context);
  const index = timeSpace.indexContaining(scheduledTime) - 1;
  const at = new Date(scheduledTime).toISOString();
  if (index < 0)
    throw new Error(`no ${time.describeFormat()} window closed before ${at}: the partitions start later`);
  if (index >= timeSpace.count())
    throw new Error(
      `the window that closed before ${at} is past the partitions' end (last: ${
        timeSpace.count() > 0 ? timeSpace.keyAt(timeSpace.count() - 1) : "none"
      })`,
    );
  const windowKey = timeSpace.keyAt(index);
  const multi = anchor;
  if (multi.kind !== "multi") return [windowKey];
  const space = spaces.of(multi) as MultiPartitionKeySpace;
  const timeName = multi.dimensionNames.find((n) => multi.dimensions[n]!.kind === "time")!;
  const combos: Record<string, string>[] = [{}];
  for (const name of multi.dimensionNames) {
    const values = name === timeName ? [windowKey] : [...space.dimension(name).keys()];
    const next: Record<string, string>[] = [];
    for (const c of combos) for (const v of values) next.push({ ...c, [name]: v });
    combos.splice(0, combos.length, ...next);
  }
  return combos.map((c) => space.join(c));
}

/**
 * Whether a tick at this scheduled time is already recorded. Only the latest records are read: a
 * tick being evaluated is after the saved cursor, so its record (if any) is among the newest.
 */
async function tickRecorded(storage: Storage, name: string, scheduledTime: number): Promise<boolean> {
  const recent = await storage.listTicks(name, { limit: 100 });
  return recent.some((t) => t.timestamp === scheduledTime);
}

/**
 * Evaluate one schedule at `now`: launch the ticks due since its cursor (each at most once: the
 * tick time is the run key), record each tick, skip missed ticks beyond `catchUp`, save the cursor.
 */
export async function evaluateSchedule(
  schedule: ScheduleDefinition,
  options: ScheduleEvalOptions,
): Promise<ScheduleTickOutcome[]> {
  const { instance, definitions, now } = options;
  const storage = instance.storage;
  const state = await storage.getInstigatorState(schedule.name);
  if (scheduleStatus(schedule, state?.status) !== "RUNNING") return [];
  const cursor = state?.cursor ? Number(state.cursor) : undefined;
  if (cursor === undefined || !Number.isFinite(cursor)) {
    // Just started: ticks count from now on.
    await storage.setInstigatorState(schedule.name, "schedule", { cursor: String(now) }, now);
    return [];
  }
  if (cursor >= now) return [];
  const tolerance = options.lateToleranceMs ?? 60_000;
  // On-time ticks and up to `catchUp` late ones are launched; anything older is missed (only
  // counted, up to 10,000, so a long downtime costs a bounded pass, not one launch per tick).
  const recent = recentCronTicks(schedule.cron, schedule.timezone, cursor, now, tolerance, schedule.catchUp);
  if (recent.ticks.length === 0 && recent.olderMissed === undefined) return [];
  const onTime = recent.ticks.filter((t) => now - t <= tolerance);
  const caughtUp = recent.ticks.filter((t) => now - t > tolerance);
  const missed: number[] = [];
  let truncated = false;
  if (recent.olderMissed !== undefined) {
    const older = cronTicksBetween(schedule.cron, schedule.timezone, cursor, recent.olderMissed, 10_000);
    missed.push(...older.ticks);
    truncated = older.truncated;
    if (missed[missed.length - 1] !== recent.olderMissed) missed.push(recent.olderMissed);
  }
  const ticks = [...missed, ...caughtUp, ...onTime];
  const outcomes: ScheduleTickOutcome[] = [];
  const record = async (o: ScheduleTickOutcome, started: number) => {
    outcomes.push(o);
    await storage.addTick({
      name: schedule.name,
      kind: "schedule",
      timestamp: o.scheduledTime,
      status: o.status,
      runIds: o.launched.map((l) => l.id),
      skipReason: o.skipReason,
      error: o.error,
      cursor: String(o.scheduledTime),
      durationMs: Date.now() - started,
    });
  };
  if (missed.length > 0) {
    const first = new Date(missed[0]!).toISOString();
    const last = new Date(missed[missed.length - 1]!).toISOString();
    await record(
      {
        scheduledTime: missed[missed.length - 1]!,
        status: "SKIPPED",
        launched: [],
        skipReason: `${truncated ? "more than " : ""}${missed.length} tick(s) missed while the daemon was not running (${first} … ${last}); catchUp is ${schedule.catchUp}`,
        error: null,
      },
      Date.now(),
    );
  }
  for (const tick of [...caughtUp, ...onTime]) {
    const started = Date.now();
    let outcome: ScheduleTickOutcome;
    try {
      const keys = await schedulePartitionKeys(schedule, definitions, instance, tick);
      const ctx = { scheduledTime: new Date(tick) };
      const config = typeof schedule.config === "function" ? schedule.config(ctx) : (schedule.config ?? {});
      const launched = await launchRequest(
        instance,
        definitions,
        schedule.target,
        { runKey: String(tick), ...(keys ? { partitionKeys: keys } : {}), config },
        {
          owner: `schedule:${schedule.name}`,
          tags: {
            ...schedule.tags,
            "baton/schedule": schedule.name,
            "baton/scheduled-time": new Date(tick).toISOString(),
          },
          now: tick,
        },
      );
      // Fault tests crash here: the tick's run is launched, the tick and cursor are not saved.
      if (launched.created) faultPoint(`schedule:${schedule.name}:launched`);
      outcome =
        launched.created || !(await tickRecorded(storage, schedule.name, tick))
          ? // Launched now, or launched by a daemon that crashed before recording the tick: either
            // way this is the tick's one record, with its run (as Dagster resumes such a tick).
            { scheduledTime: tick, status: "SUCCESS", launched: [launched], skipReason: null, error: null }
          : {
              scheduledTime: tick,
              status: "SKIPPED",
              launched: [launched],
              skipReason: `already launched for this tick (${launched.kind} ${launched.id})`,
              error: null,
            };
      if (launched.created)
        options.log?.(
          `schedule ${schedule.name}: tick ${new Date(tick).toISOString()} launched ${launched.kind} ${launched.id}`,
        );
      else if (outcome.status === "SUCCESS")
        options.log?.(
          `schedule ${schedule.name}: tick ${new Date(tick).toISOString()} recorded: its ${launched.kind} ${launched.id} was launched before the daemon stopped`,
        );
    } catch (error) {
      outcome = {
        scheduledTime: tick,
        status: "FAILURE",
        launched: [],
        skipReason: null,
        error: describeError(error),
      };
      options.log?.(
        `schedule ${schedule.name}: tick ${new Date(tick).toISOString()} failed: ${describeError(error)}`,
      );
    }
    await record(outcome, started);
  }
  await storage.setInstigatorState(
    schedule.name,
    "schedule",
    { cursor: String(ticks[ticks.length - 1]!), lastTickAt: now },
    now,
  );
  return outcomes;
}
