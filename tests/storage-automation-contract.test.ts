/**
 * The automation part of the Storage contract, on every backend (SQLite and a throwaway Postgres;
 * select with BATON_TEST_STORAGE=sqlite|postgres|all, default all; under CI a missing Postgres fails
 * instead of skipping): run keys on createRun (idempotent launches, also under races between
 * connections), getRunKeys / listRunKeys, listEndedRuns paging, getMaterializations after an id,
 * schedule/sensor state, ticks, automation evaluations, the key-value table and listBackfills by
 * status. Each test gets a fresh, empty store; "another process" is another store object opened on
 * the same SQLite file / Postgres database through `openStorage`.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { StorageError } from "../packages/core/src/errors.js";
import type {
  RunEvent,
  RunEventBody,
  RunStatus,
  StoredRunEvent,
} from "../packages/core/src/execution/events.js";
import { openStorage } from "../packages/core/src/storage/open-storage.js";
import type {
  AutomationEvaluation,
  BackfillRecord,
  BackfillStatus,
  NewRun,
  RunRecord,
  Storage,
  TickRecord,
} from "../packages/core/src/storage/storage.js";
import { type BackendName, type StorageLocation, storageBackends } from "./support/storage-backends.js";

type OpenedStorage = Awaited<ReturnType<typeof openStorage>>;

const T0 = 1_700_000_000_000;

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
    request: { assetKeys: ["a"] },
    ...overrides,
  };
}

const key = (owner: string, k: string) => ({ runKey: { owner, key: k } });

async function start(store: Storage, runId: string, timestamp: number): Promise<void> {
  await store.appendEvents([
    event(runId, timestamp, {
      type: "run_started",
      steps: [{ stepKey: "a", kind: "asset", assetKeys: ["a"] }],
    }),
  ]);
}

/** Ends a run with a terminal event at `timestamp` (SUCCESS, FAILURE or CANCELED). */
async function end(store: Storage, runId: string, status: RunStatus, timestamp: number): Promise<void> {
  const body: RunEventBody =
    status === "SUCCESS"
      ? { type: "run_succeeded" }
      : status === "FAILURE"
        ? { type: "run_failed", reason: "boom" }
        : { type: "run_canceled", reason: "stop" };
  await store.appendEvents([event(runId, timestamp, body)]);
  expect((await store.getRun(runId))?.status).toBe(status);
}

function materialization(runId: string, assetKey: string, timestamp: number, rows: number): RunEvent {
  return event(runId, timestamp, {
    type: "materialization",
    stepKey: assetKey,
    assetKey,
    metadata: { rows: { type: "row_count", value: rows } },
  });
}

/** Every run of the store (newest first). */
async function allRuns(store: Storage): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listRuns({ limit: 1000, ...(cursor ? { cursor } : {}) });
    out.push(...page.runs);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

/** Pages through listEndedRuns with `limit`, returning the run ids in order and every cursor seen. */
async function pageEnded(
  store: Storage,
  limit: number,
  statuses?: readonly RunStatus[],
  after?: string,
): Promise<{ ids: string[]; cursors: (string | null)[]; pages: number }> {
  const ids: string[] = [];
  const cursors: (string | null)[] = [];
  let cursor = after;
  for (let pages = 1; pages < 100; pages++) {
    const page = await store.listEndedRuns({
      limit,
      ...(statuses ? { statuses } : {}),
      ...(cursor !== undefined ? { after: cursor } : {}),
    });
    cursors.push(page.cursor);
    expect(page.runs.length).toBeLessThanOrEqual(limit);
    ids.push(...page.runs.map((r) => r.runId));
    if (page.runs.length === 0) {
      // An empty page keeps the caller's cursor (nothing new yet).
      expect(page.cursor).toBe(cursor ?? null);
      return { ids, cursors, pages };
    }
    cursor = page.cursor!;
  }
  throw new Error("listEndedRuns never returned an empty page");
}

async function thrown(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the call to throw, but it returned");
}

const ZERO_COUNTS = { targeted: 0, materialized: 0, failed: 0, skipped: 0, canceled: 0, runs: 0 };

function backfill(
  backfillId: string,
  createdAt: number,
): Omit<BackfillRecord, "updatedAt" | "endedAt" | "error"> {
  return {
    backfillId,
    status: "REQUESTED",
    selection: "*",
    assetKeys: ["a"],
    partitionKeys: ["p1"],
    options: { daemon: true },
    counts: { ...ZERO_COUNTS, targeted: 1 },
    createdAt,
  };
}

// ---------------------------------------------------------------------------------------------------------
// The contract
// ---------------------------------------------------------------------------------------------------------

