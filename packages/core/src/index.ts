/**
 * @baton/core: the public API. A hand-picked list; anything not exported here is private.
 */

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
// Errors
export {
  BatonError,
  type BatonErrorCode,
  type DefinitionProblem,
  DefinitionsLoadError,
  InvalidConfigError,
  InvalidDefinitionError,
  InvalidPartitionKeyError,
  RunNotFoundError,
  SelectionError,
  type SerializedError,
  StorageError,
  UserCodeError,
} from "./errors.js";
// Execution
export type {
  RunEvent,
  RunEventType,
  RunStatus,
  StepKind,
  StepStatus,
  StoredRunEvent,
} from "./execution/events.js";
export { createFsIOManager, fsIOManager } from "./execution/fs-io-manager.js";
export type { RunSummary, StepSummary } from "./execution/run-summary.js";
// Graph and selection
export type { AssetGraph, AssetNode } from "./graph/asset-graph.js";
export { parseSelection, resolveSelection, type SelectionNode } from "./graph/selection.js";
export type { BackfillProgress, BackfillRequest, RunBackfillOptions } from "./instance/backfill.js";
// Instance and storage
export {
  type BatonInstance,
  type InstanceOptions,
  type MaterializeRequest,
  openInstance,
  type ReexecuteOptions,
} from "./instance/instance.js";
export { evaluateFreshness, type Freshness } from "./status/freshness.js";
export { type AssetPartitionStatus, partitionStatus } from "./status/partition-status.js";
export { createStalenessResolver, type Staleness, type StaleReason } from "./status/staleness.js";
export type {
  AssetStatusRecord,
  CheckResultRecord,
  RunRecord,
  RunsPage,
  Storage,
} from "./storage/storage.js";
