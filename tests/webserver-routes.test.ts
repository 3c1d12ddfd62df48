/**
 * Every route of the webserver (packages/webserver/src/app.ts) through `app.request()`, with no port:
 * success with exact bodies, 400s naming the field, 404s, 409s, 415, 401/403 per role, 403 in
 * read-only mode, 503 before any definitions snapshot is published, and /api/openapi.json.
 *
 * Real parts only: the BUILT `@baton/webserver` and `@baton/core` (run `npm run build` first), a real
 * SQLite store in a fresh temp home per test, a definitions snapshot published the way workers do
 * (`publishSnapshot`), and runs that really execute (`instance.materialize`, or queued through the
 * API, claimed with `storage.claimRuns` and executed with `instance.executeQueuedRun`, as a worker
 * does). The last describe runs the core flows on every storage backend (SQLite and a throwaway
 * Postgres; BATON_TEST_STORAGE=sqlite|postgres|all, default all).
 *
 * Every answer goes through `call()`, which records it (the last test asserts that nothing in this
 * file got a 5xx other than the deliberate 503 `no_definitions`) and validates every 2xx JSON answer
 * against its operation's declared response schema (tests/support/api-responses.ts).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  asset,
  assetCheck,
  assetJob,
  type BatonInstance,
  type Definitions,
  dailyPartitions,
  defineDefinitions,
  dynamicPartitions,
  MAX_RETRIES_TAG,
  openInstance,
  publishSnapshot,
  readSnapshot,
  resource,
  schedule,
  sensor,
  staticPartitions,
} from "@baton/core/internal";
import { type AppOptions, createApp, makeToken, openApiDocument } from "@baton/webserver";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { z } from "zod";
import { checkAnswer, operationOf } from "./support/api-responses.js";
import { type StorageBackend, type StorageLocation, storageBackends } from "./support/storage-backends.js";

// ---------------------------------------------------------------------------------------------
// Definitions (published as a snapshot; the webserver never sees these functions)

const BAD_DAY = "2024-01-10";
const DAYS = dailyPartitions({ start: "2024-01-01", end: "2024-01-11" }); // 2024-01-01 … 2024-01-10
const SECRET = "warehouse-password-s3cr3t";

const taxiRaw = asset(
  {
    key: "taxi/raw",
    partitions: DAYS,
    codeVersion: "v1",
    group: "taxi",
    kinds: ["csv"],
    owners: ["team:data"],
  },
  async (ctx) => {
    for (const day of ctx.partitionKeys) {
      ctx.log.info(`raw ${day}`);
      if (day === BAD_DAY) throw new Error(`no trips file for ${day}`);
    }
    // A run over several partitions returns one value per partition.
    return Object.fromEntries(ctx.partitionKeys.map((day) => [day, 1]));
  },
);
const taxiClean = asset(
  { key: "taxi/clean", partitions: DAYS, deps: ["taxi/raw"], group: "taxi" },
  async (ctx) => Object.fromEntries(ctx.partitionKeys.map((day) => [day, 2])),
);
const configured = asset(
  {
    key: "configured",
    group: "analytics",
    description: "Takes run config",
    tags: { tier: "gold" },
    config: z.object({ n: z.number().int().min(1), mode: z.enum(["fast", "slow"]).default("fast") }),
  },
  async (ctx) => {
    ctx.log.info(`n=${ctx.config.n} mode=${ctx.config.mode}`);
    ctx.addMetadata({ n: ctx.config.n, mode: ctx.config.mode });
    return ctx.config.n;
  },
);
const report = asset({ key: "report", deps: ["configured"] }, async (): Promise<number> => {
  throw new Error("report: warehouse unavailable");
});
const plain = asset({ key: "plain", freshness: { maxLagMinutes: 60 } }, async (ctx) => {
  ctx.log.info("plain line 1");
  ctx.log.info("plain line 2");
  ctx.log.info("plain line 3");
  return 1;
});
const flaky = asset({ key: "flaky", deps: ["plain"] }, async (): Promise<number> => {
  throw new Error("flaky exploded");
});
const customerReport = asset(
  { key: "customer_report", partitions: dynamicPartitions({ name: "customers" }) },
  async (ctx) => ctx.partitionKey,
);
const regional = asset(
  { key: "regional", partitions: staticPartitions(["eu", "us", "apac"]) },
  async (ctx) => ctx.partitionKey,
);
/** Materializes, but its blocking check fails. */
const audited = asset({ key: "audited" }, async () => -1);
const nonNegative = assetCheck({ asset: audited, name: "non_negative", blocking: true }, (_ctx, value) => ({
  passed: value >= 0,
}));
const positive = assetCheck({ asset: "plain", name: "positive" }, () => ({ passed: true }));
const threshold = assetCheck(
  { asset: "plain", name: "threshold", config: z.object({ min: z.number().default(0) }) },
  (ctx) => ({ passed: ctx.config.min <= 1 }),
);
const dailyJob = assetJob({ name: "daily_job", selection: "taxi/raw", description: "the raw files" });

const defs: Definitions = defineDefinitions({
  assets: [taxiRaw, taxiClean, configured, report, plain, flaky, customerReport, regional, audited],
  checks: [positive, threshold, nonNegative],
  resources: { warehouse: resource({ description: "the warehouse", setup: () => ({ password: SECRET }) }) },
  jobs: [dailyJob],
  schedules: [schedule({ name: "nightly", cron: "0 2 * * *", job: dailyJob })],
  sensors: [
    sensor({ name: "watcher", selection: "plain", minimumIntervalSeconds: 45, evaluate: () => undefined }),
  ],
});

// ---------------------------------------------------------------------------------------------
// Harness

type App = ReturnType<typeof createApp>;
interface Answer {
  readonly status: number;
  readonly text: string;
  readonly body: any;
  readonly headers: Headers;
}
interface CallOptions {
  /** Sent as JSON (with Content-Type: application/json unless `headers` says otherwise). */
  readonly json?: unknown;
  /** Sent as is. */
  readonly raw?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const JSON_TYPE = { "content-type": "application/json" } as const;
/** Every answer in this file: method, path, status (the last test asserts no 5xx). */
const answered: { method: string; path: string; status: number; code: string | undefined }[] = [];

async function call(app: App, method: string, url: string, options: CallOptions = {}): Promise<Answer> {
  const hasBody = options.json !== undefined || options.raw !== undefined;
  const headers: Record<string, string> = { ...(hasBody ? JSON_TYPE : {}), ...(options.headers ?? {}) };
  const init: RequestInit = { method, headers };
  if (options.raw !== undefined) init.body = options.raw;
  else if (options.json !== undefined) init.body = JSON.stringify(options.json);
  const res = await app.request(url, init);
  const text = await res.text();
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  answered.push({ method, path: url, status: res.status, code: body?.error?.code });
  // Every 2xx JSON answer must be what its operation declares (the schemas /api/openapi.json shows).
  checkAnswer(app, method, url, res.status, res.headers.get("content-type"), body);
  return { status: res.status, text, body, headers: res.headers };
}
const get = (app: App, url: string, headers?: Record<string, string>) =>
  call(app, "GET", url, headers ? { headers } : {});
const post = (app: App, url: string, json: unknown = {}, headers?: Record<string, string>) =>
  call(app, "POST", url, { json, ...(headers ? { headers } : {}) });

/** The exact error body: `{ error: { code, message, field? } }` (`field` checked when given). */
function expectError(
  answer: Answer,
  status: number,
  code: string,
  message: string | RegExp,
  field?: string,
): void {
  const body = answer.body as { error?: Record<string, unknown> } | undefined;
  const error = body?.error && field === undefined ? { ...body.error, field: undefined } : body?.error;
  const actual = body?.error ? { ...body, error: JSON.parse(JSON.stringify(error)) } : body;
  expect({ status: answer.status, body: actual }).toEqual({
    status,
    body: {
      error: {
        code,
        message: typeof message === "string" ? message : expect.stringMatching(message),
        ...(field !== undefined ? { field } : {}),
      },
    },
  });
}

interface Env {
  readonly home: string;
  readonly instance: BatonInstance;
  readonly app: App;
}
const opened: Env[] = [];

/** A fresh SQLite instance in a temp home, the snapshot published (unless `publish: false`), an app. */
async function setup(
  options: Omit<AppOptions, "instance"> & { publish?: boolean; databaseUrl?: string } = {},
): Promise<Env> {
  const { publish = true, databaseUrl, ...appOptions } = options;
  const home = await mkdtemp(path.join(tmpdir(), "baton-web-routes-"));
  const instance = await openInstance({ home, env: {}, ...(databaseUrl ? { databaseUrl } : {}) });
  if (publish) await publishSnapshot(instance.storage, defs);
  const env = { home, instance, app: createApp({ instance, ...appOptions }) };
  opened.push(env);
  return env;
}
afterEach(async () => {
  for (const env of opened.splice(0)) {
    await env.instance.close();
    await rm(env.home, { recursive: true, force: true });
  }
});

/** What a run worker does: claim the queued run and execute it with the real definitions. */
async function work(instance: BatonInstance, runId: string) {
  const claimed = await instance.storage.claimRuns({ workerId: "test-worker", limit: 100, now: Date.now() });
  expect(claimed.map((r) => r.runId)).toContain(runId);
  return instance.executeQueuedRun(defs, runId);
}

/** The fields every freshly queued run has. */
const queued = (fields: Record<string, unknown>) => ({
  runId: expect.stringMatching(/^[0-9a-f-]{36}$/),
  status: "QUEUED",
  config: {},
  parentRunId: null,
  rootRunId: null,
  createdAt: expect.any(Number),
  startedAt: null,
  endedAt: null,
  partitionKeys: null,
  backfillId: null,
  priority: 0,
  workerId: null,
  heartbeatAt: null,
  cancelRequested: false,
  created: true,
  ...fields,
});

// ---------------------------------------------------------------------------------------------

describe("before any definitions snapshot is published", () => {
  test("routes needing definitions answer 503 no_definitions; health and run history answer 200", async () => {
    const { instance, app } = await setup({ publish: false });
    const message =
      "No definitions published yet: start `baton worker`, `baton daemon` or `baton dev` (they publish them for the webserver).";
    for (const [method, url] of [
      ["GET", "/api/assets"],
      ["GET", "/api/assets/plain"],
      ["GET", "/api/assets/taxi%2Fraw/partitions"],
      ["GET", "/api/assets/plain/why"],
      ["GET", "/api/assets/plain/materializations"],
      ["GET", "/api/jobs"],
      ["GET", "/api/resources"],
      ["GET", "/api/schedules"],
      ["GET", "/api/sensors"],
      ["GET", "/api/automation/nightly/ticks"],
      ["POST", "/api/automation/nightly/start"],
      ["POST", "/api/sensors/watcher/cursor/reset"],
      ["POST", "/api/runs"],
      ["POST", "/api/backfills"],
      ["POST", "/api/partitions/customers/add"],
    ] as const) {
      const json =
        url === "/api/runs"
          ? { selection: "plain" }
          : url === "/api/backfills"
            ? { selection: "taxi/raw", partitions: { which: "all" } }
            : url.startsWith("/api/partitions")
              ? { keys: ["acme"] }
              : method === "POST"
                ? {}
                : undefined;
      const answer = await call(app, method, url, json === undefined ? {} : { json });
      expectError(answer, 503, "no_definitions", message);
    }

    const health = await get(app, "/api/health");
    expect(health.status).toBe(200);
    expect(health.body).toEqual({
      status: "ok",
      store: { dialect: "sqlite", reachable: true, latencyMs: expect.any(Number) },
      daemon: null,
      workers: [],
      definitions: null,
      definitionsLoadError: null,
    });
    expect(await get(app, "/api/runs")).toMatchObject({ status: 200, body: { runs: [], nextCursor: null } });
    expect(await get(app, "/api/backfills")).toMatchObject({
      status: 200,
      body: { backfills: [], nextCursor: null },
    });

    // Published now: the same app answers at once (nothing was cached while there was nothing).
    const snapshot = await publishSnapshot(instance.storage, defs);
    const assets = await get(app, "/api/assets");
    expect(assets.status).toBe(200);
    expect(assets.body.hash).toBe(snapshot.hash);
  });
});

describe("health", () => {
  test("reports the store, the daemon heartbeat, running workers and the published definitions", async () => {
    const { instance, app } = await setup();
    const now = Date.now();
    await instance.storage.setValue(
      "daemon/heartbeat",
      JSON.stringify({ id: "daemon-1", at: now - 5000 }),
      now,
    );
    await instance.storage.heartbeat({ workerId: "w-up", pid: 4242, host: "box", startedAt: now }, [], now);
    await instance.storage.heartbeat({ workerId: "w-down", pid: 4343, host: "box", startedAt: now }, [], now);
    await instance.storage.stopWorker("w-down", now);
    const snapshot = (await readSnapshot(instance.storage))!;

    const answer = await get(app, "/api/health");
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      status: "ok",
      store: { dialect: "sqlite", reachable: true, latencyMs: expect.any(Number) },
      daemon: { id: "daemon-1", heartbeatAgeMs: expect.any(Number) },
      workers: [{ workerId: "w-up", host: "box", pid: 4242, heartbeatAgeMs: expect.any(Number) }],
      definitions: { hash: snapshot.hash, publishedAt: snapshot.publishedAt, assets: 9 },
      definitionsLoadError: null,
    });
    expect(answer.body.daemon.heartbeatAgeMs).toBeGreaterThanOrEqual(5000);
    expect(answer.body.daemon.heartbeatAgeMs).toBeLessThan(60_000);
    // Security headers on every answer.
    expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
  });
});

