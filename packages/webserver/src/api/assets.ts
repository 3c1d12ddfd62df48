/** Response schemas of the asset routes: graph, detail, status, partitions, lineage reasons. */
import { z } from "@hono/zod-openapi";
import { CheckSeveritySchema, MetadataMapSchema, Millis, orNull, TagsSchema } from "./common.js";
import { CheckEvaluationEventSchema, MaterializationEventSchema } from "./events.js";

const nullableString = z.string().nullable();

export const AssetGraphSchema = z
  .strictObject({
    hash: z.string().openapi({ description: "the definitions hash (also the ETag)" }),
    assets: z.array(
      z.strictObject({
        key: z.string(),
        group: z.string(),
        kinds: z.array(z.string()),
        owners: z.array(z.string()),
        tags: TagsSchema,
        description: nullableString,
        deps: z.array(z.string()).openapi({ description: "direct upstream asset keys" }),
        computation: z.string().openapi({ description: "the step producing it (shared by a multi-asset)" }),
        partitions: z.strictObject({ kind: z.enum(["static", "dynamic", "time", "multi"]) }).nullable(),
        checks: z.array(z.string()).openapi({ description: "check names" }),
        automation: nullableString.openapi({ description: "declarative automation condition, described" }),
      }),
    ),
  })
  .openapi("AssetGraph", { description: "Every asset in topological order (upstream first)." });

const SingleDimensionSpec = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("static"), keys: z.array(z.string()) }),
  z.strictObject({ kind: z.literal("dynamic"), name: z.string() }),
  z.strictObject({
    kind: z.literal("time"),
    unit: z.enum(["hour", "day", "week", "month"]).nullable(),
    cron: nullableString,
    timezone: z.string(),
    format: z.string(),
    start: z.string().openapi({ description: "ISO instant" }),
    end: nullableString,
    endOffset: z.number().int(),
    offsets: z.record(z.string(), z.number()),
  }),
]);
export const PartitionsSpecSchema = z
  .union([
    SingleDimensionSpec,
    z.strictObject({
      kind: z.literal("multi"),
      dimensions: z.array(z.strictObject({ name: z.string(), spec: SingleDimensionSpec })),
    }),
  ])
  .openapi("PartitionsSpec");

export const AssetDefinitionSchema = z
  .strictObject({
    key: z.string(),
    description: nullableString,
    group: z.string(),
    owners: z.array(z.string()),
    tags: TagsSchema,
    kinds: z.array(z.string()),
    metadata: z.record(z.string(), z.unknown()),
    codeVersion: nullableString,
    parents: z.array(z.string()),
    computation: z.strictObject({
      name: z.string(),
      kind: z.string(),
      assetKeys: z.array(z.string()),
      canSubset: z.boolean(),
    }),
    partitions: orNull(PartitionsSpecSchema),
    mappings: z
      .record(z.string(), z.string())
      .openapi({ description: "partition mapping kind by upstream key" }),
    configSchema: z.unknown().openapi({ description: "the run config's JSON Schema, or null" }),
    checks: z.array(
      z.strictObject({
        name: z.string(),
        blocking: z.boolean(),
        severity: z.string(),
        description: nullableString,
        configSchema: z.unknown(),
      }),
    ),
    freshness: z
      .strictObject({ maxLagMinutes: z.number(), cron: nullableString, timezone: nullableString })
      .nullable(),
    automation: nullableString,
  })
  .openapi("AssetDefinition");

/** The data versions a materialization read: upstream key → version, or → { partition: version }. */
export const InputDataVersionsSchema = z
  .record(z.string(), z.union([z.string(), z.record(z.string(), z.string())]))
  .openapi("InputDataVersions", {
    description:
      "the data versions of the inputs a materialization read, by upstream asset key (partitioned upstreams: by partition key); inputs of unknown version are absent",
  });

export const AssetStatusSchema = z
  .strictObject({
    assetKey: z.string(),
    lastMaterialization: z
      .strictObject({
        runId: z.string(),
        eventId: z.number().int(),
        timestamp: Millis,
        metadata: MetadataMapSchema,
        codeVersion: nullableString,
        dataVersion: nullableString.openapi({
          description: "the stored value's data version (null: unknown)",
        }),
        inputDataVersions: InputDataVersionsSchema.nullable(),
      })
      .nullable(),
    lastFailure: z.strictObject({ runId: z.string(), timestamp: Millis }).nullable(),
  })
  .openapi("AssetStatus");

