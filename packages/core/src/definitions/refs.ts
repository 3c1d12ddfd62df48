import { type AssetKeyInput, normalizeAssetKey } from "./asset-key.js";
import type { PartitionMapping } from "./partitions/mappings.js";
import type {
  MultiPartitionsDefinition,
  PartitionsDefinition,
  TimeWindowPartitionsDefinition,
} from "./partitions/partitions.js";

/** Phantom markers carrying types at the type level only. */
declare const valueType: unique symbol;
declare const partitionsType: unique symbol;
/**
 * A value type can say what downstream assets receive once it is stored, e.g. a DuckDB
 * `sql\`…\`` query loads as a table handle: `interface SqlQuery { readonly [loadedAs]?: DuckDBTable }`.
 */
export declare const loadedAs: unique symbol;
export interface LoadsAs<T> {
  readonly [loadedAs]?: T;
}

/**
 * Anything that names an asset and, at the type level, the value it stores (`V`) and its
 * partitions definition (`P`, `undefined` when unpartitioned).
 */
export interface AssetRef<V = unknown, P = undefined> {
  readonly key: string;
  readonly [valueType]: V;
  readonly [partitionsType]: P;
}

/** An upstream read through an explicit partition mapping: `mapped(hourly, timeWindowMapping())`. */
export interface MappedRef<V = unknown, Card extends "one" | "many" = "one" | "many"> {
  readonly key: string;
  readonly mapping: PartitionMapping<Card>;
  readonly [valueType]: V;
}

/** What `deps` accepts: an asset object, a mapped ref, or a key as a string or segments. */
export type AssetDepInput =
  | string
  | readonly string[]
  | { readonly key: string; readonly mapping?: PartitionMapping };

export function depKey(dep: AssetDepInput): string {
  if (typeof dep === "string" || Array.isArray(dep)) return normalizeAssetKey(dep as AssetKeyInput);
  return (dep as { key: string }).key;
}

export function depMapping(dep: AssetDepInput): PartitionMapping | undefined {
  return typeof dep === "object" && !Array.isArray(dep)
    ? (dep as { mapping?: PartitionMapping }).mapping
    : undefined;
}

/**
 * Name an upstream asset by key, with the value type you expect, for `ins` when the asset
 * object is not importable (defined later or elsewhere): `ins: { trips: input<Trip[]>("taxi/trips") }`.
 * Pass its partitions definition type as `P` when it is partitioned.
 */
export function input<V, P = undefined>(key: AssetKeyInput): AssetRef<V, P> {
  return { key: normalizeAssetKey(key) } as AssetRef<V, P>;
}

/** Read `upstream` through `mapping` (in `ins` or `deps`). */
export function mapped<V, Card extends "one" | "many">(
  upstream: AssetRef<V, any>,
  mapping: PartitionMapping<Card>,
): MappedRef<V, Card> {
  return { key: upstream.key, mapping } as MappedRef<V, Card>;
}

export type InsShape = Readonly<Record<string, AssetRef<any, any> | MappedRef<any, any>>>;

type Grain<P> =
  P extends TimeWindowPartitionsDefinition<infer U> ? U : P extends { kind: infer K } ? K : never;

/**
 * Whether the default mapping between a downstream and an upstream partitions definition gives
 * one upstream partition per downstream partition (mirrors `defaultMapping` at run time).
 */
type DefaultIsOne<DownP, UpP> = [UpP] extends [undefined]
  ? true
  : [DownP] extends [undefined]
    ? false
    : UpP extends MultiPartitionsDefinition<any>
      ? DownP extends MultiPartitionsDefinition<any>
        ? true
        : false
      : DownP extends MultiPartitionsDefinition<any>
        ? true
        : [Grain<DownP>] extends [Grain<UpP>]
          ? [Grain<UpP>] extends [Grain<DownP>]
            ? true
            : false
          : false;

type InputValue<R, DownP> =
  R extends MappedRef<infer V, infer Card>
    ? Card extends "many"
      ? Readonly<Record<string, V>>
      : V
    : R extends AssetRef<infer V, infer UpP>
      ? DefaultIsOne<DownP, UpP> extends true
        ? V
        : Readonly<Record<string, V>>
      : never;

/**
 * The values a body receives for its `ins`, typed from each upstream's stored value. When one
 * downstream partition reads several upstream partitions (hourly → daily, partitioned →
 * unpartitioned, `mapped(x, allPartitionsMapping())`), the value is keyed by upstream partition.
 */
export type InputsOf<Ins extends InsShape, DownP = undefined> = {
  readonly [K in keyof Ins]: InputValue<Ins[K], DownP>;
};

export type { PartitionsDefinition };

/**
 * A body may return the value itself, or an envelope `{ value?, metadata?, dataVersion? }` (an
 * object whose only keys are among those). This computes the stored value type either way.
 */
export type StoredValue<Out> =
  Out extends LoadsAs<infer L>
    ? [L] extends [undefined]
      ? StoredValueShape<Out>
      : Exclude<L, undefined>
    : StoredValueShape<Out>;

type StoredValueShape<Out> = Out extends readonly unknown[]
  ? Out
  : Out extends object
    ? [keyof Out] extends [never]
      ? Out
      : [Exclude<keyof Out, "value" | "metadata" | "dataVersion">] extends [never]
        ? "value" extends keyof Out
          ? StoredValue<Out["value"]>
          : undefined
        : Out
    : Out;
