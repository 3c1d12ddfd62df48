import { MAX_RETRIES_TAG, type RunStatus } from "@baton/core";
import { createRoute } from "@hono/zod-openapi";
import { ApiError } from "../errors.js";
import {
  type ApiApp,
  created,
  IdParam,
  need,
  ok,
  optionalBody,
  type RouteContext,
  withFields,
} from "../http.js";
import { EventsQuery, LaunchBody, ReexecuteBody, RunsQuery } from "../schemas.js";

/** Routes: runs. */
export function runRoutes(app: ApiApp, { instance, storage, catalog }: RouteContext) {
  const runOf = async (id: string) => {
    const run = await storage.getRun(id);
    if (!run) throw new ApiError(404, "not_found", `No run "${id}".`);
    return run;
  };
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/runs",
      request: { query: RunsQuery },
      responses: ok("runs, newest first"),
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
      return c.json(page, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/runs/{id}",
      request: { params: IdParam },
      responses: ok("a run and its steps"),
    }),
    async (c) => {
      const run = await runOf(c.req.valid("param").id);
      return c.json({ run, summary: await instance.runSummary(run.runId) }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/runs/{id}/events",
      request: { params: IdParam, query: EventsQuery },
      responses: ok("a run's events in order"),
    }),
    async (c) => {
      const run = await runOf(c.req.valid("param").id);
      const q = c.req.valid("query");
      const events = await storage.getEvents(run.runId, {
        limit: q.limit,
        ...(q.after !== undefined ? { afterId: q.after } : {}),
      });
      return c.json(
        { events, nextAfter: events.length === q.limit ? events[events.length - 1]!.id : null },
        200,
      );
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/runs/{id}/logs",
      request: { params: IdParam, query: EventsQuery },
      responses: ok("a run's captured log lines"),
    }),
    async (c) => {
      const run = await runOf(c.req.valid("param").id);
      const q = c.req.valid("query");
      const logs = await storage.getEvents(run.runId, {
        types: ["log"],
        limit: q.limit,
        ...(q.after !== undefined ? { afterId: q.after } : {}),
      });
      return c.json({ logs, nextAfter: logs.length === q.limit ? logs[logs.length - 1]!.id : null }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/runs",
      request: { body: { content: { "application/json": { schema: LaunchBody } }, required: true } },
      responses: created("the queued run"),
    }),
    async (c) => {
      need(c, "launcher");
      const body = c.req.valid("json");
      const { definitions } = await catalog.require();
      const run = await withFields(body, () =>
        instance.launchRun(definitions, {
          selection: body.selection,
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
      return c.json({ run }, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/runs/{id}/cancel",
      request: { params: IdParam },
      responses: ok("the run, canceled or canceling"),
    }),
    async (c) => {
      need(c, "launcher");
      const run = await instance.cancelRun((await runOf(c.req.valid("param").id)).runId);
      return c.json({ run }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/runs/{id}/reexecute",
      description: 'Body (optional): `{ "fromFailure": true }` re-runs only what did not succeed.',
      request: { params: IdParam },
      responses: created("the new queued run"),
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
      return c.json({ run }, 201);
    },
  );
}
