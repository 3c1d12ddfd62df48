/**
 * The Storage contract: one body of tests (`storageContract`) run against every backend (SQLite and
 * Postgres; select with BATON_TEST_STORAGE=sqlite|postgres|all, default all). Each test gets a fresh,
 * empty store: a new SQLite file in a temp dir, or a new database on one throwaway Postgres server per
 * file. Everything here goes through `openStorage`, as the product does.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { MetadataMap } from "../packages/core/src/definitions/metadata.js";
import { StorageError } from "../packages/core/src/errors.js";
import type {
  InputDataVersions,
  RunEvent,
  RunEventBody,
  RunStatus,
  StoredRunEvent,
} from "../packages/core/src/execution/events.js";
import { openStorage } from "../packages/core/src/storage/open-storage.js";
import type { NewRun, Storage } from "../packages/core/src/storage/storage.js";
import { type BackendName, type StorageLocation, storageBackends } from "./support/storage-backends.js";

type OpenedStorage = Awaited<ReturnType<typeof openStorage>>;

const T0 = 1_700_000_000_000;
const EXPECTED_TABLES = ["runs", "event_logs", "asset_status", "asset_check_latest", "baton_migrations"];

// ---------------------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------------------

function event(runId: string, timestamp: number, body: RunEventBody): RunEvent {
  return { ...body, runId, timestamp };
}

function newRun(runId: string, overrides: Partial<NewRun> = {}): NewRun {
  return {
    runId,
    status: "QUEUED",
    selection: "*",
    assetKeys: ["a"],
    config: {},
    tags: {},
    createdAt: T0,
    ...overrides,
  };
}

function runStarted(runId: string, timestamp: number): RunEvent {
  return event(runId, timestamp, {
    type: "run_started",
    steps: [{ stepKey: "a", kind: "asset", assetKeys: ["a"] }],
  });
}

function logEvent(runId: string, i: number, timestamp = T0 + i): RunEvent {
  return event(runId, timestamp, { type: "log", level: "info", message: `message ${i}`, source: "logger" });
}

function logEvents(runId: string, count: number, from = 0): RunEvent[] {
  return Array.from({ length: count }, (_, i) => logEvent(runId, from + i));
}

function materialization(
  runId: string,
  assetKey: string,
  timestamp: number,
  extra: {
    metadata?: MetadataMap;
    codeVersion?: string;
    dataVersion?: string;
    inputDataVersions?: InputDataVersions;
  } = {},
): RunEvent {
  return event(runId, timestamp, {
    type: "materialization",
    stepKey: assetKey,
    assetKey,
    metadata: extra.metadata ?? {},
    ...(extra.codeVersion !== undefined ? { codeVersion: extra.codeVersion } : {}),
    ...(extra.dataVersion !== undefined ? { dataVersion: extra.dataVersion } : {}),
    ...(extra.inputDataVersions !== undefined ? { inputDataVersions: extra.inputDataVersions } : {}),
  });
}

function stepFailed(runId: string, stepKey: string, assetKeys: string[], timestamp: number): RunEvent {
  return event(runId, timestamp, {
    type: "step_failed",
    stepKey,
    assetKeys,
    durationMs: 12,
    attempt: 1,
    error: { name: "Error", message: "boom" },
  });
}

function checkEvaluation(
  runId: string,
  assetKey: string,
  checkName: string,
  timestamp: number,
  result: { passed: boolean; blocking: boolean; severity?: "WARN" | "ERROR"; metadata?: MetadataMap },
): RunEvent {
  return event(runId, timestamp, {
    type: "check_evaluation",
    stepKey: `${assetKey}:${checkName}`,
    assetKey,
    checkName,
    passed: result.passed,
    blocking: result.blocking,
    severity: result.severity ?? "ERROR",
    metadata: result.metadata ?? {},
  });
}

/** One event of every type, with awkward but JSON-safe content. */
function everyKindOfEvent(runId: string): RunEvent[] {
  const error = {
    name: "TypeError",
    message: 'bad "quote" and\nnewline',
    stack: "TypeError: bad\n    at x (file.ts:1:2)",
    code: "E_BAD",
    cause: { name: "Error", message: "root cause" },
  };
  const bodies: RunEventBody[] = [
    {
      type: "run_started",
      steps: [
        { stepKey: "raw", kind: "asset", assetKeys: ["raw/trips"] },
        { stepKey: "clean", kind: "multi", assetKeys: ["clean", "clean/extra"] },
        { stepKey: "clean:not_null", kind: "check", assetKeys: [] },
      ],
    },
    { type: "step_started", stepKey: "raw", kind: "asset", assetKeys: ["raw/trips"], attempt: 1 },
    { type: "op_started", stepKey: "raw", op: "download" },
    { type: "op_succeeded", stepKey: "raw", op: "download", durationMs: 1.25 },
    { type: "op_failed", stepKey: "raw", op: "parse", durationMs: 0, error },
    {
      type: "log",
      stepKey: "raw",
      level: "warn",
      message: "unicode é 🚕 \u0001 \\ backslash",
      source: "stderr",
      fields: { nested: { list: [1, "two", null, true, { deep: [] }] }, n: -0.5, big: 2 ** 53 - 1 },
    },
    { type: "log", level: "debug", message: "", source: "stdout" },
    {
      type: "materialization",
      stepKey: "raw",
      assetKey: "raw/trips",
      metadata: {
        rows: { type: "row_count", value: 1_000_000 },
        took: { type: "duration_ms", value: 12.5 },
        ok: { type: "bool", value: false },
        note: { type: "text", value: "line1\nline2" },
        url: { type: "url", value: "https://example.com/?a=1&b=2" },
        file: { type: "path", value: "/tmp/x y.parquet" },
        json: { type: "json", value: { a: [1, { b: null }], c: "d" } },
        schema: {
          type: "table_schema",
          value: [
            { name: "id", type: "int" },
            { name: "fare", type: "double" },
          ],
        },
        score: { type: "number", value: -3.5e-7 },
      },
      codeVersion: "v1.2.3",
    },
    { type: "step_succeeded", stepKey: "raw", durationMs: 42 },
    {
      type: "check_evaluation",
      stepKey: "clean:not_null",
      assetKey: "clean",
      checkName: "not_null",
      passed: false,
      blocking: true,
      severity: "WARN",
      metadata: { nulls: { type: "number", value: 3 } },
      description: "no nulls in fare",
    },
    { type: "step_retrying", stepKey: "clean", attempt: 1, delayMs: 500, error },
    { type: "step_failed", stepKey: "clean", assetKeys: ["clean"], durationMs: 7, attempt: 2, error },
    {
      type: "step_skipped",
      stepKey: "report",
      assetKeys: ["report"],
      reason: "upstream failed",
      cause: "clean",
    },
    { type: "step_canceled", stepKey: "other", assetKeys: ["other"], reason: "run canceled" },
    { type: "run_failed", reason: "step clean failed", error },
    { type: "run_canceled", reason: "user asked" },
    { type: "run_succeeded" },
  ];
  return bodies.map((body, i) => event(runId, T0 + i, body));
}

