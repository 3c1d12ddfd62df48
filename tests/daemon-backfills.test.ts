/**
 * The daemon's backfill driver (`createBackfillDriver`, packages/core/src/daemon/backfills.ts), in
 * process, on every storage backend (SQLite and a throwaway Postgres; select with
 * BATON_TEST_STORAGE=sqlite|postgres|all, default all; CI never skips Postgres).
 *
 * Each test opens an instance on a fresh temp home (and a fresh Postgres database), creates a daemon
 * backfill with `instance.createBackfill(defs, { …, daemon: true })` and drives it with `driver.step(now)`
 * the way the daemon's backfill loop does. Queued runs are executed between steps by this file's
 * `work()`, which does what a run worker does (claimRuns, then instance.executeQueuedRun) but at
 * moments the test chooses, so in-flight limits can be checked after every step; the cancel test uses
 * a real in-process `runWorker` (its heartbeat is what turns a cancel request into an abort), and the
 * late-end tests a second instance over the same store whose event writes for one run are held back (as
 * a slow write or the event writer's batching would).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createBackfillDriver } from "../packages/core/src/daemon/backfills.js";
import {
  asset,
  type BatonInstance,
  createInstance,
  type Definitions,
  dailyPartitions,
  defineDefinitions,
  hourlyPartitions,
  listBackfillFailures,
  monthlyPartitions,
  multiPartitions,
  multiRunBackfill,
  openInstance,
  type RunRecord,
  type RunStatus,
  runWorker,
  type Storage,
  staticPartitions,
} from "../packages/core/src/internal.js";
import type { BackfillCounts, BackfillRecord, BackfillStatus } from "../packages/core/src/storage/storage.js";
import { type StorageBackend, type StorageLocation, storageBackends } from "./support/storage-backends.js";

// ---------------------------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------------------------

/** The daemon's clock in these tests: after every partition below, so every key exists. */
const NOW = Date.parse("2024-06-01T00:00:00Z");
const IN_FLIGHT: readonly RunStatus[] = ["QUEUED", "STARTING", "STARTED", "CANCELING"];
const TERMINAL: readonly BackfillStatus[] = ["COMPLETED", "FAILED", "CANCELED"];

const dayKey = (d: number) => `2024-01-${String(d).padStart(2, "0")}`;
const hoursOf = (day: string) =>
  Array.from({ length: 24 }, (_, h) => `${day}-${String(h).padStart(2, "0")}:00`);

interface HourlyDailyOptions {
  /** Hours whose raw run throws. */
  readonly failHours?: ReadonlySet<string>;
  /** A raw run covering this hour waits here until its run is aborted (canceled). */
  readonly blockHour?: string;
  /** Add `total`, unpartitioned, reading every day of `clean`. */
  readonly withTotal?: boolean;
}

/**
 * `raw` (hourly, 24 hours per run) → `clean` (daily, one run per day; the default time-window mapping
 * reads the day's 24 hours) over `days` days from 2024-01-01. Different partitions definitions, so the
 * backfill plans one unit per raw day and one per clean day, each clean unit after its raw unit.
 */
