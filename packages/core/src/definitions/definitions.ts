import { CronExpressionParser } from "cron-parser";
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
import { defaultMapping, type PartitionMapping } from "./partitions/mappings.js";
import { retryPolicyProblem } from "./retry-policy.js";
import { isScheduleDefinition, type RunTarget, type ScheduleDefinition } from "./schedule.js";
import { isSensorDefinition, type SensorDefinition } from "./sensor.js";

export const DEFINITIONS_BRAND = Symbol.for("baton.definitions");

export interface DefinitionsInput {
  /** Assets, graph assets and multi-assets. */
  readonly assets?: readonly Computation[];
  readonly checks?: readonly CheckDefinition[];
  /** Resources by name: `resource({ setup, teardown })` definitions or plain values. */
  readonly resources?: Readonly<Record<string, unknown>>;
  readonly jobs?: readonly AssetJobDefinition[];
  readonly schedules?: readonly ScheduleDefinition[];
  readonly sensors?: readonly SensorDefinition[];
}

/** Validated definitions: the one object the engine, CLI and daemon work from. */
export interface Definitions {
  readonly [DEFINITIONS_BRAND]: true;
  readonly computations: readonly Computation[];
  readonly checks: readonly CheckDefinition[];
  readonly resources: Readonly<Record<string, unknown>>;
  readonly jobs: readonly AssetJobDefinition[];
  readonly schedules: readonly ScheduleDefinition[];
  readonly sensors: readonly SensorDefinition[];
  readonly graph: AssetGraph;
  /** The computation producing `assetKey` (throws for unknown keys). */
  computationOf(assetKey: string): Computation;
  checksFor(assetKey: string): readonly CheckDefinition[];
  job(name: string): AssetJobDefinition | undefined;
  /** The selection string a schedule/sensor target (or a run request) stands for. */
  selectionOf(target: RunTarget): string;
  /**
   * The partition mapping a computation reads `upstreamKey` through, or undefined when the
   * upstream is not partitioned.
   */
  mappingFor(stepName: string, upstreamKey: string): PartitionMapping | undefined;
}

export function isDefinitions(value: unknown): value is Definitions {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<symbol, unknown>)[DEFINITIONS_BRAND] === true
  );
}