describe("definitions", () => {
  test("GET /api/assets: the asset graph with groups, kinds, owners, tags, deps, partitions and checks", async () => {
    const { instance, app } = await setup();
    const before = await get(app, "/api/assets");
    expect(before.status).toBe(200);
    expect(before.body.hash).toBe((await readSnapshot(instance.storage))!.hash);
    const byKey = new Map<string, any>(before.body.assets.map((a: any) => [a.key, a]));
    expect([...byKey.keys()].sort()).toEqual([
      "audited",
      "configured",
      "customer_report",
      "flaky",
      "plain",
      "regional",
      "report",
      "taxi/clean",
      "taxi/raw",
    ]);
    expect(byKey.get("configured")).toEqual({
      key: "configured",
      group: "analytics",
      kinds: [],
      owners: [],
      tags: { tier: "gold" },
      description: "Takes run config",
      deps: [],
      computation: "configured",
      partitions: null,
      checks: [],
      automation: null,
    });
    expect(byKey.get("taxi/raw")).toMatchObject({
      group: "taxi",
      kinds: ["csv"],
      owners: ["team:data"],
      partitions: { kind: "time" },
    });
    expect(byKey.get("taxi/clean")).toMatchObject({ deps: ["taxi/raw"], partitions: { kind: "time" } });
    expect(byKey.get("customer_report").partitions).toEqual({ kind: "dynamic" });
    expect(byKey.get("regional").partitions).toEqual({ kind: "static" });
    expect(byKey.get("plain").checks).toEqual(["positive", "threshold"]);
  });

  test("GET /api/assets: ETag is the definitions hash; If-None-Match answers 304", async () => {
    const { instance, app } = await setup();
    const hash = (await readSnapshot(instance.storage))!.hash;
    const first = await get(app, "/api/assets");
    expect(first.status).toBe(200);
    expect(first.headers.get("etag")).toBe(`"${hash}"`);
    expect(first.headers.get("content-type")).toMatch(/^application\/json/);
    const again = await get(app, "/api/assets", { "if-none-match": `"${hash}"` });
    expect(again.status).toBe(304);
    expect(again.text).toBe("");
    const stale = await get(app, "/api/assets", { "if-none-match": '"an-older-hash"' });
    expect(stale.status).toBe(200);
    expect(stale.text).toBe(first.text);
  });

  test("GET /api/status: latest materialization and failure of every asset", async () => {
    const { instance, app } = await setup();
    expect((await get(app, "/api/status")).body).toEqual({ assets: [] });
    const ok = await instance.materialize(defs, { selection: "plain" });
    const bad = await instance.materialize(defs, { selection: "plain+" });
    expect([ok.status, bad.status]).toEqual(["SUCCESS", "FAILURE"]);
    const answer = await get(app, "/api/status");
    expect(answer.status).toBe(200);
    const byKey = new Map<string, any>(answer.body.assets.map((a: any) => [a.assetKey, a]));
    expect([...byKey.keys()].sort()).toEqual(["flaky", "plain"]);
    expect(byKey.get("plain")).toMatchObject({
      lastMaterialization: { runId: bad.runId, timestamp: expect.any(Number) },
      lastFailure: null,
    });
    expect(byKey.get("flaky")).toMatchObject({
      lastMaterialization: null,
      lastFailure: { runId: bad.runId, timestamp: expect.any(Number) },
    });
  });

  test("GET /api/assets/{key}: definition, status, latest checks, partition counts and freshness", async () => {
    const { instance, app } = await setup();
    const raw = await get(app, "/api/assets/taxi%2Fraw");
    expect(raw.status).toBe(200);
    expect(raw.body).toMatchObject({
      definition: {
        key: "taxi/raw",
        group: "taxi",
        codeVersion: "v1",
        parents: [],
        computation: { name: "taxi/raw", kind: "asset", assetKeys: ["taxi/raw"], canSubset: false },
        partitions: { kind: "time", unit: "day", format: "YYYY-MM-DD" },
        configSchema: null,
        checks: [],
        freshness: null,
      },
      status: null,
      checks: [],
      partitions: { total: 10, counts: { materialized: 0, failed: 0, in_progress: 0, missing: 10 } },
      freshness: null,
    });

    const cfg = await get(app, "/api/assets/configured");
    expect(cfg.status).toBe(200);
    expect(cfg.body.definition.configSchema).toMatchObject({
      type: "object",
      properties: { n: { type: "integer", minimum: 1 }, mode: { enum: ["fast", "slow"] } },
    });
    expect(cfg.body.partitions).toBeNull();

    const run = await instance.materialize(defs, { selection: "plain" });
    expect(run.status).toBe("SUCCESS");
    const detail = await get(app, "/api/assets/plain");
    expect(detail.status).toBe(200);
    expect(detail.body.status).toMatchObject({
      assetKey: "plain",
      lastMaterialization: { runId: run.runId },
      lastFailure: null,
    });
    expect(
      detail.body.checks.map((c: any) => ({ name: c.checkName, passed: c.passed, runId: c.runId })),
    ).toEqual(
      expect.arrayContaining([
        { name: "positive", passed: true, runId: run.runId },
        { name: "threshold", passed: true, runId: run.runId },
      ]),
    );
    expect(detail.body.checks).toHaveLength(2);
    expect(detail.body.definition.freshness).toEqual({ maxLagMinutes: 60, cron: null, timezone: null });
    expect(detail.body.freshness).toMatchObject({ assetKey: "plain", status: "fresh", partition: null });
  });

  test("unknown assets answer 404 on every asset route, also URL-encoded keys with slashes", async () => {
    const { app } = await setup();
    for (const suffix of ["", "/partitions", "/why", "/materializations"]) {
      expectError(
        await get(app, `/api/assets/taxi%2Fnope${suffix}`),
        404,
        "not_found",
        'No asset "taxi/nope" in the definitions.',
      );
    }
    expectError(
      await get(app, `/api/assets/${"k".repeat(1001)}`),
      400,
      "invalid_request",
      "param.key: Too big: expected string to have <=1000 characters",
      "param.key",
    );
    expectError(
      await get(app, `/api/runs/${"r".repeat(201)}`),
      400,
      "invalid_request",
      "param.id: Too big: expected string to have <=200 characters",
      "param.id",
    );
    // An unencoded slash is another path: no such route.
    expectError(
      await get(app, "/api/assets/taxi/raw"),
      404,
      "not_found",
      "No route GET /api/assets/taxi/raw",
    );
  });

  test("GET /api/jobs and /api/resources: names, descriptions and masked config; a resource() shows no value", async () => {
    const { app } = await setup();
    const jobs = await get(app, "/api/jobs");
    expect(jobs.status).toBe(200);
    expect(jobs.body).toEqual({
      jobs: [{ name: "daily_job", selection: "taxi/raw", description: "the raw files" }],
    });
    const resources = await get(app, "/api/resources");
    expect(resources.status).toBe(200);
    expect(resources.body).toEqual({
      resources: [{ name: "warehouse", description: "the warehouse", config: null }],
    });
    expect(resources.text).not.toContain(SECRET);
  });
});

describe("partition status and why", () => {
  test("GET /api/assets/{key}/partitions: compact ranges after materializing some partitions", async () => {
    const { instance, app } = await setup();
    const ok = await instance.materialize(defs, {
      selection: "taxi/raw",
      partitions: { range: { from: "2024-01-02", to: "2024-01-04" } },
    });
    const failed = await instance.materialize(defs, {
      selection: "taxi/raw",
      partitions: { keys: [BAD_DAY] },
    });
    expect([ok.status, failed.status]).toEqual(["SUCCESS", "FAILURE"]);

    const answer = await get(app, "/api/assets/taxi%2Fraw/partitions");
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      assetKey: "taxi/raw",
      total: 10,
      counts: { materialized: 3, failed: 1, in_progress: 0, missing: 6 },
      ranges: [
        { status: "missing", start: 0, end: 0, startKey: "2024-01-01", endKey: "2024-01-01" },
        { status: "materialized", start: 1, end: 3, startKey: "2024-01-02", endKey: "2024-01-04" },
        { status: "missing", start: 4, end: 8, startKey: "2024-01-05", endKey: "2024-01-09" },
        { status: "failed", start: 9, end: 9, startKey: BAD_DAY, endKey: BAD_DAY },
      ],
      dimensions: null,
    });
    const detail = await get(app, "/api/assets/taxi%2Fraw");
    expect(detail.body.partitions).toEqual({
      total: 10,
      counts: { materialized: 3, failed: 1, in_progress: 0, missing: 6 },
    });
  });

  test("GET /api/assets/{key}/partitions of an unpartitioned asset: 409", async () => {
    const { app } = await setup();
    expectError(
      await get(app, "/api/assets/plain/partitions"),
      409,
      "not_partitioned",
      'Asset "plain" is not partitioned.',
    );
  });

  test("GET /api/assets/{key}/why explains a stale and a missing partition, and a fresh asset", async () => {
    const { instance, app } = await setup();
    await instance.materialize(defs, { selection: "taxi/raw", partitions: { keys: ["2024-01-02"] } });
    await instance.materialize(defs, { selection: "taxi/clean", partitions: { keys: ["2024-01-02"] } });
    const rerun = await instance.materialize(defs, {
      selection: "taxi/raw",
      partitions: { keys: ["2024-01-02"] },
    });
    expect(rerun.status).toBe("SUCCESS");

    const stale = await get(app, "/api/assets/taxi%2Fclean/why?partition=2024-01-02");
    expect(stale.status).toBe(200);
    expect(stale.body).toMatchObject({
      assetKey: "taxi/clean",
      partition: "2024-01-02",
      status: "stale",
      lastMaterialization: { eventId: expect.any(Number) },
      reasons: [
        {
          kind: "upstream_newer",
          assetKey: "taxi/clean",
          partition: "2024-01-02",
          upstream: "taxi/raw",
          upstreamPartitions: ["2024-01-02"],
          message: expect.stringMatching(
            /^upstream taxi\/raw \[2024-01-02\] was materialized after taxi\/clean \[2024-01-02\]/,
          ),
        },
      ],
    });
    expect(stale.body.reasons).toHaveLength(1);

    const missing = await get(app, "/api/assets/taxi%2Fclean/why?partition=2024-01-05");
    expect(missing.status).toBe(200);
    expect(missing.body).toEqual({
      assetKey: "taxi/clean",
      partition: "2024-01-05",
      status: "missing",
      lastMaterialization: null,
      reasons: [
        {
          kind: "missing",
          assetKey: "taxi/clean",
          partition: "2024-01-05",
          message: "taxi/clean [2024-01-05] has never been materialized",
        },
      ],
    });

    await instance.materialize(defs, { selection: "plain" });
    const fresh = await get(app, "/api/assets/plain/why");
    expect(fresh.status).toBe(200);
    expect(fresh.body).toMatchObject({ assetKey: "plain", partition: null, status: "fresh", reasons: [] });
  });

  test("GET /api/assets/{key}/why: 400 naming query.partition", async () => {
    const { app } = await setup();
    expectError(
      await get(app, "/api/assets/taxi%2Fclean/why"),
      400,
      "invalid_request",
      'Asset "taxi/clean" is partitioned: pass ?partition=KEY.',
      "query.partition",
    );
    expectError(
      await get(app, "/api/assets/plain/why?partition=eu"),
      400,
      "invalid_request",
      'Asset "plain" is not partitioned: drop ?partition.',
      "query.partition",
    );
    expectError(
      await get(app, "/api/assets/taxi%2Fclean/why?partition=2024-02-30"),
      400,
      "invalid_partition",
      '"2024-02-30" is not a partition of "taxi/clean" (YYYY-MM-DD (daily, UTC)).',
      "query.partition",
    );
    expectError(
      await get(app, "/api/assets/plain/why?bogus=1"),
      400,
      "invalid_request",
      'query.bogus: Unrecognized key: "bogus"',
      "query.bogus",
    );
  });
});

describe("materializations", () => {
  test("GET /api/assets/{key}/materializations: newest first, paged with cursor", async () => {
    const { instance, app } = await setup();
    const runs: string[] = [];
    for (let i = 0; i < 3; i++) runs.push((await instance.materialize(defs, { selection: "plain" })).runId);

    const first = await get(app, "/api/assets/plain/materializations?limit=2");
    expect(first.status).toBe(200);
    expect(first.body.materializations.map((m: any) => m.runId)).toEqual([runs[2], runs[1]]);
    for (const m of first.body.materializations)
      expect(m).toMatchObject({ type: "materialization", assetKey: "plain", id: expect.any(Number) });
    const [newest, second] = first.body.materializations;
    expect(newest.id).toBeGreaterThan(second.id);
    expect(first.body.nextCursor).toBe(String(second.id));

    const next = await get(app, `/api/assets/plain/materializations?limit=2&cursor=${first.body.nextCursor}`);
    expect(next.status).toBe(200);
    expect(next.body.materializations.map((m: any) => m.runId)).toEqual([runs[0]]);
    expect(next.body.nextCursor).toBeNull();

    const all = await get(app, "/api/assets/plain/materializations");
    expect(all.body.materializations).toHaveLength(3);
    expect(all.body.nextCursor).toBeNull();
  });

  test("GET /api/assets/{key}/materializations: 400 naming query.limit, query.cursor and unknown keys", async () => {
    const { app } = await setup();
    const url = "/api/assets/plain/materializations";
    expectError(
      await get(app, `${url}?limit=0`),
      400,
      "invalid_request",
      "query.limit: Too small: expected number to be >=1",
      "query.limit",
    );
    expectError(
      await get(app, `${url}?limit=abc`),
      400,
      "invalid_request",
      "query.limit: Invalid input: expected number, received NaN",
      "query.limit",
    );
    expectError(
      await get(app, `${url}?limit=1001`),
      400,
      "invalid_request",
      "query.limit: Too big: expected number to be <=1000",
      "query.limit",
    );
    expectError(
      await get(app, `${url}?cursor=zz`),
      400,
      "invalid_request",
      "query.cursor: must be a cursor from a previous page",
      "query.cursor",
    );
    expectError(
      await get(app, `${url}?bogus=1`),
      400,
      "invalid_request",
      'query.bogus: Unrecognized key: "bogus"',
      "query.bogus",
    );
  });

  test("GET /api/assets/{key}/materializations?partition=KEY filters by partition (issue 6: 'filterable by partition')", async () => {
    const { instance, app } = await setup();
    await instance.materialize(defs, { selection: "taxi/raw", partitions: { keys: ["2024-01-02"] } });
    await instance.materialize(defs, { selection: "taxi/raw", partitions: { keys: ["2024-01-03"] } });
    const again = await instance.materialize(defs, {
      selection: "taxi/raw",
      partitions: { keys: ["2024-01-02"] },
    });
    const answer = await get(app, "/api/assets/taxi%2Fraw/materializations?partition=2024-01-02&limit=1");
    expect(answer.status).toBe(200);
    expect(answer.body.materializations.map((m: any) => [m.partition, m.runId])).toEqual([
      ["2024-01-02", again.runId],
    ]);
    const older = await get(
      app,
      `/api/assets/taxi%2Fraw/materializations?partition=2024-01-02&limit=1&cursor=${answer.body.nextCursor}`,
    );
    expect(older.body.materializations.map((m: any) => m.partition)).toEqual(["2024-01-02"]);
    expect(older.body.nextCursor).toBeNull();
    expect(
      (await get(app, "/api/assets/taxi%2Fraw/materializations?partition=2024-01-05")).body.materializations,
    ).toEqual([]);
  });
});

