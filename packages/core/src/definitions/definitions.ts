import { type DefinitionProblem, InvalidDefinitionError, isBatonError } from "../errors.js";
import {
  type AssetGraph,
  type AssetNode,
  createAssetGraph,
  findCycles,
  nodeParents,
} from "../graph/asset-graph.js";
import { resolveSelection } from "../graph/selection.js";
import { type Computation, isComputation } from "./asset.js";
import { type CheckDefinition, isCheckDefinition } from "./asset-check.js";
import { assetKeyProblem, checkNameProblem } from "./asset-key.js";
import { DEFAULT_IO_MANAGER } from "./io-manager.js";
import type { AssetJobDefinition } from "./job.js";
import { retryPolicyProblem } from "./retry-policy.js";

export const DEFINITIONS_BRAND = Symbol.for("baton.definitions");

export interface DefinitionsInput {
  /** Assets, graph assets and multi-assets. */
  readonly assets?: readonly Computation[];
  readonly checks?: readonly CheckDefinition[];
  /** Resources by name: `resource({ setup, teardown })` definitions or plain values. */
  readonly resources?: Readonly<Record<string, unknown>>;
  readonly jobs?: readonly AssetJobDefinition[];
}

/** Validated definitions: the one object the engine, CLI and daemon work from. */
export interface Definitions {
  readonly [DEFINITIONS_BRAND]: true;
  readonly computations: readonly Computation[];
  readonly checks: readonly CheckDefinition[];
  readonly resources: Readonly<Record<string, unknown>>;
  readonly jobs: readonly AssetJobDefinition[];
  readonly graph: AssetGraph;
  /** The computation producing `assetKey` (throws for unknown keys). */
  computationOf(assetKey: string): Computation;
  checksFor(assetKey: string): readonly CheckDefinition[];
  job(name: string): AssetJobDefinition | undefined;
}

export function isDefinitions(value: unknown): value is Definitions {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<symbol, unknown>)[DEFINITIONS_BRAND] === true
  );
}

/** Resource names Baton provides when the user does not (the filesystem IO manager). */
const BUILTIN_RESOURCES = new Set([DEFAULT_IO_MANAGER]);

/**
 * Gather and validate everything. Throws one `InvalidDefinitionError` listing every problem
 * (invalid or duplicate keys, unknown deps/ins, cycles, missing resources, bad checks/jobs).
 */
