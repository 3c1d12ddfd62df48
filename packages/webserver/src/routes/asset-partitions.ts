import {
  type AssetSnapshot,
  loadKeySpaces,
  type PartitionKeySpace,
  partitionStatus,
} from "@baton/core/internal";
import { createRoute, z } from "@hono/zod-openapi";
import { PartitionKeysSchema, PartitionStatusSchema } from "../api/assets.js";
import type { Catalog } from "../catalog.js";
import { ApiError } from "../errors.js";
import { type ApiApp, answer, BEARER, errors, KeyParam, READ_ERRORS, type RouteContext } from "../http.js";
import { Limit } from "../schemas.js";

/** A dimension's keys are listed in /partitions when it has at most this many. */
const DIMENSION_KEYS_INLINE = 1000;
/** At most this many keys of each dimension in /partition-keys. */
const DIMENSION_KEYS_MAX = 100_000;
/** A `q` search looks at most at this many keys (then answers `truncated: true`). */
export const SEARCH_SCAN_LIMIT = 200_000;

/** The resolved dimensions of a multi-partitioned asset, in declaration order (else null). */
function dimensionsOf(a: AssetSnapshot, space: PartitionKeySpace) {
  if (a.partitions?.kind !== "multi") return null;
  const multi = space as PartitionKeySpace & { dimension(name: string): PartitionKeySpace };
  return a.partitions.dimensions.map((d) => ({ name: d.name, space: multi.dimension(d.name) }));
}

const keysOf = (space: PartitionKeySpace, max: number) => [...space.keys(0, Math.min(space.count(), max))];

/** Routes: an asset's partition status (ranges) and its partition keys (paged, searchable). */
export function assetPartitionRoutes(app: ApiApp, { storage, catalog }: RouteContext) {
  const partitioned = async (key: string) => {
    const cat: Catalog = await catalog.require();
    const a = cat.snapshot.assets.find((x) => x.key === key);
    if (!a) throw new ApiError(404, "not_found", `No asset "${key}" in the definitions.`);
    if (!a.partitions) throw new ApiError(409, "not_partitioned", `Asset "${key}" is not partitioned.`);
    const spaces = await loadKeySpaces(cat.definitions, storage, Date.now());
    const def = cat.definitions.computationOf(key).partitions!;
    return { cat, a, spaces, def, space: spaces.of(def) };
  };

  /** Partition status answers by asset, with the version of the state they were computed from. */
  const partitionCache = new Map<string, { version: string; json: string }>();
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/assets/{key}/partitions",
      operationId: "getAssetPartitions",
      summary: "Partition status as compact ranges",
      tags: ["assets"],
      security: BEARER,
      request: { params: KeyParam },
      responses: {
        ...answer(200, PartitionStatusSchema, "the whole key space as consecutive status ranges"),
        ...errors(...READ_ERRORS, 404, 409),
      },
    }),
    async (c) => {
      const { key } = c.req.valid("param");
      const { cat, a, spaces, def, space } = await partitioned(key);
      // The answer changes only with a new event, another key space (dynamic keys, a new time
      // window) or new definitions: serve repeated reads from memory.
      const version = `${key}\u0000${spaces.fingerprintOf(def)}:${space.count()}:${await storage.latestEventId()}`;
      let body = partitionCache.get(key);
      if (body?.version !== version) {
        const status = await partitionStatus(cat.definitions, storage, spaces, key);
        const dimensions =
          dimensionsOf(a, space)?.map((d) => {
            const size = d.space.count();
            return {
              name: d.name,
              size,
              ...(size <= DIMENSION_KEYS_INLINE ? { keys: keysOf(d.space, size) } : {}),
            };
          }) ?? null;
        body = { version, json: JSON.stringify({ ...status, dimensions }) };
        partitionCache.set(key, body);
        if (partitionCache.size > 1000) partitionCache.delete(partitionCache.keys().next().value!);
      }
      return c.body(body.json, 200, { "content-type": "application/json" }) as never;
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/assets/{key}/partition-keys",
      operationId: "getAssetPartitionKeys",
      summary: "Partition keys, paged and searchable",
      description:
        "A page of the asset's partition keys in index order; with `q`, of the keys containing `q` " +
        `(case-insensitive). A search scans at most ${SEARCH_SCAN_LIMIT.toLocaleString("en")} keys: past that ` +
        "`truncated` is true and `total` counts the matches found so far. For the launch dialog's key search.",
      tags: ["assets"],
      security: BEARER,
      request: {
        params: KeyParam,
        query: z
          .object({
            q: z
              .string()
              .max(200)
              .optional()
              .openapi({ description: "substring to look for (case-insensitive)" }),
            offset: z.coerce
              .number()
              .int()
              .min(0)
              .max(Number.MAX_SAFE_INTEGER)
              .optional()
              .default(0)
              .openapi({
                type: "integer",
                minimum: 0,
                default: 0,
                description: "skip this many (matching) keys",
              }),
            limit: Limit(1000, 100),
          })
          .strict(),
      },
      responses: {
        ...answer(200, PartitionKeysSchema, "a page of keys"),
        ...errors(...READ_ERRORS, 404, 409),
      },
    }),
    async (c) => {
      const { key } = c.req.valid("param");
      const { q, offset, limit } = c.req.valid("query");
      const { a, space } = await partitioned(key);
      const count = space.count();
      const dimensions =
        dimensionsOf(a, space)?.map((d) => ({
          name: d.name,
          size: d.space.count(),
          keys: keysOf(d.space, DIMENSION_KEYS_MAX),
        })) ?? null;
      if (!q)
        return c.json(
          {
            total: count,
            offset,
            keys: [...space.keys(offset, offset + limit)],
            truncated: false,
            dimensions,
          },
          200,
        );
      const needle = q.toLowerCase();
      const keys: string[] = [];
      const end = Math.min(count, SEARCH_SCAN_LIMIT);
      let matched = 0;
      for (let i = 0; i < end; i++) {
        const k = space.keyAt(i);
        if (!k.toLowerCase().includes(needle)) continue;
        if (matched >= offset && keys.length < limit) keys.push(k);
        matched++;
      }
      return c.json({ total: matched, offset, keys, truncated: end < count, dimensions }, 200);
    },
  );
}