describe("check history and metadata series", () => {
  test("GET /api/assets/{key}/checks: latest per check and the history, newest first, paged", async () => {
    const { instance, app } = await setup();
    const runs: string[] = [];
    for (let i = 0; i < 3; i++) runs.push((await instance.materialize(defs, { selection: "plain" })).runId);

    const all = await get(app, "/api/assets/plain/checks");
    expect(all.status).toBe(200);
    expect(all.body.latest.map((r: any) => [r.checkName, r.passed, r.runId])).toEqual([
      ["positive", true, runs[2]],
      ["threshold", true, runs[2]],
    ]);
    expect(all.body.history).toHaveLength(6);
    expect(all.body.history.map((e: any) => e.type)).toEqual(Array(6).fill("check_evaluation"));
    const ids = all.body.history.map((e: any) => e.id);
    expect(ids).toEqual([...ids].sort((a: number, b: number) => b - a));
    expect(all.body.history.slice(0, 2).map((e: any) => e.runId)).toEqual([runs[2], runs[2]]);
    expect(all.body.nextCursor).toBeNull();

    const page = await get(app, "/api/assets/plain/checks?limit=4");
    expect(page.body.history.map((e: any) => e.id)).toEqual(ids.slice(0, 4));
    expect(page.body.nextCursor).toBe(String(ids[3]));
    const rest = await get(app, `/api/assets/plain/checks?limit=4&cursor=${page.body.nextCursor}`);
    expect(rest.body.history.map((e: any) => e.id)).toEqual(ids.slice(4));
    expect(rest.body.nextCursor).toBeNull();

    expectError(
      await get(app, "/api/assets/plain/checks?check=nope"),
      404,
      "not_found",
      'Asset "plain" has no check "nope".',
    );
    expectError(
      await get(app, "/api/assets/plain/checks?limit=0"),
      400,
      "invalid_request",
      "query.limit: Too small: expected number to be >=1",
      "query.limit",
    );
    expect((await get(app, "/api/assets/flaky/checks")).body).toEqual({
      latest: [],
      history: [],
      nextCursor: null,
    });
  });

  test("GET /api/assets/{key}/checks?check=NAME pages through that check's evaluations only", async () => {
    const { instance, app } = await setup();
    const runs: string[] = [];
    for (let i = 0; i < 3; i++) runs.push((await instance.materialize(defs, { selection: "plain" })).runId);
    const first = await get(app, "/api/assets/plain/checks?check=positive&limit=2");
    expect(first.status).toBe(200);
    expect(first.body.history.map((e: any) => [e.checkName, e.runId])).toEqual([
      ["positive", runs[2]],
      ["positive", runs[1]],
    ]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const rest = await get(
      app,
      `/api/assets/plain/checks?check=positive&limit=2&cursor=${first.body.nextCursor}`,
    );
    expect(rest.body.history.map((e: any) => [e.checkName, e.runId])).toEqual([["positive", runs[0]]]);
    expect(rest.body.nextCursor).toBeNull();
  });

  test("GET /api/assets/{key}/metadata/{name}: a numeric series, oldest first", async () => {
    const { instance, app } = await setup();
    const runs: string[] = [];
    for (const n of [5, 7, 6])
      runs.push(
        (await instance.materialize(defs, { selection: "configured", config: { configured: { n } } })).runId,
      );

    const series = await get(app, "/api/assets/configured/metadata/n");
    expect(series.status).toBe(200);
    expect(series.body).toEqual({
      assetKey: "configured",
      name: "n",
      points: [
        { timestamp: expect.any(Number), value: 5, partition: null, runId: runs[0] },
        { timestamp: expect.any(Number), value: 7, partition: null, runId: runs[1] },
        { timestamp: expect.any(Number), value: 6, partition: null, runId: runs[2] },
      ],
    });
    // The latest `limit` points, still oldest first.
    expect(
      (await get(app, "/api/assets/configured/metadata/n?limit=2")).body.points.map((p: any) => p.value),
    ).toEqual([7, 6]);
    // Text metadata and unknown names have no numeric points.
    expect((await get(app, "/api/assets/configured/metadata/mode")).body.points).toEqual([]);
    expect((await get(app, "/api/assets/configured/metadata/nope")).body.points).toEqual([]);
    expectError(
      await get(app, "/api/assets/taxi%2Fnope/metadata/n"),
      404,
      "not_found",
      'No asset "taxi/nope" in the definitions.',
    );
    expectError(
      await get(app, "/api/assets/configured/metadata/n?limit=10001"),
      400,
      "invalid_request",
      "query.limit: Too big: expected number to be <=10000",
      "query.limit",
    );
  });
});

describe("automation", () => {
  test("GET /api/schedules and /api/sensors: definitions with their stored state", async () => {
    const { app } = await setup();
    const schedules = await get(app, "/api/schedules");
    expect(schedules.status).toBe(200);
    expect(schedules.body).toEqual({
      schedules: [
        {
          name: "nightly",
          cron: "0 2 * * *",
          timezone: "UTC",
          target: { job: "daily_job" },
          defaultStatus: "STOPPED",
          catchUp: 0,
          description: null,
          nextTickAt: null,
          status: "STOPPED",
          cursor: null,
          lastTickAt: null,
          lastTick: null,
        },
      ],
    });
    const sensors = await get(app, "/api/sensors");
    expect(sensors.status).toBe(200);
    expect(sensors.body).toEqual({
      sensors: [
        {
          name: "watcher",
          type: "custom",
          target: { selection: "plain" },
          minimumIntervalSeconds: 45,
          defaultStatus: "STOPPED",
          description: null,
          status: "STOPPED",
          cursor: null,
          lastTickAt: null,
          lastTick: null,
        },
      ],
    });
  });

  test("POST /api/automation/{name}/start|stop: reflected in /api/schedules and /api/sensors", async () => {
    const { instance, app } = await setup();
    const before = Date.now();
    const start = await post(app, "/api/automation/nightly/start");
    expect(start.status).toBe(200);
    expect(start.body).toEqual({ name: "nightly", kind: "schedule", status: "RUNNING" });
    const running = (await get(app, "/api/schedules")).body.schedules[0];
    expect(running.status).toBe("RUNNING");
    // A started schedule runs from now on (no catch-up of ticks missed while it was stopped).
    expect(Number(running.cursor)).toBeGreaterThanOrEqual(before);
    // Its next tick: the next 02:00 UTC after now.
    const next = new Date(running.nextTickAt);
    expect(next.getTime()).toBeGreaterThan(before);
    expect(next.getTime() - before).toBeLessThanOrEqual(24 * 3600_000);
    expect([next.getUTCHours(), next.getUTCMinutes()]).toEqual([2, 0]);
    expect((await instance.storage.getInstigatorState("nightly"))?.status).toBe("RUNNING");

    const stop = await post(app, "/api/automation/nightly/stop");
    expect(stop.status).toBe(200);
    expect(stop.body).toEqual({ name: "nightly", kind: "schedule", status: "STOPPED" });
    expect((await get(app, "/api/schedules")).body.schedules[0].status).toBe("STOPPED");

    expect((await post(app, "/api/automation/watcher/start")).body).toEqual({
      name: "watcher",
      kind: "sensor",
      status: "RUNNING",
    });
    expect((await get(app, "/api/sensors")).body.sensors[0].status).toBe("RUNNING");
    expect((await post(app, "/api/automation/watcher/stop")).status).toBe(200);
    expect((await get(app, "/api/sensors")).body.sensors[0].status).toBe("STOPPED");

    expectError(
      await post(app, "/api/automation/nope/start"),
      404,
      "not_found",
      'No schedule or sensor named "nope".',
    );
    expectError(
      await post(app, "/api/automation/nope/stop"),
      404,
      "not_found",
      'No schedule or sensor named "nope".',
    );
  });

  test("POST /api/automation/start-all|stop-all: switches every schedule and sensor (or one kind)", async () => {
    const { instance, app } = await setup();
    const started = await post(app, "/api/automation/start-all");
    expect(started.status).toBe(200);
    expect(started.body).toEqual({ status: "RUNNING", changed: ["nightly", "watcher"] });
    expect((await get(app, "/api/schedules")).body.schedules[0].status).toBe("RUNNING");
    expect((await get(app, "/api/sensors")).body.sensors[0].status).toBe("RUNNING");
    // Nothing left to start.
    expect((await post(app, "/api/automation/start-all")).body).toEqual({ status: "RUNNING", changed: [] });

    const sensorsOnly = await post(app, "/api/automation/stop-all", { kind: "sensor" });
    expect(sensorsOnly.body).toEqual({ status: "STOPPED", changed: ["watcher"] });
    expect((await instance.storage.getInstigatorState("nightly"))?.status).toBe("RUNNING");
    expect((await instance.storage.getInstigatorState("watcher"))?.status).toBe("STOPPED");
    expect((await post(app, "/api/automation/stop-all")).body).toEqual({
      status: "STOPPED",
      changed: ["nightly"],
    });

    expectError(
      await post(app, "/api/automation/stop-all", { kind: "job" }),
      400,
      "invalid_request",
      'body.kind: Invalid option: expected one of "sensor"|"schedule"',
      "body.kind",
    );
  });

  test("GET /api/automation/evaluations: eager/onCron decisions, newest first, by asset", async () => {
    const { instance, app } = await setup();
    await instance.storage.addAutomationEvaluations([
      {
        assetKey: "plain",
        timestamp: 1_700_000_000_000,
        condition: "eager",
        launched: false,
        reason: "waiting for upstream",
        partitionKeys: null,
        runId: null,
      },
      {
        assetKey: "other",
        timestamp: 1_700_000_001_000,
        condition: "on_cron(0 * * * *)",
        launched: true,
        reason: "cron tick passed",
        partitionKeys: ["2024-01-01"],
        runId: "run-x",
      },
    ]);
    const all = await get(app, "/api/automation/evaluations");
    expect(all.status).toBe(200);
    expect(
      all.body.evaluations.map((e: any) => [e.assetKey, e.launched, e.reason, e.partitionKeys, e.runId]),
    ).toEqual([
      ["other", true, "cron tick passed", ["2024-01-01"], "run-x"],
      ["plain", false, "waiting for upstream", null, null],
    ]);
    const one = await get(app, "/api/automation/evaluations?asset=plain&limit=5");
    expect(one.body.evaluations.map((e: any) => e.condition)).toEqual(["eager"]);
    expectError(
      await get(app, "/api/automation/evaluations?limit=0"),
      400,
      "invalid_request",
      "query.limit: Too small: expected number to be >=1",
      "query.limit",
    );
  });

  test("GET /api/automation/{name}/ticks: newest first, paged with cursor", async () => {
    const { instance, app } = await setup();
    const ids: number[] = [];
    for (const [i, status] of (["SUCCESS", "SKIPPED", "FAILURE"] as const).entries()) {
      ids.push(
        await instance.storage.addTick({
          name: "watcher",
          kind: "sensor",
          timestamp: 1_700_000_000_000 + i * 45_000,
          status,
          runIds: status === "SUCCESS" ? ["run-a"] : [],
          skipReason: status === "SKIPPED" ? "nothing new" : null,
          error: status === "FAILURE" ? "sensor threw" : null,
          cursor: `c${i}`,
          durationMs: 10 + i,
        }),
      );
    }
    const first = await get(app, "/api/automation/watcher/ticks?limit=2");
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      ticks: [
        {
          id: ids[2],
          name: "watcher",
          kind: "sensor",
          timestamp: 1_700_000_090_000,
          status: "FAILURE",
          runIds: [],
          skipReason: null,
          error: "sensor threw",
          cursor: "c2",
          durationMs: 12,
        },
        {
          id: ids[1],
          name: "watcher",
          kind: "sensor",
          timestamp: 1_700_000_045_000,
          status: "SKIPPED",
          runIds: [],
          skipReason: "nothing new",
          error: null,
          cursor: "c1",
          durationMs: 11,
        },
      ],
      nextCursor: String(ids[1]),
    });
    const next = await get(app, `/api/automation/watcher/ticks?limit=2&cursor=${ids[1]}`);
    expect(next.status).toBe(200);
    expect(next.body.ticks.map((t: any) => [t.id, t.status, t.runIds])).toEqual([
      [ids[0], "SUCCESS", ["run-a"]],
    ]);
    expect(next.body.nextCursor).toBeNull();

    expect((await get(app, "/api/automation/nightly/ticks")).body).toEqual({ ticks: [], nextCursor: null });
    // The list shows each one's latest tick.
    expect((await get(app, "/api/sensors")).body.sensors[0].lastTick).toEqual({
      id: ids[2],
      timestamp: 1_700_000_090_000,
      status: "FAILURE",
      runIds: [],
      skipReason: null,
      error: "sensor threw",
    });
    expect((await get(app, "/api/schedules")).body.schedules[0].lastTick).toBeNull();
    expectError(
      await get(app, "/api/automation/nope/ticks"),
      404,
      "not_found",
      'No schedule or sensor named "nope".',
    );
    expectError(
      await get(app, "/api/automation/watcher/ticks?limit=0"),
      400,
      "invalid_request",
      "query.limit: Too small: expected number to be >=1",
      "query.limit",
    );
    expectError(
      await get(app, "/api/automation/watcher/ticks?cursor=-1"),
      400,
      "invalid_request",
      "query.cursor: must be a cursor from a previous page",
      "query.cursor",
    );
  });

  test("POST /api/automation/{name}/preview: the daemon's answer as declared (a stand-in daemon answers here)", async () => {
    const { instance, app } = await setup({ previewTimeoutMs: 5000 });
    const storage = instance.storage;
    // What the daemon does (packages/core/src/daemon/previews.ts): take the request, write the result.
    const daemon = (async () => {
      for (let i = 0; i < 250; i++) {
        const [request] = await storage.listValues("preview/request/");
        if (request) {
          await storage.deleteValue(request.key);
          const id = request.key.slice("preview/request/".length);
          const result = {
            name: "watcher",
            kind: "sensor",
            evaluatedAt: 1_700_000_000_000,
            runRequests: [{ runKey: "file-1", selection: "plain", tags: { source: "s3" }, custom: 1 }],
            skipReason: null,
            cursor: "c1",
            error: null,
          };
          await storage.setValue(`preview/result/${id}`, JSON.stringify(result), Date.now());
          return;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const answer = await post(app, "/api/automation/watcher/preview");
    await daemon;
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      name: "watcher",
      kind: "sensor",
      evaluatedAt: 1_700_000_000_000,
      runRequests: [{ runKey: "file-1", selection: "plain", tags: { source: "s3" }, custom: 1 }],
      skipReason: null,
      cursor: "c1",
      error: null,
    });
  });

  test("POST /api/sensors/{name}/cursor/reset: clears a sensor's cursor; 409 for a schedule; 404 unknown", async () => {
    const { instance, app } = await setup();
    await instance.storage.setInstigatorState(
      "watcher",
      "sensor",
      { status: "RUNNING", cursor: "file-42" },
      1,
    );
    expect((await get(app, "/api/sensors")).body.sensors[0]).toMatchObject({
      status: "RUNNING",
      cursor: "file-42",
    });

    const reset = await post(app, "/api/sensors/watcher/cursor/reset");
    expect(reset.status).toBe(200);
    expect(reset.body).toEqual({ name: "watcher", cursor: null });
    // The status is kept; only the cursor is gone.
    expect((await get(app, "/api/sensors")).body.sensors[0]).toMatchObject({
      status: "RUNNING",
      cursor: null,
    });

    expectError(
      await post(app, "/api/sensors/nightly/cursor/reset"),
      409,
      "conflict",
      '"nightly" is a schedule; only sensors have a cursor to reset.',
    );
    expectError(
      await post(app, "/api/sensors/nope/cursor/reset"),
      404,
      "not_found",
      'No schedule or sensor named "nope".',
    );
  });
});

describe("runs: launch", () => {
  test("POST /api/runs: 201 and a QUEUED run with its partition and tags incl. baton/launched-by", async () => {
    const { app } = await setup();
    const answer = await post(app, "/api/runs", {
      selection: "taxi/raw",
      partitions: { keys: ["2024-01-03"] },
      // The caller cannot pose as someone else.
      tags: { team: "data", "baton/launched-by": "mallory" },
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({
      run: queued({
        selection: "taxi/raw",
        assetKeys: ["taxi/raw"],
        tags: { team: "data", "baton/launched-by": "local" },
        partitionKeys: ["2024-01-03"],
        request: { assetKeys: ["taxi/raw"], checkKeys: [], partitionKeys: ["2024-01-03"] },
      }),
    });

    const detail = await get(app, `/api/runs/${answer.body.run.runId}`);
    expect(detail.status).toBe(200);
    const { created: _created, ...stored } = answer.body.run;
    expect(detail.body).toEqual({
      run: stored,
      summary: {
        runId: stored.runId,
        status: "QUEUED",
        startedAt: null,
        endedAt: null,
        durationMs: null,
        reason: null,
        steps: [],
      },
    });
  });

  test("POST /api/runs: a range, priority and maxRetries", async () => {
    const { app } = await setup();
    const answer = await post(app, "/api/runs", {
      selection: "taxi/raw+",
      partitions: { range: { from: "2024-01-02", to: "2024-01-04" } },
      priority: 7,
      maxRetries: 2,
    });
    expect(answer.status).toBe(201);
    expect(answer.body.run).toMatchObject({
      status: "QUEUED",
      selection: "taxi/raw+",
      assetKeys: ["taxi/raw", "taxi/clean"],
      partitionKeys: ["2024-01-02", "2024-01-03", "2024-01-04"],
      priority: 7,
      tags: { [MAX_RETRIES_TAG]: "2", "baton/launched-by": "local" },
    });
  });

  test("POST /api/runs: config validated against the asset's zod schema; the queued run executes for real", async () => {
    const { instance, app } = await setup();
    const answer = await post(app, "/api/runs", {
      selection: "configured",
      config: { configured: { n: 3 } },
    });
    expect(answer.status).toBe(201);
    expect(answer.body.run).toMatchObject({
      status: "QUEUED",
      assetKeys: ["configured"],
      config: { configured: { n: 3 } },
    });
    const runId = answer.body.run.runId;
    const summary = await work(instance, runId);
    expect(summary.status).toBe("SUCCESS");

    const detail = await get(app, `/api/runs/${runId}`);
    expect(detail.body.run).toMatchObject({ runId, status: "SUCCESS", workerId: "test-worker" });
    expect(detail.body.summary).toMatchObject({
      status: "SUCCESS",
      steps: [{ stepKey: "configured", status: "succeeded" }],
    });
    // The worker parsed the config with the schema's default.
    const logs = await get(app, `/api/runs/${runId}/logs`);
    expect(logs.body.logs.map((l: any) => l.message)).toContain("n=3 mode=fast");
    expect((await get(app, "/api/assets/configured")).body.status.lastMaterialization.runId).toBe(runId);
  });

  test("POST /api/runs: 400 naming the field for bad bodies (zod)", async () => {
    const { app } = await setup();
    expectError(
      await post(app, "/api/runs", {}),
      400,
      "invalid_request",
      "body.selection: Invalid input: expected string, received undefined",
      "body.selection",
    );
    expectError(
      await post(app, "/api/runs", { selection: "" }),
      400,
      "invalid_request",
      "body.selection: Too small: expected string to have >=1 characters",
      "body.selection",
    );
    expectError(
      await post(app, "/api/runs", { selection: "plain", bogus: 1 }),
      400,
      "invalid_request",
      'body.bogus: Unrecognized key: "bogus"',
      "body.bogus",
    );
    expectError(
      await post(app, "/api/runs", { selection: "configured", config: "n=3" }),
      400,
      "invalid_request",
      "body.config: Invalid input: expected record, received string",
      "body.config",
    );
    expectError(
      await post(app, "/api/runs", { selection: "taxi/raw", partitions: { keys: ["2024-01-02", ""] } }),
      400,
      "invalid_request",
      "body.partitions.keys[1]: Too small: expected string to have >=1 characters",
      "body.partitions.keys[1]",
    );
    expectError(
      await post(app, "/api/runs", {
        selection: "taxi/raw",
        partitions: { keys: ["2024-01-02"], range: { from: "2024-01-02", to: "2024-01-03" } },
      }),
      400,
      "invalid_request",
      "body.partitions: give either keys or range",
      "body.partitions",
    );
    expectError(
      await post(app, "/api/runs", { selection: "plain", priority: 1.5 }),
      400,
      "invalid_request",
      "body.priority: Invalid input: expected int, received number",
      "body.priority",
    );
    expectError(
      await post(app, "/api/runs", { selection: "plain", maxRetries: 11 }),
      400,
      "invalid_request",
      "body.maxRetries: Too big: expected number to be <=10",
      "body.maxRetries",
    );
    expectError(
      await post(app, "/api/runs", []),
      400,
      "invalid_request",
      "body: Invalid input: expected object, received array",
      "body",
    );
  });

  test("POST /api/runs: 400 for selections, partitions and config the core rejects (status, code, message)", async () => {
    const { app } = await setup();
    expectError(
      await post(app, "/api/runs", { selection: "taxi/raw", partitions: { keys: ["2024-01-32"] } }),
      400,
      "invalid_partition",
      'Invalid partition key "2024-01-32" for "taxi/raw": expected YYYY-MM-DD (daily, UTC); nearest valid key: "2024-01-02"',
    );
    expectError(
      await post(app, "/api/runs", { selection: "configured", config: { configured: { n: "three" } } }),
      400,
      "invalid_config",
      "Invalid config for the run:\n  - configured.n: Invalid input: expected number, received string",
    );
    expectError(
      await post(app, "/api/runs", {
        selection: "configured",
        config: { configured: { n: 2, mode: "turbo" } },
      }),
      400,
      "invalid_config",
      /^Invalid config for the run:\n {2}- configured\.mode: /,
    );
    expectError(
      await post(app, "/api/runs", { selection: "plain", partitions: { keys: ["eu"] } }),
      400,
      "invalid_selection",
      "A partition was given, but none of the selected assets is partitioned. Drop the partitions field.",
    );
    expectError(
      await post(app, "/api/runs", { selection: "taxi/raw" }),
      400,
      "invalid_selection",
      '"taxi/raw" is partitioned (YYYY-MM-DD (daily, UTC)): choose partitions with partitions.keys (["KEY", …]) ' +
        'or partitions.range ({ "from": "A", "to": "B" }).',
    );
    expectError(
      await post(app, "/api/runs", { selection: "taxi/nope" }),
      400,
      "invalid_selection",
      /^Invalid selection: unknown asset "taxi\/nope"/,
    );
  });

  test("POST /api/runs: 400s the core raises name the field too (error.field)", async () => {
    const { app } = await setup();
    const cases: [unknown, RegExp][] = [
      [{ selection: "taxi/raw", partitions: { keys: ["2024-01-32"] } }, /^body\.partitions\.keys\[0\]$/],
      [
        { selection: "configured", config: { configured: { n: "three" } } },
        /^body\.config(\.configured(\.n)?)?$/,
      ],
      [{ selection: "plain", partitions: { keys: ["eu"] } }, /^body\.partitions$/],
      [{ selection: "taxi/nope" }, /^body\.selection$/],
    ];
    for (const [json, field] of cases) {
      const answer = await post(app, "/api/runs", json);
      expect(answer.status).toBe(400);
      expect
        .soft({ json, field: answer.body.error.field })
        .toEqual({ json, field: expect.stringMatching(field) });
    }
  });

  test("POST /api/runs: a config key the asset's z.object does not declare is refused, as by the CLI and the worker", async () => {
    const { instance, app } = await setup();
    // z.object would strip it silently (a typo would run with the default): the core refuses it.
    await expect(
      instance.materialize(defs, { selection: "configured", config: { configured: { n: 2, note: "x" } } }),
    ).rejects.toThrow(/configured\.note: unknown field.*; the schema has n, mode/);
    const answer = await post(app, "/api/runs", {
      selection: "configured",
      config: { configured: { n: 2, note: "x" } },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.field).toBe("body.config.configured.note");
    expect(answer.body.error.message).toMatch(/configured\.note: unknown field.*; the schema has n, mode/);
  });

  test("POST /api/runs: config for an asset check with a config schema is accepted", async () => {
    const { instance, app } = await setup();
    const config = { "plain:threshold": { min: 1 } };
    expect((await instance.materialize(defs, { selection: "plain", config })).status).toBe("SUCCESS");
    const answer = await post(app, "/api/runs", { selection: "plain", config });
    expect({ status: answer.status, error: answer.body.error }).toEqual({ status: 201, error: undefined });
    expect(answer.body.run.config).toEqual(config);
  });

  test("malformed JSON bodies answer 400, not 500", async () => {
    const { instance, app } = await setup();
    const failed = await instance.materialize(defs, { selection: "plain+" });
    for (const [url, raw] of [
      ["/api/runs", "{"],
      ["/api/runs", ""],
      ["/api/backfills", "{selection:"],
      [`/api/runs/${failed.runId}/reexecute`, "{"],
      ["/api/partitions/customers/add", "not json"],
    ] as const) {
      const answer = await call(app, "POST", url, { raw });
      expect.soft({ url, raw, status: answer.status, code: answer.body?.error?.code }).toEqual({
        url,
        raw,
        status: 400,
        code: "invalid_request",
      });
    }
  });
});

describe("runs: list, detail, events, logs", () => {
  test("GET /api/runs: newest first, status and backfill filters, cursor paging", async () => {
    const { instance, app } = await setup();
    const a = await instance.materialize(defs, { selection: "plain" });
    const b = await instance.materialize(defs, { selection: "plain+" });
    const c = (await post(app, "/api/runs", { selection: "plain" })).body.run;
    expect([a.status, b.status, c.status]).toEqual(["SUCCESS", "FAILURE", "QUEUED"]);

    const all = await get(app, "/api/runs");
    expect(all.status).toBe(200);
    expect(all.body.runs.map((r: any) => r.runId)).toEqual([c.runId, b.runId, a.runId]);
    expect(all.body.nextCursor).toBeNull();

    const page1 = await get(app, "/api/runs?limit=2");
    expect(page1.body.runs.map((r: any) => r.runId)).toEqual([c.runId, b.runId]);
    expect(page1.body.nextCursor).toEqual(expect.any(String));
    const page2 = await get(app, `/api/runs?limit=2&cursor=${page1.body.nextCursor}`);
    expect(page2.body.runs.map((r: any) => r.runId)).toEqual([a.runId]);
    expect(page2.body.nextCursor).toBeNull();

    const failedOrQueued = await get(app, "/api/runs?status=FAILURE,QUEUED");
    expect(failedOrQueued.body.runs.map((r: any) => [r.runId, r.status])).toEqual([
      [c.runId, "QUEUED"],
      [b.runId, "FAILURE"],
    ]);
    expect((await get(app, "/api/runs?status=SUCCESS")).body.runs.map((r: any) => r.runId)).toEqual([
      a.runId,
    ]);

    const backfill = await instance.createBackfill(defs, {
      selection: "taxi/raw",
      partitions: { keys: ["2024-01-05"] },
    });
    await instance.runBackfill(defs, backfill.backfillId);
    const ofBackfill = await get(app, `/api/runs?backfill=${backfill.backfillId}`);
    expect(ofBackfill.body.runs).toHaveLength(1);
    expect(ofBackfill.body.runs[0]).toMatchObject({
      backfillId: backfill.backfillId,
      status: "SUCCESS",
      partitionKeys: ["2024-01-05"],
    });
  });

  test("GET /api/runs: 400 naming query.status, query.limit, query.cursor and unknown keys", async () => {
    const { app } = await setup();
    expectError(
      await get(app, "/api/runs?status=BOGUS"),
      400,
      "invalid_request",
      'query.status: unknown status "BOGUS" (QUEUED, STARTING, STARTED, SUCCESS, FAILURE, CANCELING, CANCELED)',
      "query.status",
    );
    expectError(
      await get(app, "/api/runs?status=SUCCESS,bogus"),
      400,
      "invalid_request",
      /^query\.status: unknown status "bogus"/,
      "query.status",
    );
    expectError(
      await get(app, "/api/runs?limit=0"),
      400,
      "invalid_request",
      "query.limit: Too small: expected number to be >=1",
      "query.limit",
    );
    expectError(
      await get(app, "/api/runs?limit=abc"),
      400,
      "invalid_request",
      "query.limit: Invalid input: expected number, received NaN",
      "query.limit",
    );
    expectError(
      await get(app, "/api/runs?cursor=abc"),
      400,
      "invalid_request",
      "query.cursor: must be a cursor from a previous page",
      "query.cursor",
    );
    expectError(
      await get(app, "/api/runs?color=red"),
      400,
      "invalid_request",
      'query.color: Unrecognized key: "color"',
      "query.color",
    );
  });

  test("GET /api/runs: asset, tag, sensor, schedule and creation-time filters", async () => {
    const { instance, app } = await setup();
    const a = await instance.materialize(defs, { selection: "plain+" });
    const b = await instance.materialize(defs, { selection: "configured", config: { configured: { n: 1 } } });
    const bySensor = (
      await post(app, "/api/runs", { selection: "plain", tags: { "baton/sensor": "watcher" } })
    ).body.run;
    const bySchedule = (
      await post(app, "/api/runs", {
        selection: "taxi/raw",
        partitions: { keys: ["2024-01-01"] },
        tags: { "baton/schedule": "nightly", team: "data" },
      })
    ).body.run;
    const ids = async (query: string) => {
      const answer = await get(app, `/api/runs?${query}`);
      expect(answer.status, query).toBe(200);
      return answer.body.runs.map((r: any) => r.runId);
    };
    expect(await ids("asset=plain")).toEqual([bySensor.runId, a.runId]);
    expect(await ids("asset=flaky")).toEqual([a.runId]);
    expect(await ids("asset=taxi%2Fraw")).toEqual([bySchedule.runId]);
    expect(await ids("asset=taxi")).toEqual([]);
    expect(await ids("sensor=watcher")).toEqual([bySensor.runId]);
    expect(await ids("schedule=nightly")).toEqual([bySchedule.runId]);
    expect(await ids("schedule=watcher")).toEqual([]);
    expect(await ids("tag=team")).toEqual([bySchedule.runId]);
    expect(await ids("tag=team%3Ddata")).toEqual([bySchedule.runId]);
    expect(await ids("tag=team%3Dother")).toEqual([]);
    expect(await ids("asset=plain&status=SUCCESS,FAILURE")).toEqual([a.runId]);

    const bRecord = (await instance.storage.getRun(b.runId))!;
    const at = (ms: number) => encodeURIComponent(new Date(ms).toISOString());
    expect(await ids(`createdAfter=${at(bRecord.createdAt)}&asset=configured`)).toEqual([b.runId]);
    expect(await ids(`createdBefore=${at(bRecord.createdAt)}`)).toEqual([a.runId]);
    expect(await ids(`createdAfter=${at(Date.now() + 60_000)}`)).toEqual([]);

    expectError(
      await get(app, "/api/runs?sensor=watcher&schedule=nightly"),
      400,
      "invalid_request",
      "query.tag: give at most one of tag, sensor and schedule",
      "query.tag",
    );
    expectError(
      await get(app, "/api/runs?createdAfter=yesterday"),
      400,
      "invalid_request",
      /^query\.createdAfter: /,
      "query.createdAfter",
    );
  });

  test("GET /api/runs/{id}/events and /logs: in order, paged with `after`", async () => {
    const { instance, app } = await setup();
    const run = await instance.materialize(defs, { selection: "plain" });
    expect(run.status).toBe("SUCCESS");
    const stored = await instance.storage.getEvents(run.runId);

    const all = await get(app, `/api/runs/${run.runId}/events`);
    expect(all.status).toBe(200);
    expect(all.body.events.map((e: any) => e.id)).toEqual(stored.map((e) => e.id));
    expect(all.body.events[0].type).toBe("run_started");
    expect(all.body.events.at(-1).type).toBe("run_succeeded");
    expect(all.body.nextAfter).toBeNull();

    const first = await get(app, `/api/runs/${run.runId}/events?limit=2`);
    expect(first.body.events.map((e: any) => e.id)).toEqual(stored.slice(0, 2).map((e) => e.id));
    expect(first.body.nextAfter).toBe(stored[1]!.id);
    const rest = await get(app, `/api/runs/${run.runId}/events?after=${first.body.nextAfter}`);
    expect(rest.body.events.map((e: any) => e.id)).toEqual(stored.slice(2).map((e) => e.id));
    expect(rest.body.nextAfter).toBeNull();

    const logs = await get(app, `/api/runs/${run.runId}/logs?limit=2`);
    expect(logs.status).toBe(200);
    expect(logs.body.logs.map((l: any) => [l.type, l.message])).toEqual([
      ["log", "plain line 1"],
      ["log", "plain line 2"],
    ]);
    expect(logs.body.nextAfter).toBe(logs.body.logs[1].id);
    const moreLogs = await get(app, `/api/runs/${run.runId}/logs?after=${logs.body.nextAfter}`);
    expect(moreLogs.body.logs.map((l: any) => l.message)).toEqual(["plain line 3"]);
    expect(moreLogs.body.nextAfter).toBeNull();
    expect(moreLogs.body.logs[0].id).toBeGreaterThan(logs.body.nextAfter);
  });

  test("GET /api/runs/{id}/events and /logs: 400 naming query.after and query.limit", async () => {
    const { instance, app } = await setup();
    const run = await instance.materialize(defs, { selection: "plain" });
    for (const suffix of ["events", "logs"]) {
      const url = `/api/runs/${run.runId}/${suffix}`;
      expectError(
        await get(app, `${url}?after=-1`),
        400,
        "invalid_request",
        "query.after: Too small: expected number to be >=0",
        "query.after",
      );
      expectError(
        await get(app, `${url}?after=abc`),
        400,
        "invalid_request",
        "query.after: Invalid input: expected number, received NaN",
        "query.after",
      );
      expectError(
        await get(app, `${url}?limit=0`),
        400,
        "invalid_request",
        "query.limit: Too small: expected number to be >=1",
        "query.limit",
      );
      expectError(
        await get(app, `${url}?limit=5001`),
        400,
        "invalid_request",
        "query.limit: Too big: expected number to be <=5000",
        "query.limit",
      );
    }
  });

  test("unknown runs answer 404 on every run route", async () => {
    const { app } = await setup();
    const message = 'No run "no-such-run".';
    expectError(await get(app, "/api/runs/no-such-run"), 404, "not_found", message);
    expectError(await get(app, "/api/runs/no-such-run/events"), 404, "not_found", message);
    expectError(await get(app, "/api/runs/no-such-run/logs"), 404, "not_found", message);
    expectError(await post(app, "/api/runs/no-such-run/cancel"), 404, "not_found", message);
    expectError(await post(app, "/api/runs/no-such-run/reexecute"), 404, "not_found", message);
  });
});

describe("runs: cancel and re-execute", () => {
  test("POST /api/runs/{id}/cancel: a queued run is CANCELED at once; a finished one is a 409", async () => {
    const { instance, app } = await setup();
    const launched = (await post(app, "/api/runs", { selection: "plain" })).body.run;
    const cancel = await post(app, `/api/runs/${launched.runId}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body.run).toMatchObject({
      runId: launched.runId,
      status: "CANCELED",
      cancelRequested: true,
      endedAt: expect.any(Number),
    });
    expect((await get(app, `/api/runs/${launched.runId}`)).body.run.status).toBe("CANCELED");
    expectError(
      await post(app, `/api/runs/${launched.runId}/cancel`),
      409,
      "conflict",
      `Run ${launched.runId} already ended (CANCELED); nothing to cancel.`,
    );

    const done = await instance.materialize(defs, { selection: "plain" });
    expectError(
      await post(app, `/api/runs/${done.runId}/cancel`),
      409,
      "conflict",
      `Run ${done.runId} already ended (SUCCESS); nothing to cancel.`,
    );
  });

  test("POST /api/runs/{id}/cancel: a claimed (starting) run is asked to stop: CANCELING", async () => {
    const { instance, app } = await setup();
    const launched = (await post(app, "/api/runs", { selection: "plain" })).body.run;
    await instance.storage.claimRuns({ workerId: "w1", limit: 1, now: Date.now() });
    const cancel = await post(app, `/api/runs/${launched.runId}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body.run).toMatchObject({ status: "CANCELING", cancelRequested: true, workerId: "w1" });
  });

  test("POST /api/runs/{id}/reexecute from failure: only the failed assets, with parentRunId", async () => {
    const { instance, app } = await setup();
    const parent = await instance.materialize(defs, { selection: "plain+", tags: { team: "data" } });
    expect(parent.status).toBe("FAILURE");

    const fromFailure = await post(app, `/api/runs/${parent.runId}/reexecute`, { fromFailure: true });
    expect(fromFailure.status).toBe(201);
    expect(fromFailure.body.run).toEqual(
      queued({
        selection: "flaky",
        assetKeys: ["flaky"],
        tags: { team: "data", "baton/launched-by": "local" },
        parentRunId: parent.runId,
        rootRunId: parent.runId,
        request: { assetKeys: ["flaky"], checkKeys: [] },
      }),
    );

    const everything = await post(app, `/api/runs/${parent.runId}/reexecute`, {});
    expect(everything.status).toBe(201);
    expect(everything.body.run).toMatchObject({
      status: "QUEUED",
      assetKeys: ["plain", "flaky"],
      parentRunId: parent.runId,
      rootRunId: parent.runId,
    });

    // A re-execution of the re-execution keeps the root.
    const child = fromFailure.body.run.runId;
    await instance.storage.claimRuns({ workerId: "w", limit: 10, now: Date.now() });
    expect((await instance.executeQueuedRun(defs, child)).status).toBe("FAILURE");
    const grandchild = await post(app, `/api/runs/${child}/reexecute`, { fromFailure: true });
    expect(grandchild.status).toBe(201);
    expect(grandchild.body.run).toMatchObject({
      parentRunId: child,
      rootRunId: parent.runId,
      assetKeys: ["flaky"],
    });
  });

  test("POST /api/runs/{id}/reexecute of a partitioned run keeps its partitions", async () => {
    const { instance, app } = await setup();
    const parent = await instance.materialize(defs, {
      selection: "taxi/raw",
      partitions: { range: { from: "2024-01-09", to: BAD_DAY } },
    });
    expect(parent.status).toBe("FAILURE");
    const answer = await post(app, `/api/runs/${parent.runId}/reexecute`, { fromFailure: true });
    expect(answer.status).toBe(201);
    expect(answer.body.run).toMatchObject({
      assetKeys: ["taxi/raw"],
      partitionKeys: ["2024-01-09", BAD_DAY],
      parentRunId: parent.runId,
    });
  });

  test("POST /api/runs/{id}/reexecute from failure of a run with config for the succeeded asset", async () => {
    const { instance, app } = await setup();
    const parent = await instance.materialize(defs, {
      selection: "configured+",
      config: { configured: { n: 4 } },
    });
    expect(parent.status).toBe("FAILURE");
    // The core's own re-execution narrows the config to the re-run steps.
    expect((await instance.reexecute(defs, parent.runId, { fromFailure: true })).status).toBe("FAILURE");

    const answer = await post(app, `/api/runs/${parent.runId}/reexecute`, { fromFailure: true });
    expect({ status: answer.status, error: answer.body.error }).toEqual({ status: 201, error: undefined });
    expect(answer.body.run).toMatchObject({ assetKeys: ["report"], parentRunId: parent.runId });
  });

  test("POST /api/runs/{id}/reexecute: 409 for queued or running runs and for nothing failed; 400 naming the field", async () => {
    const { instance, app } = await setup();
    const launched = (await post(app, "/api/runs", { selection: "plain" })).body.run;
    expectError(
      await post(app, `/api/runs/${launched.runId}/reexecute`),
      409,
      "conflict",
      `Run ${launched.runId} is QUEUED; re-execute it once it has ended.`,
    );
    await instance.storage.claimRuns({ workerId: "w1", limit: 1, now: Date.now() });
    expectError(
      await post(app, `/api/runs/${launched.runId}/reexecute`),
      409,
      "conflict",
      `Run ${launched.runId} is STARTING; re-execute it once it has ended.`,
    );

    const done = await instance.materialize(defs, { selection: "plain" });
    expectError(
      await post(app, `/api/runs/${done.runId}/reexecute`, { fromFailure: true }),
      409,
      "conflict",
      `Run ${done.runId} has nothing that failed to re-execute.`,
    );
    expectError(
      await post(app, `/api/runs/${done.runId}/reexecute`, { fromFailure: "yes" }),
      400,
      "invalid_request",
      "body.fromFailure: Invalid input: expected boolean, received string",
      "body.fromFailure",
    );
    expectError(
      await post(app, `/api/runs/${done.runId}/reexecute`, { from: true }),
      400,
      "invalid_request",
      'body.from: Unrecognized key: "from"',
      "body.from",
    );
  });

  test("POST /api/runs/{id}/reexecute from failure re-runs a failed check (the asset itself succeeded)", async () => {
    const { instance, app } = await setup();
    const parent = await instance.materialize(defs, { selection: "audited" });
    expect(parent.steps.map((st) => [st.stepKey, st.status])).toEqual([
      ["audited", "succeeded"],
      ["audited:non_negative", "failed"],
    ]);
    // What `baton reexecute --from-failure` (instance.reexecute) does: only the failed check runs again.
    const core = await instance.reexecute(defs, parent.runId, { fromFailure: true });
    expect(core.steps.map((st) => st.stepKey)).toEqual(["audited:non_negative"]);

    const answer = await post(app, `/api/runs/${parent.runId}/reexecute`, { fromFailure: true });
    expect({ status: answer.status, error: answer.body.error }).toEqual({ status: 201, error: undefined });
    expect(answer.body.run).toMatchObject({
      parentRunId: parent.runId,
      request: { checkKeys: ["audited:non_negative"] },
    });
  });

  test("POST /api/runs/{id}/reexecute of a backfill's run stays in that backfill", async () => {
    const { instance, app } = await setup();
    const backfill = await instance.createBackfill(defs, {
      selection: "taxi/raw",
      partitions: { keys: [BAD_DAY] },
    });
    expect((await instance.runBackfill(defs, backfill.backfillId)).status).toBe("FAILED");
    const [failed] = (await instance.storage.listRuns({ backfillId: backfill.backfillId })).runs;
    expect(failed).toMatchObject({ status: "FAILURE", backfillId: backfill.backfillId });
    // What the core's re-execution does with it.
    const core = await instance.reexecute(defs, failed!.runId, { fromFailure: true });
    expect((await instance.storage.getRun(core.runId))?.backfillId).toBe(backfill.backfillId);

    const answer = await post(app, `/api/runs/${failed!.runId}/reexecute`, { fromFailure: true });
    expect(answer.status).toBe(201);
    expect(answer.body.run).toMatchObject({
      parentRunId: failed!.runId,
      partitionKeys: [BAD_DAY],
      tags: { "baton/backfill": backfill.backfillId },
      backfillId: backfill.backfillId,
    });
  });

  test("POST /api/runs/{id}/reexecute with no body (it is optional) re-executes everything", async () => {
    const { instance, app } = await setup();
    const done = await instance.materialize(defs, { selection: "plain" });
    const answer = await call(app, "POST", `/api/runs/${done.runId}/reexecute`, { headers: JSON_TYPE });
    expect({ status: answer.status, error: answer.body?.error }).toEqual({ status: 201, error: undefined });
    expect(answer.body.run).toMatchObject({ assetKeys: ["plain"], parentRunId: done.runId });
  });
});

describe("backfills", () => {
  test("POST /api/backfills: 201 REQUESTED with options.daemon true; listed and detailed", async () => {
    const { app } = await setup();
    const answer = await post(app, "/api/backfills", {
      selection: "taxi/raw",
      partitions: { range: { from: "2024-01-01", to: "2024-01-05" } },
      chunkSize: 2,
      tags: { team: "data" },
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({
      backfill: {
        backfillId: expect.any(String),
        status: "REQUESTED",
        selection: "taxi/raw",
        assetKeys: ["taxi/raw"],
        partitionKeys: ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"],
        options: {
          chunkSize: 2,
          config: {},
          tags: { team: "data", "baton/launched-by": "local" },
          daemon: true,
        },
        counts: { targeted: 5, materialized: 0, failed: 0, skipped: 0, canceled: 0, runs: 0 },
        error: null,
        createdAt: expect.any(Number),
        updatedAt: expect.any(Number),
        endedAt: null,
      },
    });
    const { backfillId } = answer.body.backfill;

    const list = await get(app, "/api/backfills");
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ backfills: [answer.body.backfill], nextCursor: null });

    const detail = await get(app, `/api/backfills/${backfillId}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toEqual({
      backfill: answer.body.backfill,
      runs: [],
      moreRuns: false,
      failures: [],
      failedRuns: 0,
    });
  });

  test("POST /api/backfills: run config is validated before anything is stored (400 naming the field)", async () => {
    const { instance, app } = await setup();
    const answer = await post(app, "/api/backfills", {
      selection: "taxi/raw",
      partitions: { range: { from: "2024-01-01", to: "2024-01-02" } },
      config: { "taxi/raw": { landing: 5 } },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({
      code: "invalid_config",
      field: expect.stringMatching(/^body\.config/),
    });
    expect(answer.body.error.message).toContain("taxi/raw");
    expect((await instance.storage.listBackfills({ limit: 10 })).backfills).toHaveLength(0);
  });

  test("POST /api/backfills: keys, and `which: missing` after materializing some partitions", async () => {
    const { instance, app } = await setup();
    const keys = await post(app, "/api/backfills", {
      selection: "regional",
      partitions: { keys: ["us", "eu"] },
      singleRun: true,
    });
    expect(keys.status).toBe(201);
    expect(keys.body.backfill).toMatchObject({
      partitionKeys: ["eu", "us"],
      options: { singleRun: true, daemon: true },
    });

    await instance.materialize(defs, {
      selection: "taxi/raw",
      partitions: { range: { from: "2024-01-01", to: "2024-01-08" } },
    });
    const missing = await post(app, "/api/backfills", {
      selection: "taxi/raw",
      partitions: { which: "missing" },
    });
    expect(missing.status).toBe(201);
    expect(missing.body.backfill.partitionKeys).toEqual(["2024-01-09", BAD_DAY]);

    await instance.materialize(defs, { selection: "taxi/raw", partitions: { keys: [BAD_DAY] } });
    const failed = await post(app, "/api/backfills", {
      selection: "taxi/raw",
      partitions: { which: "failed" },
    });
    expect(failed.status).toBe(201);
    expect(failed.body.backfill.partitionKeys).toEqual([BAD_DAY]);
  });

  test("POST /api/backfills: 400 naming the field; core rejections keep status, code and message", async () => {
    const { app } = await setup();
    expectError(
      await post(app, "/api/backfills", { partitions: { which: "all" } }),
      400,
      "invalid_request",
      "body.selection: Invalid input: expected string, received undefined",
      "body.selection",
    );
    expectError(
      await post(app, "/api/backfills", { selection: "taxi/raw", partitions: {} }),
      400,
      "invalid_request",
      "body.partitions: give exactly one of keys, range or which",
      "body.partitions",
    );
    expectError(
      await post(app, "/api/backfills", { selection: "taxi/raw", partitions: { which: "bogus" } }),
      400,
      "invalid_request",
      /^body\.partitions\.which: Invalid option: expected one of "all"\|"missing"\|"failed"\|"stale"/,
      "body.partitions.which",
    );
    expectError(
      await post(app, "/api/backfills", {
        selection: "taxi/raw",
        partitions: { which: "all" },
        chunkSize: 0,
      }),
      400,
      "invalid_request",
      "body.chunkSize: Too small: expected number to be >=1",
      "body.chunkSize",
    );
    expectError(
      await post(app, "/api/backfills", { selection: "taxi/raw", partitions: { which: "all" }, policy: "x" }),
      400,
      "invalid_request",
      'body.policy: Unrecognized key: "policy"',
      "body.policy",
    );
    expectError(
      await post(app, "/api/backfills", { selection: "plain", partitions: { which: "all" } }),
      400,
      "invalid_selection",
      "None of the selected assets is partitioned: launch a run (POST /api/runs) without partitions.",
    );
    expectError(
      await post(app, "/api/backfills", { selection: "taxi/raw", partitions: { keys: ["2024-13-01"] } }),
      400,
      "invalid_partition",
      /^Invalid partition key "2024-13-01" for "taxi\/raw": expected YYYY-MM-DD \(daily, UTC\); nearest valid key: "/,
    );
    expectError(
      await post(app, "/api/backfills", {
        selection: "taxi/raw",
        partitions: { range: { from: "2024-01-05", to: "2024-01-02" } },
      }),
      400,
      "invalid_partition",
      'The partition range is reversed: "2024-01-05" comes after "2024-01-02".',
    );
  });

  test("POST /api/backfills/{id}/cancel: a REQUESTED backfill is CANCELED; again is a 409", async () => {
    const { app } = await setup();
    const created = (
      await post(app, "/api/backfills", { selection: "taxi/raw", partitions: { keys: ["2024-01-02"] } })
    ).body.backfill;
    const cancel = await post(app, `/api/backfills/${created.backfillId}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body.backfill).toMatchObject({
      backfillId: created.backfillId,
      status: "CANCELED",
      endedAt: expect.any(Number),
    });
    expect((await get(app, `/api/backfills/${created.backfillId}`)).body.backfill.status).toBe("CANCELED");
    expectError(
      await post(app, `/api/backfills/${created.backfillId}/cancel`),
      409,
      "conflict",
      `Backfill ${created.backfillId} already ended (CANCELED).`,
    );
  });

  test("GET /api/backfills/{id} with runs; POST …/retry re-runs what failed (201, daemon-driven)", async () => {
    const { instance, app } = await setup();
    const created = await instance.createBackfill(defs, {
      selection: "taxi/raw",
      partitions: { range: { from: "2024-01-08", to: BAD_DAY } },
      chunkSize: 1,
    });
    const ended = await instance.runBackfill(defs, created.backfillId);
    expect(ended.status).toBe("FAILED");

    const detail = await get(app, `/api/backfills/${created.backfillId}`);
    expect(detail.status).toBe(200);
    expect(detail.body.backfill).toMatchObject({
      status: "FAILED",
      counts: { targeted: 3, materialized: 2, failed: 1, runs: 3 },
    });
    expect(
      detail.body.runs
        .map((r: any) => [r.partitionKeys, r.status, r.assetKeys])
        .sort((x: any, y: any) => x[0][0].localeCompare(y[0][0])),
    ).toEqual([
      [["2024-01-08"], "SUCCESS", ["taxi/raw"]],
      [["2024-01-09"], "SUCCESS", ["taxi/raw"]],
      [[BAD_DAY], "FAILURE", ["taxi/raw"]],
    ]);
    expect(detail.body.moreRuns).toBe(false);
    // Why the failed unit failed: its partition, the step and the step's first error.
    const failedRun = detail.body.runs.find((r: any) => r.status === "FAILURE");
    expect(detail.body.failedRuns).toBe(1);
    expect(detail.body.failures).toEqual([
      {
        runId: failedRun.runId,
        assetKeys: ["taxi/raw"],
        partitionKeys: [BAD_DAY],
        kind: "step",
        stepKey: "taxi/raw",
        checkName: null,
        message: `no trips file for ${BAD_DAY}`,
      },
    ]);

    expectError(
      await post(app, `/api/backfills/${created.backfillId}/retry`, { force: "yes" }),
      400,
      "invalid_request",
      "body.force: Invalid input: expected boolean, received string",
      "body.force",
    );
    const retry = await post(app, `/api/backfills/${created.backfillId}/retry`, {});
    expect(retry.status).toBe(201);
    expect(retry.body.backfill).toMatchObject({
      status: "REQUESTED",
      selection: "taxi/raw",
      partitionKeys: ["2024-01-08", "2024-01-09", BAD_DAY],
      options: { parentBackfillId: created.backfillId, daemon: true, chunkSize: 1 },
    });
    expect(retry.body.backfill.backfillId).not.toBe(created.backfillId);

    // The retry is REQUESTED: retrying the retry conflicts until it ends; the original can be forced.
    expectError(
      await post(app, `/api/backfills/${retry.body.backfill.backfillId}/retry`, {}),
      409,
      "conflict",
      `Backfill ${retry.body.backfill.backfillId} is REQUESTED; wait for it to end or cancel it first.`,
    );
    const forced = await post(app, `/api/backfills/${created.backfillId}/retry`, { force: true });
    expect(forced.status).toBe(201);
    expect(forced.body.backfill.options).toMatchObject({ force: true, parentBackfillId: created.backfillId });
  });

  test("POST /api/backfills/{id}/retry of a COMPLETED backfill: 409 unless forced", async () => {
    const { instance, app } = await setup();
    const created = await instance.createBackfill(defs, {
      selection: "regional",
      partitions: { which: "all" },
    });
    expect((await instance.runBackfill(defs, created.backfillId)).status).toBe("COMPLETED");
    expectError(
      await post(app, `/api/backfills/${created.backfillId}/retry`, {}),
      409,
      "conflict",
      `Backfill ${created.backfillId} has nothing left to retry; send { "force": true } to run it all again.`,
    );
    const forced = await post(app, `/api/backfills/${created.backfillId}/retry`, { force: true });
    expect(forced.status).toBe(201);
    expect(forced.body.backfill).toMatchObject({
      status: "REQUESTED",
      partitionKeys: ["eu", "us", "apac"],
      options: { force: true, daemon: true, parentBackfillId: created.backfillId },
    });
    expectError(
      await post(app, `/api/backfills/${created.backfillId}/cancel`),
      409,
      "conflict",
      `Backfill ${created.backfillId} already ended (COMPLETED).`,
    );
  });

  test("GET /api/backfills: paged with cursor; 400 for bad limit and cursor", async () => {
    const { app } = await setup();
    const ids: string[] = [];
    for (const day of ["2024-01-01", "2024-01-02", "2024-01-03"])
      ids.push(
        (await post(app, "/api/backfills", { selection: "taxi/raw", partitions: { keys: [day] } })).body
          .backfill.backfillId,
      );
    const first = await get(app, "/api/backfills?limit=2");
    expect(first.status).toBe(200);
    expect(first.body.backfills.map((b: any) => b.backfillId)).toEqual([ids[2], ids[1]]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const next = await get(app, `/api/backfills?limit=2&cursor=${first.body.nextCursor}`);
    expect(next.body.backfills.map((b: any) => b.backfillId)).toEqual([ids[0]]);
    expect(next.body.nextCursor).toBeNull();

    expectError(
      await get(app, "/api/backfills?limit=0"),
      400,
      "invalid_request",
      "query.limit: Too small: expected number to be >=1",
      "query.limit",
    );
    expectError(
      await get(app, "/api/backfills?cursor=x1"),
      400,
      "invalid_request",
      "query.cursor: must be a cursor from a previous page",
      "query.cursor",
    );
  });

  test("unknown backfills answer 404", async () => {
    const { app } = await setup();
    const message = 'No backfill "no-such-backfill".';
    expectError(await get(app, "/api/backfills/no-such-backfill"), 404, "not_found", message);
    expectError(await post(app, "/api/backfills/no-such-backfill/cancel"), 404, "not_found", message);
    expectError(await post(app, "/api/backfills/no-such-backfill/retry"), 404, "not_found", message);
  });
});

describe("dynamic partitions", () => {
  test("POST /api/partitions/{name}/add|remove: change the key space the API validates against", async () => {
    const { app } = await setup();
    const add = await post(app, "/api/partitions/customers/add", { keys: ["acme", "globex"] });
    expect(add.status).toBe(200);
    expect(add.body).toEqual({ name: "customers", added: ["acme", "globex"] });
    expect((await post(app, "/api/partitions/customers/add", { keys: ["globex", "initech"] })).body).toEqual({
      name: "customers",
      added: ["initech"],
    });
    expect((await get(app, "/api/assets/customer_report/partitions")).body).toMatchObject({
      total: 3,
      counts: { missing: 3 },
    });
    const launch = await post(app, "/api/runs", {
      selection: "customer_report",
      partitions: { keys: ["acme"] },
    });
    expect(launch.status).toBe(201);
    expect(launch.body.run.partitionKeys).toEqual(["acme"]);

    const remove = await post(app, "/api/partitions/customers/remove", { keys: ["acme", "unknown"] });
    expect(remove.status).toBe(200);
    expect(remove.body).toEqual({ name: "customers", removed: ["acme"] });
    expectError(
      await post(app, "/api/runs", { selection: "customer_report", partitions: { keys: ["acme"] } }),
      400,
      "invalid_partition",
      /^Invalid partition key "acme" for "customer_report"/,
    );
  });

  test("POST /api/partitions/{name}/add|remove: 404 for an unknown name, 400 naming the field", async () => {
    const { app } = await setup();
    for (const verb of ["add", "remove"]) {
      expectError(
        await post(app, `/api/partitions/regions/${verb}`, { keys: ["eu"] }),
        404,
        "not_found",
        'No dynamic partitions named "regions" in the definitions.',
      );
      expectError(
        await post(app, `/api/partitions/customers/${verb}`, { keys: [] }),
        400,
        "invalid_request",
        "body.keys: Too small: expected array to have >=1 items",
        "body.keys",
      );
      expectError(
        await post(app, `/api/partitions/customers/${verb}`, { key: "acme" }),
        400,
        "invalid_request",
        "body.keys: Invalid input: expected array, received undefined",
        "body.keys",
      );
    }
  });

  test("POST /api/partitions/{name}/add rejects keys the CLI rejects (one source of truth)", async () => {
    const { instance, app } = await setup();
    for (const [i, key] of ["a/b", " padded", "x|y"].entries()) {
      const answer = await post(app, "/api/partitions/customers/add", { keys: ["fine", key] });
      expect.soft({ key, status: answer.status, field: answer.body.error?.field }).toEqual({
        key,
        status: 400,
        field: "body.keys[1]",
      });
      expect.soft(await instance.storage.getDynamicPartitions("customers"), `after key ${i}`).toEqual([]);
    }
  });
});

describe("content type, read-only mode and routing", () => {
  test("mutations without Content-Type: application/json answer 415", async () => {
    const { instance, app } = await setup();
    const done = await instance.materialize(defs, { selection: "plain" });
    const message = "Send mutations with Content-Type: application/json.";
    for (const url of [
      "/api/runs",
      `/api/runs/${done.runId}/cancel`,
      `/api/runs/${done.runId}/reexecute`,
      "/api/backfills",
      "/api/backfills/x/cancel",
      "/api/backfills/x/retry",
      "/api/automation/nightly/start",
      "/api/automation/nightly/stop",
      "/api/sensors/watcher/cursor/reset",
      "/api/partitions/customers/add",
      "/api/partitions/customers/remove",
    ]) {
      expectError(await call(app, "POST", url), 415, "unsupported_media_type", message);
      expectError(
        await call(app, "POST", url, {
          raw: "selection=plain",
          headers: { "content-type": "application/x-www-form-urlencoded" },
        }),
        415,
        "unsupported_media_type",
        message,
      );
      expectError(
        await call(app, "POST", url, {
          raw: '{"selection":"plain"}',
          headers: { "content-type": "text/plain" },
        }),
        415,
        "unsupported_media_type",
        message,
      );
    }
    expect((await instance.storage.listRuns()).runs).toHaveLength(1);
    // A charset parameter is fine.
    const withCharset = await call(app, "POST", "/api/runs", {
      raw: JSON.stringify({ selection: "plain" }),
      headers: { "content-type": "application/json; charset=utf-8" },
    });
    expect(withCharset.status).toBe(201);
  });

  test("read-only mode: every mutation is a 403, reads work", async () => {
    const { instance, app } = await setup({ readOnly: true });
    const done = await instance.materialize(defs, { selection: "plain" });
    const message = "This webserver is read-only (--read-only).";
    for (const [url, json] of [
      ["/api/runs", { selection: "plain" }],
      [`/api/runs/${done.runId}/cancel`, {}],
      [`/api/runs/${done.runId}/reexecute`, {}],
      ["/api/backfills", { selection: "taxi/raw", partitions: { which: "all" } }],
      ["/api/automation/nightly/start", {}],
      ["/api/automation/nightly/stop", {}],
      ["/api/sensors/watcher/cursor/reset", {}],
      ["/api/partitions/customers/add", { keys: ["acme"] }],
      ["/api/partitions/customers/remove", { keys: ["acme"] }],
    ] as const) {
      expectError(await post(app, url, json), 403, "read_only", message);
    }
    expect((await instance.storage.listRuns()).runs.map((r) => r.runId)).toEqual([done.runId]);
    expect(await instance.storage.getInstigatorState("nightly")).toBeUndefined();
    expect((await get(app, "/api/assets")).status).toBe(200);
    expect((await get(app, `/api/runs/${done.runId}`)).status).toBe(200);
  });

  test("bodies over 2 MB answer 413; CORS is off (no Access-Control-Allow-Origin)", async () => {
    const { instance, app } = await setup();
    const huge = JSON.stringify({
      selection: "plain",
      tags: { pad: "x".repeat(1000) },
      config: { pad: "y".repeat(3 * 1024 * 1024) },
    });
    expectError(
      await call(app, "POST", "/api/runs", { raw: huge }),
      413,
      "too_large",
      "The request body is larger than 2 MB.",
    );
    expect((await instance.storage.listRuns()).runs).toEqual([]);

    const cross = await get(app, "/api/runs", { origin: "https://evil.example" });
    expect(cross.status).toBe(200);
    expect(cross.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await call(app, "OPTIONS", "/api/runs", {
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    expect(preflight.headers.get("access-control-allow-methods")).toBeNull();
  });

  test("unknown routes answer 404 not_found", async () => {
    const { app } = await setup();
    expectError(await get(app, "/api/nope"), 404, "not_found", "No route GET /api/nope");
    expectError(
      await post(app, "/api/runs/x/explode"),
      404,
      "not_found",
      "No route POST /api/runs/x/explode",
    );
    expectError(
      await call(app, "DELETE", "/api/runs", { headers: JSON_TYPE }),
      404,
      "not_found",
      "No route DELETE /api/runs",
    );
  });
});

describe("auth and roles", () => {
  const TOKENS = {
    viewer: "viewer-token-0123456789",
    launcher: "launcher-token-0123456789",
    admin: "admin-token-0123456789ab",
  } as const;
  const auth = {
    tokens: [
      makeToken("ci-viewer", "viewer", TOKENS.viewer),
      makeToken("ci-launcher", "launcher", TOKENS.launcher),
      makeToken("ci-admin", "admin", TOKENS.admin),
    ],
  };
  const as = (role: keyof typeof TOKENS) => ({ authorization: `Bearer ${TOKENS[role]}` });
  const texts: string[] = [];
  const track = (a: Answer) => {
    texts.push(a.text);
    return a;
  };

  test("no header or a wrong token: 401 on every route", async () => {
    const { app } = await setup({ auth });
    for (const [method, url] of [
      ["GET", "/api/health"],
      ["GET", "/api/assets"],
      ["GET", "/api/runs"],
      ["GET", "/api/openapi.json"],
      ["POST", "/api/runs"],
      ["GET", "/api/nope"],
    ] as const) {
      const json = method === "POST" ? { selection: "plain" } : undefined;
      expectError(
        track(await call(app, method, url, json ? { json } : {})),
        401,
        "unauthorized",
        "Send an API token: Authorization: Bearer TOKEN.",
      );
      for (const header of [
        `Bearer ${TOKENS.admin}x`,
        "Bearer not-a-token-at-all",
        `Basic ${TOKENS.admin}`,
      ]) {
        const answer = track(
          await call(app, method, url, { ...(json ? { json } : {}), headers: { authorization: header } }),
        );
        expect(answer.status).toBe(401);
        expect(answer.body.error.code).toBe("unauthorized");
      }
    }
  });

  test("viewer reads everything but gets 403 on launch, cancel, start, stop, backfills", async () => {
    const { instance, app } = await setup({ auth });
    const done = await instance.materialize(defs, { selection: "plain" });
    for (const url of [
      "/api/assets",
      "/api/assets/plain",
      `/api/runs/${done.runId}`,
      "/api/schedules",
      "/api/health",
    ])
      expect(track(await get(app, url, as("viewer"))).status).toBe(200);
    const forbidden = "This needs the launcher role; the token has viewer.";
    const launched = (await post(app, "/api/runs", { selection: "plain" }, as("launcher"))).body.run;
    for (const [url, json] of [
      ["/api/runs", { selection: "plain" }],
      [`/api/runs/${launched.runId}/cancel`, {}],
      [`/api/runs/${done.runId}/reexecute`, {}],
      ["/api/backfills", { selection: "taxi/raw", partitions: { which: "all" } }],
      ["/api/automation/nightly/start", {}],
      ["/api/automation/nightly/stop", {}],
      ["/api/sensors/watcher/cursor/reset", {}],
      ["/api/partitions/customers/add", { keys: ["acme"] }],
    ] as const) {
      const answer = track(await post(app, url, json, as("viewer")));
      expectError(
        answer,
        403,
        "forbidden",
        url.includes("cursor") || url.includes("partitions")
          ? "This needs the admin role; the token has viewer."
          : forbidden,
      );
    }
    expect((await get(app, `/api/runs/${launched.runId}`, as("viewer"))).body.run.status).toBe("QUEUED");
    expect((await instance.storage.listRuns()).runs).toHaveLength(2);
  });

  test("launcher launches, cancels, starts and stops, but gets 403 on cursor reset and partitions", async () => {
    const { instance, app } = await setup({ auth });
    const launch = track(await post(app, "/api/runs", { selection: "plain" }, as("launcher")));
    expect(launch.status).toBe(201);
    expect(launch.body.run.tags).toEqual({ "baton/launched-by": "ci-launcher" });
    const cancel = track(await post(app, `/api/runs/${launch.body.run.runId}/cancel`, {}, as("launcher")));
    expect(cancel.status).toBe(200);
    expect(cancel.body.run.status).toBe("CANCELED");
    expect(track(await post(app, "/api/automation/nightly/start", {}, as("launcher"))).status).toBe(200);
    expect(track(await post(app, "/api/automation/nightly/stop", {}, as("launcher"))).status).toBe(200);
    const backfill = track(
      await post(
        app,
        "/api/backfills",
        { selection: "taxi/raw", partitions: { keys: ["2024-01-01"] } },
        as("launcher"),
      ),
    );
    expect(backfill.status).toBe(201);
    expect(backfill.body.backfill.options.tags).toEqual({ "baton/launched-by": "ci-launcher" });
    expect(
      track(await post(app, `/api/backfills/${backfill.body.backfill.backfillId}/cancel`, {}, as("launcher")))
        .status,
    ).toBe(200);
    const failed = await instance.materialize(defs, { selection: "plain+" });
    expect(track(await post(app, `/api/runs/${failed.runId}/reexecute`, {}, as("launcher"))).status).toBe(
      201,
    );

    const forbidden = "This needs the admin role; the token has launcher.";
    expectError(
      track(await post(app, "/api/sensors/watcher/cursor/reset", {}, as("launcher"))),
      403,
      "forbidden",
      forbidden,
    );
    expectError(
      track(await post(app, "/api/partitions/customers/add", { keys: ["acme"] }, as("launcher"))),
      403,
      "forbidden",
      forbidden,
    );
    expectError(
      track(await post(app, "/api/partitions/customers/remove", { keys: ["acme"] }, as("launcher"))),
      403,
      "forbidden",
      forbidden,
    );
    expect(await instance.storage.getDynamicPartitions("customers")).toEqual([]);
  });

  test("admin can do everything", async () => {
    const { app } = await setup({ auth });
    expect(track(await post(app, "/api/sensors/watcher/cursor/reset", {}, as("admin"))).status).toBe(200);
    expect(
      track(await post(app, "/api/partitions/customers/add", { keys: ["acme"] }, as("admin"))).body,
    ).toEqual({
      name: "customers",
      added: ["acme"],
    });
    expect(
      track(await post(app, "/api/partitions/customers/remove", { keys: ["acme"] }, as("admin"))).body,
    ).toEqual({
      name: "customers",
      removed: ["acme"],
    });
    const launch = track(await post(app, "/api/runs", { selection: "plain" }, as("admin")));
    expect(launch.status).toBe(201);
    expect(launch.body.run.tags["baton/launched-by"]).toBe("ci-admin");
    expect(track(await post(app, `/api/runs/${launch.body.run.runId}/cancel`, {}, as("admin"))).status).toBe(
      200,
    );
    expect(track(await post(app, "/api/automation/watcher/start", {}, as("admin"))).status).toBe(200);
    expect(track(await get(app, "/api/openapi.json", as("admin"))).status).toBe(200);
  });

  test("tokens never appear in any response body", () => {
    expect(texts.length).toBeGreaterThan(40);
    for (const text of texts) for (const token of Object.values(TOKENS)) expect(text).not.toContain(token);
  });

  test("makeToken refuses short tokens and unknown roles", () => {
    expect(() => makeToken("short", "admin", "0123456789abcde")).toThrow(/at least 16 characters/);
    expect(() => makeToken("odd", "root" as never, "0123456789abcdef")).toThrow(/unknown role "root"/);
  });
});

describe("openapi", () => {
  test("GET /api/openapi.json: OpenAPI 3.1 listing the routes with request body schemas", async () => {
    const { app } = await setup();
    const answer = await get(app, "/api/openapi.json");
    expect(answer.status).toBe(200);
    const doc = JSON.parse(answer.text);
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: "Baton API", version: "0.1.0" });
    const paths = doc.paths as Record<string, Record<string, any>>;
    const methods = Object.fromEntries(Object.entries(paths).map(([p, ops]) => [p, Object.keys(ops).sort()]));
    expect(methods).toMatchObject({
      "/api/health": ["get"],
      "/api/assets": ["get"],
      "/api/assets/{key}": ["get"],
      "/api/assets/{key}/partitions": ["get"],
      "/api/assets/{key}/why": ["get"],
      "/api/assets/{key}/materializations": ["get"],
      "/api/assets/{key}/checks": ["get"],
      "/api/assets/{key}/metadata/{name}": ["get"],
      "/api/status": ["get"],
      "/api/jobs": ["get"],
      "/api/resources": ["get"],
      "/api/schedules": ["get"],
      "/api/sensors": ["get"],
      "/api/automation/{name}/ticks": ["get"],
      "/api/automation/{name}/start": ["post"],
      "/api/automation/{name}/stop": ["post"],
      "/api/sensors/{name}/cursor/reset": ["post"],
      "/api/runs": ["get", "post"],
      "/api/runs/{id}": ["get"],
      "/api/runs/{id}/events": ["get"],
      "/api/runs/{id}/logs": ["get"],
      "/api/runs/{id}/cancel": ["post"],
      "/api/runs/{id}/reexecute": ["post"],
      "/api/backfills": ["get", "post"],
      "/api/backfills/{id}": ["get"],
      "/api/backfills/{id}/cancel": ["post"],
      "/api/backfills/{id}/retry": ["post"],
      "/api/partitions/{name}/add": ["post"],
      "/api/partitions/{name}/remove": ["post"],
      "/api/me": ["get"],
      "/api/graph/status": ["get"],
      "/api/assets/{key}/partition-keys": ["get"],
      "/api/events/stream": ["get"],
    });

    const launch = paths["/api/runs"]!.post;
    const schemaRef = launch.requestBody.content["application/json"].schema;
    expect(launch.requestBody.required).toBe(true);
    expect(schemaRef).toEqual({ $ref: "#/components/schemas/LaunchRun" });
    const launchSchema = doc.components.schemas.LaunchRun;
    expect(launchSchema).toMatchObject({
      type: "object",
      required: ["selection"],
      additionalProperties: false,
    });
    expect(Object.keys(launchSchema.properties).sort()).toEqual(
      ["config", "maxRetries", "partitions", "priority", "selection", "tags"].sort(),
    );
    expect(Object.keys(launch.responses)).toContain("201");
    expect(paths["/api/backfills"]!.post.requestBody.content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/CreateBackfill",
    });
    expect(paths["/api/runs"]!.get.parameters.map((p: any) => p.name).sort()).toEqual([
      "asset",
      "backfill",
      "createdAfter",
      "createdBefore",
      "cursor",
      "limit",
      "schedule",
      "sensor",
      "status",
      "tag",
    ]);
    const keyParam = paths["/api/assets/{key}"]!.get.parameters.find((p: any) => p.name === "key");
    expect(keyParam).toMatchObject({ in: "path", required: true });
    expect(doc.components.securitySchemes).toEqual({ bearer: { type: "http", scheme: "bearer" } });
  });

  test("every operation: operationId, summary, bearer security, a named response schema, its error answers; POSTs declare a JSON body", async () => {
    const { app } = await setup();
    const doc = JSON.parse((await get(app, "/api/openapi.json")).text);
    const ids = new Set<string>();
    const problems: string[] = [];
    let operations = 0;
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>))
      for (const [method, op] of Object.entries(ops)) {
        operations++;
        const where = `${method.toUpperCase()} ${path}`;
        if (!op.operationId || ids.has(op.operationId))
          problems.push(`${where}: operationId missing or repeated`);
        ids.add(op.operationId);
        if (!op.summary) problems.push(`${where}: no summary`);
        if (JSON.stringify(op.security) !== JSON.stringify([{ bearer: [] }]))
          problems.push(`${where}: security`);
        const success = Object.keys(op.responses).filter((s) => s.startsWith("2"));
        for (const s of success) {
          const content = op.responses[s].content ?? {};
          const schema = content["application/json"]?.schema ?? content["text/event-stream"]?.schema;
          if (content["application/json"] && !schema?.$ref?.startsWith("#/components/schemas/"))
            problems.push(`${where}: ${s} is not a named schema`);
          if (!schema) problems.push(`${where}: ${s} declares no schema`);
        }
        for (const s of ["401", ...(method === "post" ? ["403", "415"] : [])])
          if (op.responses[s]?.content?.["application/json"]?.schema?.$ref !== "#/components/schemas/Error")
            problems.push(`${where}: no ${s} Error answer`);
        if (method === "post" && !op.requestBody?.content?.["application/json"])
          problems.push(`${where}: no JSON request body`);
      }
    expect(problems).toEqual([]);
    expect(operations).toBe(39);
    expect(doc.components.schemas.Error).toMatchObject({ type: "object", required: ["error"] });
    // No `allOf: [$ref, …]`: the referenced schemas allow no other properties (and no null), so such a
    // combination (what `.nullable()` or `.extend()` of a named zod schema generates) matches nothing.
    const allOfs: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (!node || typeof node !== "object") return;
      const n = node as Record<string, unknown>;
      if (Array.isArray(n.allOf) && n.allOf.some((x: any) => x?.$ref)) allOfs.push(at);
      for (const [k, v] of Object.entries(n)) walk(v, `${at}/${k}`);
    };
    walk(doc, "#");
    expect(allOfs).toEqual([]);
    // Optional bodies are declared optional; `limit` keeps its bounds and default.
    expect(doc.paths["/api/runs/{id}/reexecute"].post.requestBody).toMatchObject({
      required: false,
      content: { "application/json": { schema: { $ref: "#/components/schemas/Reexecute" } } },
    });
    expect(doc.paths["/api/runs/{id}/cancel"].post.requestBody.required).toBe(false);
    const limit = doc.paths["/api/runs"].get.parameters.find((p: any) => p.name === "limit");
    expect(limit.schema).toMatchObject({ type: "integer", minimum: 1, maximum: 1000, default: 50 });
    // The same document without a store (what `npm run lint:openapi` lints).
    expect(openApiDocument()).toEqual(doc);
  });

  test("the suite's response check rejects a body its operation's schema does not describe", async () => {
    const { app } = await setup();
    const me = { name: "local", role: "admin", authRequired: false };
    const check = (body: unknown, status = 200) =>
      checkAnswer(app, "GET", "/api/me", status, "application/json", body);
    expect(() => check(me)).not.toThrow();
    expect(() => check({ ...me, role: "root" })).toThrow(
      /GET \/api\/me answered 200 with a body its schema does not describe:\n {2}at role:/,
    );
    expect(() => check({ ...me, extra: 1 })).toThrow(/Unrecognized key: "extra"/);
    expect(() => check({ name: "local" })).toThrow(/at role/);
    // Error answers are not checked against success schemas; routes nobody declared are refused.
    expect(() => check({ error: { code: "x", message: "y" } }, 401)).not.toThrow();
    expect(() => checkAnswer(app, "GET", "/api/nothing", 200, "application/json", {})).toThrow(
      /no operation declares/,
    );
    expect(operationOf(app, "GET", "/api/assets/taxi%2Fraw/partitions?x=1")?.path).toBe(
      "/api/assets/{key}/partitions",
    );
    expect(operationOf(app, "GET", "/api/graph/status")?.path).toBe("/api/graph/status");
  });
});

// ---------------------------------------------------------------------------------------------
// Core flows on every storage backend

for (const backend of storageBackends()) {
  describe.skipIf(backend.skipReason !== null)(`core flows on ${backend.name}`, () => {
    coreFlows(backend);
  });
}

function coreFlows(backend: StorageBackend): void {
  let location: StorageLocation | undefined;
  beforeAll(() => backend.start());
  afterAll(() => backend.stop());
  beforeEach(async () => {
    location = backend.name === "postgres" ? await backend.createLocation() : undefined;
  });
  afterEach(async () => {
    // Close the instances of this test before dropping its database.
    for (const env of opened.splice(0)) {
      await env.instance.close();
      await rm(env.home, { recursive: true, force: true });
    }
    if (location) await backend.destroyLocation(location);
    location = undefined;
  });
  const open = () => {
    const databaseUrl = location?.options.databaseUrl;
    return setup(databaseUrl ? { databaseUrl } : {});
  };

  test("launch → worker executes → detail, events, logs, partitions, materializations", async () => {
    const { instance, app } = await open();
    expect(instance.storage.dialect).toBe(backend.name);
    expect((await get(app, "/api/health")).body.store.dialect).toBe(backend.name);
    const launch = await post(app, "/api/runs", {
      selection: "taxi/raw",
      partitions: { range: { from: "2024-01-02", to: "2024-01-03" } },
    });
    expect(launch.status).toBe(201);
    const runId = launch.body.run.runId;
    expect((await work(instance, runId)).status).toBe("SUCCESS");

    const detail = await get(app, `/api/runs/${runId}`);
    expect(detail.body.run).toMatchObject({ status: "SUCCESS", partitionKeys: ["2024-01-02", "2024-01-03"] });
    const events = await get(app, `/api/runs/${runId}/events`);
    const ids = events.body.events.map((e: any) => e.id);
    expect(ids).toEqual([...ids].sort((a: number, b: number) => a - b));
    expect(events.body.events[0].type).toBe("run_started");
    expect(events.body.events.at(-1).type).toBe("run_succeeded");
    const logs = await get(app, `/api/runs/${runId}/logs`);
    expect(logs.body.logs.map((l: any) => l.message)).toEqual(["raw 2024-01-02", "raw 2024-01-03"]);
    expect((await get(app, "/api/assets/taxi%2Fraw/partitions")).body.counts).toEqual({
      materialized: 2,
      failed: 0,
      in_progress: 0,
      missing: 8,
    });
    const mats = await get(app, "/api/assets/taxi%2Fraw/materializations");
    expect(mats.body.materializations.map((m: any) => m.partition).sort()).toEqual([
      "2024-01-02",
      "2024-01-03",
    ]);
  });

  test("cancel a queued run, re-execute a failed one, create and cancel a backfill", async () => {
    const { instance, app } = await open();
    const launch = await post(app, "/api/runs", { selection: "plain" });
    expect((await post(app, `/api/runs/${launch.body.run.runId}/cancel`)).body.run.status).toBe("CANCELED");
    expect((await post(app, `/api/runs/${launch.body.run.runId}/cancel`)).status).toBe(409);

    const failed = await instance.materialize(defs, { selection: "plain+" });
    const again = await post(app, `/api/runs/${failed.runId}/reexecute`, { fromFailure: true });
    expect(again.status).toBe(201);
    expect(again.body.run).toMatchObject({ assetKeys: ["flaky"], parentRunId: failed.runId });

    const backfill = await post(app, "/api/backfills", {
      selection: "taxi/raw",
      partitions: { range: { from: "2024-01-01", to: "2024-01-03" } },
    });
    expect(backfill.status).toBe(201);
    expect(backfill.body.backfill).toMatchObject({ status: "REQUESTED", options: { daemon: true } });
    const cancel = await post(app, `/api/backfills/${backfill.body.backfill.backfillId}/cancel`);
    expect(cancel.body.backfill.status).toBe("CANCELED");
    expect((await get(app, "/api/runs?status=QUEUED")).body.runs.map((r: any) => r.runId)).toEqual([
      again.body.run.runId,
    ]);
  });
}

// ---------------------------------------------------------------------------------------------

describe("the whole suite", () => {
  test("no route answered 5xx (other than 503 no_definitions) to anything this file sent", () => {
    expect(answered.length).toBeGreaterThan(200);
    const errors = answered.filter((a) => a.status >= 500 && a.code !== "no_definitions");
    expect(errors).toEqual([]);
  });
});