function withoutId(events: readonly StoredRunEvent[]): RunEvent[] {
  return events.map(({ id: _id, ...rest }) => rest as RunEvent);
}

function expectIncreasingIds(events: readonly StoredRunEvent[]): void {
  for (const e of events) {
    expect(typeof e.id).toBe("number");
    expect(Number.isSafeInteger(e.id)).toBe(true);
  }
  for (let i = 1; i < events.length; i++) expect(events[i]!.id).toBeGreaterThan(events[i - 1]!.id);
}

function messages(events: readonly StoredRunEvent[]): string[] {
  return events.map((e) => (e.type === "log" ? e.message : `<${e.type}>`));
}

// ---------------------------------------------------------------------------------------------------------
// The contract
// ---------------------------------------------------------------------------------------------------------

/**
 * The tests every backend must pass. `open()` opens (another connection to) the current test's fresh store;
 * everything it opens is closed after the test. `location()` is that store, for raw inspection.
 */
function storageContract(
  name: BackendName,
  open: () => Promise<OpenedStorage>,
  location: () => StorageLocation,
): void {
  describe("migrations", () => {
    it("applies migrations on the first open only, and the tables exist", async () => {
      const first = await open();
      expect(first.dialect).toBe(name);
      expect(first.migrated.length).toBeGreaterThan(0);
      expect(new Set(first.migrated).size).toBe(first.migrated.length);
      expect(await location().tableNames()).toEqual(expect.arrayContaining(EXPECTED_TABLES));

      const second = await open();
      expect(second.migrated).toEqual([]);
      await first.close();
      const third = await open();
      expect(third.migrated).toEqual([]);
      expect(await location().tableNames()).toEqual(expect.arrayContaining(EXPECTED_TABLES));
      // The migrated schema is usable.
      await third.createRun(newRun("after-migrations"));
      expect((await second.getRun("after-migrations"))?.runId).toBe("after-migrations");
    });

    it("two stores opened at the same moment on a fresh location migrate once between them", async () => {
      const [a, b] = await Promise.all([open(), open()]);
      expect([...a.migrated, ...b.migrated].length).toBeGreaterThan(0);
      expect([a.migrated, b.migrated]).toContainEqual([]);
      await a.createRun(newRun("r"));
      expect((await b.getRun("r"))?.runId).toBe("r");
    });
  });

  describe("runs", () => {
    it("createRun/getRun round-trips every field", async () => {
      const store = await open();
      const run: NewRun = {
        runId: "run-1",
        status: "QUEUED",
        selection: 'tag:team=data+ & "raw/trips"*',
        assetKeys: ["raw/trips", "clean/trips"],
        config: {
          ops: { raw: { config: { limit: 10, ratio: 0.25, list: [1, "two", null, { deep: true }] } } },
          unicode: "é 🚕",
          empty: {},
        },
        tags: { team: "data", "baton/priority": "5", "": "empty key" },
        parentRunId: "run-0",
        rootRunId: "run-root",
        createdAt: T0 + 123,
      };
      await store.createRun(run);
      const got = await store.getRun("run-1");
      expect(got).toStrictEqual({
        ...run,
        startedAt: null,
        endedAt: null,
        partitionKeys: null,
        backfillId: null,
        priority: 0,
        request: null,
        workerId: null,
        heartbeatAt: null,
        cancelRequested: false,
      });
      expect(typeof got!.createdAt).toBe("number");
    });

    it("createRun/getRun round-trips partitions and backfill id", async () => {
      const store = await open();
      await store.createRun({
        ...newRun("part"),
        partitions: { keys: ["2024-01-01", "2024-01-02"], indices: [0, 1] },
        backfillId: "bf-1",
      });
      const got = await store.getRun("part");
      expect(got).toMatchObject({ partitionKeys: ["2024-01-01", "2024-01-02"], backfillId: "bf-1" });
      const page = await store.listRuns({ backfillId: "bf-1" });
      expect(page.runs.map((r) => r.runId)).toEqual(["part"]);
    });

    it("stores missing parent/root run ids as null", async () => {
      const store = await open();
      await store.createRun(newRun("solo", { config: [1, 2, 3] }));
      const got = await store.getRun("solo");
      expect(got).toMatchObject({ parentRunId: null, rootRunId: null, config: [1, 2, 3], createdAt: T0 });
    });

    it("getRun of an unknown id is undefined", async () => {
      const store = await open();
      await store.createRun(newRun("known"));
      expect(await store.getRun("unknown")).toBeUndefined();
    });

    async function createRuns(
      store: Storage,
      count: number,
      status: (i: number) => RunStatus = () => "QUEUED",
    ) {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const runId = `run-${String(i).padStart(4, "0")}`;
        await store.createRun(newRun(runId, { status: status(i), createdAt: T0 + i }));
        ids.push(runId);
      }
      return ids;
    }

    it("listRuns lists newest first", async () => {
      const store = await open();
      const ids = await createRuns(store, 5);
      const page = await store.listRuns();
      expect(page.runs.map((r) => r.runId)).toEqual([...ids].reverse());
      expect(page.nextCursor).toBeNull();
      expect(page.runs[0]).toStrictEqual(await store.getRun(ids[4]!));
    });

    it("listRuns filters by status", async () => {
      const store = await open();
      const statuses: RunStatus[] = ["QUEUED", "STARTED", "SUCCESS", "FAILURE"];
      const ids = await createRuns(store, 12, (i) => statuses[i % 4]!);
      const expected = (wanted: RunStatus[]) =>
        ids.filter((_, i) => wanted.includes(statuses[i % 4]!)).reverse();

      const success = await store.listRuns({ statuses: ["SUCCESS"] });
      expect(success.runs.map((r) => r.runId)).toEqual(expected(["SUCCESS"]));
      expect(success.runs.every((r) => r.status === "SUCCESS")).toBe(true);

      const done = await store.listRuns({ statuses: ["SUCCESS", "FAILURE"] });
      expect(done.runs.map((r) => r.runId)).toEqual(expected(["SUCCESS", "FAILURE"]));

      expect((await store.listRuns({ statuses: ["CANCELED"] })).runs).toEqual([]);

      // The filter applies across pages too.
      const first = await store.listRuns({ statuses: ["QUEUED", "STARTED"], limit: 4 });
      expect(first.runs.map((r) => r.runId)).toEqual(expected(["QUEUED", "STARTED"]).slice(0, 4));
      expect(first.nextCursor).not.toBeNull();
      const second = await store.listRuns({
        statuses: ["QUEUED", "STARTED"],
        limit: 4,
        cursor: first.nextCursor!,
      });
      expect(second.runs.map((r) => r.runId)).toEqual(expected(["QUEUED", "STARTED"]).slice(4));
      expect(second.nextCursor).toBeNull();
    });

    it("listRuns pages 120 runs by cursor: 50, 50, 20, then a null cursor", async () => {
      const store = await open();
      const ids = await createRuns(store, 120);
      const pages: string[][] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await store.listRuns({ limit: 50, ...(cursor !== undefined ? { cursor } : {}) });
        pages.push(page.runs.map((r) => r.runId));
        if (page.nextCursor === null) break;
        expect(typeof page.nextCursor).toBe("string");
        cursor = page.nextCursor;
        expect(pages.length).toBeLessThan(4);
      }
      expect(pages.map((p) => p.length)).toEqual([50, 50, 20]);
      const all = pages.flat();
      expect(new Set(all).size).toBe(120);
      expect(all).toEqual([...ids].reverse());
    });

    it("listRuns rejects a malformed cursor with a StorageError", async () => {
      const store = await open();
      await createRuns(store, 3);
      await expect(store.listRuns({ cursor: "not-a-cursor" })).rejects.toBeInstanceOf(StorageError);
      await expect(store.listRuns({ cursor: "1.5" })).rejects.toBeInstanceOf(StorageError);
    });
  });

  describe("events", () => {
    it("round-trips event bodies exactly, in order, with increasing numeric ids", async () => {
      const store = await open();
      await store.createRun(newRun("run-1"));
      const events = everyKindOfEvent("run-1");
      await store.appendEvents(events);
      const stored = await store.getEvents("run-1");
      expect(stored).toHaveLength(events.length);
      expectIncreasingIds(stored);
      expect(withoutId(stored)).toStrictEqual(events);
    });

    it("appendEvents of an empty list is a no-op", async () => {
      const store = await open();
      await store.appendEvents([]);
      expect(await store.getEvents("run-1")).toEqual([]);
    });

    it("run_started sets status STARTED and startedAt", async () => {
      const store = await open();
      await store.createRun(newRun("run-1", { createdAt: T0 }));
      await store.appendEvents([runStarted("run-1", T0 + 10)]);
      expect(await store.getRun("run-1")).toMatchObject({
        status: "STARTED",
        createdAt: T0,
        startedAt: T0 + 10,
        endedAt: null,
      });
    });

    const endings: [RunEventBody, RunStatus][] = [
      [{ type: "run_succeeded" }, "SUCCESS"],
      [{ type: "run_failed", reason: "step a failed" }, "FAILURE"],
      [{ type: "run_canceled", reason: "canceled by user" }, "CANCELED"],
    ];
    it.each(endings)("%o sets status %s and endedAt", async (ending, status) => {
      const store = await open();
      await store.createRun(newRun("separate"));
      await store.appendEvents([runStarted("separate", T0 + 10)]);
      await store.appendEvents([logEvent("separate", 1, T0 + 20), event("separate", T0 + 30, ending)]);
      expect(await store.getRun("separate")).toMatchObject({ status, startedAt: T0 + 10, endedAt: T0 + 30 });

      // The same with start and end in one batch.
      await store.createRun(newRun("one-batch"));
      await store.appendEvents([runStarted("one-batch", T0 + 10), event("one-batch", T0 + 30, ending)]);
      expect(await store.getRun("one-batch")).toMatchObject({ status, startedAt: T0 + 10, endedAt: T0 + 30 });
    });

    it("a run's first end stands: a late end (a worker the monitor failed finishing after all) is logged but does not flip it", async () => {
      const store = await open();
      await store.createRun(newRun("late"));
      await store.appendEvents([runStarted("late", T0 + 10)]);
      await store.appendEvents([event("late", T0 + 20, { type: "run_failed", reason: "the worker died" })]);
      await store.appendEvents([event("late", T0 + 30, { type: "run_succeeded" })]);
      const run = await store.getRun("late");
      expect(run).toMatchObject({ status: "FAILURE", endedAt: T0 + 20 });
      const ends = (await store.getEvents("late")).filter(
        (e) => e.type.startsWith("run_") && e.type !== "run_started",
      );
      expect(ends.map((e) => e.type)).toEqual(["run_failed", "run_succeeded"]);
      // Run-status sensors read the first end only.
      const ended = await store.listEndedRuns({});
      expect(ended.runs.filter((r) => r.runId === "late").map((r) => r.status)).toEqual(["FAILURE"]);

      // Both ends in one batch: the first still stands.
      await store.createRun(newRun("one-batch-late"));
      await store.appendEvents([
        runStarted("one-batch-late", T0 + 10),
        event("one-batch-late", T0 + 20, { type: "run_canceled", reason: "canceled by user" }),
        event("one-batch-late", T0 + 30, { type: "run_failed", reason: "late" }),
      ]);
      expect(await store.getRun("one-batch-late")).toMatchObject({ status: "CANCELED", endedAt: T0 + 20 });
    });

    it("keeps order across appendEvents calls", async () => {
      const store = await open();
      await store.appendEvents(logEvents("run-1", 10, 0));
      await store.appendEvents(logEvents("run-1", 10, 10));
      await store.appendEvents(logEvents("run-1", 1, 20));
      const stored = await store.getEvents("run-1");
      expect(messages(stored)).toEqual(Array.from({ length: 21 }, (_, i) => `message ${i}`));
      expectIncreasingIds(stored);
    });

    it("getEvents filters by run, afterId, limit and types", async () => {
      const store = await open();
      const a = "run-a";
      const b = "run-b";
      await store.appendEvents([
        runStarted(a, T0),
        runStarted(b, T0),
        event(a, T0 + 1, { type: "step_started", stepKey: "x", kind: "asset", assetKeys: ["x"], attempt: 1 }),
        logEvent(a, 0),
      ]);
      await store.appendEvents([logEvent(b, 100), logEvent(a, 1), materialization(a, "x", T0 + 5)]);
      await store.appendEvents([
        logEvent(a, 2),
        event(a, T0 + 7, { type: "step_succeeded", stepKey: "x", durationMs: 3 }),
        event(b, T0 + 7, { type: "run_succeeded" }),
        event(a, T0 + 8, { type: "run_succeeded" }),
      ]);

      const all = await store.getEvents(a);
      expect(all.map((e) => e.type)).toEqual([
        "run_started",
        "step_started",
        "log",
        "log",
        "materialization",
        "log",
        "step_succeeded",
        "run_succeeded",
      ]);
      expect(all.every((e) => e.runId === a)).toBe(true);
      expectIncreasingIds(all);
      expect((await store.getEvents(b)).map((e) => e.type)).toEqual(["run_started", "log", "run_succeeded"]);
      expect(await store.getEvents("no-such-run")).toEqual([]);

      expect(await store.getEvents(a, { afterId: all[2]!.id })).toEqual(all.slice(3));
      expect(await store.getEvents(a, { afterId: all[7]!.id })).toEqual([]);
      expect(await store.getEvents(a, { afterId: 0 })).toEqual(all);
      expect(await store.getEvents(a, { limit: 3 })).toEqual(all.slice(0, 3));
      expect(await store.getEvents(a, { afterId: all[1]!.id, limit: 2 })).toEqual(all.slice(2, 4));
      expect(await store.getEvents(a, { types: ["log"] })).toEqual(all.filter((e) => e.type === "log"));
      expect(await store.getEvents(a, { types: ["materialization", "run_succeeded"] })).toEqual([
        all[4],
        all[7],
      ]);
      expect(await store.getEvents(a, { types: ["log"], afterId: all[3]!.id, limit: 1 })).toEqual([all[5]]);
      expect(await store.getEvents(a, { types: ["op_failed"] })).toEqual([]);
    });
  });

  describe("asset status index", () => {
    it("materializations update getAssetStatuses: latest wins within a batch and across batches", async () => {
      const store = await open();
      const rows = (n: number): MetadataMap => ({ rows: { type: "row_count", value: n } });
      await store.appendEvents([
        materialization("run-1", "a", T0 + 1, { metadata: rows(1), codeVersion: "v1" }),
        materialization("run-1", "b", T0 + 2, { metadata: rows(10) }),
        materialization("run-1", "a", T0 + 3, { metadata: rows(2), codeVersion: "v2" }),
        logEvent("run-1", 0),
      ]);
      const a1 = (await store.getMaterializations("a", { limit: 1 }))[0]!;
      const b1 = (await store.getMaterializations("b", { limit: 1 }))[0]!;
      expect(a1).toMatchObject({ runId: "run-1", timestamp: T0 + 3 });

      let statuses = await store.getAssetStatuses();
      expect(statuses.map((s) => s.assetKey).sort()).toEqual(["a", "b"]);
      expect(statuses.find((s) => s.assetKey === "a")).toStrictEqual({
        assetKey: "a",
        lastMaterialization: {
          runId: "run-1",
          eventId: a1.id,
          timestamp: T0 + 3,
          metadata: rows(2),
          codeVersion: "v2",
          dataVersion: null,
          inputDataVersions: null,
        },
        lastFailure: null,
      });
      expect(statuses.find((s) => s.assetKey === "b")).toStrictEqual({
        assetKey: "b",
        lastMaterialization: {
          runId: "run-1",
          eventId: b1.id,
          timestamp: T0 + 2,
          metadata: rows(10),
          codeVersion: null,
          dataVersion: null,
          inputDataVersions: null,
        },
        lastFailure: null,
      });

      await store.appendEvents([materialization("run-2", "a", T0 + 4, { metadata: {} })]);
      await store.appendEvents([
        materialization("run-3", "a", T0 + 5, { metadata: rows(3), codeVersion: "v3" }),
      ]);
      const a3 = (await store.getMaterializations("a", { limit: 1 }))[0]!;
      statuses = await store.getAssetStatuses();
      expect(statuses.find((s) => s.assetKey === "a")?.lastMaterialization).toStrictEqual({
        runId: "run-3",
        eventId: a3.id,
        timestamp: T0 + 5,
        metadata: rows(3),
        codeVersion: "v3",
        dataVersion: null,
        inputDataVersions: null,
      });
      expect(statuses.find((s) => s.assetKey === "b")?.lastMaterialization?.eventId).toBe(b1.id);
    });

    it("data versions: a materialization's own and its inputs' round-trip; a newer one without versions clears them", async () => {
      const store = await open();
      const inputs = { up: "u1", parts: { "2024-01": "p1" } };
      await store.appendEvents([
        materialization("run-1", "a", T0 + 1, { dataVersion: "d1", inputDataVersions: inputs }),
      ]);
      const [a] = await store.getAssetStatuses(["a"]);
      expect(a?.lastMaterialization).toMatchObject({ dataVersion: "d1", inputDataVersions: inputs });
      await store.appendEvents([materialization("run-2", "a", T0 + 2)]);
      const [again] = await store.getAssetStatuses(["a"]);
      expect(again?.lastMaterialization).toMatchObject({
        runId: "run-2",
        dataVersion: null,
        inputDataVersions: null,
      });
    });

    it("lastMaterialization.eventId is the materialization's own id when a batch mixes runs", async () => {
      const store = await open();
      await store.appendEvents([
        materialization("run-b", "x", T0 + 1),
        event("run-a", T0 + 1, {
          type: "step_started",
          stepKey: "y",
          kind: "asset",
          assetKeys: ["y"],
          attempt: 1,
        }),
      ]);
      const [stored] = await store.getEvents("run-b");
      const [status] = await store.getAssetStatuses(["x"]);
      expect(status?.lastMaterialization?.eventId).toBe(stored!.id);
      // getMaterializations agrees with the index.
      expect((await store.getMaterializations("x"))[0]?.id).toBe(status?.lastMaterialization?.eventId);
    });

    it("a step_failed sets lastFailure for its asset keys without clearing lastMaterialization", async () => {
      const store = await open();
      await store.appendEvents([materialization("run-1", "a", T0 + 1, { codeVersion: "v1" })]);
      const before = (await store.getAssetStatuses(["a"]))[0]!;
      await store.appendEvents([stepFailed("run-2", "multi", ["a", "c"], T0 + 5)]);

      const statuses = await store.getAssetStatuses(["a", "c"]);
      const a = statuses.find((s) => s.assetKey === "a");
      const c = statuses.find((s) => s.assetKey === "c");
      expect(a?.lastMaterialization).toStrictEqual(before.lastMaterialization);
      expect(a?.lastMaterialization?.runId).toBe("run-1");
      expect(a?.lastFailure).toStrictEqual({ runId: "run-2", timestamp: T0 + 5 });
      expect(c).toStrictEqual({
        assetKey: "c",
        lastMaterialization: null,
        lastFailure: { runId: "run-2", timestamp: T0 + 5 },
      });
    });

    it("filters by asset keys; an empty key list returns []", async () => {
      const store = await open();
      await store.appendEvents(["a", "b", "c"].map((k, i) => materialization("run-1", k, T0 + i)));
      expect((await store.getAssetStatuses()).map((s) => s.assetKey).sort()).toEqual(["a", "b", "c"]);
      expect((await store.getAssetStatuses(["c", "a"])).map((s) => s.assetKey).sort()).toEqual(["a", "c"]);
      expect((await store.getAssetStatuses(["b", "never"])).map((s) => s.assetKey)).toEqual(["b"]);
      expect(await store.getAssetStatuses(["never"])).toEqual([]);
      expect(await store.getAssetStatuses([])).toEqual([]);
    });
  });

  describe("getMaterializations", () => {
    it("returns one asset's materializations newest first, with limit and beforeId paging", async () => {
      const store = await open();
      const mine: RunEvent[] = [];
      for (let i = 0; i < 5; i++) {
        const m = materialization(`run-${i}`, "a", T0 + i, { metadata: { i: { type: "number", value: i } } });
        mine.push(m);
        await store.appendEvents([
          m,
          materialization(`run-${i}`, "b", T0 + i),
          checkEvaluation(`run-${i}`, "a", "c", T0 + i, { passed: true, blocking: false }),
          logEvent(`run-${i}`, i),
        ]);
      }
      const all = await store.getMaterializations("a");
      expect(withoutId(all)).toStrictEqual([...mine].reverse());
      expect(all.every((e) => e.type === "materialization" && e.assetKey === "a")).toBe(true);
      for (let i = 1; i < all.length; i++) expect(all[i]!.id).toBeLessThan(all[i - 1]!.id);

      expect(await store.getMaterializations("a", { limit: 2 })).toEqual(all.slice(0, 2));
      const page2 = await store.getMaterializations("a", { limit: 2, beforeId: all[1]!.id });
      expect(page2).toEqual(all.slice(2, 4));
      const page3 = await store.getMaterializations("a", { limit: 2, beforeId: page2[1]!.id });
      expect(page3).toEqual(all.slice(4));
      expect(await store.getMaterializations("a", { beforeId: all[4]!.id })).toEqual([]);
      expect(await store.getMaterializations("never")).toEqual([]);
    });
  });

  describe("check results", () => {
    it("keeps the latest check_evaluation per (asset, check), with boolean passed/blocking", async () => {
      const store = await open();
      await store.appendEvents([
        checkEvaluation("run-1", "a", "not_null", T0 + 1, {
          passed: true,
          blocking: false,
          severity: "WARN",
        }),
        checkEvaluation("run-1", "a", "unique", T0 + 2, { passed: false, blocking: true }),
        checkEvaluation("run-1", "b", "fresh", T0 + 3, { passed: false, blocking: false }),
        checkEvaluation("run-1", "b", "fresh", T0 + 4, { passed: true, blocking: true, severity: "WARN" }),
      ]);
      await store.appendEvents([
        checkEvaluation("run-2", "a", "not_null", T0 + 5, {
          passed: false,
          blocking: true,
          severity: "ERROR",
          metadata: { nulls: { type: "number", value: 7 } },
        }),
      ]);
      const ids = new Map<string, number>();
      for (const runId of ["run-1", "run-2"]) {
        for (const e of await store.getEvents(runId)) {
          if (e.type === "check_evaluation") ids.set(`${e.assetKey}/${e.checkName}`, e.id); // last one wins
        }
      }

      const results = await store.getLatestCheckResults();
      const key = (r: { assetKey: string; checkName: string }) => `${r.assetKey}/${r.checkName}`;
      expect(results.map(key).sort()).toEqual(["a/not_null", "a/unique", "b/fresh"]);
      for (const r of results) {
        expect(typeof r.passed).toBe("boolean");
        expect(typeof r.blocking).toBe("boolean");
        expect(r.eventId).toBe(ids.get(key(r)));
      }
      expect(results.find((r) => key(r) === "a/not_null")).toStrictEqual({
        assetKey: "a",
        checkName: "not_null",
        runId: "run-2",
        eventId: ids.get("a/not_null"),
        passed: false,
        blocking: true,
        severity: "ERROR",
        metadata: { nulls: { type: "number", value: 7 } },
        timestamp: T0 + 5,
      });
      expect(results.find((r) => key(r) === "a/unique")).toMatchObject({ passed: false, blocking: true });
      expect(results.find((r) => key(r) === "b/fresh")).toMatchObject({
        runId: "run-1",
        passed: true,
        blocking: true,
        severity: "WARN",
        timestamp: T0 + 4,
        metadata: {},
      });

      expect((await store.getLatestCheckResults("a")).map(key).sort()).toEqual(["a/not_null", "a/unique"]);
      expect((await store.getLatestCheckResults("b")).map(key)).toEqual(["b/fresh"]);
      expect(await store.getLatestCheckResults("never")).toEqual([]);
    });

    it("a check result's eventId is its own event's id when a batch mixes runs", async () => {
      const store = await open();
      await store.appendEvents([
        checkEvaluation("run-b", "x", "c", T0, { passed: true, blocking: false }),
        logEvent("run-a", 0),
      ]);
      const [stored] = await store.getEvents("run-b");
      const [result] = await store.getLatestCheckResults("x");
      expect(result?.eventId).toBe(stored!.id);
    });
  });

  describe("batch size", () => {
    it("stores all 5,000 events of one appendEvents call, in order", async () => {
      const store = await open();
      await store.createRun(newRun("big"));
      const events = logEvents("big", 5_000);
      events[0] = runStarted("big", T0);
      events[4_500] = materialization("big", "a", T0 + 4_500);
      events[4_999] = event("big", T0 + 4_999, { type: "run_succeeded" });
      await store.appendEvents(events);

      const stored = await store.getEvents("big");
      expect(stored).toHaveLength(5_000);
      expectIncreasingIds(stored);
      expect(withoutId(stored)).toStrictEqual(events);
      expect(await store.getRun("big")).toMatchObject({
        status: "SUCCESS",
        startedAt: T0,
        endedAt: T0 + 4_999,
      });
      const [status] = await store.getAssetStatuses(["a"]);
      expect(status?.lastMaterialization?.eventId).toBe(stored[4_500]!.id);
    });
  });

  describe("concurrency", () => {
    it("4 concurrent appendEvents calls on one store all land, each run in order", async () => {
      const store = await open();
      const runs = ["c0", "c1", "c2", "c3"];
      await Promise.all(runs.map((runId) => store.appendEvents(logEvents(runId, 200))));
      for (const runId of runs) {
        const stored = await store.getEvents(runId);
        expect(stored).toHaveLength(200);
        expect(messages(stored)).toEqual(Array.from({ length: 200 }, (_, i) => `message ${i}`));
        expectIncreasingIds(stored);
      }
    });

    it("two store objects on the same store (like two processes) append concurrently without errors", {
      timeout: 60_000,
    }, async () => {
      const first = await open();
      const second = await open();
      const writer = async (store: Storage, runId: string) => {
        for (let batch = 0; batch < 4; batch++) await store.appendEvents(logEvents(runId, 50, batch * 50));
      };
      await Promise.all([writer(first, "first"), writer(second, "second")]);
      for (const runId of ["first", "second"]) {
        const stored = await first.getEvents(runId);
        expect(messages(stored)).toEqual(Array.from({ length: 200 }, (_, i) => `message ${i}`));
      }
    });

    it("concurrent batches materializing the same assets in opposite orders both commit", async () => {
      const store = await open();
      for (let round = 0; round < 10; round++) {
        await Promise.all([
          store.appendEvents([
            materialization(`fwd-${round}`, "p", T0 + round),
            materialization(`fwd-${round}`, "q", T0 + round),
          ]),
          store.appendEvents([
            materialization(`rev-${round}`, "q", T0 + round),
            materialization(`rev-${round}`, "p", T0 + round),
          ]),
        ]);
      }
      expect(await store.getMaterializations("p")).toHaveLength(20);
      const statuses = await store.getAssetStatuses(["p", "q"]);
      for (const s of statuses) {
        const [latest] = await store.getMaterializations(s.assetKey, { limit: 1 });
        expect(s.lastMaterialization?.eventId).toBe(latest!.id);
      }
    });
  });

  describe("atomicity", () => {
    // Each poisons event 1,200 of a 1,500-event batch, so the first insert chunk is already written when it fails.
    const poisons: [string, () => RunEvent][] = [
      [
        "an event body that cannot be serialized (a BigInt)",
        () => materialization("atom", "bad", T0 + 5, { metadata: { n: { type: "json", value: 10n } } }),
      ],
      [
        "an event row the database rejects (null runId)",
        () => ({ ...logEvent("atom", 9_999), runId: null as unknown as string }),
      ],
      [
        "a derived-table row the database rejects (check without severity), after every event is inserted",
        () =>
          ({
            ...checkEvaluation("atom", "a", "bad", T0 + 5, { passed: true, blocking: false }),
            severity: null,
          }) as unknown as RunEvent,
      ],
    ];
    it.each(
      poisons,
    )("an appendEvents call that fails midway stores nothing of that batch: %s", async (_, poison) => {
      const store = await open();
      await store.createRun(newRun("atom"));
      await store.appendEvents([logEvent("atom", 0)]);
      const before = await store.getEvents("atom");

      const batch: RunEvent[] = [
        runStarted("atom", T0 + 1),
        materialization("atom", "a", T0 + 2),
        checkEvaluation("atom", "a", "c", T0 + 3, { passed: true, blocking: false }),
        stepFailed("atom", "b", ["b"], T0 + 4),
        ...logEvents("other-run", 100),
        ...logEvents("atom", 1_395, 1),
        event("atom", T0 + 9, { type: "run_succeeded" }),
      ];
      batch[1_200] = poison();
      expect(batch).toHaveLength(1_500);
      await expect(store.appendEvents(batch)).rejects.toThrow();

      expect(await store.getEvents("atom")).toEqual(before);
      expect(await store.getEvents("other-run")).toEqual([]);
      expect(await store.getRun("atom")).toMatchObject({
        status: "QUEUED",
        startedAt: null,
        endedAt: null,
      });
      expect(await store.getAssetStatuses()).toEqual([]);
      expect(await store.getLatestCheckResults()).toEqual([]);

      // The store is still usable afterwards, and a second store object sees the same.
      await store.appendEvents([runStarted("atom", T0 + 20)]);
      expect(await store.getEvents("atom")).toHaveLength(before.length + 1);
      expect((await store.getRun("atom"))?.status).toBe("STARTED");
      const other = await open();
      expect(await other.getEvents("atom")).toHaveLength(before.length + 1);
      expect(await other.getEvents("other-run")).toEqual([]);
    });

    it("appendEvents on a closed store rejects and stores nothing", async () => {
      const closed = await open();
      const other = await open();
      await closed.close();
      await expect(closed.appendEvents(logEvents("run-1", 3))).rejects.toThrow();
      expect(await other.getEvents("run-1")).toEqual([]);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Run the contract for every backend
// ---------------------------------------------------------------------------------------------------------

for (const backend of storageBackends()) {
  describe.skipIf(backend.skipReason !== null)(`storage contract: ${backend.name}`, () => {
    let current: StorageLocation | undefined;
    const opened: OpenedStorage[] = [];

    beforeAll(() => backend.start());
    afterAll(() => backend.stop());
    beforeEach(async () => {
      current = await backend.createLocation();
    });
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close().catch(() => {});
      if (current !== undefined) await backend.destroyLocation(current);
      current = undefined;
    });

    const location = () => {
      if (current === undefined) throw new Error("no store location: open() called outside a test");
      return current;
    };
    const open = async () => {
      const store = await openStorage(location().options);
      opened.push(store);
      return store;
    };

    storageContract(backend.name, open, location);

    if (backend.name === "sqlite") {
      describe("SQLite across processes", () => {
        it("two processes append to the same file concurrently without SQLITE_BUSY", {
          timeout: 60_000,
        }, async () => {
          const store = await open(); // migrates before the writers start
          const runIds = ["proc-1", "proc-2"];
          const results = await runStoreProcesses(
            runIds.map((runId) => ({ file: location().options.sqlitePath, runId })),
            { batches: 20, perBatch: 50, openAfterGo: false },
          );
          // The writers really overlapped in time (else this would prove nothing).
          expect(Math.max(...results.map((r) => r.start))).toBeLessThan(
            Math.min(...results.map((r) => r.end)),
          );
          for (const runId of runIds) {
            const stored = await store.getEvents(runId);
            expect(messages(stored)).toEqual(Array.from({ length: 1_000 }, (_, i) => `message ${i}`));
            expectIncreasingIds(stored);
          }
        });

        it("processes opening a fresh file at the same moment all succeed and migrate once", {
          timeout: 120_000,
        }, async () => {
          // Racy by nature: a few rounds of four processes, each round on a new file next to this test's store.
          const dir = path.dirname(location().options.sqlitePath);
          for (let round = 0; round < 3; round++) {
            const file = path.join(dir, `race-${round}.db`);
            const results = await runStoreProcesses(
              ["p1", "p2", "p3", "p4"].map((runId) => ({ file, runId })),
              { batches: 1, perBatch: 1, openAfterGo: true },
            );
            const migratedBy = results.filter((r) => r.migrated.length > 0);
            expect(migratedBy).toHaveLength(1);
          }
        });
      });
    }
  });
}

interface ProcessResult {
  readonly runId: string;
  readonly migrated: string[];
  /** Date.now() when the process was released, and when it finished writing. */
  readonly start: number;
  readonly end: number;
}

/**
 * Starts one node process per job, each with its own store on `file` (opened before or after the release,
 * per `openAfterGo`). Once all are ready they are released together; each appends `batches` batches of
 * `perBatch` log events ("message <n>") for its run. Rejects with a process's stderr when it fails.
 */
async function runStoreProcesses(
  jobs: readonly { file: string; runId: string }[],
  options: { batches: number; perBatch: number; openAfterGo: boolean },
): Promise<ProcessResult[]> {
  const openStorageUrl = new URL("../packages/core/src/storage/open-storage.ts", import.meta.url).href;
  const script = `
    const { openStorage } = await import(${JSON.stringify(openStorageUrl)});
    const [file, runId, batches, perBatch, openAfterGo] = process.argv.slice(1);
    let store = openAfterGo === "1" ? undefined : await openStorage({ sqlitePath: file });
    process.stdout.write("ready\\n");
    await new Promise((resolve) => process.stdin.once("data", resolve));
    const start = Date.now();
    store ??= await openStorage({ sqlitePath: file });
    for (let b = 0; b < Number(batches); b++) {
      const events = [];
      for (let i = 0; i < Number(perBatch); i++) {
        const n = b * Number(perBatch) + i;
        events.push({ type: "log", level: "info", message: "message " + n, source: "logger", runId, timestamp: ${T0} + n });
      }
      await store.appendEvents(events);
    }
    const end = Date.now();
    await store.close();
    process.stdout.write("result " + JSON.stringify({ runId, migrated: store.migrated, start, end }) + "\\n");
    process.stdin.destroy();
  `;
  const children = jobs.map(({ file, runId }) => {
    const args = [String(options.batches), String(options.perBatch), options.openAfterGo ? "1" : "0"];
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script, file, runId, ...args],
      {
        cwd: new URL("..", import.meta.url),
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: string) => {
        stdout += chunk;
        if (stdout.includes("ready\n")) resolve();
      });
      child.on("exit", () => reject(new Error(`process ${runId} exited before it was ready:\n${stderr}`)));
    });
    ready.catch(() => {}); // reported through `exited` too
    const exited = new Promise<ProcessResult>((resolve, reject) => {
      child.on("error", reject);
      child.on("exit", (code, signal) => {
        const line = stdout.split("\n").find((l) => l.startsWith("result "));
        if (code === 0 && line !== undefined)
          resolve(JSON.parse(line.slice("result ".length)) as ProcessResult);
        else reject(new Error(`process ${runId} failed (exit ${code ?? signal}):\n${stderr}`));
      });
    });
    return { child, ready, exited };
  });
  try {
    await Promise.all(children.map((c) => c.ready));
    for (const { child } of children) child.stdin.write("go\n");
    return await Promise.all(children.map((c) => c.exited));
  } finally {
    for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}

