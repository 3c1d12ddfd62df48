/**
 * `pipesCheck`: an asset check whose result is the one the asset's pipes process reported
 * (`{"type":"check","check":"<name>","passed":…}` → metadata `check:<name>` on the materialization).
 */
import type { ZodType } from "zod";
import {
  assetCheck,
  type CheckDefinition,
  type CheckOptions,
  type CheckResult,
} from "../definitions/asset-check.js";
import type { MetadataInputMap } from "../definitions/metadata.js";
import type { AssetDepInput, AssetRef } from "../definitions/refs.js";

/** The metadata key under which `runPipes` records a check the child reported. */
export function pipesCheckMetadataKey(checkName: string): string {
  return `check:${checkName}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export type PipesCheckOptions<A> = Omit<CheckOptions<A, ZodType | undefined, string>, "config" | "resources">;

/**
 * A check of `asset` whose result comes from the asset's pipes process in the same run: passed or
 * failed as reported, with the reported metadata. Not reported (or the asset did not materialize in
 * this run) → failed, "not reported by the pipes process". Blocking and severity as for `assetCheck`.
 */
export function pipesCheck<A extends AssetRef<any> | AssetDepInput>(
  options: PipesCheckOptions<A>,
): CheckDefinition {
  if (typeof options?.name !== "string" || options.name === "")
    throw new Error("pipesCheck: options.name must be a non-empty string");
  const key = pipesCheckMetadataKey(options.name);
  return assetCheck(options, (ctx): CheckResult => {
    const metadata = ctx.materializationMetadata;
    if (metadata === undefined) {
      const description = `check "${options.name}" of "${ctx.assetKey}" was not reported by the pipes process: the asset did not materialize in this run (run the asset with its check)`;
      ctx.log.warn(description);
      return { passed: false, description, metadata: { reason: description } };
    }
    const report: unknown = metadata[key];
    if (report === undefined) {
      const description = `check "${options.name}" of "${ctx.assetKey}" was not reported by the pipes process`;
      ctx.log.warn(description);
      return { passed: false, description, metadata: { reason: description } };
    }
    if (!isRecord(report) || typeof report.passed !== "boolean")
      throw new Error(
        `pipesCheck "${options.name}" of "${ctx.assetKey}": metadata "${key}" is not a pipes check report ({ passed, metadata }): ${JSON.stringify(report)}`,
      );
    const reported = isRecord(report.metadata) ? (report.metadata as MetadataInputMap) : {};
    return { passed: report.passed, metadata: reported };
  });
}
