import { listBackfillFailures } from "@baton/core/internal";
import { createRoute, z } from "@hono/zod-openapi";
import { BackfillAnswerSchema, BackfillDetailSchema, BackfillsPageSchema } from "../api/runs.js";
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
import { BackfillBody, Cursor, Limit, RetryBody } from "../schemas.js";

/** Routes: backfills. */
export function backfillRoutes(app: ApiApp, { instance, storage, catalog }: RouteContext) {
  // Referenced by the optional body of /retry (validated by the handler, so not by the route).
  app.openAPIRegistry.register("RetryBackfill", RetryBody);
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/backfills",
      operationId: "listBackfills",
      summary: "Backfills, newest first",
      tags: ["backfills"],
      security: BEARER,
      request: { query: z.object({ limit: Limit(1000, 50), cursor: Cursor }).strict() },
      responses: {
        ...answer(200, BackfillsPageSchema, "a page of backfills; nextCursor for the next"),
        ...errors(...READ_ERRORS),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(
        writable(await storage.listBackfills({ limit: q.limit, ...(q.cursor ? { cursor: q.cursor } : {}) })),
        200,
      );
    },
  );
  const backfillOf = async (id: string) => {
    const b = await storage.getBackfill(id);
    if (!b) throw new ApiError(404, "not_found", `No backfill "${id}".`);
    return b;
  };
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/backfills/{id}",
      operationId: "getBackfill",
      summary: "A backfill with its runs and why its failed runs failed",
      tags: ["backfills"],
      security: BEARER,
      request: { params: IdParam },
      responses: {
        ...answer(200, BackfillDetailSchema, "the backfill, (up to 1,000 of) its runs and its failures"),
        ...errors(...READ_ERRORS, 404),
      },
    }),
    async (c) => {
      const b = await backfillOf(c.req.valid("param").id);
      const runs = await storage.listRuns({ backfillId: b.backfillId, limit: 1000 });
      const { failures, failedRuns } = await listBackfillFailures(storage, b.backfillId, { limit: 100 });
      return c.json(
        writable({
          backfill: b,
          runs: runs.runs.map((r) => ({
            runId: r.runId,
            status: r.status,
            assetKeys: r.assetKeys,
            partitionKeys: r.partitionKeys,
          })),
          moreRuns: runs.nextCursor !== null,
          failures,
          failedRuns,
        }),
        200,
      );
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/backfills",
      operationId: "createBackfill",
      summary: "Create a backfill (the daemon drives it)",
      tags: ["backfills"],
      security: BEARER,
      request: { body: { content: { "application/json": { schema: BackfillBody } }, required: true } },
      responses: {
        ...answer(201, BackfillAnswerSchema, "the stored backfill"),
        ...errors(...WRITE_ERRORS, 409),
      },
    }),
    async (c) => {
      need(c, "launcher");
      const body = c.req.valid("json");
      const { definitions } = await catalog.require();
      const backfill = await withFields(body, () =>
        instance.createBackfill(definitions, {
          selection: body.selection,
          surface: "api",
          partitions: body.partitions,
          ...(body.chunkSize !== undefined ? { chunkSize: body.chunkSize } : {}),
          ...(body.singleRun !== undefined ? { singleRun: body.singleRun } : {}),
          ...(body.config ? { config: body.config } : {}),
          tags: { ...(body.tags ?? {}), "baton/launched-by": c.get("caller") },
          daemon: true,
        }),
      );
      return c.json(writable({ backfill }), 201);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/backfills/{id}/cancel",
      operationId: "cancelBackfill",
      summary: "Cancel a backfill",
      tags: ["backfills"],
      security: BEARER,
      request: { params: IdParam, body: optionalJsonBody(undefined, "no fields") },
      responses: {
        ...answer(200, BackfillAnswerSchema, "the backfill, canceling or canceled"),
        ...errors(...WRITE_ERRORS, 404, 409),
      },
    }),
    async (c) => {
      need(c, "launcher");
      const b = await backfillOf(c.req.valid("param").id);
      return c.json(writable({ backfill: await instance.cancelBackfill(b.backfillId) }), 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/backfills/{id}/retry",
      description: 'Body (optional): `{ "force": true }` re-runs every partition, also those that succeeded.',
      operationId: "retryBackfill",
      summary: "Retry a backfill: a new one re-running what did not succeed",
      tags: ["backfills"],
      security: BEARER,
      request: {
        params: IdParam,
        body: optionalJsonBody("RetryBackfill", "optional; an empty body retries what did not succeed"),
      },
      responses: {
        ...answer(201, BackfillAnswerSchema, "the new backfill"),
        ...errors(...WRITE_ERRORS, 404, 409),
      },
    }),
    async (c) => {
      need(c, "launcher");
      const b = await backfillOf(c.req.valid("param").id);
      const body = await optionalBody(c, RetryBody);
      const { definitions } = await catalog.require();
      // Driven by the daemon, also when the original ran in a CLI process.
      const retry = await instance.retryBackfill(definitions, b.backfillId, {
        force: Boolean(body.force),
        daemon: true,
        surface: "api",
      });
      return c.json(writable({ backfill: retry }), 201);
    },
  );
}
