import { randomUUID } from "node:crypto";
import path from "node:path";
import type { Definitions } from "../definitions/definitions.js";
import { BatonError, describeError, RunNotFoundError, SelectionError } from "../errors.js";
import {
  type RunEvent,
  type RunEventBody,
  type RunEventType,
  type RunStatus,
  TERMINAL_RUN_STATUSES,
} from "../execution/events.js";
import { executePlan } from "../execution/executor.js";
import { outsideCapture } from "../execution/log-capture.js";
import { type ExecutionPlan, planRun } from "../execution/plan.js";
import { parseRunConfig } from "../execution/run-config.js";
import type { KeySpaces, RunPartitions } from "../execution/run-partitions.js";
import { type RunSummary, summarizeRun } from "../execution/run-summary.js";
import { resolveSelection } from "../graph/selection.js";
import { storedDataVersions } from "../status/data-versions.js";
import { openStorage } from "../storage/open-storage.js";
import { recordRunFailure } from "../storage/record-run-failure.js";
import type { BackfillRecord, NewRun, RunRecord, Storage } from "../storage/storage.js";
import {
  type BackfillRequest,
  cancelBackfill,
  createBackfill,
  type RunBackfillOptions,
  retryBackfill,
  runBackfill,
} from "./backfill.js";
import { createEventWriter } from "./event-writer.js";
import {
  loadKeySpaces,
  type PartitionRequest,
  type RequestSurface,
  resolveRunPartitions,
  syncAssetPartitions,
} from "./run-partitions-request.js";

export interface InstanceOptions {
  /** Where the embedded store and default IO manager live (default `$BATON_HOME` or `./.baton`). */
  readonly home?: string;
  /** `postgres://…` to use Postgres (default `$BATON_DATABASE_URL`); SQLite otherwise. */
  readonly databaseUrl?: string;
  /** Environment to read defaults from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface MaterializeRequest {
  /** Selection string (default `*`). Ignored when `assetKeys` is given. */
  readonly selection?: string;
  readonly assetKeys?: readonly string[];
  /** Checks to run (default: every check of the selected assets). */
  readonly checkKeys?: readonly string[];
  /** Run config keyed by step key; validated before the run is created. */
  readonly config?: unknown;
  readonly concurrency?: number;
  readonly tags?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  /** Sees every event as it happens (before it is stored). */
  readonly onEvent?: (event: RunEvent) => void;
  readonly parentRunId?: string;
  readonly rootRunId?: string;
  /** Partitions to materialize: keys, or an inclusive range (one run covers them all). */
  readonly partitions?: PartitionRequest;
  readonly backfillId?: string;
  /** The clock (epoch ms) for time-window partitions; default Date.now(). */
  readonly now?: number;
  /**
   * Key spaces resolved by the caller (backfills resolve them once for thousands of runs); the
   * caller then also keeps stored partition indices in sync.
   */
  readonly keySpaces?: KeySpaces;
  /** Queued runs: launch at most once per (owner, key), ever (sensors, schedules, backfills). */
  readonly runKey?: { readonly owner: string; readonly key: string };
  /** Who asks (default "cli"): validation messages name its flags or the API's body fields. */
  readonly surface?: RequestSurface;
}

/** A launched run; `created: false` when its run key was already used (the earlier run). */
export type LaunchedRun = RunRecord & { readonly created: boolean };

export interface ReexecuteOptions
  extends Omit<MaterializeRequest, "selection" | "assetKeys" | "checkKeys" | "config"> {
  /** Only what did not succeed in the parent run (default false: everything again). */
  readonly fromFailure?: boolean;
}

