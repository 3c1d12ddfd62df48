/**
 * Response schemas shared by several resources: errors, metadata, serialized errors. Each named
 * schema (`.openapi("Name")`) is one component of /api/openapi.json; the UI imports the inferred
 * types from `@baton/webserver/api-types` (types only, zod never reaches the browser).
 *
 * Response objects are strict: a field a route sends that its schema does not describe fails the
 * route suite (tests/webserver-routes.test.ts validates every 2xx answer against these).
 */
import { z } from "@hono/zod-openapi";

export const ErrorSchema = z
  .strictObject({
    error: z.strictObject({
      code: z.string().openapi({
        description:
          "Machine-readable: invalid_request, invalid_partition, unauthorized, forbidden, read_only, not_found, not_partitioned, conflict, unsupported_media_type, too_large, no_definitions, no_daemon, unavailable, …",
        example: "invalid_request",
      }),
      message: z.string().openapi({ description: "What happened, where, and what to do." }),
      field: z
        .string()
        .optional()
        .openapi({ description: "For 400s: where the problem is", example: "body.partitions.keys[1]" }),
    }),
  })
  .openapi("Error");

export const MetadataValueSchema = z
  .discriminatedUnion("type", [
    z.strictObject({ type: z.literal("number"), value: z.number() }),
    z.strictObject({ type: z.literal("text"), value: z.string() }),
    z.strictObject({ type: z.literal("bool"), value: z.boolean() }),
    z.strictObject({ type: z.literal("json"), value: z.unknown() }),
    z.strictObject({ type: z.literal("url"), value: z.string() }),
    z.strictObject({ type: z.literal("path"), value: z.string() }),
    z.strictObject({ type: z.literal("row_count"), value: z.number() }),
    z.strictObject({ type: z.literal("duration_ms"), value: z.number() }),
    z.strictObject({
      type: z.literal("table_schema"),
      value: z.array(z.strictObject({ name: z.string(), type: z.string() })),
    }),
  ])
  .openapi("MetadataValue");

export const MetadataMapSchema = z.record(z.string(), MetadataValueSchema).openapi("MetadataMap");

export const StackFrameSchema = z
  .strictObject({
    function: z.string().nullable().openapi({ description: "as V8 names it", example: "totalFare" }),
    file: z.string().openapi({
      description: "absolute path of the file, or what V8 wrote for code without one (node:fs, native)",
      example: "/home/me/project/part.ts",
    }),
    line: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "1-based, in the user's .ts source", example: 7 }),
    column: z.number().int().nullable().openapi({ description: "1-based", example: 69 }),
    origin: z.enum(["user", "baton", "package", "node"]).openapi({
      description: "the user's code, Baton's, another package's (node_modules) or Node's",
    }),
    inUserCode: z.boolean().openapi({ description: 'origin is "user": show these first' }),
  })
  .openapi("StackFrame");
export type StackFrameJson = z.infer<typeof StackFrameSchema>;

export interface SerializedErrorJson {
  name: string;
  message: string;
  stack?: string | undefined;
  code?: string | undefined;
  cause?: SerializedErrorJson | undefined;
  frames?: readonly StackFrameJson[] | undefined;
}
export const SerializedErrorSchema: z.ZodType<SerializedErrorJson> = z
  .lazy(() =>
    z.strictObject({
      name: z.string(),
      message: z.string(),
      stack: z.string().optional(),
      code: z.string().optional(),
      cause: SerializedErrorSchema.optional().openapi({ description: "what caused it (at most 5 deep)" }),
      frames: z.array(StackFrameSchema).readonly().optional().openapi({
        description:
          "this error's stack as frames, top first (absent in errors stored before frames were recorded)",
      }),
    }),
  )
  .openapi("SerializedError");

/**
 * A named schema or null, as `anyOf: [$ref, null]` (`.nullable()` on a named schema makes the
 * generator write `allOf: [$ref, { type: [object, null] }]`, which no null satisfies).
 */
export const orNull = <T extends z.ZodType>(schema: T) => z.union([schema, z.null()]);

export const TagsSchema = z.record(z.string(), z.string());

/** Epoch milliseconds. */
export const Millis = z.number().int().openapi({ description: "epoch milliseconds" });

export const RunStatusSchema = z
  .enum(["QUEUED", "STARTING", "STARTED", "SUCCESS", "FAILURE", "CANCELING", "CANCELED"])
  .openapi("RunStatus");

export const CheckSeveritySchema = z.enum(["WARN", "ERROR"]).openapi("CheckSeverity");
