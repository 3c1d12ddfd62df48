import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import {
  type BatonInstance,
  type Definitions,
  openInstance,
  type RunRecord,
  type RunStatus,
  type StoredRunEvent,
} from "../packages/core/src/index.js";
import fixtureDefinitions, { type Marker } from "./fixtures/worker/definitions.js";
import {
  type CliResult,
  completion,
  describeProc,
  exitOf,
  expectExit,
  forget,
  isAlive,
  killGroup,
  type Proc,
  spawnBaton,
  WAIT_MS,
  waitFor,
} from "./support/processes.js";
import { type StorageLocation, storageBackends } from "./support/storage-backends.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const FIXTURE = path.join(ROOT, "tests/fixtures/worker");
// The fixture is compiled against the built package; the instance here is the source one. The
// shapes are the same, only the nominal types differ.
const definitions = fixtureDefinitions as unknown as Definitions;

const HEARTBEAT_MS = "300";
const ACTIVE: readonly RunStatus[] = ["STARTING", "STARTED", "CANCELING"];
const TERMINAL: readonly RunStatus[] = ["SUCCESS", "FAILURE", "CANCELED"];

// ---------------------------------------------------------------------------------------------
// Processes

interface TestEnv {
  readonly home: string;
  readonly markerDir: string;
  readonly databaseUrl: string | undefined;
  readonly instance: BatonInstance;
  /** Processes of this test, for failure messages. */
  readonly procs: Proc[];
}

function childEnv(t: TestEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(BATON_|FIXTURE_)/.test(k) && k !== "CI" && v !== undefined) env[k] = v;
  env.BATON_HOME = t.home;
  env.FIXTURE_MARKER_DIR = t.markerDir;
  if (t.databaseUrl) env.BATON_DATABASE_URL = t.databaseUrl;
  return env;
}

/** Start `baton ARGS` in its own process group (killed as a group after the test). */
function startBaton(t: TestEnv, args: readonly string[]): Proc {
  const proc = spawnBaton(args, { cwd: FIXTURE, env: childEnv(t) });
  t.procs.push(proc);
  return proc;
}

/** Run `baton ARGS` to completion. */
function baton(t: TestEnv, args: readonly string[]): Promise<CliResult> {
  return completion(startBaton(t, args));
}

// ---------------------------------------------------------------------------------------------
// Waiting and looking

async function getRun(t: TestEnv, runId: string): Promise<RunRecord> {
  const run = await t.instance.storage.getRun(runId);
  if (!run) throw new Error(`run ${runId} is not in the store`);
  return run;
}

async function describeState(t: TestEnv): Promise<string> {
  const runs = await t.instance.storage.listRuns({ limit: 100 }).catch(() => ({ runs: [] as RunRecord[] }));
  const workers = await t.instance.storage.listWorkers().catch(() => []);
  return [
    "runs:",
    ...runs.runs.map(
      (r) => `  ${r.runId} ${r.status} ${r.selection} worker=${r.workerId} prio=${r.priority}`,
    ),
    "workers:",
    ...workers.map((w) => `  ${w.workerId} pid=${w.pid} ${w.status} heartbeat=${w.heartbeatAt}`),
    ...t.procs.map(describeProc),
  ].join("\n");
}

/** Wait until the run has one of `statuses`; the failure message shows the store and the processes. */
async function waitForStatus(
  t: TestEnv,
  runId: string,
  statuses: readonly RunStatus[],
  ms = WAIT_MS,
): Promise<RunRecord> {
  let state = "";
  try {
    return await waitFor(
      () => `run ${runId} to be ${statuses.join("|")}`,
      async () => {
        const run = await getRun(t, runId);
        if (statuses.includes(run.status)) return run;
        if (TERMINAL.includes(run.status) && !statuses.some((s) => TERMINAL.includes(s)))
          throw new Error(`run ${runId} ended ${run.status}`);
        return undefined;
      },
      ms,
    );
  } catch (error) {
    state = await describeState(t);
    throw new Error(`${(error as Error).message}\n${state}`);
  }
}

