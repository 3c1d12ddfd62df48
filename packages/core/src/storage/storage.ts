import type { CheckSeverity } from "../definitions/asset-check.js";
import type { MetadataMap } from "../definitions/metadata.js";
import type {
  InputDataVersions,
  RunEvent,
  RunEventType,
  RunStatus,
  StoredRunEvent,
} from "../execution/events.js";
import type { PartitionState, StatusRange } from "./partition-ranges.js";

export interface RunRecord {
  readonly runId: string;
  readonly status: RunStatus;
  /** The selection string the run was launched with. */
  readonly selection: string;
  readonly assetKeys: readonly string[];
  readonly config: unknown;
  readonly tags: Readonly<Record<string, string>>;
  readonly parentRunId: string | null;
  readonly rootRunId: string | null;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  /** Partitions the run covers (null: unpartitioned). */
  readonly partitionKeys: readonly string[] | null;
  readonly backfillId: string | null;
  /** Higher runs first when queued. */
  readonly priority: number;
  /** What a worker needs to execute a queued run (null for runs executed where launched). */
  readonly request: QueuedRunRequest | null;
  readonly workerId: string | null;
  readonly heartbeatAt: number | null;
  readonly cancelRequested: boolean;
}

/** How a queued run is executed (validated when it was launched). */
export interface QueuedRunRequest {
  readonly assetKeys: readonly string[];
  readonly checkKeys?: readonly string[];
  readonly partitionKeys?: readonly string[];
  /** Steps at once inside the run. */
  readonly concurrency?: number;
}

/** At most `limit` runs at once with tag `key` (= `value` when given). */
export interface TagLimit {
  readonly key: string;
  readonly value?: string;
  readonly limit: number;
}

export interface ClaimOptions {
  readonly workerId: string;
  /** How many runs this worker can take now. */
  readonly limit: number;
  readonly now: number;
  /** Runs in progress across all workers (default: no limit). */
  readonly maxConcurrentRuns?: number;
  readonly tagLimits?: readonly TagLimit[];
}

export interface WorkerRecord {
  readonly workerId: string;
  readonly pid: number;
  readonly host: string;
  readonly startedAt: number;
  readonly heartbeatAt: number;
  readonly status: "running" | "stopped";
}

export interface NewRun {
  readonly runId: string;
  readonly status: RunStatus;
  readonly selection: string;
  readonly assetKeys: readonly string[];
  readonly config: unknown;
  readonly tags: Readonly<Record<string, string>>;
  readonly parentRunId?: string | null;
  readonly rootRunId?: string | null;
  readonly createdAt: number;
  /** Partition keys and their indices in the assets' key space (same order). */
  readonly partitions?: { readonly keys: readonly string[]; readonly indices: readonly number[] } | null;
  readonly backfillId?: string | null;
  /** For queued runs: what to execute, and how urgent. */
  readonly request?: QueuedRunRequest | null;
  readonly priority?: number;
  /**
   * Idempotency: at most one run per (owner, key), ever (a sensor's run key, a schedule tick, a
   * backfill unit). Stored in the same transaction as the run.
   */
  readonly runKey?: { readonly owner: string; readonly key: string } | null;
}

/** `created: false` when the run key was already used; `runId` is then the earlier run. */
export interface CreateRunResult {
  readonly created: boolean;
  readonly runId: string;
}

export type InstigatorKind = "schedule" | "sensor";
export type InstigatorStatus = "RUNNING" | "STOPPED";

/** Stored state of a schedule or sensor (status null: the definition's default applies). */
export interface InstigatorState {
  readonly name: string;
  readonly kind: InstigatorKind;
  readonly status: InstigatorStatus | null;
  readonly cursor: string | null;
  readonly lastTickAt: number | null;
  readonly updatedAt: number;
}

export type TickStatus = "SUCCESS" | "SKIPPED" | "FAILURE";

/** One evaluation of a schedule or sensor. */
export interface TickRecord {
  readonly id: number;
  readonly name: string;
  readonly kind: InstigatorKind;
  /** When it was evaluated (schedules: the scheduled time). */
  readonly timestamp: number;
  readonly status: TickStatus;
  readonly runIds: readonly string[];
  readonly skipReason: string | null;
  readonly error: string | null;
  /** The cursor after the tick. */
  readonly cursor: string | null;
  readonly durationMs: number;
}

