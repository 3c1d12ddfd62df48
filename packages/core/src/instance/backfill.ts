import { randomUUID } from "node:crypto";
import type { Definitions } from "../definitions/definitions.js";
import type { PartitionsDefinition } from "../definitions/partitions/partitions.js";
import { BatonError } from "../errors.js";
import type { RunEvent } from "../execution/events.js";
import { planRun } from "../execution/plan.js";
import { parseRunConfig } from "../execution/run-config.js";
import type { KeySpaces } from "../execution/run-partitions.js";
import type { RunSummary } from "../execution/run-summary.js";
import { resolveSelection } from "../graph/selection.js";
import { createStalenessResolver } from "../status/staleness.js";
import { allRuns } from "../storage/all-runs.js";
import type { BackfillCounts, BackfillRecord, Storage } from "../storage/storage.js";
import { type BackfillPlan, type BackfillUnit, planBackfill } from "./backfill-plan.js";
import {
  loadKeySpaces,
  type RequestSurface,
  syncAssetPartitions,
  VOCABULARY,
  validateKey,
} from "./run-partitions-request.js";

export type PartitionFilter = "all" | "missing" | "failed" | "stale";

export interface BackfillRequest {
  readonly selection: string;
  /** Keys or an inclusive range of the anchor (root-most partitioned) asset, or a filter of all. */
  readonly partitions: {
    readonly keys?: readonly string[];
    readonly range?: { readonly from: string; readonly to: string };
    readonly which?: PartitionFilter;
  };
  /** Override the assets' backfill policies: partitions per run, or one run for everything. */
  readonly chunkSize?: number;
  readonly singleRun?: boolean;
  readonly config?: Readonly<Record<string, unknown>>;
  readonly tags?: Readonly<Record<string, string>>;
  readonly now?: number;
  readonly parentBackfillId?: string;
  /** Re-run partitions that succeeded in the parent backfill(s) too. */
  readonly force?: boolean;
  /** Driven by `baton daemon` (runs queued for workers) instead of the creating process. */
  readonly daemon?: boolean;
  /** A caller-chosen id: creating the same id again returns the stored backfill (idempotent). */
  readonly backfillId?: string;
  /** Who asks (default "cli"): messages name its flags or the API's body fields. */
  readonly surface?: RequestSurface;
}

export interface BackfillProgress {
  readonly backfillId: string;
  readonly unitsDone: number;
  readonly unitsTotal: number;
  readonly counts: BackfillCounts;
}

export interface RunBackfillOptions {
  /** Runs at once (default 4). */
  readonly concurrency?: number;
  /** Steps at once inside each run. */
  readonly stepConcurrency?: number;
  /** Re-run units that already succeeded in this backfill. */
  readonly force?: boolean;
  readonly signal?: AbortSignal;
  readonly now?: number;
  onProgress?(progress: BackfillProgress): void;
  onEvent?(event: RunEvent): void;
}

/** What the backfill runner needs from the instance (kept narrow to avoid a cycle). */
export interface BackfillHost {
  readonly storage: Storage;
  runUnit(
    definitions: Definitions,
    unit: BackfillUnit,
    options: {
      backfillId: string;
      keySpaces: KeySpaces;
      config: Record<string, unknown>;
      tags: Record<string, string>;
      concurrency?: number;
      signal: AbortSignal;
      onEvent?: (event: RunEvent) => void;
    },
  ): Promise<RunSummary>;
}

export const ZERO_COUNTS: BackfillCounts = {
  targeted: 0,
  materialized: 0,
  failed: 0,
  skipped: 0,
  canceled: 0,
  runs: 0,
};

function anchorOf(definitions: Definitions, assetKeys: readonly string[]): PartitionsDefinition | undefined {
  const selected = new Set(assetKeys);
  for (const key of definitions.graph.topologicalOrder()) {
    if (!selected.has(key)) continue;
    const p = definitions.computationOf(key).partitions;
    if (p) return p;
  }
  return undefined;
}

