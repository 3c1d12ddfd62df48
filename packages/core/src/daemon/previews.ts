import type { Definitions } from "../definitions/definitions.js";
import { describeError } from "../errors.js";
import type { BatonInstance } from "../instance/instance.js";
import type { Storage } from "../storage/storage.js";
import { nextCronTick } from "./cron-ticks.js";
import { schedulePartitionKeys } from "./schedules.js";
import { evaluateSensor } from "./sensors.js";

/**
 * Previews of schedules and sensors asked for by the webserver (which cannot run user code): the
 * request is a kv entry the daemon answers with another. Requests older than a minute are dropped.
 */
const REQUEST_PREFIX = "preview/request/";
const RESULT_PREFIX = "preview/result/";
const STALE_MS = 60_000;

export interface PreviewResult {
  readonly name: string;
  readonly kind: "schedule" | "sensor";
  readonly evaluatedAt: number;
  /** Sensors: what it would launch, skip reason and cursor; schedules: the next ticks and their partitions. */
  readonly runRequests?: readonly unknown[];
  readonly skipReason?: string | null;
  readonly cursor?: string | null;
  readonly ticks?: readonly { tick: string; partitionKeys: readonly string[] | null; error?: string }[];
  readonly error: string | null;
}

/** The caller gave up: withdraw the request (an answer already written is dropped later). */
export async function cancelPreview(storage: Storage, id: string) {
  await storage.deleteValue(`${REQUEST_PREFIX}${id}`);
}

export async function requestPreview(storage: Storage, id: string, name: string, now: number) {
  await storage.setValue(`${REQUEST_PREFIX}${id}`, JSON.stringify({ name }), now);
}

/** The answer, once the daemon wrote it (then removed from the store). */
export async function takePreviewResult(storage: Storage, id: string): Promise<PreviewResult | undefined> {
  const value = await storage.getValue(`${RESULT_PREFIX}${id}`);
  if (value === undefined) return undefined;
  await storage.deleteValue(`${RESULT_PREFIX}${id}`);
  return JSON.parse(value) as PreviewResult;
}

/** Answer pending preview requests (the daemon's sensors loop calls this). */
export async function answerPreviews(instance: BatonInstance, definitions: Definitions, now: number) {
  const storage = instance.storage;
  // Answers nobody collected (the caller gave up) are dropped after a minute.
  for (const old of await storage.listValues(RESULT_PREFIX))
    if (now - old.updatedAt > STALE_MS) await storage.deleteValue(old.key);
  const pending = await storage.listValues(REQUEST_PREFIX);
  for (const entry of pending) {
    const id = entry.key.slice(REQUEST_PREFIX.length);
    await storage.deleteValue(entry.key);
    if (now - entry.updatedAt > STALE_MS) continue;
    let result: PreviewResult;
    const { name } = JSON.parse(entry.value) as { name: string };
    const sensor = definitions.sensors.find((s) => s.name === name);
    const schedule = definitions.schedules.find((s) => s.name === name);
    try {
      if (sensor) {
        const outcome = await evaluateSensor(sensor, { instance, definitions, now, launch: false });
        result = {
          name,
          kind: "sensor",
          evaluatedAt: now,
          runRequests: outcome.result.runRequests ?? [],
          skipReason: outcome.result.skipReason ?? null,
          cursor: outcome.result.cursor ?? null,
          error: outcome.error,
        };
      } else if (schedule) {
        const ticks: { tick: string; partitionKeys: readonly string[] | null; error?: string }[] = [];
        let at = now;
        for (let i = 0; i < 5; i++) {
          at = nextCronTick(schedule.cron, schedule.timezone, at);
          try {
            const keys = await schedulePartitionKeys(schedule, definitions, instance, at);
            ticks.push({ tick: new Date(at).toISOString(), partitionKeys: keys ?? null });
          } catch (error) {
            ticks.push({
              tick: new Date(at).toISOString(),
              partitionKeys: null,
              error: describeError(error),
            });
          }
        }
        result = { name, kind: "schedule", evaluatedAt: now, ticks, error: null };
      } else {
        result = {
          name,
          kind: "sensor",
          evaluatedAt: now,
          error: `no schedule or sensor named "${name}" in the daemon's definitions`,
        };
      }
    } catch (error) {
      result = { name, kind: sensor ? "sensor" : "schedule", evaluatedAt: now, error: describeError(error) };
    }
    await storage.setValue(`${RESULT_PREFIX}${id}`, JSON.stringify(result), now);
  }
}
