import type { Logger } from "../definitions/context.js";
import type { Definitions } from "../definitions/definitions.js";
import {
  type RunRequest,
  type SensorDefinition,
  type SensorResult,
  toSensorResult,
} from "../definitions/sensor.js";
import { describeError } from "../errors.js";
import type { BatonInstance } from "../instance/instance.js";
import { partialProgressOf } from "../sensors/partial-progress.js";
import type { TickStatus } from "../storage/storage.js";
import { faultPoint } from "../util/fault-points.js";
import { type Launched, launchRequest } from "./launcher.js";

export interface SensorEvalOptions {
  readonly instance: BatonInstance;
  readonly definitions: Definitions;
  readonly now: number;
  /** false: evaluate only (preview): nothing launched, cursor and ticks untouched. */
  readonly launch?: boolean;
  readonly log?: (line: string) => void;
  /**
   * The daemon is stopping: abort the evaluation (its `ctx.signal` fires, an alert in flight is
   * dropped), record the tick as failed and keep the cursor, so the next daemon starts from it.
   * Without it a stopping daemon waits for the evaluation, up to its time limit.
   */
  readonly signal?: AbortSignal;
}

export interface SensorTickOutcome {
  readonly status: TickStatus;
  readonly result: SensorResult;
  readonly launched: readonly Launched[];
  /** Requests whose run key was already used (not launched again). */
  readonly alreadyLaunched: number;
  readonly skipReason: string | null;
  readonly error: string | null;
  readonly cursor: string | null;
  readonly retryAfterMs: number | undefined;
}

export function sensorOwner(name: string) {
  return `sensor:${name}`;
}

function sensorLogger(name: string, log: ((line: string) => void) | undefined): Logger {
  const write = (level: string) => (message: string) => log?.(`sensor ${name} [${level}] ${message}`);
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}

/**
 * Run `evaluate` with the sensor's time limit, or until `stop` fires (the daemon is stopping):
 * either way its signal fires, and the tick fails.
 */
async function evaluateWithLimit(
  sensor: SensorDefinition,
  ctxBase: Omit<Parameters<SensorDefinition["evaluate"]>[0], "signal">,
  stop: AbortSignal | undefined,
) {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onStop: (() => void) | undefined;
  const limit = new Promise<never>((_, reject) => {
    const fail = (error: Error) => {
      controller.abort(error);
      reject(error);
    };
    timer = setTimeout(
      () =>
        fail(
          new Error(`the evaluation exceeded its time limit of ${sensor.timeoutSeconds} s (timeoutSeconds)`),
        ),
      sensor.timeoutSeconds * 1000,
    );
    if (stop) {
      onStop = () =>
        fail(
          new Error("the daemon stopped during the evaluation (the next one starts from the same cursor)"),
        );
      if (stop.aborted) onStop();
      else stop.addEventListener("abort", onStop, { once: true });
    }
  });
  try {
    const value = await Promise.race([
      Promise.resolve().then(() => sensor.evaluate({ ...ctxBase, signal: controller.signal })),
      limit,
    ]);
    return toSensorResult(value);
  } finally {
    clearTimeout(timer);
    if (onStop) stop?.removeEventListener("abort", onStop);
  }
}

/** The evaluation's result; a failure saying part of the work went through gives that part. */
async function evaluateKeepingProgress(
  ...args: Parameters<typeof evaluateWithLimit>
): Promise<{ result: SensorResult; failure: string | null }> {
  try {
    return { result: await evaluateWithLimit(...args), failure: null };
  } catch (error) {
    const progress = partialProgressOf(error);
    if (!progress) throw error;
    return { result: toSensorResult(progress), failure: describeError(error) };
  }
}

/**
 * One tick of a sensor: evaluate (time-limited), add dynamic partitions, launch its run requests
 * (a used run key is never launched again: the key is stored with the run, so a crash between
 * launching and saving the cursor cannot launch twice), then save the cursor and the tick.
 */
