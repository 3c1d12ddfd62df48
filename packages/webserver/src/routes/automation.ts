import { randomUUID } from "node:crypto";
import { cancelPreview, nextCronTick, requestPreview, takePreviewResult } from "@baton/core/internal";
import { createRoute, z } from "@hono/zod-openapi";
import {
  AutomationEvaluationsSchema,
  AutomationSwitchSchema,
  CursorResetSchema,
  InstigatorStateAnswerSchema,
  PreviewSchema,
  SchedulesSchema,
  SensorsSchema,
  TicksPageSchema,
} from "../api/system.js";
import type { Preview } from "../api-types.js";
import { ApiError } from "../errors.js";
import {
  type ApiApp,
  answer,
  BEARER,
  errors,
  NameParam,
  need,
  optionalBody,
  optionalJsonBody,
  pageOf,
  READ_ERRORS,
  type RouteContext,
  WRITE_ERRORS,
  writable,
} from "../http.js";
import { AutomationSwitchBody, Cursor, Limit, NoFields } from "../schemas.js";

/** Routes: schedules and sensors. */
export function automationRoutes(app: ApiApp, { storage, catalog, options }: RouteContext) {
  // Referenced by the optional body of /start-all and /stop-all (validated by the handler).
  app.openAPIRegistry.register("AutomationSwitchBody", AutomationSwitchBody);
  const instigators = async () => {
    const { snapshot } = await catalog.require();
    const states = new Map((await storage.listInstigatorStates()).map((s) => [s.name, s]));
    const names = [...snapshot.schedules, ...snapshot.sensors].map((x) => x.name);
    const lastTicks = new Map(
      await Promise.all(names.map(async (n) => [n, (await storage.listTicks(n, { limit: 1 }))[0]] as const)),
    );
    const withState = <T extends { name: string; defaultStatus: "RUNNING" | "STOPPED" }>(x: T) => {
      const s = states.get(x.name);
      const t = lastTicks.get(x.name);
      return {
        ...x,
        status: s?.status ?? x.defaultStatus,
        cursor: s?.cursor ?? null,
        lastTickAt: s?.lastTickAt ?? null,
        lastTick: t
          ? {
              id: t.id,
              timestamp: t.timestamp,
              status: t.status,
              runIds: [...t.runIds],
              skipReason: t.skipReason,
              error: t.error,
            }
          : null,
      };
    };
    const now = Date.now();
    const nextTick = (x: { cron: string; timezone: string }) => {
      try {
        return nextCronTick(x.cron, x.timezone, now);
      } catch {
        return null;
      }
    };
    return {
      schedules: snapshot.schedules.map((x) => {
        const w = withState(x);
        return { ...w, nextTickAt: w.status === "RUNNING" ? nextTick(x) : null };
      }),
      sensors: snapshot.sensors.map(withState),
    };
  };
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/schedules",
      operationId: "listSchedules",
      summary: "Schedules with their state",
      tags: ["automation"],
      security: BEARER,
      responses: { ...answer(200, SchedulesSchema, "schedules with their state"), ...errors(401, 503) },
    }),
    async (c) => c.json(writable({ schedules: (await instigators()).schedules }), 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/sensors",
      operationId: "listSensors",
      summary: "Sensors with their state",
      tags: ["automation"],
      security: BEARER,
      responses: { ...answer(200, SensorsSchema, "sensors with their state"), ...errors(401, 503) },
    }),
    async (c) => c.json(writable({ sensors: (await instigators()).sensors }), 200),
  );
  const instigator = async (name: string) => {
    const all = await instigators();
    const s = all.schedules.find((x) => x.name === name);
    if (s) return { kind: "schedule" as const, item: s };
    const n = all.sensors.find((x) => x.name === name);
    if (n) return { kind: "sensor" as const, item: n };
    throw new ApiError(404, "not_found", `No schedule or sensor named "${name}".`);
  };
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/automation/{name}/ticks",
      request: { params: NameParam, query: z.object({ limit: Limit(1000, 20), cursor: Cursor }).strict() },
      operationId: "listTicks",
      summary: "Ticks of a schedule or sensor, newest first",
      tags: ["automation"],
      security: BEARER,
      responses: {
        ...answer(200, TicksPageSchema, "a page of ticks; nextCursor for the next"),
        ...errors(...READ_ERRORS, 404),
      },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const { limit, cursor } = c.req.valid("query");
      await instigator(name);
      const ticks = await storage.listTicks(name, {
        limit: limit + 1,
        ...(cursor ? { beforeId: Number(cursor) } : {}),
      });
      const { items, nextCursor } = pageOf(ticks, limit);
      return c.json(writable({ ticks: items, nextCursor }), 200);
    },
  );
  for (const [verb, status] of [
    ["start", "RUNNING"],
    ["stop", "STOPPED"],
  ] as const) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/api/automation/{name}/${verb}`,
        operationId: verb === "start" ? "startAutomation" : "stopAutomation",
        summary: verb === "start" ? "Start a schedule or sensor" : "Stop a schedule or sensor",
        tags: ["automation"],
        security: BEARER,
        request: { params: NameParam, body: optionalJsonBody(undefined, "no fields") },
        responses: {
          ...answer(200, InstigatorStateAnswerSchema, "its new state"),
          ...errors(...WRITE_ERRORS, 404),
        },
      }),
      async (c) => {
        need(c, "launcher");
        const { name } = c.req.valid("param");
        await optionalBody(c, NoFields);
        const { kind } = await instigator(name);
        const now = Date.now();
        await storage.setInstigatorState(
          name,
          kind,
          { status, ...(kind === "schedule" && status === "RUNNING" ? { cursor: String(now) } : {}) },
          now,
        );
        return c.json({ name, kind, status }, 200);
      },
    );
  }
  for (const [verb, status] of [
    ["start-all", "RUNNING"],
    ["stop-all", "STOPPED"],
  ] as const) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/api/automation/${verb}`,
        operationId: verb === "start-all" ? "startAllAutomation" : "stopAllAutomation",
        summary: verb === "start-all" ? "Start every schedule and sensor" : "Stop every schedule and sensor",
        description:
          'Body (optional): `{ "kind": "sensor" | "schedule" }` switches only that kind. Answers the names whose status changed.',
        tags: ["automation"],
        security: BEARER,
        request: { body: optionalJsonBody("AutomationSwitchBody", "optional; empty switches both kinds") },
        responses: {
          ...answer(200, AutomationSwitchSchema, "the names switched"),
          ...errors(...WRITE_ERRORS),
        },
      }),
      async (c) => {
        need(c, "launcher");
        const body = await optionalBody(c, AutomationSwitchBody);
        const all = await instigators();
        const items = [
          ...(body.kind === "sensor" ? [] : all.schedules.map((x) => ({ kind: "schedule" as const, x }))),
          ...(body.kind === "schedule" ? [] : all.sensors.map((x) => ({ kind: "sensor" as const, x }))),
        ].filter(({ x }) => x.status !== status);
        const now = Date.now();
        for (const { kind, x } of items)
          await storage.setInstigatorState(
            x.name,
            kind,
            { status, ...(kind === "schedule" && status === "RUNNING" ? { cursor: String(now) } : {}) },
            now,
          );
        return c.json({ status, changed: items.map(({ x }) => x.name) }, 200);
      },
    );
  }
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/automation/evaluations",
      request: {
        query: z
          .object({
            asset: z.string().min(1).max(1000).optional().openapi({ description: "only this asset" }),
            limit: Limit(1000, 50),
          })
          .strict(),
      },
      operationId: "listAutomationEvaluations",
      summary: "Declarative automation decisions (eager/onCron) with their reasons, newest first",
      tags: ["automation"],
      security: BEARER,
      responses: {
        ...answer(200, AutomationEvaluationsSchema, "the decisions"),
        ...errors(...READ_ERRORS),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const rows = await storage.listAutomationEvaluations({
        ...(q.asset ? { assetKey: q.asset } : {}),
        limit: q.limit,
      });
      return c.json(writable({ evaluations: rows }), 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/automation/{name}/preview",
      description:
        "Evaluate a sensor once (or list a schedule's next ticks) without launching anything. The daemon runs it (the webserver never loads user code); 503 when no daemon answers in time.",
      operationId: "previewAutomation",
      summary: "Evaluate a schedule or sensor once without launching anything",
      tags: ["automation"],
      security: BEARER,
      request: { params: NameParam, body: optionalJsonBody(undefined, "no fields") },
      responses: {
        ...answer(200, PreviewSchema, "what it would launch"),
        ...errors(...WRITE_ERRORS, 404),
      },
    }),
    async (c) => {
      need(c, "launcher");
      const { name } = c.req.valid("param");
      await optionalBody(c, NoFields);
      await instigator(name);
      const id = randomUUID();
      await requestPreview(storage, id, name, Date.now());
      const deadline = Date.now() + (options.previewTimeoutMs ?? 10_000);
      while (Date.now() < deadline) {
        const result = await takePreviewResult(storage, id);
        if (result) return c.json(writable(result as Preview), 200);
        await new Promise((r) => setTimeout(r, 50));
      }
      await cancelPreview(storage, id);
      throw new ApiError(
        503,
        "no_daemon",
        `No daemon answered the preview of "${name}" in time: is \`baton daemon\` (or \`baton dev\`) running?`,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/api/sensors/{name}/cursor/reset",
      operationId: "resetSensorCursor",
      summary: "Reset a sensor's cursor (admin)",
      tags: ["automation"],
      security: BEARER,
      request: { params: NameParam, body: optionalJsonBody(undefined, "no fields") },
      responses: {
        ...answer(200, CursorResetSchema, "the sensor starts from scratch"),
        ...errors(...WRITE_ERRORS, 404, 409),
      },
    }),
    async (c) => {
      need(c, "admin");
      const { name } = c.req.valid("param");
      await optionalBody(c, NoFields);
      const { kind } = await instigator(name);
      if (kind !== "sensor")
        throw new ApiError(409, "conflict", `"${name}" is a schedule; only sensors have a cursor to reset.`);
      await storage.setInstigatorState(name, "sensor", { cursor: null }, Date.now());
      return c.json({ name, cursor: null }, 200);
    },
  );
}
