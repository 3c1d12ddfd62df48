import type { Computation } from "../definitions/asset.js";
import type { CheckDefinition } from "../definitions/asset-check.js";
import type { Definitions } from "../definitions/definitions.js";
import { BatonError } from "../errors.js";
import type { StepKind } from "./events.js";

export interface PlannedStep {
  /** Asset key, multi-asset name, or `assetKey:checkName` for checks. */
  readonly key: string;
  readonly kind: StepKind;
  readonly computation: Computation | undefined;
  readonly check: CheckDefinition | undefined;
  /** Assets this step materializes (for a check: the asset it checks). */
  readonly assetKeys: readonly string[];
  /** Output names selected (computations). */
  readonly outputNames: readonly string[];
  /** Steps of this plan that must succeed first. */
  readonly dependsOn: readonly string[];
}

export interface ExecutionPlan {
  /** In dependency order. */
  readonly steps: readonly PlannedStep[];
  readonly assetKeys: readonly string[];
  readonly checkKeys: readonly string[];
}

export class PlanError extends BatonError {
  constructor(message: string) {
    super("INVALID_SELECTION", message);
  }
}

/**
 * Turn selected assets (and checks) into steps: one per computation, one per check. A check
 * whose asset is not selected evaluates the stored value. Downstream steps wait for upstream
 * steps in the plan and for their upstreams' blocking checks.
 */
export function planRun(
  defs: Definitions,
  selection: { readonly assetKeys: Iterable<string>; readonly checkKeys?: Iterable<string> },
): ExecutionPlan {
  const selected = new Set(selection.assetKeys);
  for (const key of selected)
    if (!defs.graph.has(key)) throw new PlanError(`Unknown asset "${key}" in the selection.`);
  const checkKeys = new Set<string>(
    selection.checkKeys ?? [...selected].flatMap((k) => defs.checksFor(k).map((c) => c.key)),
  );
  const checkByKey = new Map(defs.checks.map((c) => [c.key, c] as const));
  for (const key of checkKeys) if (!checkByKey.has(key)) throw new PlanError(`Unknown check "${key}".`);

  const stepOfAsset = new Map<string, string>();
  const computationSteps = new Map<string, { computation: Computation; outputs: Set<string> }>();
  for (const key of defs.graph.topologicalOrder()) {
    if (!selected.has(key)) continue;
    const computation = defs.computationOf(key);
    let entry = computationSteps.get(computation.name);
    if (!entry) {
      entry = { computation, outputs: new Set() };
      computationSteps.set(computation.name, entry);
    }
    entry.outputs.add(key);
    stepOfAsset.set(key, computation.name);
  }
  for (const { computation, outputs } of computationSteps.values()) {
    if (!computation.canSubset && outputs.size < computation.specs.length) {
      const missing = computation.specs.map((s) => s.key).filter((k) => !outputs.has(k));
      throw new PlanError(
        `multi-asset "${computation.name}" cannot be subset: also select ${missing.map((k) => `"${k}"`).join(", ")} ` +
          "(or declare it with canSubset: true).",
      );
    }
  }
  const blockingChecksOf = (assetKey: string) =>
    defs
      .checksFor(assetKey)
      .filter((c) => c.blocking && checkKeys.has(c.key))
      .map((c) => c.key);

  const steps: PlannedStep[] = [];
  for (const [name, { computation, outputs }] of computationSteps) {
    const specs = computation.specs.filter((s) => outputs.has(s.key));
    const upstream = new Set<string>([...specs.flatMap((s) => s.deps), ...Object.values(computation.ins)]);
    const dependsOn = new Set<string>();
    for (const u of upstream) {
      const stepKey = stepOfAsset.get(u);
      if (stepKey !== undefined && stepKey !== name) dependsOn.add(stepKey);
      for (const c of blockingChecksOf(u)) dependsOn.add(c);
    }
    const outputNames = computation.specs
      .map((s, i) => (outputs.has(s.key) ? computation.outputNames[i]! : undefined))
      .filter((n): n is string => n !== undefined);
    steps.push({
      key: name,
      kind: computation.kind,
      computation,
      check: undefined,
      assetKeys: specs.map((s) => s.key),
      outputNames,
      dependsOn: [...dependsOn],
    });
    for (const spec of specs) addChecks(spec.key);
  }
  // Checks on assets not materialized in this run.
  for (const key of checkKeys) {
    const check = checkByKey.get(key)!;
    if (!stepOfAsset.has(check.assetKey)) pushCheck(check);
  }

  function addChecks(assetKey: string) {
    for (const check of defs.checksFor(assetKey)) if (checkKeys.has(check.key)) pushCheck(check);
  }
  function pushCheck(check: CheckDefinition) {
    const assetStep = stepOfAsset.get(check.assetKey);
    steps.push({
      key: check.key,
      kind: "check",
      computation: undefined,
      check,
      assetKeys: [check.assetKey],
      outputNames: [],
      dependsOn: assetStep === undefined ? [] : [assetStep],
    });
  }

  return {
    steps: orderSteps(steps),
    assetKeys: [...stepOfAsset.keys()],
    checkKeys: [...checkKeys],
  };
}

/** Topological order of steps (stable). */
function orderSteps(steps: PlannedStep[]): PlannedStep[] {
  const byKey = new Map(steps.map((s) => [s.key, s] as const));
  const done = new Set<string>();
  const out: PlannedStep[] = [];
  const visit = (step: PlannedStep) => {
    const stack: { step: PlannedStep; i: number }[] = [{ step, i: 0 }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (done.has(top.step.key)) {
        stack.pop();
        continue;
      }
      const dep = top.step.dependsOn[top.i++];
      if (dep !== undefined) {
        const d = byKey.get(dep);
        if (d && !done.has(d.key)) stack.push({ step: d, i: 0 });
      } else {
        done.add(top.step.key);
        out.push(top.step);
        stack.pop();
      }
    }
  };
  for (const s of steps) visit(s);
  return out;
}
