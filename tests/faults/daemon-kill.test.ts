/**
 * Fault scenario 2 (issue 14): SIGKILL the daemon 10 times during a 1,000-partition backfill.
 *
 * A daemon backfill of faults/daily (1,000 daily partitions, one run per partition) is queued with
 * the real CLI (`baton materialize … --queue`), driven by a real `baton daemon` child and executed
 * by a real local worker pool (`baton worker --concurrency 2`). The daemon is SIGKILLed (its whole
 * process group; its leader lease stays taken until it expires) 10 times, each time a random delay
 * after it announced itself leader, and started again. The delays come from a seeded PRNG: the seed
 * is printed (FAULT_FIGURES and failure messages); `FAULTS_SEED=<n>` replays the same kill points.
 *
 * Asserted from the store: the backfill COMPLETED; every partition has exactly one materialization;
 * exactly one run per partition (per backfill unit: one run key each, no two runs for one key), all
 * SUCCESS, and no run outside the backfill; the bodies' own markers agree (each ran once).
 * The last 50 days hold (the fixture waits on a file) until the 10th kill, so every kill lands
 * while the backfill has work left, however fast the machine.
 */
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import type { BackfillRecord, RunRecord } from "../../packages/core/src/internal.js";
import { describeProc, expectExit, type Proc, waitFor } from "../support/processes.js";
import { storageBackends } from "../support/storage-backends.js";
import {
  allRuns,
  baton,
  closeFaultEnv,
  duplicates,
  type FaultEnv,
  loadAverage,
  markers,
  openFaultEnv,
  printFigures,
  requireBuiltCore,
  seededRandom,
  sigkillGroup,
  startBaton,
  startPool,
} from "./support-workers.js";

const ASSET = "faults/daily";
const PARTITIONS = 1000;
const FIRST_DAY = "2021-01-01";
const KILLS = 10;
/** Each kill lands this long (uniform, seeded) after the daemon announced it leads. */
const MAX_KILL_DELAY_MS = 2500;
const DAEMON_ARGS = ["daemon", "--interval-ms", "200"] as const;
const SEED = Number(process.env.FAULTS_SEED ?? Math.floor(Math.random() * 2 ** 31));

function days(first: string, n: number): string[] {
  const start = Date.parse(`${first}T00:00:00Z`);
  return Array.from({ length: n }, (_, i) => new Date(start + i * 86_400_000).toISOString().slice(0, 10));
}

async function describeState(t: FaultEnv, backfillId: string): Promise<string> {
  const backfill = await t.instance.storage.getBackfill(backfillId).catch(() => undefined);
  const runs = await allRuns(t).catch(() => [] as RunRecord[]);
  const byStatus: Record<string, number> = {};
  for (const r of runs) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  return [
    `seed ${SEED} (FAULTS_SEED=${SEED} replays the kill points)`,
    `backfill ${backfillId}: ${backfill?.status} ${JSON.stringify(backfill?.counts)} ${backfill?.error ?? ""}`,
    `runs: ${runs.length} ${JSON.stringify(byStatus)}`,
    ...t.procs.filter((p) => !p.exitInfo()).map(describeProc),
  ].join("\n");
}

/** `baton daemon`, once it says it leads (after a killed leader's lease expired: ~2 s). */
async function startLeader(t: FaultEnv, backfillId: string): Promise<Proc> {
  const daemon = startBaton(t, DAEMON_ARGS);
  // An exit ends the wait at once (waitFor would retry a thrown error until its deadline).
  const outcome = await waitFor(
    async () => `the daemon to lead\n${await describeState(t, backfillId)}`,
    () => (daemon.exitInfo() ? "exited" : daemon.stderr().includes("is the leader") && "leads"),
    30_000,
  );
  if (outcome === "exited") throw new Error(`the daemon exited: ${describeProc(daemon)}`);
  return daemon;
}

