import { type AssetKeyInput, normalizeAssetKey } from "./asset-key.js";

/** Phantom marker carrying an asset's stored value type at the type level only. */
declare const valueType: unique symbol;

/** Anything that names an asset and, at the type level, the value it stores. */
export interface AssetRef<V = unknown> {
  readonly key: string;
  readonly [valueType]: V;
}

/** What `deps` accepts: an asset object, or a key as a string or segments. */
export type AssetDepInput = string | readonly string[] | { readonly key: string };

export function depKey(dep: AssetDepInput): string {
  if (typeof dep === "string" || Array.isArray(dep)) return normalizeAssetKey(dep as AssetKeyInput);
  return (dep as { key: string }).key;
}

/**
 * Name an upstream asset by key, with the value type you expect, for `ins` when the asset
 * object is not importable (defined later or elsewhere): `ins: { trips: input<Trip[]>("taxi/trips") }`.
 */
export function input<V>(key: AssetKeyInput): AssetRef<V> {
  return { key: normalizeAssetKey(key) } as AssetRef<V>;
}

export type InsShape = Readonly<Record<string, AssetRef<any>>>;

/** The values a body receives for its `ins`, typed from each upstream's stored value. */
export type InputsOf<Ins extends InsShape> = {
  readonly [K in keyof Ins]: Ins[K] extends AssetRef<infer V> ? V : never;
};

/**
 * A body may return the value itself, or an envelope `{ value?, metadata? }` (an object whose
 * only keys are `value` and/or `metadata`). This computes the stored value type either way.
 */
export type StoredValue<Out> = Out extends readonly unknown[]
  ? Out
  : Out extends object
    ? [keyof Out] extends [never]
      ? Out
      : [Exclude<keyof Out, "value" | "metadata">] extends [never]
        ? "value" extends keyof Out
          ? Out["value"]
          : undefined
        : Out
    : Out;
