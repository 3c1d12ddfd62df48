import type { ZodType } from "zod";
import { suggest } from "../definitions/definitions.js";
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
    const unknown = unknownFields(schema, value ?? {}, step.key);
    if (unknown.length > 0) {
      issues.push(...unknown);
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

/** Zod's internals, read by shape (the user's zod may be another copy than Baton's). */
interface ZodDef {
  readonly type?: string;
  readonly shape?: Readonly<Record<string, { readonly _zod?: { readonly def?: ZodDef } }>>;
  readonly catchall?: { readonly _zod?: { readonly def?: ZodDef } };
  readonly innerType?: { readonly _zod?: { readonly def?: ZodDef } };
}
const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "readonly", "nonoptional"]);

/**
 * Fields of `value` that an object schema does not declare and would silently drop (zod's default
 * `z.object`) or refuse (`strictObject`): a typo such as `mutliplier` for `multiplier` must not run
 * with the default. Objects that take any key (`looseObject`, `catchall`, records) are left alone.
 */
function unknownFields(schema: unknown, value: unknown, path: string): { path: string; message: string }[] {
  let def = (schema as { _zod?: { def?: ZodDef } })?._zod?.def;
  while (def?.type && WRAPPERS.has(def.type)) def = def.innerType?._zod?.def;
  if (def?.type !== "object" || !def.shape) return [];
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
  const catchall = def.catchall?._zod?.def?.type;
  if (catchall !== undefined && catchall !== "never") return [];
  const out: { path: string; message: string }[] = [];
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const field = def.shape[key];
    if (field) out.push(...unknownFields(field, v, `${path}.${key}`));
    else
      out.push({
        path: `${path}.${key}`,
        message: `unknown field${suggest(key, Object.keys(def.shape))}; the schema has ${Object.keys(def.shape).join(", ") || "no fields"}`,
      });
  }
  return out;
}
