import type { MetadataInputMap } from "./metadata.js";
import type {
  MultiPartitionsDefinition,
  StaticPartitionsDefinition,
  TimeWindow,
  TimeWindowPartitionsDefinition,
} from "./partitions/partitions.js";

export type LogLevel = "debug" | "info" | "warn" | "error";

/** Structured logger handed to bodies; every line becomes a `log` event of the step. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Types of named resources, for `ctx.resources`. Augment it once in your project to type them:
 * `declare module "@baton/core" { interface ResourceTypes { warehouse: MyWarehouse } }`.
 * Resources not listed here are `unknown` in bodies.
 */
// biome-ignore lint/suspicious/noEmptyInterface: augmented by users
export interface ResourceTypes {}

export type ResourcesOf<R extends string> = {
  readonly [K in R]: K extends keyof ResourceTypes ? ResourceTypes[K] : unknown;
};

/** What every body (asset, op, check) receives. */
export interface BaseContext<Cfg, R extends string> {
  readonly runId: string;
  /** The step this body runs in (asset key, multi-asset name or check key). */
  readonly stepKey: string;
  readonly log: Logger;
  readonly resources: ResourcesOf<R>;
  /** Run config for this step, parsed by the definition's zod schema. */
  readonly config: Cfg;
  /** Aborted when the run is canceled: pass it to fetch, child processes, long loops. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
}

type DimensionKey<D> = D extends StaticPartitionsDefinition<infer K> ? K : string;

/** Partition fields of a context, typed from the asset's partitions definition `P`. */
export interface PartitionFields<P> {
  /**
   * The partition this run materializes. In a run over several partitions (a single-run
   * backfill) reading it throws: use `partitionKeys`. Undefined for unpartitioned assets.
   */
  readonly partitionKey: [P] extends [undefined] ? undefined : string;
  /** Every partition of the run, in order (one for a normal partitioned run; empty if unpartitioned). */
  readonly partitionKeys: readonly string[];
  /** The run's time window (union of its partitions'), for time-window partitions or a time dimension. */
  readonly partitionTimeWindow: P extends TimeWindowPartitionsDefinition<any>
    ? TimeWindow
    : TimeWindow | undefined;
  /** Per-dimension keys of a multi-partition key, e.g. `{ month: "2019-01", taxi: "yellow" }`. */
  readonly partitionDimensions: P extends MultiPartitionsDefinition<infer D>
    ? { readonly [K in keyof D]: DimensionKey<D[K]> }
    : undefined;
}

export interface AssetContext<Cfg = unknown, R extends string = never, P = undefined>
  extends BaseContext<Cfg, R>,
    PartitionFields<P> {
  readonly assetKey: string;
  /** Attach metadata to this materialization (merged with returned metadata). */
  addMetadata(metadata: MetadataInputMap): void;
}
