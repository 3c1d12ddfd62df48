import type { CheckSeverity } from "../definitions/asset-check.js";
import type { MetadataMap } from "../definitions/metadata.js";
import type { RunEvent, RunEventType, RunStatus, StoredRunEvent } from "../execution/events.js";

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
}

export interface RunsQuery {
  readonly statuses?: readonly RunStatus[];
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

/**
 * The instance's durable state. One Kysely implementation backs it for SQLite and Postgres;
 * everything above this interface is dialect-free. `appendEvents` is the only writer of run
 * status and the derived per-asset tables, in the same transaction as the events themselves.
 */
export interface Storage {
  readonly dialect: "sqlite" | "postgres";
  /** Where the data lives, with any password hidden. */
  readonly location: string;
  createRun(run: NewRun): Promise<void>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  listRuns(query?: RunsQuery): Promise<RunsPage>;
  /** Append events atomically, updating run status and per-asset indexes on the way. */
  appendEvents(events: readonly RunEvent[]): Promise<void>;
  getEvents(runId: string, query?: EventsQuery): Promise<StoredRunEvent[]>;
  /** Latest materialization/failure per asset (all assets when `assetKeys` is omitted). */
  getAssetStatuses(assetKeys?: readonly string[]): Promise<AssetStatusRecord[]>;
  /** Materialization events of one asset, newest first. */
  getMaterializations(
    assetKey: string,
    query?: { limit?: number; beforeId?: number },
  ): Promise<StoredRunEvent[]>;
  getLatestCheckResults(assetKey?: string): Promise<CheckResultRecord[]>;
  close(): Promise<void>;
}
