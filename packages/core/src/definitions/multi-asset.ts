import type { ZodType } from "zod";
import {
  type AssetSpecOptions,
  buildSpec,
  COMPUTATION_BRAND,
  type Computation,
  type ComputeOptions,
  type ConfigOf,
  collectMappings,
  type EngineComputeContext,
  insToKeys,
} from "./asset.js";
import type { AssetContext } from "./context.js";
import { DEFAULT_IO_MANAGER } from "./io-manager.js";
import type { PartitionsDefinition } from "./partitions/partitions.js";
import type { AssetDepInput, AssetRef, InputsOf, InsShape, StoredValue } from "./refs.js";

export type MultiOutSpec = AssetSpecOptions;

export interface MultiAssetContext<Cfg, R extends string, Name extends string, P = undefined>
  extends AssetContext<Cfg, R, P> {
  /** The outputs selected in this run: return (at least) these. */
  readonly selectedOutputs: ReadonlySet<Name>;
  readonly selectedAssetKeys: ReadonlySet<string>;
}

export interface MultiAssetOptions<
  Outs extends Readonly<Record<string, MultiOutSpec>>,
  Ins extends InsShape,
  C extends ZodType | undefined,
  R extends string,
  P extends PartitionsDefinition | undefined = PartitionsDefinition | undefined,
> extends ComputeOptions<Ins, C, R, P> {
  /** Step name of the multi-asset (must not clash with an asset key). */
  readonly name: string;
  /** One entry per produced asset: output name → its spec (key, deps, group …). */
  readonly outs: Outs;
  /** Ordering-only deps shared by every output. */
  readonly deps?: readonly AssetDepInput[];
  /** Group applied to outs that set none. */
  readonly group?: string;
  /** Allow runs that select only some outputs (the body is told which via `selectedOutputs`). */
  readonly canSubset?: boolean;
}

export type MultiAssetDefinition<Values extends Record<string, unknown>, P = undefined> = Computation & {
  /** Refs to each produced asset, for other assets' `ins`/`deps` and for checks. */
  readonly outs: { readonly [K in keyof Values]: AssetRef<Values[K], P> };
};

/**
 * One body producing several assets. Return an object keyed by output name; each value may be
 * the value itself or a `{ value, metadata }` envelope.
 */
export function multiAsset<
  const Outs extends Readonly<Record<string, MultiOutSpec>>,
  const Ins extends InsShape = {},
  C extends ZodType | undefined = undefined,
  const R extends string = never,
  Ret extends { readonly [K in keyof Outs]?: unknown } = { readonly [K in keyof Outs]?: unknown },
  const P extends PartitionsDefinition | undefined = undefined,
>(
  options: MultiAssetOptions<Outs, Ins, C, R, P>,
  body: (
    ctx: MultiAssetContext<ConfigOf<C>, R, Extract<keyof Outs, string>, P>,
    inputs: InputsOf<Ins, P>,
  ) => Promise<Ret> | Ret,
): MultiAssetDefinition<{ [K in keyof Outs]: StoredValue<Exclude<Ret[K], undefined>> }, P> {
  const outputNames = Object.keys(options.outs);
  const specs = outputNames.map((name) => {
    const out = options.outs[name]!;
    return buildSpec({ ...out, group: out.group ?? options.group }, options.deps ?? []);
  });
  const outs: Record<string, { key: string }> = {};
  outputNames.forEach((name, i) => {
    outs[name] = { key: specs[i]!.key };
  });
  const computation: Computation & { outs: Record<string, { key: string }> } = {
    [COMPUTATION_BRAND]: true,
    kind: "multi",
    name: options.name,
    specs,
    outputNames,
    outs,
    ins: insToKeys(options.ins),
    mappings: collectMappings(options.ins, [
      ...(options.deps ?? []),
      ...Object.values(options.outs).flatMap((o) => o.deps ?? []),
    ]),
    partitions: options.partitions,
    backfillPolicy: options.backfillPolicy,
    resources: [...new Set(options.resources ?? [])],
    config: options.config,
    retryPolicy: options.retryPolicy,
    ioManager: options.ioManager ?? DEFAULT_IO_MANAGER,
    canSubset: options.canSubset ?? false,
    ops: [],
    async execute(ctx: EngineComputeContext, inputs) {
      const result = await body(
        ctx as unknown as MultiAssetContext<ConfigOf<C>, R, Extract<keyof Outs, string>, P>,
        inputs as InputsOf<Ins, P>,
      );
      if (typeof result !== "object" || result === null) {
        throw new TypeError(
          `multi-asset "${options.name}" must return an object keyed by output name (${outputNames.join(", ")}), got ${result === null ? "null" : typeof result}`,
        );
      }
      return { ...(result as Record<string, unknown>) };
    },
  };
  return computation as unknown as MultiAssetDefinition<
    {
      [K in keyof Outs]: StoredValue<Exclude<Ret[K], undefined>>;
    },
    P
  >;
}