/** The façade over the store that the CLI, daemon and webserver share. */
export interface BatonInstance {
  readonly home: string;
  readonly storage: Storage;
  /** Plan, validate config, record and execute a run in this process. */
  materialize(definitions: Definitions, request?: MaterializeRequest): Promise<RunSummary>;
  /** Run a previous run again, or only its failed/skipped/canceled part. */
  reexecute(definitions: Definitions, runId: string, options?: ReexecuteOptions): Promise<RunSummary>;
  /** Queue a re-execution of a run (for run workers); same meaning as `reexecute`. */
  launchReexecution(
    definitions: Definitions,
    runId: string,
    options?: Pick<ReexecuteOptions, "fromFailure" | "tags"> & { priority?: number },
  ): Promise<LaunchedRun>;
  /** Per-step summary of a stored run. */
  runSummary(runId: string): Promise<RunSummary>;
  /** Validate and queue a run for run workers (`baton worker`); returns the QUEUED run. */
  launchRun(
    definitions: Definitions,
    request?: MaterializeRequest & { priority?: number },
  ): Promise<LaunchedRun>;
  /** Validate and queue several runs in one store transaction (daemon backfills); in order. */
  launchRuns(
    definitions: Definitions,
    requests: readonly (MaterializeRequest & { priority?: number })[],
  ): Promise<{ runId: string; created: boolean }[]>;
  /** Execute a queued run claimed by this process (what a run worker does). */
  executeQueuedRun(
    definitions: Definitions,
    runId: string,
    options?: Pick<MaterializeRequest, "signal" | "onEvent"> & {
      /** The run's record as claimed (`Storage.claimRuns`): spares reading it again. */
      readonly run?: RunRecord;
    },
  ): Promise<RunSummary>;
  /** Cancel a run: at once when queued; a running one's worker aborts it (its bodies' signals fire). */
  cancelRun(runId: string): Promise<RunRecord>;
  /** Validate and store a backfill (selection × partitions); `runBackfill` drives it. */
  createBackfill(definitions: Definitions, request: BackfillRequest): Promise<BackfillRecord>;
  /** Drive a stored backfill to its end in this process (resumable; honours cancel). */
  runBackfill(
    definitions: Definitions,
    backfillId: string,
    options?: RunBackfillOptions,
  ): Promise<BackfillRecord>;
  cancelBackfill(backfillId: string): Promise<BackfillRecord>;
  /** A new backfill re-running what did not succeed (everything with `force`). */
  retryBackfill(
    definitions: Definitions,
    backfillId: string,
    options?: { force?: boolean; daemon?: boolean; surface?: RequestSurface },
  ): Promise<BackfillRecord>;
  close(): Promise<void>;
}

const SUMMARY_EVENT_TYPES: readonly RunEventType[] = [
  "run_started",
  "run_succeeded",
  "run_failed",
  "run_canceled",
  "step_started",
  "step_succeeded",
  "step_failed",
  "step_retrying",
  "step_skipped",
  "step_canceled",
  "materialization",
  "check_evaluation",
];

export function resolveInstanceLocation(options: InstanceOptions = {}): {
  home: string;
  databaseUrl: string | undefined;
} {
  const env = options.env ?? process.env;
  const home = path.resolve(options.home ?? (env.BATON_HOME || ".baton"));
  const databaseUrl = options.databaseUrl ?? (env.BATON_DATABASE_URL || undefined);
  return { home, databaseUrl };
}

export async function openInstance(options: InstanceOptions = {}): Promise<BatonInstance> {
  const { home, databaseUrl } = resolveInstanceLocation(options);
  const storage = await openStorage({ databaseUrl, sqlitePath: path.join(home, "baton.db") });
  return createInstance(storage, home);
}

