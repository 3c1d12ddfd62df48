import { type MetadataInputMap, normalizeMetadata } from "../definitions/metadata.js";
import { BatonError, UserCodeError } from "../errors.js";
import type { PlannedStep } from "./plan.js";
import { mappedUpstreamIndices, UNPARTITIONED_SPACE, valueKey } from "./run-partitions.js";
import type { StepEnvironment } from "./step-runner.js";
import { stepLogger } from "./step-runner.js";

/**
 * Loading inputs and storing outputs for a step. Partitioned upstreams are read through the
 * edge's partition mapping: one value when one downstream partition reads one upstream
 * partition, else `{ [upstreamPartitionKey]: value }` (the same rule the `ins` types follow).
 */
async function loadOne(
  env: StepEnvironment,
  assetKey: string,
  partitionKey: string | undefined,
  forStep: string,
) {
  const k = valueKey(assetKey, partitionKey);
  if (env.values.has(k)) return env.values.get(k);
  const upstream = env.definitions.computationOf(assetKey);
  const io = await env.resources.ioManager(upstream.ioManager);
  try {
    return await io.loadInput({
      assetKey,
      partitionKey,
      forStep,
      runId: env.runId,
      log: stepLogger(env, forStep),
    });
  } catch (error) {
    const where = partitionKey === undefined ? `"${assetKey}"` : `"${assetKey}" partition "${partitionKey}"`;
    throw new UserCodeError(forStep, `loading input ${where} for`, error);
  }
}

/** The value of upstream `assetKey` as seen by `step` (a computation or a check). */
export async function loadUpstream(
  env: StepEnvironment,
  step: PlannedStep,
  assetKey: string,
): Promise<unknown> {
  const defs = env.definitions;
  const upstream = defs.computationOf(assetKey);
  if (!upstream.partitions) return loadOne(env, assetKey, undefined, step.key);
  const upSpace = env.keySpaces.of(upstream.partitions);
  const run = env.partitions;
  // A check reads its own asset's partitions of this run.
  if (step.check) {
    if (!run)
      throw new BatonError(
        "INVALID_SELECTION",
        `check ${step.key} on a partitioned asset needs a partitioned run`,
      );
    if (run.keys.length === 1) return loadOne(env, assetKey, run.keys[0], step.key);
    return loadMany(env, assetKey, run.keys, step.key);
  }
  const computation = step.computation!;
  const mapping = defs.mappingFor(computation.name, assetKey);
  if (!mapping)
    throw new BatonError("INVALID_DEFINITION", `no partition mapping from "${assetKey}" to ${step.key}`);
  const downDef = computation.partitions;
  const down = downDef && run ? run.space : UNPARTITIONED_SPACE;
  const downIndices = downDef && run ? run.indices : [0];
  const indices = mappedUpstreamIndices(mapping, downIndices, down, upSpace);
  const many = downDef
    ? mapping.cardinalityFor(downDef, upstream.partitions) === "many"
    : mapping.cardinality === "many";
  if (!many && downIndices.length === 1) {
    if (indices.length !== 1) {
      const downKey = downDef ? down.keyAt(downIndices[0]!) : "(unpartitioned)";
      throw new BatonError(
        "USER_CODE_ERROR",
        `${step.key} partition ${downKey} maps to ${indices.length} partitions of "${assetKey}" through ${mapping.description}; expected exactly one`,
      );
    }
    return loadOne(env, assetKey, upSpace.keyAt(indices[0]!), step.key);
  }
  return loadMany(
    env,
    assetKey,
    indices.map((i) => upSpace.keyAt(i)),
    step.key,
  );
}

async function loadMany(env: StepEnvironment, assetKey: string, keys: readonly string[], forStep: string) {
  const out: Record<string, unknown> = {};
  for (const key of keys) out[key] = await loadOne(env, assetKey, key, forStep);
  return out;
}

/**
 * Store one output of a computation step and emit its materialization event(s): one per
 * partition of the run. A run over several partitions must return nothing or an object keyed by
 * partition key.
 */
export async function storeOutput(
  env: StepEnvironment,
  step: PlannedStep,
  spec: { key: string; codeVersion: string | undefined },
  value: unknown,
  metadata: MetadataInputMap,
): Promise<void> {
  const computation = step.computation!;
  const io = await env.resources.ioManager(computation.ioManager);
  const log = stepLogger(env, step.key);
  const run = computation.partitions ? env.partitions : undefined;
  const store = async (partitionKey: string | undefined, v: unknown, skipIo: boolean) => {
    let result: Awaited<ReturnType<typeof io.handleOutput>>;
    if (!skipIo) {
      try {
        result = await io.handleOutput({ assetKey: spec.key, partitionKey, runId: env.runId, log }, v);
      } catch (error) {
        const where =
          partitionKey === undefined ? `"${spec.key}"` : `"${spec.key}" partition "${partitionKey}"`;
        throw new UserCodeError(step.key, `storing output ${where} of`, error);
      }
    }
    if (io.reuseInRun !== false) env.values.set(valueKey(spec.key, partitionKey), v);
    return result;
  };
  const emit = (
    partitionKey: string | undefined,
    index: number | undefined,
    result: { metadata?: MetadataInputMap; dataVersion?: string } | undefined,
  ) =>
    env.emit({
      type: "materialization",
      stepKey: step.key,
      assetKey: spec.key,
      metadata: normalizeMetadata({ ...metadata, ...(result?.metadata ?? {}) }),
      codeVersion: spec.codeVersion,
      partition: partitionKey,
      partitionIndex: index,
      dataVersion: result?.dataVersion,
    });

  if (!run) {
    emit(undefined, undefined, await store(undefined, value, false));
    return;
  }
  if (run.keys.length === 1) {
    emit(run.keys[0], run.indices[0], await store(run.keys[0], value, false));
    return;
  }
  if (value !== undefined) {
    const isRecord = typeof value === "object" && value !== null && !Array.isArray(value);
    const missing = isRecord ? run.keys.filter((k) => !(k in (value as object))) : run.keys;
    if (missing.length > 0)
      throw new UserCodeError(
        step.key,
        "asset",
        new TypeError(
          `"${spec.key}" ran for ${run.keys.length} partitions, so it must return nothing or an object keyed by partition key; ` +
            `missing ${missing
              .slice(0, 3)
              .map((k) => `"${k}"`)
              .join(", ")}${missing.length > 3 ? ` and ${missing.length - 3} more` : ""}`,
        ),
      );
  }
  for (let i = 0; i < run.keys.length; i++) {
    const key = run.keys[i]!;
    const v = value === undefined ? undefined : (value as Record<string, unknown>)[key];
    emit(key, run.indices[i], await store(key, v, value === undefined));
  }
}
