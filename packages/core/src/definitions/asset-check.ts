import type { ZodType } from "zod";
import type { ConfigOf } from "./asset.js";
import type { BaseContext, PartitionFields } from "./context.js";
import type { MetadataInputMap } from "./metadata.js";
import { type AssetDepInput, type AssetRef, depKey } from "./refs.js";

export const CHECK_BRAND = Symbol.for("baton.check");

export type CheckSeverity = "WARN" | "ERROR";

export interface CheckResult {
  readonly passed: boolean;
  readonly metadata?: MetadataInputMap;
  /** Overrides the check's declared severity for this evaluation. */
  readonly severity?: CheckSeverity;
  readonly description?: string;
}

export interface CheckContext<Cfg, R extends string, P = undefined>
  extends BaseContext<Cfg, R>,
    PartitionFields<P> {
  readonly assetKey: string;
  readonly checkName: string;
  /**
   * The metadata the asset's body returned for its materialization in this run (in a run over
   * several partitions, the last one stored); undefined when the asset did not materialize in this run.
   */
  readonly materializationMetadata: Readonly<MetadataInputMap> | undefined;
}

export interface CheckOptions<A, C extends ZodType | undefined, R extends string> {
  /** The asset checked: the asset object (types the value) or its key. */
  readonly asset: A;
  readonly name: string;
  /** A failed blocking check skips everything downstream of its asset in the same run. */
  readonly blocking?: boolean;
  readonly severity?: CheckSeverity;
  readonly description?: string;
  readonly resources?: readonly R[];
  readonly config?: C;
}

export interface CheckDefinition {
  readonly [CHECK_BRAND]: true;
  readonly assetKey: string;
  readonly name: string;
  /** `assetKey:name`, also the check's step key. */
  readonly key: string;
  readonly blocking: boolean;
  readonly severity: CheckSeverity;
  readonly description: string | undefined;
  readonly resources: readonly string[];
  readonly config: ZodType | undefined;
  execute(ctx: CheckContext<unknown, string>, value: unknown): Promise<CheckResult>;
}

type ValueOfRef<A> = A extends AssetRef<infer V, any> ? V : unknown;
type PartitionsOfRef<A> = A extends AssetRef<any, infer P> ? P : undefined;

/**
 * A data-quality check on an asset, run right after the asset in the same run. The body gets
 * the asset's value (typed when `asset` is the asset object) and returns `{ passed, metadata }`.
 */
export function assetCheck<
  A extends AssetRef<any> | AssetDepInput,
  C extends ZodType | undefined = undefined,
  const R extends string = never,
>(
  options: CheckOptions<A, C, R>,
  body: (
    ctx: CheckContext<ConfigOf<C>, R, PartitionsOfRef<A>>,
    value: ValueOfRef<A>,
  ) => Promise<CheckResult> | CheckResult,
): CheckDefinition {
  const assetKey = depKey(options.asset as AssetDepInput);
  return {
    [CHECK_BRAND]: true,
    assetKey,
    name: options.name,
    key: `${assetKey}:${options.name}`,
    blocking: options.blocking ?? false,
    severity: options.severity ?? "ERROR",
    description: options.description,
    resources: [...new Set(options.resources ?? [])],
    config: options.config,
    async execute(ctx, value) {
      return body(ctx as unknown as CheckContext<ConfigOf<C>, R, PartitionsOfRef<A>>, value as ValueOfRef<A>);
    },
  };
}

export function isCheckDefinition(value: unknown): value is CheckDefinition {
  return (
    typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[CHECK_BRAND] === true
  );
}