// Postgres: the store where the daemon, the workers and the CLI really write at once (row locks,
// SKIP LOCKED claims, one connection pool per process), where Dagster users report duplicate
// backfill runs; SQLite serializes every write. SQLite's daemon-kill case runs in
// tests/daemon-processes.test.ts (20 partitions, one kill, both backends). Two backends of 1,000
// runs each would not fit this file's time budget on a loaded 2-core machine.
for (const backend of storageBackends().filter((b) => b.name === "postgres")) {
  describe.skipIf(backend.skipReason !== null)(
    `daemon SIGKILLed during a backfill on ${backend.name}`,
    () => {
      let t: FaultEnv | undefined;
      beforeAll(async () => {
        requireBuiltCore();
        await backend.start();
      });
      afterAll(async () => {
        await backend.stop();
      });
      afterEach(async () => {
        await closeFaultEnv(t);
        t = undefined;
      });

      test(`${KILLS} daemon kills during a ${PARTITIONS}-partition backfill: it completes, every partition materialized once, one run per partition`, {
        timeout: 240_000,
      }, async () => {
        const began = Date.now();
        const env = await openFaultEnv(backend);
        t = env;
        env.fixtureEnv.BATON_WORKER_IDLE_EXIT_MS = "0";
        const keys = days(FIRST_DAY, PARTITIONS);
        // The last 50 days hold until every kill is done: however fast the machine, the kills land
        // while the backfill has work left (in flight, queued and not launched yet).
        const hold = path.join(env.home, "hold-daily");
        await writeFile(hold, "the last days wait while this file exists\n");
        env.fixtureEnv.FIXTURE_DAILY_HOLD_FILE = hold;
        env.fixtureEnv.FIXTURE_DAILY_HOLD_FROM = keys[PARTITIONS - 50]!;
        const random = seededRandom(SEED);

        const queued = await baton(env, [
          "materialize",
          "--select",
          ASSET,
          "--from",
          keys[0]!,
          "--to",
          keys.at(-1)!,
          "--queue",
        ]);
        expectExit(queued, 0);
        const backfillId = queued.stdout.trim();
        expect(queued.stderr).toContain(`backfill ${backfillId} queued: ${PARTITIONS} partition(s)`);
        const state = () => describeState(env, backfillId);
        const backfill = async (): Promise<BackfillRecord> => {
          const record = await env.instance.storage.getBackfill(backfillId);
          if (!record) throw new Error(`backfill ${backfillId} is not in the store`);
          return record;
        };

        await startPool(env, 2, 1000);
        const delays: number[] = [];
        const atKill: { status: string; runs: number }[] = [];
        for (let kill = 0; kill < KILLS; kill++) {
          const daemon = await startLeader(env, backfillId);
          const delay = Math.floor(random() * MAX_KILL_DELAY_MS);
          delays.push(delay);
          await new Promise((r) => setTimeout(r, delay));
          await sigkillGroup(daemon);
          const runsNow = await allRuns(env, backfillId);
          atKill.push({ status: (await backfill()).status, runs: runsNow.length });
          // Never, at any point, two runs of one partition (a restarted daemon relaunching a unit).
          expect(
            duplicates(runsNow.flatMap((r) => r.partitionKeys ?? ["(none)"])),
            `after kill ${kill + 1}: partitions with more than one run\n${await state()}`,
          ).toEqual({});
        }
        const killsDoneAt = Date.now();
        await rm(hold);
        const final = await startLeader(env, backfillId);
        const done = await waitFor(
          async () => `the backfill to end\n${await state()}`,
          async () => {
            const record = await backfill();
            return ["COMPLETED", "FAILED", "CANCELED"].includes(record.status) ? record : undefined;
          },
          90_000,
        );
        const completedAt = Date.now();
        expect(done.status, await state()).toBe("COMPLETED");
        expect(done.counts).toMatchObject({ targeted: PARTITIONS, materialized: PARTITIONS, failed: 0 });
        // The kills landed while there was work left (not after the end).
        expect(
          atKill.filter((k) => k.status !== "COMPLETED").length,
          `${JSON.stringify(atKill)}\n${await state()}`,
        ).toBe(KILLS);

        // Every partition materialized exactly once, in the store and by the bodies.
        const materializations = await env.instance.storage.getMaterializations(ASSET, {
          limit: 10 * PARTITIONS,
        });
        const materialized = materializations.map((e) =>
          e.type === "materialization" ? (e.partition ?? "") : "",
        );
        expect(duplicates(materialized), await state()).toEqual({});
        expect(materialized.slice().sort()).toEqual(keys);
        const bodies = (await markers(env)).filter((m) => m.asset === ASSET).map((m) => m.partition ?? "");
        expect(duplicates(bodies)).toEqual({});
        expect(bodies.slice().sort()).toEqual(keys);

        // One run per partition, all successful, none outside the backfill.
        const runs = await allRuns(env);
        expect(runs.every((r) => r.backfillId === backfillId)).toBe(true);
        expect(runs.filter((r) => r.status !== "SUCCESS").map((r) => `${r.runId} ${r.status}`)).toEqual([]);
        const runPartitions = runs.flatMap((r) => r.partitionKeys ?? ["(none)"]);
        expect(duplicates(runPartitions)).toEqual({});
        expect(runPartitions.slice().sort()).toEqual(keys);
        // One run key per backfill unit, each naming its own run.
        const runKeys = await env.instance.storage.listRunKeys(`backfill:${backfillId}`);
        expect(runKeys).toHaveLength(PARTITIONS);
        expect(duplicates(runKeys.map((k) => k.key))).toEqual({});
        expect(duplicates(runKeys.map((k) => k.runId))).toEqual({});
        expect(new Set(runKeys.map((k) => k.runId))).toEqual(new Set(runs.map((r) => r.runId)));

        expect(final.stderr()).not.toMatch(/backfills: /);
        printFigures({
          scenario: "daemon-sigkill-backfill",
          backend: backend.name,
          partitions: PARTITIONS,
          kills: KILLS,
          restarts: KILLS,
          seed: SEED,
          killDelaysMs: delays,
          runsAtKills: atKill.map((k) => k.runs),
          runsLaunched: runs.length,
          duplicateRuns: 0,
          duplicateMaterializations: 0,
          killPhaseSeconds: Math.round((killsDoneAt - began) / 100) / 10,
          totalSeconds: Math.round((completedAt - began) / 100) / 10,
          loadAvg1m: loadAverage(),
        });
      });
    },
  );
}
