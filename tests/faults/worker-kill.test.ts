/**
 * Fault scenario 1 (issue 14): SIGKILL a run worker in the middle of a step, 20 times.
 *
 * Each round queues 5 runs of faults/a → faults/b → faults/c, starts a real local worker pool
 * (`baton worker --concurrency 5`, one run per child process), waits (from the store) until every
 * run finished step a and started step b (b holds on a file the test owns), then SIGKILLs the
 * pool's whole process group: the supervisor dies too, so nobody is left to report the deaths and
 * only the daemon's heartbeat monitor can notice. 4 rounds = 20 kills of 20 distinct runs per
 * backend (a loop over runs, not one run re-executed: each kill is a fresh run with a fresh a).
 *
 * The monitor is the daemon's own code (`createDaemon` from @baton/core/internal), ticking in this
 * process every 200 ms with a heartbeat timeout of 2 worker heartbeat intervals. For every kill:
 * - the run is FAILURE within 2 heartbeat intervals + one monitor period + the longest tick,
 *   measured from the kill to the run_failed event's timestamp, with a "the worker died" reason;
 * - step a's events (step_started, materialization, step_succeeded) are stored exactly once, b's
 *   step_started once, nothing of c; run_seq is 1..n without a gap;
 * - re-executing it from failure (`launchReexecution(…, { fromFailure: true })`, what the UI's and
 *   the CLI's re-execute do, queued to a fresh pool) runs exactly b and c, never a again.
 * The monitor is stopped for the re-executions: they assert what runs, not detection (and a live
 * worker's late heartbeat on a loaded machine is not what this scenario measures).
 * Figures: FAULT_FIGURES line per backend (detect p50/max, longest monitor tick, round times).
 */
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import {
  createDaemon,
  type Definitions,
  type RunRecord,
  type StoredRunEvent,
} from "../../packages/core/src/internal.js";
import fixtureDefinitions from "../fixtures/faults-workers/definitions.js";
import { describeProc, waitFor } from "../support/processes.js";
import { storageBackends } from "../support/storage-backends.js";
import {
  allRuns,
  closeFaultEnv,
  duplicates,
  type FaultEnv,
  loadAverage,
  markers,
  openFaultEnv,
  percentile,
  printFigures,
  rawEventRows,
  requireBuiltCore,
  sigkillGroup,
  startPool,
  tally,
} from "./support-workers.js";

// The fixture is compiled against the built package; the instance here is the source one. The
// shapes are the same, only the nominal types differ.
const definitions = fixtureDefinitions as unknown as Definitions;

/**
 * The worker's default. With 300 ms (timeout 600 ms) live runs were failed before any kill on this
 * 2-core machine at load 14: a heartbeat 350 ms late is jitter there, not a death. A timeout of 2
 * intervals tolerates one interval of lateness, so the interval must exceed the machine's jitter.
 */
const HEARTBEAT_MS = 1000;
/** "Failed within 2 heartbeat intervals": the monitor's timeout. */
const HEARTBEAT_TIMEOUT_MS = 2 * HEARTBEAT_MS;
const MONITOR_PERIOD_MS = 200;
const ROUNDS = 4;
const RUNS_PER_ROUND = 5;
const A = "faults/a";
const B = "faults/b";
const C = "faults/c";

