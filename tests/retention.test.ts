/**
 * Event-log retention (storage/kysely-retention.ts, `baton instance purge`, the daemon's retention
 * task), on every storage backend (SQLite and a throwaway Postgres; BATON_TEST_STORAGE selects):
 *
 * - what a purge deletes (ended runs' step events and logs, old ticks and automation decisions) and
 *   what it keeps (run rows, run-level events, step outcomes, the latest materialization of every
 *   asset and asset partition and the latest result of every check, whatever their age; runs in
 *   progress), read back from the store;
 * - a dry run deletes nothing and counts exactly what the purge then deletes; bounded statements
 *   and cancellation;
 * - after purging every ended run, every webserver API for assets, runs and partitions answers, and
 *   status answers (asset status, partitions, checks, graph status) are unchanged;
 * - the daemon task purges when due by its clock, and again after `every`;
 * - the built CLI: dry run and --execute output, --json, a bad duration naming its flag, and a bad
 *   `retention` block naming the field and file (SQLite; the CLI code is dialect-free).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  asset,
  assetCheck,
  type BatonInstance,
  createDaemon,
  type Definitions,
  defineDefinitions,
  openInstance,
  publishSnapshot,
  staticPartitions,
} from "@baton/core/internal";
import { createApp } from "@baton/webserver";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunEvent, RunEventBody } from "../packages/core/src/execution/events.js";
import { openStorage } from "../packages/core/src/storage/open-storage.js";
import type { PurgeCounts, Storage } from "../packages/core/src/storage/storage.js";
import { cliHarness, ROOT } from "./support/cli.js";
import { killGroup, spawnBaton, stderrShows, waitFor } from "./support/processes.js";
import { type StorageLocation, storageBackends } from "./support/storage-backends.js";

const DAY = 86_400_000;
const NOW = Date.now();
const OLD = NOW - 40 * DAY;
const CUTOFF = NOW - 30 * DAY;

const ev = (runId: string, timestamp: number, body: RunEventBody): RunEvent => ({
  ...body,
  runId,
  timestamp,
});

function mat(runId: string, at: number, assetKey: string, partition?: [string, number]): RunEvent {
  return ev(runId, at, {
    type: "materialization",
    stepKey: assetKey,
    assetKey,
    metadata: { rows: { type: "row_count", value: at % 1000 } },
    dataVersion: `dv-${runId}`,
    ...(partition ? { partition: partition[0], partitionIndex: partition[1] } : {}),
  });
}

function check(runId: string, at: number, assetKey: string, name: string, passed: boolean): RunEvent {
  return ev(runId, at, {
    type: "check_evaluation",
    stepKey: `${assetKey}:${name}`,
    assetKey,
    checkName: name,
    passed,
    blocking: false,
    severity: "ERROR",
    metadata: {},
  });
}

const log = (runId: string, at: number, message: string): RunEvent =>
  ev(runId, at, {
    type: "log",
    stepKey: "a",
    level: "info",
    message: `${message} ${"x".repeat(200)}`,
    source: "logger",
  });

/** A run through its events: started at `at`, one step per asset key, the extra events, then its end. */
async function runWith(
  store: Storage,
  runId: string,
  at: number,
  assetKeys: readonly string[],
  middle: readonly RunEvent[],
  end: "run_succeeded" | "run_failed" | null,
) {
  await store.createRun({
    runId,
    status: "QUEUED",
    selection: assetKeys.join(","),
    assetKeys,
    config: {},
    tags: {},
    createdAt: at,
  });
  const steps = assetKeys.map((k) => ({ stepKey: k, kind: "asset" as const, assetKeys: [k] }));
  const events: RunEvent[] = [ev(runId, at, { type: "run_started", steps })];
  for (const k of assetKeys)
    events.push(
      ev(runId, at + 1, { type: "step_started", stepKey: k, kind: "asset", assetKeys: [k], attempt: 1 }),
    );
  events.push(...middle);
  for (const k of assetKeys) {
    events.push(ev(runId, at + 50, { type: "op_started", stepKey: k, op: k }));
    events.push(ev(runId, at + 90, { type: "step_succeeded", stepKey: k, durationMs: 89 }));
  }
  if (end === "run_succeeded") events.push(ev(runId, at + 100, { type: "run_succeeded" }));
  if (end === "run_failed") events.push(ev(runId, at + 100, { type: "run_failed", reason: "boom" }));
  await store.appendEvents(events);
}

