import { type MetadataInputMap, normalizeMetadata } from "../definitions/metadata.js";
import { BatonError, UserCodeError } from "../errors.js";
import type { InputDataVersions } from "./events.js";
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

/**
 * Upstream partitions whose data versions one materialization records per input (more: unknown,
 * so compared by materialization order; staleness checks as many per edge). A step over several
 * partitions reads up to `MAX_READ_INPUT_VERSIONS` and records each partition's own share.
 */
export const MAX_RECORDED_INPUT_VERSIONS = 1000;
const MAX_READ_INPUT_VERSIONS = 10_000;

/** Per run: the data versions materialized in it so far (null: unknown), and what each step read. */
interface RunDataVersions {
  readonly emitted: Map<string, string | null>;
  readonly inputs: Map<string, Record<string, string | Record<string, string>>>;
}
const runDataVersions = new WeakMap<StepEnvironment, RunDataVersions>();
const runMaterializationMetadata = new WeakMap<StepEnvironment, Map<string, MetadataInputMap>>();

/**
 * The metadata (as the body returned it, before normalizing) of `assetKey`'s latest materialization
 * in this run, undefined when the asset did not materialize in this run. Checks read it (pipes checks).
 */
export function materializationMetadataInRun(
  env: StepEnvironment,
  assetKey: string,
): MetadataInputMap | undefined {
  return runMaterializationMetadata.get(env)?.get(assetKey);
}

function dataVersionsOf(env: StepEnvironment): RunDataVersions {
  let state = runDataVersions.get(env);
  if (!state) {
    state = { emitted: new Map(), inputs: new Map() };
    runDataVersions.set(env, state);
  }
  return state;
}

/**
 * Record the data versions of the upstream values `step` is about to read: materialized earlier in
 * this run (known here, maybe not stored yet), else the store's current ones. Read before the
 * values: an upstream re-materialized in between then looks changed (a needless re-run), never
 * unchanged (a missed one).
 */
async function recordInputVersions(
  env: StepEnvironment,
  step: PlannedStep,
  assetKey: string,
  partitionKeys: readonly string[] | undefined,
): Promise<void> {
  if (step.check) return;
  const state = dataVersionsOf(env);
  const known = new Map<string, string>();
  const toRead: string[] = [];
  const wanted = partitionKeys?.slice(0, MAX_READ_INPUT_VERSIONS) ?? [undefined];
  for (const key of wanted) {
    const k = valueKey(assetKey, key);
    if (state.emitted.has(k)) {
      const v = state.emitted.get(k);
      if (v) known.set(key ?? "", v);
    } else toRead.push(key ?? "");
  }
  if (toRead.length > 0 && env.readDataVersions) {
    try {
      const stored = await env.readDataVersions(assetKey, partitionKeys === undefined ? undefined : toRead);
      for (const key of toRead) {
        const v = stored.get(key);
        if (v) known.set(key, v);
      }
    } catch {
      // Unknown versions: staleness falls back to materialization order for this input.
    }
  }
  let inputs = state.inputs.get(step.key);
  if (!inputs) {
    inputs = {};
    state.inputs.set(step.key, inputs);
  }
  if (partitionKeys === undefined) {
    const v = known.get("");
    if (v) inputs[assetKey] = v;
    else delete inputs[assetKey];
  } else if (known.size > 0) inputs[assetKey] = Object.fromEntries(known);
  else delete inputs[assetKey];
}

/** The value of upstream `assetKey` as seen by `step` (a computation or a check). */
export async function loadUpstream(
  env: StepEnvironment,
  step: PlannedStep,
  assetKey: string,
): Promise<unknown> {
  const defs = env.definitions;
  const upstream = defs.computationOf(assetKey);
  if (!upstream.partitions) {
    await recordInputVersions(env, step, assetKey, undefined);
    return loadOne(env, assetKey, undefined, step.key);
  }
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
    const key = upSpace.keyAt(indices[0]!);
    await recordInputVersions(env, step, assetKey, [key]);
    return loadOne(env, assetKey, key, step.key);
  }
  const keys = indices.map((i) => upSpace.keyAt(i));
  await recordInputVersions(env, step, assetKey, keys);
  return loadMany(env, assetKey, keys, step.key);
}

async function loadMany(env: StepEnvironment, assetKey: string, keys: readonly string[], forStep: string) {
  const out: Record<string, unknown> = {};
  for (const key of keys) out[key] = await loadOne(env, assetKey, key, forStep);
  return out;
}

/**
 * Store one output of a computation step and emit its materialization event(s): one per
 * partition of the run. A run over several partitions must return nothing or an object keyed by
 * partition key. Each event carries the data version (the body's `dataVersion`, else the IO
 * manager's) and the input versions the step read.
 */
