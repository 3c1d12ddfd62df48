import { createRoute, z } from "@hono/zod-openapi";
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
import { BackfillBody, Cursor, Limit, RetryBody } from "../schemas.js";

/** Routes: backfills. */
export function backfillRoutes(app: ApiApp, { instance, storage, catalog }: RouteContext) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/backfills",
      request: { query: z.object({ limit: Limit(1000, 50), cursor: Cursor }).strict() },
      responses: ok("backfills, newest first"),
    }),
    async (c) => {
      const q = c.req.valid("query");
      return c.json(
        await storage.listBackfills({ limit: q.limit, ...(q.cursor ? { cursor: q.cursor } : {}) }),
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
      request: { params: IdParam },
      responses: ok("a backfill with its runs"),
    }),
    async (c) => {
      const b = await backfillOf(c.req.valid("param").id);
      const runs = await storage.listRuns({ backfillId: b.backfillId, limit: 1000 });
      return c.json(
        {
          backfill: b,
          runs: runs.runs.map((r) => ({
            runId: r.runId,
            status: r.status,
            assetKeys: r.assetKeys,
            partitionKeys: r.partitionKeys,
          })),
          moreRuns: runs.nextCursor !== null,
        },
        200,
      );
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/backfills",
      request: { body: { content: { "application/json": { schema: BackfillBody } }, required: true } },
      responses: created("the stored backfill (the daemon drives it)"),
    }),
    async (c) => {
      need(c, "launcher");
      const body = c.req.valid("json");
      const { definitions } = await catalog.require();
      const backfill = await withFields(body, () =>
        instance.createBackfill(definitions, {
          selection: body.selection,
          partitions: body.partitions,
          ...(body.chunkSize !== undefined ? { chunkSize: body.chunkSize } : {}),
          ...(body.singleRun !== undefined ? { singleRun: body.singleRun } : {}),
          ...(body.config ? { config: body.config } : {}),
          tags: { ...(body.tags ?? {}), "baton/launched-by": c.get("caller") },
          daemon: true,
        }),
      );
      return c.json({ backfill }, 201);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/backfills/{id}/cancel",
      request: { params: IdParam },
      responses: ok("the backfill, canceling or canceled"),
    }),
    async (c) => {
      need(c, "launcher");
      const b = await backfillOf(c.req.valid("param").id);
      return c.json({ backfill: await instance.cancelBackfill(b.backfillId) }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/backfills/{id}/retry",
      description: 'Body (optional): `{ "force": true }` re-runs every partition, also those that succeeded.',
      request: { params: IdParam },
      responses: created("a new backfill re-running what did not succeed"),
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
      });
      return c.json({ backfill: retry }, 201);
    },
  );
}