/**
 * The store the storage tests purge (timestamps relative to NOW; cutoff NOW - 30 days):
 * - old1 (ended 40 days ago): a[p1], u, check a:c1, 3 logs — all superseded by later runs.
 * - old2 (ended 39 days ago): a[p1] again and a[p2] (the latest of each partition: kept), u
 *   (superseded by recent), check a:c1 (the latest: kept), 2 logs.
 * - recent (ended 1 day ago): u (latest), 2 logs: untouched.
 * - inflight (started 40 days ago, not ended): 2 logs: untouched.
 */
async function buildStore(store: Storage) {
  await runWith(
    store,
    "old1",
    OLD,
    ["a", "u"],
    [
      mat("old1", OLD + 10, "a", ["p1", 0]),
      mat("old1", OLD + 11, "u"),
      check("old1", OLD + 12, "a", "c1", false),
      log("old1", OLD + 13, "one"),
      log("old1", OLD + 14, "two"),
      log("old1", OLD + 15, "three"),
    ],
    "run_succeeded",
  );
  const o2 = OLD + DAY;
  await runWith(
    store,
    "old2",
    o2,
    ["a", "u"],
    [
      mat("old2", o2 + 10, "a", ["p1", 0]),
      mat("old2", o2 + 11, "a", ["p2", 1]),
      mat("old2", o2 + 12, "u"),
      check("old2", o2 + 13, "a", "c1", true),
      log("old2", o2 + 14, "one"),
      log("old2", o2 + 15, "two"),
    ],
    "run_failed",
  );
  const r = NOW - DAY;
  await runWith(
    store,
    "recent",
    r,
    ["u"],
    [mat("recent", r + 10, "u"), log("recent", r + 11, "one"), log("recent", r + 12, "two")],
    "run_succeeded",
  );
  await runWith(
    store,
    "inflight",
    OLD,
    ["u"],
    [log("inflight", OLD + 5, "one"), log("inflight", OLD + 6, "two")],
    null,
  );
  // Ticks: sensor s (3 old, 1 recent), schedule d (2 old only: its newest is kept).
  for (const [name, kind, at] of [
    ["s", "sensor", OLD],
    ["s", "sensor", OLD + 1],
    ["d", "schedule", OLD + 2],
    ["s", "sensor", OLD + 3],
    ["d", "schedule", OLD + 4],
    ["s", "sensor", NOW - DAY],
  ] as const)
    await store.addTick({
      name,
      kind,
      timestamp: at,
      status: "SKIPPED",
      runIds: [],
      skipReason: "nothing",
      error: null,
      cursor: null,
      durationMs: 1,
    });
  // Automation decisions: a (3 old: newest kept), u (2 old, 1 recent).
  const decision = (assetKey: string, at: number) => ({
    assetKey,
    timestamp: at,
    condition: "eager",
    launched: false,
    reason: "up to date",
    partitionKeys: null,
    runId: null,
  });
  await store.addAutomationEvaluations([
    decision("a", OLD),
    decision("u", OLD + 1),
    decision("a", OLD + 2),
    decision("u", OLD + 3),
    decision("a", OLD + 4),
    decision("u", NOW - DAY),
  ]);
}

/** Expected counts for purging buildStore's store at CUTOFF. */
const EXPECTED: PurgeCounts = {
  // old1: step_started×2, op_started×2, a[p1], u, c1 = 7 (+3 logs); old2: step_started×2, op_started×2, u = 5 (+2 logs)
  runs: 2,
  events: 12,
  logs: 5,
  ticks: 4,
  automationEvaluations: 4,
};

