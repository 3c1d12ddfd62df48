import type { EngineComputeContext, OpContext } from "../definitions/asset.js";
import type { CheckContext } from "../definitions/asset-check.js";
import type { Logger, LogLevel } from "../definitions/context.js";
import type { Definitions } from "../definitions/definitions.js";
import { type MetadataInputMap, normalizeMetadata } from "../definitions/metadata.js";
import { retryDelayMs } from "../definitions/retry-policy.js";
import { BatonError, serializeError, UserCodeError } from "../errors.js";
import type { RunEventBody, StepStatus } from "./events.js";
import type { ConsoleCapture } from "./log-capture.js";
import type { PlannedStep } from "./plan.js";
import type { RunResources } from "./resources.js";
import { type KeySpaces, partitionFieldDescriptors, type RunPartitions } from "./run-partitions.js";
import { loadUpstream, materializationMetadataInRun, storeOutput } from "./step-io.js";

/** The store's data versions of an asset: by partition key, "" when unpartitioned; unknown ones left out. */
export type ReadDataVersions = (
  assetKey: string,
  partitionKeys: readonly string[] | undefined,
) => Promise<ReadonlyMap<string, string>>;

/** What a step runner needs from the run around it. */
export interface StepEnvironment {
  readonly runId: string;
  readonly definitions: Definitions;
  readonly resources: RunResources;
  readonly config: ReadonlyMap<string, unknown>;
  readonly signal: AbortSignal;
  /** Values materialized earlier in this run, by `valueKey(asset, partition)`. */
  readonly values: Map<string, unknown>;
  /** The partitions this run covers (undefined: an unpartitioned run). */
  readonly partitions: RunPartitions | undefined;
  /** Key spaces of every partitions definition, resolved once for the run. */
  readonly keySpaces: KeySpaces;
  readonly capture: ConsoleCapture;
  /** The stored data versions of an asset's partitions (key "" when unpartitioned), for input versions. */
  readonly readDataVersions?: ReadDataVersions | undefined;
  emit(event: RunEventBody): void;
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  random(): number;
}

export interface StepOutcome {
  readonly status: StepStatus;
  /** For failed blocking checks: true (downstream skip reason names the check). */
  readonly checkFailed?: boolean;
}

export class RunCanceledError extends BatonError {
  constructor() {
    super("RUN_CANCELED", "The run was canceled");
  }
}

export function stepLogger(env: StepEnvironment, stepKey: string | undefined): Logger {
  const log = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) =>
    env.emit({ type: "log", stepKey, level, message: String(message), source: "logger", fields });
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

/** `{ value?, metadata?, dataVersion? }` envelope detection; must match the `StoredValue` type. */
export function unwrapResult(raw: unknown): {
  value: unknown;
  metadata: MetadataInputMap | undefined;
  dataVersion?: unknown;
} {
  if (
    typeof raw === "object" &&
    raw !== null &&
    !Array.isArray(raw) &&
    Object.getPrototypeOf(raw) === Object.prototype
  ) {
    const keys = Object.keys(raw);
    if (keys.length > 0 && keys.every((k) => k === "value" || k === "metadata" || k === "dataVersion")) {
      const envelope = raw as { value?: unknown; metadata?: MetadataInputMap; dataVersion?: unknown };
      return { value: envelope.value, metadata: envelope.metadata, dataVersion: envelope.dataVersion };
    }
  }
  return { value: raw, metadata: undefined };
}

async function resolveResources(
  env: StepEnvironment,
  names: readonly string[],
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const name of names) out[name] = await env.resources.get(name);
  return out;
}

/** Run one planned step to its outcome, with retries; never throws. */
export async function runStep(env: StepEnvironment, step: PlannedStep): Promise<StepOutcome> {
  const started = env.now();
  env.emit({
    type: "step_started",
    stepKey: step.key,
    kind: step.kind,
    assetKeys: step.assetKeys,
    attempt: 1,
  });
  const retryPolicy = step.computation?.retryPolicy;
  const maxRetries = retryPolicy?.maxRetries ?? 0;
  // Assets whose partitions/status a failure or cancel of this step affects (a check: none).
  const materializing = step.check ? [] : step.assetKeys;
  for (let attempt = 1; ; attempt++) {
    try {
      const outcome = await env.capture.run(
        (line) => env.emit({ type: "log", stepKey: step.key, ...line }),
        () => (step.check ? runCheck(env, step, attempt) : runComputation(env, step, attempt)),
      );
      if (outcome.status === "failed") return outcome;
      env.emit({ type: "step_succeeded", stepKey: step.key, durationMs: env.now() - started });
      return outcome;
    } catch (error) {
      if (env.signal.aborted) {
        env.emit({
          type: "step_canceled",
          stepKey: step.key,
          assetKeys: materializing,
          reason: "the run was canceled while this step ran",
        });
        return { status: "canceled" };
      }
      const serialized = serializeError(error);
      if (attempt <= maxRetries && retryPolicy) {
        const delayMs = retryDelayMs(retryPolicy, attempt, env.random);
        env.emit({
          type: "step_retrying",
          stepKey: step.key,
          attempt: attempt + 1,
          delayMs,
          error: serialized,
        });
        try {
          await env.sleep(delayMs, env.signal);
        } catch {
          env.emit({
            type: "step_canceled",
            stepKey: step.key,
            assetKeys: materializing,
            reason: "the run was canceled while waiting to retry",
          });
          return { status: "canceled" };
        }
        continue;
      }
      env.emit({
        type: "step_failed",
        stepKey: step.key,
        assetKeys: materializing,
        durationMs: env.now() - started,
        attempt,
        error: serialized,
      });
      return { status: "failed" };
    }
  }
}