function automationContract(_name: BackendName, open: () => Promise<OpenedStorage>): void {
  describe("run keys on createRun", () => {
    it("the first run of a key is created; the same owner and key again returns the first run and stores nothing", async () => {
      const store = await open();
      expect(await store.createRun(newRun("first", { ...key("sensor:s", "k1"), tags: { n: "1" } }))).toEqual({
        created: true,
        runId: "first",
      });
      expect(
        await store.createRun(
          newRun("second", { ...key("sensor:s", "k1"), tags: { n: "2" }, selection: "b", createdAt: T0 + 5 }),
        ),
      ).toEqual({ created: false, runId: "first" });
      expect(await store.getRun("second")).toBeUndefined();
      // The first run is untouched by the refused one.
      expect(await store.getRun("first")).toMatchObject({ runId: "first", tags: { n: "1" }, selection: "*" });
      expect((await allRuns(store)).map((r) => r.runId)).toEqual(["first"]);

      // The same key under another owner, another key of the same owner, and a run without a key: created.
      expect(await store.createRun(newRun("other-owner", key("schedule:s", "k1")))).toEqual({
        created: true,
        runId: "other-owner",
      });
      expect(await store.createRun(newRun("other-key", key("sensor:s", "k2")))).toEqual({
        created: true,
        runId: "other-key",
      });
      expect(await store.createRun(newRun("no-key"))).toEqual({ created: true, runId: "no-key" });
      expect(await store.createRun(newRun("null-key", { runKey: null }))).toEqual({
        created: true,
        runId: "null-key",
      });
      // Keys are compared exactly (case-sensitive), and are stored with their run.
      expect(await store.createRun(newRun("upper", key("sensor:s", "K1")))).toEqual({
        created: true,
        runId: "upper",
      });
      expect(await store.getRunKeys("sensor:s", ["k1", "k2", "K1", "k3"])).toEqual(
        new Map([
          ["k1", "first"],
          ["k2", "other-key"],
          ["K1", "upper"],
        ]),
      );
      expect(await store.getRunKeys("schedule:s", ["k1", "k2"])).toEqual(new Map([["k1", "other-owner"]]));
      expect((await allRuns(store)).map((r) => r.runId).sort()).toEqual(
        ["first", "no-key", "null-key", "other-key", "other-owner", "upper"].sort(),
      );

      // A key stays used after its run ended: a repeated launch still finds the ended run.
      await end(store, "first", "FAILURE", T0 + 10);
      expect(await store.createRun(newRun("third", key("sensor:s", "k1")))).toEqual({
        created: false,
        runId: "first",
      });
      expect(await store.getRun("third")).toBeUndefined();
    });

    it("createRuns (one statement per chunk): a key already stored, a key repeated in the batch, no key, in order", async () => {
      const store = await open();
      await store.createRun(newRun("stored", key("backfill:b", "0")));
      const results = await store.createRuns([
        newRun("a", key("backfill:b", "0")),
        newRun("b", key("backfill:b", "1")),
        newRun("c", key("backfill:b", "1")),
        newRun("d"),
        newRun("e", key("backfill:other", "1")),
        newRun("f", { runKey: null }),
      ]);
      expect(results).toEqual([
        { created: false, runId: "stored" },
        { created: true, runId: "b" },
        { created: false, runId: "b" },
        { created: true, runId: "d" },
        { created: true, runId: "e" },
        { created: true, runId: "f" },
      ]);
      expect((await allRuns(store)).map((r) => r.runId).sort()).toEqual(["b", "d", "e", "f", "stored"]);
      expect(await store.getRunKeys("backfill:b", ["0", "1"])).toEqual(
        new Map([
          ["0", "stored"],
          ["1", "b"],
        ]),
      );
    });

    it("a run whose insert fails does not use up its key", async () => {
      const store = await open();
      await store.createRun(newRun("taken"));
      // Same run id as an existing run: the run insert fails, and the key written before it must roll back.
      await expect(store.createRun(newRun("taken", key("backfill:b", "0")))).rejects.toThrow();
      expect(await store.getRunKeys("backfill:b", ["0"])).toEqual(new Map());
      expect(await store.createRun(newRun("fresh", key("backfill:b", "0")))).toEqual({
        created: true,
        runId: "fresh",
      });
    });

    it("20 concurrent createRun calls with one key make exactly one run", async () => {
      const store = await open();
      for (let round = 0; round < 3; round++) {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.createRun(
              newRun(`r${round}-${i}`, { ...key("sensor:race", `k${round}`), createdAt: T0 + i }),
            ),
          ),
        );
        const created = results.filter((r) => r.created);
        expect(created).toHaveLength(1);
        const winner = created[0]!.runId;
        // Everyone is told the same run.
        expect(new Set(results.map((r) => r.runId))).toEqual(new Set([winner]));
        expect(await store.getRunKeys("sensor:race", [`k${round}`])).toEqual(
          new Map([[`k${round}`, winner]]),
        );
        const runs = (await allRuns(store)).filter((r) => r.runId.startsWith(`r${round}-`));
        expect(runs.map((r) => r.runId)).toEqual([winner]);
      }
    });

    it("20 concurrent createRun calls with one key from 2 connections make exactly one run", async () => {
      const stores = [await open(), await open()];
      for (let round = 0; round < 3; round++) {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            stores[i % 2]!.createRun(
              newRun(`r${round}-${i}`, { ...key("backfill:race", String(round)), createdAt: T0 + i }),
            ),
          ),
        );
        const created = results.filter((r) => r.created);
        expect(created, JSON.stringify(results)).toHaveLength(1);
        const winner = created[0]!.runId;
        expect(new Set(results.map((r) => r.runId))).toEqual(new Set([winner]));
        for (const s of stores) {
          const runs = (await allRuns(s)).filter((r) => r.runId.startsWith(`r${round}-`));
          expect(runs.map((r) => r.runId)).toEqual([winner]);
        }
      }
    });
  });

  describe("getRunKeys and listRunKeys", () => {
    it("getRunKeys answers for 1,050 keys at once (more than one chunk), only the owner's used keys", async () => {
      const store = await open();
      const used = Array.from({ length: 1050 }, (_, i) => `unit-${i}`);
      for (let i = 0; i < used.length; i += 50)
        await Promise.all(
          used.slice(i, i + 50).map((k) => store.createRun(newRun(`run-${k}`, key("backfill:big", k)))),
        );
      // Another owner using some of the same keys must not show up.
      await store.createRun(newRun("foreign-0", key("backfill:other", "unit-0")));
      await store.createRun(newRun("foreign-x", key("backfill:other", "only-other")));

      const asked = [...used, "missing-1", "only-other", "missing-2"];
      const found = await store.getRunKeys("backfill:big", asked);
      expect(found.size).toBe(1050);
      for (const k of used) expect(found.get(k)).toBe(`run-${k}`);
      expect(found.has("missing-1")).toBe(false);
      expect(found.has("only-other")).toBe(false);
      // Keys in the last chunk only, and keys in several chunks interleaved with unused ones.
      expect(await store.getRunKeys("backfill:big", ["nope", "unit-1049"])).toEqual(
        new Map([["unit-1049", "run-unit-1049"]]),
      );
      expect(await store.getRunKeys("backfill:other", asked)).toEqual(
        new Map([
          ["unit-0", "foreign-0"],
          ["only-other", "foreign-x"],
        ]),
      );
      expect(await store.getRunKeys("backfill:big", [])).toEqual(new Map());
      expect(await store.getRunKeys("backfill:nobody", used)).toEqual(new Map());
    });

    it("listRunKeys returns every key of an owner with its run's status, filtered by the run's updated time", async () => {
      const store = await open();
      const owner = "backfill:bf";
      await store.createRun(newRun("r0", { ...key(owner, "0"), createdAt: T0 }));
      await store.createRun(newRun("r1", { ...key(owner, "1"), createdAt: T0 + 10 }));
      await store.createRun(newRun("r2", { ...key(owner, "2"), createdAt: T0 + 20 }));
      await store.createRun(newRun("r3", { ...key(owner, "3"), createdAt: T0 + 30 }));
      await store.createRun(newRun("not-mine", { ...key("backfill:other", "0"), createdAt: T0 + 40 }));
      await store.createRun(newRun("no-key", { createdAt: T0 + 50 }));

      const sortByKey = <T extends { key: string }>(rows: T[]) =>
        [...rows].sort((a, b) => (a.key < b.key ? -1 : 1));
      expect(sortByKey(await store.listRunKeys(owner))).toEqual([
        { key: "0", runId: "r0", status: "QUEUED", updatedAt: T0 },
        { key: "1", runId: "r1", status: "QUEUED", updatedAt: T0 + 10 },
        { key: "2", runId: "r2", status: "QUEUED", updatedAt: T0 + 20 },
        { key: "3", runId: "r3", status: "QUEUED", updatedAt: T0 + 30 },
      ]);

      // Runs move on: a claim, a start, an end, a cancel each update the run (and so its row here).
      await store.claimRuns({ workerId: "w", limit: 1, now: T0 + 100 }); // r0 → STARTING
      await start(store, "r1", T0 + 110);
      await end(store, "r1", "SUCCESS", T0 + 120);
      await store.requestCancel("r3", T0 + 130); // queued: CANCELED at once
      expect(sortByKey(await store.listRunKeys(owner))).toEqual([
        { key: "0", runId: "r0", status: "STARTING", updatedAt: T0 + 100 },
        { key: "1", runId: "r1", status: "SUCCESS", updatedAt: T0 + 120 },
        { key: "2", runId: "r2", status: "QUEUED", updatedAt: T0 + 20 },
        { key: "3", runId: "r3", status: "CANCELED", updatedAt: T0 + 130 },
      ]);

      // updatedSince is inclusive and reads runs.updated_at (not when the key was written).
      expect(sortByKey(await store.listRunKeys(owner, { updatedSince: T0 + 120 }))).toEqual([
        { key: "1", runId: "r1", status: "SUCCESS", updatedAt: T0 + 120 },
        { key: "3", runId: "r3", status: "CANCELED", updatedAt: T0 + 130 },
      ]);
      expect((await store.listRunKeys(owner, { updatedSince: T0 + 20 })).map((r) => r.key).sort()).toEqual([
        "0",
        "1",
        "2",
        "3",
      ]);
      expect(await store.listRunKeys(owner, { updatedSince: T0 + 131 })).toEqual([]);
      expect(await store.listRunKeys("backfill:nobody")).toEqual([]);
    });
  });

  describe("listEndedRuns", () => {
    it("is empty with a null cursor on an empty store", async () => {
      const store = await open();
      expect(await store.listEndedRuns()).toEqual({ runs: [], cursor: null });
      await store.createRun(newRun("queued"));
      expect(await store.listEndedRuns()).toEqual({ runs: [], cursor: null });
    });

    it("lists ended runs in the order their ends were stored, paging by cursor without gaps or duplicates", async () => {
      const store = await open();
      // Created (id order) a..j; they end in another order, with end times out of that order too (five in
      // the same millisecond, f stamped earliest but stored late).
      const ids = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
      for (const [i, id] of ids.entries()) await store.createRun(newRun(id, { createdAt: T0 + i }));
      const endings: [string, RunStatus, number][] = [
        ["j", "SUCCESS", T0 + 100],
        ["c", "FAILURE", T0 + 200],
        ["h", "SUCCESS", T0 + 200],
        ["a", "SUCCESS", T0 + 200],
        ["e", "CANCELED", T0 + 200],
        ["b", "SUCCESS", T0 + 200],
        ["f", "SUCCESS", T0 + 50],
        ["g", "FAILURE", T0 + 300],
      ];
      for (const [id, status, at] of endings) {
        await start(store, id, at - 1);
        await end(store, id, status, at);
      }
      await start(store, "d", T0 + 250); // still running: never listed
      // i stays queued.
      const expected = endings.map(([id]) => id);

      const all = await store.listEndedRuns();
      expect(all.runs.map((r) => r.runId)).toEqual(expected);
      expect(all.runs.map((r) => [r.status, r.endedAt])).toEqual(
        endings.map(([, status, at]) => [status, at]),
      );
      expect(all.cursor).toMatch(/^\d+$/);

      for (const limit of [1, 2, 3, 5]) {
        const paged = await pageEnded(store, limit);
        expect(paged.ids, `limit ${limit}`).toEqual(expected);
        expect(paged.pages).toBe(Math.ceil(expected.length / limit) + 1);
        for (const c of paged.cursors) expect(c).toMatch(/^\d+$/);
      }

      // After the last cursor: nothing, until more runs end — then exactly those, in order.
      const last = all.cursor!;
      expect(await store.listEndedRuns({ after: last })).toEqual({ runs: [], cursor: last });
      await end(store, "d", "SUCCESS", T0 + 400);
      await store.requestCancel("i", T0 + 400); // queued: CANCELED at once, same millisecond
      const more = await store.listEndedRuns({ after: last });
      expect(more.runs.map((r) => [r.runId, r.status, r.endedAt])).toEqual([
        ["d", "SUCCESS", T0 + 400],
        ["i", "CANCELED", T0 + 400],
      ]);
      // A cursor from the middle of a page resumes right after that run.
      const firstThree = await store.listEndedRuns({ limit: 3 });
      expect(firstThree.runs.map((r) => r.runId)).toEqual(["j", "c", "h"]);
      expect(
        (await store.listEndedRuns({ after: firstThree.cursor!, limit: 2 })).runs.map((r) => r.runId),
      ).toEqual(["a", "e"]);
      // Runs ended in one batch of events are all listed, in the batch's order.
      for (const id of ["k", "l", "m"]) await store.createRun(newRun(id));
      await store.appendEvents([
        event("m", T0 + 500, { type: "run_succeeded" }),
        event("k", T0 + 499, { type: "run_failed", reason: "boom" }),
        event("l", T0 + 501, { type: "run_canceled", reason: "stop" }),
      ]);
      expect((await pageEnded(store, 2, undefined, more.cursor!)).ids).toEqual(["m", "k", "l"]);
    });

    it("filters by status, paging within the filter", async () => {
      const store = await open();
      const plan: [string, RunStatus][] = [
        ["s1", "SUCCESS"],
        ["f1", "FAILURE"],
        ["s2", "SUCCESS"],
        ["c1", "CANCELED"],
        ["f2", "FAILURE"],
        ["s3", "SUCCESS"],
        ["f3", "FAILURE"],
      ];
      for (const [i, [id, status]] of plan.entries()) {
        await store.createRun(newRun(id, { createdAt: T0 + i }));
        await end(store, id, status, T0 + 10 * (i + 1));
      }
      expect((await store.listEndedRuns({ statuses: ["FAILURE"] })).runs.map((r) => r.runId)).toEqual([
        "f1",
        "f2",
        "f3",
      ]);
      expect((await pageEnded(store, 1, ["FAILURE", "CANCELED"])).ids).toEqual(["f1", "c1", "f2", "f3"]);
      expect((await pageEnded(store, 2, ["SUCCESS"])).ids).toEqual(["s1", "s2", "s3"]);
      // A cursor taken under one filter works under another (it is a position in the stored ends).
      const afterF1 = (await store.listEndedRuns({ statuses: ["FAILURE"], limit: 1 })).cursor!;
      expect(
        (await store.listEndedRuns({ after: afterF1, statuses: ["SUCCESS"] })).runs.map((r) => r.runId),
      ).toEqual(["s2", "s3"]);
      expect((await store.listEndedRuns({ statuses: [] })).runs).toHaveLength(7);
    });

    // A worker stamps a run's end before its (batched) write commits, and workers' clocks differ: a run
    // whose end is stored after another run that ended later was paged past must still be listed (a
    // run-status sensor must not miss it). Ordering by ended_at could not do that.
    it("a run whose end is stored after the cursor passed a later end time is still listed", async () => {
      const store = await open();
      await store.createRun(newRun("slow-write"));
      await store.createRun(newRun("fast-write"));
      await start(store, "slow-write", T0 + 1);
      await start(store, "fast-write", T0 + 2);
      await end(store, "fast-write", "SUCCESS", T0 + 20);
      const page = await store.listEndedRuns();
      expect(page.runs.map((r) => r.runId)).toEqual(["fast-write"]);
      // slow-write ended at T0 + 10 (on another worker), but its events reach the store only now.
      await end(store, "slow-write", "FAILURE", T0 + 10);
      const next = await store.listEndedRuns({ after: page.cursor! });
      expect(next.runs.map((r) => [r.runId, r.endedAt])).toEqual([["slow-write", T0 + 10]]);
      expect(await store.listEndedRuns({ after: next.cursor! })).toEqual({ runs: [], cursor: next.cursor });
    });

    it("rejects a malformed cursor with a StorageError naming it", async () => {
      const store = await open();
      await store.createRun(newRun("a"));
      await end(store, "a", "SUCCESS", T0 + 1);
      for (const bad of ["nonsense", "12:ab", "1:2", "-1", "", "1.5", "1e3", " 7", "99999999999999999999"]) {
        const error = await thrown(() => store.listEndedRuns({ after: bad }));
        expect(error, bad).toBeInstanceOf(StorageError);
        expect((error as StorageError).code).toBe("STORAGE_ERROR");
        expect(error.message).toContain(`"${bad}"`);
        expect(error.message).toContain("cursor");
      }
      // "0" is a valid position: before everything.
      expect((await store.listEndedRuns({ after: "0" })).runs.map((r) => r.runId)).toEqual(["a"]);
    });
  });

  describe("getMaterializations after an id", () => {
    it("returns the asset's materializations after the id, oldest first; without it newest first", async () => {
      const store = await open();
      await store.createRun(newRun("run-1"));
      await store.createRun(newRun("run-2"));
      await store.appendEvents([
        materialization("run-1", "a", T0 + 1, 1),
        materialization("run-1", "b", T0 + 2, 100),
        materialization("run-1", "a", T0 + 3, 2),
        event("run-1", T0 + 4, { type: "log", level: "info", message: "between", source: "logger" }),
      ]);
      await store.appendEvents([
        materialization("run-2", "a", T0 + 5, 3),
        materialization("run-2", "b", T0 + 6, 200),
      ]);
      await store.appendEvents([
        materialization("run-2", "a", T0 + 7, 4),
        materialization("run-2", "a", T0 + 8, 5),
      ]);

      const newestFirst = await store.getMaterializations("a");
      const rowsOf = (events: readonly StoredRunEvent[]) =>
        events.map((e) => (e.type === "materialization" ? e.metadata.rows?.value : undefined));
      expect(rowsOf(newestFirst)).toEqual([5, 4, 3, 2, 1]);
      const ids = newestFirst.map((e) => e.id);
      const [id5, id4, id3, id2, id1] = ids as [number, number, number, number, number];
      expect([...ids].sort((x, y) => x - y)).toEqual([id1, id2, id3, id4, id5]);

      const after2 = await store.getMaterializations("a", { afterId: id2 });
      expect(after2.map((e) => e.id)).toEqual([id3, id4, id5]);
      expect(rowsOf(after2)).toEqual([3, 4, 5]);
      expect(after2.every((e) => e.type === "materialization" && e.assetKey === "a")).toBe(true);
      expect(after2[0]).toMatchObject({ runId: "run-2", timestamp: T0 + 5 });
      // The limit takes the oldest ones after the id (a cursor can move forward without skipping).
      expect((await store.getMaterializations("a", { afterId: id1, limit: 2 })).map((e) => e.id)).toEqual([
        id2,
        id3,
      ]);
      expect((await store.getMaterializations("a", { afterId: 0 })).map((e) => e.id)).toEqual([
        id1,
        id2,
        id3,
        id4,
        id5,
      ]);
      expect(await store.getMaterializations("a", { afterId: id5 })).toEqual([]);
      // An id of another asset's event is a position too.
      const bIds = (await store.getMaterializations("b")).map((e) => e.id);
      expect(rowsOf(await store.getMaterializations("b", { afterId: bIds[1]! }))).toEqual([200]);
      expect((await store.getMaterializations("a", { afterId: bIds[1]! })).map((e) => e.id)).toEqual(
        [id1, id2, id3, id4, id5].filter((id) => id > bIds[1]!),
      );
      expect(await store.getMaterializations("unknown", { afterId: 0 })).toEqual([]);
    });
  });

  describe("instigator state", () => {
    it("set creates, get and list read back; partial patches keep other fields; null clears, undefined keeps", async () => {
      const store = await open();
      expect(await store.getInstigatorState("nightly")).toBeUndefined();
      expect(await store.listInstigatorStates()).toEqual([]);

      await store.setInstigatorState(
        "nightly",
        "schedule",
        { status: "RUNNING", cursor: "c1", lastTickAt: T0 },
        T0 + 1,
      );
      expect(await store.getInstigatorState("nightly")).toEqual({
        name: "nightly",
        kind: "schedule",
        status: "RUNNING",
        cursor: "c1",
        lastTickAt: T0,
        updatedAt: T0 + 1,
      });

      // Only the cursor: status and lastTickAt stay.
      await store.setInstigatorState("nightly", "schedule", { cursor: "c2" }, T0 + 2);
      expect(await store.getInstigatorState("nightly")).toEqual({
        name: "nightly",
        kind: "schedule",
        status: "RUNNING",
        cursor: "c2",
        lastTickAt: T0,
        updatedAt: T0 + 2,
      });

      // status null: back to the definition's default; the cursor stays.
      await store.setInstigatorState("nightly", "schedule", { status: null }, T0 + 3);
      expect(await store.getInstigatorState("nightly")).toMatchObject({
        status: null,
        cursor: "c2",
        lastTickAt: T0,
        updatedAt: T0 + 3,
      });

      // Explicit undefined fields keep their values too; an empty patch only touches updatedAt.
      await store.setInstigatorState(
        "nightly",
        "schedule",
        { status: undefined, cursor: undefined, lastTickAt: T0 + 50 },
        T0 + 4,
      );
      await store.setInstigatorState("nightly", "schedule", {}, T0 + 5);
      expect(await store.getInstigatorState("nightly")).toEqual({
        name: "nightly",
        kind: "schedule",
        status: null,
        cursor: "c2",
        lastTickAt: T0 + 50,
        updatedAt: T0 + 5,
      });

      await store.setInstigatorState(
        "nightly",
        "schedule",
        { status: "STOPPED", cursor: null, lastTickAt: null },
        T0 + 6,
      );
      expect(await store.getInstigatorState("nightly")).toEqual({
        name: "nightly",
        kind: "schedule",
        status: "STOPPED",
        cursor: null,
        lastTickAt: null,
        updatedAt: T0 + 6,
      });

      // A first set with a partial patch: the rest is null.
      await store.setInstigatorState("files", "sensor", { cursor: '{"mtime":1}' }, T0 + 7);
      await store.setInstigatorState("a-sensor", "sensor", { status: "RUNNING" }, T0 + 8);
      expect(await store.getInstigatorState("files")).toEqual({
        name: "files",
        kind: "sensor",
        status: null,
        cursor: '{"mtime":1}',
        lastTickAt: null,
        updatedAt: T0 + 7,
      });
      // Sorted by name.
      expect(await store.listInstigatorStates()).toEqual([
        {
          name: "a-sensor",
          kind: "sensor",
          status: "RUNNING",
          cursor: null,
          lastTickAt: null,
          updatedAt: T0 + 8,
        },
        {
          name: "files",
          kind: "sensor",
          status: null,
          cursor: '{"mtime":1}',
          lastTickAt: null,
          updatedAt: T0 + 7,
        },
        {
          name: "nightly",
          kind: "schedule",
          status: "STOPPED",
          cursor: null,
          lastTickAt: null,
          updatedAt: T0 + 6,
        },
      ]);
    });

    it("a long cursor round-trips", async () => {
      const store = await open();
      const cursor = JSON.stringify({
        files: Array.from({ length: 2000 }, (_, i) => [`/data/f${i}.csv`, T0 + i]),
      });
      await store.setInstigatorState("big", "sensor", { cursor }, T0);
      expect((await store.getInstigatorState("big"))?.cursor).toBe(cursor);
    });

    it("concurrent upserts of a new name from 2 connections: one row, no error", async () => {
      const [s1, s2] = [await open(), await open()];
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? s1 : s2)!.setInstigatorState("raced", "sensor", { cursor: `c${i}` }, T0 + i),
        ),
      );
      const states = await s1!.listInstigatorStates();
      expect(states).toHaveLength(1);
      expect(states[0]).toMatchObject({ name: "raced", kind: "sensor", status: null });
      expect(states[0]!.cursor).toMatch(/^c\d$/);
    });
  });

  describe("ticks", () => {
    const tick = (
      name: string,
      i: number,
      overrides: Partial<Omit<TickRecord, "id">> = {},
    ): Omit<TickRecord, "id"> => ({
      name,
      kind: "sensor",
      timestamp: T0 + i * 1000,
      status: "SKIPPED",
      runIds: [],
      skipReason: `nothing new ${i}`,
      error: null,
      cursor: `cursor-${i}`,
      durationMs: i,
      ...overrides,
    });

    it("addTick returns increasing ids; listTicks is newest first, per name, with limit and beforeId", async () => {
      const store = await open();
      const ids: number[] = [];
      for (let i = 0; i < 25; i++) {
        ids.push(await store.addTick(tick("s", i)));
        if (i % 5 === 0) await store.addTick(tick("other", i, { kind: "schedule" }));
      }
      for (let i = 1; i < ids.length; i++) expect(ids[i]!).toBeGreaterThan(ids[i - 1]!);
      expect(ids.every(Number.isSafeInteger)).toBe(true);

      // Default limit 20.
      const page = await store.listTicks("s");
      expect(page.map((t) => t.id)).toEqual([...ids].reverse().slice(0, 20));
      expect(page[0]).toEqual({ id: ids[24], ...tick("s", 24) });
      expect((await store.listTicks("s", { limit: 3 })).map((t) => t.durationMs)).toEqual([24, 23, 22]);
      expect((await store.listTicks("s", { limit: 4, beforeId: ids[10]! })).map((t) => t.durationMs)).toEqual(
        [9, 8, 7, 6],
      );
      expect((await store.listTicks("s", { beforeId: ids[2]! })).map((t) => t.durationMs)).toEqual([1, 0]);
      expect(await store.listTicks("s", { beforeId: ids[0]! })).toEqual([]);
      expect((await store.listTicks("s", { limit: 1000 })).length).toBe(25);
      expect((await store.listTicks("other", { limit: 100 })).map((t) => [t.kind, t.durationMs])).toEqual([
        ["schedule", 20],
        ["schedule", 15],
        ["schedule", 10],
        ["schedule", 5],
        ["schedule", 0],
      ]);
      expect(await store.listTicks("nobody")).toEqual([]);
    });

    it("every field round-trips: run ids, skip reason, error, cursor, status", async () => {
      const store = await open();
      const success = tick("s", 1, {
        status: "SUCCESS",
        runIds: ["run-a", "run-b", "run-c"],
        skipReason: null,
        cursor: null,
        durationMs: 1234,
      });
      const failure = tick("s", 2, {
        status: "FAILURE",
        runIds: [],
        skipReason: null,
        error: 'TypeError: bad "thing"\n    at sensor (defs.ts:1:2)',
        durationMs: 0,
      });
      const skipped = tick("s", 3, { kind: "schedule", skipReason: "é 🚕 skip", runIds: [] });
      const id1 = await store.addTick(success);
      const id2 = await store.addTick(failure);
      const id3 = await store.addTick(skipped);
      expect(await store.listTicks("s")).toEqual([
        { id: id3, ...skipped },
        { id: id2, ...failure },
        { id: id1, ...success },
      ]);
    });
  });

  describe("automation evaluations", () => {
    it("2,500 evaluations in one call (several insert chunks) are all stored; list by asset is newest first", async () => {
      const store = await open();
      const evaluations: Omit<AutomationEvaluation, "id">[] = Array.from({ length: 2500 }, (_, i) => ({
        assetKey: i % 5 === 0 ? "a" : "b",
        timestamp: T0 + i,
        condition: i % 2 ? "eager" : "on_cron(0 * * * *)",
        launched: i % 3 === 0,
        reason: `decision ${i}`,
        partitionKeys: i % 4 === 0 ? null : [`p${i}`, `q${i}`],
        runId: i % 3 === 0 ? `run-${i}` : null,
      }));
      await store.addAutomationEvaluations(evaluations);
      await store.addAutomationEvaluations([]);

      const ofA = await store.listAutomationEvaluations({ assetKey: "a", limit: 1000 });
      expect(ofA).toHaveLength(500);
      const expectedA = evaluations.filter((e) => e.assetKey === "a").reverse();
      expect(ofA.map(({ id: _id, ...rest }) => rest)).toEqual(expectedA);
      for (let i = 1; i < ofA.length; i++) expect(ofA[i]!.id).toBeLessThan(ofA[i - 1]!.id);

      const ofB = await store.listAutomationEvaluations({ assetKey: "b", limit: 1000 });
      expect(ofB).toHaveLength(1000);
      // The 1,000 newest of b, across the insert chunks.
      expect(ofB.map(({ id: _id, ...rest }) => rest)).toEqual(
        evaluations
          .filter((e) => e.assetKey === "b")
          .reverse()
          .slice(0, 1000),
      );

      const newest = await store.listAutomationEvaluations();
      expect(newest).toHaveLength(50);
      expect(newest.map((e) => e.reason)).toEqual(
        Array.from({ length: 50 }, (_, i) => `decision ${2499 - i}`),
      );
      expect(
        (await store.listAutomationEvaluations({ assetKey: "a", limit: 2 })).map((e) => e.timestamp),
      ).toEqual([T0 + 2495, T0 + 2490]);
      expect(await store.listAutomationEvaluations({ assetKey: "c" })).toEqual([]);

      // Later calls come after: newest first across calls.
      await store.addAutomationEvaluations([
        {
          assetKey: "a",
          timestamp: T0 - 1, // an older timestamp, but the newest decision stored
          condition: "eager",
          launched: true,
          reason: "late",
          partitionKeys: [],
          runId: "run-late",
        },
      ]);
      const [latest] = await store.listAutomationEvaluations({ assetKey: "a", limit: 1 });
      expect(latest).toMatchObject({ reason: "late", launched: true, partitionKeys: [], runId: "run-late" });
      expect(latest!.id).toBeGreaterThan(ofA[0]!.id);
    });
  });

  describe("key-value table", () => {
    it("get/set with overwrite, keys independent", async () => {
      const store = await open();
      expect(await store.getValue("daemon:heartbeat")).toBeUndefined();
      await store.setValue("daemon:heartbeat", "1", T0);
      await store.setValue("reload:requested", "", T0);
      expect(await store.getValue("daemon:heartbeat")).toBe("1");
      expect(await store.getValue("reload:requested")).toBe("");
      await store.setValue("daemon:heartbeat", "2", T0 + 1);
      expect(await store.getValue("daemon:heartbeat")).toBe("2");
      const big = "x".repeat(100_000);
      await store.setValue("big", big, T0 + 2);
      expect(await store.getValue("big")).toBe(big);
      expect(await store.getValue("reload:requested")).toBe("");
      expect(await store.getValue("DAEMON:HEARTBEAT")).toBeUndefined();
    });
  });

  describe("listBackfills by status", () => {
    it("filters by statuses, newest first, paging within the filter", async () => {
      const store = await open();
      const statuses: BackfillStatus[] = [
        "REQUESTED",
        "RUNNING",
        "COMPLETED",
        "CANCELING",
        "RUNNING",
        "FAILED",
        "CANCELED",
        "RUNNING",
        "REQUESTED",
      ];
      for (const [i, status] of statuses.entries()) {
        await store.createBackfill(backfill(`bf-${i}`, T0 + i));
        if (status !== "REQUESTED") await store.updateBackfill(`bf-${i}`, { status });
      }
      const ids = async (q: Parameters<Storage["listBackfills"]>[0]) =>
        (await store.listBackfills(q)).backfills.map((b) => b.backfillId);
      expect(await ids({ statuses: ["REQUESTED", "RUNNING", "CANCELING"] })).toEqual([
        "bf-8",
        "bf-7",
        "bf-4",
        "bf-3",
        "bf-1",
        "bf-0",
      ]);
      expect(await ids({ statuses: ["COMPLETED"] })).toEqual(["bf-2"]);
      expect(await ids({ statuses: ["FAILED", "CANCELED"] })).toEqual(["bf-6", "bf-5"]);
      expect(await ids({ statuses: [] })).toHaveLength(9);
      expect(await ids({})).toHaveLength(9);

      // Paging within a filter: 2, 2, 1 and no further page.
      const seen: string[] = [];
      let cursor: string | undefined;
      const pages: number[] = [];
      do {
        const page = await store.listBackfills({
          statuses: ["RUNNING", "REQUESTED"],
          limit: 2,
          ...(cursor ? { cursor } : {}),
        });
        pages.push(page.backfills.length);
        seen.push(...page.backfills.map((b) => b.backfillId));
        for (const b of page.backfills) expect(["RUNNING", "REQUESTED"]).toContain(b.status);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(["bf-8", "bf-7", "bf-4", "bf-1", "bf-0"]);
      expect(pages).toEqual([2, 2, 1]);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Run the contract for every backend
// ---------------------------------------------------------------------------------------------------------

for (const backend of storageBackends()) {
  describe.skipIf(backend.skipReason !== null)(`storage automation contract: ${backend.name}`, () => {
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

    const open = async () => {
      if (current === undefined) throw new Error("no store location: open() called outside a test");
      const store = await openStorage(current.options);
      opened.push(store);
      return store;
    };

    automationContract(backend.name, open);
  });
}
