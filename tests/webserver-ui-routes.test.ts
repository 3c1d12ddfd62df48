/**
 * The routes the UI needs beyond the resource routes: GET /api/me, GET /api/graph/status,
 * GET /api/assets/{key}/partition-keys, and the `dimensions` of GET /api/assets/{key}/partitions,
 * through `app.request()` on the BUILT packages (run `npm run build` first) with a real SQLite store
 * and runs that really execute. Every 2xx answer is validated against the operation's declared
 * response schema (tests/support/api-responses.ts).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  asset,
  assetCheck,
  type BatonInstance,
  dailyPartitions,
  defineDefinitions,
  hourlyPartitions,
  multiPartitions,
  openInstance,
  publishSnapshot,
  staticPartitions,
} from "@baton/core/internal";
import { type AppOptions, createApp, makeToken } from "@baton/webserver";
import { afterEach, describe, expect, test } from "vitest";
import { checkAnswer } from "./support/api-responses.js";

const DAYS = dailyPartitions({ start: "2024-01-01", end: "2024-01-06" }); // 5 days
/** About a million hourly partitions (1910-01-01 … 2024-01-01). */
const HOURS = hourlyPartitions({ start: "1910-01-01", end: "2024-01-01" });
const GRID = multiPartitions({
  letter: staticPartitions(["a", "b", "c"]),
  axis: staticPartitions(["x", "y"]),
});

const up = asset({ key: "up", freshness: { maxLagMinutes: 60 } }, async () => 1);
const down = asset({ key: "down", deps: ["up"] }, async () => 2);
const broken = asset({ key: "broken" }, async (): Promise<number> => {
  throw new Error("broken on purpose");
});
const checked = asset({ key: "checked" }, async () => 3);
const alwaysFails = assetCheck({ asset: checked, name: "always_fails" }, () => ({ passed: false }));
const late = asset({ key: "late", freshness: { maxLagMinutes: 5 } }, async () => 4);
const never = asset({ key: "never" }, async () => 5);
const days = asset({ key: "days", partitions: DAYS }, async (ctx) =>
  Object.fromEntries(ctx.partitionKeys.map((k) => [k, 1])),
);
const hours = asset({ key: "hours", partitions: HOURS }, async () => 1);
const grid = asset({ key: "grid", partitions: GRID }, async (ctx) => ctx.partitionKey);
/** 1,440 hours × 2 kinds: the hour dimension is too large to list inline in /partitions. */
const wide = asset(
  {
    key: "wide",
    partitions: multiPartitions({
      hour: hourlyPartitions({ start: "2024-01-01", end: "2024-03-01" }),
      kind: staticPartitions(["a", "b"]),
    }),
  },
  async (ctx) => ctx.partitionKey,
);

const defs = defineDefinitions({
  assets: [up, down, broken, checked, late, never, days, hours, grid, wide],
  checks: [alwaysFails],
});

type App = ReturnType<typeof createApp>;
const opened: { home: string; instance: BatonInstance }[] = [];
afterEach(async () => {
  for (const env of opened.splice(0)) {
    await env.instance.close();
    await rm(env.home, { recursive: true, force: true });
  }
});

async function setup(options: Omit<AppOptions, "instance"> = {}) {
  const home = await mkdtemp(path.join(tmpdir(), "baton-ui-routes-"));
  const instance = await openInstance({ home, env: {} });
  opened.push({ home, instance });
  await publishSnapshot(instance.storage, defs);
  return { instance, app: createApp({ instance, ...options }) };
}

async function get(app: App, url: string, headers: Record<string, string> = {}) {
  const res = await app.request(url, { headers });
  const text = await res.text();
  const body = text ? JSON.parse(text) : undefined;
  checkAnswer(app, "GET", url, res.status, res.headers.get("content-type"), body);
  return { status: res.status, body };
}

const status = (s: Record<string, unknown>) => ({
  lastMaterializedAt: null,
  lastRunId: null,
  running: false,
  queued: false,
  failed: false,
  stale: false,
  overdue: false,
  checks: { passed: 0, failed: 0 },
  partitions: null,
  ...s,
});