async function loadInputs(env: StepEnvironment, step: PlannedStep): Promise<Record<string, unknown>> {
  const inputs: Record<string, unknown> = {};
  for (const [name, upstreamKey] of Object.entries(step.computation!.ins)) {
    inputs[name] = await loadUpstream(env, step, upstreamKey);
  }
  return inputs;
}

async function runComputation(
  env: StepEnvironment,
  step: PlannedStep,
  attempt: number,
): Promise<StepOutcome> {
  const computation = step.computation!;
  const inputs = await loadInputs(env, step);
  const resources = await resolveResources(env, computation.resources);
  const extraMetadata: MetadataInputMap[] = [];
  const declaredOps = new Set(computation.ops);
  const usedOps = new Set<string>();
  const log = stepLogger(env, step.key);
  const base = {
    runId: env.runId,
    stepKey: step.key,
    log,
    resources,
    config: env.config.get(step.key),
    signal: env.signal,
    attempt,
  };
  const partitionFields = partitionFieldDescriptors(computation.partitions ? env.partitions : undefined);
  const ctx = {
    ...base,
    assetKey: step.assetKeys[0]!,
    selectedAssetKeys: new Set(step.assetKeys),
    selectedOutputs: new Set(step.outputNames),
    addMetadata: (metadata: MetadataInputMap) => {
      extraMetadata.push(metadata);
    },
    op: async <T>(name: string, fn: (ctx: OpContext<unknown, string>) => Promise<T> | T): Promise<T> => {
      if (declaredOps.size > 0 && !declaredOps.has(name))
        throw new BatonError(
          "USER_CODE_ERROR",
          `op "${name}" is not declared in ${step.key}'s ops (${[...declaredOps].join(", ")})`,
        );
      if (usedOps.has(name)) throw new BatonError("USER_CODE_ERROR", `op "${name}" ran twice in ${step.key}`);
      usedOps.add(name);
      const opStarted = env.now();
      env.emit({ type: "op_started", stepKey: step.key, op: name });
      try {
        const opCtx = { ...base, opName: name } as OpContext<unknown, string>;
        Object.defineProperties(opCtx, partitionFields);
        const value = await fn(opCtx);
        env.emit({ type: "op_succeeded", stepKey: step.key, op: name, durationMs: env.now() - opStarted });
        return value;
      } catch (error) {
        const wrapped = new UserCodeError(`${step.key} op ${name}`, "op", error);
        env.emit({
          type: "op_failed",
          stepKey: step.key,
          op: name,
          durationMs: env.now() - opStarted,
          error: serializeError(wrapped),
        });
        throw wrapped;
      }
    },
  } as unknown as EngineComputeContext;
  Object.defineProperties(ctx, partitionFields);

  let raw: Record<string, unknown>;
  try {
    if (env.signal.aborted) throw new RunCanceledError();
    raw = await computation.execute(ctx, inputs);
  } catch (error) {
    if (error instanceof UserCodeError) throw error;
    throw new UserCodeError(step.key, computation.kind === "multi" ? "multi-asset" : "asset", error);
  }

  const outputs = computation.specs
    .map((spec, i) => ({ spec, name: computation.outputNames[i]! }))
    .filter(({ spec }) => step.assetKeys.includes(spec.key));
  for (const { spec, name } of outputs) {
    const { value, metadata, dataVersion } = unwrapResult(raw[name]);
    const merged = Object.assign({}, ...(outputs.length === 1 ? extraMetadata : []), metadata);
    await storeOutput(env, step, spec, value, merged, dataVersion);
  }
  return { status: "succeeded" };
}

async function runCheck(env: StepEnvironment, step: PlannedStep, attempt: number): Promise<StepOutcome> {
  const check = step.check!;
  const value = await loadUpstream(env, step, check.assetKey);
  const ctx = {
    runId: env.runId,
    stepKey: step.key,
    assetKey: check.assetKey,
    checkName: check.name,
    materializationMetadata: materializationMetadataInRun(env, check.assetKey),
    log: stepLogger(env, step.key),
    resources: await resolveResources(env, check.resources),
    config: env.config.get(step.key),
    signal: env.signal,
    attempt,
  } as unknown as CheckContext<unknown, string>;
  Object.defineProperties(ctx, partitionFieldDescriptors(env.partitions));
  let result: Awaited<ReturnType<typeof check.execute>>;
  try {
    result = await check.execute(ctx, value);
  } catch (error) {
    throw new UserCodeError(step.key, "check", error);
  }
  if (typeof result !== "object" || result === null || typeof result.passed !== "boolean") {
    throw new UserCodeError(
      step.key,
      "check",
      new TypeError(`a check must return { passed: boolean, metadata? }, got ${JSON.stringify(result)}`),
    );
  }
  const severity = result.severity ?? check.severity;
  env.emit({
    type: "check_evaluation",
    stepKey: step.key,
    assetKey: check.assetKey,
    checkName: check.name,
    partition: env.partitions?.keys.length === 1 ? env.partitions.keys[0] : undefined,
    passed: result.passed,
    blocking: check.blocking,
    severity,
    metadata: normalizeMetadata(result.metadata),
    description: result.description,
  });
  if (!result.passed && check.blocking) {
    env.emit({
      type: "step_failed",
      stepKey: step.key,
      assetKeys: [],
      durationMs: 0,
      attempt,
      error: {
        name: "BlockingCheckFailed",
        message: `blocking check "${check.key}" failed (severity ${severity})`,
      },
    });
    return { status: "failed", checkFailed: true };
  }
  return { status: "succeeded" };
}