function hourlyDaily(days: number, options: HourlyDailyOptions = {}) {
  const end = dayKey(days + 1);
  const seen = {
    raw: [] as string[],
    clean: [] as { day: string; hours: string[] }[],
    blocked: [] as string[],
  };
  let markBlockedStarted: () => void = () => {};
  const blockedStarted = new Promise<void>((resolve) => {
    markBlockedStarted = resolve;
  });
  let letBlockedEnd: () => void = () => {};
  const blockedMayEnd = new Promise<void>((resolve) => {
    letBlockedEnd = resolve;
  });
  const raw = asset(
    {
      key: "raw",
      partitions: hourlyPartitions({ start: "2024-01-01", end }),
      backfillPolicy: multiRunBackfill({ maxPartitionsPerRun: 24 }),
    },
    async (ctx) => {
      const out: Record<string, number> = {};
      for (const key of ctx.partitionKeys) {
        if (key === options.blockHour) {
          // Wait to be aborted (the run canceled), then until the test lets the run end.
          seen.blocked.push(key);
          markBlockedStarted();
          await new Promise<void>((resolve) => {
            if (ctx.signal.aborted) resolve();
            ctx.signal.addEventListener("abort", () => resolve(), { once: true });
          });
          seen.blocked.push("aborted");
          await blockedMayEnd;
          throw ctx.signal.reason;
        }
        if (options.failHours?.has(key)) throw new Error(`no data for hour ${key}`);
        seen.raw.push(key);
        out[key] = Number(key.slice(11, 13));
      }
      return ctx.partitionKeys.length === 1 ? out[ctx.partitionKeys[0]!]! : (out as unknown as number);
    },
  );
  const clean = asset(
    { key: "clean", partitions: dailyPartitions({ start: "2024-01-01", end }), ins: { raw } },
    (ctx, { raw }) => {
      const byDay: Record<string, number> = {};
      for (const day of ctx.partitionKeys) {
        const hours = Object.keys(raw)
          .filter((h) => h.startsWith(day))
          .sort();
        seen.clean.push({ day, hours });
        byDay[day] = hours.reduce((sum, h) => sum + raw[h]!, 0);
      }
      return ctx.partitionKeys.length === 1 ? byDay[ctx.partitionKeys[0]!]! : (byDay as unknown as number);
    },
  );
  const total = asset({ key: "total", ins: { clean } }, (_ctx, { clean }) =>
    Object.values(clean as unknown as Record<string, number>).reduce((a, b) => a + b, 0),
  );
  const defs = defineDefinitions({ assets: options.withTotal ? [raw, clean, total] : [raw, clean] });
  const rawOnly = defineDefinitions({ assets: [raw] });
  return {
    defs,
    rawOnly,
    seen,
    blockedStarted,
    letBlockedEnd,
    range: { from: hoursOf(dayKey(1))[0]!, to: hoursOf(dayKey(days))[23]! },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

/** Every run of a backfill, oldest first. */
async function backfillRuns(storage: Storage, backfillId: string): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await storage.listRuns({ backfillId, limit: 1000, ...(cursor ? { cursor } : {}) });
    out.push(...page.runs);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out.reverse();
}

/** What a run worker does, once: claim up to `limit` queued runs and execute them (in parallel). */
async function work(instance: BatonInstance, defs: Definitions, limit: number): Promise<string[]> {
  const claimed = await instance.storage.claimRuns({ workerId: "test-worker", limit, now: Date.now() });
  await Promise.all(claimed.map((run) => instance.executeQueuedRun(defs, run.runId)));
  return claimed.map((r) => r.runId);
}

async function getBackfill(storage: Storage, backfillId: string): Promise<BackfillRecord> {
  const record = await storage.getBackfill(backfillId);
  if (!record) throw new Error(`backfill ${backfillId} not found`);
  return record;
}

/** Polls `check` every 20 ms for at most 10 s (for what a real worker does in the background). */
async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface DriveResult {
  /** Every distinct status the backfill went through, in order. */
  readonly statuses: BackfillStatus[];
  /** The most runs of the backfill in flight after any step. */
  readonly peakInFlight: number;
  readonly steps: number;
  readonly record: BackfillRecord;
}

/**
 * Step the driver until the backfill ends, executing up to `perStep` runs between steps; checks after
 * every step and every batch of work that at most `maxInFlight` runs of it are queued or running.
 */
async function drive(
  instance: BatonInstance,
  defs: Definitions,
  driver: { step(now: number): Promise<void> },
  backfillId: string,
  options: { maxInFlight: number; perStep: number; maxSteps?: number; statuses?: BackfillStatus[] },
): Promise<DriveResult> {
  const storage = instance.storage;
  const statuses = options.statuses ?? [(await getBackfill(storage, backfillId)).status];
  let peakInFlight = 0;
  const checkInFlight = async (when: string) => {
    const flying = (await backfillRuns(storage, backfillId)).filter((r) => IN_FLIGHT.includes(r.status));
    expect(flying.length, `runs in flight ${when}`).toBeLessThanOrEqual(options.maxInFlight);
    peakInFlight = Math.max(peakInFlight, flying.length);
  };
  for (let steps = 1; steps <= (options.maxSteps ?? 400); steps++) {
    await driver.step(NOW);
    const record = await getBackfill(storage, backfillId);
    if (statuses[statuses.length - 1] !== record.status) statuses.push(record.status);
    await checkInFlight(`after step ${steps}`);
    if (TERMINAL.includes(record.status)) return { statuses, peakInFlight, steps, record };
    await work(instance, defs, options.perStep);
    await checkInFlight(`after work ${steps}`);
  }
  throw new Error(`backfill ${backfillId} did not end within ${options.maxSteps ?? 400} steps`);
}

const counts = (c: Partial<BackfillCounts>): BackfillCounts => ({
  targeted: 0,
  materialized: 0,
  failed: 0,
  skipped: 0,
  canceled: 0,
  runs: 0,
  ...c,
});

/** Asserts every unit of an hourly→daily backfill ran exactly once, each clean day after its raw day. */
function expectEachUnitOnce(
  runs: readonly RunRecord[],
  days: readonly string[],
  skippedDays: readonly string[] = [],
) {
  const rawRuns = runs.filter((r) => r.assetKeys.join() === "raw");
  const cleanRuns = runs.filter((r) => r.assetKeys.join() === "clean");
  expect(rawRuns.length + cleanRuns.length).toBe(runs.length);
  // raw: one run per day, covering its 24 hours; no hour twice.
  expect(rawRuns.map((r) => r.partitionKeys!.join(",")).sort()).toEqual(
    days.map((d) => hoursOf(d).join(",")),
  );
  const cleanDays = days.filter((d) => !skippedDays.includes(d));
  expect(cleanRuns.map((r) => r.partitionKeys!.join(",")).sort()).toEqual(cleanDays);
  // Each clean run was launched after its raw run ended.
  for (const c of cleanRuns) {
    const day = c.partitionKeys![0]!;
    const r = rawRuns.find((x) => x.partitionKeys![0]!.startsWith(day))!;
    expect(r.status).toBe("SUCCESS");
    expect(c.createdAt, `clean ${day} launched before raw ${day} ended`).toBeGreaterThanOrEqual(r.endedAt!);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The suite, once per backend
// ---------------------------------------------------------------------------------------------------------

for (const backend of storageBackends()) {
  describe.skipIf(backend.skipReason !== null)(`daemon backfills on ${backend.name}`, () => {
    daemonBackfillSuite(backend);
  });
}

function daemonBackfillSuite(backend: StorageBackend): void {
  let home: string;
  let location: StorageLocation | undefined;
  let instance: BatonInstance;
  let storage: Storage;

  beforeAll(() => backend.start());
  afterAll(() => backend.stop());
  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), "baton-daemon-backfills-"));
    location = backend.name === "postgres" ? await backend.createLocation() : undefined;
    const databaseUrl = location?.options.databaseUrl;
    instance = await openInstance({ home, ...(databaseUrl ? { databaseUrl } : {}), env: {} });
    storage = instance.storage;
    expect(storage.dialect).toBe(backend.name);
  });
  afterEach(async () => {
    await instance.close();
    if (location) await backend.destroyLocation(location);
    await rm(home, { recursive: true, force: true });
  });

  const DAYS_20 = Array.from({ length: 20 }, (_, i) => dayKey(i + 1));

  it("drives a 20-day hourly→daily backfill to COMPLETED: each unit once, in-flight limit held, exact counts", async () => {
    const { defs, seen, range } = hourlyDaily(20);
    const created = await instance.createBackfill(defs, {
      selection: "*",
      partitions: { range },
      daemon: true,
    });
    expect(created).toMatchObject({
      status: "REQUESTED",
      counts: counts({ targeted: 20 * 24 + 20 }),
      endedAt: null,
    });
    expect(await backfillRuns(storage, created.backfillId)).toEqual([]);

    const driver = createBackfillDriver({ instance, definitions: () => defs, maxInFlight: 3 });
    const result = await drive(instance, defs, driver, created.backfillId, { maxInFlight: 3, perStep: 2 });

    expect(result.statuses).toEqual(["REQUESTED", "RUNNING", "COMPLETED"]);
    expect(result.peakInFlight).toBe(3); // the limit is used, not just respected
    expect(result.record).toMatchObject({
      status: "COMPLETED",
      error: null,
      counts: counts({ targeted: 500, materialized: 500, runs: 40 }),
    });
    expect(result.record.endedAt).toEqual(expect.any(Number));

    const runs = await backfillRuns(storage, created.backfillId);
    expect(runs).toHaveLength(40);
    expect(runs.every((r) => r.status === "SUCCESS")).toBe(true);
    expect(runs.every((r) => r.tags["baton/backfill"] === created.backfillId)).toBe(true);
    expectEachUnitOnce(runs, DAYS_20);

    // One run key per unit, pointing at its run.
    const keys = await storage.listRunKeys(`backfill:${created.backfillId}`);
    expect(keys.map((k) => Number(k.key)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 40 }, (_, i) => i),
    );
    expect(new Set(keys.map((k) => k.runId))).toEqual(new Set(runs.map((r) => r.runId)));

    // The bodies ran each partition once, and each day saw its 24 hours.
    expect(seen.raw).toHaveLength(480);
    expect(new Set(seen.raw).size).toBe(480);
    expect(seen.clean.map((c) => c.day).sort()).toEqual(DAYS_20);
    for (const c of seen.clean) expect(c.hours).toEqual(hoursOf(c.day));
    expect((await storage.getPartitions("clean")).map((p) => [p.partitionKey, p.status])).toEqual(
      DAYS_20.map((d) => [d, "materialized"]),
    );

    // An ended backfill is left alone by later steps.
    const before = await getBackfill(storage, created.backfillId);
    await driver.step(NOW);
    await driver.step(NOW);
    expect(await getBackfill(storage, created.backfillId)).toEqual(before);
    expect(await backfillRuns(storage, created.backfillId)).toHaveLength(40);
  });

  it("a restarted daemon (a new driver) resumes without launching any unit twice; counts stay exact", async () => {
    const { defs, range } = hourlyDaily(10);
    const created = await instance.createBackfill(defs, {
      selection: "*",
      partitions: { range },
      daemon: true,
    });

    // Driver #1: a few steps, some runs done, and runs it launched still queued when it goes away.
    const first = createBackfillDriver({ instance, definitions: () => defs, maxInFlight: 4 });
    for (let i = 0; i < 4; i++) {
      await first.step(NOW);
      if (i < 3) await work(instance, defs, 2);
    }
    const atRestart = await backfillRuns(storage, created.backfillId);
    expect(atRestart.filter((r) => r.status === "SUCCESS").length).toBeGreaterThan(0);
    expect(atRestart.filter((r) => r.status === "QUEUED").length).toBeGreaterThan(0);
    expect((await getBackfill(storage, created.backfillId)).status).toBe("RUNNING");

    // Driver #2 (what a restarted daemon creates) finishes it.
    const second = createBackfillDriver({ instance, definitions: () => defs, maxInFlight: 4 });
    const result = await drive(instance, defs, second, created.backfillId, { maxInFlight: 4, perStep: 3 });
    expect(result.statuses).toEqual(["RUNNING", "COMPLETED"]);
    expect(result.record.counts).toEqual(counts({ targeted: 250, materialized: 250, runs: 20 }));

    const runs = await backfillRuns(storage, created.backfillId);
    expect(runs).toHaveLength(20);
    // The runs queued by driver #1 were not launched again: they are among the 20, and ran.
    for (const r of atRestart) expect(runs.find((x) => x.runId === r.runId)?.status).toBe("SUCCESS");
    expectEachUnitOnce(
      runs,
      Array.from({ length: 10 }, (_, i) => dayKey(i + 1)),
    );
    const keys = await storage.listRunKeys(`backfill:${created.backfillId}`);
    expect(new Set(keys.map((k) => k.key)).size).toBe(20);
  });

  it("two drivers stepping the same backfill at once (a leader change overlapping) launch each unit once", async () => {
    const { defs, range } = hourlyDaily(6);
    const created = await instance.createBackfill(defs, {
      selection: "*",
      partitions: { range },
      daemon: true,
    });
    const a = createBackfillDriver({ instance, definitions: () => defs, maxInFlight: 5 });
    const b = createBackfillDriver({ instance, definitions: () => defs, maxInFlight: 5 });
    const both = { step: (now: number) => Promise.all([a.step(now), b.step(now)]).then(() => undefined) };
    const result = await drive(instance, defs, both, created.backfillId, { maxInFlight: 5, perStep: 3 });
    expect(result.record.status).toBe("COMPLETED");
    const runs = await backfillRuns(storage, created.backfillId);
    expect(runs).toHaveLength(12);
    expectEachUnitOnce(
      runs,
      Array.from({ length: 6 }, (_, i) => dayKey(i + 1)),
    );
    expect(result.record.counts).toEqual(counts({ targeted: 150, materialized: 150, runs: 12 }));
  });

  it("a failed unit: its downstream units are skipped (never launched); FAILED with counts and an error naming them", async () => {
    const failHours = new Set(["2024-01-05-13:00"]);
    const { defs, range, seen } = hourlyDaily(6, { failHours, withTotal: true });
    const created = await instance.createBackfill(defs, {
      selection: "*",
      partitions: { range },
      daemon: true,
    });
    // raw 6 × 24 hours + clean 6 days + total once.
    expect(created.counts.targeted).toBe(151);
    const driver = createBackfillDriver({ instance, definitions: () => defs, maxInFlight: 4 });
    const result = await drive(instance, defs, driver, created.backfillId, { maxInFlight: 4, perStep: 2 });

    expect(result.statuses).toEqual(["REQUESTED", "RUNNING", "FAILED"]);
    const runs = await backfillRuns(storage, created.backfillId);
    const failedRun = runs.find((r) => r.status !== "SUCCESS")!;
    expect(failedRun).toMatchObject({
      status: "FAILURE",
      assetKeys: ["raw"],
      partitionKeys: hoursOf("2024-01-05"),
    });
    // 6 raw + 5 clean; clean 2024-01-05 and total were never launched.
    expect(runs).toHaveLength(11);
    expect(runs.filter((r) => r.status === "SUCCESS")).toHaveLength(10);
    expectEachUnitOnce(
      runs,
      Array.from({ length: 6 }, (_, i) => dayKey(i + 1)),
      ["2024-01-05"],
    );
    expect(runs.some((r) => r.assetKeys.includes("total"))).toBe(false);

    expect(result.record.counts).toEqual(
      counts({ targeted: 151, materialized: 5 * 24 + 5, failed: 24, skipped: 2, runs: 11 }),
    );
    const reason =
      'upstream raw [2024-01-05-00:00 … 2024-01-05-23:00] failed: step "raw" failed: Error in asset "raw": ' +
      `no data for hour 2024-01-05-13:00 (run ${failedRun.runId})`;
    expect(result.record.error).toBe(
      [`clean [2024-01-05] skipped: ${reason}`, `total skipped: ${reason}`].join("\n"),
    );
    expect(result.record.endedAt).toEqual(expect.any(Number));
    // Why the unit failed (what `baton backfill show`, the API and the UI list): its partitions, the
    // failed step and the step's first error, read from the worker-executed run.
    expect(await listBackfillFailures(storage, created.backfillId)).toEqual({
      failedRuns: 1,
      failures: [
        {
          runId: failedRun.runId,
          assetKeys: ["raw"],
          partitionKeys: hoursOf("2024-01-05"),
          kind: "step",
          stepKey: "raw",
          checkName: null,
          message: "no data for hour 2024-01-05-13:00",
        },
      ],
    });

    // The data arrived: a retry (still driven by the daemon) runs only what did not succeed.
    failHours.clear();
    seen.raw.length = 0;
    const retry = await instance.retryBackfill(defs, created.backfillId);
    expect(retry.options).toMatchObject({ daemon: true, parentBackfillId: created.backfillId });
    const retried = await drive(instance, defs, driver, retry.backfillId, { maxInFlight: 4, perStep: 2 });
    expect(retried.record).toMatchObject({
      status: "COMPLETED",
      error: null,
      counts: counts({ targeted: 151, materialized: 151, runs: 3 }),
    });
    const retryRuns = await backfillRuns(storage, retry.backfillId);
    expect(retryRuns.map((r) => [r.assetKeys.join(), r.partitionKeys?.[0] ?? null, r.status])).toEqual([
      ["raw", "2024-01-05-00:00", "SUCCESS"],
      ["clean", "2024-01-05", "SUCCESS"],
      ["total", null, "SUCCESS"],
    ]);
    expect(seen.raw).toEqual(hoursOf("2024-01-05"));
  });

  it("a unit that cannot be launched any more (definitions changed under a cached plan): FAILED, each one named", async () => {
    const { defs, rawOnly, range } = hourlyDaily(3);
    const created = await instance.createBackfill(defs, {
      selection: "*",
      partitions: { range },
      daemon: true,
    });
    let current = defs;
    const driver = createBackfillDriver({ instance, definitions: () => current, maxInFlight: 10 });
    await driver.step(NOW); // plans with `clean`, queues raw days 1-3
    await work(instance, defs, 10);
    // New definitions without `clean`, without a reset: the cached plan still has the clean units.
    current = rawOnly;
    const result = await drive(instance, defs, driver, created.backfillId, { maxInFlight: 10, perStep: 10 });
    expect(result.record.status).toBe("FAILED");
    expect(result.record.counts).toEqual(counts({ targeted: 75, materialized: 72, failed: 3, runs: 3 }));
    expect(result.record.error).toBe(
      [1, 2, 3]
        .map(
          (d) =>
            `clean [${dayKey(d)}] could not be launched: Invalid definitions (1 problem):\n  - clean: unknown asset`,
        )
        .join("\n"),
    );
    expect((await backfillRuns(storage, created.backfillId)).map((r) => r.assetKeys.join())).toEqual([
      "raw",
      "raw",
      "raw",
    ]);
  });

  it("cancel while running: CANCELING, in-flight runs asked to stop, CANCELED once none is in flight, nothing launched after", async () => {
    const { defs, range, blockedStarted, letBlockedEnd, seen } = hourlyDaily(10, {
      blockHour: "2024-01-02-05:00",
    });
    const created = await instance.createBackfill(defs, {
      selection: "*",
      partitions: { range },
      daemon: true,
    });
    const driver = createBackfillDriver({ instance, definitions: () => defs, maxInFlight: 4 });

    // A real run worker, one slot: it runs raw day 1, then blocks in raw day 2 until that run is aborted.
    const stop = new AbortController();
    const abortRuns = new AbortController();
    const worker = runWorker({
      instance,
      definitions: defs,
      signal: stop.signal,
      cancelInFlight: abortRuns.signal,
      pollMs: 10,
      heartbeatMs: 20,
    });
    try {
      await driver.step(NOW); // raw days 1-4 queued
      await blockedStarted;
      expect(seen.blocked).toEqual(["2024-01-02-05:00"]);
      // Its run_started reaches the store with the run's first batch of events.
      await waitFor("raw day 2 STARTED", async () =>
        (await backfillRuns(storage, created.backfillId)).some(
          (r) => r.partitionKeys![0] === "2024-01-02-00:00" && r.status === "STARTED",
        ),
      );
      await driver.step(NOW); // day 1 done: raw day 5 takes its place
      const runsBefore = await backfillRuns(storage, created.backfillId);
      const day = (r: RunRecord) => r.partitionKeys![0]!.slice(0, 10);
      expect(runsBefore.map((r) => [day(r), r.status])).toEqual([
        ["2024-01-01", "SUCCESS"],
        ["2024-01-02", "STARTED"],
        ["2024-01-03", "QUEUED"],
        ["2024-01-04", "QUEUED"],
        ["2024-01-05", "QUEUED"],
      ]);

      expect((await instance.cancelBackfill(created.backfillId)).status).toBe("CANCELING");
      await driver.step(NOW);
      const afterCancel = await backfillRuns(storage, created.backfillId);
      expect(afterCancel.map((r) => r.runId)).toEqual(runsBefore.map((r) => r.runId)); // nothing new
      // Queued runs end at once; the running one is asked to stop.
      expect(afterCancel.map((r) => [day(r), r.status, r.cancelRequested])).toEqual([
        ["2024-01-01", "SUCCESS", false],
        ["2024-01-02", "CANCELING", true],
        ["2024-01-03", "CANCELED", true],
        ["2024-01-04", "CANCELED", true],
        ["2024-01-05", "CANCELED", true],
      ]);

      // The worker's heartbeat picks the cancel request up and aborts the run's signal.
      await waitFor("the blocked run aborted", async () => seen.blocked.includes("aborted"));
      // Until the running one has ended, the backfill stays CANCELING (and still launches nothing).
      const blockedRun = afterCancel[1]!.runId;
      for (let i = 0; i < 3; i++) {
        await driver.step(NOW);
        expect((await getBackfill(storage, created.backfillId)).status).toBe("CANCELING");
        expect((await storage.getRun(blockedRun))?.status).toBe("CANCELING");
      }
      expect((await backfillRuns(storage, created.backfillId)).map((r) => r.runId)).toEqual(
        runsBefore.map((r) => r.runId),
      );
      letBlockedEnd();
      await waitFor(
        "the blocked run CANCELED",
        async () => (await storage.getRun(blockedRun))?.status === "CANCELED",
      );

      await driver.step(NOW);
      const record = await getBackfill(storage, created.backfillId);
      expect(record.status).toBe("CANCELED");
      expect(record.endedAt).toEqual(expect.any(Number));
      // Raw day 1 materialized; everything else (24 × 9 hours + 10 days) did not run because of the cancel.
      // The driver reports the clean days whose raw run was canceled (days 2-5) as "skipped" (with an
      // "upstream … ended CANCELED" line in `error`) and the rest as canceled; only their sum is pinned here.
      const { skipped, canceled, ...rest } = record.counts;
      expect(rest).toEqual({ targeted: 250, materialized: 24, failed: 0, runs: 5 });
      expect(skipped + canceled).toBe(226);
      expect(canceled).toBeGreaterThanOrEqual(222);
      await driver.step(NOW);
      expect(await backfillRuns(storage, created.backfillId)).toHaveLength(5);
      expect(await getBackfill(storage, created.backfillId)).toEqual(record);
    } finally {
      letBlockedEnd();
      stop.abort();
      abortRuns.abort(new Error("test over"));
      await worker;
    }
  });

  it("a daemon restarted while a backfill is CANCELING finishes the cancel", async () => {
    const { defs, range } = hourlyDaily(4);
    const created = await instance.createBackfill(defs, {
      selection: "*",
      partitions: { range },
      daemon: true,
    });
    const first = createBackfillDriver({ instance, definitions: () => defs, maxInFlight: 2 });
    await first.step(NOW);
    await work(instance, defs, 1);
    await first.step(NOW);
    expect((await backfillRuns(storage, created.backfillId)).map((r) => r.status)).toEqual([
      "SUCCESS",
      "QUEUED",
      "QUEUED",
    ]);
    expect((await instance.cancelBackfill(created.backfillId)).status).toBe("CANCELING");
    // Driver #1 goes away before it acted on the cancel; driver #2 cancels the queued runs and ends it.
    const second = createBackfillDriver({ instance, definitions: () => defs, maxInFlight: 2 });
    await second.step(NOW);
    expect((await backfillRuns(storage, created.backfillId)).map((r) => r.status)).toEqual([
      "SUCCESS",
      "CANCELED",
      "CANCELED",
    ]);
    await second.step(NOW);
    const record = await getBackfill(storage, created.backfillId);
    expect(record.status).toBe("CANCELED");
    const { skipped, canceled, ...rest } = record.counts;
    expect(rest).toEqual({ targeted: 100, materialized: 24, failed: 0, runs: 3 });
    expect(skipped + canceled).toBe(76);
    expect(await backfillRuns(storage, created.backfillId)).toHaveLength(3);
  });

  it("cancel before the daemon picked it up: CANCELED at once, no run ever launched", async () => {
    const { defs, range } = hourlyDaily(3);
    const created = await instance.createBackfill(defs, {
      selection: "*",
      partitions: { range },
      daemon: true,
    });
    expect((await instance.cancelBackfill(created.backfillId)).status).toBe("CANCELED");
    const driver = createBackfillDriver({ instance, definitions: () => defs });
    await driver.step(NOW);
    await driver.step(NOW);
    expect(await backfillRuns(storage, created.backfillId)).toEqual([]);
    expect((await getBackfill(storage, created.backfillId)).status).toBe("CANCELED");
  });

  it("definitions that no longer plan the backfill: FAILED with an error saying why, nothing launched", async () => {
    const { defs, rawOnly, range } = hourlyDaily(3);
    const created = await instance.createBackfill(defs, {
      selection: "*",
      partitions: { range },
      daemon: true,
    });
    // The daemon loaded definitions where `clean` (selected by the backfill) is gone.
    const driver = createBackfillDriver({ instance, definitions: () => rawOnly });
    await driver.step(NOW);
    const record = await getBackfill(storage, created.backfillId);
    expect(record.status).toBe("FAILED");
    expect(record.endedAt).toEqual(expect.any(Number));
    expect(record.error).toMatch(/^the daemon could not plan it: /);
    expect(record.error).toContain('"clean"');
    expect(await backfillRuns(storage, created.backfillId)).toEqual([]);
    await driver.step(NOW);
    expect(await backfillRuns(storage, created.backfillId)).toEqual([]);

    // The selected asset is still there but no longer partitioned.
    const flat = asset({ key: "raw" }, () => 1);
    const bf2 = await instance.createBackfill(rawOnly, {
      selection: "raw",
      partitions: { keys: ["2024-01-01-00:00"] },
      daemon: true,
    });
    const driver2 = createBackfillDriver({
      instance,
      definitions: () => defineDefinitions({ assets: [flat] }),
    });
    await driver2.step(NOW);
    const failed = await getBackfill(storage, bf2.backfillId);
    expect(failed.status).toBe("FAILED");
    expect(failed.error).toBe(
      `the daemon could not plan it: Backfill ${bf2.backfillId}: its assets are no longer partitioned.`,
    );
    expect(await backfillRuns(storage, bf2.backfillId)).toEqual([]);
  });

  it("definitions reloaded mid-backfill without a selected asset: FAILED, nothing more launched", async () => {
    const { defs, rawOnly, range } = hourlyDaily(4);
    const created = await instance.createBackfill(defs, {
      selection: "*",
      partitions: { range },
      daemon: true,
    });
    let current = defs;
    const driver = createBackfillDriver({ instance, definitions: () => current, maxInFlight: 2 });
    await driver.step(NOW);
    await work(instance, defs, 2);
    await driver.step(NOW);
    const launched = (await backfillRuns(storage, created.backfillId)).length;
    expect(launched).toBe(4);
    // A reload (the daemon calls reset()) brings definitions without `clean`.
    current = rawOnly;
    driver.reset();
    await driver.step(NOW);
    const record = await getBackfill(storage, created.backfillId);
    expect(record.status).toBe("FAILED");
    expect(record.error).toMatch(/^the daemon could not plan it: .*"clean"/);
    await work(instance, defs, 10);
    await driver.step(NOW);
    expect(await backfillRuns(storage, created.backfillId)).toHaveLength(launched);
  });

  /**
   * A worker stamps a run's events when they happen, and writes them later (the event writer batches;
   * a write can be slow), while other updates of the backfill's runs (a second worker claiming, the
   * driver's own launches) commit meanwhile with later timestamps, possibly from clocks that are ahead.
   * Here: run A is executed for real by "worker 1" (an instance over the same store whose writes of A's
   * final batch are held back); "worker 2" claims run B at `claimBAt()`; the driver steps and reads both;
   * only then does A's end reach the store, stamped before B's claim. Returns how many more steps the
   * driver needed to end the backfill.
   */
  async function endStoredLate(claimBAt: () => number, cancel = false): Promise<number> {
    const one = asset({ key: "one", partitions: staticPartitions(["a", "b"]) }, (ctx) => ctx.partitionKey);
    const defs = defineDefinitions({ assets: [one] });
    const created = await instance.createBackfill(defs, {
      selection: "*",
      partitions: { keys: ["a", "b"] },
      daemon: true,
    });
    const driver = createBackfillDriver({ instance, definitions: () => defs });
    await driver.step(NOW);
    const [runA, runB] = await backfillRuns(storage, created.backfillId);
    expect([runA?.partitionKeys, runB?.partitionKeys]).toEqual([["a"], ["b"]]);

    let heldArrived: () => void = () => {};
    const arrived = new Promise<void>((resolve) => {
      heldArrived = resolve;
    });
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slowStorage: Storage = {
      ...storage,
      async appendEvents(events) {
        if (events.some((e) => e.type === "run_succeeded" && e.runId === runA!.runId)) {
          heldArrived();
          await released;
        }
        return storage.appendEvents(events);
      },
    };
    const worker1 = createInstance(slowStorage, home);
    expect(
      (await storage.claimRuns({ workerId: "w1", limit: 1, now: Date.now() })).map((r) => r.runId),
    ).toEqual([runA!.runId]);
    const aDone = worker1.executeQueuedRun(defs, runA!.runId);
    await arrived; // A ended (its events are stamped) but its end is not stored yet
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(
      (await storage.claimRuns({ workerId: "w2", limit: 1, now: claimBAt() })).map((r) => r.runId),
    ).toEqual([runB!.runId]);
    await driver.step(NOW); // reads A (STARTING) and B (STARTING, later)
    release();
    expect((await aDone).status).toBe("SUCCESS");
    expect((await instance.executeQueuedRun(defs, runB!.runId)).status).toBe("SUCCESS");
    expect((await storage.getRun(runA!.runId))?.status).toBe("SUCCESS");
    if (cancel) {
      // Both ends are behind the refresh's watermark; a cancel must not wait for the full read.
      expect((await instance.cancelBackfill(created.backfillId)).status).toBe("CANCELING");
      for (let steps = 1; steps <= 120; steps++) {
        await driver.step(NOW);
        if ((await getBackfill(storage, created.backfillId)).status === "CANCELED") return steps;
      }
      throw new Error("the canceled backfill never ended: the driver missed its runs' ends");
    }

    for (let steps = 1; steps <= 120; steps++) {
      await driver.step(NOW);
      const record = await getBackfill(storage, created.backfillId);
      if (record.status !== "RUNNING") {
        expect(record).toMatchObject({
          status: "COMPLETED",
          counts: counts({ targeted: 2, materialized: 2, runs: 2 }),
        });
        return steps;
      }
    }
    throw new Error("the backfill never ended: the driver missed run A's end");
  }

  it("a run whose end is stored after a later update was read is still noticed, on the next step", async () => {
    expect(await endStoredLate(() => Date.now())).toBe(1);
  });

  it("a run whose end is stored late with a timestamp far behind (another worker's clock 60 s ahead) is noticed within 100 steps (the periodic full read)", async () => {
    expect(await endStoredLate(() => Date.now() + 60_000)).toBeLessThanOrEqual(100);
  });

  it("canceled while its runs' ends were stored late behind the watermark: CANCELED within a few steps, not at the periodic full read", async () => {
    expect(await endStoredLate(() => Date.now() + 60_000, true)).toBeLessThanOrEqual(3);
  });

  it("month × taxi raw feeding a monthly report: each month's report waits for both taxi types of its month", async () => {
    const months = monthlyPartitions({ start: "2024-01", end: "2024-04" });
    const trips = multiPartitions({ month: months, taxi: staticPartitions(["yellow", "green"]) });
    const reportsSaw: Record<string, string[]> = {};
    const rawTrips = asset({ key: "raw_trips", partitions: trips }, (ctx) => ctx.partitionKey.length);
    const report = asset(
      { key: "monthly_report", partitions: months, ins: { trips: rawTrips } },
      (ctx, { trips }) => {
        reportsSaw[ctx.partitionKey] = Object.keys(trips as unknown as Record<string, number>).sort();
        return Object.keys(trips).length;
      },
    );
    const defs = defineDefinitions({ assets: [rawTrips, report] });
    const created = await instance.createBackfill(defs, {
      selection: "*",
      partitions: {
        keys: [
          "2024-01|yellow",
          "2024-01|green",
          "2024-02|yellow",
          "2024-02|green",
          "2024-03|yellow",
          "2024-03|green",
        ],
      },
      daemon: true,
    });
    expect(created.counts.targeted).toBe(6 + 3);
    const driver = createBackfillDriver({ instance, definitions: () => defs });

    const reportRuns = async () =>
      (await backfillRuns(storage, created.backfillId)).filter((r) => r.assetKeys.includes("monthly_report"));
    const rawRun = async (key: string) =>
      (await backfillRuns(storage, created.backfillId)).find((r) => r.partitionKeys?.join() === key)!;

    await driver.step(NOW);
    expect((await backfillRuns(storage, created.backfillId)).map((r) => r.partitionKeys!.join())).toEqual([
      "2024-01|yellow",
      "2024-01|green",
      "2024-02|yellow",
      "2024-02|green",
      "2024-03|yellow",
      "2024-03|green",
    ]);
    // Every yellow partition done: no month is complete, so no report yet.
    for (const key of ["2024-01|yellow", "2024-02|yellow", "2024-03|yellow"]) {
      const summary = await instance.executeQueuedRun(defs, (await rawRun(key)).runId);
      expect(summary.status).toBe("SUCCESS");
    }
    await driver.step(NOW);
    expect(await reportRuns()).toEqual([]);
    // February's green: February's report only.
    await instance.executeQueuedRun(defs, (await rawRun("2024-02|green")).runId);
    await driver.step(NOW);
    expect((await reportRuns()).map((r) => r.partitionKeys)).toEqual([["2024-02"]]);
    await instance.executeQueuedRun(defs, (await reportRuns())[0]!.runId);
    // The rest.
    const result = await drive(instance, defs, driver, created.backfillId, { maxInFlight: 200, perStep: 10 });
    expect(result.record).toMatchObject({
      status: "COMPLETED",
      counts: counts({ targeted: 9, materialized: 9, runs: 9 }),
      error: null,
    });
    expect((await reportRuns()).map((r) => r.partitionKeys!.join()).sort()).toEqual([
      "2024-01",
      "2024-02",
      "2024-03",
    ]);
    expect(reportsSaw).toEqual({
      "2024-01": ["2024-01|green", "2024-01|yellow"],
      "2024-02": ["2024-02|green", "2024-02|yellow"],
      "2024-03": ["2024-03|green", "2024-03|yellow"],
    });
    // Each report launched after both raw runs of its month ended.
    for (const r of await reportRuns()) {
      const month = r.partitionKeys![0]!;
      for (const taxi of ["yellow", "green"])
        expect(r.createdAt).toBeGreaterThanOrEqual((await rawRun(`${month}|${taxi}`)).endedAt!);
    }
  });
}
