/**
 * The run queue part of the Storage contract (claimRuns, heartbeat, workers, requestCancel, staleRuns,
 * leases), run against every backend like tests/storage-contract.test.ts: SQLite and a throwaway
 * Postgres (select with BATON_TEST_STORAGE=sqlite|postgres|all, default all; under CI a missing
 * Postgres fails instead of skipping). Each test gets a fresh, empty store; "several machines" are
 * several store objects opened on the same SQLite file / Postgres database through `openStorage`.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunEvent, RunEventBody } from "../packages/core/src/execution/events.js";
import { openStorage } from "../packages/core/src/storage/open-storage.js";
import type {
  ClaimOptions,
  NewRun,
  QueuedRunRequest,
  RunRecord,
  Storage,
  TagLimit,
  WorkerRecord,
} from "../packages/core/src/storage/storage.js";
import { type BackendName, type StorageLocation, storageBackends } from "./support/storage-backends.js";

type OpenedStorage = Awaited<ReturnType<typeof openStorage>>;
type WorkerInfo = Omit<WorkerRecord, "heartbeatAt" | "status">;

const T0 = 1_700_000_000_000;
/** When the claims in these tests happen (after every run was created). */
const NOW = T0 + 60_000;
const REQUEST: QueuedRunRequest = { assetKeys: ["a"] };
const DUCKDB = { database: "duckdb" } as const;
const POSTGRES = { database: "postgres" } as const;
const DUCKDB_LIMIT_1: TagLimit = { key: "database", value: "duckdb", limit: 1 };

// ---------------------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------------------

function event(runId: string, timestamp: number, body: RunEventBody): RunEvent {
  return { ...body, runId, timestamp };
}

/** A queued run as `launchRun` makes it: with a request (what a worker executes). */
function queuedRun(runId: string, overrides: Partial<NewRun> = {}): NewRun {
  return {
    runId,
    status: "QUEUED",
    selection: "*",
    assetKeys: ["a"],
    config: {},
    tags: {},
    createdAt: T0,
    request: REQUEST,
    ...overrides,
  };
}

interface QueueSpec {
  readonly runId: string;
  readonly priority?: number;
  readonly tags?: Record<string, string>;
}

/** Creates queued runs one after the other (so the list order is the age order), createdAt increasing. */
async function enqueue(store: Storage, specs: readonly (QueueSpec | string)[]): Promise<void> {
  let i = 0;
  for (const spec of specs) {
    const s = typeof spec === "string" ? { runId: spec } : spec;
    await store.createRun(
      queuedRun(s.runId, {
        createdAt: T0 + i++,
        ...(s.priority !== undefined ? { priority: s.priority } : {}),
        ...(s.tags !== undefined ? { tags: s.tags } : {}),
      }),
    );
  }
}

function claim(store: Storage, options: Partial<ClaimOptions> = {}): Promise<RunRecord[]> {
  return store.claimRuns({ workerId: "w1", limit: 100, now: NOW, ...options });
}

async function claimIds(store: Storage, options: Partial<ClaimOptions> = {}): Promise<string[]> {
  return (await claim(store, options)).map((r) => r.runId);
}

async function statusOf(store: Storage, runId: string): Promise<string | undefined> {
  return (await store.getRun(runId))?.status;
}

async function start(store: Storage, runId: string, timestamp = NOW + 1): Promise<void> {
  await store.appendEvents([
    event(runId, timestamp, {
      type: "run_started",
      steps: [{ stepKey: "a", kind: "asset", assetKeys: ["a"] }],
    }),
  ]);
}

async function succeed(store: Storage, runId: string, timestamp = NOW + 2): Promise<void> {
  await store.appendEvents([event(runId, timestamp, { type: "run_succeeded" })]);
  expect(await statusOf(store, runId)).toBe("SUCCESS");
}

async function fail(store: Storage, runId: string, timestamp = NOW + 2): Promise<void> {
  await store.appendEvents([event(runId, timestamp, { type: "run_failed", reason: "boom" })]);
  expect(await statusOf(store, runId)).toBe("FAILURE");
}

/** Every run of the store by id (listRuns pages through at most 1000). */
async function allRuns(store: Storage): Promise<Map<string, RunRecord>> {
  const { runs } = await store.listRuns({ limit: 1000 });
  return new Map(runs.map((r) => [r.runId, r]));
}

function worker(workerId: string, overrides: Partial<WorkerInfo> = {}): WorkerInfo {
  return { workerId, pid: 4242, host: `host-of-${workerId}`, startedAt: T0, ...overrides };
}

