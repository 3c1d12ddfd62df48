import { createHash } from "node:crypto";
import {
  type AssetStatusRecord,
  createStalenessResolver,
  evaluateFreshness,
  loadKeySpaces,
  partitionStatus,
  type RunRecord,
  type RunStatus,
  type Storage,
} from "@baton/core";
import { createRoute } from "@hono/zod-openapi";
import type { z } from "zod";
import type { GraphAssetStatusSchema } from "../api/assets.js";
import { GraphStatusSchema } from "../api/assets.js";
import type { Catalog } from "../catalog.js";
import { type ApiApp, answer, BEARER, errors, READ_ERRORS, type RouteContext } from "../http.js";

type GraphAssetStatus = z.output<typeof GraphAssetStatusSchema>;

const QUEUED: readonly RunStatus[] = ["QUEUED"];
const IN_PROGRESS: readonly RunStatus[] = ["QUEUED", "STARTING", "STARTED", "CANCELING"];
/** In-progress runs read per answer (pages of 1,000); beyond that the oldest are not reflected. */
const MAX_IN_PROGRESS_PAGES = 10;
/** Per-asset reads (partition ranges, freshness) in flight at once. */
const PARALLEL = 16;

/** Every run in progress (QUEUED, STARTING, STARTED, CANCELING), newest first, bounded. */
async function inProgressRuns(storage: Storage): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_IN_PROGRESS_PAGES; page++) {
    const { runs: rows, nextCursor } = await storage.listRuns({
      statuses: IN_PROGRESS,
      limit: 1000,
      ...(cursor ? { cursor } : {}),
    });
    runs.push(...rows);
    if (!nextCursor) break;
    cursor = nextCursor;
  }
  return runs;
}

async function inBatches<T>(items: readonly T[], fn: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += PARALLEL) await Promise.all(items.slice(i, i + PARALLEL).map(fn));
}

/**
 * The live status of every asset for colouring the graph, computed in bulk (one read of all asset
 * statuses, one of all latest check results, one of the runs in progress, then per-asset reads only
 * for partition ranges and freshness policies) and cached whole, keyed by what it depends on: the
 * definitions hash, the latest event id, the runs in progress, the partition key spaces, and (only
 * when some asset has a freshness policy) the minute.
 */