describe("GET /api/me", () => {
  test("no tokens: the local admin, auth not required", async () => {
    const { app } = await setup();
    expect(await get(app, "/api/me")).toEqual({
      status: 200,
      body: { name: "local", role: "admin", authRequired: false },
    });
  });

  test("with tokens: the token's name and role; 401 without a valid token", async () => {
    const token = "viewer-token-0123456789";
    const { app } = await setup({ auth: { tokens: [makeToken("dashboard", "viewer", token)] } });
    expect(await get(app, "/api/me", { authorization: `Bearer ${token}` })).toEqual({
      status: 200,
      body: { name: "dashboard", role: "viewer", authRequired: true },
    });
    expect(await get(app, "/api/me")).toEqual({
      status: 401,
      body: { error: { code: "unauthorized", message: "Send an API token: Authorization: Bearer TOKEN." } },
    });
    expect(await get(app, "/api/me", { authorization: "Bearer not-the-token-at-all" })).toEqual({
      status: 401,
      body: { error: { code: "unauthorized", message: "This API token is not valid." } },
    });
  });
});

describe("GET /api/graph/status", () => {
  test("every asset's headline status and flags, updated by events and by run state changes", async () => {
    const { instance, app } = await setup();
    const empty = await get(app, "/api/graph/status");
    expect(empty.status).toBe(200);
    expect(empty.body.eventId).toBe(0);
    expect(Object.keys(empty.body.assets).sort()).toEqual(
      ["broken", "checked", "days", "down", "grid", "hours", "late", "never", "up", "wide"].sort(),
    );
    expect(empty.body.assets.never).toEqual(status({ status: "missing" }));
    // Never materialized with a freshness policy: overdue (before missing).
    expect(empty.body.assets.late).toEqual(status({ status: "overdue", overdue: true }));
    expect(empty.body.assets.days).toEqual(
      status({
        status: "missing",
        partitions: { total: 5, materialized: 0, failed: 0, missing: 5, inProgress: 0 },
      }),
    );

    const first = await instance.materialize(defs, { selection: "up+" });
    const again = await instance.materialize(defs, { selection: "up" });
    const bad = await instance.materialize(defs, { selection: "broken" });
    const chk = await instance.materialize(defs, { selection: "checked" });
    const part = await instance.materialize(defs, {
      selection: "days",
      partitions: { range: { from: "2024-01-01", to: "2024-01-02" } },
    });
    expect([first, again, bad, chk, part].map((r) => r.status)).toEqual([
      "SUCCESS",
      "SUCCESS",
      "FAILURE",
      "SUCCESS",
      "SUCCESS",
    ]);

    const after = await get(app, "/api/graph/status");
    expect(after.body.eventId).toBe(await instance.storage.latestEventId());
    const a = after.body.assets;
    expect(a.up).toEqual(
      status({ status: "materialized", lastMaterializedAt: expect.any(Number), lastRunId: again.runId }),
    );
    // Its upstream was materialized again after it.
    expect(a.down).toEqual(
      status({
        status: "stale",
        stale: true,
        lastMaterializedAt: expect.any(Number),
        lastRunId: first.runId,
      }),
    );
    expect(a.broken).toEqual(status({ status: "failed", failed: true, lastRunId: bad.runId }));
    expect(a.checked).toEqual(
      status({
        status: "check_failed",
        checks: { passed: 0, failed: 1 },
        lastMaterializedAt: expect.any(Number),
        lastRunId: chk.runId,
      }),
    );
    expect(a.days).toEqual(
      status({
        status: "materialized",
        lastMaterializedAt: expect.any(Number),
        lastRunId: part.runId,
        partitions: { total: 5, materialized: 2, failed: 0, missing: 3, inProgress: 0 },
      }),
    );

    // Incremental updates: re-materializing `down` makes it fresh; then `up` again makes it stale.
    const fix = await instance.materialize(defs, { selection: "down" });
    expect((await get(app, "/api/graph/status")).body.assets.down).toMatchObject({
      status: "materialized",
      stale: false,
      lastRunId: fix.runId,
    });
    await instance.materialize(defs, { selection: "up" });
    expect((await get(app, "/api/graph/status")).body.assets.down).toMatchObject({
      status: "stale",
      stale: true,
    });

    // Queued, then claimed by a worker (STARTING): no event is written, the answer still changes.
    const launched = await instance.launchRun(defs, { selection: "never" });
    const queued = await get(app, "/api/graph/status");
    expect(queued.body.assets.never).toEqual(
      status({ status: "queued", queued: true, lastRunId: launched.runId }),
    );
    await instance.storage.claimRuns({ workerId: "w", limit: 1, now: Date.now() });
    const running = await get(app, "/api/graph/status");
    expect(running.body.assets.never).toEqual(
      status({ status: "running", running: true, lastRunId: launched.runId }),
    );
    // A run in progress outranks an earlier failure.
    await instance.launchRun(defs, { selection: "broken" });
    expect((await get(app, "/api/graph/status")).body.assets.broken).toMatchObject({
      status: "queued",
      queued: true,
      failed: true,
    });
  });

  test("an update spanning more events than one store read (5,000) still sees the last ones", async () => {
    const { instance, app } = await setup();
    await instance.materialize(defs, { selection: "up+" });
    expect((await get(app, "/api/graph/status")).body.assets.down.status).toBe("materialized");
    const storage = instance.storage;
    await storage.createRun({
      runId: "bulk",
      status: "STARTED",
      selection: "up",
      assetKeys: ["up"],
      config: {},
      tags: {},
      createdAt: Date.now(),
    });
    const log = (i: number) => ({
      type: "log" as const,
      runId: "bulk",
      timestamp: Date.now(),
      level: "info" as const,
      message: `line ${i}`,
      source: "logger" as const,
    });
    for (let i = 0; i < 5500; i += 1000)
      await storage.appendEvents(Array.from({ length: Math.min(1000, 5500 - i) }, (_, j) => log(i + j)));
    await storage.appendEvents([
      {
        type: "materialization",
        runId: "bulk",
        timestamp: Date.now(),
        stepKey: "up",
        assetKey: "up",
        metadata: {},
      },
    ]);
    const after = await get(app, "/api/graph/status");
    expect(after.body.eventId).toBe(await storage.latestEventId());
    expect(after.body.assets.down).toMatchObject({ status: "stale", stale: true });
  });

  test("503 before any definitions are published", async () => {
    const home = await mkdtemp(path.join(tmpdir(), "baton-ui-routes-"));
    const instance = await openInstance({ home, env: {} });
    opened.push({ home, instance });
    const answer = await get(createApp({ instance }), "/api/graph/status");
    expect(answer.status).toBe(503);
    expect(answer.body.error.code).toBe("no_definitions");
  });
});

