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
} from "@baton/core/internal";
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

type KeySpaces = Awaited<ReturnType<typeof loadKeySpaces>>;
type Partitions = NonNullable<GraphAssetStatus["partitions"]>;
/** Events read to update the store-derived state incrementally; more than this: recompute all. */
const MAX_INCREMENTAL_EVENTS = 10_000;

/** What the graph status derives from the store, valid for one (definitions, key spaces, event id). */
interface StoreState {
  readonly base: string;
  readonly eventId: number;
  readonly statuses: ReadonlyMap<string, AssetStatusRecord>;
  readonly checks: ReadonlyMap<string, { passed: number; failed: number }>;
  readonly partitions: ReadonlyMap<string, Partitions>;
  /** Unpartitioned assets that are stale. */
  readonly stale: ReadonlySet<string>;
}

/** The assets the events after `afterId` touched (undefined: too many events, recompute all). */
async function touchedSince(storage: Storage, afterId: number): Promise<Set<string> | undefined> {
  const touched = new Set<string>();
  const runs = new Set<string>();
  let after = afterId;
  let read = 0;
  for (;;) {
    // The store answers at most 5,000 events per read.
    const events = await storage.getEventsAfter(after, { limit: 5000 });
    read += events.length;
    if (read > MAX_INCREMENTAL_EVENTS) return undefined;
    for (const e of events) {
      const x = e as {
        assetKey?: string;
        assetKeys?: readonly string[];
        steps?: { assetKeys: readonly string[] }[];
      };
      if (x.assetKey) touched.add(x.assetKey);
      for (const k of x.assetKeys ?? []) touched.add(k);
      for (const step of x.steps ?? []) for (const k of step.assetKeys) touched.add(k);
      // Run-level events (started, failed, canceled) change the partitions of every asset of the run.
      if (e.type.startsWith("run_")) runs.add(e.runId);
    }
    if (events.length < 5000) break;
    after = events[events.length - 1]!.id;
  }
  for (const runId of runs) for (const k of (await storage.getRun(runId))?.assetKeys ?? []) touched.add(k);
  return touched;
}

/**
 * The live status of every asset for colouring the graph, in two cached layers:
 * - from the store (asset statuses, latest checks: one bulk read each; partition counts; staleness),
 *   keyed by definitions hash, key spaces and latest event id. On a new event only the assets the new
 *   events touched are re-read (partition counts), and only those and their downstream assets are
 *   re-resolved (staleness; the resolver answers asset statuses from the bulk read).
 * - the answer: adds runs in progress (one read per request) and freshness (time-dependent; only
 *   assets with a policy), keyed by the store state, the runs in progress and the minute.
 */