async function waitForAll(t: TestEnv, runIds: readonly string[], status: RunStatus): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  for (const id of runIds) runs.push(await waitForStatus(t, id, TERMINAL));
  const summary = runs.map((r) => `${r.runId}: ${r.status}`).join("\n");
  if (runs.some((r) => r.status !== status))
    throw new Error(`expected every run ${status}:\n${summary}\n${await describeState(t)}`);
  return runs;
}

async function eventsOf(t: TestEnv, runId: string): Promise<StoredRunEvent[]> {
  return t.instance.storage.getEvents(runId);
}

/** The reason of the run's final run_failed / run_canceled event. */
async function endReason(t: TestEnv, runId: string): Promise<string | undefined> {
  const ends = (await eventsOf(t, runId)).filter(
    (e) => e.type === "run_failed" || e.type === "run_canceled",
  ) as (StoredRunEvent & { reason: string })[];
  return ends.at(-1)?.reason;
}

async function markers(t: TestEnv): Promise<Marker[]> {
  if (!existsSync(t.markerDir)) return [];
  const files = (await readdir(t.markerDir)).filter((f) => f.endsWith(".json"));
  return Promise.all(
    files.map(async (f) => JSON.parse(await readFile(path.join(t.markerDir, f), "utf8")) as Marker),
  );
}

async function markerOf(t: TestEnv, runId: string): Promise<Marker | undefined> {
  return (await markers(t)).find((m) => m.runId === runId);
}

/** Wait until the run's body has started (its marker exists). */
function waitForMarker(t: TestEnv, runId: string): Promise<Marker> {
  return waitFor(`the body of run ${runId} to start`, () => markerOf(t, runId));
}

/** Most intervals open at once (an interval ending when another starts does not overlap it). */
function maxOverlap(intervals: readonly { start: number; end: number }[]): number {
  const points = intervals.flatMap((i) => [
    { at: i.start, d: 1 },
    { at: i.end, d: -1 },
  ]);
  points.sort((a, b) => a.at - b.at || a.d - b.d);
  let open = 0;
  let max = 0;
  for (const p of points) {
    open += p.d;
    max = Math.max(max, open);
  }
  return max;
}

function intervalsOf(ms: readonly Marker[]) {
  return ms.map((m) => {
    if (m.end === null) throw new Error(`the body of run ${m.runId} did not end: ${JSON.stringify(m)}`);
    return { start: m.start, end: m.end };
  });
}

/**
 * Samples the store every 50 ms while it runs: the most runs claimed or running at once (all of
 * them, or only those matching `filter`).
 */