export function createInstance(storage: Storage, home: string): BatonInstance {
  /** Validate config and partitions, and sync stored partition indices: everything before a run exists. */
  async function prepare(definitions: Definitions, plan: ExecutionPlan, request: MaterializeRequest) {
    const config = parseRunConfig(plan, request.config);
    const keySpaces =
      request.keySpaces ?? (await loadKeySpaces(definitions, storage, request.now ?? Date.now()));
    const partitions = resolveRunPartitions(plan, keySpaces, request.partitions, request.surface);
    if (partitions && !request.keySpaces) {
      for (const step of plan.steps) {
        const c = step.computation;
        if (!c?.partitions) continue;
        for (const key of step.assetKeys) await syncAssetPartitions(definitions, storage, keySpaces, key);
      }
    }
    return { config, keySpaces, partitions };
  }

  function newRun(
    plan: ExecutionPlan,
    selection: string,
    request: MaterializeRequest,
    partitions: RunPartitions | undefined,
  ): NewRun {
    return {
      runId: randomUUID(),
      status: "QUEUED",
      selection,
      assetKeys: plan.assetKeys,
      config: request.config ?? {},
      tags: request.tags ?? {},
      parentRunId: request.parentRunId ?? null,
      rootRunId: request.rootRunId ?? request.parentRunId ?? null,
      createdAt: Date.now(),
      partitions: partitions ? { keys: partitions.keys, indices: partitions.indices } : null,
      backfillId: request.backfillId ?? null,
    };
  }

  async function execute(
    definitions: Definitions,
    plan: ExecutionPlan,
    selection: string,
    request: MaterializeRequest,
  ): Promise<RunSummary> {
    const prepared = await prepare(definitions, plan, request);
    const run = newRun(plan, selection, request, prepared.partitions);
    await storage.createRun(run);
    try {
      return await executeCreated(definitions, plan, run.runId, prepared, request);
    } catch (error) {
      // Its events were refused (a full or read-only store, a lost database): end the run rather
      // than leave it QUEUED/STARTED for ever (nothing heartbeats a run executed in this process).
      throw await recordRunFailure(storage, run.runId, error);
    }
  }

  /** Execute a run whose record exists (created here, or queued and claimed by a worker). */
  async function executeCreated(
    definitions: Definitions,
    plan: ExecutionPlan,
    runId: string,
    prepared: Awaited<ReturnType<typeof prepare>>,
    request: MaterializeRequest,
  ): Promise<RunSummary> {
    const { config, keySpaces, partitions } = prepared;
    const writer = createEventWriter(storage);
    const events: RunEvent[] = [];
    const emit = (body: RunEventBody) => {
      const event = { ...body, runId, timestamp: Date.now() } as RunEvent;
      if (event.type !== "log") events.push(event);
      writer.push(event);
      if (onEvent) notify(event);
    };
    // Listeners run outside the step's console capture (their output is not the step's, and a
    // listener that logs must not feed itself), and a throwing listener cannot break the run.
    const onEvent = request.onEvent;
    let listenerFailed = false;
    const notify = (event: RunEvent) =>
      outsideCapture(() => {
        try {
          onEvent?.(event);
        } catch (error) {
          if (!listenerFailed) {
            listenerFailed = true;
            console.error(
              `baton: an onEvent listener threw (further errors are not shown): ${describeError(error)}`,
            );
          }
        }
      });
    let status: RunStatus;
    try {
      status = await executePlan({
        runId,
        definitions,
        plan,
        config,
        home,
        partitions,
        keySpaces,
        concurrency: request.concurrency,
        signal: request.signal,
        readDataVersions: storedDataVersions(storage),
        emit,
      });
    } finally {
      await writer.flush();
    }
    return summarizeRun(runId, status, events);
  }

  function planOf(definitions: Definitions, request: MaterializeRequest) {
    const selection = request.selection ?? "*";
    const assetKeys = request.assetKeys ?? [...resolveSelection(selection, definitions.graph)];
    // A selection that parses but matches nothing (`a and b` of disjoint sets) would run nothing
    // and report SUCCESS: say so instead.
    if (assetKeys.length === 0 && request.assetKeys === undefined)
      throw new SelectionError(selection, 0, "it matches no assets, so there is nothing to run");
    const plan = planRun(definitions, {
      assetKeys,
      ...(request.checkKeys ? { checkKeys: request.checkKeys } : {}),
    });
    return { plan, selection: request.assetKeys ? assetKeys.join(",") : selection };
  }

  /**
   * What re-executing a run means: its assets and checks again (or, from failure, only what did not
   * succeed), its partitions, its config narrowed to those steps, its tags and backfill, linked to
   * it as parent. Shared by `reexecute` (here) and `launchReexecution` (queued, from the webserver).
   */
  async function reexecution(
    definitions: Definitions,
    runId: string,
    options: Pick<ReexecuteOptions, "fromFailure" | "backfillId" | "tags">,
  ) {
    const parent = await storage.getRun(runId);
    if (!parent) throw new RunNotFoundError(runId);
    if (!TERMINAL_RUN_STATUSES.has(parent.status))
      throw new BatonError(
        "USAGE_ERROR",
        `Run ${runId} is ${parent.status}; re-execute it once it has ended.`,
      );
    const parentSummary = await instance.runSummary(runId);
    const parentPlan = planRun(definitions, {
      assetKeys: parent.assetKeys.filter((k) => definitions.graph.has(k)),
    });
    let assetKeys = parentPlan.assetKeys;
    let checkKeys = parentPlan.checkKeys;
    if (options.fromFailure) {
      const succeeded = new Set(
        parentSummary.steps.filter((s) => s.status === "succeeded").map((s) => s.stepKey),
      );
      const materialized = new Set(
        parentSummary.steps.flatMap((s) =>
          s.status === "succeeded" ? s.materializations.map((m) => m.assetKey) : [],
        ),
      );
      assetKeys = assetKeys.filter((k) => !materialized.has(k));
      checkKeys = checkKeys.filter((k) => !succeeded.has(k));
      if (assetKeys.length === 0 && checkKeys.length === 0)
        throw new BatonError("USAGE_ERROR", `Run ${runId} has nothing that failed to re-execute.`);
    }
    if (assetKeys.length === 0 && checkKeys.length === 0)
      throw new BatonError("USAGE_ERROR", `None of run ${runId}'s assets are in the definitions any more.`);
    const plan = planRun(definitions, { assetKeys, checkKeys });
    const stepKeys = new Set(plan.steps.map((s) => s.key));
    const parentConfig = (parent.config ?? {}) as Record<string, unknown>;
    const config = Object.fromEntries(Object.entries(parentConfig).filter(([k]) => stepKeys.has(k)));
    const backfillId = options.backfillId ?? parent.backfillId ?? undefined;
    const request: MaterializeRequest = {
      assetKeys: plan.assetKeys,
      checkKeys: plan.checkKeys,
      ...(parent.partitionKeys ? { partitions: { keys: parent.partitionKeys } } : {}),
      ...(backfillId ? { backfillId } : {}),
      config,
      tags: { ...parent.tags, ...(options.tags ?? {}) },
      parentRunId: parent.runId,
      rootRunId: parent.rootRunId ?? parent.runId,
    };
    return { parent, plan, request };
  }

  /** Plan and validate a run for the queue: what a worker needs to execute it later. */
  async function queuedRun(
    definitions: Definitions,
    request: MaterializeRequest & { priority?: number },
  ): Promise<NewRun> {
    const { plan, selection } = planOf(definitions, request);
    const prepared = await prepare(definitions, plan, request);
    return {
      ...newRun(plan, selection, request, prepared.partitions),
      priority: request.priority ?? 0,
      request: {
        assetKeys: plan.assetKeys,
        checkKeys: plan.checkKeys,
        ...(prepared.partitions ? { partitionKeys: prepared.partitions.keys } : {}),
        ...(request.concurrency !== undefined ? { concurrency: request.concurrency } : {}),
      },
      runKey: request.runKey ?? null,
    };
  }

  const instance: BatonInstance = {
    home,
    storage,
    async materialize(definitions, request = {}) {
      const { plan, selection } = planOf(definitions, request);
      return execute(definitions, plan, selection, request);
    },

    async launchRun(definitions, request = {}) {
      if (request.runKey) {
        // Already launched with this key: no need to validate again.
        const used = await storage.getRunKeys(request.runKey.owner, [request.runKey.key]);
        const earlier = used.get(request.runKey.key);
        const run = earlier ? await storage.getRun(earlier) : undefined;
        if (run) return { ...run, created: false };
      }
      const result = await storage.createRun(await queuedRun(definitions, request));
      return { ...(await storage.getRun(result.runId))!, created: result.created };
    },

    async launchRuns(definitions, requests) {
      const runs: NewRun[] = [];
      for (const request of requests) runs.push(await queuedRun(definitions, request));
      return storage.createRuns(runs);
    },

    async executeQueuedRun(definitions, runId, { run: claimed, ...options } = {}) {
      const run = claimed?.runId === runId ? claimed : await storage.getRun(runId);
      if (!run) throw new RunNotFoundError(runId);
      if (!run.request)
        throw new BatonError("USAGE_ERROR", `Run ${runId} was not queued; it has nothing to execute.`);
      const request: MaterializeRequest = {
        assetKeys: run.request.assetKeys,
        ...(run.request.checkKeys ? { checkKeys: run.request.checkKeys } : {}),
        ...(run.request.partitionKeys ? { partitions: { keys: run.request.partitionKeys } } : {}),
        ...(run.request.concurrency !== undefined ? { concurrency: run.request.concurrency } : {}),
        config: run.config,
        tags: run.tags,
        ...options,
      };
      const { plan } = planOf(definitions, request);
      const prepared = await prepare(definitions, plan, request);
      return executeCreated(definitions, plan, runId, prepared, request);
    },

    async cancelRun(runId) {
      const before = await storage.getRun(runId);
      if (!before) throw new RunNotFoundError(runId);
      if (TERMINAL_RUN_STATUSES.has(before.status))
        throw new BatonError(
          "USAGE_ERROR",
          `Run ${runId} already ended (${before.status}); nothing to cancel.`,
        );
      return (await storage.requestCancel(runId, Date.now()))!;
    },

    async reexecute(definitions, runId, options = {}) {
      const { parent, plan, request } = await reexecution(definitions, runId, options);
      return execute(definitions, plan, parent.selection, { ...options, ...request });
    },

    async launchReexecution(definitions, runId, options = {}) {
      const { request } = await reexecution(definitions, runId, options);
      return instance.launchRun(definitions, {
        ...request,
        ...(options.priority !== undefined ? { priority: options.priority } : {}),
      });
    },

    async runSummary(runId) {
      const run = await storage.getRun(runId);
      if (!run) throw new RunNotFoundError(runId);
      const events = await storage.getEvents(runId, { types: SUMMARY_EVENT_TYPES });
      return summarizeRun(runId, run.status, events);
    },

    createBackfill: (definitions, request) => createBackfill(storage, definitions, request),
    runBackfill: (definitions, backfillId, options) =>
      runBackfill(
        {
          storage,
          runUnit: (defs, unit, o) =>
            instance.materialize(defs, {
              assetKeys: unit.assetKeys,
              ...(unit.definition ? { partitions: { keys: unit.keys } } : {}),
              backfillId: o.backfillId,
              keySpaces: o.keySpaces,
              config: o.config,
              tags: o.tags,
              signal: o.signal,
              ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
              ...(o.onEvent ? { onEvent: o.onEvent } : {}),
            }),
        },
        definitions,
        backfillId,
        options,
      ),
    cancelBackfill: (backfillId) => cancelBackfill(storage, backfillId),
    retryBackfill: (definitions, backfillId, options) =>
      retryBackfill(storage, definitions, backfillId, options),

    close: () => storage.close(),
  };
  return instance;
}
