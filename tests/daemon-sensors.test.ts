/**
 * Sensors end to end, in process, on SQLite and on a throwaway Postgres (BATON_TEST_STORAGE=
 * sqlite|postgres|all selects; CI never skips Postgres): custom `sensor()`s, run-key idempotency
 * (a crash between launching and saving the cursor), failures and time limits, dynamic partitions,
 * `fileSensor` on real files (and the daemon's file watcher), `assetSensor`, `runStatusSensor` with
 * alerts POSTed to real HTTP servers on 127.0.0.1, and the `baton sensor …` CLI (built CLI, SQLite).
 *
 * Time that matters to the logic comes from an injected clock: `evaluateSensor(s, { now })` or
 * `createDaemon({ clock, watch: false }).tick()`. Only the watcher test uses the real clock (it
 * proves an event-driven evaluation, so it polls with a bounded wait). Alert retries wait their real
 * backoff (0.2 s + 0.8 s): that is the product's delivery policy, not a test sleep.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm, utimes, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { z } from "zod";
import {
  type AlertPayload,
  asset,
  assetJob,
  assetSensor,
  type BatonInstance,
  createDaemon,
  type Definitions,
  defineDefinitions,
  discordAlert,
  dynamicPartitions,
  evaluateSensor,
  fileSensor,
  openInstance,
  type RunRecord,
  type RunRequest,
  runStatusSensor,
  type SensedFile,
  type SensorContext,
  type SensorDefinition,
  sensor,
  slackAlert,
  staticPartitions,
  type TickRecord,
  webhookAlert,
} from "../packages/core/src/internal.js";
import fixtureDefinitions from "./fixtures/daemon-sensors/definitions.js";
import { cliHarness, expectExit, expectUsageError, ROOT } from "./support/cli.js";
import { type StorageLocation, storageBackends } from "./support/storage-backends.js";

/** The injected clock's origin (2023-11-14T22:13:20Z). */
const T0 = 1_700_000_000_000;
const SENSOR_TAG = "baton/sensor";
const FILE_TAG = "baton/file";

// ---------------------------------------------------------------------------------------------
// Definitions shared by the in-process tests (each test adds its sensors)

const regions = staticPartitions(["eu", "us"]);
const plain = asset({ key: "plain" }, async () => 1);
const configured = asset(
  { key: "configured", config: z.object({ n: z.number().int() }) },
  async (ctx) => ctx.config.n,
);
const regional = asset({ key: "regional", partitions: regions }, async (ctx) => ctx.partitionKey);
const customerReport = asset(
  { key: "customer_report", partitions: dynamicPartitions({ name: "customers" }) },
  async (ctx) => ctx.partitionKey,
);
const upstream = asset({ key: "upstream" }, async () => 1);
const downstream = asset({ key: "downstream" }, async () => 2);
const upPart = asset({ key: "up_part", partitions: regions }, async (ctx) => ctx.partitionKey);
const downPart = asset({ key: "down_part", partitions: regions }, async (ctx) => ctx.partitionKey);
const flaky = asset({ key: "flaky" }, async (): Promise<number> => {
  throw new Error("warehouse exploded");
});
const otherFlaky = asset({ key: "other_flaky" }, async (): Promise<number> => {
  throw new Error("other exploded");
});
const flakyPart = asset({ key: "flaky_part", partitions: regions }, async (ctx): Promise<string> => {
  throw new Error(`no data for ${ctx.partitionKey}`);
});
const files = asset(
  { key: "files", partitions: staticPartitions(["alpha", "beta", "gamma"]) },
  async (ctx) => ctx.partitionKey,
);

const ASSETS = [
  plain,
  configured,
  regional,
  customerReport,
  upstream,
  downstream,
  upPart,
  downPart,
  flaky,
  otherFlaky,
  flakyPart,
  files,
];

