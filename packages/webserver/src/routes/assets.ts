import {
  type AssetPartitionStatus,
  createStalenessResolver,
  evaluateFreshness,
  loadKeySpaces,
  partitionStatus,
} from "@baton/core/internal";
import { createRoute, z } from "@hono/zod-openapi";
import {
  AssetDetailSchema,
  AssetGraphSchema,
  AssetStatusesSchema,
  ChecksPageSchema,
  MaterializationsPageSchema,
  MetadataSeriesSchema,
  StalenessSchema,
} from "../api/assets.js";
import { JobsSchema, ResourcesSchema } from "../api/system.js";
import type { AssetDefinition, CheckEvaluationEvent, MaterializationEvent } from "../api-types.js";
import { ApiError } from "../errors.js";
import {
  type ApiApp,
  answer,
  BEARER,
  errors,
  KeyParam,
  pageOf,
  READ_ERRORS,
  type RouteContext,
  writable,
} from "../http.js";
import { Cursor, Limit } from "../schemas.js";
import { assetPartitionRoutes } from "./asset-partitions.js";
import { graphStatusRoutes } from "./graph-status.js";

/** Routes: asset graph, assets, status, jobs and resources. */
export function assetRoutes(app: ApiApp, ctx: RouteContext) {
  const { storage, catalog } = ctx;
  graphStatusRoutes(app, ctx);
  assetPartitionRoutes(app, ctx);
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/assets",
      operationId: "getAssetGraph",
      summary: "The asset graph",
      description:
        "Every asset with its group, kinds, owners, tags, deps, partitions kind and checks. The ETag is the definitions hash: send If-None-Match to get a 304 when unchanged.",
      tags: ["assets"],
      security: BEARER,
      request: {
        headers: z.object({
          "if-none-match": z.string().optional().openapi({ description: "an ETag from an earlier answer" }),
        }),
      },
      responses: {
        ...answer(200, AssetGraphSchema, "the asset graph (ETag: the definitions hash)"),
        304: { description: "unchanged since If-None-Match" },
        ...errors(401, 503),
      },
    }),
    async (c) => {
      const cat = await catalog.require();
      // Depends only on the snapshot: encoded once per definitions version.
      let body = cat.memo.get("graph");
      if (body === undefined) {
        const graph = {
          hash: cat.snapshot.hash,
          assets: cat.snapshot.assets.map((a) => ({
            key: a.key,
            group: a.group,
            kinds: a.kinds,
            owners: a.owners,
            tags: a.tags,
            description: a.description,
            deps: a.parents,
            computation: a.computation.name,
            partitions: a.partitions ? { kind: a.partitions.kind } : null,
            checks: a.checks.map((ch) => ch.name),
            automation: a.automation,
          })),
        };
        body = new TextEncoder().encode(JSON.stringify(graph));
        cat.memo.set("graph", body);
      }
      const etag = `"${cat.snapshot.hash}"`;
      if (c.req.header("if-none-match") === etag) return c.body(null, 304) as never;
      return c.body(body as Uint8Array<ArrayBuffer>, 200, {
        "content-type": "application/json",
        etag,
      }) as never;
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/status",
      operationId: "getAssetStatuses",
      summary: "Latest materialization and failure of every asset",
      tags: ["assets"],
      security: BEARER,
      responses: {
        ...answer(200, AssetStatusesSchema, "latest materialization and failure of every asset"),
        ...errors(401, 503),
      },
    }),
    async (c) => c.json(writable({ assets: await storage.getAssetStatuses() }), 200),
  );

  const assetOf = async (key: string) => {
    const cat = await catalog.require();
    const a = cat.snapshot.assets.find((x) => x.key === key);
    if (!a) throw new ApiError(404, "not_found", `No asset "${key}" in the definitions.`);
    return { cat, a };
  };

  /**
   * A `?partition=KEY` of an asset: refused for an unpartitioned asset and for a key outside its
   * key space (400 naming query.partition); `required` also refuses its absence on a partitioned one.
   */
  const checkPartitionParam = async (
    key: string,
    partition: string | undefined,
    { required }: { required: boolean },
  ) => {
    const { cat, a } = await assetOf(key);
    const field = "query.partition";
    if (a.partitions && partition === undefined && required)
      throw new ApiError(
        400,
        "invalid_request",
        `Asset "${key}" is partitioned: pass ?partition=KEY.`,
        field,
      );
    if (!a.partitions && partition !== undefined)
      throw new ApiError(
        400,
        "invalid_request",
        `Asset "${key}" is not partitioned: drop ?partition.`,
        field,
      );
    const spaces = await loadKeySpaces(cat.definitions, storage, Date.now());
    if (partition !== undefined) {
      const def = cat.definitions.computationOf(key).partitions!;
      if (spaces.of(def).indexOf(partition) < 0)
        throw new ApiError(
          400,
          "invalid_partition",
          `"${partition}" is not a partition of "${key}" (${def.describeFormat("api")}).`,
          field,
        );
    }
    return { cat, spaces };
  };

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/assets/{key}",
      operationId: "getAsset",
      summary: "One asset: definition, status, latest checks, partition counts, freshness",
      tags: ["assets"],
      security: BEARER,
      request: { params: KeyParam },
      responses: {
        ...answer(200, AssetDetailSchema, "one asset: definition and status"),
        ...errors(...READ_ERRORS, 404),
      },
    }),
    async (c) => {
      const { key } = c.req.valid("param");
      const { cat, a } = await assetOf(key);
      const [status] = await storage.getAssetStatuses([key]);
      const checks = await storage.getLatestCheckResults(key);
      const now = Date.now();
      const spaces = await loadKeySpaces(cat.definitions, storage, now);
      let partitions: { total: number; counts: AssetPartitionStatus["counts"] } | null = null;
      if (a.partitions) {
        const ps = await partitionStatus(cat.definitions, storage, spaces, key);
        partitions = { total: ps.total, counts: ps.counts };
      }
      const freshness = a.freshness
        ? ((await evaluateFreshness(cat.definitions, storage, spaces, key, now).catch(() => null)) ?? null)
        : null;
      // A dimension of a multi spec is never itself multi (the core type allows it).
      const definition = a as unknown as AssetDefinition;
      return c.json(writable({ definition, status: status ?? null, checks, partitions, freshness }), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/assets/{key}/why",
      request: {
        params: KeyParam,
        query: z.object({ partition: z.string().min(1).max(1000).optional() }).strict(),
      },
      operationId: "getAssetStaleness",
      summary: "Why the asset (partition) is stale or missing",
      tags: ["assets"],
      security: BEARER,
      responses: {
        ...answer(200, StalenessSchema, "the staleness and its reasons, nested through upstream assets"),
        ...errors(...READ_ERRORS, 404),
      },
    }),
    async (c) => {
      const { key } = c.req.valid("param");
      const { partition } = c.req.valid("query");
      const { cat, spaces } = await checkPartitionParam(key, partition, { required: true });
      const resolver = createStalenessResolver(cat.definitions, storage, spaces);
      return c.json(writable(await resolver.staleness(key, partition ?? null)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/assets/{key}/materializations",
      request: {
        params: KeyParam,
        query: z
          .object({
            limit: Limit(1000, 50),
            cursor: Cursor,
            partition: z.string().min(1).max(1000).optional(),
          })
          .strict(),
      },
      operationId: "listAssetMaterializations",
      summary: "Materializations, newest first (optionally of one partition)",
      tags: ["assets"],
      security: BEARER,
      responses: {
        ...answer(200, MaterializationsPageSchema, "a page of materializations; nextCursor for the next"),
        ...errors(...READ_ERRORS, 404),
      },
    }),
    async (c) => {
      const { key } = c.req.valid("param");
      const { limit, cursor, partition } = c.req.valid("query");
      if (partition !== undefined) await checkPartitionParam(key, partition, { required: false });
      else await assetOf(key);
      const rows = await storage.getMaterializations(key, {
        limit: limit + 1,
        ...(cursor ? { beforeId: Number(cursor) } : {}),
        ...(partition !== undefined ? { partition } : {}),
      });
      const { items, nextCursor } = pageOf(rows, limit);
      return c.json(writable({ materializations: items as MaterializationEvent[], nextCursor }), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/assets/{key}/checks",
      request: {
        params: KeyParam,
        query: z
          .object({ limit: Limit(1000, 50), cursor: Cursor, check: z.string().min(1).max(200).optional() })
          .strict(),
      },
      operationId: "listAssetChecks",
      summary: "Latest result of each check, and the history of evaluations",
      tags: ["assets"],
      security: BEARER,
      responses: {
        ...answer(200, ChecksPageSchema, "latest result of each check, and the history (newest first)"),
        ...errors(...READ_ERRORS, 404),
      },
    }),
    async (c) => {
      const { key } = c.req.valid("param");
      const { limit, cursor, check } = c.req.valid("query");
      const { a } = await assetOf(key);
      if (check !== undefined && !a.checks.some((x) => x.name === check))
        throw new ApiError(404, "not_found", `Asset "${key}" has no check "${check}".`);
      const rows = await storage.getCheckEvaluations(key, {
        limit: limit + 1,
        ...(cursor ? { beforeId: Number(cursor) } : {}),
        ...(check !== undefined ? { checkName: check } : {}),
      });
      const { items, nextCursor } = pageOf(rows, limit);
      return c.json(
        writable({
          latest: await storage.getLatestCheckResults(key),
          history: items as CheckEvaluationEvent[],
          nextCursor,
        }),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/assets/{key}/metadata/{name}",
      request: {
        params: KeyParam.extend({ name: z.string().min(1).max(200) }),
        query: z.object({ limit: Limit(10_000, 1000) }).strict(),
      },
      operationId: "getAssetMetadataSeries",
      summary: "A numeric metadata entry over time (for plots)",
      tags: ["assets"],
      security: BEARER,
      responses: {
        ...answer(200, MetadataSeriesSchema, "the entry's numeric values, oldest first"),
        ...errors(...READ_ERRORS, 404),
      },
    }),
    async (c) => {
      const { key, name } = c.req.valid("param");
      const { limit } = c.req.valid("query");
      await assetOf(key);
      const rows = await storage.getMaterializations(key, { limit });
      const points = rows
        .map((e) => {
          const m = e as {
            metadata?: Record<string, { value?: unknown }>;
            partition?: string;
            timestamp: number;
            runId: string;
          };
          const v = m.metadata?.[name]?.value;
          return typeof v === "number" && Number.isFinite(v)
            ? { timestamp: m.timestamp, value: v, partition: m.partition ?? null, runId: m.runId }
            : undefined;
        })
        .filter((p) => p !== undefined)
        .reverse();
      return c.json({ assetKey: key, name, points }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/jobs",
      operationId: "listJobs",
      summary: "Jobs",
      tags: ["definitions"],
      security: BEARER,
      responses: { ...answer(200, JobsSchema, "jobs"), ...errors(401, 503) },
    }),
    async (c) => c.json(writable({ jobs: (await catalog.require()).snapshot.jobs }), 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/resources",
      operationId: "listResources",
      summary: "Resources (names; values never leave the workers)",
      tags: ["definitions"],
      security: BEARER,
      responses: { ...answer(200, ResourcesSchema, "resources, secrets masked"), ...errors(401, 503) },
    }),
    async (c) => c.json(writable({ resources: (await catalog.require()).snapshot.resources }), 200),
  );
}