export function defineDefinitions(input: DefinitionsInput): Definitions {
  const problems: DefinitionProblem[] = [];
  const add = (where: string, message: string) => problems.push({ where, message });
  const resources = { ...(input.resources ?? {}) };
  const resourceNames = new Set([...Object.keys(resources), ...BUILTIN_RESOURCES]);

  const computations: Computation[] = [];
  (input.assets ?? []).forEach((c, i) => {
    if (!isComputation(c))
      add(`assets[${i}]`, "is not an asset: build it with asset(), graphAsset() or multiAsset()");
    else computations.push(c);
  });

  // Keys: validity and uniqueness (across assets and multi-asset outputs), step names.
  const owner = new Map<string, Computation>();
  const stepNames = new Map<string, Computation>();
  const nodes: AssetNode[] = [];
  for (const c of computations) {
    if (c.kind === "multi") {
      const where = `multi-asset ${c.name}`;
      if (!/^[A-Za-z0-9_][A-Za-z0-9_./-]*$/.test(c.name)) add(where, `invalid name "${c.name}"`);
      if (c.specs.length === 0) add(where, "declares no outs");
    }
    const prev = stepNames.get(c.name);
    if (prev && prev !== c) add(c.name, `duplicate step name: "${c.name}" is used by two definitions`);
    stepNames.set(c.name, c);
    for (const spec of c.specs) {
      const keyProblem = assetKeyProblem(spec.key);
      if (keyProblem) add(spec.key || "(empty key)", keyProblem);
      if (owner.has(spec.key)) {
        add(spec.key, "duplicate asset key: defined more than once");
        continue;
      }
      owner.set(spec.key, c);
      nodes.push({ ...spec, parents: nodeParents(spec, c), computation: c });
    }
    const where = c.kind === "multi" ? `multi-asset ${c.name}` : c.name;
    for (const r of c.resources)
      if (!resourceNames.has(r))
        add(where, `requires resource "${r}", which is not in definitions.resources`);
    if (!resourceNames.has(c.ioManager))
      add(where, `uses IO manager "${c.ioManager}", which is not in definitions.resources`);
    if (c.retryPolicy) {
      const p = retryPolicyProblem(c.retryPolicy);
      if (p) add(where, p);
    }
    const opNames = new Set<string>();
    for (const op of c.ops) {
      if (opNames.has(op)) add(where, `duplicate op name "${op}"`);
      opNames.add(op);
    }
  }
  for (const [name, c] of stepNames) {
    if (c.kind === "multi" && owner.has(name) && owner.get(name) !== c)
      add(`multi-asset ${name}`, `name "${name}" clashes with an asset key; rename the multi-asset`);
  }

  // Unknown deps and ins.
  for (const node of nodes) {
    for (const dep of node.deps)
      if (!owner.has(dep)) add(node.key, `depends on unknown asset "${dep}"${suggest(dep, owner.keys())}`);
    for (const [name, key] of Object.entries(node.computation.ins))
      if (!owner.has(key))
        add(node.key, `input "${name}" refers to unknown asset "${key}"${suggest(key, owner.keys())}`);
  }

  const graph = createAssetGraph(nodes);

  // Cycles, at the level of steps: a multi-asset whose outputs depend on each other counts too.
  const stepParents = new Map<string, Set<string>>();
  for (const node of nodes) {
    const set = stepParents.get(node.computation.name) ?? new Set<string>();
    for (const p of node.parents) {
      const pc = owner.get(p);
      if (pc) set.add(pc.name);
    }
    stepParents.set(node.computation.name, set);
  }
  const stepKeys = [...stepParents.keys()];
  const cycleEdges = (k: string) => [...(stepParents.get(k) ?? [])];
  for (const cycle of findCycles(stepKeys, cycleEdges)) {
    const path = [...cycle].reverse();
    add(path[0]!, `dependency cycle: ${path.join(" -> ")}`);
  }

  // Checks.
  const checks: CheckDefinition[] = [];
  const checksByAsset = new Map<string, CheckDefinition[]>();
  const checkKeys = new Set<string>();
  (input.checks ?? []).forEach((check, i) => {
    if (!isCheckDefinition(check)) {
      add(`checks[${i}]`, "is not a check: build it with assetCheck()");
      return;
    }
    const where = `check ${check.key}`;
    const nameProblem = checkNameProblem(check.name);
    if (nameProblem) add(where, nameProblem);
    if (!owner.has(check.assetKey))
      add(where, `is attached to unknown asset "${check.assetKey}"${suggest(check.assetKey, owner.keys())}`);
    if (checkKeys.has(check.key)) add(where, "duplicate check: the same name is used twice on this asset");
    checkKeys.add(check.key);
    for (const r of check.resources)
      if (!resourceNames.has(r))
        add(where, `requires resource "${r}", which is not in definitions.resources`);
    checks.push(check);
    const list = checksByAsset.get(check.assetKey) ?? [];
    list.push(check);
    checksByAsset.set(check.assetKey, list);
  });

  // Jobs (selections resolve only on a sound graph).
  const jobs = [...(input.jobs ?? [])];
  const jobNames = new Set<string>();
  for (const job of jobs) {
    const where = `job ${job.name}`;
    if (jobNames.has(job.name)) add(where, "duplicate job name");
    jobNames.add(job.name);
    if (problems.length === 0) {
      try {
        resolveSelection(job.selection, graph);
      } catch (error) {
        add(where, isBatonError(error) ? error.message : String(error));
      }
    }
  }

  if (problems.length > 0) throw new InvalidDefinitionError(problems);

  const noChecks: readonly CheckDefinition[] = [];
  return {
    [DEFINITIONS_BRAND]: true,
    computations,
    checks,
    resources,
    jobs,
    graph,
    computationOf(assetKey) {
      const c = owner.get(assetKey);
      if (!c) throw new InvalidDefinitionError([{ where: assetKey, message: "unknown asset" }]);
      return c;
    },
    checksFor: (assetKey) => checksByAsset.get(assetKey) ?? noChecks,
    job: (name) => jobs.find((j) => j.name === name),
  };
}

/** ` (did you mean "x"?)` for the closest candidate within a small edit distance. */
export function suggest(word: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    if (Math.abs(c.length - word.length) >= bestDistance) continue;
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best === undefined ? "" : ` (did you mean "${best}"?)`;
}

export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
