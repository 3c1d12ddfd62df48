import type { SelectableGraph } from "@baton/core/selection";
import type { AssetGraph, AssetGraphNode } from "@baton/webserver/api-types";
import { getOrInsert } from "../../util/maps";

/** The asset graph as the page uses it: groups, adjacency and the selection language's view. */
export interface GraphModel {
  readonly assets: ReadonlyMap<string, AssetGraphNode>;
  readonly keys: readonly string[];
  /** Position of each key in `keys` (stable ids for DOM elements). */
  readonly index: ReadonlyMap<string, number>;
  /** Groups by name (sorted), each with its asset keys in the API's (topological) order. */
  readonly groups: ReadonlyMap<string, readonly string[]>;
  readonly groupOf: ReadonlyMap<string, string>;
  readonly parents: ReadonlyMap<string, readonly string[]>;
  readonly children: ReadonlyMap<string, readonly string[]>;
  /** Every dependency edge [upstream, downstream] between assets of this model. */
  readonly edges: readonly (readonly [string, string])[];
  readonly selectable: SelectableGraph;
}

/** Build the model; with `only`, keep just those assets (and the edges between them). */
export function buildModel(graph: AssetGraph, only?: ReadonlySet<string>): GraphModel {
  const assets = new Map<string, AssetGraphNode>();
  for (const a of graph.assets) if (!only || only.has(a.key)) assets.set(a.key, a);
  const groups = new Map<string, string[]>();
  const groupOf = new Map<string, string>();
  const parents = new Map<string, string[]>();
  const children = new Map<string, string[]>();
  const edges: [string, string][] = [];
  for (const a of assets.values()) {
    groupOf.set(a.key, a.group);
    getOrInsert(groups, a.group, () => []).push(a.key);
    const ps = a.deps.filter((d) => assets.has(d));
    parents.set(a.key, ps);
    children.set(a.key, children.get(a.key) ?? []);
    for (const p of ps) {
      getOrInsert(children, p, () => []).push(a.key);
      edges.push([p, a.key]);
    }
  }
  const sortedGroups = new Map([...groups.entries()].sort(([a], [b]) => a.localeCompare(b)));
  const keys = [...assets.keys()];
  // The full graph's adjacency for selections (traversals cross filtered-out assets correctly).
  const allParents = new Map(graph.assets.map((a) => [a.key, a.deps]));
  const allChildren = new Map<string, string[]>();
  for (const a of graph.assets)
    for (const d of a.deps) {
      getOrInsert(allChildren, d, () => []).push(a.key);
    }
  const byKey = new Map(graph.assets.map((a) => [a.key, a]));
  const allKeys = graph.assets.map((a) => a.key);
  return {
    assets,
    keys,
    index: new Map(keys.map((k, i) => [k, i])),
    groups: sortedGroups,
    groupOf,
    parents,
    children,
    edges,
    selectable: {
      keys: allKeys,
      asset: (key) => {
        const a = byKey.get(key);
        return a ? { key: a.key, group: a.group, tags: a.tags, kinds: a.kinds, owners: a.owners } : undefined;
      },
      parents: (key) => allParents.get(key) ?? [],
      children: (key) => allChildren.get(key) ?? [],
    },
  };
}
