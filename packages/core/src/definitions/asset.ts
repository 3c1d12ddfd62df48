import type { output as ZodOutput, ZodType } from "zod";
import { type AssetKeyInput, normalizeAssetKey } from "./asset-key.js";
import type { AutomationCondition } from "./automation-condition.js";
import type { AssetContext, BaseContext, PartitionFields } from "./context.js";
import { DEFAULT_IO_MANAGER } from "./io-manager.js";
import { type MetadataInputMap, type MetadataMap, normalizeMetadata } from "./metadata.js";
import type { PartitionMapping } from "./partitions/mappings.js";
import type { PartitionsDefinition } from "./partitions/partitions.js";
import {
  type AssetDepInput,
  type AssetRef,
  depKey,
  depMapping,
  type InputsOf,
  type InsShape,
  type StoredValue,
} from "./refs.js";
import type { RetryPolicy } from "./retry-policy.js";

export const COMPUTATION_BRAND = Symbol.for("baton.computation");

/** The parsed config type a body sees: the schema's output, or `undefined` without a schema. */
export type ConfigOf<C> = C extends ZodType ? ZodOutput<C> : undefined;

/** Descriptive fields shared by every asset (the node in the lineage graph). */
export interface AssetSpecOptions {
  readonly key: AssetKeyInput;
  readonly description?: string;
  /** Group shown in the UI and selectable with `group:NAME`; "default" when unset. */
  readonly group?: string;
  readonly owners?: readonly string[];
  readonly tags?: Readonly<Record<string, string>>;
  /** Technologies (e.g. "duckdb"), selectable with `kind:NAME`. */
  readonly kinds?: readonly string[];
  readonly metadata?: MetadataInputMap;
  /** Bump when the logic changes: downstream then shows as stale. */
  readonly codeVersion?: string;
  /** Upstream assets this one must run after, without receiving their values. */
  readonly deps?: readonly AssetDepInput[];
  /** When this asset counts as overdue (see `baton why`). */
  readonly freshness?: FreshnessPolicy;
  /** Declarative automation evaluated by the daemon: `eager()` or `onCron(cron)`. */
  readonly automation?: AutomationCondition;
}

/**
 * Freshness: overdue when the latest materialization is older than `maxLagMinutes`; with `cron`,
 * data must be at most `maxLagMinutes` old at each cron tick (a deadline). For time-partitioned
 * assets it applies to the latest window: it must be materialized `maxLagMinutes` after it closes.
 */
export interface FreshnessPolicy {
  readonly maxLagMinutes: number;
  readonly cron?: string;
  readonly timezone?: string;
}

/** How a backfill runs this asset: one run per chunk of partitions, or one run for the range. */
export type BackfillPolicy =
  | { readonly kind: "multi_run"; readonly maxPartitionsPerRun: number }
  | { readonly kind: "single_run" };

/** One run covers the whole backfill range; the body gets `ctx.partitionKeys`. */
export function singleRunBackfill(): BackfillPolicy {
  return { kind: "single_run" };
}

/** One run per `maxPartitionsPerRun` partitions (default 1). */
export function multiRunBackfill(options: { maxPartitionsPerRun?: number } = {}): BackfillPolicy {
  const n = options.maxPartitionsPerRun ?? 1;
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`multiRunBackfill: maxPartitionsPerRun must be a whole number >= 1 (got ${n})`);
  return { kind: "multi_run", maxPartitionsPerRun: n };
}

/** Options of everything that computes: assets, graph assets, multi-assets. */
export interface ComputeOptions<
  Ins extends InsShape,
  C extends ZodType | undefined,
  R extends string,
  P extends PartitionsDefinition | undefined = PartitionsDefinition | undefined,
> {
  /** How the asset is split into independently materialized partitions. */
  readonly partitions?: P;
  /** How backfills run it (default: one run per partition). */
  readonly backfillPolicy?: BackfillPolicy;
  /** Upstream assets whose stored values the body receives, by name. */
  readonly ins?: Ins;
  /** Names of resources (from `defineDefinitions({ resources })`) the body uses. */
  readonly resources?: readonly R[];
  /** A zod schema for run config; validated before the run starts. */
  readonly config?: C;
  readonly retryPolicy?: RetryPolicy;
  /** Resource name of the IO manager storing this asset's value (default "io_manager"). */
  readonly ioManager?: string;
}