export const AssetStatusesSchema = z
  .strictObject({ assets: z.array(AssetStatusSchema) })
  .openapi("AssetStatuses", { description: "Assets never materialized nor failed are absent." });

export const CheckResultSchema = z
  .strictObject({
    assetKey: z.string(),
    checkName: z.string(),
    runId: z.string(),
    eventId: z.number().int(),
    passed: z.boolean(),
    blocking: z.boolean(),
    severity: CheckSeveritySchema,
    metadata: MetadataMapSchema,
    timestamp: Millis,
  })
  .openapi("CheckResult");

export const PartitionCountsSchema = z
  .strictObject({
    materialized: z.number().int(),
    failed: z.number().int(),
    in_progress: z.number().int(),
    missing: z.number().int(),
  })
  .openapi("PartitionCounts");

export const FreshnessSchema = z
  .strictObject({
    assetKey: z.string(),
    policy: z.strictObject({
      maxLagMinutes: z.number(),
      cron: z.string().optional(),
      timezone: z.string().optional(),
    }),
    status: z.enum(["fresh", "overdue"]),
    partition: nullableString,
    lastMaterializedAt: Millis.nullable(),
    deadline: Millis,
    message: z.string(),
  })
  .openapi("Freshness");

export const AssetDetailSchema = z
  .strictObject({
    definition: AssetDefinitionSchema,
    status: orNull(AssetStatusSchema),
    checks: z.array(CheckResultSchema).openapi({ description: "latest result of each check" }),
    partitions: z.strictObject({ total: z.number().int(), counts: PartitionCountsSchema }).nullable(),
    freshness: orNull(FreshnessSchema),
  })
  .openapi("AssetDetail");

const MULTI_ORDER =
  "Multi-partitioned keys join the dimension keys with `|` in declaration order (`2019-01|yellow`) " +
  "and are ordered row-major, the LAST dimension varying fastest: with dimensions d0…dn-1 of sizes " +
  "s0…sn-1 and per-dimension indices i0…in-1, `index = ((i0 * s1 + i1) * s2 + i2) …`; for two " +
  "dimensions `index = i0 * size1 + i1`, so `i0 = floor(index / size1)` (the row) and " +
  "`i1 = index % size1` (the column). A range [start, end] is therefore a run of cells read row " +
  "by row (it may wrap over several rows of the grid).";

export const PartitionDimensionSchema = z
  .strictObject({
    name: z.string(),
    size: z.number().int(),
    keys: z
      .array(z.string())
      .optional()
      .openapi({ description: "the dimension's keys in index order (present when size <= 1000)" }),
  })
  .openapi("PartitionDimension");

export const PartitionStatusSchema = z
  .strictObject({
    assetKey: z.string(),
    total: z.number().int(),
    counts: PartitionCountsSchema,
    ranges: z
      .array(
        z.strictObject({
          status: z.enum(["materialized", "failed", "in_progress", "missing"]),
          start: z.number().int().openapi({ description: "inclusive index" }),
          end: z.number().int().openapi({ description: "inclusive index" }),
          startKey: z.string(),
          endKey: z.string(),
        }),
      )
      .openapi({ description: "the whole key space as consecutive ranges, in index order" }),
    dimensions: z
      .array(PartitionDimensionSchema)
      .nullable()
      .openapi({
        description: `Multi partitions: each dimension in declaration order (null otherwise). ${MULTI_ORDER}`,
      }),
  })
  .openapi("PartitionStatus", { description: MULTI_ORDER });

export const PartitionKeysSchema = z
  .strictObject({
    total: z.number().int().openapi({
      description:
        "without q: every key; with q: the keys matching q found by the scan (a lower bound when truncated)",
    }),
    offset: z.number().int(),
    keys: z.array(z.string()).openapi({ description: "one page of (matching) keys, in index order" }),
    truncated: z.boolean().openapi({
      description:
        "true when a q search stopped scanning before the end of a very large key space: more keys may match",
    }),
    dimensions: z
      .array(z.strictObject({ name: z.string(), size: z.number().int(), keys: z.array(z.string()) }))
      .nullable()
      .openapi({
        description:
          "multi partitions: each dimension's keys in index order (at most 100,000 each; `size` is the full count); null otherwise",
      }),
  })
  .openapi("PartitionKeys");

