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

/** How deeply run config may nest (objects and arrays, the config object itself counting as 1). */
export const MAX_CONFIG_DEPTH = 32;
/** How large run config may be, as JSON (it is stored with the run and sent with every run list). */
export const MAX_CONFIG_BYTES = 256 * 1024;
/** How many tags a run or backfill may carry. */
export const MAX_TAGS = 100;

/**
 * What is wrong with a JSON value's shape, if anything: deeper than `maxDepth` or larger than
 * `maxBytes`. Walked with an explicit stack (a recursive walk is what a deep value overflows).
 */
export function jsonShapeProblem(value: unknown, maxDepth: number, maxBytes: number): string | undefined {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth > maxDepth) return `nested deeper than ${maxDepth} levels`;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? "");
  if (bytes > maxBytes) return `larger than ${maxBytes / 1024} KiB as JSON (${Math.ceil(bytes / 1024)} KiB)`;
  return undefined;
}

/** Run config: asset key → that asset's config, bounded in depth and size. */
export const RunConfig = z
  .record(z.string(), z.unknown())
  .superRefine((config, ctx) => {
    const problem = jsonShapeProblem(config, MAX_CONFIG_DEPTH, MAX_CONFIG_BYTES);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  })
  .openapi({
    description: `Config by asset key (at most ${MAX_CONFIG_DEPTH} levels deep and ${MAX_CONFIG_BYTES / 1024} KiB)`,
  });

/** Control characters are never meaningful in a tag (and Postgres refuses NUL in text). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is rejected.
const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/;

/** Run tags: string → string, at most MAX_TAGS of them. */
export const RunTags = z
  .record(
    z.string().min(1).max(200).regex(NO_CONTROL, "must not contain control characters"),
    z.string().max(1000).regex(NO_CONTROL, "must not contain control characters"),
  )
  .refine((tags) => Object.keys(tags).length <= MAX_TAGS, { message: `at most ${MAX_TAGS} tags` });

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
    config: RunConfig.optional(),
    tags: RunTags.optional(),
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
    config: RunConfig.optional(),
    tags: RunTags.optional(),
  })
  .strict()
  .openapi("CreateBackfill");

/** The body of operations that take none: absent, or `{}` (a field sent there is a mistake). */
export const NoFields = z.object({}).strict();
export const ReexecuteBody = z.object({ fromFailure: z.boolean().optional() }).strict().openapi("Reexecute");
export const RetryBody = z.object({ force: z.boolean().optional() }).strict().openapi("RetryBackfill");
export const AutomationSwitchBody = z
  .object({ kind: z.enum(["sensor", "schedule"]).optional() })
  .strict()
  .openapi("AutomationSwitchBody");

export const Limit = (max: number, def: number) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(max)
    .optional()
    .default(def)
    .openapi({ type: "integer", minimum: 1, maximum: max, default: def });

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
