import type { Computation } from "../definitions/asset.js";
import type { Definitions } from "../definitions/definitions.js";
import type { PartitionKeySpace, PartitionsDefinition } from "../definitions/partitions/partitions.js";
import { BatonError } from "../errors.js";
import { planRun } from "../execution/plan.js";
import { type KeySpaces, mappedUpstreamIndices, UNPARTITIONED_SPACE } from "../execution/run-partitions.js";
import { findCycles } from "../graph/asset-graph.js";

/** One run of a backfill: some computations of one partitions definition, over a chunk of keys. */
export interface BackfillUnit {
  readonly id: number;
  /** Asset keys the run materializes. */
  readonly assetKeys: readonly string[];
  readonly definition: PartitionsDefinition | undefined;
  /** Partition indices/keys of the run (empty for an unpartitioned unit). */
  readonly indices: readonly number[];
  readonly keys: readonly string[];
  /** Units that must succeed first. */
  readonly dependsOn: readonly number[];
}

export interface BackfillPlan {
  readonly units: readonly BackfillUnit[];
  /** Asset partitions targeted (an unpartitioned asset counts once). */
  readonly targeted: number;
}

/**
 * Computations that run together: connected through edges between computations of the same
 * partitions definition (raw → clean of month × taxi run as one run per partition). A group on a
 * cycle of the group graph (A → B → C with A and C alike but B not) is split into single
 * computations, which cannot form cycles since the asset graph is a DAG.
 */
function groupComputations(
  definitions: Definitions,
  computations: Computation[],
  selected: ReadonlySet<string>,
): Group[] {
  const fp = (c: Computation) => c.partitions?.fingerprint ?? "(unpartitioned)";
  const parent = new Map<string, string>(computations.map((c) => [c.name, c.name]));
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  const upstreamOf = (c: Computation) => {
    const keys = new Set([...Object.values(c.ins), ...c.specs.flatMap((s) => s.deps)]);
    return [...keys]
      .filter((k) => selected.has(k))
      .map((k) => definitions.computationOf(k))
      .filter((u) => u !== c);
  };
  for (const c of computations)
    for (const u of upstreamOf(c)) if (fp(u) === fp(c)) parent.set(find(c.name), find(u.name));
  let members = new Map<string, Computation[]>();
  for (const c of computations) members.set(find(c.name), [...(members.get(find(c.name)) ?? []), c]);
  for (;;) {
    const groupIdOf = new Map<string, string>();
    for (const [id, cs] of members) for (const c of cs) groupIdOf.set(c.name, id);
    const edges = new Map<string, Set<string>>();
    for (const c of computations)
      for (const u of upstreamOf(c)) {
        const from = groupIdOf.get(u.name)!;
        const to = groupIdOf.get(c.name)!;
        if (from !== to) edges.set(to, new Set([...(edges.get(to) ?? []), from]));
      }
    const cyclic = new Set(findCycles([...members.keys()], (k) => [...(edges.get(k) ?? [])]).flat());
    if (cyclic.size === 0) break;
    const next = new Map<string, Computation[]>();
    for (const [id, cs] of members) {
      if (cyclic.has(id) && cs.length > 1) for (const c of cs) next.set(c.name, [c]);
      else next.set(id, cs);
    }
    members = next;
  }
  // Dependency order of the plan is kept inside each group.
  return [...members.values()].map((cs) => ({
    definition: cs[0]!.partitions,
    computations: cs,
    targets: new Set<number>(),
  }));
}

interface Group {
  readonly definition: PartitionsDefinition | undefined;
  readonly computations: Computation[];
  targets: Set<number>;
}

/**
 * Plan a backfill. `anchorIndices` are the requested partitions in the anchor definition (the
 * root-most partitioned asset of the selection); other definitions' targets are derived through
 * the partition mappings, so a daily asset below hourly ones gets the days those hours cover.
 */