export function createGraphStatus(storage: Storage) {
  let state: StoreState | undefined;
  let pendingState: { key: string; promise: Promise<StoreState> } | undefined;
  let cached: { version: string; json: string } | undefined;
  let pendingAnswer: { version: string; json: Promise<string> } | undefined;

  async function computeState(
    cat: Catalog,
    base: string,
    eventId: number,
    spaces: KeySpaces,
  ): Promise<StoreState> {
    const { snapshot, definitions } = cat;
    const previous = state?.base === base && state.eventId <= eventId ? state : undefined;
    const touched = previous ? await touchedSince(storage, previous.eventId) : undefined;
    const [statusList, checkList] = await Promise.all([
      storage.getAssetStatuses(),
      storage.getLatestCheckResults(),
    ]);
    const statuses = new Map(statusList.map((s) => [s.assetKey, s]));
    const checks = new Map<string, { passed: number; failed: number }>();
    for (const r of checkList) {
      let c = checks.get(r.assetKey);
      if (!c) {
        c = { passed: 0, failed: 0 };
        checks.set(r.assetKey, c);
      }
      if (r.passed) c.passed++;
      else c.failed++;
    }
    // What to recompute: everything, or what the new events touched (staleness: and downstream).
    const redo = (key: string) => !previous || !touched || touched.has(key);
    let restale: Set<string> | undefined;
    if (previous && touched) {
      const children = new Map<string, string[]>();
      for (const a of snapshot.assets)
        for (const p of a.parents) {
          const list = children.get(p);
          if (list) list.push(a.key);
          else children.set(p, [a.key]);
        }
      restale = new Set(touched);
      const queue = [...touched];
      while (queue.length > 0)
        for (const child of children.get(queue.pop()!) ?? [])
          if (!restale.has(child)) {
            restale.add(child);
            queue.push(child);
          }
    }

    const partitions = new Map<string, Partitions>();
    await inBatches(
      snapshot.assets.filter((a) => a.partitions),
      async (a) => {
        const kept = redo(a.key) ? undefined : previous?.partitions.get(a.key);
        if (kept) return void partitions.set(a.key, kept);
        const ps = await partitionStatus(definitions, storage, spaces, a.key);
        partitions.set(a.key, {
          total: ps.total,
          materialized: ps.counts.materialized,
          failed: ps.counts.failed,
          missing: ps.counts.missing,
          inProgress: ps.counts.in_progress,
        });
      },
    );

    const stale = new Set<string>();
    const resolver = createStalenessResolver(
      definitions,
      withStatuses(storage, statusList, statuses),
      spaces,
    );
    for (const a of snapshot.assets) {
      if (a.partitions || !statuses.get(a.key)?.lastMaterialization) continue;
      if (previous && restale && !restale.has(a.key)) {
        if (previous.stale.has(a.key)) stale.add(a.key);
        continue;
      }
      const s = await resolver.staleness(a.key, null).catch(() => undefined);
      if (s?.status === "stale") stale.add(a.key);
    }
    return { base, eventId, statuses, checks, partitions, stale };
  }

  async function computeAnswer(
    cat: Catalog,
    st: StoreState,
    runs: readonly RunRecord[],
    spaces: KeySpaces,
    now: number,
  ) {
    const { snapshot, definitions } = cat;
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
    const overdue = new Set<string>();
    const statusList = [...st.statuses.values()];
    const bulk = withStatuses(storage, statusList, st.statuses);
    await inBatches(
      snapshot.assets.filter((a) => a.freshness),
      async (a) => {
        const f = await evaluateFreshness(definitions, bulk, spaces, a.key, now).catch(() => undefined);
        if (f?.status === "overdue") overdue.add(a.key);
      },
    );

    const assets: Record<string, GraphAssetStatus> = {};
    for (const a of snapshot.assets) {
      const s = st.statuses.get(a.key);
      const m = s?.lastMaterialization ?? null;
      const run = runOf.get(a.key);
      const partitions = st.partitions.get(a.key) ?? null;
      const running = run?.running ?? false;
      const queued = run?.queued ?? false;
      const lastFailed = s?.lastFailure != null && (m === null || s.lastFailure.timestamp > m.timestamp);
      const failed = partitions
        ? partitions.failed > 0 && partitions.inProgress === 0 && !running
        : lastFailed;
      const missing = partitions ? partitions.materialized === 0 : m === null;
      const checks = st.checks.get(a.key) ?? { passed: 0, failed: 0 };
      const isOverdue = overdue.has(a.key);
      const isStale = st.stale.has(a.key);
      assets[a.key] = {
        status: running
          ? "running"
          : queued
            ? "queued"
            : failed
              ? "failed"
              : checks.failed > 0
                ? "check_failed"
                : isOverdue
                  ? "overdue"
                  : isStale
                    ? "stale"
                    : missing
                      ? "missing"
                      : "materialized",
        lastMaterializedAt: m?.timestamp ?? null,
        lastRunId: run?.runId ?? (lastFailed ? s!.lastFailure!.runId : m?.runId) ?? null,
        running,
        queued,
        failed,
        stale: isStale,
        overdue: isOverdue,
        checks,
        partitions,
      };
    }
    return JSON.stringify({ eventId: st.eventId, assets });
  }

  /** The store state for (base, eventId): cached, or updated from the previous one (one at a time). */
  function storeState(cat: Catalog, base: string, eventId: number, spaces: KeySpaces) {
    const key = `${base}\n${eventId}`;
    if (state && `${state.base}\n${state.eventId}` === key) return Promise.resolve(state);
    if (pendingState?.key === key) return pendingState.promise;
    const promise = (pendingState?.promise.catch(() => undefined) ?? Promise.resolve())
      .then(() => computeState(cat, base, eventId, spaces))
      .then((s) => {
        if (!state || state.base !== s.base || state.eventId <= s.eventId) state = s;
        return s;
      })
      .finally(() => {
        if (pendingState?.promise === promise) pendingState = undefined;
      });
    pendingState = { key, promise };
    return promise;
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
    const base = `${cat.snapshot.hash}\n${[...parts].join(",")}`;
    const hasFreshness = cat.snapshot.assets.some((a) => a.freshness);
    const version = createHash("sha1")
      .update(
        [
          base,
          eventId,
          runs.map((r) => `${r.runId}:${r.status}`).join(","),
          hasFreshness ? Math.floor(now / 60_000) : 0,
        ].join("\n"),
      )
      .digest("hex");
    if (cached?.version === version) return cached.json;
    if (pendingAnswer?.version !== version) {
      const json = storeState(cat, base, eventId, spaces).then((st) =>
        computeAnswer(cat, st, runs, spaces, now),
      );
      pendingAnswer = { version, json };
      json
        .then((j) => {
          cached = { version, json: j };
        })
        .catch(() => undefined)
        .finally(() => {
          if (pendingAnswer?.json === json) pendingAnswer = undefined;
        });
    }
    return pendingAnswer.json;
  };
}

/** The store, answering asset status reads from one bulk read (the staleness resolver and freshness read one at a time). */
function withStatuses(
  storage: Storage,
  all: readonly AssetStatusRecord[],
  byKey: ReadonlyMap<string, AssetStatusRecord>,
): Storage {
  return Object.assign(Object.create(storage) as Storage, {
    getAssetStatuses: async (keys?: readonly string[]) =>
      keys ? keys.map((k) => byKey.get(k)).filter((s) => s !== undefined) : [...all],
  });
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