// ---------------------------------------------------------------------------------------------------------
// openStorage errors (no server needed)
// ---------------------------------------------------------------------------------------------------------

describe("openStorage connection errors", () => {
  async function openError(databaseUrl: string, migrate?: boolean): Promise<StorageError> {
    let store: OpenedStorage | undefined;
    try {
      store = await openStorage({
        databaseUrl,
        sqlitePath: "unused",
        ...(migrate !== undefined ? { migrate } : {}),
      });
    } catch (error) {
      expect(error).toBeInstanceOf(StorageError);
      return error as StorageError;
    }
    await store.close();
    throw new Error(`openStorage(${databaseUrl}) unexpectedly succeeded`);
  }

  it.each([
    ["migrating (the default)", undefined],
    ["without migrating", false],
  ])("an unreachable Postgres URL rejects with a StorageError naming the host and BATON_DATABASE_URL, %s", async (_, migrate) => {
    const error = await openError("postgres://postgres@127.0.0.1:1/x", migrate);
    expect(error.code).toBe("STORAGE_ERROR");
    expect(error.message).toContain("127.0.0.1:1");
    expect(error.message).toContain("BATON_DATABASE_URL");
  });

  it.each([
    ["migrating (the default)", undefined],
    ["without migrating", false],
  ])("never shows the password of an unreachable Postgres URL, %s", async (_, migrate) => {
    const error = await openError("postgres://u:secret@127.0.0.1:1/x", migrate);
    expect(error.message).toContain("127.0.0.1:1");
    expect(error.message).toContain("BATON_DATABASE_URL");
    expect(error.message).not.toContain("secret");
    expect(inspect(error, { depth: 10 })).not.toContain("secret");
  });

  it("rejects a non-postgres URL with a StorageError, without its password", async () => {
    const error = await openError("mysql://u:secret@127.0.0.1:3306/x");
    expect(error.message).toContain("BATON_DATABASE_URL");
    expect(error.message).not.toContain("secret");
  });
});