function defs(...sensors: SensorDefinition[]): Definitions {
  return defineDefinitions({ assets: ASSETS, sensors });
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** A local HTTP server recording every request; `answer(n)` is the status of the n-th (1-based). */
interface Hook {
  readonly url: string;
  readonly received: { method: string; path: string; contentType: string | undefined; body: unknown }[];
}

/** Bounded polling (real processes / real file-system events only). */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A file's mtime this many seconds before the wall clock (so it is settled). */
function secondsAgo(s: number): Date {
  return new Date(Date.now() - s * 1000);
}

async function writeSettled(file: string, content: string, ageSeconds = 60) {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
  const at = secondsAgo(ageSeconds);
  await utimes(file, at, at);
}

// ---------------------------------------------------------------------------------------------
// The suite, once per storage backend

for (const backend of storageBackends()) {
  describe.skipIf(backend.skipReason !== null)(`sensors on ${backend.name}`, () => {
    let home: string;
    let location: StorageLocation | undefined;
    let databaseUrl: string | undefined;
    let instance: BatonInstance;
    let cleanups: (() => Promise<unknown>)[] = [];

    beforeAll(async () => {
      await backend.start();
    });
    afterAll(async () => {
      await backend.stop();
    });
    beforeEach(async () => {
      home = await mkdtemp(path.join(os.tmpdir(), "baton-sensors-test-"));
      location = backend.name === "postgres" ? await backend.createLocation() : undefined;
      databaseUrl = location?.options.databaseUrl;
      instance = await openInstance({ home, env: {}, ...(databaseUrl ? { databaseUrl } : {}) });
      cleanups = [];
    });
    afterEach(async () => {
      for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
      await instance.close();
      if (location) await backend.destroyLocation(location);
      location = undefined;
      await rm(home, { recursive: true, force: true });
    });

    const evaluate = (s: SensorDefinition, definitions: Definitions, now = T0) =>
      evaluateSensor(s, { instance, definitions, now });

    /** Ticks of a sensor, oldest first. */
    async function ticksOf(name: string): Promise<TickRecord[]> {
      return (await instance.storage.listTicks(name, { limit: 100 })).reverse();
    }

    /** Runs launched by sensors (tagged `baton/sensor`), oldest first (listRuns is newest first). */
    async function sensorRuns(name?: string): Promise<RunRecord[]> {
      const { runs } = await instance.storage.listRuns({ limit: 1000 });
      return runs
        .filter((r) => (name === undefined ? SENSOR_TAG in r.tags : r.tags[SENSOR_TAG] === name))
        .reverse();
    }

    async function allRunIds(): Promise<string[]> {
      const { runs } = await instance.storage.listRuns({ limit: 1000 });
      return runs.map((r) => r.runId).sort();
    }

    async function cursorOf(name: string): Promise<string | null | undefined> {
      return (await instance.storage.getInstigatorState(name))?.cursor;
    }

    async function startHook(answer: (n: number) => number = () => 200): Promise<Hook> {
      const received: Hook["received"] = [];
      const server = http.createServer((req, res) => {
        let data = "";
        req.setEncoding("utf8");
        req.on("data", (chunk: string) => {
          data += chunk;
        });
        req.on("end", () => {
          let body: unknown = data;
          try {
            body = JSON.parse(data);
          } catch {
            // kept as text
          }
          received.push({
            method: req.method ?? "",
            path: req.url ?? "",
            contentType: req.headers["content-type"],
            body,
          });
          const status = answer(received.length);
          res.writeHead(status, { "content-type": "text/plain" });
          res.end(status < 300 ? "ok" : "hook is broken");
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as AddressInfo;
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      );
      return { url: `http://127.0.0.1:${port}/hook`, received };
    }

    // -------------------------------------------------------------------------------------------
    describe("custom sensor()", () => {
      test("cursor starts null then is the returned one; requests become QUEUED runs tagged baton/sensor with partition, config and tags", async () => {
        const contexts: { cursor: string | null; now: number; lastTickAt: number | null; name: string }[] =
          [];
        const s = sensor({
          name: "custom",
          selection: "regional",
          evaluate(ctx) {
            contexts.push({
              cursor: ctx.cursor,
              now: ctx.now.getTime(),
              lastTickAt: ctx.lastTickAt?.getTime() ?? null,
              name: ctx.sensorName,
            });
            const n = Number(ctx.cursor ?? "0") + 1;
            return {
              runRequests: [{ partitionKey: n === 1 ? "eu" : "us", tags: { batch: String(n) } }],
              cursor: String(n),
            };
          },
        });
        const cfg = sensor({
          name: "with_config",
          selection: "configured",
          evaluate: () => [{ config: { configured: { n: 42 } } }],
        });
        const d = defs(s, cfg);

        const first = await evaluate(s, d, T0);
        expect(first.status).toBe("SUCCESS");
        expect(first.launched).toHaveLength(1);
        const second = await evaluate(s, d, T0 + 30_000);
        expect(second.status).toBe("SUCCESS");

        expect(contexts).toEqual([
          { cursor: null, now: T0, lastTickAt: null, name: "custom" },
          { cursor: "1", now: T0 + 30_000, lastTickAt: T0, name: "custom" },
        ]);
        expect(await cursorOf("custom")).toBe("2");
        expect(await instance.storage.getInstigatorState("custom")).toMatchObject({
          name: "custom",
          kind: "sensor",
          cursor: "2",
          lastTickAt: T0 + 30_000,
        });

        const runs = await sensorRuns("custom");
        expect(runs.map((r) => [r.status, r.assetKeys, r.partitionKeys, r.tags])).toEqual([
          ["QUEUED", ["regional"], ["eu"], { [SENSOR_TAG]: "custom", batch: "1" }],
          ["QUEUED", ["regional"], ["us"], { [SENSOR_TAG]: "custom", batch: "2" }],
        ]);
        expect(runs[0]!.request).toMatchObject({ assetKeys: ["regional"], partitionKeys: ["eu"] });
        expect(runs.map((r) => r.runId)).toEqual([first.launched[0]!.id, second.launched[0]!.id]);

        const ticks = await ticksOf("custom");
        expect(ticks.map((t) => [t.kind, t.timestamp, t.status, t.runIds, t.cursor, t.error])).toEqual([
          ["sensor", T0, "SUCCESS", [runs[0]!.runId], "1", null],
          ["sensor", T0 + 30_000, "SUCCESS", [runs[1]!.runId], "2", null],
        ]);

        // A job target: its selection.
        const job = assetJob({ name: "upstream_job", selection: "upstream" });
        const byJob = sensor({ name: "by_job", job, evaluate: () => [{}] });
        const withJob = defineDefinitions({ assets: ASSETS, jobs: [job], sensors: [byJob] });
        expect((await evaluate(byJob, withJob)).status).toBe("SUCCESS");
        expect((await sensorRuns("by_job")).map((r) => [r.status, r.assetKeys])).toEqual([
          ["QUEUED", ["upstream"]],
        ]);

        // An array return is a list of run requests; config goes through to the run (validated).
        expect((await evaluate(cfg, d)).status).toBe("SUCCESS");
        const [withConfig] = await sensorRuns("with_config");
        expect(withConfig).toMatchObject({
          status: "QUEUED",
          assetKeys: ["configured"],
          config: { configured: { n: 42 } },
          partitionKeys: null,
        });
      });

      test("skipReason is recorded as a SKIPPED tick (and the returned cursor is still saved)", async () => {
        const s = sensor({
          name: "quiet",
          selection: "plain",
          evaluate: () => ({ skipReason: "nothing new upstream", cursor: "c7" }),
        });
        const d = defs(s);
        const outcome = await evaluate(s, d);
        expect(outcome).toMatchObject({ status: "SKIPPED", skipReason: "nothing new upstream", error: null });
        const ticks = await ticksOf("quiet");
        expect(ticks).toHaveLength(1);
        expect(ticks[0]).toMatchObject({
          status: "SKIPPED",
          skipReason: "nothing new upstream",
          runIds: [],
          error: null,
          cursor: "c7",
        });
        expect(await cursorOf("quiet")).toBe("c7");
        expect(await allRunIds()).toEqual([]);

        // Nothing returned at all: a SKIPPED tick with the default reason.
        const none = sensor({ name: "none", selection: "plain", evaluate: () => undefined });
        expect(await evaluate(none, defs(none))).toMatchObject({
          status: "SKIPPED",
          skipReason: "no run requests",
        });
      });

      test("daemon.tick(): a STOPPED sensor is not evaluated until started; minimumIntervalSeconds is respected on the injected clock", async () => {
        let calls = 0;
        const s = sensor({
          name: "paced",
          selection: "plain",
          minimumIntervalSeconds: 30,
          evaluate: () => {
            calls++;
            return { skipReason: `call ${calls}` };
          },
        });
        const d = defs(s);
        let now = T0;
        const daemon = createDaemon({ instance, definitions: () => d, clock: () => now, watch: false });

        await daemon.tick();
        expect(calls).toBe(0); // defaultStatus STOPPED
        expect(await ticksOf("paced")).toEqual([]);

        await instance.storage.setInstigatorState("paced", "sensor", { status: "RUNNING" }, now);
        await daemon.tick();
        expect(calls).toBe(1);

        now += 29_000; // less than the interval
        await daemon.tick();
        expect(calls).toBe(1);

        now += 2_000; // 31 s after the evaluation
        await daemon.tick();
        expect(calls).toBe(2);

        now += 10_000;
        await daemon.tick();
        expect(calls).toBe(2);

        expect((await ticksOf("paced")).map((t) => [t.timestamp, t.skipReason])).toEqual([
          [T0, "call 1"],
          [T0 + 31_000, "call 2"],
        ]);

        // Stopped again: not evaluated even when due.
        await instance.storage.setInstigatorState("paced", "sensor", { status: "STOPPED" }, now);
        now += 60_000;
        await daemon.tick();
        expect(calls).toBe(2);
      });

      test("daemon.tick(): defaultStatus RUNNING is evaluated without being started", async () => {
        let calls = 0;
        const s = sensor({
          name: "auto",
          selection: "plain",
          defaultStatus: "RUNNING",
          evaluate: () => {
            calls++;
            return [{ runKey: `r${calls}` }];
          },
        });
        const d = defs(s);
        const daemon = createDaemon({ instance, definitions: () => d, clock: () => T0, watch: false });
        await daemon.tick();
        expect(calls).toBe(1);
        expect((await sensorRuns("auto")).map((r) => r.status)).toEqual(["QUEUED"]);
      });
    });

    // -------------------------------------------------------------------------------------------
    describe("run keys", () => {
      test("a crash between launching and saving the cursor does not launch twice", async () => {
        const seen: (string | null)[] = [];
        const s = sensor({
          name: "keyed",
          selection: "plain",
          evaluate(ctx) {
            seen.push(ctx.cursor);
            if (ctx.cursor === null) return { runRequests: [{ runKey: "k1" }], cursor: "after-k1" };
            return { skipReason: "nothing new", cursor: ctx.cursor };
          },
        });
        const d = defs(s);
        const first = await evaluate(s, d, T0);
        expect(first.status).toBe("SUCCESS");
        expect(await cursorOf("keyed")).toBe("after-k1");
        const [run] = await sensorRuns("keyed");
        expect(run!.runId).toBe(first.launched[0]!.id);

        // What a crash right after the launch (before the cursor was saved) leaves behind.
        await instance.storage.setInstigatorState("keyed", "sensor", { cursor: null }, T0 + 1);
        expect(await cursorOf("keyed")).toBeNull();

        const again = await evaluate(s, d, T0 + 30_000);
        expect(seen).toEqual([null, null]);
        expect(again.status).toBe("SKIPPED");
        expect(again.launched).toEqual([]);
        expect(again.alreadyLaunched).toBe(1);
        expect(again.skipReason).toMatch(/already launched/);
        expect((await sensorRuns("keyed")).map((r) => r.runId)).toEqual([run!.runId]);
        expect(await allRunIds()).toEqual([run!.runId]);
        expect([...(await instance.storage.getRunKeys("sensor:keyed", ["k1"]))]).toEqual([
          ["k1", run!.runId],
        ]);
        // Everything went through: the cursor moves on this time.
        expect(await cursorOf("keyed")).toBe("after-k1");
        const ticks = await ticksOf("keyed");
        expect(ticks.map((t) => t.status)).toEqual(["SUCCESS", "SKIPPED"]);
        expect(ticks[1]!.skipReason).toMatch(/already launched/);
      });

      test("the same run key twice in one evaluation launches once", async () => {
        const s = sensor({
          name: "dupes",
          selection: "regional",
          evaluate: () => [
            { runKey: "same", partitionKey: "eu" },
            { runKey: "same", partitionKey: "us" },
            { runKey: "other", partitionKey: "us" },
          ],
        });
        const outcome = await evaluate(s, defs(s));
        expect(outcome.status).toBe("SUCCESS");
        expect(outcome.launched).toHaveLength(2);
        expect(outcome.alreadyLaunched).toBe(1);
        const runs = await sensorRuns("dupes");
        expect(runs.map((r) => r.partitionKeys)).toEqual([["eu"], ["us"]]);
        const keys = await instance.storage.getRunKeys("sensor:dupes", ["same", "other"]);
        expect(keys.get("same")).toBe(runs[0]!.runId);
        expect(keys.get("other")).toBe(runs[1]!.runId);
      });

      test("concurrent launchRun calls with the same run key (two instances on the store) create exactly one run", async () => {
        const d = defs();
        const second = await openInstance({ home, env: {}, ...(databaseUrl ? { databaseUrl } : {}) });
        cleanups.push(() => second.close());
        const runKey = { owner: "sensor:race", key: "k-race" };
        const launched = await Promise.all(
          [instance, second, instance, second, instance, second].map((i) =>
            i.launchRun(d, { selection: "plain", runKey }),
          ),
        );
        const ids = new Set(launched.map((r) => r.runId));
        expect(ids.size).toBe(1);
        expect(launched.filter((r) => r.created)).toHaveLength(1);
        expect(launched.every((r) => r.status === "QUEUED")).toBe(true);
        expect(await allRunIds()).toEqual([...ids]);
        expect((await instance.storage.getRunKeys("sensor:race", ["k-race"])).get("k-race")).toBe(
          [...ids][0],
        );
        // A key is per owner: another owner's same key is another run.
        const other = await instance.launchRun(d, {
          selection: "plain",
          runKey: { owner: "sensor:other", key: "k-race" },
        });
        expect(other.created).toBe(true);
        expect(await allRunIds()).toHaveLength(2);
      });
    });

    // -------------------------------------------------------------------------------------------
    describe("failures", () => {
      test("an evaluation that throws: FAILURE tick with the message, cursor unchanged, and the sensor keeps going", async () => {
        let calls = 0;
        const cursors: (string | null)[] = [];
        const s = sensor({
          name: "boomy",
          selection: "plain",
          minimumIntervalSeconds: 10,
          defaultStatus: "RUNNING",
          evaluate(ctx) {
            calls++;
            cursors.push(ctx.cursor);
            if (calls === 2) throw new Error("upstream API is down (503)");
            return { runRequests: [{ runKey: `call-${calls}` }], cursor: `c${calls}` };
          },
        });
        const d = defs(s);
        let now = T0;
        const daemon = createDaemon({ instance, definitions: () => d, clock: () => now, watch: false });
        await daemon.tick();
        now += 10_000;
        await daemon.tick(); // throws
        expect(await cursorOf("boomy")).toBe("c1");
        now += 10_000;
        await daemon.tick();

        expect(calls).toBe(3);
        expect(cursors).toEqual([null, "c1", "c1"]);
        const ticks = await ticksOf("boomy");
        expect(ticks.map((t) => [t.timestamp, t.status, t.cursor, t.runIds.length])).toEqual([
          [T0, "SUCCESS", "c1", 1],
          [T0 + 10_000, "FAILURE", "c1", 0],
          [T0 + 20_000, "SUCCESS", "c3", 1],
        ]);
        expect(ticks[1]!.error).toContain("upstream API is down (503)");
        expect(ticks[1]!.skipReason).toBeNull();
        expect(await cursorOf("boomy")).toBe("c3");
        expect((await sensorRuns("boomy")).map((r) => r.status)).toEqual(["QUEUED", "QUEUED"]);
      });

      test("timeoutSeconds: the evaluation's signal aborts, the tick fails naming the time limit, nothing it returns late is launched", async () => {
        let signal: AbortSignal | undefined;
        const s = sensor({
          name: "slow",
          selection: "plain",
          timeoutSeconds: 0.2,
          async evaluate(ctx: SensorContext) {
            signal = ctx.signal;
            await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
            return { runRequests: [{ runKey: "late" }], cursor: "late-cursor" };
          },
        });
        const d = defs(s);
        const started = Date.now();
        const outcome = await evaluate(s, d);
        const took = Date.now() - started;
        expect(took).toBeGreaterThanOrEqual(150);
        expect(took).toBeLessThan(5_000);
        expect(signal?.aborted).toBe(true);
        expect(String((signal?.reason as Error | undefined)?.message)).toContain("time limit");
        expect(outcome.status).toBe("FAILURE");
        expect(outcome.error).toMatch(/time limit of 0\.2 s/);
        const [tick] = await ticksOf("slow");
        expect(tick).toMatchObject({ status: "FAILURE", runIds: [], cursor: null });
        expect(tick!.error).toMatch(/time limit of 0\.2 s \(timeoutSeconds\)/);
        // Let the evaluation's own continuation run: it must not have launched anything.
        await new Promise((r) => setTimeout(r, 20));
        expect(await allRunIds()).toEqual([]);
        expect(await cursorOf("slow")).toBeNull();
      });

      test("a stopping daemon (signal) aborts an alert held by a slow endpoint: the tick fails saying so, at once, and the cursor stays", async () => {
        // The endpoint accepts and never answers: without the signal the evaluation would wait for
        // its time limit (a SIGTERMed `baton daemon` took ~31 s to exit against a 30 s endpoint).
        let posts = 0;
        const server = http.createServer(() => {
          posts++;
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
        cleanups.push(async () => {
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
        });
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
        const s = runStatusSensor({ name: "stopping", alerts: [webhookAlert({ url })] });
        const d = defs(s);
        expect((await evaluate(s, d)).status).toBe("SKIPPED"); // places the cursor
        const cursor = await cursorOf("stopping");
        expect((await instance.materialize(d, { selection: "flaky" })).status).toBe("FAILURE");

        const stop = new AbortController();
        const outcome = evaluateSensor(s, {
          instance,
          definitions: d,
          now: T0 + 10_000,
          signal: stop.signal,
        });
        await waitFor("the alert's POST", async () => (posts > 0 ? true : undefined), 10_000);
        const stoppedAt = Date.now();
        stop.abort();
        const done = await outcome;
        expect(Date.now() - stoppedAt).toBeLessThan(5_000);
        expect(done.status).toBe("FAILURE");
        expect(done.error).toBe(
          "the daemon stopped during the evaluation (the next one starts from the same cursor)",
        );
        const ticks = await ticksOf("stopping");
        expect(ticks.map((k) => [k.status, k.error])).toEqual([
          ["SKIPPED", null],
          ["FAILURE", done.error],
        ]);
        expect(await cursorOf("stopping")).toBe(cursor);
        expect(posts).toBe(1);
      });

      test("a daemon stopped while a sensor evaluates ends at once: the evaluation's signal fires, its tick fails saying so", async () => {
        let evaluating = false;
        const s = sensor({
          name: "held",
          selection: "plain",
          defaultStatus: "RUNNING",
          timeoutSeconds: 60,
          async evaluate(ctx: SensorContext) {
            evaluating = true;
            await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
            return { runRequests: [{ runKey: "late" }], cursor: "late-cursor" };
          },
        });
        const d = defs(s);
        const daemon = createDaemon({ instance, definitions: () => d, watch: false, intervalMs: 50 });
        const stop = new AbortController();
        const running = daemon.run(stop.signal);
        await waitFor("the sensor evaluating", async () => (evaluating ? true : undefined), 10_000);
        const stoppedAt = Date.now();
        stop.abort();
        await running;
        // Without the daemon's signal reaching the evaluation, run() waits for its 60 s time limit.
        expect(Date.now() - stoppedAt).toBeLessThan(5_000);
        const ticks = await ticksOf("held");
        expect(ticks.map((k) => [k.status, k.error])).toEqual([
          ["FAILURE", "the daemon stopped during the evaluation (the next one starts from the same cursor)"],
        ]);
        expect(await cursorOf("held")).toBeNull();
        expect(await allRunIds()).toEqual([]);
      });

      test("an invalid run request (unknown partition key) fails the tick naming the key; the valid ones still launch, once", async () => {
        const s = sensor({
          name: "mixed",
          selection: "regional",
          evaluate: () => ({
            runRequests: [
              { runKey: "a", partitionKey: "eu" },
              { runKey: "b", partitionKey: "mars" },
              { runKey: "c", partitionKey: "us" },
            ],
            cursor: "moved",
          }),
        });
        const d = defs(s);
        const outcome = await evaluate(s, d);
        expect(outcome.status).toBe("FAILURE");
        expect(outcome.launched).toHaveLength(2);
        expect(outcome.error).toContain("mars");
        expect(outcome.error).toContain('run key "b"');
        expect(outcome.error).not.toContain('run key "a"');
        const runs = await sensorRuns("mixed");
        expect(runs.map((r) => [r.status, r.partitionKeys])).toEqual([
          ["QUEUED", ["eu"]],
          ["QUEUED", ["us"]],
        ]);
        const [tick] = await ticksOf("mixed");
        expect(tick!.status).toBe("FAILURE");
        expect(tick!.error).toContain('"mars"');
        expect([...tick!.runIds].sort()).toEqual(runs.map((r) => r.runId).sort());
        // The cursor does not move past a failure …
        expect(await cursorOf("mixed")).toBeNull();
        // … and the next evaluation does not launch the keyed valid requests again.
        const again = await evaluate(s, d, T0 + 30_000);
        expect(again.status).toBe("FAILURE");
        expect(again.launched).toEqual([]);
        expect(again.alreadyLaunched).toBe(2);
        expect(await sensorRuns("mixed")).toHaveLength(2);
      });
    });

    // -------------------------------------------------------------------------------------------
    test("dynamic partitions: addDynamicPartitions registers the key before its run launches", async () => {
      const s = sensor({
        name: "onboarding",
        selection: "customer_report",
        evaluate(ctx) {
          if (ctx.cursor === null) return [{ runKey: "globex", partitionKey: "globex" }];
          return {
            addDynamicPartitions: { customers: ["acme", "initech"] },
            runRequests: [{ runKey: "acme", partitionKey: "acme" }],
            cursor: "2",
          };
        },
      });
      const d = defs(s);
      expect(await instance.storage.getDynamicPartitions("customers")).toEqual([]);
      // Not registered: the run cannot launch.
      const unknown = await evaluate(s, d);
      expect(unknown.status).toBe("FAILURE");
      expect(unknown.error).toContain("globex");
      expect(await allRunIds()).toEqual([]);
      await instance.storage.setInstigatorState("onboarding", "sensor", { cursor: "1" }, T0);

      const outcome = await evaluate(s, d, T0 + 1000);
      expect(outcome.status).toBe("SUCCESS");
      expect(await instance.storage.getDynamicPartitions("customers")).toEqual(["acme", "initech"]);
      const runs = await sensorRuns("onboarding");
      expect(runs.map((r) => [r.status, r.assetKeys, r.partitionKeys])).toEqual([
        ["QUEUED", ["customer_report"], ["acme"]],
      ]);
      expect(await cursorOf("onboarding")).toBe("2");

      // removeDynamicPartitions takes keys away (before that evaluation's runs launch).
      const offboarding = sensor({
        name: "offboarding",
        selection: "customer_report",
        evaluate: () => ({
          removeDynamicPartitions: { customers: ["initech"] },
          runRequests: [{ partitionKey: "initech" }],
        }),
      });
      const removed = await evaluate(offboarding, defs(offboarding), T0 + 2000);
      expect(removed.status).toBe("FAILURE");
      expect(removed.error).toContain("initech");
      expect(await instance.storage.getDynamicPartitions("customers")).toEqual(["acme"]);
    });

    // -------------------------------------------------------------------------------------------
    describe("fileSensor", () => {
      test("a new file runs once for its partition; a change runs again; a rename runs for the new name", async () => {
        const inbox = path.join(home, "inbox");
        const sensed: SensedFile[] = [];
        const s = fileSensor({
          name: "inbox",
          dir: inbox,
          pattern: /\.csv$/,
          selection: "files",
          partitionKey: (file) => {
            sensed.push(file);
            return path.basename(file.relativePath, ".csv");
          },
        });
        const d = defs(s);
        expect(s.type).toBe("file");
        expect(s.watchPaths).toEqual([path.resolve(inbox)]);

        // No directory yet: nothing, no error.
        const empty = await evaluate(s, d);
        expect(empty.status).toBe("SKIPPED");
        expect(empty.skipReason).toContain("no matching files");

        await writeSettled(path.join(inbox, "alpha.csv"), "id\n1\n", 120);
        const first = await evaluate(s, d, T0 + 1000);
        expect(first.status).toBe("SUCCESS");
        let runs = await sensorRuns("inbox");
        expect(runs.map((r) => [r.status, r.assetKeys, r.partitionKeys, r.tags])).toEqual([
          ["QUEUED", ["files"], ["alpha"], { [SENSOR_TAG]: "inbox", [FILE_TAG]: "alpha.csv" }],
        ]);
        expect(sensed.at(-1)).toMatchObject({
          path: path.join(path.resolve(inbox), "alpha.csv"),
          relativePath: "alpha.csv",
          size: 5,
        });
        const firstKey = sensed.at(-1)!.key;
        expect(firstKey).toBe(`alpha.csv:5:${sensed.at(-1)!.mtimeMs}`);
        expect((await instance.storage.getRunKeys("sensor:inbox", [firstKey])).get(firstKey)).toBe(
          runs[0]!.runId,
        );

        // Seen: no new run.
        const again = await evaluate(s, d, T0 + 2000);
        expect(again.status).toBe("SKIPPED");
        expect(again.alreadyLaunched).toBe(1);
        expect(await sensorRuns("inbox")).toHaveLength(1);

        // Changed (content and mtime): a second run.
        await writeSettled(path.join(inbox, "alpha.csv"), "id\n1\n2\n", 30);
        expect((await evaluate(s, d, T0 + 3000)).status).toBe("SUCCESS");
        runs = await sensorRuns("inbox");
        expect(runs.map((r) => r.partitionKeys)).toEqual([["alpha"], ["alpha"]]);

        // Renamed: a run for the new name (the old name is gone, nothing for it).
        await rename(path.join(inbox, "alpha.csv"), path.join(inbox, "beta.csv"));
        const renamed = await evaluate(s, d, T0 + 4000);
        expect(renamed.status).toBe("SUCCESS");
        expect(renamed.launched).toHaveLength(1);
        runs = await sensorRuns("inbox");
        expect(runs.map((r) => [r.partitionKeys, r.tags[FILE_TAG]])).toEqual([
          [["alpha"], "alpha.csv"],
          [["alpha"], "alpha.csv"],
          [["beta"], "beta.csv"],
        ]);
        expect((await evaluate(s, d, T0 + 5000)).status).toBe("SKIPPED");
        expect(await sensorRuns("inbox")).toHaveLength(3);
      });

      test("files not matching the pattern, dotfiles and files whose partitionKey is null are ignored", async () => {
        const inbox = path.join(home, "inbox");
        await writeSettled(path.join(inbox, "notes.txt"), "not a csv");
        await writeSettled(path.join(inbox, "unknown.csv"), "no partition for me");
        await writeSettled(path.join(inbox, "gamma.csv"), "g");
        const s = fileSensor({
          name: "csvs",
          dir: inbox,
          pattern: /\.csv$/,
          selection: "files",
          partitionKey: (file) => {
            const name = path.basename(file.relativePath, ".csv");
            return ["alpha", "beta", "gamma"].includes(name) ? name : null;
          },
        });
        const d = defs(s);
        const outcome = await evaluate(s, d);
        expect(outcome.status).toBe("SUCCESS");
        expect((await sensorRuns("csvs")).map((r) => [r.partitionKeys, r.tags[FILE_TAG]])).toEqual([
          [["gamma"], "gamma.csv"],
        ]);
        await rm(path.join(inbox, "gamma.csv"));
        const nothing = await evaluate(s, d, T0 + 1000);
        expect(nothing.status).toBe("SKIPPED");
        expect(nothing.skipReason).toBe(`no matching files in ${path.resolve(inbox)} (1 ignored)`);

        // Default pattern: everything but dotfiles and files in dot-directories.
        const drop = path.join(home, "drop");
        await writeSettled(path.join(drop, ".hidden"), "x");
        await writeSettled(path.join(drop, ".git", "config"), "x");
        await writeSettled(path.join(drop, "visible.dat"), "x");
        const all = fileSensor({ name: "all_files", dir: drop, selection: "plain" });
        const d2 = defs(all);
        expect((await evaluate(all, d2)).status).toBe("SUCCESS");
        const runs = await sensorRuns("all_files");
        expect(runs.map((r) => [r.assetKeys, r.partitionKeys, r.tags[FILE_TAG]])).toEqual([
          [["plain"], null, "visible.dat"],
        ]);
      });

      test("a file modified within settleMs is not launched yet (retryAfterMs), then is once settled", async () => {
        const inbox = path.join(home, "inbox");
        await mkdir(inbox, { recursive: true });
        const file = path.join(inbox, "beta.csv");
        await writeFile(file, "being written"); // mtime: now
        const s = fileSensor({
          name: "settling",
          dir: inbox,
          selection: "files",
          settleMs: 60_000,
          partitionKey: (f) => path.basename(f.relativePath, ".csv"),
        });
        const d = defs(s);
        const outcome = await evaluate(s, d);
        expect(outcome.status).toBe("SKIPPED");
        expect(outcome.retryAfterMs).toBe(60_000);
        expect(outcome.skipReason).toBe("1 file(s) still being written");
        expect(await allRunIds()).toEqual([]);

        const past = secondsAgo(120);
        await utimes(file, past, past);
        const settled = await evaluate(s, d, T0 + 1000);
        expect(settled.status).toBe("SUCCESS");
        expect(settled.retryAfterMs).toBeUndefined();
        expect((await sensorRuns("settling")).map((r) => r.partitionKeys)).toEqual([["beta"]]);
      });

      test("daemon.tick(): an unsettled file brings the next evaluation forward to retryAfterMs", async () => {
        const inbox = path.join(home, "inbox");
        await mkdir(inbox, { recursive: true });
        const file = path.join(inbox, "gamma.csv");
        await writeFile(file, "being written");
        const s = fileSensor({
          name: "retrying_files",
          dir: inbox,
          selection: "files",
          settleMs: 5_000,
          minimumIntervalSeconds: 60,
          defaultStatus: "RUNNING",
          partitionKey: (f) => path.basename(f.relativePath, ".csv"),
        });
        const d = defs(s);
        let now = T0;
        const daemon = createDaemon({ instance, definitions: () => d, clock: () => now, watch: false });
        await daemon.tick();
        expect((await ticksOf("retrying_files")).map((t) => t.skipReason)).toEqual([
          "1 file(s) still being written",
        ]);
        now += 4_000; // before retryAfterMs
        await daemon.tick();
        expect(await ticksOf("retrying_files")).toHaveLength(1);
        const past = secondsAgo(120);
        await utimes(file, past, past);
        now += 1_500; // after retryAfterMs, long before the 60 s interval
        await daemon.tick();
        const ticks = await ticksOf("retrying_files");
        expect(ticks.map((t) => [t.timestamp, t.status])).toEqual([
          [T0, "SKIPPED"],
          [T0 + 5_500, "SUCCESS"],
        ]);
        expect((await sensorRuns("retrying_files")).map((r) => r.partitionKeys)).toEqual([["gamma"]]);
        // Nothing unsettled any more: back to the 60 s interval.
        now += 30_000;
        await daemon.tick();
        expect(await ticksOf("retrying_files")).toHaveLength(2);
      });

      test("recursive by default (relative paths with /); recursive: false stays in the top directory", async () => {
        const inbox = path.join(home, "inbox");
        await writeSettled(path.join(inbox, "2024", "01", "alpha.csv"), "a");
        await writeSettled(path.join(inbox, "beta.csv"), "b");
        const byName = (f: SensedFile) => path.basename(f.relativePath, ".csv");
        const deep = fileSensor({ name: "deep", dir: inbox, selection: "files", partitionKey: byName });
        const flat = fileSensor({
          name: "flat",
          dir: inbox,
          selection: "files",
          recursive: false,
          partitionKey: byName,
        });
        const d = defs(deep, flat);
        expect((await evaluate(deep, d)).launched).toHaveLength(2);
        expect((await sensorRuns("deep")).map((r) => [r.tags[FILE_TAG], r.partitionKeys]).sort()).toEqual([
          ["2024/01/alpha.csv", ["alpha"]],
          ["beta.csv", ["beta"]],
        ]);
        expect((await evaluate(flat, d)).launched).toHaveLength(1);
        expect((await sensorRuns("flat")).map((r) => [r.tags[FILE_TAG], r.partitionKeys])).toEqual([
          ["beta.csv", ["beta"]],
        ]);
      });

      test("daemon.run() with watch: a dropped file launches within seconds although the scan interval is 60 s", async () => {
        const inbox = path.join(home, "watched");
        await mkdir(inbox, { recursive: true });
        const s = fileSensor({
          name: "watched",
          dir: inbox,
          selection: "files",
          minimumIntervalSeconds: 60,
          settleMs: 100,
          defaultStatus: "RUNNING",
          partitionKey: (f) => path.basename(f.relativePath, ".csv"),
        });
        const d = defs(s);
        const logs: string[] = [];
        const daemon = createDaemon({
          instance,
          definitions: () => d,
          watch: true,
          log: (line) => logs.push(line),
        });
        const controller = new AbortController();
        const running = daemon.run(controller.signal);
        cleanups.push(async () => {
          controller.abort();
          await running;
        });
        // The startup scan (empty directory) is the first tick.
        const [firstTick] = await waitFor(
          "the sensor's first evaluation",
          async () => {
            const t = await ticksOf("watched");
            return t.length > 0 ? t : undefined;
          },
          10_000,
        );
        expect(firstTick!.status).toBe("SKIPPED");
        expect(daemon.isLeader()).toBe(true);

        const dropped = Date.now();
        await writeFile(path.join(inbox, "gamma.csv"), "g\n");
        const [run] = await waitFor(
          `a run for the dropped file (daemon log:\n${logs.join("\n")})`,
          async () => {
            const runs = await sensorRuns("watched");
            return runs.length > 0 ? runs : undefined;
          },
          3_000,
        );
        expect(Date.now() - dropped).toBeLessThan(3_000);
        expect(run).toMatchObject({ status: "QUEUED", partitionKeys: ["gamma"] });
        expect(run!.tags).toEqual({ [SENSOR_TAG]: "watched", [FILE_TAG]: "gamma.csv" });

        controller.abort();
        await running;
        expect(daemon.isLeader()).toBe(false);
        expect(await sensorRuns("watched")).toHaveLength(1);
      });

      test("daemon.run() with watch: a file dropped while the sensor is evaluating is not left for the 60 s scan", async () => {
        // A slow evaluation (a big directory, a network share): the file lands after the listing,
        // while the sensor is still busy. Its file-system event must still lead to an evaluation.
        const inbox = path.join(home, "burst");
        await mkdir(inbox, { recursive: true });
        const base = fileSensor({
          name: "burst",
          dir: inbox,
          selection: "files",
          minimumIntervalSeconds: 60,
          settleMs: 0,
          defaultStatus: "RUNNING",
          partitionKey: (f) => path.basename(f.relativePath, ".csv"),
        });
        let evaluations = 0;
        let inSlowEvaluation!: () => void;
        const slowEvaluationStarted = new Promise<void>((resolve) => {
          inSlowEvaluation = resolve;
        });
        let release!: () => void;
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        cleanups.push(async () => release());
        const s: SensorDefinition = {
          ...base,
          async evaluate(ctx) {
            evaluations++;
            const result = await base.evaluate(ctx);
            if (evaluations === 2) {
              inSlowEvaluation();
              await gate;
            }
            return result;
          },
        };
        const d = defs(s);
        // The daemon's file-watch handler reads the definitions (to find the sensors watching the
        // directory): a read from inside chokidar's event dispatch is that handler at work.
        let watchHandlerRuns = 0;
        const definitions = () => {
          if (/[\\/]chokidar[\\/]/.test(new Error().stack ?? "")) watchHandlerRuns++;
          return d;
        };
        const daemon = createDaemon({ instance, definitions, watch: true });
        const controller = new AbortController();
        const running = daemon.run(controller.signal);
        cleanups.push(async () => {
          controller.abort();
          release();
          await running;
        });
        await waitFor(
          "the sensor's first evaluation",
          async () => ((await ticksOf("burst")).length > 0 ? true : undefined),
          10_000,
        );

        // Our own watcher tells when the file-system event for beta.csv has been delivered.
        const { watch } = await import("chokidar");
        const own = watch(inbox, { ignoreInitial: true });
        cleanups.push(() => own.close());
        const seenByUs = new Set<string>();
        own.on("add", (p) => seenByUs.add(path.basename(p)));
        await new Promise<void>((resolve) => own.on("ready", () => resolve()));

        // Files arrive whole (written next door, then renamed in): one "add" event each.
        const staging = path.join(home, "staging");
        await mkdir(staging, { recursive: true });
        const drop = async (name: string) => {
          await writeFile(path.join(staging, name), `${name}\n`);
          await rename(path.join(staging, name), path.join(inbox, name));
        };
        await drop("alpha.csv");
        await slowEvaluationStarted; // listed alpha.csv, still evaluating
        const handledBeforeBeta = watchHandlerRuns;
        await drop("beta.csv");
        await waitFor(
          "the event for beta.csv",
          async () => (seenByUs.has("beta.csv") ? true : undefined),
          3_000,
        );
        // Release the evaluation only once the daemon's own watcher has handled beta.csv's event:
        // released earlier, the event would come after the evaluation and prove nothing.
        await waitFor(
          "the daemon's watcher to handle the event for beta.csv",
          async () => (watchHandlerRuns > handledBeforeBeta ? true : undefined),
          3_000,
        );
        expect(evaluations).toBe(2); // still in the slow evaluation
        release();

        const runs = await waitFor(
          "runs for alpha.csv and beta.csv",
          async () => {
            const r = await sensorRuns("burst");
            return r.length >= 2 ? r : undefined;
          },
          3_000,
        );
        expect(runs.map((r) => r.partitionKeys)).toEqual([["alpha"], ["beta"]]);
      });
    });

    // -------------------------------------------------------------------------------------------
    describe("assetSensor", () => {
      test("starts from now; each new materialization launches the target once; the cursor advances", async () => {
        const s = assetSensor({ name: "on_upstream", assets: ["upstream"], selection: "downstream" });
        const d = defs(s);
        expect(s.type).toBe("asset");
        await instance.materialize(d, { selection: "upstream" });

        const first = await evaluate(s, d);
        expect(first.status).toBe("SKIPPED");
        expect(first.skipReason).toBe("first evaluation: watching from now on");
        expect(await sensorRuns()).toEqual([]);
        const [existing] = await instance.storage.getMaterializations("upstream", { limit: 1 });
        expect(JSON.parse((await cursorOf("on_upstream"))!)).toEqual({ upstream: existing!.id });

        await instance.materialize(d, { selection: "upstream" });
        const [latest] = await instance.storage.getMaterializations("upstream", { limit: 1 });
        const second = await evaluate(s, d, T0 + 5000);
        expect(second.status).toBe("SUCCESS");
        const runs = await sensorRuns("on_upstream");
        expect(runs.map((r) => [r.status, r.assetKeys, r.partitionKeys])).toEqual([
          ["QUEUED", ["downstream"], null],
        ]);
        expect(
          (await instance.storage.getRunKeys("sensor:on_upstream", [`upstream:${latest!.id}`])).get(
            `upstream:${latest!.id}`,
          ),
        ).toBe(runs[0]!.runId);
        expect(JSON.parse((await cursorOf("on_upstream"))!)).toEqual({ upstream: latest!.id });

        const third = await evaluate(s, d, T0 + 10_000);
        expect(third.status).toBe("SKIPPED");
        expect(third.skipReason).toBe("no new materializations");
        expect(third.alreadyLaunched).toBe(0);
        expect(await sensorRuns("on_upstream")).toHaveLength(1);

        // Two more: two runs, oldest first.
        await instance.materialize(d, { selection: "upstream" });
        await instance.materialize(d, { selection: "upstream" });
        expect((await evaluate(s, d, T0 + 15_000)).launched).toHaveLength(2);
        expect(await sensorRuns("on_upstream")).toHaveLength(3);
        // A materialization of another asset does nothing.
        await instance.materialize(d, { selection: "downstream" });
        expect((await evaluate(s, d, T0 + 20_000)).status).toBe("SKIPPED");
        expect(await sensorRuns("on_upstream")).toHaveLength(3);
      });

      test("a partitioned watched asset launches the target for the same partition", async () => {
        const s = assetSensor({ name: "on_up_part", assets: ["up_part"], selection: "down_part" });
        const d = defs(s);
        expect((await evaluate(s, d)).status).toBe("SKIPPED");
        await instance.materialize(d, { selection: "up_part", partitions: { keys: ["us"] } });
        await instance.materialize(d, { selection: "up_part", partitions: { keys: ["eu"] } });
        const outcome = await evaluate(s, d, T0 + 5000);
        expect(outcome.status).toBe("SUCCESS");
        expect((await sensorRuns("on_up_part")).map((r) => [r.status, r.assetKeys, r.partitionKeys])).toEqual(
          [
            ["QUEUED", ["down_part"], ["us"]],
            ["QUEUED", ["down_part"], ["eu"]],
          ],
        );
        expect((await evaluate(s, d, T0 + 10_000)).status).toBe("SKIPPED");
        expect(await sensorRuns("on_up_part")).toHaveLength(2);
      });
    });

    // -------------------------------------------------------------------------------------------
    describe("runStatusSensor and alerts", () => {
      async function failRun(selection: string, partitionKey?: string): Promise<string> {
        const summary = await instance.materialize(defs(), {
          selection,
          ...(partitionKey ? { partitions: { keys: [partitionKey] } } : {}),
        });
        expect(summary.status).toBe("FAILURE");
        return summary.runId;
      }
      async function succeedRun(selection: string): Promise<string> {
        const summary = await instance.materialize(defs(), { selection });
        expect(summary.status).toBe("SUCCESS");
        return summary.runId;
      }

      test("a failed run POSTs one JSON payload to the webhook; history before the first evaluation and SUCCESS runs are ignored", async () => {
        const hook = await startHook();
        const s = runStatusSensor({
          name: "on_failure",
          alerts: [webhookAlert({ url: hook.url })],
          baseUrl: "http://ui.example:3000/",
        });
        const d = defs(s);
        expect(s.type).toBe("run_status");
        await failRun("flaky"); // before the sensor's first evaluation
        const first = await evaluate(s, d);
        expect(first.status).toBe("SKIPPED");
        expect(first.skipReason).toBe("first evaluation: watching runs from now on");
        expect(hook.received).toEqual([]);

        await succeedRun("plain");
        const runId = await failRun("flaky");
        const outcome = await evaluate(s, d, T0 + 5000);
        expect(outcome.status).toBe("SKIPPED");
        expect(outcome.error).toBeNull();
        expect(outcome.skipReason).toBe("1 run(s) matched; 1 alert(s) delivered");
        expect(hook.received).toHaveLength(1);
        const [req] = hook.received;
        expect(req!.method).toBe("POST");
        expect(req!.path).toBe("/hook");
        expect(req!.contentType).toBe("application/json");
        const body = req!.body as AlertPayload;
        expect(body).toMatchObject({
          event: "run_failed",
          runId,
          status: "FAILURE",
          assetKeys: ["flaky"],
          partitionKeys: null,
          url: `http://ui.example:3000/runs/${runId}`,
          sensor: "on_failure",
          tags: {},
        });
        expect(body.error).toContain("warehouse exploded");
        const run = await instance.storage.getRun(runId);
        expect(body.endedAt).toBe(new Date(run!.endedAt!).toISOString());
        expect(body.startedAt).toBe(new Date(run!.startedAt!).toISOString());

        // Seen: not again.
        expect((await evaluate(s, d, T0 + 10_000)).skipReason).toBe("no matching runs ended");
        expect(hook.received).toHaveLength(1);
        expect(await sensorRuns()).toEqual([]);
      });

      test("status: SUCCESS reacts to successes only; monitorSelection filters runs touching other assets; partitions are in the payload", async () => {
        const hook = await startHook();
        const onSuccess = runStatusSensor({
          name: "on_success",
          status: "SUCCESS",
          alerts: [webhookAlert({ url: hook.url })],
        });
        const watched = runStatusSensor({
          name: "watched_failures",
          monitorSelection: "flaky_part",
          alerts: [webhookAlert({ url: `${hook.url}?watched` })],
        });
        const d = defs(onSuccess, watched);
        await evaluate(onSuccess, d);
        await evaluate(watched, d);

        const ok = await succeedRun("plain");
        await failRun("other_flaky");
        const partFailed = await failRun("flaky_part", "us");
        await evaluate(onSuccess, d, T0 + 5000);
        await evaluate(watched, d, T0 + 5000);

        const successes = hook.received.filter((r) => r.path === "/hook");
        expect(successes.map((r) => r.body)).toMatchObject([
          { event: "run_succeeded", runId: ok, status: "SUCCESS", error: null, sensor: "on_success" },
        ]);
        const failures = hook.received.filter((r) => r.path === "/hook?watched");
        expect(failures).toHaveLength(1);
        expect(failures[0]!.body).toMatchObject({
          event: "run_failed",
          runId: partFailed,
          assetKeys: ["flaky_part"],
          partitionKeys: ["us"],
          sensor: "watched_failures",
        });
        expect((failures[0]!.body as AlertPayload).error).toContain("no data for us");
      });

      test("slackAlert posts {text} and discordAlert posts {content}, both mentioning the run", async () => {
        const slack = await startHook();
        const discord = await startHook();
        const s = runStatusSensor({
          name: "chat",
          alerts: [slackAlert({ webhookUrl: slack.url }), discordAlert({ webhookUrl: () => discord.url })],
        });
        const d = defs(s);
        await evaluate(s, d);
        const runId = await failRun("flaky");
        const outcome = await evaluate(s, d, T0 + 5000);
        expect(outcome.skipReason).toBe("1 run(s) matched; 2 alert(s) delivered");
        expect(slack.received).toHaveLength(1);
        expect(discord.received).toHaveLength(1);
        const text = (slack.received[0]!.body as { text: string }).text;
        expect(Object.keys(slack.received[0]!.body as object)).toEqual(["text"]);
        expect(text).toContain(runId);
        expect(text).toContain("failed");
        expect(text).toContain("warehouse exploded");
        const content = (discord.received[0]!.body as { content: string }).content;
        expect(Object.keys(discord.received[0]!.body as object)).toEqual(["content"]);
        expect(content).toContain(runId);
        expect(content.length).toBeLessThanOrEqual(2000);
      });

      test("a webhook answering 500 twice then 200 is delivered on the third attempt", async () => {
        const hook = await startHook((n) => (n <= 2 ? 500 : 200));
        const s = runStatusSensor({ name: "retrying", alerts: [webhookAlert({ url: hook.url })] });
        const d = defs(s);
        await evaluate(s, d);
        const runId = await failRun("flaky");
        const outcome = await evaluate(s, d, T0 + 5000);
        expect(outcome.error).toBeNull();
        expect(outcome.skipReason).toBe("1 run(s) matched; 1 alert(s) delivered");
        expect(hook.received).toHaveLength(3);
        expect(hook.received.map((r) => (r.body as AlertPayload).runId)).toEqual([runId, runId, runId]);
        expect((await evaluate(s, d, T0 + 10_000)).skipReason).toBe("no matching runs ended");
        expect(hook.received).toHaveLength(3);
      });

      test("a webhook always answering 500 fails the tick naming URL and status; the cursor stays, so the next evaluation delivers (at least once)", async () => {
        let broken = true;
        const hook = await startHook(() => (broken ? 500 : 200));
        const s = runStatusSensor({ name: "unreliable", alerts: [webhookAlert({ url: hook.url })] });
        const d = defs(s);
        await evaluate(s, d);
        const cursorBefore = await cursorOf("unreliable");
        expect(cursorBefore).toBe("0");
        const runId = await failRun("flaky");

        const failed = await evaluate(s, d, T0 + 5000);
        expect(failed.status).toBe("FAILURE");
        expect(hook.received).toHaveLength(3);
        expect(failed.error).toContain(`run ${runId} was not delivered`);
        expect(failed.error).toContain(`POST ${hook.url} answered 500`);
        const [, tick] = await ticksOf("unreliable");
        expect(tick).toMatchObject({ status: "FAILURE", cursor: cursorBefore });
        expect(tick!.error).toContain(`POST ${hook.url} answered 500`);
        expect(await cursorOf("unreliable")).toBe(cursorBefore);

        broken = false;
        const delivered = await evaluate(s, d, T0 + 10_000);
        expect(delivered.error).toBeNull();
        expect(delivered.skipReason).toBe("1 run(s) matched; 1 alert(s) delivered");
        expect(hook.received).toHaveLength(4);
        expect((hook.received[3]!.body as AlertPayload).runId).toBe(runId);
        expect(await cursorOf("unreliable")).not.toBe(cursorBefore);
        expect((await evaluate(s, d, T0 + 15_000)).skipReason).toBe("no matching runs ended");
        expect(hook.received).toHaveLength(4);
      });

      test("the alert for the 2nd of two ended runs fails: the 1st is not alerted again and its requests launch; the cursor stops between them", async () => {
        // POST 1 (run A) is answered 200, the 3 attempts for run B 500, then 200 again.
        const hook = await startHook((n) => (n >= 2 && n <= 4 ? 500 : 200));
        const s = runStatusSensor({
          name: "halfway",
          alerts: [webhookAlert({ url: hook.url })],
          selection: "plain",
          onRun: () => ({}),
        });
        const d = defs(s);
        await evaluate(s, d);
        const cursorBefore = await cursorOf("halfway");
        const runA = await failRun("flaky");
        const runB = await failRun("other_flaky");

        const failed = await evaluate(s, d, T0 + 5000);
        expect(failed.status).toBe("FAILURE");
        expect(failed.error).toContain(`run ${runB} was not delivered`);
        expect(failed.launched).toHaveLength(1); // run A's reaction, launched with the done part
        const cursorBetween = await cursorOf("halfway");
        expect(cursorBetween).not.toBe(cursorBefore);
        expect(failed.cursor).toBe(cursorBetween);

        const next = await evaluate(s, d, T0 + 10_000);
        expect(next.status).toBe("SUCCESS");
        expect(next.launched).toHaveLength(1); // run B's reaction
        expect((await evaluate(s, d, T0 + 15_000)).skipReason).toBe("no matching runs ended");
        expect(hook.received.map((r) => (r.body as AlertPayload).runId)).toEqual([
          runA,
          runB,
          runB,
          runB,
          runB,
        ]);
        const reactions = await sensorRuns("halfway");
        expect(reactions).toHaveLength(2);
        expect(reactions.map((r) => r.assetKeys)).toEqual([["plain"], ["plain"]]);
        const ticks = await ticksOf("halfway");
        expect(ticks.map((k) => [k.status, k.runIds.length, k.cursor])).toEqual([
          ["SKIPPED", 0, cursorBefore],
          ["FAILURE", 1, cursorBetween],
          ["SUCCESS", 1, ticks[2]!.cursor],
          ["SKIPPED", 0, ticks[2]!.cursor],
        ]);
      });

      test("a url function returning undefined skips the alert without error", async () => {
        const s = runStatusSensor({
          name: "unconfigured",
          alerts: [webhookAlert({ url: () => undefined })],
        });
        const d = defs(s);
        await evaluate(s, d);
        await failRun("flaky");
        const outcome = await evaluate(s, d, T0 + 5000);
        expect(outcome.status).toBe("SKIPPED");
        expect(outcome.error).toBeNull();
        expect(outcome.skipReason).toBe("1 run(s) matched; 0 alert(s) delivered");
        expect((await ticksOf("unconfigured")).map((t) => t.status)).toEqual(["SKIPPED", "SKIPPED"]);
      });

      test("webhookAlert({ baseUrl }) links the run to that UI", async () => {
        const hook = await startHook();
        const s = runStatusSensor({
          name: "linked",
          alerts: [webhookAlert({ url: hook.url, baseUrl: "https://baton.example.com" })],
        });
        const d = defs(s);
        await evaluate(s, d);
        const runId = await failRun("flaky");
        await evaluate(s, d, T0 + 5000);
        expect((hook.received[0]!.body as AlertPayload).url).toBe(`https://baton.example.com/runs/${runId}`);
      });

      test("a run whose end is stored after a later-ended run was seen is still alerted (at least once)", async () => {
        // Two workers: run A failed at t+1 s but its events reached the store late (the event
        // writer batches, a store hiccup, or that worker's clock is behind); run B failed at t+2 s and
        // was stored first. The sensor evaluates in between.
        const hook = await startHook();
        const s = runStatusSensor({ name: "ordering", alerts: [webhookAlert({ url: hook.url })] });
        const d = defs(s);
        await evaluate(s, d);
        const a = await instance.launchRun(d, { selection: "flaky" });
        const b = await instance.launchRun(d, { selection: "flaky" });
        const t = Date.now();
        const fail = (runId: string, at: number) =>
          instance.storage.appendEvents([
            {
              type: "run_started",
              steps: [{ stepKey: "flaky", kind: "asset", assetKeys: ["flaky"] }],
              runId,
              timestamp: at - 500,
            },
            { type: "run_failed", reason: `worker of ${runId} says boom`, runId, timestamp: at },
          ]);
        await fail(b.runId, t + 2000);
        await evaluate(s, d, T0 + 5000);
        expect(hook.received.map((r) => (r.body as AlertPayload).runId)).toEqual([b.runId]);
        await fail(a.runId, t + 1000);
        expect((await instance.storage.getRun(a.runId))?.status).toBe("FAILURE");
        await evaluate(s, d, T0 + 10_000);
        expect(hook.received.map((r) => (r.body as AlertPayload).runId)).toEqual([b.runId, a.runId]);
      });

      test("onRun returning a RunRequest launches a run, once per ended run", async () => {
        const s = runStatusSensor({
          name: "recover",
          selection: "plain",
          onRun: (_ctx, run): RunRequest => ({ tags: { "recovers-from": run.runId } }),
        });
        const d = defs(s);
        await evaluate(s, d);
        const failedId = await failRun("flaky");
        const outcome = await evaluate(s, d, T0 + 5000);
        expect(outcome.status).toBe("SUCCESS");
        const runs = await sensorRuns("recover");
        expect(runs.map((r) => [r.status, r.assetKeys, r.tags])).toEqual([
          ["QUEUED", ["plain"], { [SENSOR_TAG]: "recover", "recovers-from": failedId }],
        ]);
        expect(
          (await instance.storage.getRunKeys("sensor:recover", [`run:${failedId}`])).get(`run:${failedId}`),
        ).toBe(runs[0]!.runId);
        expect((await evaluate(s, d, T0 + 10_000)).status).toBe("SKIPPED");
        expect(await sensorRuns("recover")).toHaveLength(1);
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The CLI (built; SQLite is enough: the commands only go through the Storage interface)

const FIXTURE = path.join(ROOT, "tests/fixtures/daemon-sensors");
const { baton, makeHome } = cliHarness({ defaultCwd: FIXTURE, tempPrefix: "baton-sensors-cli-" });
// Compiled against the built package; the instance here is the source one (same shapes).
const cliDefinitions = fixtureDefinitions as unknown as Definitions;

interface SensorRowJson {
  name: string;
  type: string;
  status: string;
  minimumIntervalSeconds: number;
  lastTickAt: number | null;
  cursor: string | null;
  description: string;
}

describe("baton sensor (CLI)", () => {
  const afterTest: (() => Promise<void>)[] = [];
  let home: string;
  let inbox: string;
  const env = () => ({ FIXTURE_INBOX: inbox });

  beforeAll(() => {
    if (!existsSync(path.join(ROOT, "packages/core/dist/cli/main.js")))
      throw new Error("build @baton/core first: npm run build -w @baton/core");
  });
  beforeEach(async () => {
    home = await makeHome((fn) => afterTest.push(fn));
    inbox = path.join(home, "inbox");
  });
  afterEach(async () => {
    for (const fn of afterTest.splice(0).reverse()) await fn();
  });

  async function listJson(): Promise<SensorRowJson[]> {
    const r = await baton(["sensor", "list", "--json"], { home, env: env() });
    expectExit(r, 0);
    return JSON.parse(r.stdout) as SensorRowJson[];
  }

  test("list shows type and status; start/stop change the stored status", async () => {
    const rows = await listJson();
    expect(rows.map((r) => [r.name, r.type, r.status, r.minimumIntervalSeconds])).toEqual([
      ["custom_sensor", "custom", "STOPPED", 45],
      ["inbox_sensor", "file", "RUNNING", 30],
      ["plain_sensor", "asset", "STOPPED", 5],
      ["failure_alerts", "run_status", "STOPPED", 5],
    ]);
    const table = await baton(["sensor", "list"], { home, env: env() });
    expectExit(table, 0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+TYPE\s+STATUS\s+INTERVAL\s+LAST TICK\s+DESCRIPTION/);
    expect(lines.find((l) => l.startsWith("custom_sensor"))).toMatch(
      /^custom_sensor\s+custom\s+STOPPED\s+45s\s+.*one eu run per tick/,
    );
    expect(lines.find((l) => l.startsWith("inbox_sensor"))).toMatch(/^inbox_sensor\s+file\s+RUNNING\s+30s/);

    const start = await baton(["sensor", "start", "custom_sensor"], { home, env: env() });
    expectExit(start, 0);
    expect(start.stdout.trim()).toBe("sensor custom_sensor started");
    const stop = await baton(["sensor", "stop", "inbox_sensor"], { home, env: env() });
    expectExit(stop, 0);
    expect(stop.stdout.trim()).toBe("sensor inbox_sensor stopped");
    const after = await listJson();
    expect(after.map((r) => [r.name, r.status])).toEqual([
      ["custom_sensor", "RUNNING"],
      ["inbox_sensor", "STOPPED"],
      ["plain_sensor", "STOPPED"],
      ["failure_alerts", "STOPPED"],
    ]);
    // The daemon reads the same state.
    const instance = await openInstance({ home, env: {} });
    try {
      expect((await instance.storage.getInstigatorState("custom_sensor"))?.status).toBe("RUNNING");
      expect((await instance.storage.getInstigatorState("inbox_sensor"))?.status).toBe("STOPPED");
    } finally {
      await instance.close();
    }
  });

  test("preview prints the run requests without launching anything or moving the cursor", async () => {
    const instance = await openInstance({ home, env: {} });
    try {
      await instance.storage.setInstigatorState("custom_sensor", "sensor", { cursor: "3" }, T0);
      const r = await baton(["sensor", "preview", "custom_sensor"], { home, env: env() });
      expectExit(r, 0);
      expect(r.stdout).toContain("1 run request(s)");
      expect(r.stdout).toMatch(/^ {2}k-3 {2}regional \[eu\]$/m);
      expect(r.stdout).toContain("cursor → 4");
      const json = await baton(["sensor", "preview", "custom_sensor", "--json"], { home, env: env() });
      expectExit(json, 0);
      expect(JSON.parse(json.stdout)).toEqual({
        runRequests: [{ runKey: "k-3", partitionKey: "eu" }],
        skipReason: null,
        cursor: "4",
        error: null,
      });
      const fromCursor = await baton(["sensor", "preview", "custom_sensor", "--cursor", "9", "--json"], {
        home,
        env: env(),
      });
      expectExit(fromCursor, 0);
      expect(JSON.parse(fromCursor.stdout)).toMatchObject({ runRequests: [{ runKey: "k-9" }], cursor: "10" });

      // A file sensor previewed: the file's request, not launched.
      await writeSettled(path.join(inbox, "data.csv"), "x");
      const files = await baton(["sensor", "preview", "inbox_sensor", "--json"], { home, env: env() });
      expectExit(files, 0);
      expect(JSON.parse(files.stdout).runRequests).toMatchObject([{ tags: { [FILE_TAG]: "data.csv" } }]);

      expect((await instance.storage.listRuns({ limit: 100 })).runs).toEqual([]);
      expect((await instance.storage.getInstigatorState("custom_sensor"))?.cursor).toBe("3");
      expect(await instance.storage.listTicks("custom_sensor")).toEqual([]);
      expect(await instance.storage.listTicks("inbox_sensor")).toEqual([]);
    } finally {
      await instance.close();
    }
  });

  test("ticks lists evaluations newest first", async () => {
    const empty = await baton(["sensor", "ticks", "custom_sensor"], { home, env: env() });
    expectExit(empty, 0);
    expect(empty.stdout.trim()).toBe("no ticks yet");

    const instance = await openInstance({ home, env: {} });
    let runIds: string[];
    try {
      const s = cliDefinitions.sensors.find((x) => x.name === "custom_sensor")!;
      const first = await evaluateSensor(s, { instance, definitions: cliDefinitions, now: T0 });
      const second = await evaluateSensor(s, { instance, definitions: cliDefinitions, now: T0 + 60_000 });
      runIds = [first.launched[0]!.id, second.launched[0]!.id];
    } finally {
      await instance.close();
    }
    const r = await baton(["sensor", "ticks", "custom_sensor"], { home, env: env() });
    expectExit(r, 0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TIME\s+STATUS\s+RUNS\s+DETAIL/);
    expect(lines.slice(1)).toHaveLength(2);
    expect(lines[1]).toMatch(
      new RegExp(`^${new Date(T0 + 60_000).toISOString()}\\s+SUCCESS\\s+${runIds[1]}`),
    );
    expect(lines[2]).toMatch(new RegExp(`^${new Date(T0).toISOString()}\\s+SUCCESS\\s+${runIds[0]}`));

    const json = await baton(["sensor", "ticks", "custom_sensor", "--json", "--limit", "1"], {
      home,
      env: env(),
    });
    expectExit(json, 0);
    expect(JSON.parse(json.stdout)).toMatchObject([
      { name: "custom_sensor", kind: "sensor", status: "SUCCESS", runIds: [runIds[1]], cursor: "2" },
    ]);
  });

  test("an unknown sensor is a usage error (exit 2) naming the sensors", async () => {
    for (const args of [
      ["sensor", "preview", "custom_sensr"],
      ["sensor", "start", "nope"],
      ["sensor", "stop", "nope"],
      ["sensor", "ticks", "nope"],
    ]) {
      const r = await baton(args, { home, env: env() });
      expectUsageError(r);
      expect(r.stderr).toContain(`No sensor named "${args[2]}"`);
      expect(r.stderr).toContain("custom_sensor");
    }
    const suggestion = await baton(["sensor", "preview", "custom_sensr"], { home, env: env() });
    expect(suggestion.stderr).toContain('did you mean "custom_sensor"');
    // Nothing was stored for the unknown names.
    const instance = await openInstance({ home, env: {} });
    try {
      expect(await instance.storage.listInstigatorStates()).toEqual([]);
    } finally {
      await instance.close();
    }
  });
});