/** Validate a request and store it as a REQUESTED backfill; returns the record. */
export async function createBackfill(
  storage: Storage,
  definitions: Definitions,
  request: BackfillRequest,
): Promise<BackfillRecord> {
  if (request.backfillId) {
    const existing = await storage.getBackfill(request.backfillId);
    if (existing) return existing;
  }
  const surface = request.surface ?? "cli";
  const words = VOCABULARY[surface];
  const assetKeys = [...resolveSelection(request.selection, definitions.graph)];
  // Subsetting, unknown keys and run config (as a run of the whole selection would check it), before
  // anything is stored: bad config fails the request, not every run of the backfill later.
  parseRunConfig(planRun(definitions, { assetKeys }), request.config);
  const anchor = anchorOf(definitions, assetKeys);
  if (!anchor)
    throw new BatonError(
      "INVALID_SELECTION",
      `None of the selected assets is partitioned: ${words.plainRun}.`,
    );
  const spaces = await loadKeySpaces(definitions, storage, request.now ?? Date.now());
  const space = spaces.of(anchor);
  const anchorKey = definitions.graph
    .topologicalOrder()
    .find((k) => assetKeys.includes(k) && definitions.computationOf(k).partitions === anchor)!;
  const where = `"${anchorKey}"`;
  let indices: number[];
  const { keys, range, which } = request.partitions;
  if (range) {
    const from = validateKey(where, anchor, space, range.from, surface);
    const to = validateKey(where, anchor, space, range.to, surface);
    if (to < from)
      throw new BatonError(
        "INVALID_PARTITION",
        `The partition range is reversed: "${range.from}" comes after "${range.to}".`,
      );
    indices = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  } else if (keys) {
    if (keys.length === 0)
      throw new BatonError("INVALID_PARTITION", "An empty list of partitions was given.");
    indices = [...new Set(keys.map((k) => validateKey(where, anchor, space, k, surface)))].sort(
      (a, b) => a - b,
    );
  } else {
    await syncAssetPartitions(definitions, storage, spaces, anchorKey);
    indices =
      which === "stale"
        ? await stalePartitions(definitions, storage, spaces, anchorKey, space.count())
        : await filterPartitions(storage, anchorKey, space.count(), which ?? "all");
  }
  if (indices.length === 0)
    throw new BatonError(
      "INVALID_PARTITION",
      `No partitions of ${where} match ${words.which(which ?? "all")}: nothing to backfill.`,
    );
  // Plan now too, so impossible selections fail before anything is stored.
  const plan = planBackfill(definitions, assetKeys, spaces, { definition: anchor, indices }, request);
  const record: Omit<BackfillRecord, "updatedAt" | "endedAt" | "error"> = {
    backfillId: request.backfillId ?? randomUUID(),
    status: "REQUESTED",
    selection: request.selection,
    assetKeys,
    partitionKeys: indices.map((i) => space.keyAt(i)),
    options: {
      ...(request.chunkSize !== undefined ? { chunkSize: request.chunkSize } : {}),
      ...(request.singleRun !== undefined ? { singleRun: request.singleRun } : {}),
      config: request.config ?? {},
      tags: request.tags ?? {},
      ...(request.parentBackfillId ? { parentBackfillId: request.parentBackfillId } : {}),
      ...(request.force ? { force: true } : {}),
      ...(request.daemon ? { daemon: true } : {}),
    },
    counts: { ...ZERO_COUNTS, targeted: plan.targeted },
    createdAt: Date.now(),
  };
  await storage.createBackfill(record);
  return (await storage.getBackfill(record.backfillId))!;
}

/** Indices of the anchor asset's partitions in a status (missing = never materialized). */
async function filterPartitions(storage: Storage, assetKey: string, total: number, which: PartitionFilter) {
  if (which === "all") return Array.from({ length: total }, (_, i) => i);
  const ranges = await storage.getPartitionRanges(assetKey);
  const out: number[] = [];
  if (which === "failed") {
    for (const r of ranges)
      if (r.status === "failed") for (let i = r.start; i <= Math.min(r.end, total - 1); i++) out.push(i);
    return out;
  }
  let next = 0;
  for (const r of ranges) {
    for (let i = next; i < Math.min(r.start, total); i++) out.push(i);
    next = Math.max(next, r.end + 1);
  }
  for (let i = next; i < total; i++) out.push(i);
  return out;
}

