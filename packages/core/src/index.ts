/**
 * @baton/core: the public API. A hand-picked list; anything not exported here is private.
 */

export { cronTicksBetween, nextCronTick } from "./daemon/cron-ticks.js";
export { createDaemon, type Daemon, type DaemonOptions } from "./daemon/daemon.js";
export { cancelPreview, type PreviewResult, requestPreview, takePreviewResult } from "./daemon/previews.js";
export { CODE_GENERATION_KEY, requestReload } from "./daemon/reload.js";
export { MAX_RETRIES_TAG } from "./daemon/retries.js";
export { evaluateSchedule, schedulePartitionKeys } from "./daemon/schedules.js";
export { evaluateSensor } from "./daemon/sensors.js";
// Definitions
// Partitions
export {
  type AssetDefinition,
  type AssetOptions,
  type AssetSpec,
  asset,
  type BackfillPolicy,
  type Computation,
  type ConfigOf,
  type FreshnessPolicy,
  type GraphAssetContext,
  graphAsset,
  multiRunBackfill,
  type OpContext,
  singleRunBackfill,
} from "./definitions/asset.js";
export {
  assetCheck,
  type CheckContext,
  type CheckDefinition,
  type CheckResult,
  type CheckSeverity,
} from "./definitions/asset-check.js";
// Schedules, sensors, alerts, declarative automation, the daemon
export {
  type AutomationCondition,
  eager,
  onCron,
} from "./definitions/automation-condition.js";
export type {
  AssetContext,
  BaseContext,
  Logger,
  LogLevel,
  PartitionFields,
  ResourceTypes,
} from "./definitions/context.js";
export {
  type Definitions,
  type DefinitionsInput,
  defineDefinitions,
  isDefinitions,
} from "./definitions/definitions.js";
export type { InputContext, IOManager, OutputContext } from "./definitions/io-manager.js";
export { type AssetJobDefinition, assetJob } from "./definitions/job.js";
export { type MetadataInput, type MetadataMap, type MetadataValue, md } from "./definitions/metadata.js";
export { type MultiAssetContext, type MultiAssetDefinition, multiAsset } from "./definitions/multi-asset.js";
export {
  allPartitionsMapping,
  defaultMapping,
  dimensionMapping,
  identityMapping,
  lastPartitionMapping,
  type PartitionMapping,
  staticMapping,
  timeWindowMapping,
} from "./definitions/partitions/mappings.js";
export { multiPartitions } from "./definitions/partitions/multi-partitions.js";
export type {
  DynamicPartitionsDefinition,
  MultiPartitionsDefinition,
  PartitionKeySpace,
  PartitionsDefinition,
  StaticPartitionsDefinition,
  TimeWindow,
  TimeWindowPartitionsDefinition,
} from "./definitions/partitions/partitions.js";
export {
  dynamicPartitions,
  partitionKeyProblem,
  staticPartitions,
} from "./definitions/partitions/static-partitions.js";
export {
  dailyPartitions,
  hourlyPartitions,
  monthlyPartitions,
  type TimeWindowOptions,
  timeWindowPartitions,
  weeklyPartitions,
} from "./definitions/partitions/time-window.js";
export {
  type AssetRef,
  type InputsOf,
  input,
  type LoadsAs,
  type MappedRef,
  mapped,
  type StoredValue,
} from "./definitions/refs.js";
export { type ResourceContext, type ResourceDefinition, resource } from "./definitions/resource.js";
export type { RetryPolicy } from "./definitions/retry-policy.js";
export {
  type RunTarget,
  type ScheduleDefinition,
  type ScheduleOptions,
  type ScheduleTickContext,
  schedule,
} from "./definitions/schedule.js";
export {
  type RunRequest,
  type SensorContext,
  type SensorDefinition,
  type SensorOptions,
  type SensorResult,
  type SensorStore,
  sensor,
} from "./definitions/sensor.js";
// Errors
export {
  BatonError,
  type BatonErrorCode,
  type DefinitionProblem,
  DefinitionsLoadError,
  describeError,
  InvalidConfigError,
  InvalidDefinitionError,
  InvalidPartitionKeyError,
  isBatonError,
  RunNotFoundError,
  SelectionError,
  type SerializedError,
  StorageError,
  UserCodeError,
} from "./errors.js";
// Execution
export type {
  InputDataVersions,
  RunEvent,
  RunEventType,
  RunStatus,
  StepKind,
  StepStatus,
  StoredRunEvent,
} from "./execution/events.js";
export { createFsIOManager, fsIOManager } from "./execution/fs-io-manager.js";
export type { KeySpaces } from "./execution/run-partitions.js";
export type { RunSummary, StepAttempt, StepSummary } from "./execution/run-summary.js";
// Graph and selection
export type { AssetGraph, AssetNode } from "./graph/asset-graph.js";
export { parseSelection, resolveSelection, type SelectionNode } from "./graph/selection.js";
export type { BackfillProgress, BackfillRequest, RunBackfillOptions } from "./instance/backfill.js";
export {
  type BackfillFailure,
  type BackfillFailures,
  describeBackfillFailure,
  describeFailurePartitions,
  listBackfillFailures,
} from "./instance/backfill-failures.js";
// Instance and storage
export {
  type BatonInstance,
  createInstance,
  type InstanceOptions,
  type LaunchedRun,
  type MaterializeRequest,
  openInstance,
  type ReexecuteOptions,
} from "./instance/instance.js";
export { loadKeySpaces } from "./instance/run-partitions-request.js";
export * from "./pipes/index.js";
export {
  type Alert,
  type AlertPayload,
  discordAlert,
  runLink,
  slackAlert,
  type WebhookAlertOptions,
  webhookAlert,
} from "./sensors/alerts.js";
export { type AssetSensorOptions, assetSensor, type MaterializationEvent } from "./sensors/asset-sensor.js";
export { type FileSensorOptions, fileSensor, type SensedFile } from "./sensors/file-sensor.js";
export { type EndStatus, type RunStatusSensorOptions, runStatusSensor } from "./sensors/run-status-sensor.js";
export { definitionsFromSnapshot } from "./snapshot/from-snapshot.js";
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
  AssetStatusRecord,
  AutomationEvaluation,
  BackfillRecord,
  BackfillStatus,
  CheckResultRecord,
  InstigatorState,
  InstigatorStatus,
  NewRun,
  RunRecord,
  RunsPage,
  Storage,
  TickRecord,
  TickStatus,
  WorkerRecord,
} from "./storage/storage.js";
export { type RunWorkerOptions, runWorker } from "./worker/run-worker.js";