export type AssetOptions<
  Ins extends InsShape,
  C extends ZodType | undefined,
  R extends string,
  P extends PartitionsDefinition | undefined = PartitionsDefinition | undefined,
> = AssetSpecOptions & ComputeOptions<Ins, C, R, P>;

/** One node of the asset graph, as declared (keys normalized, defaults applied). */
export interface AssetSpec {
  readonly key: string;
  readonly description: string | undefined;
  readonly group: string;
  readonly owners: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
  readonly kinds: readonly string[];
  readonly metadata: MetadataMap;
  readonly codeVersion: string | undefined;
  /** Ordering-only upstream keys of this asset. */
  readonly deps: readonly string[];
  readonly freshness: FreshnessPolicy | undefined;
  readonly automation: AutomationCondition | undefined;
}

/** The context the engine builds for a computation; bodies see the typed views of it. */
export interface EngineComputeContext
  extends AssetContext<unknown, string, PartitionsDefinition | undefined> {
  /** Keys of this computation's assets selected in the run. */
  readonly selectedAssetKeys: ReadonlySet<string>;
  /** Output names selected in the run (multi-assets). */
  readonly selectedOutputs: ReadonlySet<string>;
  /** Runs a named op as its own traced unit (graph assets). */
  op<T>(name: string, fn: (ctx: OpContext<unknown, string>) => Promise<T> | T): Promise<T>;
}

export interface OpContext<Cfg, R extends string, P = undefined>
  extends BaseContext<Cfg, R>,
    PartitionFields<P> {
  readonly opName: string;
}

/**
 * A unit of execution: one step in a run producing one or more assets. Assets, graph assets
 * and multi-assets are all computations; the engine only knows this shape.
 */
export interface Computation {
  readonly [COMPUTATION_BRAND]: true;
  readonly kind: "asset" | "graph" | "multi";
  /** The step key: the asset key, or the multi-asset's name. */
  readonly name: string;
  readonly specs: readonly AssetSpec[];
  /** Output name of each spec (same order as `specs`). */
  readonly outputNames: readonly string[];
  /** Input name → upstream asset key. */
  readonly ins: Readonly<Record<string, string>>;
  /** Explicit partition mappings, by upstream asset key (from `mapped(...)` in ins or deps). */
  readonly mappings: Readonly<Record<string, PartitionMapping>>;
  readonly partitions: PartitionsDefinition | undefined;
  readonly backfillPolicy: BackfillPolicy | undefined;
  readonly resources: readonly string[];
  readonly config: ZodType | undefined;
  readonly retryPolicy: RetryPolicy | undefined;
  readonly ioManager: string;
  /** Whether a run may materialize only some of its assets. */
  readonly canSubset: boolean;
  /** Declared op names (graph assets). */
  readonly ops: readonly string[];
  /** Returns raw results by output name (each may be a value or a `{ value, metadata }` envelope). */
  execute(
    ctx: EngineComputeContext,
    inputs: Readonly<Record<string, unknown>>,
  ): Promise<Record<string, unknown>>;
}

export const SINGLE_OUTPUT = "result";

/** A single asset; `V` is the value it stores (what downstream `ins` receive), `P` its partitions. */
export type AssetDefinition<V, P = undefined> = Computation & AssetRef<V, P> & { readonly spec: AssetSpec };

export function isComputation(value: unknown): value is Computation {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<symbol, unknown>)[COMPUTATION_BRAND] === true
  );
}

export function buildSpec(options: AssetSpecOptions, extraDeps: readonly AssetDepInput[] = []): AssetSpec {
  return {
    key: normalizeAssetKey(options.key),
    description: options.description,
    group: options.group ?? "default",
    owners: [...(options.owners ?? [])],
    tags: { ...(options.tags ?? {}) },
    kinds: [...(options.kinds ?? [])],
    metadata: normalizeMetadata(options.metadata),
    codeVersion: options.codeVersion,
    deps: [...new Set([...(options.deps ?? []), ...extraDeps].map(depKey))],
    freshness: options.freshness,
    automation: options.automation,
  };
}

/** Explicit mappings from `mapped(...)` entries in ins and deps, by upstream key. */
export function collectMappings(
  ins: InsShape | undefined,
  deps: readonly AssetDepInput[] = [],
): Record<string, PartitionMapping> {
  const out: Record<string, PartitionMapping> = {};
  for (const ref of [...Object.values(ins ?? {}), ...deps]) {
    const mapping = depMapping(ref as AssetDepInput);
    if (mapping) out[depKey(ref as AssetDepInput)] = mapping;
  }
  return out;
}