/**
 * Materialized partitions of the anchor asset that are stale (see `baton why`). Checked one by
 * one through the staleness resolver (memoized across partitions): fine for thousands of
 * partitions, not a set-based scan of a million.
 */
async function stalePartitions(
  definitions: Definitions,
  storage: Storage,
  spaces: KeySpaces,
  assetKey: string,
  total: number,
): Promise<number[]> {
  const resolver = createStalenessResolver(definitions, storage, spaces);
  const space = spaces.of(definitions.computationOf(assetKey).partitions!);
  const out: number[] = [];
  for (const r of await storage.getPartitionRanges(assetKey)) {
    if (r.status !== "materialized") continue;
    for (let i = r.start; i <= Math.min(r.end, total - 1); i++)
      if ((await resolver.staleness(assetKey, space.keyAt(i))).status === "stale") out.push(i);
  }
  return out;
}

/** Units already done by successful runs of these backfills (resume after a restart, retries). */
async function doneUnits(
  storage: Storage,
  backfillIds: readonly string[],
  plan: BackfillPlan,
): Promise<Set<number>> {
  const done = new Set<string>();
  for (const backfillId of backfillIds) {
    for await (const run of allRuns(storage, { backfillId, statuses: ["SUCCESS"] }))
      for (const asset of run.assetKeys)
        for (const key of run.partitionKeys ?? [""]) done.add(`${asset}\u0000${key}`);
  }
  const out = new Set<number>();
  for (const u of plan.units) {
    const keys = u.keys.length > 0 ? u.keys : [""];
    if (u.assetKeys.every((a) => keys.every((k) => done.has(`${a}\u0000${k}`)))) out.add(u.id);
  }
  return out;
}

export interface BackfillOptions {
  chunkSize?: number;
  singleRun?: boolean;
  config?: Record<string, unknown>;
  tags?: Record<string, string>;
  force?: boolean;
  daemon?: boolean;
}

/**
 * Everything needed to drive a stored backfill: its plan of units against today's key spaces
 * (stored partition indices synced), and the units already done in it or the backfills it retries.
 */
export async function prepareBackfill(
  storage: Storage,
  definitions: Definitions,
  record: BackfillRecord,
  now: number,
  forceOverride?: boolean,
): Promise<{ plan: BackfillPlan; spaces: KeySpaces; opts: BackfillOptions; skipDone: Set<number> }> {
  const backfillId = record.backfillId;
  const spaces = await loadKeySpaces(definitions, storage, now);
  const anchor = anchorOf(definitions, record.assetKeys);
  if (!anchor)
    throw new BatonError(
      "INVALID_SELECTION",
      `Backfill ${backfillId}: its assets are no longer partitioned.`,
    );
  const anchorKey = definitions.graph
    .topologicalOrder()
    .find((k) => record.assetKeys.includes(k) && definitions.computationOf(k).partitions === anchor)!;
  const space = spaces.of(anchor);
  const indices = record.partitionKeys.map((k) => validateKey(`"${anchorKey}"`, anchor, space, k));
  const opts = record.options as BackfillOptions;
  const plan = planBackfill(definitions, record.assetKeys, spaces, { definition: anchor, indices }, opts);
  for (const key of record.assetKeys) await syncAssetPartitions(definitions, storage, spaces, key);
  const force = forceOverride ?? opts.force ?? false;
  const skipDone = force
    ? new Set<number>()
    : await doneUnits(storage, await lineage(storage, backfillId), plan);
  return { plan, spaces, opts, skipDone };
}

/**
 * Drive a stored backfill to the end in this process: launch ready units as runs (bounded),
 * skip dependents of failed units, stop on cancel (from the signal or `cancelBackfill` in
 * another process), keep counts in the store. Resumable: units already done are not re-run.
 */