/** The daemon's monitor ticking in this process until stopped; records how long each tick took. */
function startMonitor(t: FaultEnv) {
  const daemon = createDaemon({
    instance: t.instance,
    definitions: () => definitions,
    heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
    intervalMs: MONITOR_PERIOD_MS,
    watch: false,
  });
  let stopped = false;
  let tickMsMax = 0;
  let errors = 0;
  const done = (async () => {
    while (!stopped) {
      const start = Date.now();
      await daemon.tick().catch(() => {
        errors++;
      });
      tickMsMax = Math.max(tickMsMax, Date.now() - start);
      await new Promise((r) => setTimeout(r, MONITOR_PERIOD_MS));
    }
  })();
  return {
    tickMsMax: () => tickMsMax,
    errors: () => errors,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

const count = (events: readonly StoredRunEvent[], type: string, assetKey?: string) =>
  events.filter(
    (e) =>
      e.type === type &&
      (assetKey === undefined ||
        ("assetKeys" in e && e.assetKeys.includes(assetKey)) ||
        ("assetKey" in e && e.assetKey === assetKey)),
  ).length;

/** The step keys a run started, in order. */
const startedSteps = (events: readonly StoredRunEvent[]) =>
  events.flatMap((e) => (e.type === "step_started" ? e.assetKeys : []));

async function describeRuns(t: FaultEnv): Promise<string> {
  const runs = await allRuns(t).catch(() => [] as RunRecord[]);
  return [
    `runs (${runs.length}):`,
    ...runs.map(
      (r) => `  ${r.runId} ${r.status} parent=${r.parentRunId} worker=${r.workerId} hb=${r.heartbeatAt}`,
    ),
    ...t.procs.filter((p) => !p.exitInfo()).map(describeProc),
  ].join("\n");
}

for (const backend of storageBackends()) {
  describe.skipIf(backend.skipReason !== null)(`worker SIGKILLed mid-step on ${backend.name}`, () => {
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

    test(`${ROUNDS * RUNS_PER_ROUND} kills inside step b: each run failed within 2 heartbeats with "the worker died", a's events once, re-execution from failure runs b and c only`, {
      timeout: 240_000,
    }, async () => {
      const began = Date.now();
      const env = await openFaultEnv(backend);
      t = env;
      const hold = path.join(env.home, "hold-b");
      await writeFile(hold, "step b waits while this file exists\n");
      env.fixtureEnv.FIXTURE_HOLD_FILE = hold;
      // Idle children keep their code: nothing to do with this test.
      env.fixtureEnv.BATON_WORKER_IDLE_EXIT_MS = "0";

      const monitor = startMonitor(env);
      const detectMs: number[] = [];
      const killed: string[] = [];
      /** Per round: starting the pool, then until every run was inside step b. */
      const roundTimes: { poolMs: number; insideBMs: number }[] = [];
      try {
        for (let round = 0; round < ROUNDS; round++) {
          const runIds: string[] = [];
          for (let i = 0; i < RUNS_PER_ROUND; i++)
            runIds.push(
              (
                await env.instance.launchRun(definitions, {
                  assetKeys: [A, B, C],
                  tags: { round: String(round) },
                })
              ).runId,
            );
          const roundAt = Date.now();
          const pool = await startPool(env, RUNS_PER_ROUND, HEARTBEAT_MS);
          const poolAt = Date.now();
          // Every run inside step b (a succeeded, b started), read from the store.
          await waitFor(
            async () => `round ${round}: every run inside step b\n${await describeRuns(env)}`,
            async () => {
              for (const runId of runIds) {
                const events = await env.instance.storage.getEvents(runId);
                if (count(events, "step_succeeded") < 1 || !startedSteps(events).includes(B)) return false;
              }
              return true;
            },
            40_000,
          );
          const killAt = Date.now();
          roundTimes.push({ poolMs: poolAt - roundAt, insideBMs: killAt - poolAt });
          console.log(
            `[${backend.name}] round ${round}: ${JSON.stringify(roundTimes.at(-1))} at ${Date.now() - began} ms`,
          );
          await sigkillGroup(pool);
          for (const runId of runIds) {
            const run = await waitFor(
              async () => `run ${runId} to be failed by the monitor\n${await describeRuns(env)}`,
              async () => {
                const r = await env.instance.storage.getRun(runId);
                return r && r.status !== "STARTED" && r.status !== "STARTING" ? r : undefined;
              },
              15_000,
            );
            expect(run.status).toBe("FAILURE");
            const events = await env.instance.storage.getEvents(runId);
            const failed = events.filter((e) => e.type === "run_failed");
            expect(failed, `run ${runId}'s run_failed events`).toHaveLength(1);
            const end = failed[0]!;
            if (end.type !== "run_failed") throw new Error("unreachable");
            expect(end.reason).toMatch(
              /^the worker died: worker-\S+ stopped heartbeating \(nothing for \d+\.\d s\)/,
            );
            expect(
              end.timestamp,
              `failed after the kill, not before (${end.reason}) ${await describeRuns(env)}`,
            ).toBeGreaterThanOrEqual(killAt);
            detectMs.push(end.timestamp - killAt);
            killed.push(runId);
          }
          // Within 2 heartbeat intervals + the monitor's period + its longest pass.
          const bound = HEARTBEAT_TIMEOUT_MS + MONITOR_PERIOD_MS + monitor.tickMsMax();
          expect(
            Math.max(...detectMs),
            `detect times ${detectMs.join(", ")} ms vs ${bound} ms`,
          ).toBeLessThanOrEqual(bound);
        }
        expect(monitor.errors()).toBe(0);
      } finally {
        await monitor.stop();
      }
      const killsDoneAt = Date.now();

      // What the killed runs left in the store: a complete, once; b started, once; c never.
      for (const runId of killed) {
        const events = await env.instance.storage.getEvents(runId);
        const what = `run ${runId}: ${events.map((e) => `${e.type}${"assetKeys" in e ? `(${e.assetKeys.join(",")})` : ""}`).join(" ")}`;
        expect(count(events, "run_started"), what).toBe(1);
        expect(count(events, "step_started", A), what).toBe(1);
        expect(count(events, "materialization", A), what).toBe(1);
        expect(count(events, "step_succeeded"), what).toBe(1);
        expect(startedSteps(events), what).toEqual([A, B]);
        expect(count(events, "materialization", B) + count(events, "materialization", C), what).toBe(0);
        const rows = await rawEventRows(env, runId);
        expect(
          rows.map((r) => r.runSeq),
          `${what}: run_seq`,
        ).toEqual(rows.map((_, i) => i + 1));
        expect(
          rows.map((r) => r.id),
          `${what}: ids follow run_seq`,
        ).toEqual([...rows.map((r) => r.id)].sort((x, y) => x - y));
        expect(
          rows.map((r) => r.id).sort((x, y) => x - y),
          `${what}: every stored row read`,
        ).toEqual(events.map((e) => e.id).sort((x, y) => x - y));
      }
      const bodiesBefore = await markers(env);
      expect(tally(bodiesBefore.map((m) => m.asset))).toEqual({ [A]: killed.length });

      // Re-execute every killed run from failure, on a fresh pool, with b no longer held.
      await rm(hold);
      const children = new Map<string, string>();
      for (const runId of killed) {
        const child = await env.instance.launchReexecution(definitions, runId, { fromFailure: true });
        expect(child.assetKeys.slice().sort()).toEqual([B, C]);
        children.set(child.runId, runId);
      }
      const pool = await startPool(env, 2, HEARTBEAT_MS);
      const reruns = await waitFor(
        async () => `every re-execution to end\n${await describeRuns(env)}`,
        async () => {
          const runs = (await allRuns(env)).filter((r) => children.has(r.runId));
          return runs.every((r) => ["SUCCESS", "FAILURE", "CANCELED"].includes(r.status)) ? runs : undefined;
        },
        40_000,
      );
      await sigkillGroup(pool).catch(() => undefined);
      expect(reruns).toHaveLength(killed.length);
      for (const rerun of reruns) {
        const events = await env.instance.storage.getEvents(rerun.runId);
        const what = `re-execution ${rerun.runId} of ${children.get(rerun.runId)}: ${events.map((e) => e.type).join(" ")}`;
        expect(rerun.status, what).toBe("SUCCESS");
        expect(rerun.parentRunId).toBe(children.get(rerun.runId));
        expect(startedSteps(events), what).toEqual([B, C]);
        expect(count(events, "materialization", B), what).toBe(1);
        expect(count(events, "materialization", C), what).toBe(1);
        expect(count(events, "materialization", A), what).toBe(0);
      }
      // Bodies that ran to their end, over both phases: a once per killed run, b and c once per
      // re-execution, and nothing twice.
      const bodies = await markers(env);
      expect(tally(bodies.map((m) => m.asset))).toEqual({
        [A]: killed.length,
        [B]: killed.length,
        [C]: killed.length,
      });
      expect(duplicates(bodies.map((m) => `${m.asset}@${m.runId}`))).toEqual({});

      printFigures({
        scenario: "worker-sigkill",
        backend: backend.name,
        kills: killed.length,
        heartbeatMs: HEARTBEAT_MS,
        heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
        monitorPeriodMs: MONITOR_PERIOD_MS,
        detectMsP50: percentile(detectMs, 50),
        detectMsMax: Math.max(...detectMs),
        monitorTickMsMax: monitor.tickMsMax(),
        reexecutions: reruns.length,
        reexecutedStepA: 0,
        eventsLost: 0,
        eventsDuplicated: 0,
        roundTimes,
        killPhaseSeconds: Math.round((killsDoneAt - began) / 100) / 10,
        totalSeconds: Math.round((Date.now() - began) / 100) / 10,
        loadAvg1m: loadAverage(),
      });
    });
  });
}