const ALL = { eventsBefore: CUTOFF, ticksBefore: CUTOFF, automationBefore: CUTOFF };

async function eventTypes(store: Storage, runId: string) {
  return (await store.getEvents(runId)).map((e) =>
    e.type === "materialization" ? `mat:${e.assetKey}${e.partition ? `[${e.partition}]` : ""}` : e.type,
  );
}

/** Everything status reads, to compare before and after a purge. */
async function statusView(store: Storage) {
  return {
    assets: await store.getAssetStatuses(),
    partitions: await store.getPartitions("a"),
    ranges: await store.getPartitionRanges("a"),
    checks: await store.getLatestCheckResults(),
    ended: (await store.listEndedRuns()).runs.map((r) => [r.runId, r.status, r.endedAt]),
    runs: (await store.listRuns()).runs.map((r) => [r.runId, r.status]),
  };
}

for (const backend of storageBackends()) {
  describe.skipIf(backend.skipReason !== null)(`retention: ${backend.name}`, () => {
    let location: StorageLocation;
    let store: Storage;
    beforeAll(() => backend.start(), 60_000);
    afterAll(() => backend.stop(), 60_000);
    beforeEach(async () => {
      location = await backend.createLocation();
      store = await openStorage(location.options);
    }, 30_000);
    afterEach(async () => {
      await store.close();
      await backend.destroyLocation(location);
    }, 30_000);

    it("a dry run counts exactly what the purge deletes, and deletes nothing", async () => {
      await buildStore(store);
      const before = await store.latestEventId();
      const eventsBefore = await store.getEventsAfter(0, { limit: 5000 });
      const dry = await store.purge({ ...ALL, dryRun: true });
      expect(dry).toEqual({ ...EXPECTED, canceled: false });
      expect(await store.getEventsAfter(0, { limit: 5000 })).toEqual(eventsBefore);
      expect(await store.latestEventId()).toBe(before);
      expect((await store.listTicks("s")).length).toBe(4);
      expect((await store.listAutomationEvaluations()).length).toBe(6);

      const done = await store.purge(ALL);
      expect(done).toEqual({ ...EXPECTED, canceled: false });
      expect((await store.getEventsAfter(0, { limit: 5000 })).length).toBe(
        eventsBefore.length - EXPECTED.events - EXPECTED.logs,
      );
      // Nothing left to purge: a second purge (the daemon's next pass) deletes nothing.
      expect(await store.purge({ ...ALL, dryRun: true })).toEqual({
        runs: 0,
        events: 0,
        logs: 0,
        ticks: 0,
        automationEvaluations: 0,
        canceled: false,
      });
      expect(await store.purge(ALL)).toMatchObject({
        events: 0,
        logs: 0,
        ticks: 0,
        automationEvaluations: 0,
      });
    }, 60_000);

    it("keeps run rows, run-level events, step outcomes, the latest materialization per partition and check; runs in progress untouched", async () => {
      await buildStore(store);
      const view = await statusView(store);
      const recentBefore = await store.getEvents("recent");
      const inflightBefore = await store.getEvents("inflight");
      await store.purge(ALL);

      expect(await eventTypes(store, "old1")).toEqual([
        "run_started",
        "step_succeeded",
        "step_succeeded",
        "run_succeeded",
      ]);
      // old2's a[p1], a[p2] are their partitions' latest and c1 is the check's latest, 39 days old: kept.
      expect(await eventTypes(store, "old2")).toEqual([
        "run_started",
        "mat:a[p1]",
        "mat:a[p2]",
        "check_evaluation",
        "step_succeeded",
        "step_succeeded",
        "run_failed",
      ]);
      expect(await store.getEvents("recent")).toEqual(recentBefore);
      expect(await store.getEvents("inflight")).toEqual(inflightBefore);
      expect((await store.getRun("inflight"))?.status).toBe("STARTED");

      // Status reads the same; every event id a status row points at still resolves.
      expect(await statusView(store)).toEqual(view);
      const pointed = [
        ...view.assets.map((s) => s.lastMaterialization?.eventId),
        ...view.partitions.map((p) => p.lastMaterialization?.eventId),
        ...view.checks.map((c) => c.eventId),
      ].filter((id): id is number => id !== undefined);
      expect(pointed.length).toBe(5); // a, u, a[p1], a[p2], a:c1
      const stored = new Set((await store.getEventsAfter(0, { limit: 5000 })).map((e) => e.id));
      for (const id of pointed) expect(stored.has(id), `event ${id} a status row points at`).toBe(true);
      // The asset page's latest materialization of a partition older than the cutoff is still there.
      const [p2] = await store.getMaterializations("a", { partition: "p2" });
      expect(p2).toMatchObject({ runId: "old2", partition: "p2" });
      const [p1] = await store.getMaterializations("a", { partition: "p1" });
      expect(p1).toMatchObject({ runId: "old2", partition: "p1" });
      expect((await store.getCheckEvaluations("a")).map((e) => e.runId)).toEqual(["old2"]);

      // Ticks: the newest of each instigator stays, and everything after the cutoff.
      expect((await store.listTicks("s")).map((t) => t.timestamp)).toEqual([NOW - DAY]);
      expect((await store.listTicks("d")).map((t) => t.timestamp)).toEqual([OLD + 4]);
      const decisions = await store.listAutomationEvaluations();
      expect(decisions.map((d) => [d.assetKey, d.timestamp])).toEqual([
        ["u", NOW - DAY],
        ["a", OLD + 4],
      ]);
    }, 60_000);

    it("deletes in bounded statements, reports progress, and stops between statements when canceled", async () => {
      await buildStore(store);
      const progress: PurgeCounts[] = [];
      const controller = new AbortController();
      const first = await store.purge({
        ...ALL,
        batchSize: 2,
        signal: controller.signal,
        onProgress: (c) => {
          progress.push(c);
          if (progress.length === 2) controller.abort();
        },
      });
      expect(first.canceled).toBe(true);
      // Two statements of at most 2 rows each ran before the stop.
      expect(first.events + first.logs).toBe(4);
      expect(progress.map((c) => c.events + c.logs)).toEqual([2, 4]);
      const rest = await store.purge({ ...ALL, batchSize: 2 });
      expect(rest.canceled).toBe(false);
      expect(first.events + rest.events).toBe(EXPECTED.events);
      expect(first.logs + rest.logs).toBe(EXPECTED.logs);
      expect(rest.ticks).toBe(EXPECTED.ticks);
      expect(rest.automationEvaluations).toBe(EXPECTED.automationEvaluations);
      expect(await store.purge({ ...ALL, dryRun: true })).toMatchObject({
        events: 0,
        logs: 0,
        ticks: 0,
        automationEvaluations: 0,
      });
    }, 60_000);

    it("lets the process's other work run between statements (a daemon purging keeps its loops going)", async () => {
      await buildStore(store);
      // better-sqlite3 is synchronous: without a yield between statements, a timer due during the
      // purge (the daemon's lease renewal, its monitor loop) waits for the whole purge.
      let timerRan = false;
      const timer = setTimeout(() => {
        timerRan = true;
      }, 0);
      const seen: boolean[] = [];
      await store.purge({ ...ALL, batchSize: 1, onProgress: () => seen.push(timerRan) });
      clearTimeout(timer);
      expect(seen.length).toBeGreaterThan(10);
      expect(seen.slice(-3)).toEqual([true, true, true]);
    }, 60_000);

    it("only the kinds given a cutoff are purged", async () => {
      await buildStore(store);
      expect(await store.purge({ ticksBefore: CUTOFF })).toEqual({
        runs: 0,
        events: 0,
        logs: 0,
        ticks: 4,
        automationEvaluations: 0,
        canceled: false,
      });
      expect(await store.purge({ eventsBefore: CUTOFF, dryRun: true })).toMatchObject({
        events: EXPECTED.events,
        logs: EXPECTED.logs,
        ticks: 0,
      });
      expect((await store.listAutomationEvaluations()).length).toBe(6);
    }, 60_000);

    it("vacuum runs after a purge and the store stays readable", async () => {
      await buildStore(store);
      await store.purge(ALL);
      await store.vacuum();
      expect(await eventTypes(store, "old1")).toEqual([
        "run_started",
        "step_succeeded",
        "step_succeeded",
        "run_succeeded",
      ]);
    }, 60_000);

    it("the daemon task purges when due by its clock, and again after `every`", async () => {
      await store.close();
      const home = await mkdtemp(path.join(tmpdir(), "baton-retention-daemon-"));
      const instance = await openInstance({ home, env: {}, ...databaseOf(location) });
      try {
        store = instance.storage;
        await buildStore(store);
        let now = NOW;
        const lines: string[] = [];
        const daemon = createDaemon({
          instance,
          definitions: () => defineDefinitions({ assets: [] }),
          clock: () => now,
          log: (l) => lines.push(l),
          watch: false,
          retention: { eventsMs: 30 * DAY, ticksMs: 30 * DAY, automationMs: 30 * DAY, everyMs: 3_600_000 },
        });
        await daemon.tick();
        expect(await eventTypes(store, "old1")).toEqual([
          "run_started",
          "step_succeeded",
          "step_succeeded",
          "run_succeeded",
        ]);
        const purged = lines.filter((l) => l.startsWith("retention: purged"));
        expect(purged).toEqual([
          expect.stringContaining(
            `12 events and 5 log lines of 2 runs ended before ${new Date(CUTOFF).toISOString()}`,
          ),
        ]);
        // 30 days on, "recent" (ended a day before NOW) is past the cutoff; `every` has passed: due.
        now = NOW + 30 * DAY;
        const recentEvents = (await store.getEvents("recent")).length;
        await daemon.tick();
        expect((await store.getEvents("recent")).length).toBeLessThan(recentEvents);
        expect(lines.filter((l) => l.startsWith("retention: purged")).length).toBe(2);
        // Within `every` (1 h) of the last purge nothing is purged, even with something to purge.
        await runWith(
          store,
          "later",
          now - 31 * DAY,
          ["u"],
          [log("later", now - 31 * DAY, "x")],
          "run_succeeded",
        );
        now += 30 * 60_000;
        await daemon.tick();
        expect((await store.getEvents("later")).some((e) => e.type === "log")).toBe(true);
        now += 31 * 60_000;
        await daemon.tick();
        expect((await store.getEvents("later")).some((e) => e.type === "log")).toBe(false);
      } finally {
        await instance.close();
        store = await openStorage(location.options);
        await rm(home, { recursive: true, force: true });
      }
    }, 60_000);

    it("after purging every ended run, every asset/run/partition API answers and status answers are unchanged", async () => {
      await store.close();
      const home = await mkdtemp(path.join(tmpdir(), "baton-retention-api-"));
      const instance = await openInstance({ home, env: {}, ...databaseOf(location) });
      try {
        await apiRoundTrip(instance);
      } finally {
        await instance.close();
        store = await openStorage(location.options);
        await rm(home, { recursive: true, force: true });
      }
    }, 90_000);
  });
}

