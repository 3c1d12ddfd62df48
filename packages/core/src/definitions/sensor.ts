import type { Storage } from "../storage/storage.js";
import type { Logger } from "./context.js";
import type { Definitions } from "./definitions.js";
import type { AssetJobDefinition } from "./job.js";
import { type RunTarget, toTarget } from "./schedule.js";

export const SENSOR_BRAND = Symbol.for("baton.sensor");

/** A run a sensor asks for. Defaults come from the sensor's target. */
export interface RunRequest {
  /** Launch at most once per sensor, ever, with this key (a file's identity, an event id …). */
  readonly runKey?: string;
  readonly job?: string;
  readonly selection?: string;
  readonly partitionKey?: string;
  readonly partitionKeys?: readonly string[];
  readonly config?: Readonly<Record<string, unknown>>;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface SensorResult {
  readonly runRequests?: readonly RunRequest[];
  /** Why nothing was requested (shown in the tick history). */
  readonly skipReason?: string;
  /** Saved after the runs are launched; the next evaluation sees it as `ctx.cursor`. */
  readonly cursor?: string | null;
  /** Dynamic partitions to add/remove before the runs launch: `{ name: keys }`. */
  readonly addDynamicPartitions?: Readonly<Record<string, readonly string[]>>;
  readonly removeDynamicPartitions?: Readonly<Record<string, readonly string[]>>;
  /** Evaluate again this soon (e.g. a file still being written), instead of waiting the interval. */
  readonly retryAfterMs?: number;
}

/** Read access to the instance for sensors (what happened: runs, materializations, partitions). */
export type SensorStore = Pick<
  Storage,
  | "getRun"
  | "listRuns"
  | "listEndedRuns"
  | "getEvents"
  | "getAssetStatuses"
  | "getMaterializations"
  | "getPartitions"
  | "getDynamicPartitions"
>;

export interface SensorContext {
  readonly sensorName: string;
  readonly cursor: string | null;
  /** The daemon's clock at evaluation. */
  readonly now: Date;
  readonly lastTickAt: Date | null;
  /** Fires when the evaluation exceeds its time limit. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly store: SensorStore;
  readonly definitions: Definitions;
}

/** What `evaluate` may return; nothing at all (a body without `return`) means "no requests". */
// biome-ignore lint/suspicious/noConfusingVoidType: lets `evaluate` bodies end without a return.
export type SensorEvaluation = SensorResult | readonly RunRequest[] | undefined | null | void;

export interface SensorOptions {
  readonly name: string;
  /** The default target of its run requests. */
  readonly job?: AssetJobDefinition | string;
  readonly selection?: string;
  /** Seconds between evaluations (default 30, as in Dagster; file sensors also react to events). */
  readonly minimumIntervalSeconds?: number;
  /** An evaluation running longer fails its tick (default 60). */
  readonly timeoutSeconds?: number;
  /** State until `baton sensor start|stop` (default STOPPED, as in Dagster). */
  readonly defaultStatus?: "RUNNING" | "STOPPED";
  readonly description?: string;
  evaluate(ctx: SensorContext): SensorEvaluation | Promise<SensorEvaluation>;
}

export type SensorType = "custom" | "file" | "asset" | "run_status";

export interface SensorDefinition {
  readonly [SENSOR_BRAND]: true;
  readonly kind: "sensor";
  readonly type: SensorType;
  readonly name: string;
  readonly target: RunTarget;
  readonly minimumIntervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly defaultStatus: "RUNNING" | "STOPPED";
  readonly description: string | undefined;
  /** Directories whose changes trigger an evaluation at once (file sensors). */
  readonly watchPaths: readonly string[];
  evaluate(ctx: SensorContext): SensorEvaluation | Promise<SensorEvaluation>;
}

export function sensor(options: SensorOptions): SensorDefinition {
  return buildSensor("custom", options, []);
}

export function buildSensor(
  type: SensorType,
  options: SensorOptions,
  watchPaths: readonly string[],
): SensorDefinition {
  return {
    [SENSOR_BRAND]: true,
    kind: "sensor",
    type,
    name: options.name,
    target: toTarget(options.job, options.selection),
    minimumIntervalSeconds: options.minimumIntervalSeconds ?? 30,
    timeoutSeconds: options.timeoutSeconds ?? 60,
    defaultStatus: options.defaultStatus ?? "STOPPED",
    description: options.description,
    watchPaths,
    evaluate: options.evaluate,
  };
}

/** What every built-in sensor takes besides its own options. */
export type CommonSensorOptions = Omit<
  SensorOptions,
  "evaluate" | "minimumIntervalSeconds" | "description"
> & {
  readonly minimumIntervalSeconds?: number | undefined;
  readonly description?: string | undefined;
};

/** A built-in sensor: the common options with its defaults, and its own evaluation. */
export function builtinSensor(
  type: SensorType,
  options: CommonSensorOptions,
  defaults: { readonly minimumIntervalSeconds: number; readonly description: string },
  evaluate: SensorDefinition["evaluate"],
  watchPaths: readonly string[] = [],
): SensorDefinition {
  return buildSensor(
    type,
    {
      name: options.name,
      ...(options.job !== undefined ? { job: options.job } : {}),
      ...(options.selection !== undefined ? { selection: options.selection } : {}),
      minimumIntervalSeconds: options.minimumIntervalSeconds ?? defaults.minimumIntervalSeconds,
      ...(options.timeoutSeconds !== undefined ? { timeoutSeconds: options.timeoutSeconds } : {}),
      ...(options.defaultStatus !== undefined ? { defaultStatus: options.defaultStatus } : {}),
      description: options.description ?? defaults.description,
      evaluate,
    },
    watchPaths,
  );
}

export function isSensorDefinition(value: unknown): value is SensorDefinition {
  return (
    typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[SENSOR_BRAND] === true
  );
}

/** Normalize what `evaluate` returned. */
export function toSensorResult(value: SensorEvaluation): SensorResult {
  if (value === undefined || value === null) return {};
  if (Array.isArray(value)) return { runRequests: value as readonly RunRequest[] };
  return value as SensorResult;
}