function sampleActive(t: TestEnv, filter: (run: RunRecord) => boolean = () => true) {
  let max = 0;
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const page = await t.instance.storage.listRuns({ statuses: ACTIVE, limit: 100 }).catch(() => undefined);
      if (page) {
        samples++;
        max = Math.max(max, page.runs.filter(filter).length);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { max, samples };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Baton commands

const sleepConfig = (ms: number) => ({ "work/sleep": { ms } });

async function launch(
  t: TestEnv,
  selection: string,
  options: { config?: unknown; priority?: number; tags?: Record<string, string> } = {},
): Promise<string> {
  const run = await t.instance.launchRun(definitions, { selection, ...options });
  expect(run.status).toBe("QUEUED");
  return run.runId;
}

/** `baton launch ARGS`: the queued run's id. */
async function cliLaunch(t: TestEnv, args: readonly string[]): Promise<string> {
  const r = await baton(t, ["launch", ...args]);
  expectExit(r, 0);
  const runId = r.stdout.trim();
  expect(runId).toMatch(/^[0-9a-f-]{36}$/);
  return runId;
}

interface Pool {
  readonly proc: Proc;
  /** The worker children's pids at start (from "worker pool started: … (pids …)"). */
  readonly childPids: number[];
}

/** `baton worker --heartbeat-ms 300 ARGS`, once the supervisor has forked its children. */
async function startPool(t: TestEnv, args: readonly string[]): Promise<Pool> {
  const proc = startBaton(t, ["worker", "--heartbeat-ms", HEARTBEAT_MS, ...args]);
  const match = await waitFor(
    () => `the worker pool to start: ${describeProc(proc)}`,
    () => {
      if (proc.exitInfo()) throw new Error(`the pool exited: ${describeProc(proc)}`);
      return /worker pool started: \d+ process(?:es)? \(pids ([\d, ]+)\)/.exec(proc.stderr()) ?? undefined;
    },
  );
  return { proc, childPids: match[1]!.split(",").map((s) => Number(s.trim())) };
}

/** Wait until each of these pids heartbeats as a running worker; returns their worker ids. */
async function waitForWorkers(t: TestEnv, pids: readonly number[]): Promise<string[]> {
  return waitFor(
    () => `workers with pids ${pids.join(", ")} to heartbeat`,
    async () => {
      const workers = await t.instance.storage.listWorkers();
      const ids = pids.map((pid) => workers.find((w) => w.pid === pid && w.status === "running")?.workerId);
      return ids.every((id) => id !== undefined) ? (ids as string[]) : undefined;
    },
  );
}

async function workerPidOf(t: TestEnv, workerId: string | null): Promise<number | undefined> {
  return (await t.instance.storage.listWorkers()).find((w) => w.workerId === workerId)?.pid;
}

// ---------------------------------------------------------------------------------------------

for (const backend of storageBackends()) {
  describe.skipIf(backend.skipReason !== null)(`run workers and daemon on ${backend.name}`, () => {
    let t: TestEnv;
    let location: StorageLocation | undefined;

    beforeAll(async () => {
      if (!existsSync(path.join(ROOT, "packages/core/dist/cli/main.js")))
        throw new Error("build @baton/core first: npm run build -w @baton/core");
      await backend.start();
    });
    afterAll(async () => {
      await backend.stop();
    });

    beforeEach(async () => {
      const home = await mkdtemp(path.join(os.tmpdir(), "baton-worker-test-"));
      location = backend.name === "postgres" ? await backend.createLocation() : undefined;
      const databaseUrl = location?.options.databaseUrl;
      const instance = await openInstance({ home, env: {}, ...(databaseUrl ? { databaseUrl } : {}) });
      t = { home, markerDir: path.join(home, "markers"), databaseUrl, instance, procs: [] };
    });

    afterEach(async () => {
      for (const proc of t.procs) killGroup(proc, "SIGKILL");
      await Promise.all(t.procs.map((p) => exitOf(p, 5_000).catch(() => undefined)));
      for (const proc of t.procs) forget(proc);
      await t.instance.close();
      if (location) await backend.destroyLocation(location);
      location = undefined;
      await rm(t.home, { recursive: true, force: true });
    });

    test("runs queued before and after `baton worker --concurrency 2` starts all succeed on its workers, at most 2 at once", async () => {
      const before = [
        await cliLaunch(t, ["-s", "work/sleep", "--config", JSON.stringify(sleepConfig(500))]),
        await launch(t, "work/sleep", { config: sleepConfig(500) }),
      ];
      const sampler = sampleActive(t);
      const pool = await startPool(t, ["--concurrency", "2"]);
      expect(pool.childPids).toHaveLength(2);
      expect(pool.childPids).not.toContain(pool.proc.pid);
      const after = [
        await launch(t, "work/sleep", { config: sleepConfig(500) }),
        await launch(t, "work/sleep", { config: sleepConfig(500) }),
      ];
      const runs = await waitForAll(t, [...before, ...after], "SUCCESS");
      const sampled = await sampler.stop();

      // Never more than 2 at once, seen from the store and from the bodies.
      expect(sampled.samples).toBeGreaterThan(0);
      expect(sampled.max).toBeLessThanOrEqual(2);
      const ms = await markers(t);
      expect(ms.map((m) => m.runId).sort()).toEqual(runs.map((r) => r.runId).sort());
      expect(ms.every((m) => m.outcome === "done")).toBe(true);
      expect(maxOverlap(intervalsOf(ms))).toBeLessThanOrEqual(2);

      // Each run was executed by a worker child of this pool, which heartbeats in listWorkers.
      const workers = await t.instance.storage.listWorkers();
      for (const run of runs) {
        expect(run.workerId, run.runId).not.toBeNull();
        const worker = workers.find((w) => w.workerId === run.workerId);
        expect(worker, `worker ${run.workerId} of run ${run.runId}`).toBeDefined();
        expect(pool.childPids).toContain(worker!.pid);
        expect(ms.find((m) => m.runId === run.runId)?.pid).toBe(worker!.pid);
        expect(worker!.host).toBe(os.hostname());
      }
      const ids = await waitForWorkers(t, pool.childPids);
      const beat = (await t.instance.storage.listWorkers()).find((w) => w.workerId === ids[0])!.heartbeatAt;
      await waitFor("the worker's heartbeat to advance", async () =>
        (await t.instance.storage.listWorkers()).some((w) => w.workerId === ids[0] && w.heartbeatAt > beat),
      );

      pool.proc.child.kill("SIGTERM");
      expect(await exitOf(pool.proc)).toEqual({ code: 0, signal: null });
    });

    test("--max-concurrent-runs 1 with 2 worker processes: one run at a time", async () => {
      const pool = await startPool(t, ["--concurrency", "2", "--max-concurrent-runs", "1"]);
      await waitForWorkers(t, pool.childPids);
      const sampler = sampleActive(t);
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push(await launch(t, "work/sleep", { config: sleepConfig(400) }));
      await waitForAll(t, ids, "SUCCESS");
      const sampled = await sampler.stop();
      expect(sampled.max).toBe(1);
      const ms = await markers(t);
      expect(ms).toHaveLength(3);
      expect(maxOverlap(intervalsOf(ms))).toBe(1);
    });

    test("--tag-limit database=duckdb:1: one duckdb run at a time, while an untagged run runs alongside", async () => {
      const pool = await startPool(t, ["--concurrency", "2", "--tag-limit", "database=duckdb:1"]);
      const workerIds = await waitForWorkers(t, pool.childPids);
      const duck = ["--tag", "database=duckdb"];
      const sampler = sampleActive(t, (r) => r.tags.database === "duckdb");
      const first = await cliLaunch(t, ["-s", "work/forever", ...duck]);
      await waitForMarker(t, first);
      const second = await cliLaunch(t, ["-s", "work/quick", ...duck]);
      const untagged = await launch(t, "work/quick");

      // The other worker is free: it takes the untagged run, but not the second duckdb one.
      const done = await waitForStatus(t, untagged, ["SUCCESS"]);
      const firstRun = await getRun(t, first);
      expect(firstRun.status).toBe("STARTED");
      expect(done.workerId).not.toBe(firstRun.workerId);
      expect(workerIds).toContain(done.workerId);
      const freeWorker = done.workerId!;
      // Let the free worker poll the queue a few more times (its heartbeats go on meanwhile).
      const seen = (await t.instance.storage.listWorkers()).find(
        (w) => w.workerId === freeWorker,
      )!.heartbeatAt;
      await waitFor("two more heartbeats of the free worker", async () =>
        (await t.instance.storage.listWorkers()).some(
          (w) => w.workerId === freeWorker && w.heartbeatAt >= seen + 2 * Number(HEARTBEAT_MS),
        ),
      );
      expect((await getRun(t, second)).status).toBe("QUEUED");

      // Once the first duckdb run ends, the second one runs.
      await t.instance.cancelRun(first);
      await waitForStatus(t, first, ["CANCELED"]);
      await waitForStatus(t, second, ["SUCCESS"]);
      expect((await sampler.stop()).max).toBe(1);
      const m1 = (await markerOf(t, first))!;
      const m2 = (await markerOf(t, second))!;
      expect(m1.end).not.toBeNull();
      expect(m2.start).toBeGreaterThanOrEqual(m1.end!);
    });

    test("priority: while the only worker is busy, queued --priority 5 runs start before older priority-0 runs", async () => {
      const pool = await startPool(t, ["--concurrency", "1"]);
      const busy = await launch(t, "work/forever");
      await waitForMarker(t, busy);
      const low1 = await launch(t, "work/quick");
      const low2 = await cliLaunch(t, ["-s", "work/quick"]);
      const high1 = await cliLaunch(t, ["-s", "work/quick", "--priority", "5"]);
      const high2 = await launch(t, "work/quick", { priority: 5 });
      expect((await getRun(t, high1)).priority).toBe(5);
      expect((await getRun(t, low2)).priority).toBe(0);

      await t.instance.cancelRun(busy);
      await waitForStatus(t, busy, ["CANCELED"]);
      const runs = await waitForAll(t, [low1, low2, high1, high2], "SUCCESS");
      const order = [...runs].sort((a, b) => a.startedAt! - b.startedAt!).map((r) => r.runId);
      const names = new Map([
        [low1, "low1"],
        [low2, "low2"],
        [high1, "high1"],
        [high2, "high2"],
      ]);
      expect(order.map((id) => names.get(id))).toEqual(["high1", "high2", "low1", "low2"]);
      expect(new Set(runs.map((r) => r.workerId)).size).toBe(1);
      expect(pool.childPids).toContain(await workerPidOf(t, runs[0]!.workerId));
    });

    test("a worker child SIGKILLed mid-run: the run fails with the reason, a replacement starts, and later runs complete", async () => {
      const pool = await startPool(t, ["--concurrency", "1"]);
      const runId = await launch(t, "work/forever");
      const marker = await waitForMarker(t, runId);
      const run = await waitForStatus(t, runId, ["STARTED"]);
      expect(await workerPidOf(t, run.workerId)).toBe(marker.pid);
      expect(pool.childPids).toEqual([marker.pid]);

      process.kill(marker.pid, "SIGKILL");
      const failed = await waitForStatus(t, runId, ["FAILURE"], 5_000);
      expect(await endReason(t, runId)).toContain(`worker process ${marker.pid} died (signal SIGKILL)`);
      expect(failed.endedAt).not.toBeNull();

      // The pool starts a replacement, which heartbeats as a new worker.
      const replacement = await waitFor(
        () => `a replacement worker: ${describeProc(pool.proc)}`,
        async () =>
          (await t.instance.storage.listWorkers()).find(
            (w) => w.pid !== marker.pid && w.status === "running" && w.heartbeatAt > failed.endedAt!,
          ),
      );
      expect(pool.proc.stderr()).toContain(
        `worker ${marker.pid} exited (signal SIGKILL); starting a replacement`,
      );
      expect(isAlive(replacement.pid)).toBe(true);

      const next = await launch(t, "work/quick");
      const done = await waitForStatus(t, next, ["SUCCESS"]);
      expect(done.workerId).toBe(replacement.workerId);
      expect((await markerOf(t, next))?.pid).toBe(replacement.pid);
    });

    test("baton runs cancel: a queued run at once, a running one through its worker (which survives), an ended one is refused", async () => {
      // Queued, no worker yet: canceled at once and never executed.
      const queued = await launch(t, "work/quick");
      const c1 = await baton(t, ["runs", "cancel", queued]);
      expectExit(c1, 0);
      expect(c1.stdout).toContain(`run ${queued} CANCELED`);
      expect((await getRun(t, queued)).status).toBe("CANCELED");

      // Running: its worker aborts it.
      const pool = await startPool(t, ["--concurrency", "1"]);
      const running = await launch(t, "work/forever");
      const marker = await waitForMarker(t, running);
      await waitForStatus(t, running, ["STARTED"]);
      const c2 = await baton(t, ["runs", "cancel", running]);
      expectExit(c2, 0);
      expect(c2.stdout).toMatch(new RegExp(`run ${running} (CANCELING|CANCELED)`));
      const canceled = await waitForStatus(t, running, ["CANCELED"]);
      const events = await eventsOf(t, running);
      expect(events.filter((e) => e.type === "run_canceled")).toHaveLength(1);
      const stepCanceled = events.find((e) => e.type === "step_canceled" && e.stepKey === "work/forever") as
        | (StoredRunEvent & { reason: string })
        | undefined;
      expect(stepCanceled, JSON.stringify(events.map((e) => e.type))).toBeDefined();
      expect(stepCanceled!.reason.length).toBeGreaterThan(0);
      const summary = await t.instance.runSummary(running);
      expect(summary.steps.find((s) => s.stepKey === "work/forever")?.status).toBe("canceled");
      expect((await markerOf(t, running))?.outcome).toBe("aborted");

      // The worker process survives and runs the next run.
      expect(isAlive(marker.pid)).toBe(true);
      const next = await launch(t, "work/quick");
      const done = await waitForStatus(t, next, ["SUCCESS"]);
      expect(done.workerId).toBe(canceled.workerId);
      expect((await markerOf(t, next))?.pid).toBe(marker.pid);
      expect(pool.childPids).toEqual([marker.pid]);

      // The queued-then-canceled run was never picked up.
      const q = await getRun(t, queued);
      expect(q.status).toBe("CANCELED");
      expect(q.workerId).toBeNull();
      expect(q.startedAt).toBeNull();
      expect((await eventsOf(t, queued)).map((e) => e.type)).toEqual(["run_canceled"]);
      expect(await markerOf(t, queued)).toBeUndefined();

      // Ended: refused.
      const c3 = await baton(t, ["runs", "cancel", next]);
      expectExit(c3, 2);
      expect(c3.stderr).toContain("already ended");
      expect((await getRun(t, next)).status).toBe("SUCCESS");
    });

    test("the daemon fails a run whose whole worker pool was SIGKILLed (it stopped heartbeating)", async () => {
      const pool = await startPool(t, ["--concurrency", "1"]);
      const runId = await launch(t, "work/forever");
      const marker = await waitForMarker(t, runId);
      await waitForStatus(t, runId, ["STARTED"]);
      killGroup(pool.proc, "SIGKILL"); // the supervisor and its children
      await exitOf(pool.proc);
      await waitFor("the worker child to be gone", () => !isAlive(marker.pid));
      expect((await getRun(t, runId)).status).toBe("STARTED"); // nobody left to fail it

      const daemon = startBaton(t, ["daemon", "--heartbeat-timeout-ms", "1500", "--interval-ms", "200"]);
      await waitFor(
        () => `the daemon to lead: ${describeProc(daemon)}`,
        () => daemon.stderr().includes("is the leader"),
      );
      await waitForStatus(t, runId, ["FAILURE"], 10_000);
      expect(await endReason(t, runId)).toContain("stopped heartbeating");
      await waitFor(
        () => `the daemon to report the run: ${describeProc(daemon)}`,
        () => daemon.stderr().includes(`run ${runId} failed`),
      );
      daemon.child.kill("SIGTERM");
      expect(await exitOf(daemon)).toEqual({ code: 0, signal: null });
    });

    test("two daemons on one store: one leads, one stands by, and the standby takes over from a stopped or killed leader", async () => {
      const args = ["daemon", "--interval-ms", "200"];
      const daemons = [startBaton(t, args), startBaton(t, args)];
      const role = (d: Proc) =>
        d.stderr().includes("is the leader")
          ? "leader"
          : d.stderr().includes("waiting as standby")
            ? "standby"
            : undefined;
      await waitFor(
        () => `both daemons to announce a role:\n${daemons.map(describeProc).join("\n")}`,
        () => daemons.every((d) => role(d) !== undefined),
      );
      expect(daemons.map(role).sort()).toEqual(["leader", "standby"]);
      const leader = daemons.find((d) => role(d) === "leader")!;
      const standby = daemons.find((d) => role(d) === "standby")!;

      // A leader stopped with SIGTERM releases its lease: the standby leads soon after.
      leader.child.kill("SIGTERM");
      expect(await exitOf(leader)).toEqual({ code: 0, signal: null });
      await waitFor(
        () => `the standby to take over: ${describeProc(standby)}`,
        () => role(standby) === "leader",
        5_000,
      );
      // Only after it stood by, and only once each.
      expect(standby.stderr().indexOf("waiting as standby")).toBeLessThan(
        standby.stderr().indexOf("is the leader"),
      );
      expect(leader.stderr().match(/is the leader/g)).toHaveLength(1);

      // A SIGKILLed leader cannot release it: a third daemon leads once the lease expires (ttl 2 s).
      const third = startBaton(t, args);
      await waitFor(
        () => `the third daemon to stand by: ${describeProc(third)}`,
        () => role(third) === "standby",
      );
      killGroup(standby, "SIGKILL");
      await exitOf(standby);
      await waitFor(
        () => `the third daemon to take over: ${describeProc(third)}`,
        () => role(third) === "leader",
        6_000,
      );
    });

    test("SIGTERM to the pool while a run is in progress: the run finishes SUCCESS and the pool exits 0", async () => {
      const pool = await startPool(t, ["--concurrency", "1"]);
      const runId = await launch(t, "work/sleep", { config: sleepConfig(500) });
      const marker = await waitForMarker(t, runId);
      pool.proc.child.kill("SIGTERM");
      expect(await exitOf(pool.proc)).toEqual({ code: 0, signal: null });
      expect((await getRun(t, runId)).status).toBe("SUCCESS");
      expect((await markerOf(t, runId))?.outcome).toBe("done");
      expect(isAlive(marker.pid)).toBe(false);
      expect(pool.proc.stderr()).toContain("worker pool: received SIGTERM");
      const workers = await t.instance.storage.listWorkers();
      expect(workers.map((w) => w.status)).toEqual(["stopped"]);
    });

    test("Ctrl-C on `baton worker` (SIGINT to its process group) while a run is in progress: the run finishes SUCCESS and the pool exits 0", async () => {
      // A terminal's Ctrl-C (and systemd's stop, with KillMode=control-group) signals every
      // process of the group: the children get the signal themselves, and the supervisor's SIGTERM
      // on top of it.
      const pool = await startPool(t, ["--concurrency", "1"]);
      const runId = await launch(t, "work/sleep", { config: sleepConfig(800) });
      await waitForMarker(t, runId);
      killGroup(pool.proc, "SIGINT");
      const exit = await exitOf(pool.proc);
      const run = await getRun(t, runId);
      expect(
        { exit, status: run.status, reason: await endReason(t, runId) },
        `${describeProc(pool.proc)}\n${await describeState(t)}`,
      ).toEqual({ exit: { code: 0, signal: null }, status: "SUCCESS", reason: undefined });
    });

    test("a second SIGTERM forces the pool to stop: its children go too, and their run does not stay in progress", async () => {
      const pool = await startPool(t, ["--concurrency", "1"]);
      const runId = await launch(t, "work/forever");
      const marker = await waitForMarker(t, runId);
      pool.proc.child.kill("SIGTERM");
      await waitFor(
        () => `the pool to get the first stop: ${describeProc(pool.proc)}`,
        () => pool.proc.stderr().includes("worker pool: received SIGTERM"),
      );
      pool.proc.child.kill("SIGTERM"); // "again to force"
      const exit = await exitOf(pool.proc, 5_000);
      expect(exit.code).not.toBe(0);
      const childGone = await waitFor("the worker child to be gone", () => !isAlive(marker.pid), 4_000).catch(
        () => false,
      );
      const run = await getRun(t, runId);
      expect(
        { childGone, runEnded: TERMINAL.includes(run.status) },
        `child ${marker.pid} of ${describeProc(pool.proc)}\n${await describeState(t)}`,
      ).toEqual({ childGone: true, runEnded: true });
    });

    test("a worker child that dies while the pool is stopping: its run is failed before the pool exits (not left STARTED)", async () => {
      const pool = await startPool(t, ["--concurrency", "1"]);
      const runId = await launch(t, "work/forever");
      const marker = await waitForMarker(t, runId);
      await waitForStatus(t, runId, ["STARTED"]);
      pool.proc.child.kill("SIGTERM"); // graceful: the child waits for its (never-ending) run
      await waitFor(
        () => `the child to get the stop: ${describeProc(pool.proc)}`,
        () => pool.proc.stderr().includes(`worker ${marker.pid}: received SIGTERM`),
      );
      process.kill(marker.pid, "SIGKILL");
      const exit = await exitOf(pool.proc);
      expect(exit).toEqual({ code: 0, signal: null });
      const run = await getRun(t, runId);
      expect(
        { status: run.status, reason: await endReason(t, runId) },
        `${describeProc(pool.proc)}\n${await describeState(t)}`,
      ).toEqual({
        status: "FAILURE",
        reason: expect.stringContaining(`worker process ${marker.pid} died (signal SIGKILL)`),
      });
    });
  });
}
