/**
 * `@baton/webserver/api-types`: the TypeScript types of every request body and response of the
 * JSON API, inferred from the zod schemas /api/openapi.json is generated from. Import them with
 * `import type` only: this module has no runtime content (zod never reaches the browser bundle).
 */
import type { z } from "zod";
import type * as A from "./api/assets.js";
import type * as C from "./api/common.js";
import type * as E from "./api/events.js";
import type * as P from "./api/requests.js";
import type * as R from "./api/runs.js";
import type * as S from "./api/system.js";
import type * as B from "./schemas.js";

type Out<T extends z.ZodType> = z.output<T>;
/** Request bodies as sent (optional fields may be left out). */
type In<T extends z.ZodType> = z.input<T>;

// --- errors and shared pieces ---------------------------------------------------------------------
/** Every error answer: `{ error: { code, message, field? } }`. */
export type ApiErrorBody = Out<typeof C.ErrorSchema>;
export type MetadataValue = Out<typeof C.MetadataValueSchema>;
export type MetadataMap = Out<typeof C.MetadataMapSchema>;
export type SerializedError = C.SerializedErrorJson;
/** One frame of a serialized error's stack, marked as the user's code or not. */
export type StackFrame = C.StackFrameJson;
export type RunStatus = Out<typeof C.RunStatusSchema>;
export type CheckSeverity = Out<typeof C.CheckSeveritySchema>;

// --- assets -----------------------------------------------------------------------------------------
/** GET /api/assets */
export type AssetGraph = Out<typeof A.AssetGraphSchema>;
export type AssetGraphNode = AssetGraph["assets"][number];
/** GET /api/graph/status */
export type GraphStatus = Out<typeof A.GraphStatusSchema>;
export type GraphAssetStatus = Out<typeof A.GraphAssetStatusSchema>;
export type GraphAssetHeadline = GraphAssetStatus["status"];
/** GET /api/status */
export type AssetStatuses = Out<typeof A.AssetStatusesSchema>;
export type AssetStatus = Out<typeof A.AssetStatusSchema>;
/** GET /api/assets/{key} */
export type AssetDetail = Out<typeof A.AssetDetailSchema>;
export type AssetDefinition = Out<typeof A.AssetDefinitionSchema>;
export type PartitionsSpec = Out<typeof A.PartitionsSpecSchema>;
export type CheckResult = Out<typeof A.CheckResultSchema>;
export type Freshness = Out<typeof A.FreshnessSchema>;
export type PartitionCounts = Out<typeof A.PartitionCountsSchema>;
/** GET /api/assets/{key}/partitions */
export type PartitionStatus = Out<typeof A.PartitionStatusSchema>;
export type PartitionStatusRange = PartitionStatus["ranges"][number];
export type PartitionDimension = Out<typeof A.PartitionDimensionSchema>;
/** GET /api/assets/{key}/partition-keys */
export type PartitionKeys = Out<typeof A.PartitionKeysSchema>;
/** GET /api/assets/{key}/why */
export type Staleness = Out<typeof A.StalenessSchema>;
export type StaleReason = A.StaleReasonJson;
/** GET /api/assets/{key}/materializations */
export type MaterializationsPage = Out<typeof A.MaterializationsPageSchema>;
/** GET /api/assets/{key}/checks */
export type ChecksPage = Out<typeof A.ChecksPageSchema>;
/** GET /api/assets/{key}/metadata/{name} */
export type MetadataSeries = Out<typeof A.MetadataSeriesSchema>;

// --- run events -------------------------------------------------------------------------------------
/** One stored run event (also each SSE message's data on /api/events/stream). */
export type RunEvent = Out<typeof E.RunEventSchema>;
export type RunEventType = RunEvent["type"];
export type MaterializationEvent = Out<typeof E.MaterializationEventSchema>;
export type CheckEvaluationEvent = Out<typeof E.CheckEvaluationEventSchema>;
export type LogEvent = Out<typeof E.LogEventSchema>;

