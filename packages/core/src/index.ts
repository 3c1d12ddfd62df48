/**
 * @baton/core: the public API, what a `definitions.ts` and a script need. A hand-picked list;
 * anything not exported here is private. Importing it loads no database driver, no CLI library
 * and no webserver: `openInstance` loads the storage and its driver on first call, DuckDB lives in
 * `@baton/core/duckdb`. Internals shared with `@baton/webserver`, the tests and the benchmarks are
 * in `@baton/core/internal` (no compatibility promise).
 */

import type { BatonInstance, InstanceOptions } from "./instance/instance.js";

// Definitions
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
} from "./definitions/definitions.js";
export type { InputContext, IOManager, OutputContext } from "./definitions/io-manager.js";
export { type AssetJobDefinition, assetJob } from "./definitions/job.js";
export { type MetadataInput, type MetadataMap, type MetadataValue, md } from "./definitions/metadata.js";
export { type MultiAssetContext, type MultiAssetDefinition, multiAsset } from "./definitions/multi-asset.js";
// Partitions
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
export { dynamicPartitions, staticPartitions } from "./definitions/partitions/static-partitions.js";
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
// Schedules, sensors, alerts
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
// Scripts: an instance (runs, events, backfills) and the types of what it returns
export type {
  InputDataVersions,
  RunEvent,
  RunEventType,
  RunStatus,
  StepKind,
  StepStatus,
  StoredRunEvent,
} from "./execution/events.js";
// IO managers
export { createFsIOManager, fsIOManager } from "./execution/fs-io-manager.js";
export type { RunSummary, StepAttempt, StepSummary } from "./execution/run-summary.js";
export type { BackfillProgress, BackfillRequest, RunBackfillOptions } from "./instance/backfill.js";
export type {
  BatonInstance,
  InstanceOptions,
  LaunchedRun,
  MaterializeRequest,
  ReexecuteOptions,
} from "./instance/instance.js";
// Pipes: asset bodies in any language
export { type PipesCheckOptions, pipesCheck } from "./pipes/pipes-check.js";
export {
  PIPES_STDOUT_PREFIX,
  type PipesCheckReport,
  type PipesContextPayload,
  type PipesContextSource,
  type PipesOptions,
  PipesProcessError,
  type PipesResult,
  pipesHelperPath,
  runPipes,
} from "./pipes/run-pipes.js";
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
export type {
  AssetStatusRecord,
  BackfillRecord,
  BackfillStatus,
  CheckResultRecord,
  RunRecord,
  RunsPage,
  Storage,
} from "./storage/storage.js";

/**
 * Open the instance at `home` (default `$BATON_HOME`, else `.baton/`) on its store (SQLite file, or
 * Postgres from `BATON_DATABASE_URL`): materialize, launch backfills, read runs and events from a
 * script. The engine, the storage and the store's driver load on the first call, so importing
 * `@baton/core` for the definitions API stays light.
 */
export async function openInstance(options?: InstanceOptions): Promise<BatonInstance> {
  const instance = await import("./instance/instance.js");
  return instance.openInstance(options);
}
