/** Response schemas of health, caller, definitions lists, automation and dynamic partitions. */
import { z } from "@hono/zod-openapi";
import { Millis } from "./common.js";

const nullableString = z.string().nullable();

export const HealthSchema = z
  .strictObject({
    status: z.literal("ok"),
    store: z.strictObject({
      dialect: z.enum(["sqlite", "postgres"]),
      reachable: z.boolean(),
      latencyMs: z.number(),
    }),
    daemon: z.strictObject({ id: z.string(), heartbeatAgeMs: z.number() }).nullable(),
    workers: z.array(
      z.strictObject({
        workerId: z.string(),
        host: z.string(),
        pid: z.number().int(),
        heartbeatAgeMs: z.number(),
      }),
    ),
    definitions: z
      .strictObject({ hash: z.string(), publishedAt: Millis, assets: z.number().int() })
      .nullable()
      .openapi({ description: "null before a worker or daemon published definitions" }),
    definitionsLoadError: z
      .strictObject({
        message: z.string().openapi({ description: "what failed, as the CLI printed it (may span lines)" }),
        file: nullableString.openapi({ description: "the file that failed (absolute), when known" }),
        line: z.number().int().nullable(),
        column: z.number().int().nullable(),
        since: Millis.openapi({ description: "the first failed load since the last good one" }),
        at: Millis.openapi({ description: "the latest failed load" }),
      })
      .nullable()
      .openapi({
        description:
          "the latest reload of the definitions failed (`baton dev` on a file change, `baton daemon` on `baton reload`): the previous definitions are still served. null once a load succeeds",
      }),
  })
  .openapi("Health");

export const MeSchema = z
  .strictObject({
    name: z.string().openapi({ description: 'the token\'s name ("local" when auth is off)' }),
    role: z.enum(["viewer", "launcher", "admin"]),
    authRequired: z.boolean().openapi({ description: "whether this server asks for a token" }),
  })
  .openapi("Me");

export const JobsSchema = z
  .strictObject({
    jobs: z.array(z.strictObject({ name: z.string(), selection: z.string(), description: nullableString })),
  })
  .openapi("Jobs");

export const ResourcesSchema = z
  .strictObject({
    resources: z.array(
      z.strictObject({
        name: z.string(),
        description: nullableString,
        config: z
          .unknown()
          .openapi({ description: "plain config with secrets masked; null for resource()s" }),
      }),
    ),
  })
  .openapi("Resources");

const Target = z.strictObject({ job: z.string().optional(), selection: z.string().optional() });
const InstigatorStatus = z.enum(["RUNNING", "STOPPED"]);
const LastTick = z
  .strictObject({
    id: z.number().int(),
    timestamp: Millis,
    status: z.enum(["SUCCESS", "SKIPPED", "FAILURE"]),
    runIds: z.array(z.string()),
    skipReason: nullableString,
    error: nullableString,
  })
  .nullable()
  .openapi({ description: "its latest tick (null before the first)" });
const state = {
  status: InstigatorStatus.openapi({ description: "stored status, else the definition's default" }),
  cursor: nullableString,
  lastTickAt: Millis.nullable(),
  lastTick: LastTick,
};

export const ScheduleSchema = z
  .strictObject({
    name: z.string(),
    cron: z.string(),
    timezone: z.string(),
    target: Target,
    defaultStatus: InstigatorStatus,
    catchUp: z.number().int(),
    description: nullableString,
    nextTickAt: Millis.nullable().openapi({ description: "its next tick (null when stopped)" }),
    ...state,
  })
  .openapi("Schedule");

export const SensorSchema = z
  .strictObject({
    name: z.string(),
    type: z.string(),
    target: Target,
    minimumIntervalSeconds: z.number(),
    defaultStatus: InstigatorStatus,
    description: nullableString,
    ...state,
  })
  .openapi("Sensor");

export const SchedulesSchema = z.strictObject({ schedules: z.array(ScheduleSchema) }).openapi("Schedules");
export const SensorsSchema = z.strictObject({ sensors: z.array(SensorSchema) }).openapi("Sensors");

export const TickSchema = z
  .strictObject({
    id: z.number().int(),
    name: z.string(),
    kind: z.enum(["schedule", "sensor"]),
    timestamp: Millis,
    status: z.enum(["SUCCESS", "SKIPPED", "FAILURE"]),
    runIds: z.array(z.string()),
    skipReason: nullableString,
    error: nullableString,
    cursor: nullableString,
    durationMs: z.number(),
  })
  .openapi("Tick");

export const TicksPageSchema = z
  .strictObject({ ticks: z.array(TickSchema), nextCursor: nullableString })
  .openapi("TicksPage");

export const AutomationSwitchSchema = z
  .strictObject({
    status: InstigatorStatus,
    changed: z.array(z.string()).openapi({ description: "names whose status changed" }),
  })
  .openapi("AutomationSwitch");

export const AutomationEvaluationsSchema = z
  .strictObject({
    evaluations: z.array(
      z.strictObject({
        id: z.number().int(),
        assetKey: z.string(),
        timestamp: Millis,
        condition: z.string().openapi({ description: "`eager` or `on_cron(…)`" }),
        launched: z.boolean(),
        reason: z.string(),
        partitionKeys: z.array(z.string()).nullable(),
        runId: nullableString,
      }),
    ),
  })
  .openapi("AutomationEvaluations");

export const InstigatorStateAnswerSchema = z
  .strictObject({ name: z.string(), kind: z.enum(["schedule", "sensor"]), status: InstigatorStatus })
  .openapi("InstigatorStateAnswer");

export const PreviewSchema = z
  .strictObject({
    name: z.string(),
    kind: z.enum(["schedule", "sensor"]),
    evaluatedAt: Millis,
    runRequests: z
      .array(
        // What user code returned (other fields pass through as they are).
        z.looseObject({
          runKey: z.string().optional(),
          job: z.string().optional(),
          selection: z.string().optional(),
          partitionKey: z.string().optional(),
          partitionKeys: z.array(z.string()).optional(),
          config: z.record(z.string(), z.unknown()).optional(),
          tags: z.record(z.string(), z.string()).optional(),
        }),
      )
      .optional()
      .openapi({ description: "sensors: the run requests it would launch" }),
    skipReason: nullableString.optional(),
    cursor: nullableString.optional(),
    ticks: z
      .array(
        z.strictObject({
          tick: z.string(),
          partitionKeys: z.array(z.string()).nullable(),
          error: z.string().optional(),
        }),
      )
      .optional()
      .openapi({ description: "schedules: the next ticks and their partitions" }),
    error: nullableString,
  })
  .openapi("Preview");

export const CursorResetSchema = z
  .strictObject({ name: z.string(), cursor: z.null() })
  .openapi("CursorReset");

export const PartitionsAddedSchema = z
  .strictObject({
    name: z.string(),
    added: z.array(z.string()).openapi({ description: "keys that were new" }),
  })
  .openapi("PartitionsAdded");
export const PartitionsRemovedSchema = z
  .strictObject({
    name: z.string(),
    removed: z.array(z.string()).openapi({ description: "keys that existed" }),
  })
  .openapi("PartitionsRemoved");