// --- runs and backfills -------------------------------------------------------------------------------
export type Run = Out<typeof R.RunSchema>;
export type LaunchedRun = Out<typeof R.LaunchedRunSchema>;
/** GET /api/runs */
export type RunsPage = Out<typeof R.RunsPageSchema>;
/** GET /api/runs/{id} */
export type RunDetail = Out<typeof R.RunDetailSchema>;
export type RunSummary = Out<typeof R.RunSummarySchema>;
export type StepSummary = Out<typeof R.StepSummarySchema>;
/** GET /api/runs/{id}/events */
export type RunEventsPage = Out<typeof R.RunEventsPageSchema>;
/** GET /api/runs/{id}/logs */
export type RunLogsPage = Out<typeof R.RunLogsPageSchema>;
/** POST /api/runs, POST /api/runs/{id}/reexecute */
export type LaunchedRunAnswer = Out<typeof R.LaunchedRunAnswerSchema>;
/** POST /api/runs/{id}/cancel */
export type RunAnswer = Out<typeof R.RunAnswerSchema>;
export type Backfill = Out<typeof R.BackfillSchema>;
export type BackfillStatus = Backfill["status"];
/** GET /api/backfills */
export type BackfillsPage = Out<typeof R.BackfillsPageSchema>;
/** GET /api/backfills/{id} */
export type BackfillDetail = Out<typeof R.BackfillDetailSchema>;
/** POST /api/backfills, POST /api/backfills/{id}/cancel, POST /api/backfills/{id}/retry */
export type BackfillAnswer = Out<typeof R.BackfillAnswerSchema>;

// --- system, definitions, automation, dynamic partitions --------------------------------------------------
/** GET /api/health */
export type Health = Out<typeof S.HealthSchema>;
/** GET /api/me */
export type Me = Out<typeof S.MeSchema>;
export type Role = Me["role"];
/** GET /api/jobs */
export type Jobs = Out<typeof S.JobsSchema>;
/** GET /api/resources */
export type Resources = Out<typeof S.ResourcesSchema>;
/** GET /api/schedules */
export type Schedules = Out<typeof S.SchedulesSchema>;
export type Schedule = Out<typeof S.ScheduleSchema>;
/** GET /api/sensors */
export type Sensors = Out<typeof S.SensorsSchema>;
export type Sensor = Out<typeof S.SensorSchema>;
/** GET /api/automation/{name}/ticks */
export type TicksPage = Out<typeof S.TicksPageSchema>;
export type Tick = Out<typeof S.TickSchema>;
/** POST /api/automation/{name}/start|stop */
export type InstigatorStateAnswer = Out<typeof S.InstigatorStateAnswerSchema>;
/** POST /api/automation/start-all, POST /api/automation/stop-all */
export type AutomationSwitch = Out<typeof S.AutomationSwitchSchema>;
/** GET /api/automation/evaluations */
export type AutomationEvaluations = Out<typeof S.AutomationEvaluationsSchema>;
export type AutomationEvaluation = AutomationEvaluations["evaluations"][number];
/** POST /api/automation/{name}/preview */
export type Preview = Out<typeof S.PreviewSchema>;
/** POST /api/sensors/{name}/cursor/reset */
export type CursorReset = Out<typeof S.CursorResetSchema>;
/** POST /api/partitions/{name}/add */
export type PartitionsAdded = Out<typeof S.PartitionsAddedSchema>;
/** POST /api/partitions/{name}/remove */
export type PartitionsRemoved = Out<typeof S.PartitionsRemovedSchema>;

// --- request bodies ------------------------------------------------------------------------------------
/** POST /api/runs */
export type LaunchRunBody = In<typeof B.LaunchBody>;
/** POST /api/backfills */
export type CreateBackfillBody = In<typeof B.BackfillBody>;
/** POST /api/runs/{id}/reexecute (optional body) */
export type ReexecuteBody = In<typeof B.ReexecuteBody>;
/** POST /api/backfills/{id}/retry (optional body) */
export type RetryBackfillBody = In<typeof B.RetryBody>;
/** POST /api/partitions/{name}/add|remove */
export type PartitionKeysBody = In<typeof P.PartitionKeysBody>;
export type PartitionSelection = In<typeof B.PartitionSelection>;
