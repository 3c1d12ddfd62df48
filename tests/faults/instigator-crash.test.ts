/**
 * Fault scenario 3 (issue 14): a real `baton daemon` SIGKILLed between a sensor's (or a schedule
 * tick's) run launches and the save of its cursor and tick, at the fault point the code declares
 * (`sensor:NAME:launched`, `schedule:NAME:launched`; packages/core/src/util/fault-points.ts), then
 * restarted without the fault. What the store says afterwards, on SQLite and on Postgres (both at
 * once, a daemon each; the scenarios one after the other):
 * - a sensor with run keys: no run launched twice; the restarted daemon evaluates from the old
 *   cursor, its run keys dedupe the requests it sees again, the cursor then moves on, and new work
 *   launches once;
 * - a sensor without run keys: its requests are launched again (at least once; run keys are what
 *   makes a sensor exactly-once), pinned so a change of that behaviour is seen;
 * - a schedule: the crashed tick's run is not launched again and the tick is recorded once (SUCCESS,
 *   with the run launched before the crash, as Dagster resumes such a tick); no tick lost or doubled.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { waitFor } from "../support/processes.js";
import type { StorageBackend } from "../support/storage-backends.js";
import {
  allRuns,
  closeInstigatorEnv,
  cursorOf,
  duplicates,
  expectSigkilled,
  type InstigatorEnv,
  loadAverage,
  openInstigatorEnv,
  printFigures,
  requireBuiltCore,
  runnableBackends,
  startDaemon,
  tally,
  ticksOf,
} from "./support-instigators.js";

const TEST_TIMEOUT_MS = 80_000;

async function writeItems(t: InstigatorEnv, items: readonly number[]) {
  for (const n of items) await writeFile(path.join(t.itemsDir, String(n)), `${n}\n`);
}

async function sensorRuns(t: InstigatorEnv, sensor: string) {
  return (await allRuns(t)).filter((r) => r.tags["baton/sensor"] === sensor);
}

const backends = runnableBackends();
const cases = backends.map((b) => [b.name, b] as [string, StorageBackend]);

/** `body` on a fresh store of `backend`, closed (processes killed, store dropped) whatever happens. */
async function withEnv(backend: StorageBackend, body: (env: InstigatorEnv) => Promise<void>) {
  const env = await openInstigatorEnv(backend);
  try {
    await body(env);
  } finally {
    await closeInstigatorEnv(env);
  }
}

beforeAll(async () => {
  requireBuiltCore();
  for (const backend of backends) await backend.start();
}, 60_000);
afterAll(async () => {
  for (const backend of backends) await backend.stop();
});

// Each scenario runs on every backend at once (one daemon per backend); scenarios run one after
// the other.
describe("crash between launching and saving the cursor: a sensor with run keys", () => {
  test.concurrent.each(cases)(
    "%s: a sensor with run keys launches nothing twice; the restarted daemon re-reads the old cursor, dedupes, moves on, and launches new work once",
    async (_name, backend) => {
      await withEnv(backend, async (env) => {
        await writeItems(env, [1, 2, 3]);
        const crashing = await startDaemon(env, {
          FIXTURE_RUNNING: "items_keyed",
          BATON_FAULT_POINT: "sensor:items_keyed:launched",
        });
        await expectSigkilled(crashing, 30_000);

        // At the crash: the three runs are stored, the cursor and the tick are not.
        const atCrash = await sensorRuns(env, "items_keyed");
        expect(atCrash.map((r) => r.tags.item).sort()).toEqual(["1", "2", "3"]);
        expect(await cursorOf(env, "items_keyed")).toBeFalsy();
        expect(await ticksOf(env, "items_keyed")).toEqual([]);

        const restartedAt = Date.now();
        const restarted = await startDaemon(env, { FIXTURE_RUNNING: "items_keyed" });
        const recovery = await waitFor(
          async () => `the recovery tick: ${JSON.stringify(await ticksOf(env, "items_keyed"))}`,
          async () => (await ticksOf(env, "items_keyed"))[0],
          30_000,
        );
        const recoveryMs = Date.now() - restartedAt;
        // It evaluated from the cursor saved before the crash (none), saw items 1-3 again, and their
        // run keys stopped a second launch.
        expect(restarted.stderr()).toContain("evaluating from cursor (none): 3 new item(s)");
        expect(recovery).toMatchObject({
          status: "SKIPPED",
          runIds: [],
          skipReason: "3 run request(s) already launched earlier (same run key)",
          error: null,
          cursor: "3",
        });
        expect(await cursorOf(env, "items_keyed")).toBe("3");
        expect((await sensorRuns(env, "items_keyed")).map((r) => r.runId).sort()).toEqual(
          atCrash.map((r) => r.runId).sort(),
        );

        // New work after the recovery: launched once, from the moved cursor.
        await writeItems(env, [4]);
        const next = await waitFor(
          async () => `a tick launching item 4: ${JSON.stringify(await ticksOf(env, "items_keyed"))}`,
          async () => (await ticksOf(env, "items_keyed")).find((k) => k.status === "SUCCESS"),
          30_000,
        );
        expect(next.cursor).toBe("4");
        expect(restarted.stderr()).toContain("evaluating from cursor 3: 1 new item(s)");
        const runs = await sensorRuns(env, "items_keyed");
        expect(next.runIds).toEqual(runs.filter((r) => r.tags.item === "4").map((r) => r.runId));
        const items = runs.map((r) => r.tags.item!);
        expect(tally(items)).toEqual({ 1: 1, 2: 1, 3: 1, 4: 1 });
        printFigures({
          scenario: "sensor-crash-before-cursor",
          backend: backend.name,
          runKeys: true,
          launchedBeforeCrash: atCrash.length,
          runs: runs.length,
          duplicates: Object.keys(duplicates(items)).length,
          recoveryTickMs: recoveryMs,
          load1: loadAverage(),
        });
      });
    },
    TEST_TIMEOUT_MS,
  );
});