export async function runBackfill(
  host: BackfillHost,
  definitions: Definitions,
  backfillId: string,
  options: RunBackfillOptions = {},
): Promise<BackfillRecord> {
  const { storage } = host;
  const record = await storage.getBackfill(backfillId);
  if (!record)
    throw new BatonError(
      "RUN_NOT_FOUND",
      `Backfill ${backfillId} was not found. List backfills with \`baton backfill list\`.`,
    );
  if (record.status === "CANCELED" || record.status === "CANCELING")
    throw new BatonError(
      "USAGE_ERROR",
      `Backfill ${backfillId} was canceled; retry it with \`baton backfill retry ${backfillId}\`.`,
    );
  const { plan, spaces, opts, skipDone } = await prepareBackfill(
    storage,
    definitions,
    record,
    options.now ?? Date.now(),
    options.force,
  );

  // Runs launched by earlier calls (a resumed backfill) still count.
  let runsBefore = 0;
  let pageCursor: string | undefined;
  do {
    const page = await storage.listRuns({
      backfillId,
      limit: 1000,
      ...(pageCursor ? { cursor: pageCursor } : {}),
    });
    runsBefore += page.runs.length;
    pageCursor = page.nextCursor ?? undefined;
  } while (pageCursor);
  const counts = { ...ZERO_COUNTS, targeted: plan.targeted, runs: runsBefore };
  const weight = (u: BackfillUnit) => u.assetKeys.length * Math.max(1, u.keys.length);
  const state = new Map<number, "done" | "failed" | "skipped" | "canceled">();
  for (const id of skipDone) {
    state.set(id, "done");
    counts.materialized += weight(plan.units[id]!);
  }
  const dependents = new Map<number, number[]>();
  const waiting = new Map<number, number>();
  for (const u of plan.units) {
    waiting.set(u.id, u.dependsOn.filter((d) => !skipDone.has(d)).length);
    for (const d of u.dependsOn) dependents.set(d, [...(dependents.get(d) ?? []), u.id]);
  }
  const ready = plan.units.filter((u) => !state.has(u.id) && waiting.get(u.id) === 0).map((u) => u.id);
  let head = 0;
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) controller.abort(options.signal.reason);

  await storage.updateBackfill(backfillId, { status: "RUNNING", counts, error: null, endedAt: null });
  let lastSync = 0;
  let syncing: Promise<void> | undefined;
  const sync = async (force: boolean) => {
    const now = Date.now();
    if (!force && (now - lastSync < 250 || syncing)) return;
    lastSync = now;
    syncing = (async () => {
      await storage.updateBackfill(backfillId, { counts: { ...counts } });
      const current = await storage.getBackfill(backfillId);
      if (current?.status === "CANCELING" || current?.status === "CANCELED")
        controller.abort(new Error("backfill canceled"));
    })();
    await syncing;
    syncing = undefined;
  };
  const report = () =>
    options.onProgress?.({
      backfillId,
      unitsDone: state.size,
      unitsTotal: plan.units.length,
      counts: { ...counts },
    });
  report();

  // Why units were skipped, stored on the backfill (skipped units have no run to carry it).
  const skipped: string[] = [];
  const skip = (id: number, reason: string) => {
    const stack = [...(dependents.get(id) ?? [])];
    while (stack.length > 0) {
      const d = stack.pop()!;
      if (state.has(d)) continue;
      state.set(d, "skipped");
      counts.skipped += weight(plan.units[d]!);
      skipped.push(`${describeUnit(plan.units[d]!)} skipped: ${reason}`);
      stack.push(...(dependents.get(d) ?? []));
    }
  };
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const config = opts.config ?? {};
  let running = 0;
  let poll: NodeJS.Timeout | undefined;
  await new Promise<void>((resolveAll) => {
    const resolve = () => {
      clearInterval(poll);
      resolveAll();
    };
    const pump = () => {
      while (!controller.signal.aborted && running < concurrency && head < ready.length) {
        const id = ready[head++]!;
        if (state.has(id)) continue;
        const unit = plan.units[id]!;
        running++;
        counts.runs++;
        host
          .runUnit(definitions, unit, {
            backfillId,
            keySpaces: spaces,
            config: configFor(definitions, unit, config),
            tags: { ...(opts.tags ?? {}), "baton/backfill": backfillId },
            concurrency: options.stepConcurrency,
            signal: controller.signal,
            onEvent: options.onEvent,
          })
          .then(
            (summary) => finish(unit, summary),
            () => finish(unit, undefined),
          );
      }
      if (running === 0 && (controller.signal.aborted || head >= ready.length)) resolve();
    };
    const finish = (unit: BackfillUnit, summary: RunSummary | undefined) => {
      running--;
      const perKey = Math.max(1, unit.keys.length);
      if (summary?.status === "SUCCESS") {
        state.set(unit.id, "done");
        counts.materialized += weight(unit);
        for (const d of dependents.get(unit.id) ?? []) {
          const left = waiting.get(d)! - 1;
          waiting.set(d, left);
          if (left === 0 && !state.has(d)) ready.push(d);
        }
      } else {
        state.set(unit.id, summary?.status === "CANCELED" ? "canceled" : "failed");
        for (const step of summary?.steps ?? []) {
          if (step.kind === "check") continue;
          const n = step.assetKeys.length * perKey;
          if (step.status === "succeeded") counts.materialized += n;
          else if (step.status === "skipped") counts.skipped += n;
          else if (step.status === "canceled") counts.canceled += n;
          else counts.failed += n;
        }
        if (!summary) counts.failed += weight(unit);
        skip(unit.id, `upstream ${describeUnit(unit)} ${describeFailure(summary)}`);
      }
      report();
      void sync(false).finally(pump);
    };
    controller.signal.addEventListener("abort", () => pump(), { once: true });
    // Notice a cancel from another process even while a long run is in flight.
    poll = setInterval(() => void sync(true).catch(() => undefined), 1000);
    pump();
  });
  options.signal?.removeEventListener("abort", onAbort);
  for (const u of plan.units) {
    if (!state.has(u.id)) {
      state.set(u.id, "canceled");
      counts.canceled += weight(u);
    }
  }
  const canceled = controller.signal.aborted;
  const failed = [...state.values()].some((s) => s !== "done");
  const status = canceled ? "CANCELED" : failed ? "FAILED" : "COMPLETED";
  const error =
    skipped.length === 0
      ? null
      : [
          ...skipped.slice(0, 50),
          ...(skipped.length > 50 ? [`… and ${skipped.length - 50} more skipped units`] : []),
        ].join("\n");
  await storage.updateBackfill(backfillId, { status, counts: { ...counts }, endedAt: Date.now(), error });
  report();
  return (await storage.getBackfill(backfillId))!;
}

