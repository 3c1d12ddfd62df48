/**
 * Fault scenario 8 (issue 14): run-status sensors with a `webhookAlert`, evaluated by a real
 * `baton daemon`, whose endpoints (real HTTP servers on 127.0.0.1) are
 * - down: nothing listens on the port (connection refused), then a server starts there;
 * - slow: each POST is answered (200) only after 30 s, the real figure of the issue;
 * - broken: each POST is answered 500, until the endpoint is switched back to 200.
 * One daemon runs all three at once, with a sensor ticking every second (`pulse`) and a schedule
 * ticking every second, on SQLite and on Postgres (both backends concurrently: the 30 s hold is
 * the file's floor, and the other assertions happen during it). What the store and the servers say:
 * the other sensors and the schedule keep their pace while an alert is stuck; each failed tick made
 * the documented 3 attempts and says why; the sensor's cursor stays before an undelivered alert;
 * after recovery each alert is delivered exactly once more, and never again; failing runs end
 * without waiting for any alert.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Definitions, TickRecord } from "../../packages/core/src/internal.js";
import fixtureDefinitions from "../fixtures/faults-instigators/definitions.js";
import { waitFor } from "../support/processes.js";
import type { StorageBackend } from "../support/storage-backends.js";
import {
  closeInstigatorEnv,
  cursorOf,
  type InstigatorEnv,
  loadAverage,
  maxGap,
  openInstigatorEnv,
  printFigures,
  requireBuiltCore,
  runnableBackends,
  startDaemon,
  ticksOf,
} from "./support-instigators.js";

// The fixture is compiled against the built package; the instance here is the source one.
const definitions = fixtureDefinitions as unknown as Definitions;
/** How long the slow endpoint holds each POST before answering 200. */
const SLOW_MS = 30_000;
/** The documented policy (packages/core/src/sensors/run-status-sensor.ts `deliver`). */
const ATTEMPTS_PER_TICK = 3;
/** A loop blocked by the slow alert would show a gap of ~30 s; a busy 2-core machine, a few. */
const MAX_GAP_MS = 10_000;
const FIRST_EVALUATION = "first evaluation: watching runs from now on";
const DELIVERED_ONE = "1 run(s) matched; 1 alert(s) delivered";

interface Post {
  readonly runId: string;
  readonly receivedAt: number;
  /** Set when answered. */
  answeredAt: number | null;
  status: number | null;
}

/** A webhook endpoint on 127.0.0.1 recording each POST (run id, when, what it answered). */
interface Endpoint {
  readonly url: string;
  readonly posts: Post[];
  /** Status to answer from now on. */
  answer: number;
  close(): Promise<void>;
}

