/**
 * Fault scenario 5 (issue 14): two `baton daemon` and two `baton worker --concurrency 2` processes
 * (four worker children) on one Postgres database for 60 s of activity: a schedule ticking every
 * second, a sensor stepping a cursor with one run key per step, and a daemon-driven backfill of 200
 * partitions. The leading daemon is SIGKILLed part-way; the standby must take over (lease ttl:
 * max(3 × 200 ms, 2 s)).
 *
 * Asserted from the store (ticks, run_keys, runs, event_logs, leases, backfills):
 * - no tick evaluated twice: one schedule tick per scheduled time; sensor cursors step by one, each
 *   once; no run key launched twice;
 * - no run claimed by two workers (bench/scale.ts `checkClaims`: one run_started, one step_started,
 *   one executing process which is the claimer, one run per worker slot at a time);
 * - leadership moved to the standby when the leader was killed; the backfill completed with every
 *   partition materialized exactly once.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { checkClaims } from "../../bench/scale.js";
import {
  createTestDatabase,
  dropTestDatabase,
  handleMissingPostgres,
  requirePostgresOrSkipReason,
  startTestPostgres,
  type TestPostgres,
} from "../support/postgres.js";
import {
  completion,
  describeProc,
  exitOf,
  expectExit,
  forget,
  killGroup,
  type Proc,
  waitFor,
} from "../support/processes.js";
import {
  printFigures,
  query,
  ROOT,
  roleOf,
  runSeqViolations,
  startBaton,
  startDaemon,
  startWorkers,
} from "./support-postgres.js";

const skipReason = requirePostgresOrSkipReason();
// Never skipped: without Postgres this fails under CI and says why locally (startTestPostgres → null).
if (skipReason !== null) handleMissingPostgres(skipReason);

const ACTIVITY_MS = 60_000;
/** The leader is killed once a fifth of the backfill succeeded (bounded wait). */
const KILL_BY_MS = 40_000;
const PARTITIONS = 200;
const FROM = "2023-01-01";
const TO = "2023-07-19"; // 200 days
/** The daemon's lease with --interval-ms 200: max(3 × 200, 2000) ms. */
const LEASE_TTL_MS = 2_000;

