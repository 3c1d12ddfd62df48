import { MAX_RETRIES_TAG, type RunStatus } from "@baton/core/internal";
import { createRoute } from "@hono/zod-openapi";
import {
  LaunchedRunAnswerSchema,
  RunAnswerSchema,
  RunDetailSchema,
  RunEventsPageSchema,
  RunLogsPageSchema,
  RunsPageSchema,
} from "../api/runs.js";
import type { LogEvent, RunEvent } from "../api-types.js";
import { ApiError } from "../errors.js";
import {
  type ApiApp,
  answer,
  BEARER,
  errors,
  IdParam,
  need,
  optionalBody,
  optionalJsonBody,
  READ_ERRORS,
  type RouteContext,
  WRITE_ERRORS,
  withFields,
  writable,
} from "../http.js";
import { EventsQuery, LaunchBody, NoFields, ReexecuteBody, RunsQuery } from "../schemas.js";

/** Routes: runs. */
export function runRoutes(app: ApiApp, { instance, storage, catalog }: RouteContext) {
  // Referenced by the optional body of /reexecute (validated by the handler, so not by the route).
  app.openAPIRegistry.register("Reexecute", ReexecuteBody);
  const runOf = async (id: string) => {
    const run = await storage.getRun(id);
    if (!run) throw new ApiError(404, "not_found", `No run "${id}".`);
    return run;
  };
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/runs",
      operationId: "listRuns",
      summary: "Runs, newest first, filtered",
      tags: ["runs"],
      security: BEARER,
      request: { query: RunsQuery },
      responses: {
        ...answer(200, RunsPageSchema, "a page of runs; nextCursor for the next"),
        ...errors(...READ_ERRORS),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const tag = q.sensor
        ? { key: "baton/sensor", value: q.sensor }
        : q.schedule
          ? { key: "baton/schedule", value: q.schedule }
          : q.tag
            ? q.tag.includes("=")
              ? { key: q.tag.slice(0, q.tag.indexOf("=")), value: q.tag.slice(q.tag.indexOf("=") + 1) }
              : { key: q.tag }
            : undefined;
      const page = await storage.listRuns({
        limit: q.limit,
        ...(q.status ? { statuses: q.status as RunStatus[] } : {}),
        ...(q.backfill ? { backfillId: q.backfill } : {}),
        ...(q.asset ? { assetKey: q.asset } : {}),
        ...(tag ? { tag } : {}),
        ...(q.createdAfter ? { createdAfter: Date.parse(q.createdAfter) } : {}),
        ...(q.createdBefore ? { createdBefore: Date.parse(q.createdBefore) } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      });
      return c.json(writable(page), 200);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/runs/{id}",
      operationId: "getRun",
      summary: "A run and its steps",
      tags: ["runs"],
      security: BEARER,
      request: { params: IdParam },
      responses: {
        ...answer(200, RunDetailSchema, "the run and a summary of its steps"),
        ...errors(...READ_ERRORS, 404),
      },
    }),
    async (c) => {
      const run = await runOf(c.req.valid("param").id);
      return c.json(writable({ run, summary: await instance.runSummary(run.runId) }), 200);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/runs/{id}/events",
      request: { params: IdParam, query: EventsQuery },
      operationId: "listRunEvents",
      summary: "A run's events in order",
      tags: ["runs"],
      security: BEARER,
      responses: {
        ...answer(200, RunEventsPageSchema, "a page of events; nextAfter for the next"),
        ...errors(...READ_ERRORS, 404),
      },
    }),
    async (c) => {
      const run = await runOf(c.req.valid("param").id);
      const q = c.req.valid("query");
      const events = await storage.getEvents(run.runId, {
        limit: q.limit,
        ...(q.after !== undefined ? { afterId: q.after } : {}),
      });
      return c.json(
        writable({
          events: events as RunEvent[],
          nextAfter: events.length === q.limit ? events[events.length - 1]!.id : null,
        }),
        200,
      );
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/runs/{id}/logs",
      request: { params: IdParam, query: EventsQuery },
      operationId: "listRunLogs",
      summary: "A run's log lines (logger and captured stdout/stderr)",
      tags: ["runs"],
      security: BEARER,
      responses: {
        ...answer(200, RunLogsPageSchema, "a page of log events; nextAfter for the next"),
        ...errors(...READ_ERRORS, 404),
      },
    }),
    async (c) => {
      const run = await runOf(c.req.valid("param").id);
      const q = c.req.valid("query");
      const logs = await storage.getEvents(run.runId, {
        types: ["log"],
        limit: q.limit,
        ...(q.after !== undefined ? { afterId: q.after } : {}),
      });
      return c.json(
        writable({
          logs: logs as LogEvent[],
          nextAfter: logs.length === q.limit ? logs[logs.length - 1]!.id : null,
        }),
        200,
      );
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/runs",
      operationId: "launchRun",
      summary: "Launch a run (queued for a worker)",
      tags: ["runs"],
      security: BEARER,
      request: { body: { content: { "application/json": { schema: LaunchBody } }, required: true } },
      responses: {
        ...answer(201, LaunchedRunAnswerSchema, "the queued run"),
        ...errors(...WRITE_ERRORS, 409),
      },
    }),
    async (c) => {
      need(c, "launcher");
      const body = c.req.valid("json");
      const { definitions } = await catalog.require();
      const run = await withFields(body, () =>
        instance.launchRun(definitions, {
          selection: body.selection,
          surface: "api",
          ...(body.partitions ? { partitions: body.partitions } : {}),
          ...(body.config ? { config: body.config } : {}),
          tags: {
            ...(body.tags ?? {}),
            ...(body.maxRetries ? { [MAX_RETRIES_TAG]: String(body.maxRetries) } : {}),
            "baton/launched-by": c.get("caller"),
          },
          ...(body.priority !== undefined ? { priority: body.priority } : {}),
        }),
      );
      return c.json(writable({ run }), 201);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/runs/{id}/cancel",
      operationId: "cancelRun",
      summary: "Cancel a run",
      description:
        "A queued run is CANCELED at once; a running one is asked to stop (CANCELING). 409 when it already ended.",
      tags: ["runs"],
      security: BEARER,
      request: { params: IdParam, body: optionalJsonBody(undefined, "no fields") },
      responses: {
        ...answer(200, RunAnswerSchema, "the run, canceled or canceling"),
        ...errors(...WRITE_ERRORS, 404, 409),
      },
    }),
    async (c) => {
      need(c, "launcher");
      await optionalBody(c, NoFields);
      const run = await instance.cancelRun((await runOf(c.req.valid("param").id)).runId);
      return c.json(writable({ run }), 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/runs/{id}/reexecute",
      description: 'Body (optional): `{ "fromFailure": true }` re-runs only what did not succeed.',
      operationId: "reexecuteRun",
      summary: "Re-execute a run (all of it, or from failure)",
      tags: ["runs"],
      security: BEARER,
      request: {
        params: IdParam,
        body: optionalJsonBody("Reexecute", "optional; an empty body re-runs everything"),
      },
      responses: {
        ...answer(201, LaunchedRunAnswerSchema, "the new queued run"),
        ...errors(...WRITE_ERRORS, 404, 409),
      },
    }),
    async (c) => {
      need(c, "launcher");
      const parent = await runOf(c.req.valid("param").id);
      const body = await optionalBody(c, ReexecuteBody);
      const { definitions } = await catalog.require();
      const run = await instance.launchReexecution(definitions, parent.runId, {
        ...(body.fromFailure ? { fromFailure: true } : {}),
        tags: { "baton/launched-by": c.get("caller") },
      });
      return c.json(writable({ run }), 201);
    },
  );
}
