import { randomUUID } from "node:crypto";
import {
  type BatonInstance,
  cancelPreview,
  createStalenessResolver,
  evaluateFreshness,
  isBatonError,
  loadKeySpaces,
  MAX_RETRIES_TAG,
  partitionKeyProblem,
  partitionStatus,
  type RunStatus,
  requestPreview,
  takePreviewResult,
} from "@baton/core";
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { type AuthConfig, authenticate, type Role, requireRole } from "./auth.js";
import { createCatalog } from "./catalog.js";
import { ApiError, errorAnswer, fieldOfCoreError } from "./errors.js";
import { eventStream } from "./events.js";
import {
  BackfillBody,
  Cursor,
  EventsQuery,
  Json,
  LaunchBody,
  Limit,
  ReexecuteBody,
  RetryBody,
  RunsQuery,
} from "./schemas.js";

export interface AppOptions {
  readonly instance: BatonInstance;
  /** Bearer tokens and roles (none: every caller is admin; the server only binds to loopback then). */
  readonly auth?: AuthConfig;
  /** Refuse every mutation (403). */
  readonly readOnly?: boolean;
  /** How long a preview waits for the daemon (default 10 s). */
  readonly previewTimeoutMs?: number;
  /** How often the live event stream polls the store (default 250 ms). */
  readonly streamPollMs?: number;
  /** Ends open event streams (server shutdown). */
  readonly signal?: AbortSignal;
}

type Env = { Variables: { role: Role; caller: string } };

const ok = (description: string) => ({
  200: { content: { "application/json": { schema: Json } }, description },
});
const created = (description: string) => ({
  201: { content: { "application/json": { schema: Json } }, description },
});
const KeyParam = z.object({
  key: z.string().min(1).max(1000).openapi({ description: "asset key, URL-encoded" }),
});
const IdParam = z.object({ id: z.string().min(1).max(200) });
const NameParam = z.object({ name: z.string().min(1).max(200) });

/** `body.partitions.keys[1]` from a zod issue path. */
function fieldOf(target: string, path: readonly PropertyKey[]): string {
  let out = target === "json" ? "body" : target;
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `.${String(p)}`;
  return out;
}

/** One page of rows fetched with `limit + 1` (newest first): the cursor is the last id shown. */
function pageOf<T extends { id: number }>(rows: readonly T[], limit: number) {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? String(items[items.length - 1]!.id) : null };
}

/** Run `fn`; a core validation error it throws names the precise body field. */
async function withFields<T>(body: unknown, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const field = fieldOfCoreError(error, body);
    if (field && isBatonError(error)) throw new ApiError(400, error.code.toLowerCase(), error.message, field);
    throw error;
  }
}

/** A JSON body that may be absent (then `{}`), validated like the declared ones. */
async function optionalBody<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  const text = await c.req.text();
  let raw: unknown = {};
  if (text.trim() !== "") {
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new ApiError(
        400,
        "invalid_request",
        `body: not valid JSON (${(error as Error).message})`,
        "body",
      );
    }
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]!] : issue.path;
  const field = fieldOf("json", path);
  throw new ApiError(400, "invalid_request", `${field}: ${issue.message}`, field);
}