/** One declarative-automation decision for an asset. */
export interface AutomationEvaluation {
  readonly id: number;
  readonly assetKey: string;
  readonly timestamp: number;
  /** `eager` or `on_cron(…)`. */
  readonly condition: string;
  readonly launched: boolean;
  readonly reason: string;
  readonly partitionKeys: readonly string[] | null;
  readonly runId: string | null;
}

export interface EndedRunsQuery {
  /** Runs whose end was stored after this cursor (from a previous page). */
  readonly after?: string;
  readonly statuses?: readonly RunStatus[];
  readonly limit?: number;
}

export interface RunsQuery {
  readonly statuses?: readonly RunStatus[];
  readonly backfillId?: string;
  /** Runs that materialize (or planned to) this asset. */
  readonly assetKey?: string;
  /** Runs with this tag (`baton/sensor`, `baton/schedule` …), with this value when given. */
  readonly tag?: { readonly key: string; readonly value?: string };
  /** Created at or after / before (epoch ms). */
  readonly createdAfter?: number;
  readonly createdBefore?: number;
  /** Page size (default 50, at most 1000). */
  readonly limit?: number;
  /** Cursor from a previous page (`nextCursor`); newest first. */
  readonly cursor?: string;
}

export interface RunsPage {
  readonly runs: readonly RunRecord[];
  readonly nextCursor: string | null;
}

export interface EventsQuery {
  /** Only events with a log id greater than this. */
  readonly afterId?: number;
  readonly limit?: number;
  readonly types?: readonly RunEventType[];
}

export interface AssetStatusRecord {
  readonly assetKey: string;
  readonly lastMaterialization: {
    readonly runId: string;
    readonly eventId: number;
    readonly timestamp: number;
    readonly metadata: MetadataMap;
    readonly codeVersion: string | null;
    /** The stored value's data version (null: unknown). */
    readonly dataVersion: string | null;
    /** The data versions of the inputs it read (null: none recorded). */
    readonly inputDataVersions: InputDataVersions | null;
  } | null;
  readonly lastFailure: { readonly runId: string; readonly timestamp: number } | null;
}

export interface CheckResultRecord {
  readonly assetKey: string;
  readonly checkName: string;
  readonly runId: string;
  readonly eventId: number;
  readonly passed: boolean;
  readonly blocking: boolean;
  readonly severity: CheckSeverity;
  readonly metadata: MetadataMap;
  readonly timestamp: number;
}

export interface PartitionRecord {
  readonly assetKey: string;
  readonly partitionKey: string;
  readonly partitionIndex: number;
  readonly status: PartitionState;
  readonly lastRunId: string;
  readonly lastMaterialization: {
    readonly eventId: number;
    readonly timestamp: number;
    readonly codeVersion: string | null;
    readonly dataVersion: string | null;
    readonly inputDataVersions: InputDataVersions | null;
  } | null;
  readonly lastFailure: { readonly runId: string; readonly timestamp: number } | null;
}

export interface PartitionsQuery {
  readonly keys?: readonly string[];
  /** Inclusive index bounds. */
  readonly startIndex?: number;
  readonly endIndex?: number;
  readonly statuses?: readonly PartitionState[];
  /** Only partitions whose last materialization event id is greater than this. */
  readonly materializedAfterEventId?: number;
  readonly limit?: number;
}

export type BackfillStatus = "REQUESTED" | "RUNNING" | "COMPLETED" | "FAILED" | "CANCELING" | "CANCELED";

export interface BackfillCounts {
  /** Asset partitions targeted, and how they ended. */
  readonly targeted: number;
  readonly materialized: number;
  readonly failed: number;
  readonly skipped: number;
  readonly canceled: number;
  readonly runs: number;
}

