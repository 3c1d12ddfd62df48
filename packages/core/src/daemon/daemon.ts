import { randomUUID } from "node:crypto";
import type { FSWatcher } from "chokidar";
import type { Definitions } from "../definitions/definitions.js";
import type { SensorDefinition } from "../definitions/sensor.js";
import { describeError } from "../errors.js";
import type { BatonInstance } from "../instance/instance.js";
import type { RetentionPolicy } from "../retention/policy.js";
import { failStaleRuns } from "../worker/run-monitor.js";
import { createAutomationEvaluator } from "./automation.js";
import { createBackfillDriver } from "./backfills.js";
import { answerPreviews } from "./previews.js";
import { createRetentionTask } from "./retention.js";
import { retryFailedRuns } from "./retries.js";
import { evaluateSchedule } from "./schedules.js";
import { evaluateSensor } from "./sensors.js";

export interface DaemonOptions {
  readonly instance: BatonInstance;
  /** The current definitions (the daemon reads it on every pass, so a reload takes effect). */
  readonly definitions: () => Definitions;
  /** Injected clock for tests (default Date.now). */
  readonly clock?: () => number;
  readonly log?: (line: string) => void;
  /** Loop period for monitoring, schedules and backfills (default 500 ms). */
  readonly intervalMs?: number;
  /** Fail runs whose worker is silent this long (default 3,000 ms = 2 heartbeats + slack). */
  readonly heartbeatTimeoutMs?: number;
  /** Declarative automation period (default 2,000 ms). */
  readonly automationIntervalMs?: number;
  /** Watch file sensors' directories for sub-second reaction (default true). */
  readonly watch?: boolean;
  /** Runs of one backfill in flight at once (default 200). */
  readonly backfillMaxInFlight?: number;
  /** A schedule tick older than this when reached counts as missed (default 60 s). */
  readonly lateToleranceMs?: number;
  /** Purge old events, ticks and automation decisions (baton.config.json `retention`; default: never). */
  readonly retention?: RetentionPolicy;
  readonly id?: string;
}

export interface Daemon {
  readonly id: string;
  /** One pass of every service at the clock's time (tests drive the daemon with this). */
  tick(): Promise<void>;
  /**
   * Run until `signal` aborts: hold the leader lease (a second daemon on the store waits as
   * standby), and run each service on its own loop.
   */
  run(signal: AbortSignal): Promise<void>;
  /** Definitions changed: drop cached plans and re-arm watchers. */
  reloaded(): void;
  isLeader(): boolean;
}