export function insToKeys(ins: InsShape | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, ref] of Object.entries(ins ?? {})) out[name] = ref.key;
  return out;
}

function singleComputation(
  kind: "asset" | "graph",
  options: AssetOptions<InsShape, ZodType | undefined, string, PartitionsDefinition | undefined> & {
    ops?: readonly string[];
  },
  run: (ctx: EngineComputeContext, inputs: Readonly<Record<string, unknown>>) => unknown,
): Computation & { readonly key: string; readonly spec: AssetSpec } {
  const spec = buildSpec(options);
  return {
    [COMPUTATION_BRAND]: true,
    kind,
    name: spec.key,
    key: spec.key,
    spec,
    specs: [spec],
    outputNames: [SINGLE_OUTPUT],
    ins: insToKeys(options.ins),
    mappings: collectMappings(options.ins, options.deps),
    partitions: options.partitions,
    backfillPolicy: options.backfillPolicy,
    resources: [...new Set(options.resources ?? [])],
    config: options.config,
    retryPolicy: options.retryPolicy,
    ioManager: options.ioManager ?? DEFAULT_IO_MANAGER,
    canSubset: false,
    ops: [...(options.ops ?? [])],
    async execute(ctx, inputs) {
      return { [SINGLE_OUTPUT]: await run(ctx, inputs) };
    },
  };
}

/**
 * Declare an asset: options, then the body. The body receives the context and the values of
 * its `ins`, typed from the upstream assets; what it returns is stored by the IO manager.
 *
 * ```ts
 * const trips = asset({ key: "taxi/trips" }, async () => [{ fare: 12.5 }]);
 * const revenue = asset({ key: "taxi/revenue", ins: { trips } }, async (ctx, { trips }) =>
 *   trips.reduce((sum, t) => sum + t.fare, 0));
 * ```
 */
export function asset<
  const Ins extends InsShape = {},
  C extends ZodType | undefined = undefined,
  const R extends string = never,
  Out = unknown,
  const P extends PartitionsDefinition | undefined = undefined,
>(
  options: AssetOptions<Ins, C, R, P>,
  body: (ctx: AssetContext<ConfigOf<C>, R, P>, inputs: InputsOf<Ins, P>) => Promise<Out> | Out,
): AssetDefinition<StoredValue<Awaited<Out>>, P> {
  return singleComputation("asset", options, (ctx, inputs) =>
    body(ctx as unknown as AssetContext<ConfigOf<C>, R, P>, inputs as InputsOf<Ins, P>),
  ) as AssetDefinition<StoredValue<Awaited<Out>>, P>;
}

/** The context of a graph asset's body: an asset context that can run named ops. */
export interface GraphAssetContext<Cfg, R extends string, Op extends string, P = undefined>
  extends AssetContext<Cfg, R, P> {
  /** Run op `name` (declared in `ops`) as its own traced unit; values pass in memory. */
  op<T>(name: Op, fn: (ctx: OpContext<Cfg, R, P>) => Promise<T> | T): Promise<T>;
}

/**
 * One asset whose body is composed of named ops, each recorded as its own unit in the run's
 * events and timeline. Declare the op names up front (`ops: ["download", "parse"]`).
 */
export function graphAsset<
  const Ops extends readonly string[],
  const Ins extends InsShape = {},
  C extends ZodType | undefined = undefined,
  const R extends string = never,
  Out = unknown,
  const P extends PartitionsDefinition | undefined = undefined,
>(
  options: AssetOptions<Ins, C, R, P> & { readonly ops: Ops },
  body: (
    g: GraphAssetContext<ConfigOf<C>, R, Ops[number], P>,
    inputs: InputsOf<Ins, P>,
  ) => Promise<Out> | Out,
): AssetDefinition<StoredValue<Awaited<Out>>, P> {
  return singleComputation("graph", options, (ctx, inputs) =>
    body(ctx as unknown as GraphAssetContext<ConfigOf<C>, R, Ops[number], P>, inputs as InputsOf<Ins, P>),
  ) as AssetDefinition<StoredValue<Awaited<Out>>, P>;
}