export interface BackfillRecord {
  readonly backfillId: string;
  readonly status: BackfillStatus;
  readonly selection: string;
  readonly assetKeys: readonly string[];
  readonly partitionKeys: readonly string[];
  /** How it was asked for: policy overrides, force, config, tags, parent backfill for retries. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly counts: BackfillCounts;
  readonly error: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly endedAt: number | null;
}

/** What a purge deletes (cutoffs in epoch ms; an omitted one deletes nothing of its kind). */
export interface PurgeOptions {
  /** Events of runs that ended before this (see kysely-retention.ts for what is kept). */
  readonly eventsBefore?: number;
  /** Schedule and sensor ticks before this (the newest of each is kept). */
  readonly ticksBefore?: number;
  /** Automation decisions before this (the newest of each asset is kept). */
  readonly automationBefore?: number;
  /** Count what would be deleted; delete nothing. */
  readonly dryRun?: boolean;
  /** Rows per DELETE statement, each its own short transaction (default 5,000). */
  readonly batchSize?: number;
  /** Stops between statements; what was deleted so far stays deleted. */
  readonly signal?: AbortSignal;
  /** Called after each statement that deleted rows, with the totals so far. */
  readonly onProgress?: (counts: PurgeCounts) => void;
}

export interface PurgeCounts {
  /** Runs that had (or would have) events deleted. */
  readonly runs: number;
  /** Event rows other than log lines. */
  readonly events: number;
  /** Log lines (logger and captured stdout/stderr). */
  readonly logs: number;
  readonly ticks: number;
  readonly automationEvaluations: number;
}

export interface PurgeResult extends PurgeCounts {
  /** The signal stopped it before the end. */
  readonly canceled: boolean;
}

/**
 * The instance's durable state. One Kysely implementation backs it for SQLite and Postgres;
 * everything above this interface is dialect-free. `appendEvents` is the only writer of run
 * status and the derived per-asset tables, in the same transaction as the events themselves.
 */
export interface Storage {
  readonly dialect: "sqlite" | "postgres";
  /** Where the data lives, with any password hidden. */
  readonly location: string;
  createRun(run: NewRun): Promise<CreateRunResult>;
  /** Create several runs in one transaction (each with the semantics of `createRun`). */
  createRuns(runs: readonly NewRun[]): Promise<CreateRunResult[]>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  listRuns(query?: RunsQuery): Promise<RunsPage>;
  /** Append events atomically, updating run status and per-asset indexes on the way. */
  appendEvents(events: readonly RunEvent[]): Promise<void>;
  getEvents(runId: string, query?: EventsQuery): Promise<StoredRunEvent[]>;
  /** Events of every run (or one) stored after `afterId`, in log order: the live event stream. */
  getEventsAfter(
    afterId: number,
    query?: { runId?: string; types?: readonly RunEventType[]; limit?: number },
  ): Promise<StoredRunEvent[]>;
  /** The newest event log id (0 when empty). */
  latestEventId(): Promise<number>;
  /**
   * Call `onWake` soon after events are committed by any process (Postgres: LISTEN/NOTIFY on one
   * connection per store, shared by every watcher, reconnecting by itself). A wake carries no
   * events and may come spuriously or coalesced: read `getEventsAfter(cursor)` on each. Absent
   * (SQLite), readers poll. Returns the unsubscribe function.
   */
  watchEvents?(onWake: () => void): () => void;
  /** Latest materialization/failure per asset (all assets when `assetKeys` is omitted). */
  getAssetStatuses(assetKeys?: readonly string[]): Promise<AssetStatusRecord[]>;
  /** Materialization events of one asset, newest first. */
  /** Materialization events of one asset: newest first, or oldest first after `afterId`. */
  getMaterializations(
    assetKey: string,
    query?: { limit?: number; beforeId?: number; afterId?: number; partition?: string },
  ): Promise<StoredRunEvent[]>;
  /** Check evaluations of one asset (its checks' history), newest first. */
  getCheckEvaluations(
    assetKey: string,
    query?: { limit?: number; beforeId?: number; checkName?: string },
  ): Promise<StoredRunEvent[]>;
  /** Runs that ended (any terminal status) in the order their ends were stored, for run-status sensors. */
  listEndedRuns(query?: EndedRunsQuery): Promise<{ runs: RunRecord[]; cursor: string | null }>;
  /** Which of `keys` were used by `owner`, and for which run. */
  getRunKeys(owner: string, keys: readonly string[]): Promise<Map<string, string>>;
  /** Every run key of an owner with its run's status (backfills follow their units this way). */
  listRunKeys(
    owner: string,
    query?: { updatedSince?: number },
  ): Promise<{ key: string; runId: string; status: RunStatus; updatedAt: number }[]>;
  getLatestCheckResults(assetKey?: string): Promise<CheckResultRecord[]>;