export function createGraphStatus(storage: Storage) {
  let cached: { version: string; json: string } | undefined;
  let pending: { version: string; json: Promise<string> } | undefined;

  async function compute(
    cat: Catalog,
    eventId: number,
    runs: RunRecord[],
    now: number,
    spaces: Awaited<ReturnType<typeof loadKeySpaces>>,
  ) {
    const { snapshot, definitions } = cat;
    const [statuses, checks] = await Promise.all([
      storage.getAssetStatuses(),
      storage.getLatestCheckResults(),
    ]);
    const statusOf = new Map<string, AssetStatusRecord>(statuses.map((s) => [s.assetKey, s]));
    // The staleness resolver and freshness read one asset status at a time: answer from the bulk read.
    const bulk: Storage = Object.assign(Object.create(storage) as Storage, {
      getAssetStatuses: async (keys?: readonly string[]) =>
        keys ? keys.map((k) => statusOf.get(k)).filter((s) => s !== undefined) : statuses,
    });
    const checksOf = new Map<string, { passed: number; failed: number }>();
    for (const r of checks) {
      let c = checksOf.get(r.assetKey);
      if (!c) {
        c = { passed: 0, failed: 0 };
        checksOf.set(r.assetKey, c);
      }
      if (r.passed) c.passed++;
      else c.failed++;
    }
    // Newest first: the first run seen for an asset is its newest in-progress run.
    const runOf = new Map<string, { runId: string; queued: boolean; running: boolean }>();
    for (const run of runs) {
      const queued = QUEUED.includes(run.status);
      for (const key of run.assetKeys) {
        const r = runOf.get(key);
        if (!r) runOf.set(key, { runId: run.runId, queued, running: !queued });
        else if (queued) r.queued = true;
        else r.running = true;
      }
    }

    const partitionsOf = new Map<string, GraphAssetStatus["partitions"]>();
    const overdue = new Set<string>();
    const stale = new Set<string>();
    const resolver = createStalenessResolver(definitions, bulk, spaces);
    await inBatches(snapshot.assets, async (a) => {
      if (a.partitions) {
        const ps = await partitionStatus(definitions, storage, spaces, a.key);
        partitionsOf.set(a.key, {
          total: ps.total,
          materialized: ps.counts.materialized,
          failed: ps.counts.failed,
          missing: ps.counts.missing,
          inProgress: ps.counts.in_progress,
        });
      } else if (statusOf.get(a.key)?.lastMaterialization) {
        const s = await resolver.staleness(a.key, null).catch(() => undefined);
        if (s?.status === "stale") stale.add(a.key);
      }
      if (a.freshness) {
        const f = await evaluateFreshness(definitions, bulk, spaces, a.key, now).catch(() => undefined);
        if (f?.status === "overdue") overdue.add(a.key);
      }
    });

    const assets: Record<string, GraphAssetStatus> = {};
    for (const a of snapshot.assets) {
      const s = statusOf.get(a.key);
      const m = s?.lastMaterialization ?? null;
      const run = runOf.get(a.key);
      const partitions = partitionsOf.get(a.key) ?? null;
      const running = run?.running ?? false;
      const queued = run?.queued ?? false;
      const failed = partitions
        ? partitions.failed > 0 && partitions.inProgress === 0 && !running
        : s?.lastFailure != null && (m === null || s.lastFailure.timestamp > m.timestamp);
      const missing = partitions ? partitions.materialized === 0 : m === null;
      const checkCounts = checksOf.get(a.key) ?? { passed: 0, failed: 0 };
      const isOverdue = overdue.has(a.key);
      const isStale = stale.has(a.key);
      const last =
        s?.lastFailure && (m === null || s.lastFailure.timestamp > m.timestamp)
          ? s.lastFailure.runId
          : m?.runId;
      assets[a.key] = {
        status: running
          ? "running"
          : queued
            ? "queued"
            : failed
              ? "failed"
              : checkCounts.failed > 0
                ? "check_failed"
                : isOverdue
                  ? "overdue"
                  : isStale
                    ? "stale"
                    : missing
                      ? "missing"
                      : "materialized",
        lastMaterializedAt: m?.timestamp ?? null,
        lastRunId: run?.runId ?? last ?? null,
        running,
        queued,
        failed,
        stale: isStale,
        overdue: isOverdue,
        checks: checkCounts,
        partitions,
      };
    }
    return JSON.stringify({ eventId, assets });
  }

  return async function graphStatus(cat: Catalog): Promise<string> {
    const now = Date.now();
    // Read before computing: the answer reflects at least every event up to `eventId`.
    const [eventId, runs, spaces] = await Promise.all([
      storage.latestEventId(),
      inProgressRuns(storage),
      loadKeySpaces(cat.definitions, storage, now),
    ]);
    const parts = new Set<string>();
    for (const c of cat.definitions.computations)
      if (c.partitions) parts.add(`${spaces.fingerprintOf(c.partitions)}=${spaces.of(c.partitions).count()}`);
    const hasFreshness = cat.snapshot.assets.some((a) => a.freshness);
    const version = createHash("sha1")
      .update(
        [
          cat.snapshot.hash,
          eventId,
          runs.map((r) => `${r.runId}:${r.status}`).join(","),
          [...parts].join(","),
          hasFreshness ? Math.floor(now / 60_000) : 0,
        ].join("\n"),
      )
      .digest("hex");
    if (cached?.version === version) return cached.json;
    if (pending?.version !== version) {
      const json = compute(cat, eventId, runs, now, spaces);
      pending = { version, json };
      json
        .then((j) => {
          cached = { version, json: j };
        })
        .catch(() => undefined)
        .finally(() => {
          if (pending?.json === json) pending = undefined;
        });
    }
    return pending.json;
  };
}

/** Route: GET /api/graph/status. */
export function graphStatusRoutes(app: ApiApp, { storage, catalog }: RouteContext) {
  const graphStatus = createGraphStatus(storage);
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/graph/status",
      operationId: "getGraphStatus",
      summary: "Live status of every asset (for colouring the asset graph)",
      description:
        "One call for the whole graph, cached until an event, a run state change, new definitions or a new key space. " +
        "Headline `status`, the first that applies: running, queued, failed, check_failed, overdue, stale, missing, materialized. " +
        "Partitioned assets: `failed` when some partition failed and none is in progress, `missing` when no partition is materialized, " +
        "`stale` is not computed (false; ask /api/assets/{key}/why?partition=KEY).",
      tags: ["assets"],
      security: BEARER,
      responses: {
        ...answer(200, GraphStatusSchema, "status by asset key"),
        ...errors(...READ_ERRORS),
      },
    }),
    async (c) => {
      const json = await graphStatus(await catalog.require());
      return c.body(json, 200, { "content-type": "application/json" }) as never;
    },
  );
}