async function startEndpoint(options: {
  port?: number;
  answer: number;
  delayMs?: number;
}): Promise<Endpoint> {
  const posts: Post[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (c: string) => {
      body += c;
    });
    req.on("end", () => {
      const post: Post = {
        runId: (JSON.parse(body) as { runId: string }).runId,
        receivedAt: Date.now(),
        answeredAt: null,
        status: null,
      };
      posts.push(post);
      const status = endpoint.answer;
      const timer = setTimeout(() => {
        timers.delete(timer);
        post.answeredAt = Date.now();
        post.status = status;
        res
          .writeHead(status, { "content-type": "text/plain" })
          .end(status === 200 ? "ok" : "endpoint broken");
      }, options.delayMs ?? 0);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const endpoint: Endpoint = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    posts,
    answer: options.answer,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return endpoint;
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const failures = (ticks: readonly TickRecord[]) => ticks.filter((k) => k.status === "FAILURE");

const backends = runnableBackends();

describe("webhook alert endpoint down, slow or answering 500, with a real daemon", () => {
  beforeAll(async () => {
    requireBuiltCore();
    for (const backend of backends) await backend.start();
  }, 60_000);
  afterAll(async () => {
    for (const backend of backends) await backend.stop();
  });

  test.concurrent.each(backends.map((b) => [b.name, b] as [string, StorageBackend]))(
    "%s: the daemon keeps its pace, each alert is retried as documented, recorded, and delivered exactly once after recovery",
    async (_name, backend) => {
      const opened: Endpoint[] = [];
      let t: InstigatorEnv | undefined;
      let sampling = true;
      let sampler: Promise<void> = Promise.resolve();
      try {
        t = await openInstigatorEnv(backend);
        const env = t;
        const downPort = await closedPort();
        const downUrl = `http://127.0.0.1:${downPort}/hook`;
        const slow = await startEndpoint({ answer: 200, delayMs: SLOW_MS });
        const broken = await startEndpoint({ answer: 500 });
        opened.push(slow, broken);
        const daemon = await startDaemon(env, {
          FIXTURE_RUNNING: "pulse,every_second,alert_down,alert_slow,alert_500",
          FIXTURE_ALERT_URL_DOWN: downUrl,
          FIXTURE_ALERT_URL_SLOW: slow.url,
          FIXTURE_ALERT_URL_500: broken.url,
        });
        const describeAll = async () =>
          JSON.stringify({
            down: await ticksOf(env, "alert_down"),
            slow: await ticksOf(env, "alert_slow"),
            broken: await ticksOf(env, "alert_500"),
            posts: { slow: slow.posts, broken: broken.posts },
            stderr: daemon.stderr().slice(-3000),
          });

        /** Whether the sensor's saved cursor is still before the run (its alert still to come). */
        const pending = async (sensor: string, runId: string) => {
          const cursor = (await cursorOf(env, sensor)) ?? undefined;
          const { runs: ahead } = await env.instance.storage.listEndedRuns({
            ...(cursor !== undefined ? { after: cursor } : {}),
            limit: 1000,
          });
          return ahead.some((r) => r.runId === runId);
        };
        // Each alert sensor's first evaluation only places its cursor: runs ending after it count.
        for (const name of ["alert_down", "alert_slow", "alert_500"]) {
          await waitFor(
            describeAll,
            async () => (await ticksOf(env, name)).some((k) => k.skipReason === FIRST_EVALUATION),
            30_000,
          );
        }

        // Schedule pace: when the daemon last evaluated it (lastTickAt), sampled all along.
        const scheduleEvaluations = new Set<number>();
        sampler = (async () => {
          while (sampling) {
            const at = (await env.instance.storage.getInstigatorState("every_second"))?.lastTickAt;
            if (at) scheduleEvaluations.add(at);
            await new Promise((r) => setTimeout(r, 100));
          }
        })();

        // Three failing runs, one per endpoint; each ends at once, whatever its alert is doing.
        const runs: Record<string, string> = {};
        const runMs: number[] = [];
        for (const [sensor, selection] of [
          ["alert_slow", "boom_slow"],
          ["alert_500", "boom_500"],
          ["alert_down", "boom_down"],
        ] as const) {
          const started = Date.now();
          const run = await env.instance.materialize(definitions, { selection });
          runMs.push(Date.now() - started);
          expect(run.status).toBe("FAILURE");
          runs[sensor] = run.runId;
        }

        // The slow endpoint holds its POST for 30 s; everything below happens meanwhile.
        const slowPost = await waitFor(describeAll, () => slow.posts[0], 15_000);
        expect(slowPost.runId).toBe(runs.alert_slow);

        // Down and 500: failed ticks that say why; the cursor stays before the undelivered alert
        // (it may pass the runs before it that the sensor does not watch).
        const downError = `webhook alert for run ${runs.alert_down} was not delivered: POST ${downUrl} failed: fetch failed (ECONNREFUSED)`;
        const brokenError = `webhook alert for run ${runs.alert_500} was not delivered: POST ${broken.url} answered 500: endpoint broken`;
        for (const [name, error] of [
          ["alert_down", downError],
          ["alert_500", brokenError],
        ] as const) {
          const failed = await waitFor(
            describeAll,
            async () => {
              const f = failures(await ticksOf(env, name));
              return f.length >= 2 ? f : undefined;
            },
            20_000,
          );
          for (const k of failed) expect(k, name).toMatchObject({ status: "FAILURE", error, runIds: [] });
          expect(await pending(name, runs[name]!), `${name}: the cursor passed the undelivered alert`).toBe(
            true,
          );
        }
        // Each failed tick made the documented attempts (a tick in flight may have made some more).
        const brokenFailures = failures(await ticksOf(env, "alert_500")).length;
        const brokenPosts = broken.posts.length;
        expect(brokenPosts).toBeGreaterThanOrEqual(ATTEMPTS_PER_TICK * brokenFailures);
        expect(brokenPosts).toBeLessThanOrEqual(ATTEMPTS_PER_TICK * (brokenFailures + 1));
        expect(broken.posts.every((p) => p.runId === runs.alert_500)).toBe(true);
        expect(slow.posts).toHaveLength(1); // still one, still held
        expect(slowPost.answeredAt).toBeNull();

        // Recovery: the 500 endpoint answers 200, a server starts on the down endpoint's port.
        broken.answer = 200;
        const revived = await startEndpoint({ port: downPort, answer: 200 });
        opened.push(revived);
        const recovered: Record<string, TickRecord> = {};
        for (const name of ["alert_down", "alert_500"]) {
          recovered[name] = await waitFor(
            describeAll,
            async () => (await ticksOf(env, name)).find((k) => k.skipReason === DELIVERED_ONE),
            20_000,
          );
          expect(
            await pending(name, runs[name]!),
            `${name}: the cursor did not pass the delivered alert`,
          ).toBe(false);
        }
        expect(
          Date.now() - slowPost.receivedAt,
          "down and 500 recovered while the slow POST was held",
        ).toBeLessThan(SLOW_MS);
        expect(slowPost.answeredAt).toBeNull();

        // The slow alert: delivered by its first attempt when the endpoint answers, 30 s later.
        const slowDelivered = await waitFor(
          describeAll,
          async () => (await ticksOf(env, "alert_slow")).find((k) => k.skipReason === DELIVERED_ONE),
          SLOW_MS + 20_000,
        );
        expect(await pending("alert_slow", runs.alert_slow!)).toBe(false);
        expect(failures(await ticksOf(env, "alert_slow"))).toEqual([]);

        // A few more ticks of each alert sensor: nothing is delivered again.
        const settled: Record<string, number> = {};
        for (const [name, done] of [
          ["alert_down", recovered.alert_down!],
          ["alert_500", recovered.alert_500!],
          ["alert_slow", slowDelivered],
        ] as const) {
          const later = await waitFor(
            describeAll,
            async () => {
              const after = (await ticksOf(env, name)).filter((k) => k.id > done.id);
              return after.length >= 3 ? after : undefined;
            },
            20_000,
          );
          for (const k of later)
            expect([k.status, k.skipReason], name).toEqual(["SKIPPED", "no matching runs ended"]);
          settled[name] = later.length;
        }
        const delivered = (e: Endpoint) => e.posts.filter((p) => p.status === 200);
        expect(delivered(revived).map((p) => p.runId)).toEqual([runs.alert_down]);
        expect(revived.posts).toHaveLength(1);
        expect(delivered(broken).map((p) => p.runId)).toEqual([runs.alert_500]);
        expect(delivered(slow).map((p) => p.runId)).toEqual([runs.alert_slow]);
        expect(slow.posts).toHaveLength(1);
        const final500 = failures(await ticksOf(env, "alert_500")).length;
        const answered500 = broken.posts.filter((p) => p.status === 500).length;
        // Every failed tick: exactly 3 answers of 500; the delivering tick may have had 1-2 before.
        expect(answered500).toBeGreaterThanOrEqual(ATTEMPTS_PER_TICK * final500);
        expect(answered500).toBeLessThan(ATTEMPTS_PER_TICK * (final500 + 1));

        // The pace of everything else while the slow alert was held.
        sampling = false;
        await sampler;
        const holdStart = slowPost.receivedAt;
        const holdEnd = slowPost.answeredAt!;
        const inHold = (at: number) => at >= holdStart - 2_000 && at <= holdEnd + 2_000;
        const pulseTicks = (await ticksOf(env, "pulse")).map((k) => k.timestamp).filter(inHold);
        const scheduleTicks = [...scheduleEvaluations].filter(inHold);
        const pulseGap = maxGap(pulseTicks);
        const scheduleGap = maxGap(scheduleTicks);
        expect(pulseTicks.length).toBeGreaterThanOrEqual(SLOW_MS / MAX_GAP_MS);
        expect(pulseGap).toBeLessThan(MAX_GAP_MS);
        expect(scheduleGap).toBeLessThan(MAX_GAP_MS);
        expect(Math.max(...runMs)).toBeLessThan(MAX_GAP_MS);

        printFigures({
          scenario: "alert-endpoint",
          backend: backend.name,
          slowHoldMs: holdEnd - holdStart,
          slowTickMs: slowDelivered.durationMs,
          slowPosts: slow.posts.length,
          downFailedTicks: failures(await ticksOf(env, "alert_down")).length,
          brokenFailedTicks: final500,
          broken500Answers: answered500,
          attemptsPerFailedTick: ATTEMPTS_PER_TICK,
          deliveredAfterRecovery: {
            down: delivered(revived).length,
            broken: delivered(broken).length,
            slow: 1,
          },
          pulseTicksDuringHold: pulseTicks.length,
          pulseMaxGapMs: pulseGap,
          scheduleEvaluationsDuringHold: scheduleTicks.length,
          scheduleMaxGapMs: scheduleGap,
          failingRunMsMax: Math.max(...runMs),
          load1: loadAverage(),
        });
      } finally {
        sampling = false;
        await sampler.catch(() => undefined);
        for (const e of opened) await e.close();
        await closeInstigatorEnv(t);
      }
    },
    120_000,
  );
});