  /** Status ranges of an asset's partitions (one indexed query; missing = not covered). */
  getPartitionRanges(assetKey: string): Promise<StatusRange[]>;
  getPartitions(assetKey: string, query?: PartitionsQuery): Promise<PartitionRecord[]>;
  /**
   * Make stored partition indices match the current definition (`fingerprint`): when it changed
   * (e.g. a new start date), recompute every index with `indexOf` (-1 drops the row) and rebuild
   * the ranges. Returns true when it re-indexed.
   */
  syncPartitionsDefinition(
    assetKey: string,
    fingerprint: string,
    indexOf: (key: string) => number,
  ): Promise<boolean>;

  addDynamicPartitions(name: string, keys: readonly string[]): Promise<string[]>;
  removeDynamicPartitions(name: string, keys: readonly string[]): Promise<string[]>;
  getDynamicPartitions(name: string): Promise<string[]>;

  createBackfill(backfill: Omit<BackfillRecord, "updatedAt" | "endedAt" | "error">): Promise<void>;
  getBackfill(backfillId: string): Promise<BackfillRecord | undefined>;
  listBackfills(query?: {
    limit?: number;
    cursor?: string;
    statuses?: readonly BackfillStatus[];
  }): Promise<{ backfills: BackfillRecord[]; nextCursor: string | null }>;
  updateBackfill(
    backfillId: string,
    patch: {
      status?: BackfillStatus;
      counts?: BackfillCounts;
      error?: string | null;
      endedAt?: number | null;
    },
  ): Promise<void>;

  /**
   * Take up to `limit` queued runs for `workerId` (status STARTING), highest priority first then
   * oldest, within the global and per-tag limits; atomic across processes and machines.
   */
  claimRuns(options: ClaimOptions): Promise<RunRecord[]>;
  /** Record that a worker (and its runs) are alive; returns its runs whose cancel was requested. */
  heartbeat(
    worker: Omit<WorkerRecord, "heartbeatAt" | "status">,
    runIds: readonly string[],
    now: number,
  ): Promise<string[]>;
  stopWorker(workerId: string, now: number): Promise<void>;
  listWorkers(): Promise<WorkerRecord[]>;
  /** Cancel a run: a queued one at once (CANCELED), a running one is asked to stop (CANCELING). */
  requestCancel(runId: string, now: number): Promise<RunRecord | undefined>;
  /** Runs in progress whose last heartbeat is older than `before`. */
  staleRuns(before: number): Promise<RunRecord[]>;
  /** Hold `name` for `ttlMs` (renewable by the same holder); false while another holds it. */
  acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;

  getInstigatorState(name: string): Promise<InstigatorState | undefined>;
  listInstigatorStates(): Promise<InstigatorState[]>;
  /** Create or update; fields left undefined keep their value. */
  setInstigatorState(
    name: string,
    kind: InstigatorKind,
    patch: { status?: InstigatorStatus | null; cursor?: string | null; lastTickAt?: number | null },
    now: number,
  ): Promise<void>;
  addTick(tick: Omit<TickRecord, "id">): Promise<number>;
  /** Newest first. */
  listTicks(name: string, query?: { limit?: number; beforeId?: number }): Promise<TickRecord[]>;
  addAutomationEvaluations(evaluations: readonly Omit<AutomationEvaluation, "id">[]): Promise<void>;
  /** Newest first. */
  listAutomationEvaluations(query?: { assetKey?: string; limit?: number }): Promise<AutomationEvaluation[]>;
  getValue(key: string): Promise<string | undefined>;
  setValue(key: string, value: string, now: number): Promise<void>;
  /** Entries whose key starts with `prefix`, in key order (at most 1,000). */
  listValues(prefix: string): Promise<{ key: string; value: string; updatedAt: number }[]>;
  deleteValue(key: string): Promise<void>;
  /**
   * Retention: delete ended runs' step events and logs, old ticks and automation decisions, in
   * bounded statements (run rows, run-level events, step outcomes and whatever status reads stay).
   */
  purge(options: PurgeOptions): Promise<PurgeResult>;
  /** Give the space purges freed back (SQLite: VACUUM, the whole file; Postgres: VACUUM (ANALYZE)). */
  vacuum(): Promise<void>;
  close(): Promise<void>;
}
