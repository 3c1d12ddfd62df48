import type { Definitions } from "../definitions/definitions.js";
import { describeError } from "../errors.js";
import { TERMINAL_RUN_STATUSES } from "../execution/events.js";
import type { KeySpaces } from "../execution/run-partitions.js";
import {
  type BackfillOptions,
  configFor,
  describeFailure,
  describeUnit,
  prepareBackfill,
  ZERO_COUNTS,
} from "../instance/backfill.js";
import type { BackfillPlan, BackfillUnit } from "../instance/backfill-plan.js";
import type { BatonInstance } from "../instance/instance.js";
import type { BackfillCounts, BackfillRecord } from "../storage/storage.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

type UnitState = "running" | "done" | "failed" | "skipped" | "canceled";

interface Tracked {
  readonly id: string;
  readonly plan: BackfillPlan;
  readonly spaces: KeySpaces;
  readonly opts: BackfillOptions;
  readonly state: Map<number, UnitState>;
  readonly runOf: Map<number, string>;
  readonly dependents: Map<number, number[]>;
  counts: Mutable<BackfillCounts>;
  skipped: string[];
  /** Runs updated at or after this are read again on the next step. */
  watermark: number;
  lastSaved: string;
  /** Next unit id to consider launching (units are in dependency order). */
  scanFrom: number;
  refreshes: number;
}

export interface BackfillDriverOptions {
  readonly instance: BatonInstance;
  readonly definitions: () => Definitions;
  /** Runs of one backfill queued or running at once (default 200): it is fed in chunks. */
  readonly maxInFlight?: number;
  readonly log?: (line: string) => void;
}

export function backfillOwner(backfillId: string) {
  return `backfill:${backfillId}`;
}

const weight = (u: BackfillUnit) => u.assetKeys.length * Math.max(1, u.keys.length);

/**
 * Drives daemon backfills: each step reads what changed in its runs, queues ready units (at most
 * `maxInFlight` at once, each unit's run keyed by its id so a restarted daemon never launches a
 * partition twice), skips dependents of failed units, honours cancel, and stores progress.
 */
