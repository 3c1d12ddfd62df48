import { z } from "@hono/zod-openapi";

export const RunStatus = z.enum([
  "QUEUED",
  "STARTING",
  "STARTED",
  "SUCCESS",
  "FAILURE",
  "CANCELING",
  "CANCELED",
]);

const key = z.string().min(1).max(1000);

export const PartitionSelection = z
  .object({
    keys: z.array(key).min(1).max(100_000).optional(),
    range: z.object({ from: key, to: key }).strict().optional(),
  })
  .strict()
  .refine((p) => (p.keys === undefined) !== (p.range === undefined), {
    message: "give either keys or range",
  })
  .openapi("PartitionSelection");

export const LaunchBody = z
  .object({
    selection: z.string().min(1).max(10_000).openapi({ example: "taxi/raw_trips+" }),
    partitions: PartitionSelection.optional(),
    config: z.record(z.string(), z.unknown()).optional(),
    tags: z.record(z.string().min(1).max(200), z.string().max(1000)).optional(),
    priority: z.number().int().min(-1000).max(1000).optional(),
    maxRetries: z.number().int().min(0).max(10).optional(),
  })
  .strict()
  .openapi("LaunchRun");

export const BackfillBody = z
  .object({
    selection: z.string().min(1).max(10_000),
    partitions: z
      .object({
        keys: z.array(key).min(1).max(1_000_000).optional(),
        range: z.object({ from: key, to: key }).strict().optional(),
        which: z.enum(["all", "missing", "failed", "stale"]).optional(),
      })
      .strict()
      .refine((p) => [p.keys, p.range, p.which].filter((x) => x !== undefined).length === 1, {
        message: "give exactly one of keys, range or which",
      }),
    chunkSize: z.number().int().min(1).max(1_000_000).optional(),
    singleRun: z.boolean().optional(),
    config: z.record(z.string(), z.unknown()).optional(),
    tags: z.record(z.string().min(1).max(200), z.string().max(1000)).optional(),
  })
  .strict()
  .openapi("CreateBackfill");

export const ReexecuteBody = z.object({ fromFailure: z.boolean().optional() }).strict().openapi("Reexecute");
export const RetryBody = z.object({ force: z.boolean().optional() }).strict().openapi("RetryBackfill");

export const Limit = (max: number, def: number) =>
  z.coerce.number().int().min(1).max(max).optional().default(def).openapi({ type: "integer" });

export const Cursor = z
  .string()
  .regex(/^\d{1,15}$/, "must be a cursor from a previous page")
  .optional();

export const RunsQuery = z
  .object({
    status: z
      .string()
      .optional()
      .transform((s, ctx) => {
        if (s === undefined || s === "") return undefined;
        const parts = s.split(",");
        for (const p of parts)
          if (!RunStatus.safeParse(p).success) {
            ctx.addIssue({
              code: "custom",
              message: `unknown status "${p}" (${RunStatus.options.join(", ")})`,
            });
            return z.NEVER;
          }
        return parts as z.infer<typeof RunStatus>[];
      })
      .openapi({ type: "string", example: "FAILURE,CANCELED" }),
    backfill: z.string().max(200).optional(),
    asset: z.string().min(1).max(1000).optional(),
    /** `key` or `key=value`. */
    tag: z.string().min(1).max(1200).optional(),
    sensor: z.string().min(1).max(200).optional(),
    schedule: z.string().min(1).max(200).optional(),
    createdAfter: z.iso.datetime({ offset: true }).optional(),
    createdBefore: z.iso.datetime({ offset: true }).optional(),
    limit: Limit(1000, 50),
    cursor: Cursor,
  })
  .strict()
  .refine((q) => [q.tag, q.sensor, q.schedule].filter((x) => x !== undefined).length <= 1, {
    message: "give at most one of tag, sensor and schedule",
    path: ["tag"],
  });

export const EventsQuery = z
  .object({ after: z.coerce.number().int().min(0).optional(), limit: Limit(5000, 500) })
  .strict();

export const Json = z.any().openapi({ type: "object" });
