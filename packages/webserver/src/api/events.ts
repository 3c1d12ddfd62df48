/** Run events as stored in the event log (packages/core/src/execution/events.ts), with their log id. */
import { z } from "@hono/zod-openapi";
import { CheckSeveritySchema, MetadataMapSchema, Millis, SerializedErrorSchema } from "./common.js";

const StepKind = z.enum(["asset", "graph", "multi", "check"]).openapi("StepKind");
const LogLevel = z.enum(["debug", "info", "warn", "error"]).openapi("LogLevel");

/** Every stored event has these, besides its `type` and body. */
const base = {
  id: z.number().int().openapi({ description: "event log id (monotonic per store)" }),
  runId: z.string(),
  timestamp: Millis,
};

export const MaterializationEventSchema = z
  .strictObject({
    ...base,
    type: z.literal("materialization"),
    stepKey: z.string(),
    assetKey: z.string(),
    metadata: MetadataMapSchema,
    codeVersion: z.string().optional(),
    partition: z.string().optional(),
    partitionIndex: z.number().int().optional(),
    dataVersion: z.string().optional(),
    inputDataVersions: z
      .record(z.string(), z.union([z.string(), z.record(z.string(), z.string())]))
      .optional()
      .openapi({ description: "the data versions of the inputs it read, by upstream key (and partition)" }),
  })
  .openapi("MaterializationEvent");

export const CheckEvaluationEventSchema = z
  .strictObject({
    ...base,
    type: z.literal("check_evaluation"),
    stepKey: z.string(),
    assetKey: z.string(),
    checkName: z.string(),
    passed: z.boolean(),
    blocking: z.boolean(),
    severity: CheckSeveritySchema,
    metadata: MetadataMapSchema,
    description: z.string().optional(),
    partition: z.string().optional(),
  })
  .openapi("CheckEvaluationEvent");

export const LogEventSchema = z
  .strictObject({
    ...base,
    type: z.literal("log"),
    stepKey: z.string().optional(),
    level: LogLevel,
    message: z.string(),
    source: z.enum(["logger", "stdout", "stderr"]),
    fields: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi("LogEvent");

export const RunEventSchema = z
  .discriminatedUnion("type", [
    z.strictObject({
      ...base,
      type: z.literal("run_started"),
      steps: z.array(z.strictObject({ stepKey: z.string(), kind: StepKind, assetKeys: z.array(z.string()) })),
    }),
    z.strictObject({ ...base, type: z.literal("run_succeeded") }),
    z.strictObject({
      ...base,
      type: z.literal("run_failed"),
      reason: z.string(),
      error: SerializedErrorSchema.optional(),
    }),
    z.strictObject({ ...base, type: z.literal("run_canceled"), reason: z.string() }),
    z.strictObject({
      ...base,
      type: z.literal("step_started"),
      stepKey: z.string(),
      kind: StepKind,
      assetKeys: z.array(z.string()),
      attempt: z.number().int(),
    }),
    z.strictObject({
      ...base,
      type: z.literal("step_succeeded"),
      stepKey: z.string(),
      durationMs: z.number(),
    }),
    z.strictObject({
      ...base,
      type: z.literal("step_failed"),
      stepKey: z.string(),
      assetKeys: z.array(z.string()),
      durationMs: z.number(),
      attempt: z.number().int(),
      error: SerializedErrorSchema,
    }),
    z.strictObject({
      ...base,
      type: z.literal("step_retrying"),
      stepKey: z.string(),
      attempt: z.number().int(),
      delayMs: z.number(),
      error: SerializedErrorSchema,
    }),
    z.strictObject({
      ...base,
      type: z.literal("step_skipped"),
      stepKey: z.string(),
      assetKeys: z.array(z.string()),
      reason: z.string(),
      cause: z.string(),
    }),
    z.strictObject({
      ...base,
      type: z.literal("step_canceled"),
      stepKey: z.string(),
      assetKeys: z.array(z.string()),
      reason: z.string(),
    }),
    MaterializationEventSchema,
    CheckEvaluationEventSchema,
    z.strictObject({ ...base, type: z.literal("op_started"), stepKey: z.string(), op: z.string() }),
    z.strictObject({
      ...base,
      type: z.literal("op_succeeded"),
      stepKey: z.string(),
      op: z.string(),
      durationMs: z.number(),
    }),
    z.strictObject({
      ...base,
      type: z.literal("op_failed"),
      stepKey: z.string(),
      op: z.string(),
      durationMs: z.number(),
      error: SerializedErrorSchema,
    }),
    LogEventSchema,
  ])
  .openapi("RunEvent", { description: "One stored run event; `type` tells which." });