export function describeUnit(unit: BackfillUnit): string {
  const keys =
    unit.keys.length === 0
      ? ""
      : unit.keys.length === 1
        ? ` [${unit.keys[0]}]`
        : ` [${unit.keys[0]} … ${unit.keys[unit.keys.length - 1]}]`;
  return `${unit.assetKeys.join(", ")}${keys}`;
}

/** What went wrong in a unit's run, naming a failed blocking check when there is one. */
export function describeFailure(summary: RunSummary | undefined): string {
  if (!summary) return "could not start its run";
  const failedCheck = summary.steps.find((s) => s.kind === "check" && s.status === "failed");
  const where = `(run ${summary.runId})`;
  if (failedCheck) return `failed: blocking check "${failedCheck.stepKey}" failed ${where}`;
  const failed = summary.steps.find((s) => s.status === "failed");
  if (failed)
    return `failed: step "${failed.stepKey}" failed: ${failed.error?.message ?? failed.reason ?? "?"} ${where}`;
  return `ended ${summary.status} ${where}`;
}

/** Run config of the backfill, narrowed to the steps of one unit's run. */
export function configFor(
  definitions: Definitions,
  unit: BackfillUnit,
  config: Readonly<Record<string, unknown>>,
) {
  const steps = new Set<string>();
  for (const key of unit.assetKeys) {
    steps.add(definitions.computationOf(key).name);
    for (const c of definitions.checksFor(key)) steps.add(c.key);
  }
  return Object.fromEntries(Object.entries(config).filter(([k]) => steps.has(k)));
}