export function createBackfillDriver(options: BackfillDriverOptions) {
  const { instance } = options;
  const storage = instance.storage;
  const maxInFlight = Math.max(1, options.maxInFlight ?? 200);
  const tracked = new Map<string, Tracked>();
  /** Whether the last step launched runs or saw runs end (there is probably more to do soon). */
  let active = false;

  async function track(record: BackfillRecord, now: number): Promise<Tracked> {
    const definitions = options.definitions();
    const { plan, spaces, opts, skipDone } = await prepareBackfill(storage, definitions, record, now);
    const t: Tracked = {
      id: record.backfillId,
      plan,
      spaces,
      opts,
      state: new Map(),
      runOf: new Map(),
      dependents: new Map(),
      counts: { ...ZERO_COUNTS, targeted: plan.targeted },
      skipped: [],
      watermark: 0,
      lastSaved: "",
      scanFrom: 0,
      refreshes: 0,
    };
    for (const u of plan.units)
      for (const d of u.dependsOn) t.dependents.set(d, [...(t.dependents.get(d) ?? []), u.id]);
    for (const id of skipDone) {
      t.state.set(id, "done");
      t.counts.materialized += weight(plan.units[id]!);
    }
    tracked.set(record.backfillId, t);
    return t;
  }

  function skipDependents(t: Tracked, id: number, reason: string) {
    const stack = [...(t.dependents.get(id) ?? [])];
    while (stack.length > 0) {
      const d = stack.pop()!;
      if (t.state.has(d)) continue;
      t.state.set(d, "skipped");
      t.counts.skipped += weight(t.plan.units[d]!);
      t.skipped.push(`${describeUnit(t.plan.units[d]!)} skipped: ${reason}`);
      stack.push(...(t.dependents.get(d) ?? []));
    }
  }

  /**
   * Read the runs of the backfill that changed since the last step. `updated_at` comes from the
   * workers' event timestamps (their clocks, batched writes), so the window reaches back 2 s, and
   * every 100th step reads everything: a run's end is never missed.
   */
  async function refresh(t: Tracked) {
    t.refreshes++;
    const full = t.refreshes % 100 === 0;
    const rows = await storage.listRunKeys(
      backfillOwner(t.id),
      full ? {} : { updatedSince: Math.max(0, t.watermark - 2_000) },
    );
    let newest = t.watermark;
    for (const row of rows) {
      if (row.updatedAt > t.watermark) active = true;
      newest = Math.max(newest, row.updatedAt);
      const unitId = Number(row.key);
      const unit = t.plan.units[unitId];
      if (!unit) continue;
      if (!t.runOf.has(unitId)) {
        t.runOf.set(unitId, row.runId);
        t.counts.runs++;
      }
      const current = t.state.get(unitId);
      if (current !== undefined && current !== "running") continue;
      if (!TERMINAL_RUN_STATUSES.has(row.status)) {
        t.state.set(unitId, "running");
        continue;
      }
      if (row.status === "SUCCESS") {
        t.state.set(unitId, "done");
        t.counts.materialized += weight(unit);
        continue;
      }
      t.state.set(unitId, row.status === "CANCELED" ? "canceled" : "failed");
      const summary = await instance.runSummary(row.runId).catch(() => undefined);
      const perKey = Math.max(1, unit.keys.length);
      if (!summary) t.counts.failed += weight(unit);
      for (const step of summary?.steps ?? []) {
        if (step.kind === "check") continue;
        const n = step.assetKeys.length * perKey;
        if (step.status === "succeeded") t.counts.materialized += n;
        else if (step.status === "skipped") t.counts.skipped += n;
        else if (step.status === "canceled") t.counts.canceled += n;
        else t.counts.failed += n;
      }
      // A run that failed before any step (e.g. its worker died at once) counts its unit failed.
      if (summary && summary.steps.length === 0)
        t.counts[row.status === "CANCELED" ? "canceled" : "failed"] += weight(unit);
      skipDependents(t, unitId, `upstream ${describeUnit(unit)} ${describeFailure(summary)}`);
    }
    t.watermark = newest;
  }

  async function launchReady(t: Tracked, now: number) {
    const definitions = options.definitions();
    let inFlight = 0;
    for (const s of t.state.values()) if (s === "running") inFlight++;
    const units = t.plan.units;
    // Units are planned in dependency order: everything before `scanFrom` is already decided.
    while (t.scanFrom < units.length && t.state.has(t.scanFrom) && t.state.get(t.scanFrom) !== "running")
      t.scanFrom++;
    const batch: BackfillUnit[] = [];
    for (let i = t.scanFrom; i < units.length && inFlight + batch.length < maxInFlight; i++) {
      const unit = units[i]!;
      if (t.state.has(unit.id)) continue;
      if (!unit.dependsOn.every((d) => t.state.get(d) === "done")) continue;
      batch.push(unit);
    }
    const requestOf = (unit: BackfillUnit) => ({
      assetKeys: unit.assetKeys,
      ...(unit.definition ? { partitions: { keys: unit.keys } } : {}),
      backfillId: t.id,
      keySpaces: t.spaces,
      config: configFor(definitions, unit, t.opts.config ?? {}),
      tags: { ...(t.opts.tags ?? {}), "baton/backfill": t.id },
      runKey: { owner: backfillOwner(t.id), key: String(unit.id) },
      now,
    });
    const launched = (unit: BackfillUnit, runId: string) => {
      if (!t.runOf.has(unit.id)) {
        t.runOf.set(unit.id, runId);
        t.counts.runs++;
      }
      t.state.set(unit.id, "running"); // its outcome is read by a later refresh
      inFlight++;
    };
    const cannotLaunch = (unit: BackfillUnit, error: unknown) => {
      t.state.set(unit.id, "failed");
      t.counts.failed += weight(unit);
      t.skipped.push(`${describeUnit(unit)} could not be launched: ${describeError(error)}`);
      skipDependents(t, unit.id, `upstream ${describeUnit(unit)} could not be launched`);
    };
    // One store transaction for the whole chunk; if one unit is invalid, launch them one by one.
    if (batch.length > 0) active = true;
    try {
      const results = await instance.launchRuns(definitions, batch.map(requestOf));
      for (const [i, unit] of batch.entries()) launched(unit, results[i]!.runId);
    } catch {
      for (const unit of batch) {
        try {
          launched(unit, (await instance.launchRun(definitions, requestOf(unit))).runId);
        } catch (error) {
          cannotLaunch(unit, error);
        }
      }
    }
    return inFlight;
  }

  async function save(t: Tracked, patch: Parameters<typeof storage.updateBackfill>[1] = {}) {
    const key = JSON.stringify([t.counts, patch]);
    if (key === t.lastSaved && patch.status === undefined) return;
    t.lastSaved = key;
    await storage.updateBackfill(t.id, { counts: { ...t.counts }, ...patch });
  }

  async function finish(t: Tracked, status: "COMPLETED" | "FAILED" | "CANCELED") {
    for (const u of t.plan.units)
      if (!t.state.has(u.id)) {
        t.state.set(u.id, "canceled");
        t.counts.canceled += weight(u);
      }
    const error =
      t.skipped.length === 0
        ? null
        : [
            ...t.skipped.slice(0, 50),
            ...(t.skipped.length > 50 ? [`… and ${t.skipped.length - 50} more`] : []),
          ].join("\n");
    await save(t, { status, endedAt: Date.now(), error });
    tracked.delete(t.id);
    options.log?.(`backfill ${t.id} ${status.toLowerCase()}`);
  }

  async function advance(record: BackfillRecord, now: number) {
    let t = tracked.get(record.backfillId);
    if (!t) {
      try {
        t = await track(record, now);
      } catch (error) {
        await storage.updateBackfill(record.backfillId, {
          status: "FAILED",
          endedAt: Date.now(),
          error: `the daemon could not plan it: ${describeError(error)}`,
        });
        options.log?.(`backfill ${record.backfillId} failed: ${describeError(error)}`);
        return;
      }
    }
    await refresh(t);
    if (record.status === "CANCELING" || record.status === "CANCELED") {
      let inFlight = 0;
      let missed = false;
      for (const [unitId, s] of t.state) {
        if (s !== "running") continue;
        inFlight++;
        const runId = t.runOf.get(unitId);
        const run = runId ? await storage.getRun(runId) : undefined;
        // Ended, but the refresh did not see it: its end committed more than the refresh's margin
        // after its timestamp (a loaded machine). Read every run again next pass instead of
        // waiting for the periodic full refresh.
        if (run && TERMINAL_RUN_STATUSES.has(run.status)) missed = true;
        else if (run && !run.cancelRequested) await storage.requestCancel(run.runId, Date.now());
      }
      if (missed) t.watermark = 0;
      if (inFlight === 0) await finish(t, "CANCELED");
      return;
    }
    if (record.status === "REQUESTED") await save(t, { status: "RUNNING" });
    const inFlight = await launchReady(t, now);
    const undecided = t.plan.units.some((u) => !t.state.has(u.id));
    if (inFlight === 0 && !undecided) {
      const failed = [...t.state.values()].some((s) => s !== "done");
      await finish(t, failed ? "FAILED" : "COMPLETED");
      return;
    }
    await save(t);
  }

  return {
    /** One pass over every active daemon backfill. */
    async step(now: number) {
      active = false;
      const running: BackfillRecord[] = [];
      let cursor: string | undefined;
      do {
        const page = await storage.listBackfills({
          statuses: ["REQUESTED", "RUNNING", "CANCELING"],
          limit: 200,
          ...(cursor ? { cursor } : {}),
        });
        running.push(...page.backfills.filter((b) => (b.options as BackfillOptions).daemon === true));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      // A backfill canceled while REQUESTED/orphaned is CANCELED already: stop its runs too.
      for (const t of [...tracked.values()]) {
        if (running.some((b) => b.backfillId === t.id)) continue;
        const record = await storage.getBackfill(t.id);
        if (record) await advance(record, now);
        else tracked.delete(t.id);
      }
      for (const record of running.reverse()) await advance(record, now);
    },
    busy: () => active,
    /** Forget cached plans (definitions reloaded). */
    reset() {
      tracked.clear();
    },
  };
}