/** Why a time zone name is unusable (cron-parser only fails later, when computing a tick). */
export function timezoneProblem(timezone: string): string | undefined {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return undefined;
  } catch {
    return `unknown time zone "${timezone}" (use an IANA name such as "UTC" or "America/New_York")`;
  }
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

  // Keys: validity and uniqueness (across assets and multi-asset outputs).
  const owner = new Map<string, Computation>();
  const nodes: AssetNode[] = [];
  const whereOf = (c: Computation) => (c.kind === "multi" ? `multi-asset ${c.name}` : c.name);
  for (const c of computations) {
    const where = whereOf(c);
    if (c.kind === "multi") {
      if (!/^[A-Za-z0-9_][A-Za-z0-9_./-]*$/.test(c.name)) add(where, `invalid name "${c.name}"`);
      if (c.specs.length === 0) add(where, "declares no outs");
    }
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
  // Multi-asset names are step keys too: unique, and distinct from every asset key.
  const multiNames = new Set<string>();
  for (const c of computations) {
    if (c.kind !== "multi") continue;
    if (multiNames.has(c.name)) add(whereOf(c), "duplicate multi-asset name");
    multiNames.add(c.name);
    if (owner.has(c.name) && owner.get(c.name) !== c)
      add(whereOf(c), `name "${c.name}" clashes with an asset key; rename the multi-asset`);
  }

  // Unknown deps (per asset) and ins (per computation).
  for (const node of nodes) {
    for (const dep of node.deps)
      if (!owner.has(dep)) add(node.key, `depends on unknown asset "${dep}"${suggest(dep, owner.keys())}`);
  }
  for (const c of computations) {
    for (const [name, key] of Object.entries(c.ins))
      if (!owner.has(key))
        add(whereOf(c), `input "${name}" refers to unknown asset "${key}"${suggest(key, owner.keys())}`);
  }

  const graph = createAssetGraph(nodes);

  // Cycles, at the level of steps: a multi-asset whose outputs depend on each other through
  // another asset counts too (deps between outputs of the same multi-asset are fine).
  const stepParents = new Map<string, Set<string>>();
  const stepByName = new Map<string, Computation>();
  for (const node of nodes) {
    stepByName.set(node.computation.name, node.computation);
    const set = stepParents.get(node.computation.name) ?? new Set<string>();
    for (const p of node.parents) {
      const pc = owner.get(p);
      // An output depending on another output of the same multi-asset is not a cycle.
      if (pc && (pc !== node.computation || p === node.key)) set.add(pc.name);
    }
    stepParents.set(node.computation.name, set);
  }
  const stepKeys = [...stepParents.keys()];
  const cycleEdges = (k: string) => [...(stepParents.get(k) ?? [])];
  for (const cycle of findCycles(stepKeys, cycleEdges)) {
    const path = [...cycle].reverse();
    const first = stepByName.get(path[0]!);
    add(first ? whereOf(first) : path[0]!, `dependency cycle: ${path.join(" -> ")}`);
  }

  // Partition mappings: every edge into or out of a partitioned asset needs one that fits.
  const mappings = new Map<string, PartitionMapping>();
  for (const c of computations) {
    const where = whereOf(c);
    const upstreamKeys = new Set([...Object.values(c.ins), ...c.specs.flatMap((sp) => sp.deps)]);
    for (const up of upstreamKeys) {
      const upC = owner.get(up);
      if (!upC || upC === c) continue;
      const explicit = c.mappings[up];
      const upP = upC.partitions;
      const downP = c.partitions;
      if (!upP) {
        if (explicit) add(where, `has a partition mapping for "${up}", which is not partitioned`);
        continue;
      }
      if (explicit) {
        const problem = downP
          ? explicit.problem(downP, upP)
          : explicit.kind === "all" || explicit.kind === "last"
            ? undefined
            : "an unpartitioned asset can read a partitioned one only through allPartitionsMapping() or lastPartitionMapping()";
        if (problem) add(where, `partition mapping from "${up}" does not fit: ${problem}`);
        else mappings.set(`${c.name}\u0000${up}`, explicit);
        continue;
      }
      const mapping = defaultMapping(downP, upP);
      if (typeof mapping === "string") add(where, `cannot read partitioned asset "${up}": ${mapping}`);
      else mappings.set(`${c.name}\u0000${up}`, mapping);
    }
    if (c.backfillPolicy && !c.partitions) add(where, "has a backfillPolicy but no partitions");
    for (const spec of c.specs) {
      const f = spec.freshness;
      if (f && (!Number.isFinite(f.maxLagMinutes) || f.maxLagMinutes <= 0))
        add(spec.key, `freshness.maxLagMinutes must be a number > 0 (got ${String(f.maxLagMinutes)})`);
      if (f?.cron !== undefined && f.timezone !== undefined && timezoneProblem(f.timezone))
        add(spec.key, `freshness: ${timezoneProblem(f.timezone)}`);
      else if (f?.cron !== undefined) {
        try {
          CronExpressionParser.parse(f.cron, { tz: f.timezone ?? "UTC" });
        } catch (error) {
          add(spec.key, `freshness.cron "${f.cron}" is invalid: ${(error as Error).message}`);
        }
      }
      const a = spec.automation;
      if (a?.kind === "on_cron" && timezoneProblem(a.timezone))
        add(spec.key, `automation onCron: ${timezoneProblem(a.timezone)}`);
      else if (a?.kind === "on_cron") {
        try {
          CronExpressionParser.parse(a.cron, { tz: a.timezone });
        } catch (error) {
          add(spec.key, `automation onCron("${a.cron}") is invalid: ${(error as Error).message}`);
        }
      }
    }
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

  // Jobs: each selection must resolve (the graph holds every valid asset even if others are not).
  const jobs = [...(input.jobs ?? [])];
  const jobNames = new Set<string>();
  for (const job of jobs) {
    const where = `job ${job.name}`;
    if (jobNames.has(job.name)) add(where, "duplicate job name");
    jobNames.add(job.name);
    try {
      resolveSelection(job.selection, graph);
    } catch (error) {
      add(where, isBatonError(error) ? error.message : String(error));
    }
  }

  // Schedules and sensors: one namespace (ticks and state are stored by name).
  const instigatorNames = new Set<string>();
  const targetProblem = (target: RunTarget): string | undefined => {
    if (target.job !== undefined && target.selection !== undefined)
      return "give a job or a selection, not both";
    if (target.job !== undefined && !jobNames.has(target.job))
      return `targets unknown job "${target.job}"${suggest(target.job, jobNames)}`;
    if (target.selection !== undefined) {
      try {
        resolveSelection(target.selection, graph);
      } catch (error) {
        return isBatonError(error) ? error.message : String(error);
      }
    }
    return undefined;
  };
  const checkName = (where: string, name: unknown) => {
    if (typeof name !== "string" || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name))
      add(where, `invalid name ${JSON.stringify(name)}: use letters, digits, _ . -`);
    else if (instigatorNames.has(name))
      add(where, "duplicate name: schedules and sensors share one namespace");
    else instigatorNames.add(name);
  };
  const schedules: ScheduleDefinition[] = [];
  (input.schedules ?? []).forEach((sch, i) => {
    if (!isScheduleDefinition(sch)) {
      add(`schedules[${i}]`, "is not a schedule: build it with schedule()");
      return;
    }
    const where = `schedule ${sch.name}`;
    checkName(where, sch.name);
    const tzProblem = timezoneProblem(sch.timezone);
    if (tzProblem) add(where, tzProblem);
    else
      try {
        CronExpressionParser.parse(sch.cron, { tz: sch.timezone });
      } catch (error) {
        add(where, `cron "${sch.cron}" is invalid: ${(error as Error).message}`);
      }
    if (sch.target.job === undefined && sch.target.selection === undefined)
      add(where, "needs a job or a selection to launch");
    const t = targetProblem(sch.target);
    if (t) add(where, t);
    if (!Number.isInteger(sch.catchUp) || sch.catchUp < 0)
      add(where, `catchUp must be a whole number >= 0 (got ${String(sch.catchUp)})`);
    schedules.push(sch);
  });
  const sensors: SensorDefinition[] = [];
  (input.sensors ?? []).forEach((sen, i) => {
    if (!isSensorDefinition(sen)) {
      add(
        `sensors[${i}]`,
        "is not a sensor: build it with sensor(), fileSensor(), assetSensor() or runStatusSensor()",
      );
      return;
    }
    const where = `sensor ${sen.name}`;
    checkName(where, sen.name);
    const t = targetProblem(sen.target);
    if (t) add(where, t);
    if (!(sen.minimumIntervalSeconds > 0))
      add(where, `minimumIntervalSeconds must be > 0 (got ${String(sen.minimumIntervalSeconds)})`);
    if (!(sen.timeoutSeconds > 0))
      add(where, `timeoutSeconds must be > 0 (got ${String(sen.timeoutSeconds)})`);
    if (typeof sen.evaluate !== "function") add(where, "evaluate must be a function");
    sensors.push(sen);
  });

  if (problems.length > 0) throw new InvalidDefinitionError(problems);

  const noChecks: readonly CheckDefinition[] = [];
  return {
    [DEFINITIONS_BRAND]: true,
    computations,
    checks,
    resources,
    jobs,
    schedules,
    sensors,
    graph,
    selectionOf(target) {
      if (target.selection !== undefined) return target.selection;
      if (target.job !== undefined) {
        const job = jobs.find((j) => j.name === target.job);
        if (!job)
          throw new InvalidDefinitionError([
            { where: `job ${target.job}`, message: `unknown job${suggest(target.job, jobNames)}` },
          ]);
        return job.selection;
      }
      return "*";
    },
    computationOf(assetKey) {
      const c = owner.get(assetKey);
      if (!c) throw new InvalidDefinitionError([{ where: assetKey, message: "unknown asset" }]);
      return c;
    },
    checksFor: (assetKey) => checksByAsset.get(assetKey) ?? noChecks,
    job: (name) => jobs.find((j) => j.name === name),
    mappingFor: (stepName, upstreamKey) => mappings.get(`${stepName}\u0000${upstreamKey}`),
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