describe("crash between launching and saving the cursor: a sensor without run keys", () => {
  test.concurrent.each(cases)(
    "%s: a sensor without run keys launches its requests again after such a crash (at least once)",
    async (_name, backend) => {
      await withEnv(backend, async (env) => {
        await writeItems(env, [1, 2, 3]);
        const crashing = await startDaemon(env, {
          FIXTURE_RUNNING: "items_unkeyed",
          BATON_FAULT_POINT: "sensor:items_unkeyed:launched",
        });
        await expectSigkilled(crashing, 30_000);
        expect((await sensorRuns(env, "items_unkeyed")).length).toBe(3);
        expect(await cursorOf(env, "items_unkeyed")).toBeFalsy();

        await startDaemon(env, { FIXTURE_RUNNING: "items_unkeyed" });
        const recovery = await waitFor(
          async () => `the recovery tick: ${JSON.stringify(await ticksOf(env, "items_unkeyed"))}`,
          async () => (await ticksOf(env, "items_unkeyed"))[0],
          30_000,
        );
        expect(recovery).toMatchObject({ status: "SUCCESS", cursor: "3" });
        expect(recovery.runIds).toHaveLength(3);
        const items = (await sensorRuns(env, "items_unkeyed")).map((r) => r.tags.item!);
        // Nothing lost; each request launched twice: the documented reason to give run keys.
        expect(tally(items)).toEqual({ 1: 2, 2: 2, 3: 2 });
        printFigures({
          scenario: "sensor-crash-before-cursor",
          backend: backend.name,
          runKeys: false,
          launchedBeforeCrash: 3,
          runs: items.length,
          duplicates: Object.keys(duplicates(items)).length,
          load1: loadAverage(),
        });
      });
    },
    TEST_TIMEOUT_MS,
  );
});

describe("crash between launching and saving the cursor: a schedule tick", () => {
  test.concurrent.each(cases)(
    "%s: a schedule tick launched before the crash is not launched again and is recorded once; no tick lost",
    async (_name, backend) => {
      await withEnv(backend, async (env) => {
        // Two ticks go through, the third crashes between its launch and its record.
        const crashing = await startDaemon(env, {
          FIXTURE_RUNNING: "every_second",
          BATON_FAULT_POINT: "schedule:every_second:launched",
          BATON_FAULT_POINT_AFTER: "2",
        });
        await expectSigkilled(crashing, 30_000);
        const scheduledTime = (r: { tags: Readonly<Record<string, string>> }) =>
          Date.parse(r.tags["baton/scheduled-time"]!);
        const atCrash = (await allRuns(env)).sort((a, b) => scheduledTime(a) - scheduledTime(b));
        expect(atCrash).toHaveLength(3);
        const crashedRun = atCrash[2]!;
        const crashedTick = scheduledTime(crashedRun);
        const before = await ticksOf(env, "every_second");
        expect(before.map((k) => [k.timestamp, k.status, k.runIds])).toEqual(
          atCrash.slice(0, 2).map((r) => [scheduledTime(r), "SUCCESS", [r.runId]]),
        );
        expect(await cursorOf(env, "every_second")).toBe(String(scheduledTime(atCrash[1]!)));

        const restartedAt = Date.now();
        const restarted = await startDaemon(env, { FIXTURE_RUNNING: "every_second" });
        const ticks = await waitFor(
          async () => `3 ticks after the crashed one: ${JSON.stringify(await ticksOf(env, "every_second"))}`,
          async () => {
            const all = await ticksOf(env, "every_second");
            return all.filter((k) => k.timestamp > crashedTick).length >= 3 ? all : undefined;
          },
          30_000,
        );
        const recoveryMs = Date.now() - restartedAt;
        const crashed = ticks.filter((k) => k.timestamp === crashedTick);
        expect(crashed.map((k) => [k.status, k.runIds, k.skipReason])).toEqual([
          ["SUCCESS", [crashedRun.runId], null],
        ]);
        expect(restarted.stderr()).toContain(
          `tick ${new Date(crashedTick).toISOString()} recorded: its run ${crashedRun.runId} was launched before the daemon stopped`,
        );

        // Every second from the first tick on: one tick, one run (the downtime was within the
        // schedule's late tolerance, so its ticks are launched, not missed).
        const runs = await allRuns(env);
        const times = runs.map((r) => r.tags["baton/scheduled-time"]!);
        expect(duplicates(times)).toEqual({});
        expect(duplicates(ticks.map((k) => String(k.timestamp)))).toEqual({});
        const stamps = ticks.map((k) => k.timestamp).sort((a, b) => a - b);
        for (let i = 1; i < stamps.length; i++) expect(stamps[i]! - stamps[i - 1]!).toBe(1000);
        for (const k of ticks) expect([k.status, k.runIds.length], JSON.stringify(k)).toEqual(["SUCCESS", 1]);
        const tickRuns = ticks.flatMap((k) => k.runIds).sort();
        expect(tickRuns).toEqual(
          runs
            .filter((r) => Date.parse(r.tags["baton/scheduled-time"]!) <= stamps[stamps.length - 1]!)
            .map((r) => r.runId)
            .sort(),
        );
        printFigures({
          scenario: "schedule-crash-before-tick-record",
          backend: backend.name,
          ticks: ticks.length,
          runs: tickRuns.length,
          duplicates: Object.keys(duplicates(times)).length,
          ticksLost: 0,
          recoveryMs,
          load1: loadAverage(),
        });
      });
    },
    TEST_TIMEOUT_MS,
  );
});