const sorted = (ids: readonly string[]) => [...ids].sort();
const range = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(2, "0")}`);

/** Resolves after `n` microtask turns (to stagger racing calls finely). */
async function microtasks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

// ---------------------------------------------------------------------------------------------------------
// The contract
// ---------------------------------------------------------------------------------------------------------

/** `open()` opens (another connection to) the current test's fresh store; all are closed after the test. */
function queueContract(_name: BackendName, open: () => Promise<OpenedStorage>): void {
  describe("queued runs", () => {
    it("createRun with request and priority round-trips; a new queued run is unclaimed", async () => {
      const store = await open();
      const request: QueuedRunRequest = {
        assetKeys: ["raw/trips", "clean/trips"],
        checkKeys: ["clean/trips:not_null"],
        partitionKeys: ["2024-01-01", "2024-01-02"],
        concurrency: 3,
      };
      await store.createRun(queuedRun("full", { request, priority: 7, tags: { team: "data" } }));
      const run = await store.getRun("full");
      expect(run).toEqual({
        runId: "full",
        status: "QUEUED",
        selection: "*",
        assetKeys: ["a"],
        config: {},
        tags: { team: "data" },
        parentRunId: null,
        rootRunId: null,
        createdAt: T0,
        startedAt: null,
        endedAt: null,
        partitionKeys: null,
        backfillId: null,
        priority: 7,
        request,
        workerId: null,
        heartbeatAt: null,
        cancelRequested: false,
      } satisfies RunRecord);
      expect(typeof run?.priority).toBe("number");

      await store.createRun(queuedRun("minimal", { request: { assetKeys: ["x"] }, priority: -3 }));
      expect(await store.getRun("minimal")).toMatchObject({
        priority: -3,
        request: { assetKeys: ["x"] },
        status: "QUEUED",
        workerId: null,
        heartbeatAt: null,
        cancelRequested: false,
      });

      // Without them: priority 0 and no request (a run executed where it was launched).
      const { request: _r, ...withoutRequest } = queuedRun("local");
      await store.createRun(withoutRequest);
      expect(await store.getRun("local")).toMatchObject({
        priority: 0,
        request: null,
        cancelRequested: false,
      });
    });
  });

  describe("claimRuns", () => {
    it("claims the highest priority first, then the oldest", async () => {
      const store = await open();
      await enqueue(store, [
        { runId: "low-1", priority: 0 },
        { runId: "high-1", priority: 5 },
        { runId: "neg", priority: -1 },
        { runId: "low-2", priority: 0 },
        { runId: "mid", priority: 2 },
        { runId: "high-2", priority: 5 },
        { runId: "low-3" },
      ]);
      expect(await claimIds(store, { limit: 100 })).toEqual([
        "high-1",
        "high-2",
        "mid",
        "low-1",
        "low-2",
        "low-3",
        "neg",
      ]);
    });

    it("respects the limit, taking the next runs in queue order on each call", async () => {
      const store = await open();
      await enqueue(store, ["r1", "r2", { runId: "r3", priority: 1 }, "r4", "r5"]);
      expect(await claimIds(store, { limit: 2, workerId: "w1" })).toEqual(["r3", "r1"]);
      expect(await claimIds(store, { limit: 2, workerId: "w2" })).toEqual(["r2", "r4"]);
      expect(await claimIds(store, { limit: 2, workerId: "w3" })).toEqual(["r5"]);
      expect(await claimIds(store, { limit: 2, workerId: "w4" })).toEqual([]);
    });

    it("claimed runs become STARTING with the worker and heartbeatAt = now; the returned records match storage", async () => {
      const store = await open();
      await enqueue(store, ["r1", "r2", "r3"]);
      const claimed = await claim(store, { workerId: "worker-a", limit: 2, now: NOW + 5 });
      expect(claimed.map((r) => r.runId)).toEqual(["r1", "r2"]);
      for (const run of claimed) {
        expect(run).toMatchObject({
          status: "STARTING",
          workerId: "worker-a",
          heartbeatAt: NOW + 5,
          cancelRequested: false,
          request: REQUEST,
          priority: 0,
          startedAt: null,
          endedAt: null,
        });
        expect(await store.getRun(run.runId)).toEqual(run);
      }
      expect(await store.getRun("r3")).toMatchObject({ status: "QUEUED", workerId: null, heartbeatAt: null });
    });

    it("never claims a run twice", async () => {
      const store = await open();
      await enqueue(store, ["r1", "r2", "r3"]);
      expect(await claimIds(store, { workerId: "w1", limit: 2 })).toEqual(["r1", "r2"]);
      expect(await claimIds(store, { workerId: "w2", limit: 10, now: NOW + 10 })).toEqual(["r3"]);
      expect(await claimIds(store, { workerId: "w3", limit: 10, now: NOW + 20 })).toEqual([]);
      // Still STARTED / ended runs are not queued either.
      await start(store, "r1");
      await succeed(store, "r2");
      expect(await claimIds(store, { workerId: "w3", limit: 10, now: NOW + 30 })).toEqual([]);
      const runs = await allRuns(store);
      expect(runs.get("r1")).toMatchObject({ status: "STARTED", workerId: "w1", heartbeatAt: NOW });
      expect(runs.get("r2")).toMatchObject({ status: "SUCCESS", workerId: "w1", heartbeatAt: NOW });
      expect(runs.get("r3")).toMatchObject({ status: "STARTING", workerId: "w2", heartbeatAt: NOW + 10 });
    });

    it("limit 0 (or less) claims nothing and changes nothing", async () => {
      const store = await open();
      await enqueue(store, ["r1", "r2"]);
      expect(await claim(store, { limit: 0 })).toEqual([]);
      expect(await claim(store, { limit: -1 })).toEqual([]);
      for (const run of (await allRuns(store)).values())
        expect(run).toMatchObject({ status: "QUEUED", workerId: null, heartbeatAt: null });
    });

    it("only claims QUEUED runs that carry a request (not runs executed where they were launched)", async () => {
      const store = await open();
      // instance.materialize() creates its run QUEUED without a request, then executes it in-process.
      const { request: _r, ...local } = queuedRun("local-run");
      await store.createRun(local);
      await store.createRun(queuedRun("started-elsewhere", { status: "STARTED", createdAt: T0 + 1 }));
      await store.createRun(queuedRun("queued", { createdAt: T0 + 2 }));
      expect(await claimIds(store, { limit: 10 })).toEqual(["queued"]);
      expect(await store.getRun("local-run")).toMatchObject({ status: "QUEUED", workerId: null });
    });
  });

  describe("maxConcurrentRuns", () => {
    it("claims nothing while the limit is reached, and one run once an active run ends", async () => {
      const store = await open();
      await enqueue(store, ["a1", "a2", "q1", "q2", "q3"]);
      expect(await claimIds(store, { workerId: "w1", limit: 2 })).toEqual(["a1", "a2"]);
      await start(store, "a1"); // one STARTED, one STARTING
      expect(await statusOf(store, "a1")).toBe("STARTED");
      expect(await statusOf(store, "a2")).toBe("STARTING");

      expect(await claimIds(store, { workerId: "w2", limit: 5, maxConcurrentRuns: 2 })).toEqual([]);
      expect(await claimIds(store, { workerId: "w3", limit: 1, maxConcurrentRuns: 2 })).toEqual([]);

      await succeed(store, "a1");
      expect(await claimIds(store, { workerId: "w2", limit: 5, maxConcurrentRuns: 2 })).toEqual(["q1"]);
      expect(await claimIds(store, { workerId: "w2", limit: 5, maxConcurrentRuns: 2 })).toEqual([]);

      await fail(store, "a2");
      expect(await claimIds(store, { workerId: "w3", limit: 5, maxConcurrentRuns: 2 })).toEqual(["q2"]);
      const runs = await allRuns(store);
      expect(runs.get("q3")?.status).toBe("QUEUED");
    });

    it("claims only up to the free room, and a CANCELING run still counts as active", async () => {
      const store = await open();
      await enqueue(store, ["a1", ...range("q", 6)]);
      expect(await claimIds(store, { limit: 1 })).toEqual(["a1"]);
      expect((await store.requestCancel("a1", NOW + 1))?.status).toBe("CANCELING");
      // 1 active of 3: room for 2 even though the worker asks for 5.
      expect(await claimIds(store, { workerId: "w2", limit: 5, maxConcurrentRuns: 3 })).toEqual([
        "q00",
        "q01",
      ]);
      expect(await claimIds(store, { workerId: "w2", limit: 5, maxConcurrentRuns: 3 })).toEqual([]);
      // The worker's own limit is smaller than the room.
      expect(await claimIds(store, { workerId: "w3", limit: 1, maxConcurrentRuns: 10 })).toEqual(["q02"]);
    });
  });

  describe("tag limits", () => {
    it("a value limit of 1 claims one tagged run while another is active; other runs pass the blocked ones", async () => {
      const store = await open();
      await enqueue(store, [
        { runId: "d1", tags: DUCKDB },
        { runId: "d2", tags: DUCKDB },
        { runId: "n1" },
        { runId: "p1", tags: POSTGRES },
        { runId: "d3", tags: { ...DUCKDB, team: "x" } },
        { runId: "n2", tags: { team: "x" } },
      ]);
      expect(await claimIds(store, { limit: 1, tagLimits: [DUCKDB_LIMIT_1] })).toEqual(["d1"]);
      // d1 is active: d2 and d3 are blocked, the runs behind them are not.
      expect(await claimIds(store, { workerId: "w2", limit: 10, tagLimits: [DUCKDB_LIMIT_1] })).toEqual([
        "n1",
        "p1",
        "n2",
      ]);
      expect(await claimIds(store, { workerId: "w2", limit: 10, tagLimits: [DUCKDB_LIMIT_1] })).toEqual([]);

      await succeed(store, "d1");
      expect(await claimIds(store, { workerId: "w3", limit: 10, tagLimits: [DUCKDB_LIMIT_1] })).toEqual([
        "d2",
      ]);
      expect(await claimIds(store, { workerId: "w3", limit: 10, tagLimits: [DUCKDB_LIMIT_1] })).toEqual([]);
      expect(await statusOf(store, "d3")).toBe("QUEUED");
    });

    it("within one claim, a tag limit counts the runs claimed so far", async () => {
      const store = await open();
      await enqueue(store, [
        { runId: "d1", tags: DUCKDB },
        { runId: "d2", tags: DUCKDB },
        { runId: "n1" },
        { runId: "d3", tags: DUCKDB },
      ]);
      expect(await claimIds(store, { limit: 10, tagLimits: [{ ...DUCKDB_LIMIT_1, limit: 2 }] })).toEqual([
        "d1",
        "d2",
        "n1",
      ]);
    });

    it("a blocked run does not block the runs behind it, however many blocked runs are ahead", async () => {
      const store = await open();
      await enqueue(store, [
        { runId: "active-duckdb", tags: DUCKDB },
        ...range("blocked-", 60).map((runId) => ({ runId, tags: DUCKDB, priority: 1 })),
        { runId: "untagged" },
      ]);
      expect(await claimIds(store, { limit: 1, tagLimits: [DUCKDB_LIMIT_1] })).toEqual(["blocked-00"]);
      // 59 duckdb runs ahead of "untagged" are all blocked by the limit; the free slot goes to "untagged".
      expect(await claimIds(store, { workerId: "w2", limit: 1, tagLimits: [DUCKDB_LIMIT_1] })).toEqual([
        "untagged",
      ]);
    });

    it("a key-only limit counts runs with any value of the tag", async () => {
      const store = await open();
      const anyDatabase: TagLimit = { key: "database", limit: 2 };
      await enqueue(store, [
        { runId: "d1", tags: DUCKDB },
        { runId: "p1", tags: POSTGRES },
        { runId: "d2", tags: DUCKDB },
        { runId: "p2", tags: POSTGRES },
        { runId: "n1", tags: { other: "database" } },
      ]);
      expect(await claimIds(store, { limit: 10, tagLimits: [anyDatabase] })).toEqual(["d1", "p1", "n1"]);
      expect(await claimIds(store, { workerId: "w2", limit: 10, tagLimits: [anyDatabase] })).toEqual([]);
      await succeed(store, "d1");
      expect(await claimIds(store, { workerId: "w2", limit: 10, tagLimits: [anyDatabase] })).toEqual(["d2"]);
      await fail(store, "p1");
      expect(await claimIds(store, { workerId: "w2", limit: 10, tagLimits: [anyDatabase] })).toEqual(["p2"]);
    });

    it("tag limits and maxConcurrentRuns apply together", async () => {
      const store = await open();
      await enqueue(store, [
        { runId: "d1", tags: DUCKDB },
        { runId: "d2", tags: DUCKDB },
        { runId: "n1" },
        { runId: "n2" },
        { runId: "n3" },
      ]);
      expect(await claimIds(store, { limit: 10, maxConcurrentRuns: 3, tagLimits: [DUCKDB_LIMIT_1] })).toEqual(
        ["d1", "n1", "n2"],
      );
      expect(
        await claimIds(store, {
          workerId: "w2",
          limit: 10,
          maxConcurrentRuns: 3,
          tagLimits: [DUCKDB_LIMIT_1],
        }),
      ).toEqual([]);
    });
  });

  describe("concurrent claimers (separate store objects, like separate machines)", () => {
    async function openClaimers(count: number): Promise<OpenedStorage[]> {
      const stores: OpenedStorage[] = [];
      for (let i = 0; i < count; i++) stores.push(await open());
      return stores;
    }

    it("4 claimers asking for 5 each out of 12 queued claim every run exactly once", async () => {
      const stores = await openClaimers(4);
      const ids = range("r", 12);
      for (let round = 0; round < 3; round++) {
        const roundIds = ids.map((id) => `${round}-${id}`);
        await enqueue(stores[0]!, roundIds);
        const results = await Promise.all(
          stores.map((s, i) => claimIds(s, { workerId: `w${i}`, limit: 5, now: NOW + round })),
        );
        const all = results.flat();
        expect(all).toHaveLength(12);
        expect(new Set(all).size).toBe(12);
        expect(sorted(all)).toEqual(sorted(roundIds));
        for (const r of results) expect(r.length).toBeLessThanOrEqual(5);
        const runs = await allRuns(stores[1]!);
        results.forEach((claimed, i) => {
          for (const runId of claimed)
            expect(runs.get(runId)).toMatchObject({
              status: "STARTING",
              workerId: `w${i}`,
              heartbeatAt: NOW + round,
            });
        });
      }
    });

    it("with maxConcurrentRuns 6, 4 parallel claimers claim exactly 6 in total", async () => {
      const stores = await openClaimers(4);
      const queued: string[] = [];
      for (let round = 0; round < 3; round++) {
        const roundIds = range(`${round}-r`, 12);
        await enqueue(stores[0]!, roundIds);
        queued.push(...roundIds);
        const results = await Promise.all(
          stores.map((s, i) =>
            claimIds(s, { workerId: `w${i}`, limit: 5, maxConcurrentRuns: 6 * (round + 1), now: NOW }),
          ),
        );
        const all = results.flat();
        expect(all).toHaveLength(6);
        expect(new Set(all).size).toBe(6);
        // The 6 oldest queued runs, whichever claimer got them.
        expect(sorted(all)).toEqual(queued.splice(0, 6));
        const runs = [...(await allRuns(stores[2]!)).values()];
        expect(runs.filter((r) => r.status === "STARTING")).toHaveLength(6 * (round + 1));
      }
    });

    it("4 parallel claimers respect a tag limit of 1 together", async () => {
      const stores = await openClaimers(4);
      await enqueue(stores[0]!, [
        ...range("d", 8).map((runId) => ({ runId, tags: DUCKDB })),
        ...range("n", 2).map((runId) => ({ runId })),
      ]);
      const results = await Promise.all(
        stores.map((s, i) => claimIds(s, { workerId: `w${i}`, limit: 5, tagLimits: [DUCKDB_LIMIT_1] })),
      );
      const all = results.flat();
      expect(sorted(all)).toEqual(["d00", "n00", "n01"]);
    });

    it("a cancel racing a claim: the run ends up either canceled and unclaimed, or claimed and CANCELING", {
      timeout: 60_000,
    }, async () => {
      const [canceler, claimer] = await openClaimers(2);
      const outcomes: string[] = [];
      const check = async (runId: string, canceled: { status: string } | undefined, claimed: string[]) => {
        const final = (await claimer!.getRun(runId))!;
        const events = (await claimer!.getEvents(runId)).map((e) => e.type);
        const wasClaimed = claimed.includes(runId);
        outcomes.push(`${wasClaimed ? "claimed" : "unclaimed"}/${final.status}`);
        if (wasClaimed) {
          // The worker owns it: it must be asked to stop, not be ended under it.
          expect(final, `${runId}: claimed, then ${final.status}`).toMatchObject({
            status: "CANCELING",
            cancelRequested: true,
            workerId: "w1",
            endedAt: null,
          });
          expect(events).toEqual([]);
        } else {
          expect(final, runId).toMatchObject({ status: "CANCELED", endedAt: NOW });
          expect(events).toEqual(["run_canceled"]);
        }
        expect(canceled?.status).toBe(final.status);
      };
      for (let i = 0; i < 40; i++) {
        const runId = `race-${i}`;
        await canceler!.createRun(queuedRun(runId, { createdAt: T0 + i }));
        // Alternate which side gets a head start, so both outcomes tend to happen.
        const head = i % 2 === 0 ? "claim" : "cancel";
        const [canceled, claimed] = await Promise.all([
          (head === "claim" ? microtasks(i) : Promise.resolve()).then(() =>
            canceler!.requestCancel(runId, NOW),
          ),
          (head === "cancel" ? microtasks(i) : Promise.resolve()).then(() =>
            claimIds(claimer!, { limit: 1 }),
          ),
        ]);
        await check(runId, canceled, claimed);
      }
      // Which side wins a race depends on the machine's load (under load one side can win all 40),
      // so both orders also run one after the other: both outcomes are then certain to be checked.
      await canceler!.createRun(queuedRun("claimed-first", { createdAt: T0 + 100 }));
      const claimedFirst = await claimIds(claimer!, { limit: 1 });
      await check("claimed-first", await canceler!.requestCancel("claimed-first", NOW), claimedFirst);
      await canceler!.createRun(queuedRun("canceled-first", { createdAt: T0 + 101 }));
      const canceledFirst = await canceler!.requestCancel("canceled-first", NOW);
      await check("canceled-first", canceledFirst, await claimIds(claimer!, { limit: 1 }));
      expect(outcomes.slice(-2)).toEqual(["claimed/CANCELING", "unclaimed/CANCELED"]);
    });
  });

  describe("heartbeat and workers", () => {
    it("registers and updates the worker; listWorkers shows it; stopWorker marks it stopped", async () => {
      const store = await open();
      expect(await store.listWorkers()).toEqual([]);
      expect(await store.heartbeat(worker("w1", { pid: 101, startedAt: T0 }), [], T0 + 10)).toEqual([]);
      expect(await store.listWorkers()).toEqual([
        {
          workerId: "w1",
          pid: 101,
          host: "host-of-w1",
          startedAt: T0,
          heartbeatAt: T0 + 10,
          status: "running",
        },
      ]);

      await store.heartbeat(worker("w2", { pid: 202, host: "other", startedAt: T0 + 5 }), [], T0 + 15);
      await store.heartbeat(worker("w1", { pid: 101, startedAt: T0 }), [], T0 + 20);
      expect(await store.listWorkers()).toEqual([
        {
          workerId: "w1",
          pid: 101,
          host: "host-of-w1",
          startedAt: T0,
          heartbeatAt: T0 + 20,
          status: "running",
        },
        {
          workerId: "w2",
          pid: 202,
          host: "other",
          startedAt: T0 + 5,
          heartbeatAt: T0 + 15,
          status: "running",
        },
      ]);

      await store.stopWorker("w1", T0 + 30);
      const workers = await store.listWorkers();
      expect(workers).toHaveLength(2);
      expect(workers[0]).toMatchObject({ workerId: "w1", pid: 101, status: "stopped", startedAt: T0 });
      expect(workers[1]).toMatchObject({ workerId: "w2", status: "running", heartbeatAt: T0 + 15 });

      // Stopping an unknown worker is a no-op; another store object sees the same workers.
      await store.stopWorker("nobody", T0 + 40);
      const other = await open();
      expect(await other.listWorkers()).toEqual(workers);
    });

    it("updates heartbeatAt of the given active runs only", async () => {
      const store = await open();
      await enqueue(store, ["r1", "r2", "r3", "ended", "queued"]);
      expect(await claimIds(store, { workerId: "w1", limit: 2 })).toEqual(["r1", "r2"]);
      expect(await claimIds(store, { workerId: "w2", limit: 2 })).toEqual(["r3", "ended"]);
      await start(store, "r1");
      await succeed(store, "ended");

      expect(await store.heartbeat(worker("w1"), ["r1", "ended", "queued"], NOW + 100)).toEqual([]);
      const runs = await allRuns(store);
      expect(runs.get("r1")).toMatchObject({ status: "STARTED", heartbeatAt: NOW + 100 });
      expect(runs.get("r2")).toMatchObject({ status: "STARTING", heartbeatAt: NOW }); // not in the list
      expect(runs.get("r3")).toMatchObject({ status: "STARTING", heartbeatAt: NOW }); // another worker's
      expect(runs.get("ended")).toMatchObject({ status: "SUCCESS", heartbeatAt: NOW });
      expect(runs.get("queued")).toMatchObject({ status: "QUEUED", heartbeatAt: null, workerId: null });
      expect(await store.listWorkers()).toEqual([
        expect.objectContaining({ workerId: "w1", heartbeatAt: NOW + 100, status: "running" }),
      ]);
    });

    it("returns the given runs whose cancel was requested", async () => {
      const store = await open();
      await enqueue(store, ["r1", "r2", "r3"]);
      expect(await claimIds(store, { workerId: "w1", limit: 3 })).toEqual(["r1", "r2", "r3"]);
      await start(store, "r3");
      expect(await store.heartbeat(worker("w1"), ["r1", "r2", "r3"], NOW + 10)).toEqual([]);

      await store.requestCancel("r2", NOW + 15);
      await store.requestCancel("r3", NOW + 15);
      expect(sorted(await store.heartbeat(worker("w1"), ["r1", "r2", "r3"], NOW + 20))).toEqual(["r2", "r3"]);
      expect(await store.heartbeat(worker("w1"), ["r1", "r2"], NOW + 30)).toEqual(["r2"]);
      expect(await store.heartbeat(worker("w1"), ["r1"], NOW + 40)).toEqual([]);
      // A CANCELING run is still in progress: its heartbeat is recorded.
      expect(await store.getRun("r2")).toMatchObject({ status: "CANCELING", heartbeatAt: NOW + 30 });
      expect(await store.getRun("r1")).toMatchObject({ status: "STARTING", heartbeatAt: NOW + 40 });
    });
  });

  describe("requestCancel", () => {
    it("cancels a QUEUED run at once: CANCELED, endedAt set, a run_canceled event; it is never claimed", async () => {
      const store = await open();
      await enqueue(store, ["victim", "other"]);
      const result = await store.requestCancel("victim", NOW + 7);
      expect(result).toMatchObject({
        runId: "victim",
        status: "CANCELED",
        endedAt: NOW + 7,
        startedAt: null,
        workerId: null,
      });
      expect(await store.getRun("victim")).toEqual(result);
      const events = await store.getEvents("victim");
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ type: "run_canceled", runId: "victim", timestamp: NOW + 7 });

      expect(await claimIds(store, { limit: 10 })).toEqual(["other"]);
      expect(await claimIds(store, { limit: 10 })).toEqual([]);
      expect(await statusOf(store, "victim")).toBe("CANCELED");

      // Asking again changes nothing and adds no second event.
      expect(await store.requestCancel("victim", NOW + 50)).toEqual(result);
      expect(await store.getEvents("victim")).toHaveLength(1);
    });

    it("asks a STARTING or STARTED run to stop: CANCELING with cancelRequested", async () => {
      const store = await open();
      await enqueue(store, ["starting", "started"]);
      await claim(store, { workerId: "w1", limit: 2 });
      await start(store, "started");

      for (const runId of ["starting", "started"]) {
        const result = await store.requestCancel(runId, NOW + 9);
        expect(result).toMatchObject({
          runId,
          status: "CANCELING",
          cancelRequested: true,
          workerId: "w1",
          endedAt: null,
        });
        expect(await store.getRun(runId)).toEqual(result);
        expect((await store.getEvents(runId)).map((e) => e.type)).not.toContain("run_canceled");
      }
      // Asking again: still CANCELING.
      expect(await store.requestCancel("started", NOW + 10)).toMatchObject({
        status: "CANCELING",
        cancelRequested: true,
      });
      // The worker then reports the cancellation.
      await store.appendEvents([event("started", NOW + 11, { type: "run_canceled", reason: "asked to" })]);
      expect(await store.getRun("started")).toMatchObject({ status: "CANCELED", endedAt: NOW + 11 });
    });

    it("a run whose worker starts it after the cancel request stays CANCELING but records its start", async () => {
      const store = await open();
      await enqueue(store, ["late"]);
      await claim(store, { workerId: "w1", limit: 1 });
      expect(await store.requestCancel("late", NOW + 5)).toMatchObject({
        status: "CANCELING",
        startedAt: null,
      });
      await start(store, "late");
      const run = (await store.getRun("late"))!;
      expect(run.status).toBe("CANCELING");
      expect(run.startedAt).not.toBeNull();
      await store.appendEvents([event("late", NOW + 20, { type: "run_succeeded" })]);
      expect(await store.getRun("late")).toMatchObject({ status: "SUCCESS", startedAt: run.startedAt });
    });

    it("leaves an ended run unchanged, and returns undefined for an unknown run", async () => {
      const store = await open();
      await enqueue(store, ["ok", "ko", "canceled"]);
      await claim(store, { limit: 3 });
      await succeed(store, "ok");
      await fail(store, "ko");
      await store.appendEvents([event("canceled", NOW + 2, { type: "run_canceled", reason: "x" })]);
      for (const runId of ["ok", "ko", "canceled"]) {
        const before = await store.getRun(runId);
        const eventsBefore = await store.getEvents(runId);
        expect(await store.requestCancel(runId, NOW + 100)).toEqual(before);
        expect(await store.getRun(runId)).toEqual(before);
        expect(before?.cancelRequested).toBe(false);
        expect(await store.getEvents(runId)).toEqual(eventsBefore);
      }
      expect(await store.requestCancel("no-such-run", NOW)).toBeUndefined();
      expect(await store.getRun("no-such-run")).toBeUndefined();
    });
  });

  describe("staleRuns", () => {
    it("returns the runs in progress whose heartbeat is older than `before`", async () => {
      const store = await open();
      await enqueue(store, ["silent", "beating", "ended", "canceling", "queued"]);
      expect(await claimIds(store, { limit: 4 })).toEqual(["silent", "beating", "ended", "canceling"]);
      await start(store, "silent");
      await succeed(store, "ended");
      await store.requestCancel("canceling", NOW + 1);
      await store.heartbeat(worker("w1"), ["beating"], NOW + 100);
      // A run executed where it was launched (no worker, no heartbeat) is not the reaper's business.
      await store.createRun(queuedRun("local", { status: "STARTED", request: null }));

      expect(sorted((await store.staleRuns(NOW + 50)).map((r) => r.runId))).toEqual(["canceling", "silent"]);
      expect(sorted((await store.staleRuns(NOW + 101)).map((r) => r.runId))).toEqual([
        "beating",
        "canceling",
        "silent",
      ]);
      // Strictly older than `before`.
      expect(await store.staleRuns(NOW)).toEqual([]);
      const [silent] = (await store.staleRuns(NOW + 1)).filter((r) => r.runId === "silent");
      expect(silent).toEqual(await store.getRun("silent"));
      expect(silent).toMatchObject({ status: "STARTED", workerId: "w1", heartbeatAt: NOW });
    });
  });

  describe("leases", () => {
    const TTL = 1_000;

    it("one holder at a time; the holder renews; another takes it after expiry", async () => {
      const store = await open();
      expect(await store.acquireLease("daemon", "A", TTL, T0)).toBe(true);
      expect(await store.acquireLease("daemon", "B", TTL, T0 + 500)).toBe(false);
      expect(await store.acquireLease("daemon", "A", TTL, T0 + 900)).toBe(true); // renewed to T0 + 1900
      expect(await store.acquireLease("daemon", "B", TTL, T0 + 1_500)).toBe(false); // only because of the renewal
      expect(await store.acquireLease("daemon", "A", TTL, T0 + 1_800)).toBe(true); // renewed to T0 + 2800
      expect(await store.acquireLease("daemon", "B", TTL, T0 + 2_801)).toBe(true); // expired: B takes it
      expect(await store.acquireLease("daemon", "A", TTL, T0 + 2_900)).toBe(false);
      // Another name is another lease; another store object sees the same.
      expect(await store.acquireLease("other", "A", TTL, T0 + 2_900)).toBe(true);
      const second = await open();
      expect(await second.acquireLease("daemon", "C", TTL, T0 + 3_000)).toBe(false);
      expect(await second.acquireLease("other", "C", TTL, T0 + 3_000)).toBe(false);
    });

    it("releaseLease by a non-holder does nothing; by the holder it frees the lease", async () => {
      const store = await open();
      expect(await store.acquireLease("daemon", "A", TTL, T0)).toBe(true);
      await store.releaseLease("daemon", "B");
      await store.releaseLease("unknown", "A");
      expect(await store.acquireLease("daemon", "B", TTL, T0 + 1)).toBe(false);
      await store.releaseLease("daemon", "A");
      expect(await store.acquireLease("daemon", "B", TTL, T0 + 2)).toBe(true);
      expect(await store.acquireLease("daemon", "A", TTL, T0 + 3)).toBe(false);
    });

    it("4 store objects acquiring at the same moment: exactly one gets it", async () => {
      const stores: OpenedStorage[] = [];
      for (let i = 0; i < 4; i++) stores.push(await open());
      for (let round = 0; round < 5; round++) {
        const name = `lease-${round}`;
        const results = await Promise.all(stores.map((s, i) => s.acquireLease(name, `holder-${i}`, TTL, T0)));
        expect(results.filter(Boolean), results.join(",")).toHaveLength(1);
        const winner = results.indexOf(true);
        // The winner holds it: it renews, the others are refused.
        expect(await stores[(winner + 1) % 4]!.acquireLease(name, `holder-${winner}`, TTL, T0 + 1)).toBe(
          true,
        );
        expect(await stores[winner]!.acquireLease(name, `holder-${(winner + 1) % 4}`, TTL, T0 + 1)).toBe(
          false,
        );

        // After it expires, again exactly one of them takes it over.
        const later = await Promise.all(
          stores.map((s, i) => s.acquireLease(name, `late-${i}`, TTL, T0 + 10 * TTL)),
        );
        expect(later.filter(Boolean), later.join(",")).toHaveLength(1);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Run the contract for every backend
// ---------------------------------------------------------------------------------------------------------

for (const backend of storageBackends()) {
  describe.skipIf(backend.skipReason !== null)(`storage queue contract: ${backend.name}`, () => {
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

    queueContract(backend.name, open);
  });
}