export async function storeOutput(
  env: StepEnvironment,
  step: PlannedStep,
  spec: { key: string; codeVersion: string | undefined },
  value: unknown,
  metadata: MetadataInputMap,
  dataVersion?: unknown,
): Promise<void> {
  const computation = step.computation!;
  const userVersion = checkDataVersion(
    step,
    spec.key,
    dataVersion,
    computation.partitions ? env.partitions?.keys : undefined,
  );
  const state = dataVersionsOf(env);
  const inputs = state.inputs.get(step.key) ?? {};
  const io = await env.resources.ioManager(computation.ioManager);
  const log = stepLogger(env, step.key);
  const run = computation.partitions ? env.partitions : undefined;
  /** The versions one materialization read: in a run over several partitions, its own upstream partitions. */
  const inputsOf = (index: number | undefined): InputDataVersions | undefined => {
    const out: Record<string, string | Record<string, string>> = {};
    for (const [up, read] of Object.entries(inputs)) {
      if (typeof read === "string") {
        out[up] = read;
        continue;
      }
      let keys = Object.keys(read);
      const upDef = env.definitions.computationOf(up).partitions;
      const mapping = env.definitions.mappingFor(computation.name, up);
      if (run && run.keys.length > 1 && index !== undefined && upDef && mapping) {
        const upSpace = env.keySpaces.of(upDef);
        keys = mappedUpstreamIndices(mapping, [index], run.space, upSpace).map((i) => upSpace.keyAt(i));
      }
      const own: Record<string, string> = {};
      for (const k of keys.slice(0, MAX_RECORDED_INPUT_VERSIONS)) if (read[k] !== undefined) own[k] = read[k];
      if (Object.keys(own).length > 0) out[up] = own;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  };
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
  ) => {
    const version =
      (typeof userVersion === "string" ? userVersion : userVersion?.[partitionKey ?? ""]) ??
      (typeof result?.dataVersion === "string" && result.dataVersion !== "" ? result.dataVersion : undefined);
    state.emitted.set(valueKey(spec.key, partitionKey), version ?? null);
    const inputDataVersions = inputsOf(index);
    let byAsset = runMaterializationMetadata.get(env);
    if (!byAsset) {
      byAsset = new Map();
      runMaterializationMetadata.set(env, byAsset);
    }
    byAsset.set(spec.key, { ...metadata, ...(result?.metadata ?? {}) });
    env.emit({
      type: "materialization",
      stepKey: step.key,
      assetKey: spec.key,
      metadata: normalizeMetadata({ ...metadata, ...(result?.metadata ?? {}) }),
      codeVersion: spec.codeVersion,
      partition: partitionKey,
      partitionIndex: index,
      dataVersion: version,
      ...(inputDataVersions ? { inputDataVersions } : {}),
    });
  };

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

/** Longest accepted data version (they are fingerprints, stored per materialization and per input). */
const MAX_DATA_VERSION_LENGTH = 200;

/**
 * A body's `dataVersion`: a string, or for a run over several partitions an object keyed by
 * partition key (partitions left out get the IO manager's version).
 */
function checkDataVersion(
  step: PlannedStep,
  assetKey: string,
  dataVersion: unknown,
  runKeys: readonly string[] | undefined,
): string | Readonly<Record<string, string>> | undefined {
  if (dataVersion === undefined) return undefined;
  const bad = (what: string) =>
    new UserCodeError(step.key, "asset", new TypeError(`"${assetKey}" returned dataVersion ${what}`));
  const checkOne = (v: unknown, where: string) => {
    if (typeof v !== "string" || v === "" || v.length > MAX_DATA_VERSION_LENGTH)
      throw bad(
        `${where}${typeof v === "string" ? (v === "" ? '""' : `of ${v.length} characters`) : `of type ${v === null ? "null" : typeof v}`}; expected a non-empty string of at most ${MAX_DATA_VERSION_LENGTH} characters`,
      );
    return v;
  };
  if (runKeys && runKeys.length > 1) {
    if (typeof dataVersion !== "object" || dataVersion === null || Array.isArray(dataVersion))
      throw bad(
        `${typeof dataVersion === "string" ? "as one string" : `of type ${dataVersion === null ? "null" : typeof dataVersion}`}, but the run covers ${runKeys.length} partitions: return an object keyed by partition key`,
      );
    const out: Record<string, string> = {};
    const known = new Set(runKeys);
    for (const [key, v] of Object.entries(dataVersion)) {
      if (!known.has(key)) throw bad(`for partition "${key}", which this run does not cover`);
      out[key] = checkOne(v, `for partition "${key}" `);
    }
    return out;
  }
  return checkOne(dataVersion, "");
}