describe("GET /api/assets/{key}/partition-keys", () => {
  test("a page of keys in index order; q filters case-insensitively", async () => {
    const { app } = await setup();
    expect((await get(app, "/api/assets/days/partition-keys")).body).toEqual({
      total: 5,
      offset: 0,
      keys: ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"],
      truncated: false,
      dimensions: null,
    });
    expect((await get(app, "/api/assets/days/partition-keys?offset=3&limit=5")).body).toMatchObject({
      total: 5,
      offset: 3,
      keys: ["2024-01-04", "2024-01-05"],
    });
    expect((await get(app, "/api/assets/days/partition-keys?q=01-0&offset=1&limit=2")).body).toEqual({
      total: 5,
      offset: 1,
      keys: ["2024-01-02", "2024-01-03"],
      truncated: false,
      dimensions: null,
    });
    expect((await get(app, "/api/assets/days/partition-keys?q=-05")).body).toMatchObject({
      total: 1,
      keys: ["2024-01-05"],
    });
    expect((await get(app, "/api/assets/grid/partition-keys?q=B")).body).toEqual({
      total: 2,
      offset: 0,
      keys: ["b|x", "b|y"],
      truncated: false,
      dimensions: [
        { name: "letter", size: 3, keys: ["a", "b", "c"] },
        { name: "axis", size: 2, keys: ["x", "y"] },
      ],
    });
  });

  test("a million partitions: paged from the end; a search stops at its scan bound with truncated: true", async () => {
    const { app } = await setup();
    const head = await get(app, "/api/assets/hours/partition-keys?limit=2");
    const total = head.body.total as number;
    expect(total).toBeGreaterThan(990_000);
    expect(head.body.keys).toEqual(["1910-01-01-00:00", "1910-01-01-01:00"]);
    const tail = await get(app, `/api/assets/hours/partition-keys?offset=${total - 1}`);
    expect(tail.body.keys).toEqual(["2023-12-31-23:00"]);
    const search = await get(app, "/api/assets/hours/partition-keys?q=2023-12-31&limit=3");
    // The scan bound (200,000 keys) ends in the 1930s: nothing from 2023 found, and it says so.
    expect(search.body).toMatchObject({ total: 0, keys: [], truncated: true });
    const early = await get(app, "/api/assets/hours/partition-keys?q=1910-01-02-0&limit=3");
    expect(early.body).toMatchObject({
      total: 10,
      keys: ["1910-01-02-00:00", "1910-01-02-01:00", "1910-01-02-02:00"],
      truncated: true,
    });
  });

  test("409 for unpartitioned assets, 404 for unknown ones, 400 naming the query field", async () => {
    const { app } = await setup();
    expect(await get(app, "/api/assets/up/partition-keys")).toEqual({
      status: 409,
      body: { error: { code: "not_partitioned", message: 'Asset "up" is not partitioned.' } },
    });
    expect(await get(app, "/api/assets/nope/partition-keys")).toEqual({
      status: 404,
      body: { error: { code: "not_found", message: 'No asset "nope" in the definitions.' } },
    });
    for (const [query, field] of [
      ["limit=0", "query.limit"],
      ["limit=1001", "query.limit"],
      ["offset=-1", "query.offset"],
      ["offset=x", "query.offset"],
      [`q=${"q".repeat(201)}`, "query.q"],
      ["sort=asc", "query.sort"],
    ] as const) {
      const answer = await get(app, `/api/assets/days/partition-keys?${query}`);
      expect({
        query,
        status: answer.status,
        code: answer.body.error.code,
        field: answer.body.error.field,
      }).toEqual({
        query,
        status: 400,
        code: "invalid_request",
        field,
      });
    }
  });
});