export async function evaluateSensor(
  sensor: SensorDefinition,
  options: SensorEvalOptions,
): Promise<SensorTickOutcome> {
  const { instance, definitions, now } = options;
  const storage = instance.storage;
  const launch = options.launch ?? true;
  const started = Date.now();
  const state = await storage.getInstigatorState(sensor.name);
  const owner = sensorOwner(sensor.name);
  let result: SensorResult = {};
  const launched: Launched[] = [];
  let already = 0;
  const errors: string[] = [];
  /** The evaluation failed after part of its work went through: that part is launched and saved. */
  let partial = false;
  try {
    const evaluation = await evaluateKeepingProgress(
      sensor,
      {
        sensorName: sensor.name,
        cursor: state?.cursor ?? null,
        now: new Date(now),
        lastTickAt: state?.lastTickAt ? new Date(state.lastTickAt) : null,
        log: sensorLogger(sensor.name, options.log),
        store: storage,
        definitions,
      },
      options.signal,
    );
    result = evaluation.result;
    if (evaluation.failure !== null) {
      errors.push(evaluation.failure);
      partial = true;
    }
    const requests: readonly RunRequest[] = result.runRequests ?? [];
    if (launch) {
      for (const [name, keys] of Object.entries(result.addDynamicPartitions ?? {}))
        await storage.addDynamicPartitions(name, keys);
      for (const [name, keys] of Object.entries(result.removeDynamicPartitions ?? {}))
        await storage.removeDynamicPartitions(name, keys);
      const keyed = requests.filter((r) => r.runKey !== undefined).map((r) => r.runKey!);
      const used = keyed.length > 0 ? await storage.getRunKeys(owner, keyed) : new Map<string, string>();
      const seen = new Set<string>();
      for (const request of requests) {
        if (request.runKey !== undefined) {
          if (used.has(request.runKey) || seen.has(request.runKey)) {
            already++;
            continue;
          }
          seen.add(request.runKey);
        }
        try {
          const out = await launchRequest(instance, definitions, sensor.target, request, {
            owner,
            tags: { "baton/sensor": sensor.name },
            now,
          });
          if (out.created) launched.push(out);
          else already++;
        } catch (error) {
          errors.push(`${request.runKey ? `run key "${request.runKey}": ` : ""}${describeError(error)}`);
        }
      }
    }
  } catch (error) {
    errors.push(describeError(error));
    result = {};
    partial = false;
  }
  const status: TickStatus = errors.length > 0 ? "FAILURE" : launched.length > 0 ? "SUCCESS" : "SKIPPED";
  const skipReason =
    status !== "SKIPPED"
      ? null
      : already > 0
        ? `${already} run request(s) already launched earlier (same run key)`
        : (result.skipReason ?? "no run requests");
  // The cursor moves only when everything went through: after a failure the next evaluation starts
  // from the same place (requests with run keys that did launch are not launched again), or from
  // the end of the part that went through when the evaluation says so (see partial-progress.ts).
  const throughErrors = partial ? 1 : 0;
  const cursor =
    errors.length === throughErrors && result.cursor !== undefined ? result.cursor : (state?.cursor ?? null);
  const error = errors.length > 0 ? errors.join("\n") : null;
  if (launch) {
    // Fault tests crash here: runs launched, cursor and tick not saved (see util/fault-points.ts).
    if (launched.length > 0) faultPoint(`sensor:${sensor.name}:launched`);
    await storage.setInstigatorState(sensor.name, "sensor", { cursor, lastTickAt: now }, now);
    await storage.addTick({
      name: sensor.name,
      kind: "sensor",
      timestamp: now,
      status,
      runIds: launched.map((l) => l.id),
      skipReason,
      error,
      cursor,
      durationMs: Date.now() - started,
    });
    if (launched.length > 0)
      options.log?.(`sensor ${sensor.name}: launched ${launched.map((l) => `${l.kind} ${l.id}`).join(", ")}`);
    if (error) options.log?.(`sensor ${sensor.name}: tick failed: ${error}`);
  }
  return {
    status,
    result,
    launched,
    alreadyLaunched: already,
    skipReason,
    error,
    cursor,
    retryAfterMs: result.retryAfterMs,
  };
}
