import type { ZodType } from "zod";
import { InvalidConfigError } from "../errors.js";
import type { ExecutionPlan } from "./plan.js";

/** Run config: an object keyed by step key (asset key, multi-asset name or `asset:check`). */
export type RunConfig = Readonly<Record<string, unknown>>;

function schemaOf(step: ExecutionPlan["steps"][number]): ZodType | undefined {
  return step.computation ? step.computation.config : step.check?.config;
}

/**
 * Validate run config against every planned step's schema before the run starts. Steps with a
 * schema and no config get `{}` parsed (so schemas whose fields all have defaults just work).
 * Unknown keys and config for steps without a schema are errors. Returns parsed values per step.
 */
export function parseRunConfig(plan: ExecutionPlan, config: unknown): Map<string, unknown> {
  const issues: { path: string; message: string }[] = [];
  const parsed = new Map<string, unknown>();
  if (config === undefined || config === null) config = {};
  if (typeof config !== "object" || Array.isArray(config)) {
    throw new InvalidConfigError("the run", [
      {
        path: "",
        message: `run config must be a JSON object keyed by asset key, got ${Array.isArray(config) ? "an array" : typeof config}`,
      },
    ]);
  }
  const given = config as Record<string, unknown>;
  const stepKeys = new Set(plan.steps.map((s) => s.key));
  for (const key of Object.keys(given)) {
    if (!stepKeys.has(key)) {
      const withSchema = plan.steps.filter((s) => schemaOf(s)).map((s) => s.key);
      issues.push({
        path: key,
        message: `no step "${key}" in this run${withSchema.length ? ` (steps taking config: ${withSchema.join(", ")})` : " (no selected asset takes config)"}`,
      });
    }
  }
  for (const step of plan.steps) {
    const schema = schemaOf(step);
    const value = given[step.key];
    if (!schema) {
      if (value !== undefined)
        issues.push({ path: step.key, message: "this step declares no config schema" });
      continue;
    }
    const result = schema.safeParse(value ?? {});
    if (result.success) parsed.set(step.key, result.data);
    else
      for (const issue of result.error.issues)
        issues.push({ path: [step.key, ...issue.path.map(String)].join("."), message: issue.message });
  }
  if (issues.length > 0) throw new InvalidConfigError("the run", issues);
  return parsed;
}
