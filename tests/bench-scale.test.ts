/**
 * The worker scale bench (`npm run bench:scale`, issue 13 §3) through its own code path, small:
 * real `baton worker --concurrency 2` processes on a throwaway Postgres run 20 runs of the
 * CPU-bound fixture, and the no-double-claim proof (read from the store) holds. Then the proof is
 * shown to catch what it claims to: a run started twice, a run executed by a process other than
 * its claimer, a worker process with two runs in flight at once, a missing materialization, a run
 * that did not succeed.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { checkClaims, parseRuns, parseWorkerCounts, runScaleCase } from "../bench/scale.js";
import {
  createTestDatabase,
  dropTestDatabase,
  handleMissingPostgres,
  requirePostgresOrSkipReason,
  startTestPostgres,
  type TestPostgres,
} from "./support/postgres.js";

test("BENCH_WORKERS and BENCH_RUNS are checked, naming the variable", () => {
  expect(parseWorkerCounts(undefined)).toEqual([1, 4]);
  expect(parseWorkerCounts("1, 2,4")).toEqual([1, 2, 4]);
  expect(() => parseWorkerCounts("1,0")).toThrow(/BENCH_WORKERS .*"0"/);
  expect(() => parseWorkerCounts("four")).toThrow(/BENCH_WORKERS/);
  expect(parseRuns(undefined)).toBe(1000);
  expect(parseRuns("20")).toBe(20);
  expect(() => parseRuns("1e3")).toThrow(/BENCH_RUNS must be a whole number/);
});

const skipReason = requirePostgresOrSkipReason();
if (skipReason !== null) handleMissingPostgres(skipReason);

describe.skipIf(skipReason !== null)("bench:scale on Postgres", () => {
  let server: TestPostgres;
  let url: string;
  beforeAll(async () => {
    server = (await startTestPostgres())!;
    url = await createTestDatabase(server.url);
  });
  afterAll(async () => {
    if (url) await dropTestDatabase(url);
    await server?.stop();
  });

  test("2 worker processes, 20 runs: every run claimed and executed once, by its claimer", async () => {
    const result = await runScaleCase(url, 2, 20, 2);
    expect(result.violations).toEqual([]);
    expect(result.doubleClaims).toBe(0);
    expect(result.proof).toMatchObject({
      runs: 22,
      succeeded: 22,
      neverStarted: 0,
      claimerNotExecutor: 0,
      maxInFlightPerWorker: 1,
      materializations: 22,
      runsWithoutOneMaterialization: 0,
    });
    // Both processes took runs (so the proof was about concurrent claimers), and they add up.
    expect(result.proof.executors).toBe(2);
    expect(result.proof.runsPerExecutor.reduce((a, b) => a + b, 0)).toBe(22);
    // The body really burns CPU (the fixture's point), and the figures are consistent.
    expect(result.proof.meanCpuMs).toBeGreaterThan(5);
    expect(result.runsPerSecond).toBeCloseTo(20 / result.seconds, 0);
    expect(result.secondsFromFirstStart).toBeLessThanOrEqual(result.seconds);
    expect(result.cores).toBeGreaterThanOrEqual(1);
  }, 60_000);

  test("the proof catches a double start, a foreign executor, a lost materialization and a failure", async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const runs = (await client.query(`SELECT run_id FROM runs ORDER BY id`)).rows.map(
        (r) => r.run_id as string,
      );
      const [a, b, c, d] = runs as [string, string, string, string];
      // a: a second run_started (as if two workers had started it).
      await client.query(
        `INSERT INTO event_logs (run_id, run_seq, type, step_key, asset_key, timestamp, body)
         SELECT run_id, run_seq + 1000, type, step_key, asset_key, timestamp, body
         FROM event_logs WHERE run_id = $1 AND type = 'run_started'`,
        [a],
      );
      // b: claimed by a worker that is not the process that executed it.
      await client.query(`UPDATE runs SET worker_id = 'worker-1-00000000' WHERE run_id = $1`, [b]);
      // c: its materialization is gone.
      await client.query(`DELETE FROM event_logs WHERE run_id = $1 AND type = 'materialization'`, [c]);
      // d: did not end SUCCESS.
      await client.query(`UPDATE runs SET status = 'FAILURE' WHERE run_id = $1`, [d]);
      // e, f: one worker process had two runs in flight at once (e ends after f started).
      const [e, f] = (
        await client.query(
          `SELECT run_id FROM runs WHERE worker_id = (SELECT worker_id FROM runs WHERE run_id NOT IN ($1, $2, $3, $4)
             GROUP BY worker_id ORDER BY count(*) DESC LIMIT 1) AND run_id NOT IN ($1, $2, $3, $4) ORDER BY started_at`,
          [a, b, c, d],
        )
      ).rows.map((r) => r.run_id as string) as [string, string];
      await client.query(
        `UPDATE runs SET ended_at = (SELECT started_at + 1 FROM runs WHERE run_id = $2) WHERE run_id = $1`,
        [e, f],
      );
    } finally {
      await client.end();
    }
    const proof = await checkClaims(url);
    expect(proof).toMatchObject({
      runs: 22,
      doubleClaims: 1,
      claimerNotExecutor: 1,
      maxInFlightPerWorker: 2,
      materializations: 21,
      runsWithoutOneMaterialization: 1,
      succeeded: 21,
    });
    expect(proof.violations).toEqual([
      "1 run(s) started more than once or executed by several processes",
      "1 of 22 run(s) did not end SUCCESS exactly once",
      "1 run(s) were executed by a process other than their claimer",
      "a worker process had 2 runs in flight at once (it has 1 slot: a claim took more than it asked for)",
      "21 materialization(s) for 22 run(s) (1 run(s) without exactly one)",
    ]);
  });
});