/** Ask a backfill to stop: a running one stops launching and cancels its runs. */
export async function cancelBackfill(storage: Storage, backfillId: string): Promise<BackfillRecord> {
  const record = await storage.getBackfill(backfillId);
  if (!record) throw new BatonError("RUN_NOT_FOUND", `Backfill ${backfillId} was not found.`);
  if (record.status === "COMPLETED" || record.status === "FAILED" || record.status === "CANCELED")
    throw new BatonError("USAGE_ERROR", `Backfill ${backfillId} already ended (${record.status}).`);
  // Nobody drives a REQUESTED backfill, and a RUNNING one whose driver stopped updating it for a
  // while is orphaned: cancel those at once; otherwise the driver sees CANCELING and stops.
  // A daemon-driven backfill always has a driver (the daemon's leader): let it cancel the runs.
  const daemon = (record.options as BackfillOptions).daemon === true;
  const orphaned = record.status === "REQUESTED" || (!daemon && Date.now() - record.updatedAt > 30_000);
  await storage.updateBackfill(
    backfillId,
    orphaned ? { status: "CANCELED", endedAt: Date.now() } : { status: "CANCELING" },
  );
  return (await storage.getBackfill(backfillId))!;
}

/** The backfill and its ancestors (retries point at their parent). */
async function lineage(storage: Storage, backfillId: string): Promise<string[]> {
  const ids: string[] = [];
  let id: string | undefined = backfillId;
  while (id && !ids.includes(id)) {
    ids.push(id);
    const rec: BackfillRecord | undefined = await storage.getBackfill(id);
    id = (rec?.options as { parentBackfillId?: string } | undefined)?.parentBackfillId;
  }
  return ids;
}

/**
 * A new backfill over the same partitions, linked to `backfillId`: when it runs, units that
 * succeeded in any ancestor are not re-run (unless `force`), so only what failed, was skipped
 * or canceled runs again.
 */
export async function retryBackfill(
  storage: Storage,
  definitions: Definitions,
  backfillId: string,
  options: { force?: boolean; now?: number; daemon?: boolean; surface?: RequestSurface } = {},
): Promise<BackfillRecord> {
  const record = await storage.getBackfill(backfillId);
  if (!record) throw new BatonError("RUN_NOT_FOUND", `Backfill ${backfillId} was not found.`);
  if (record.status === "RUNNING" || record.status === "CANCELING" || record.status === "REQUESTED")
    throw new BatonError(
      "USAGE_ERROR",
      `Backfill ${backfillId} is ${record.status}; wait for it to end or cancel it first.`,
    );
  const opts = record.options as BackfillOptions;
  if (!options.force) {
    const anchor = anchorOf(definitions, record.assetKeys)!;
    const spaces = await loadKeySpaces(definitions, storage, options.now ?? Date.now());
    const indices = record.partitionKeys.map((k) => spaces.of(anchor).indexOf(k)).filter((i) => i >= 0);
    const plan = planBackfill(definitions, record.assetKeys, spaces, { definition: anchor, indices }, opts);
    const done = await doneUnits(storage, await lineage(storage, backfillId), plan);
    if (done.size === plan.units.length)
      throw new BatonError(
        "USAGE_ERROR",
        `Backfill ${backfillId} has nothing left to retry; ${VOCABULARY[options.surface ?? "cli"].force} to run it all again.`,
      );
  }
  return createBackfill(storage, definitions, {
    selection: record.selection,
    partitions: { keys: record.partitionKeys },
    ...(opts.chunkSize !== undefined ? { chunkSize: opts.chunkSize } : {}),
    ...(opts.singleRun !== undefined ? { singleRun: opts.singleRun } : {}),
    ...(opts.config ? { config: opts.config } : {}),
    ...(opts.tags ? { tags: opts.tags } : {}),
    parentBackfillId: backfillId,
    ...(options.surface ? { surface: options.surface } : {}),
    ...(options.force ? { force: true } : {}),
    ...((options.daemon ?? opts.daemon) ? { daemon: true } : {}),
  });
}