function databaseOf(location: StorageLocation): { databaseUrl?: string } {
  return location.options.databaseUrl ? { databaseUrl: location.options.databaseUrl } : {};
}

// ---------------------------------------------------------------------------------------------
// The webserver's reads after a purge (real runs, executed in process)

const REGIONS = staticPartitions(["eu", "us"]);
const regional = asset({ key: "regional", partitions: REGIONS }, async (ctx) => {
  ctx.log.info(`regional ${ctx.partitionKey}`);
  ctx.addMetadata({ n: ctx.partitionKey.length });
  return ctx.partitionKey;
});
const plain = asset({ key: "plain" }, async (ctx) => {
  ctx.log.info("plain line 1");
  ctx.log.info("plain line 2");
  ctx.addMetadata({ n: 1 });
  return 1;
});
const downstream = asset({ key: "downstream", deps: ["plain"] }, async (): Promise<number> => {
  throw new Error("downstream exploded");
});
const positive = assetCheck({ asset: "plain", name: "positive" }, () => ({ passed: true }));
const apiDefs: Definitions = defineDefinitions({ assets: [regional, plain, downstream], checks: [positive] });

async function apiRoundTrip(instance: BatonInstance) {
  await publishSnapshot(instance.storage, apiDefs);
  const runIds: string[] = [];
  runIds.push((await instance.materialize(apiDefs, { selection: "plain" })).runId);
  runIds.push(
    (await instance.materialize(apiDefs, { selection: "regional", partitions: { keys: ["eu"] } })).runId,
  );
  runIds.push(
    (await instance.materialize(apiDefs, { selection: "regional", partitions: { keys: ["us"] } })).runId,
  );
  runIds.push(
    (await instance.materialize(apiDefs, { selection: "regional", partitions: { keys: ["eu"] } })).runId,
  );
  runIds.push((await instance.materialize(apiDefs, { selection: "plain+" })).runId);
  const app = createApp({ instance });
  const get = async (url: string) => {
    const res = await app.request(url);
    const body = await res.text();
    expect(res.status, `GET ${url}: ${body.slice(0, 500)}`).toBe(200);
    return JSON.parse(body) as Record<string, unknown> & Record<string, any>;
  };
  const enc = encodeURIComponent;
  const urls = [
    "/api/assets",
    "/api/status",
    "/api/graph/status",
    "/api/runs",
    ...["plain", "regional", "downstream"].flatMap((k) => [
      `/api/assets/${enc(k)}`,
      `/api/assets/${enc(k)}/why${k === "regional" ? "?partition=eu" : ""}`,
      `/api/assets/${enc(k)}/materializations`,
      `/api/assets/${enc(k)}/checks`,
      `/api/assets/${enc(k)}/metadata/n`,
    ]),
    "/api/assets/regional/materializations?partition=eu",
    "/api/assets/regional/partitions",
    "/api/assets/regional/partition-keys",
    ...runIds.flatMap((id) => [`/api/runs/${id}`, `/api/runs/${id}/events`, `/api/runs/${id}/logs`]),
  ];
  const before = new Map<string, any>();
  for (const url of urls) before.set(url, await get(url));
  expect(before.get(`/api/runs/${runIds[0]}/logs`).logs.length).toBeGreaterThan(0);

  // Every run has ended: a cutoff just ahead of now purges all of them.
  const purged = await instance.storage.purge({ eventsBefore: Date.now() + 1000 });
  expect(purged.runs).toBe(runIds.length);
  expect(purged.logs).toBeGreaterThan(0);

  const after = new Map<string, any>();
  for (const url of urls) after.set(url, await get(url));
  const same = [
    "/api/assets",
    "/api/status",
    "/api/graph/status",
    "/api/runs",
    "/api/assets/regional/partitions",
    "/api/assets/regional/partition-keys",
  ];
  for (const url of same) expect(after.get(url), url).toEqual(before.get(url));
  for (const k of ["plain", "regional", "downstream"]) {
    expect(after.get(`/api/assets/${enc(k)}`), k).toEqual(before.get(`/api/assets/${enc(k)}`));
    const why = `/api/assets/${enc(k)}/why${k === "regional" ? "?partition=eu" : ""}`;
    expect(after.get(why), k).toEqual(before.get(why));
    // The latest materialization (and the latest check result) are the same events as before.
    expect(after.get(`/api/assets/${enc(k)}/materializations`).materializations[0]).toEqual(
      before.get(`/api/assets/${enc(k)}/materializations`).materializations[0],
    );
    expect(after.get(`/api/assets/${enc(k)}/checks`).latest).toEqual(
      before.get(`/api/assets/${enc(k)}/checks`).latest,
    );
  }
  // regional[eu] was materialized twice: only the latest stays in its history.
  expect(before.get("/api/assets/regional/materializations?partition=eu").materializations.length).toBe(2);
  expect(after.get("/api/assets/regional/materializations?partition=eu").materializations).toEqual([
    before.get("/api/assets/regional/materializations?partition=eu").materializations[0],
  ]);
  for (const id of runIds) {
    const b = before.get(`/api/runs/${id}`);
    const a = after.get(`/api/runs/${id}`);
    expect(a.run).toEqual(b.run);
    expect(a.summary.status).toBe(b.summary.status);
    expect(a.summary.reason).toBe(b.summary.reason);
    // Each step's outcome is kept (its start and its log lines are not).
    expect(a.summary.steps.map((s: any) => [s.stepKey, s.status])).toEqual(
      b.summary.steps.map((s: any) => [s.stepKey, s.status]),
    );
    expect(after.get(`/api/runs/${id}/logs`).logs).toEqual([]);
  }
}

