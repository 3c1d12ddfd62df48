/**
 * @baton/core/internal: what `@baton/webserver`, the tests and the benchmarks use beyond the public
 * API (the daemon, snapshots, status, storage records, the worker, the run launcher interface). No
 * compatibility promise: user code imports `@baton/core` (and `@baton/core/duckdb`). Everything
 * public is here too, so one import line serves a module that needs both. The Kubernetes launcher
 * stays out (its client loads only when configured: launcher/config.ts imports it lazily).
 */

export { cronTicksBetween, nextCronTick } from "./daemon/cron-ticks.js";
export { createDaemon, type Daemon, type DaemonOptions } from "./daemon/daemon.js";
export { cancelPreview, type PreviewResult, requestPreview, takePreviewResult } from "./daemon/previews.js";
export { CODE_GENERATION_KEY, requestReload } from "./daemon/reload.js";
export { MAX_RETRIES_TAG } from "./daemon/retries.js";
export { evaluateSchedule, schedulePartitionKeys } from "./daemon/schedules.js";
export { evaluateSensor } from "./daemon/sensors.js";
export { isDefinitions } from "./definitions/definitions.js";
export { partitionKeyProblem } from "./definitions/partitions/static-partitions.js";
export { describeError } from "./errors.js";
export type { KeySpaces } from "./execution/run-partitions.js";
export type { AssetGraph, AssetNode } from "./graph/asset-graph.js";
export { parseSelection, resolveSelection, type SelectionNode } from "./graph/selection.js";
export * from "./index.js";
export {
  type BackfillFailure,
  type BackfillFailures,
  describeBackfillFailure,
  describeFailurePartitions,
  listBackfillFailures,
} from "./instance/backfill-failures.js";
export { createInstance } from "./instance/instance.js";
export { loadKeySpaces } from "./instance/run-partitions-request.js";
export type { LauncherContext, RunLauncher } from "./launcher/launcher.js";
export { pipesCheckMetadataKey } from "./pipes/pipes-check.js";
export { pipesContextPayload } from "./pipes/run-pipes.js";
export { definitionsFromSnapshot } from "./snapshot/from-snapshot.js";
export { type DefinitionsLoadFailure, readLoadError } from "./snapshot/load-error.js";
export { type PartitionsSpec, partitionsFromSpec, partitionsSpec } from "./snapshot/partitions-spec.js";
export {
  type AssetSnapshot,
  type DefinitionsSnapshot,
  publishSnapshot,
  readSnapshot,
  readSnapshotHash,
  SNAPSHOT_HASH_KEY,
  SNAPSHOT_KEY,
  snapshotOf,
} from "./snapshot/snapshot.js";
export { evaluateFreshness, type Freshness } from "./status/freshness.js";
export { type AssetPartitionStatus, partitionStatus } from "./status/partition-status.js";
export { createStalenessResolver, type Staleness, type StaleReason } from "./status/staleness.js";
export type {
  AutomationEvaluation,
  InstigatorState,
  InstigatorStatus,
  NewRun,
  TickRecord,
  TickStatus,
  WorkerRecord,
} from "./storage/storage.js";
export { type ExecuteRunOptions, executeRun } from "./worker/execute-run.js";
export { type RunWorkerOptions, runWorker } from "./worker/run-worker.js";