describe("fault: two daemons and four workers on one Postgres for 60 s", () => {
  let server: TestPostgres | null = null;
  let databaseUrl = "";
  let home = "";
  const procs: Proc[] = [];

  beforeAll(async () => {
    if (!existsSync(path.join(ROOT, "packages/core/dist/cli/main.js")))
      throw new Error("build @baton/core first: npm run build -w @baton/core");
    server = await startTestPostgres();
    if (server === null) throw new Error(`no Postgres for this fault test: ${skipReason}`);
    databaseUrl = await createTestDatabase(server.url);
    home = await mkdtemp(path.join(os.tmpdir(), "baton-fault-two-daemons-"));
  }, 60_000);

  afterAll(async () => {
    for (const proc of procs) killGroup(proc, "SIGKILL");
    await Promise.all(procs.map((p) => exitOf(p, 5_000).catch(() => undefined)));
    for (const proc of procs) forget(proc);
    if (databaseUrl) await dropTestDatabase(databaseUrl).catch(() => undefined);
    await server?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  }, 30_000);

  test("no tick evaluated twice, no run claimed twice, the standby leads after the leader is killed, the backfill completes", async () => {
    const env = { home, databaseUrl };
    const describeAll = () => procs.map(describeProc).join("\n");

    // The backfill is queued first (the daemon drives it); then the daemons and the workers.
    const queued = await completion(
      startBaton(
        env,
        ["materialize", "--select", "fault/days", "--from", FROM, "--to", TO, "--queue"],
        procs,
      ),
    );
    expectExit(queued, 0);
    const backfillId = queued.stdout.trim();
    expect(queued.stderr).toContain(`backfill ${backfillId} queued: ${PARTITIONS} partition(s)`);

    const first = await startDaemon(env, procs);
    const second = await startDaemon(env, procs);
    const roles = [roleOf(first), roleOf(second)];
    expect(roles.sort()).toEqual(["leader", "standby"]);
    const leader = roleOf(first) === "leader" ? first : second;
    const standby = leader === first ? second : first;
    await startWorkers(env, procs, 2);
    await startWorkers(env, procs, 2);
    const startedAt = Date.now();

    // Part-way (the backfill a fifth done, the schedule and the sensor ticking), the leader dies
    // without a word: its lease stays taken until it expires.
    const atKill = await waitFor(
      async () => `the backfill to be a fifth done\n${describeAll()}`,
      async () => {
        const rows = await query<{ status: string; runs: number; succeeded: number; ticks: number }>(
          databaseUrl,
          `SELECT b.status,
                  (SELECT count(*)::int FROM runs WHERE backfill_id = b.backfill_id) AS runs,
                  (SELECT count(*)::int FROM runs WHERE backfill_id = b.backfill_id AND status = 'SUCCESS') AS succeeded,
                  (SELECT count(DISTINCT name)::int FROM ticks WHERE status = 'SUCCESS') AS ticks
             FROM backfills b WHERE backfill_id = $1`,
          [backfillId],
        );
        const row = rows[0];
        return row && row.succeeded >= PARTITIONS / 5 && row.ticks === 2 ? row : undefined;
      },
      KILL_BY_MS,
    );
    const killedAt = Date.now();
    killGroup(leader, "SIGKILL");
    expect((await exitOf(leader, 5_000)).signal).toBe("SIGKILL");
    await waitFor(
      () => `the standby to take the lead\n${describeAll()}`,
      () => (roleOf(standby) === "leader" ? true : undefined),
      15_000,
    );
    const failoverMs = Date.now() - killedAt;
    const lease = await query<{ holder: string }>(
      databaseUrl,
      `SELECT holder FROM leases WHERE name = 'daemon'`,
    );
    expect(lease[0]?.holder).toBe(/daemon (\S+) is the leader/.exec(standby.stderr())?.[1]);

    // The rest of the 60 s, then the schedule and the sensor are stopped and everything drains.
    await waitFor(
      () => `${ACTIVITY_MS} ms of activity\n${describeAll()}`,
      () => Date.now() - startedAt >= ACTIVITY_MS,
      ACTIVITY_MS + 5_000,
    );
    await query(
      databaseUrl,
      `INSERT INTO instigator_state (name, kind, status, updated_at) VALUES
         ('every_second', 'schedule', 'STOPPED', 0), ('counter', 'sensor', 'STOPPED', 0)
       ON CONFLICT (name) DO UPDATE SET status = 'STOPPED'`,
    );
    const backfill = await waitFor(
      () => `the backfill to end\n${describeAll()}`,
      async () => {
        const rows = await query<{ status: string; counts: string; updated_at: string; created_at: string }>(
          databaseUrl,
          `SELECT status, counts, updated_at::text, created_at::text FROM backfills WHERE backfill_id = $1`,
          [backfillId],
        );
        return rows[0] && ["COMPLETED", "FAILED", "CANCELED"].includes(rows[0].status) ? rows[0] : undefined;
      },
      30_000,
    );
    await waitFor(
      () => `every run to end\n${describeAll()}`,
      async () =>
        (
          await query<{ n: number }>(
            databaseUrl,
            `SELECT count(*)::int AS n FROM runs WHERE status NOT IN ('SUCCESS', 'FAILURE', 'CANCELED')`,
          )
        )[0]!.n === 0,
      30_000,
    );

    // Leadership moved, once: the standby leads and only the two daemons ever held the lease.
    expect(roleOf(standby), describeProc(standby)).toBe("leader");
    expect(standby.stderr()).not.toMatch(/^\s+at /m);

    // The backfill completed, each partition materialized exactly once.
    expect(backfill.status, describeAll()).toBe("COMPLETED");
    const perPartition = await query<{ partition: string; n: number }>(
      databaseUrl,
      `SELECT body::jsonb ->> 'partition' AS partition, count(*)::int AS n FROM event_logs
        WHERE type = 'materialization' AND asset_key = 'fault/days' GROUP BY 1`,
    );
    const partitionsNotOnce = perPartition.filter((p) => p.n !== 1);

    // Schedule: one tick per scheduled second (a second evaluation would add a SKIPPED "already
    // launched" tick for the same time), one run per tick.
    const scheduleTicks = await query<{ timestamp: string; n: number; statuses: string }>(
      databaseUrl,
      `SELECT timestamp::text, count(*)::int AS n, string_agg(status, ',') AS statuses FROM ticks
        WHERE name = 'every_second' GROUP BY timestamp`,
    );
    const doubleScheduleTicks = scheduleTicks.filter((t) => t.n > 1);
    // Sensor: its SUCCESS ticks' cursors are 1, 2, 3 … each once (a step evaluated twice repeats one).
    const sensorCursors = (
      await query<{ cursor: string }>(
        databaseUrl,
        `SELECT cursor FROM ticks WHERE name = 'counter' AND status = 'SUCCESS' ORDER BY id`,
      )
    ).map((t) => Number(t.cursor));
    const repeatedCursors = sensorCursors.length - new Set(sensorCursors).size;
    // Run keys: one run per (owner, key), and no two runs carry the same schedule time or sensor step.
    const repeatedRunKeys = await query<{ key: string; n: number }>(
      databaseUrl,
      `SELECT coalesce(tags::jsonb ->> 'baton/scheduled-time', 'step ' || (tags::jsonb ->> 'fault/step')) AS key,
              count(*)::int AS n
         FROM runs WHERE tags::jsonb ? 'baton/scheduled-time' OR tags::jsonb ? 'fault/step'
        GROUP BY 1 HAVING count(*) > 1`,
    );
    const claims = await checkClaims(databaseUrl);
    const runSeq = await runSeqViolations(databaseUrl);
    const counts = (
      await query<{ schedule_runs: number; sensor_runs: number; backfill_runs: number; runs: number }>(
        databaseUrl,
        `SELECT count(*) FILTER (WHERE tags::jsonb ? 'baton/scheduled-time')::int AS schedule_runs,
                count(*) FILTER (WHERE tags::jsonb ? 'fault/step')::int AS sensor_runs,
                count(*) FILTER (WHERE backfill_id IS NOT NULL)::int AS backfill_runs,
                count(*)::int AS runs FROM runs`,
      )
    )[0]!;
    const figures = {
      scenario: "two-daemons",
      backend: "postgres",
      daemons: 2,
      workers: 4,
      activityMs: ACTIVITY_MS,
      leaseTtlMs: LEASE_TTL_MS,
      failoverMs,
      scheduleTicks: scheduleTicks.length,
      sensorTicks: sensorCursors.length,
      runs: counts.runs,
      scheduleRuns: counts.schedule_runs,
      sensorRuns: counts.sensor_runs,
      backfillRuns: counts.backfill_runs,
      backfillPartitions: PARTITIONS,
      killedAfterMs: killedAt - startedAt,
      backfillAtKill: `${atKill.status}, ${atKill.succeeded} of ${atKill.runs} launched runs done`,
      backfillSeconds: +((Number(backfill.updated_at) - Number(backfill.created_at)) / 1000).toFixed(1),
      duplicates: {
        scheduleTicks: doubleScheduleTicks.length,
        sensorCursorSteps: repeatedCursors,
        runKeys: repeatedRunKeys.length,
        claims: claims.doubleClaims,
        partitionsNotOnce: partitionsNotOnce.length,
      },
      claimViolations: claims.violations,
      executors: claims.executors,
      loadavg1: +os.loadavg()[0]!.toFixed(2),
    };
    printFigures(figures);

    expect(perPartition.length).toBe(PARTITIONS);
    expect(partitionsNotOnce, "backfill partitions not materialized exactly once").toEqual([]);
    expect(doubleScheduleTicks, "schedule ticks evaluated more than once").toEqual([]);
    expect(repeatedCursors, `sensor cursors ${sensorCursors.join(",")}`).toBe(0);
    expect(sensorCursors).toEqual(sensorCursors.map((_, i) => sensorCursors[0]! + i));
    expect(repeatedRunKeys, "run keys launched twice").toEqual([]);
    expect(claims.violations, "the no-double-claim proof").toEqual([]);
    expect(claims.runs).toBe(counts.runs);
    expect(runSeq).toEqual([]);
    // Activity on both sides of the kill: the schedule ticked through the failover.
    expect(scheduleTicks.length).toBeGreaterThanOrEqual(30);
    expect(failoverMs).toBeLessThanOrEqual(LEASE_TTL_MS + 8_000);
    // The kill landed in the middle of the backfill.
    expect(atKill.status).toBe("RUNNING");
    expect(atKill.succeeded).toBeLessThan(PARTITIONS);
  }, 180_000);
});