export function createDaemon(options: DaemonOptions): Daemon {
  const { instance } = options;
  const storage = instance.storage;
  const clock = options.clock ?? Date.now;
  const log = options.log ?? (() => {});
  const id = options.id ?? `daemon-${process.pid}-${randomUUID().slice(0, 8)}`;
  const interval = options.intervalMs ?? 500;
  const heartbeatTimeout = options.heartbeatTimeoutMs ?? 3000;
  const backfills = createBackfillDriver({
    instance,
    definitions: options.definitions,
    log,
    ...(options.backfillMaxInFlight !== undefined ? { maxInFlight: options.backfillMaxInFlight } : {}),
  });
  const automation = createAutomationEvaluator({ instance, definitions: options.definitions, log });
  const retention = options.retention && createRetentionTask({ instance, policy: options.retention, log });
  /** Per sensor: when it is next due (in-memory; a restarted daemon evaluates every sensor once). */
  const nextDue = new Map<string, number>();
  const evaluating = new Set<string>();
  /** Sensors whose watched files changed while they were evaluating: due again at once. */
  const retrigger = new Set<string>();
  let wakeSensors: () => void = () => {};
  /** run()'s signal: sensor evaluations in flight stop with it (their ticks fail, cursors stay). */
  let stopping: AbortSignal | undefined;
  let leader = false;

  let beatAt = 0;
  async function monitor(now: number) {
    // For `/api/health`: which daemon leads, and when it last did its rounds.
    if (Date.now() - beatAt >= 2000) {
      beatAt = Date.now();
      await storage.setValue("daemon/heartbeat", JSON.stringify({ id, at: beatAt }), beatAt);
    }
    const failed = await failStaleRuns(storage, now, heartbeatTimeout);
    for (const runId of failed) log(`run ${runId} failed: the worker died (it stopped heartbeating)`);
    await retryFailedRuns(instance, options.definitions(), now, log);
  }

  async function schedules(now: number) {
    for (const schedule of options.definitions().schedules)
      await evaluateSchedule(schedule, {
        instance,
        definitions: options.definitions(),
        now,
        log,
        ...(options.lateToleranceMs !== undefined ? { lateToleranceMs: options.lateToleranceMs } : {}),
      }).catch((error) => log(`schedule ${schedule.name}: ${describeError(error)}`));
  }

  async function runSensor(sensor: SensorDefinition, now: number) {
    evaluating.add(sensor.name);
    retrigger.delete(sensor.name);
    try {
      const outcome = await evaluateSensor(sensor, {
        instance,
        definitions: options.definitions(),
        now,
        log,
        ...(stopping ? { signal: stopping } : {}),
      });
      const next = clock() + sensor.minimumIntervalSeconds * 1000;
      nextDue.set(
        sensor.name,
        outcome.retryAfterMs !== undefined ? Math.min(next, clock() + outcome.retryAfterMs) : next,
      );
    } catch (error) {
      log(`sensor ${sensor.name}: ${describeError(error)}`);
      nextDue.set(sensor.name, clock() + sensor.minimumIntervalSeconds * 1000);
    } finally {
      evaluating.delete(sensor.name);
      if (retrigger.delete(sensor.name)) {
        nextDue.set(sensor.name, 0);
        wakeSensors();
      }
    }
  }

  /** Start the due sensors (each sensor evaluates at most once at a time); answer previews. */
  async function sensors(now: number, wait: boolean) {
    await answerPreviews(instance, options.definitions(), now).catch((error) =>
      log(`previews: ${describeError(error)}`),
    );
    const states = new Map((await storage.listInstigatorStates()).map((s) => [s.name, s]));
    const started: Promise<void>[] = [];
    for (const sensor of options.definitions().sensors) {
      const status = states.get(sensor.name)?.status ?? sensor.defaultStatus;
      if (status !== "RUNNING" || evaluating.has(sensor.name)) continue;
      if ((nextDue.get(sensor.name) ?? 0) > now) continue;
      started.push(runSensor(sensor, now));
    }
    if (wait) await Promise.all(started);
  }

  const watchers = new Map<string, FSWatcher>();
  async function armWatchers() {
    if (options.watch === false) return;
    const wanted = new Map<string, string[]>();
    for (const sensor of options.definitions().sensors)
      for (const dir of sensor.watchPaths) wanted.set(dir, [...(wanted.get(dir) ?? []), sensor.name]);
    for (const [dir, watcher] of watchers)
      if (!wanted.has(dir)) {
        await watcher.close();
        watchers.delete(dir);
      }
    const { watch } = await import("chokidar");
    for (const dir of wanted.keys()) {
      if (watchers.has(dir)) continue;
      const watcher = watch(dir, { ignoreInitial: true, persistent: true });
      const trigger = () => {
        for (const sensor of options.definitions().sensors)
          if (sensor.watchPaths.includes(dir)) {
            log(`sensor ${sensor.name}: files changed in ${dir}`);
            nextDue.set(sensor.name, 0);
            if (evaluating.has(sensor.name)) retrigger.add(sensor.name);
          }
        wakeSensors();
      };
      watcher.on("add", trigger).on("change", trigger).on("unlink", trigger);
      watcher.on("error", (error) => log(`watching ${dir}: ${describeError(error)}`));
      watchers.set(dir, watcher);
    }
  }

  async function closeWatchers() {
    for (const w of watchers.values()) await w.close();
    watchers.clear();
  }

  const sleep = (ms: number, signal: AbortSignal, setWake?: (wake: () => void) => void) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      setWake?.(done);
    });

  return {
    id,
    isLeader: () => leader,
    async tick() {
      const now = clock();
      await monitor(now);
      await schedules(now);
      await sensors(now, true);
      await automation.step(now);
      await backfills.step(now);
      await retention?.step(now);
    },
    reloaded() {
      backfills.reset();
      automation.reset();
      nextDue.clear();
      if (leader) void armWatchers().catch((error) => log(`watchers: ${describeError(error)}`));
    },
    async run(signal) {
      stopping = signal;
      const ttl = Math.max(3 * interval, 2000);
      const loops: Promise<void>[] = [];
      /** Run `body` every `every` ms (every 50 ms while `busy()` says there is more to do). */
      // A term per leadership: a term's loops stop when it ends, even if the lease is won back
      // before they wake (a renewal failed through a store outage, then succeeded within one
      // sleep): otherwise the old loops would run beside the new term's, each service twice.
      let term = 0;
      const loop = (
        name: string,
        every: number,
        body: (now: number) => Promise<void>,
        setWake?: (w: () => void) => void,
        busy?: () => boolean,
      ) => {
        const mine = term;
        return (async () => {
          while (!signal.aborted && leader && term === mine) {
            await body(clock()).catch((error) => log(`${name}: ${describeError(error)}`));
            await sleep(busy?.() ? Math.min(every, 50) : every, signal, setWake);
          }
        })();
      };
      let role: boolean | undefined;
      while (!signal.aborted) {
        const held = await storage.acquireLease("daemon", id, ttl, clock()).catch(() => false);
        if (held !== role) {
          role = held;
          leader = held;
          term++;
          log(
            leader
              ? `daemon ${id} is the leader`
              : `daemon ${id} is waiting as standby (another daemon leads)`,
          );
          if (leader) {
            // A new term: what another leader did meanwhile is read from the store again.
            backfills.reset();
            automation.reset();
            await armWatchers().catch((error) => log(`watchers: ${describeError(error)}`));
            loops.push(
              loop("monitor", interval, monitor),
              loop("schedules", Math.min(interval, 1000), schedules),
              loop(
                "sensors",
                250,
                (now) => sensors(now, false),
                (w) => {
                  wakeSensors = w;
                },
              ),
              loop("automation", options.automationIntervalMs ?? 2000, async (now) => {
                await automation.step(now);
              }),
              loop(
                "backfills",
                interval,
                (now) => backfills.step(now),
                undefined,
                () => backfills.busy(),
              ),
            );
            if (retention)
              loops.push(
                loop("retention", retention.periodMs, async (now) => {
                  await retention.step(now, signal);
                }),
              );
          } else await closeWatchers();
        }
        await sleep(interval, signal);
      }
      const wasLeader = leader;
      leader = false;
      wakeSensors();
      await Promise.all(loops);
      // Let sensor evaluations in flight finish (they are time-limited).
      while (evaluating.size > 0) await new Promise((r) => setTimeout(r, 20));
      await closeWatchers();
      if (wasLeader) await storage.releaseLease("daemon", id).catch(() => undefined);
    },
  };
}