// ---------------------------------------------------------------------------------------------
// The built CLI (SQLite)

describe("baton instance purge and the retention config (built CLI)", () => {
  const { baton, makeHome } = cliHarness({ defaultCwd: ROOT, tempPrefix: "baton-retention-cli-" });
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function seededHome() {
    const home = await makeHome((fn) => cleanups.push(fn));
    const store = await openStorage({ sqlitePath: path.join(home, "baton.db") });
    try {
      await buildStore(store);
    } finally {
      await store.close();
    }
    return home;
  }

  it("dry run by default (counts per kind and the cutoff), --execute deletes and prints counts and time, --json", async () => {
    const home = await seededHome();
    const dry = await baton(["instance", "purge", "--older-than", "30d"], { home, cwd: home });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("nothing deleted (pass --execute to delete)");
    expect(dry.stdout).toMatch(/events\s+12\s+of runs ended before \d{4}-\d\d-\d\dT/);
    expect(dry.stdout).toMatch(/log lines\s+5\s/);
    expect(dry.stdout).toMatch(/runs affected\s+2\s/);
    expect(dry.stdout).toMatch(/ticks\s+4\s/);
    expect(dry.stdout).toMatch(/automation decisions\s+4\s/);
    // Still all there.
    const again = await baton(["instance", "purge", "--older-than", "30d", "--json"], { home, cwd: home });
    expect(again.code, again.stderr).toBe(0);
    const json = JSON.parse(again.stdout);
    expect(json).toMatchObject({
      dryRun: true,
      counts: { runs: 2, events: 12, logs: 5, ticks: 4, automationEvaluations: 4 },
      canceled: false,
    });
    expect(Date.parse(json.cutoffs.events)).toBeGreaterThan(NOW - 30 * DAY - 60_000);

    // Ticks kept for longer than events: their own flag.
    const run = await baton(
      [
        "instance",
        "purge",
        "--older-than",
        "30d",
        "--ticks-older-than",
        "60d",
        "--execute",
        "--vacuum",
        "--json",
      ],
      { home, cwd: home },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      dryRun: false,
      counts: { runs: 2, events: 12, logs: 5, ticks: 0, automationEvaluations: 4 },
      vacuumSeconds: expect.any(Number),
    });
    const after = await baton(["instance", "purge", "--older-than", "30d"], { home, cwd: home });
    expect(after.stdout).toMatch(/events\s+0\s/);
    expect(after.stdout).toMatch(/ticks\s+4\s/);
    const text = await baton(["instance", "purge", "--older-than", "4w", "--execute"], { home, cwd: home });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain("purged ");
    expect(text.stdout).toMatch(/ticks\s+4\s/);
    expect(text.stdout).toMatch(/done in \d+\.\d s/);
  }, 90_000);

  it("a bad duration names the flag; no cutoff at all says what to pass", async () => {
    const home = await makeHome((fn) => cleanups.push(fn));
    for (const [flag, value] of [
      ["--older-than", "30"],
      ["--older-than", "thirty days"],
      ["--ticks-older-than", "7y"],
      ["--automation-older-than", "0d"],
    ] as const) {
      const r = await baton(["instance", "purge", flag, value], { home, cwd: home });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`error: ${flag} must be a duration such as 12h, 30d or 4w`);
      expect(r.stderr).toContain(`(got "${value}")`);
      expect(r.stderr).not.toMatch(/^ {4}at /m);
    }
    const none = await baton(["instance", "purge"], { home, cwd: home });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("needs --older-than DURATION");
  }, 60_000);

  it("baton.config.json retention: bad values name the field and file (purge and daemon); a good block drives the purge", async () => {
    const home = await seededHome();
    const config = path.join(home, "baton.config.json");
    await writeFile(
      path.join(home, "definitions.ts"),
      `import { defineDefinitions } from "@baton/core";\nexport default defineDefinitions({ assets: [] });\n`,
    );
    const write = (retention: unknown) =>
      writeFile(config, JSON.stringify({ defs: "definitions.ts", retention }));

    await write({ events: "30 days", every: 5, keep: true });
    for (const args of [["instance", "purge"], ["daemon"]]) {
      const r = await baton(args, { home, cwd: home });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`${config}: retention.events must be a duration such as 12h, 30d or 4w`);
      expect(r.stderr).toContain('(got "30 days")');
      expect(r.stderr).toContain(`${config}: retention.every must be a duration`);
      expect(r.stderr).toContain(`${config}: retention.keep is not a retention setting`);
    }
    await write("30d");
    const notObject = await baton(["instance", "purge"], { home, cwd: home });
    expect(notObject.code).toBe(2);
    expect(notObject.stderr).toContain(`${config}: retention must be an object such as { "events": "30d"`);
    await write({ every: "1h" });
    const nothing = await baton(["instance", "purge"], { home, cwd: home });
    expect(nothing.stderr).toContain(
      `${config}: retention needs at least one of "events", "ticks", "automation"`,
    );

    await write({ events: "30d", ticks: "7d" });
    const fromConfig = await baton(["instance", "purge", "--json"], { home, cwd: home });
    expect(fromConfig.code, fromConfig.stderr).toBe(0);
    expect(JSON.parse(fromConfig.stdout)).toMatchObject({
      policyFrom: "baton.config.json retention",
      counts: { events: 12, logs: 5, ticks: 4, automationEvaluations: 0 },
      cutoffs: { automation: null },
    });
  }, 90_000);

  it.each([
    ["baton daemon", ["daemon", "--interval-ms", "200"]],
    ["baton dev", ["dev", "--no-webserver", "--no-watch", "--workers", "1"]],
  ])(
    "%s with a retention block purges at start and logs what it purged",
    async (_name, args) => {
      const home = await seededHome();
      await writeFile(
        path.join(home, "baton.config.json"),
        JSON.stringify({
          defs: path.join(ROOT, "tests/fixtures/retention/definitions.ts"),
          retention: { events: "30d", ticks: "30d", automation: "30d", every: "1h" },
        }),
      );
      const env: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(process.env))
        if (!/^BATON_/.test(k) && k !== "CI" && v !== undefined) env[k] = v;
      env.BATON_HOME = home;
      const daemon = spawnBaton(args, { cwd: home, env });
      try {
        await stderrShows(daemon, "retention: purged", 30_000);
        expect(daemon.stderr()).toContain("12 events and 5 log lines of 2 runs ended before");
        expect(daemon.stderr()).toContain("4 ticks before");
        expect(daemon.stderr()).toContain("4 automation decisions before");
        const store = await openStorage({ sqlitePath: path.join(home, "baton.db") });
        try {
          await waitFor("the purge in the store", async () => (await eventTypes(store, "old1")).length === 4);
          expect(await eventTypes(store, "old1")).toEqual([
            "run_started",
            "step_succeeded",
            "step_succeeded",
            "run_succeeded",
          ]);
        } finally {
          await store.close();
        }
      } finally {
        killGroup(daemon, "SIGTERM");
        await waitFor("the daemon to exit", () => daemon.exitInfo() !== undefined, 15_000).catch(() =>
          killGroup(daemon, "SIGKILL"),
        );
      }
    },
    60_000,
  );
});