describe("GET /api/assets/{key}/partitions: dimensions", () => {
  test("multi partitions list their dimensions; a range index is row-major (index = i0 * size1 + i1)", async () => {
    const { instance, app } = await setup();
    const run = await instance.materialize(defs, { selection: "grid", partitions: { keys: ["b|y"] } });
    expect(run.status).toBe("SUCCESS");
    const answer = await get(app, "/api/assets/grid/partitions");
    expect(answer.status).toBe(200);
    expect(answer.body.dimensions).toEqual([
      { name: "letter", size: 3, keys: ["a", "b", "c"] },
      { name: "axis", size: 2, keys: ["x", "y"] },
    ]);
    // b is letter 1, y is axis 1: index 1 * 2 + 1 = 3.
    expect(answer.body.ranges).toEqual([
      { status: "missing", start: 0, end: 2, startKey: "a|x", endKey: "b|x" },
      { status: "materialized", start: 3, end: 3, startKey: "b|y", endKey: "b|y" },
      { status: "missing", start: 4, end: 5, startKey: "c|x", endKey: "c|y" },
    ]);
    expect((await get(app, "/api/assets/days/partitions")).body.dimensions).toBeNull();
  });

  test("a dimension over 1,000 keys is listed by size only in /partitions, in full in /partition-keys", async () => {
    const { app } = await setup();
    const status = await get(app, "/api/assets/wide/partitions");
    expect(status.body.total).toBe(2880);
    expect(status.body.dimensions).toEqual([
      { name: "hour", size: 1440 },
      { name: "kind", size: 2, keys: ["a", "b"] },
    ]);
    const keys = await get(app, "/api/assets/wide/partition-keys?offset=2&limit=3");
    expect(keys.body.keys).toEqual(["2024-01-01-01:00|a", "2024-01-01-01:00|b", "2024-01-01-02:00|a"]);
    expect(keys.body.dimensions[0].keys).toHaveLength(1440);
    expect(keys.body.dimensions[0].keys.at(-1)).toBe("2024-02-29-23:00");
  });
});
