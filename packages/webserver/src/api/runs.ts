/** Response schemas of the run and backfill routes. */
import { z } from "@hono/zod-openapi";
import {
  MetadataMapSchema,
  Millis,
  orNull,
  RunStatusSchema,
  SerializedErrorSchema,
  TagsSchema,
} from "./common.js";
import { LogEventSchema, RunEventSchema } from "./events.js";

const nullableString = z.string().nullable();

export const RunSchema = z
  .strictObject({
    runId: z.string(),
    status: RunStatusSchema,
    selection: z.string().openapi({ description: "the selection it was launched with" }),
    assetKeys: z.array(z.string()),
    config: z.unknown(),
    tags: TagsSchema,
    parentRunId: nullableString,
    rootRunId: nullableString,
    createdAt: Millis,
    startedAt: Millis.nullable(),
    endedAt: Millis.nullable(),
    partitionKeys: z.array(z.string()).nullable().openapi({ description: "null: unpartitioned" }),
    backfillId: nullableString,
    priority: z.number().int(),
    request: z
      .strictObject({
        assetKeys: z.array(z.string()),
        checkKeys: z.array(z.string()).optional(),
        partitionKeys: z.array(z.string()).optional(),
        concurrency: z.number().int().optional(),
      })
      .nullable()
      .openapi({ description: "what a worker executes (null for runs executed where launched)" }),
    workerId: nullableString,
    heartbeatAt: Millis.nullable(),
    cancelRequested: z.boolean(),
  })
  .openapi("Run");

// Its own object, not `allOf: [Run, …]`: Run allows no other properties, so `created` would fail it.
export const LaunchedRunSchema = z
  .strictObject({
    ...RunSchema.shape,
    created: z
      .boolean()
      .openapi({ description: "false when an earlier run with the same run key was returned" }),
  })
  .openapi("LaunchedRun");

export const RunsPageSchema = z
  .strictObject({ runs: z.array(RunSchema), nextCursor: nullableString })
  .openapi("RunsPage");

export const StepSummarySchema = z
  .strictObject({
    stepKey: z.string(),
    kind: z.enum(["asset", "graph", "multi", "check"]).optional(),
    assetKeys: z.array(z.string()),
    status: z.enum(["not_started", "running", "succeeded", "failed", "skipped", "canceled"]),
    startedAt: Millis.nullable(),
    endedAt: Millis.nullable(),
    durationMs: z.number().nullable(),
    attempts: z.number().int(),
    attemptSpans: z
      .array(
        z.strictObject({
          attempt: z.number().int(),
          startedAt: Millis,
          endedAt: Millis.nullable().openapi({ description: "null while it runs" }),
          outcome: z.enum(["running", "succeeded", "failed", "retried", "canceled"]),
        }),
      )
      .openapi({ description: "each attempt with its timings (the run's timeline)" }),
    reason: nullableString,
    error: orNull(SerializedErrorSchema),
    materializations: z.array(z.strictObject({ assetKey: z.string(), metadata: MetadataMapSchema })),
    checks: z.array(
      z.strictObject({
        assetKey: z.string(),
        checkName: z.string(),
        passed: z.boolean(),
        blocking: z.boolean(),
        severity: z.string(),
        metadata: MetadataMapSchema,
      }),
    ),
  })
  .openapi("StepSummary");

export const RunSummarySchema = z
  .strictObject({
    runId: z.string(),
    status: RunStatusSchema,
    startedAt: Millis.nullable(),
    endedAt: Millis.nullable(),
    durationMs: z.number().nullable(),
    reason: nullableString,
    steps: z.array(StepSummarySchema),
  })
  .openapi("RunSummary");

export const RunDetailSchema = z
  .strictObject({ run: RunSchema, summary: RunSummarySchema })
  .openapi("RunDetail");

export const RunEventsPageSchema = z
  .strictObject({
    events: z.array(RunEventSchema),
    nextAfter: z.number().int().nullable().openapi({ description: "pass as ?after= for the next page" }),
  })
  .openapi("RunEventsPage");

export const RunLogsPageSchema = z
  .strictObject({ logs: z.array(LogEventSchema), nextAfter: z.number().int().nullable() })
  .openapi("RunLogsPage");

export const LaunchedRunAnswerSchema = z
  .strictObject({ run: LaunchedRunSchema })
  .openapi("LaunchedRunAnswer");
export const RunAnswerSchema = z.strictObject({ run: RunSchema }).openapi("RunAnswer");

// --- backfills ----------------------------------------------------------------------------------

export const BackfillSchema = z
  .strictObject({
    backfillId: z.string(),
    status: z.enum(["REQUESTED", "RUNNING", "COMPLETED", "FAILED", "CANCELING", "CANCELED"]),
    selection: z.string(),
    assetKeys: z.array(z.string()),
    partitionKeys: z.array(z.string()),
    options: z.record(z.string(), z.unknown()).openapi({
      description: "how it was asked for: policy overrides, force, config, tags, parent, daemon",
    }),
    counts: z.strictObject({
      targeted: z.number().int(),
      materialized: z.number().int(),
      failed: z.number().int(),
      skipped: z.number().int(),
      canceled: z.number().int(),
      runs: z.number().int(),
    }),
    error: nullableString,
    createdAt: Millis,
    updatedAt: Millis,
    endedAt: Millis.nullable(),
  })
  .openapi("Backfill");

export const BackfillsPageSchema = z
  .strictObject({ backfills: z.array(BackfillSchema), nextCursor: nullableString })
  .openapi("BackfillsPage");

export const BackfillFailureSchema = z
  .strictObject({
    runId: z.string(),
    assetKeys: z.array(z.string()),
    partitionKeys: z.array(z.string()).openapi({ description: "the partitions the failed run covered" }),
    kind: z.enum(["step", "check", "run"]).openapi({
      description: "what failed first: a step, a blocking check, or the run outside any step",
    }),
    stepKey: z.string().nullable(),
    checkName: z.string().nullable(),
    message: z.string().openapi({ description: "the first error (first line, at most 500 characters)" }),
  })
  .openapi("BackfillFailure");

export const BackfillDetailSchema = z
  .strictObject({
    backfill: BackfillSchema,
    runs: z.array(
      z.strictObject({
        runId: z.string(),
        status: RunStatusSchema,
        assetKeys: z.array(z.string()),
        partitionKeys: z.array(z.string()).nullable(),
      }),
    ),
    moreRuns: z
      .boolean()
      .openapi({ description: "more than the 1,000 runs listed (see /api/runs?backfill=ID)" }),
    failures: z.array(BackfillFailureSchema).openapi({
      description: "why each failed run failed (its first error), oldest first, at most 100",
    }),
    failedRuns: z.number().int().openapi({ description: "how many runs of the backfill failed in all" }),
  })
  .openapi("BackfillDetail");

export const BackfillAnswerSchema = z.strictObject({ backfill: BackfillSchema }).openapi("BackfillAnswer");