/** The Hono app: every route under /api, validated with zod, described at /api/openapi.json. */
export function createApp(options: AppOptions) {
  const { instance } = options;
  const storage = instance.storage;
  const auth = options.auth ?? { tokens: [] };
  const catalog = createCatalog(instance);
  /** Partition status answers by asset, with the version of the state they were computed from. */
  const partitionCache = new Map<string, { version: string; json: string }>();
  const app = new OpenAPIHono<Env>({
    defaultHook: (result, c) => {
      if (result.success) return;
      const issue = result.error.issues[0]!;
      const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]!] : issue.path;
      const field = fieldOf((result as { target?: string }).target ?? "request", path);
      return c.json(
        { error: { code: "invalid_request", message: `${field}: ${issue.message}`, field } },
        400,
      );
    },
  });

  app.onError((error, c) => {
    const { status, body } = errorAnswer(error);
    if (status >= 500 && status !== 503)
      console.error(`baton webserver: ${c.req.method} ${c.req.path}: ${String(error)}`);
    return c.json(body, status as 400);
  });
  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: `No route ${c.req.method} ${c.req.path}` } }, 404),
  );

  // A request body left unread (refused early, or sent where none is expected) would stay on a
  // keep-alive connection until the server drops it: close that connection after the answer.
  app.use("*", async (c, next) => {
    await next();
    const hasBody = Number(c.req.header("content-length") ?? 0) > 0 || c.req.header("transfer-encoding");
    if (hasBody && !c.req.raw.bodyUsed) c.res.headers.set("Connection", "close");
  });
  app.use("*", secureHeaders());
  // Control characters in a path or query are never meaningful here (and Postgres rejects NUL).
  app.use("/api/*", async (c, next) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(c.req.url.slice(c.req.url.indexOf("/api/")));
    } catch {
      throw new ApiError(400, "invalid_request", "The URL is not validly percent-encoded.", "url");
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is rejected.
    if (/[\u0000-\u001f\u007f]/.test(decoded))
      throw new ApiError(400, "invalid_request", "The URL contains control characters.", "url");
    await next();
  });
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: 2 * 1024 * 1024,
      onError: (c) =>
        c.json({ error: { code: "too_large", message: "The request body is larger than 2 MB." } }, 413),
    }),
  );
  app.use("/api/*", async (c, next) => {
    const who = authenticate(auth, c.req.header("authorization"));
    c.set("role", who.role);
    c.set("caller", who.name);
    if (c.req.method !== "GET" && c.req.method !== "HEAD" && c.req.method !== "OPTIONS") {
      // JSON only: a cross-site form post cannot send this content type without a preflight.
      const type = c.req.header("content-type") ?? "";
      if (!/^application\/json\b/i.test(type))
        throw new ApiError(
          415,
          "unsupported_media_type",
          "Send mutations with Content-Type: application/json.",
        );
      if (options.readOnly)
        throw new ApiError(403, "read_only", "This webserver is read-only (--read-only).");
      // Before any validation: a caller without the role learns nothing about the input.
      const admin = /^\/api\/(?:partitions\/|sensors\/[^/]+\/cursor\/)/.test(c.req.path);
      requireRole(who.role, admin ? "admin" : "launcher");
    }
    await next();
  });
  const need = (c: Context<Env>, role: Role) => requireRole(c.get("role"), role);

  // --- health -------------------------------------------------------------------------------
  app.openapi(
    createRoute({ method: "get", path: "/api/health", responses: ok("store, daemon and workers") }),
    async (c) => {
      const started = Date.now();
      await storage.latestEventId();
      const storeMs = Date.now() - started;
      const daemon = await storage.getValue("daemon/heartbeat");
      const beat = daemon ? (JSON.parse(daemon) as { id: string; at: number }) : undefined;
      const workers = (await storage.listWorkers()).filter((w) => w.status === "running");
      const snapshot = await catalog.current();
      return c.json(
        {
          status: "ok",
          store: { dialect: storage.dialect, reachable: true, latencyMs: storeMs },
          daemon: beat ? { id: beat.id, heartbeatAgeMs: Date.now() - beat.at } : null,
          workers: workers.map((w) => ({
            workerId: w.workerId,
            host: w.host,
            pid: w.pid,
            heartbeatAgeMs: Date.now() - w.heartbeatAt,
          })),
          definitions: snapshot
            ? {
                hash: snapshot.snapshot.hash,
                publishedAt: snapshot.snapshot.publishedAt,
                assets: snapshot.snapshot.assets.length,
              }
            : null,
        },
        200,
      );
    },
  );

  // --- definitions --------------------------------------------------------------------------
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/assets",
      responses: {
        ...ok("the asset graph (ETag: the definitions hash)"),
        304: { description: "unchanged since If-None-Match" },
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
      responses: ok("latest materialization and failure of every asset"),
    }),
    async (c) => c.json({ assets: await storage.getAssetStatuses() }, 200),
  );

  const assetOf = async (key: string) => {
    const cat = await catalog.require();
    const a = cat.snapshot.assets.find((x) => x.key === key);
    if (!a) throw new ApiError(404, "not_found", `No asset "${key}" in the definitions.`);
    return { cat, a };
  };

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/assets/{key}",
      request: { params: KeyParam },
      responses: ok("one asset: definition and status"),
    }),
    async (c) => {
      const { key } = c.req.valid("param");
      const { cat, a } = await assetOf(key);
      const [status] = await storage.getAssetStatuses([key]);
      const checks = await storage.getLatestCheckResults(key);
      const now = Date.now();
      const spaces = await loadKeySpaces(cat.definitions, storage, now);
      let partitions: unknown = null;
      if (a.partitions) {
        const ps = await partitionStatus(cat.definitions, storage, spaces, key);
        partitions = { total: ps.total, counts: ps.counts };
      }
      const freshness = a.freshness
        ? await evaluateFreshness(cat.definitions, storage, spaces, key, now).catch(() => null)
        : null;
      return c.json({ definition: a, status: status ?? null, checks, partitions, freshness }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/assets/{key}/partitions",
      request: { params: KeyParam },
      responses: ok("partition status as compact ranges"),
    }),
    async (c) => {
      const { key } = c.req.valid("param");
      const { cat, a } = await assetOf(key);
      if (!a.partitions) throw new ApiError(409, "not_partitioned", `Asset "${key}" is not partitioned.`);
      const spaces = await loadKeySpaces(cat.definitions, storage, Date.now());
      // The answer changes only with a new event, another key space (dynamic keys, a new time
      // window) or new definitions: serve repeated reads from memory.
      const def = cat.definitions.computationOf(key).partitions!;
      const version = `${key}\u0000${spaces.fingerprintOf(def)}:${spaces.of(def).count()}:${await storage.latestEventId()}`;
      let body = partitionCache.get(key);
      if (body?.version !== version) {
        body = {
          version,
          json: JSON.stringify(await partitionStatus(cat.definitions, storage, spaces, key)),
        };
        partitionCache.set(key, body);
        if (partitionCache.size > 1000) partitionCache.delete(partitionCache.keys().next().value!);
      }
      return c.body(body.json, 200, { "content-type": "application/json" }) as never;
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
      responses: ok("why the asset (partition) is stale or missing"),
    }),
    async (c) => {
      const { key } = c.req.valid("param");
      const { partition } = c.req.valid("query");
      const { cat, a } = await assetOf(key);
      if (a.partitions && partition === undefined)
        throw new ApiError(
          400,
          "invalid_request",
          `Asset "${key}" is partitioned: pass ?partition=KEY.`,
          "query.partition",
        );
      if (!a.partitions && partition !== undefined)
        throw new ApiError(
          400,
          "invalid_request",
          `Asset "${key}" is not partitioned: drop ?partition.`,
          "query.partition",
        );
      const spaces = await loadKeySpaces(cat.definitions, storage, Date.now());
      if (partition !== undefined) {
        const def = cat.definitions.computationOf(key).partitions!;
        if (spaces.of(def).indexOf(partition) < 0)
          throw new ApiError(
            400,
            "invalid_partition",
            `"${partition}" is not a partition of "${key}" (${def.describeFormat()}).`,
            "query.partition",
          );
      }
      const resolver = createStalenessResolver(cat.definitions, storage, spaces);
      return c.json(await resolver.staleness(key, partition ?? null), 200);
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
      responses: ok("materializations, newest first (optionally of one partition)"),
    }),
    async (c) => {
      const { key } = c.req.valid("param");
      const { limit, cursor, partition } = c.req.valid("query");
      const { cat, a } = await assetOf(key);
      if (partition !== undefined) {
        if (!a.partitions)
          throw new ApiError(
            400,
            "invalid_request",
            `Asset "${key}" is not partitioned: drop ?partition.`,
            "query.partition",
          );
        const def = cat.definitions.computationOf(key).partitions!;
        const spaces = await loadKeySpaces(cat.definitions, storage, Date.now());
        if (spaces.of(def).indexOf(partition) < 0)
          throw new ApiError(
            400,
            "invalid_partition",
            `"${partition}" is not a partition of "${key}" (${def.describeFormat()}).`,
            "query.partition",
          );
      }
      const rows = await storage.getMaterializations(key, {
        limit: limit + 1,
        ...(cursor ? { beforeId: Number(cursor) } : {}),
        ...(partition !== undefined ? { partition } : {}),
      });
      const { items, nextCursor } = pageOf(rows, limit);
      return c.json({ materializations: items, nextCursor }, 200);
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
      responses: ok("latest result of each check, and the history of evaluations (newest first)"),
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
      return c.json({ latest: await storage.getLatestCheckResults(key), history: items, nextCursor }, 200);
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
      responses: ok("a numeric metadata entry over time, oldest first (for plots)"),
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

  app.openapi(createRoute({ method: "get", path: "/api/jobs", responses: ok("jobs") }), async (c) =>
    c.json({ jobs: (await catalog.require()).snapshot.jobs }, 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/resources",
      responses: ok("resources (names; values never leave the workers)"),
    }),
    async (c) => c.json({ resources: (await catalog.require()).snapshot.resources }, 200),
  );

  // --- automation ---------------------------------------------------------------------------
  const instigators = async () => {
    const { snapshot } = await catalog.require();
    const states = new Map((await storage.listInstigatorStates()).map((s) => [s.name, s]));
    const withState = <T extends { name: string; defaultStatus: "RUNNING" | "STOPPED" }>(x: T) => {
      const s = states.get(x.name);
      return {
        ...x,
        status: s?.status ?? x.defaultStatus,
        cursor: s?.cursor ?? null,
        lastTickAt: s?.lastTickAt ?? null,
      };
    };
    return { schedules: snapshot.schedules.map(withState), sensors: snapshot.sensors.map(withState) };
  };
  app.openapi(
    createRoute({ method: "get", path: "/api/schedules", responses: ok("schedules with their state") }),
    async (c) => c.json({ schedules: (await instigators()).schedules }, 200),
  );
  app.openapi(
    createRoute({ method: "get", path: "/api/sensors", responses: ok("sensors with their state") }),
    async (c) => c.json({ sensors: (await instigators()).sensors }, 200),
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
      responses: ok("ticks, newest first"),
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
      return c.json({ ticks: items, nextCursor }, 200);
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
        request: { params: NameParam },
        responses: ok(`${verb} a schedule or sensor`),
      }),
      async (c) => {
        need(c, "launcher");
        const { name } = c.req.valid("param");
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
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/automation/{name}/preview",
      description:
        "Evaluate a sensor once (or list a schedule's next ticks) without launching anything. The daemon runs it (the webserver never loads user code); 503 when no daemon answers in time.",
      request: { params: NameParam },
      responses: ok("what it would launch"),
    }),
    async (c) => {
      need(c, "launcher");
      const { name } = c.req.valid("param");
      await instigator(name);
      const id = randomUUID();
      await requestPreview(storage, id, name, Date.now());
      const deadline = Date.now() + (options.previewTimeoutMs ?? 10_000);
      while (Date.now() < deadline) {
        const result = await takePreviewResult(storage, id);
        if (result) return c.json(result, 200);
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
      request: { params: NameParam },
      responses: ok("the sensor starts from scratch"),
    }),
    async (c) => {
      need(c, "admin");
      const { name } = c.req.valid("param");
      const { kind } = await instigator(name);
      if (kind !== "sensor")
        throw new ApiError(409, "conflict", `"${name}" is a schedule; only sensors have a cursor to reset.`);
      await storage.setInstigatorState(name, "sensor", { cursor: null }, Date.now());
      return c.json({ name, cursor: null }, 200);
    },
  );

  // --- runs ---------------------------------------------------------------------------------
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

  // --- backfills ----------------------------------------------------------------------------
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

  // --- dynamic partitions (admin) -----------------------------------------------------------
  const PartitionKeysBody = z
    .object({ keys: z.array(z.string().min(1).max(1000)).min(1).max(100_000) })
    .strict();
  for (const verb of ["add", "remove"] as const) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/api/partitions/{name}/${verb}`,
        request: {
          params: NameParam,
          body: { content: { "application/json": { schema: PartitionKeysBody } }, required: true },
        },
        responses: ok(`${verb} dynamic partition keys`),
      }),
      async (c) => {
        need(c, "admin");
        const { name } = c.req.valid("param");
        const { keys } = c.req.valid("json");
        // The same rule as `baton partitions add` (and static keys).
        if (verb === "add")
          keys.forEach((k, i) => {
            const problem = partitionKeyProblem(k);
            if (problem)
              throw new ApiError(400, "invalid_partition", `body.keys[${i}]: ${problem}`, `body.keys[${i}]`);
          });
        const { snapshot } = await catalog.require();
        const known = JSON.stringify(snapshot.assets.map((a) => a.partitions)).includes(
          `"kind":"dynamic","name":${JSON.stringify(name)}`,
        );
        if (!known)
          throw new ApiError(404, "not_found", `No dynamic partitions named "${name}" in the definitions.`);
        const changed =
          verb === "add"
            ? await storage.addDynamicPartitions(name, keys)
            : await storage.removeDynamicPartitions(name, keys);
        return c.json({ name, [verb === "add" ? "added" : "removed"]: changed }, 200);
      },
    );
  }

  // --- live events --------------------------------------------------------------------------
  app.get("/api/events/stream", (c) =>
    eventStream(c, storage, {
      pollMs: options.streamPollMs ?? 250,
      ...(options.signal ? { signal: options.signal } : {}),
    }),
  );

  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/api/events/stream",
    description:
      "Run events as Server-Sent Events (id = event log id; resumable with Last-Event-ID; starts from now without it).",
    request: {
      query: z.object({
        runId: z.string().optional().openapi({ description: "only this run's events" }),
        after: z.string().optional().openapi({ description: "start after this event id" }),
      }),
    },
    responses: {
      200: { description: "text/event-stream", content: { "text/event-stream": { schema: z.string() } } },
    },
  });
  app.doc31("/api/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Baton API",
      version: "0.1.0",
      description: "Assets, runs, backfills, automation and live events.",
    },
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  return app;
}