export function planBackfill(
  definitions: Definitions,
  assetKeys: readonly string[],
  spaces: KeySpaces,
  anchor: { definition: PartitionsDefinition; indices: readonly number[] },
  options: { chunkSize?: number; singleRun?: boolean } = {},
): BackfillPlan {
  const plan = planRun(definitions, { assetKeys, checkKeys: [] });
  const computations = plan.steps.map((s) => s.computation!).filter(Boolean);
  const groups = groupComputations(definitions, computations, new Set(assetKeys));
  const selected = new Set(assetKeys);
  const stepOf = new Map(plan.steps.map((s) => [s.key, s] as const));
  const groupByComputation = new Map<string, Group>();
  for (const g of groups) for (const c of g.computations) groupByComputation.set(c.name, g);
  const spaceOf = (g: Group): PartitionKeySpace =>
    g.definition ? spaces.of(g.definition) : UNPARTITIONED_SPACE;

  // Upstream edges between computations of the selection, with the mapping used.
  const upstreamEdges = (c: Computation) => {
    const step = stepOf.get(c.name)!;
    const keys = new Set([
      ...Object.values(c.ins),
      ...c.specs.filter((s) => step.assetKeys.includes(s.key)).flatMap((s) => s.deps),
    ]);
    const out: { upstream: Computation; upstreamKey: string }[] = [];
    for (const k of keys) {
      if (!selected.has(k)) continue;
      const u = definitions.computationOf(k);
      if (u !== c) out.push({ upstream: u, upstreamKey: k });
    }
    return out;
  };

  // Targets, in dependency order (plan.steps is topological).
  for (const c of computations) {
    const g = groupByComputation.get(c.name)!;
    if (!g.definition) {
      g.targets.add(0);
      continue;
    }
    if (g.definition.fingerprint === anchor.definition.fingerprint) {
      for (const i of anchor.indices) g.targets.add(i);
      continue;
    }
    let derived = false;
    for (const { upstream, upstreamKey } of upstreamEdges(c)) {
      const ug = groupByComputation.get(upstream.name)!;
      if (!ug.definition) continue;
      const mapping = definitions.mappingFor(c.name, upstreamKey)!;
      const down = spaceOf(g);
      const up = spaceOf(ug);
      derived = true;
      for (const u of ug.targets)
        for (const [s, e] of mapping.downstreamOf(u, down, up)) for (let i = s; i < e; i++) g.targets.add(i);
    }
    if (!derived)
      throw new BatonError(
        "INVALID_SELECTION",
        `Cannot tell which partitions of "${c.name}" to backfill: it is partitioned differently from the requested ` +
          "partitions and reads no selected partitioned asset. Backfill it separately.",
      );
  }

  // Units: chunks of each group's targets, by backfill policy.
  const units: BackfillUnit[] = [];
  const unitOfIndex = new Map<Group, Map<number, number>>();
  const groupOfUnit = new Map<number, Group>();
  let targeted = 0;
  for (const g of groups) {
    const indices = [...g.targets].sort((a, b) => a - b);
    const assetKeysOfGroup = g.computations.flatMap((c) => stepOf.get(c.name)!.assetKeys);
    targeted += indices.length * assetKeysOfGroup.length;
    const policies = g.computations.map((c) => c.backfillPolicy);
    // Explicit options win over the assets' policies (--chunk N turns single-run assets into chunks).
    const single =
      options.singleRun ??
      (options.chunkSize === undefined &&
        g.definition !== undefined &&
        policies.every((p) => p?.kind === "single_run"));
    const chunk = single
      ? Math.max(1, indices.length)
      : (options.chunkSize ??
        Math.min(...policies.map((p) => (p?.kind === "multi_run" ? p.maxPartitionsPerRun : 1))));
    const map = new Map<number, number>();
    unitOfIndex.set(g, map);
    const space = spaceOf(g);
    for (let start = 0; start < indices.length; start += chunk) {
      const part = indices.slice(start, start + chunk);
      const id = units.length;
      for (const i of part) map.set(i, id);
      groupOfUnit.set(id, g);
      units.push({
        id,
        assetKeys: assetKeysOfGroup,
        definition: g.definition,
        indices: g.definition ? part : [],
        keys: g.definition ? part.map((i) => space.keyAt(i)) : [],
        dependsOn: [],
      });
    }
  }

  // Dependencies between units through the mappings of every selected edge.
  for (const unit of units) {
    const g = groupOfUnit.get(unit.id)!;
    const deps = new Set<number>();
    for (const c of g.computations) {
      for (const { upstream, upstreamKey } of upstreamEdges(c)) {
        const ug = groupByComputation.get(upstream.name)!;
        const upUnits = unitOfIndex.get(ug)!;
        if (!ug.definition) {
          for (const id of upUnits.values()) if (id !== unit.id) deps.add(id);
          continue;
        }
        if (ug === g && definitions.mappingFor(c.name, upstreamKey)?.kind === "identity") continue;
        const mapping = definitions.mappingFor(c.name, upstreamKey)!;
        const down = g.definition ? spaceOf(g) : UNPARTITIONED_SPACE;
        const downIndices = g.definition ? unit.indices : [0];
        for (const u of mappedUpstreamIndices(mapping, downIndices, down, spaceOf(ug))) {
          const id = upUnits.get(u);
          if (id !== undefined && id !== unit.id) deps.add(id);
        }
      }
    }
    (unit as { dependsOn: readonly number[] }).dependsOn = [...deps].sort((a, b) => a - b);
  }
  return { units, targeted };
}