const reasonBase = { assetKey: z.string(), partition: nullableString, message: z.string() };
export type StaleReasonJson =
  | { kind: "missing"; assetKey: string; partition: string | null; message: string }
  | {
      kind: "code_version";
      assetKey: string;
      partition: string | null;
      from: string | null;
      to: string;
      message: string;
    }
  | {
      kind: "upstream_newer";
      assetKey: string;
      partition: string | null;
      upstream: string;
      upstreamPartitions: string[];
      message: string;
    }
  | {
      kind: "upstream_stale";
      assetKey: string;
      partition: string | null;
      upstream: string;
      upstreamPartition: string | null;
      causes: StaleReasonJson[];
      message: string;
    };
export const StaleReasonSchema: z.ZodType<StaleReasonJson> = z
  .lazy(() =>
    z.discriminatedUnion("kind", [
      z.strictObject({ kind: z.literal("missing"), ...reasonBase }),
      z.strictObject({
        kind: z.literal("code_version"),
        ...reasonBase,
        from: nullableString,
        to: z.string(),
      }),
      z.strictObject({
        kind: z.literal("upstream_newer"),
        ...reasonBase,
        upstream: z.string(),
        upstreamPartitions: z.array(z.string()),
      }),
      z.strictObject({
        kind: z.literal("upstream_stale"),
        ...reasonBase,
        upstream: z.string(),
        upstreamPartition: nullableString,
        causes: z.array(StaleReasonSchema),
      }),
    ]),
  )
  .openapi("StaleReason");

export const StalenessSchema = z
  .strictObject({
    assetKey: z.string(),
    partition: nullableString,
    status: z.enum(["fresh", "stale", "missing"]),
    lastMaterialization: z
      .strictObject({
        eventId: z.number().int(),
        timestamp: Millis,
        codeVersion: nullableString,
        dataVersion: nullableString
          .optional()
          .openapi({ description: "the stored value's data version (null: unknown)" }),
      })
      .nullable(),
    reasons: z.array(StaleReasonSchema),
  })
  .openapi("Staleness");

export const MaterializationsPageSchema = z
  .strictObject({ materializations: z.array(MaterializationEventSchema), nextCursor: nullableString })
  .openapi("MaterializationsPage");

export const ChecksPageSchema = z
  .strictObject({
    latest: z.array(CheckResultSchema),
    history: z.array(CheckEvaluationEventSchema),
    nextCursor: nullableString,
  })
  .openapi("ChecksPage");

export const MetadataSeriesSchema = z
  .strictObject({
    assetKey: z.string(),
    name: z.string(),
    points: z.array(
      z.strictObject({ timestamp: Millis, value: z.number(), partition: nullableString, runId: z.string() }),
    ),
  })
  .openapi("MetadataSeries");

export const GraphAssetStatusSchema = z
  .strictObject({
    status: z
      .enum(["running", "queued", "failed", "check_failed", "overdue", "stale", "missing", "materialized"])
      .openapi({ description: "the headline: the first that applies, in this order" }),
    lastMaterializedAt: Millis.nullable(),
    lastRunId: nullableString.openapi({
      description:
        "the newest in-progress run including it, else the run of its last materialization or failure",
    }),
    running: z
      .boolean()
      .openapi({ description: "an in-progress run (STARTING, STARTED, CANCELING) includes it" }),
    queued: z.boolean().openapi({ description: "a QUEUED run includes it" }),
    failed: z.boolean().openapi({
      description:
        "unpartitioned: its last failure is newer than its last materialization; partitioned: some partition failed and none is in progress",
    }),
    stale: z.boolean().openapi({
      description: "unpartitioned only (false for partitioned assets; ask /why per partition)",
    }),
    overdue: z.boolean().openapi({ description: "its freshness policy is violated now" }),
    checks: z.strictObject({ passed: z.number().int(), failed: z.number().int() }).openapi({
      description: "latest result of each check",
    }),
    partitions: z
      .strictObject({
        total: z.number().int(),
        materialized: z.number().int(),
        failed: z.number().int(),
        missing: z.number().int(),
        inProgress: z.number().int(),
      })
      .nullable(),
  })
  .openapi("GraphAssetStatus");

export const GraphStatusSchema = z
  .strictObject({
    eventId: z.number().int().openapi({ description: "the latest event log id this answer reflects" }),
    assets: z.record(z.string(), GraphAssetStatusSchema).openapi({ description: "by asset key" }),
  })
  .openapi("GraphStatus");
