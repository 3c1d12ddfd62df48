import type { AssetSpec, Computation } from "../definitions/asset.js";

/** One asset in the lineage graph. */
export interface AssetNode extends AssetSpec {
  /** Every direct upstream key: ordering deps plus `ins`. */
  readonly parents: readonly string[];
  /** The computation (step) producing it. */
  readonly computation: Computation;
}

/**
 * The lineage graph derived from definitions: lookups, traversal and order. Built once per
 * Definitions; every query is O(size of the answer). Assumes a DAG (validated before).
 */
export interface AssetGraph {
  readonly keys: readonly string[];
  asset(key: string): AssetNode | undefined;
  has(key: string): boolean;
  parents(key: string): readonly string[];
  children(key: string): readonly string[];
  roots(): string[];
  sinks(): string[];
  /** Every key in dependency order (upstream first); stable with declaration order. */
  topologicalOrder(): readonly string[];
  /** Keys upstream of `keys` (not including them), up to `depth` levels (default: all). */
  upstreamOf(keys: Iterable<string>, depth?: number): Set<string>;
  downstreamOf(keys: Iterable<string>, depth?: number): Set<string>;
}

export function nodeParents(spec: AssetSpec, computation: Computation): string[] {
  return [...new Set([...spec.deps, ...Object.values(computation.ins)])];
}

/** Build the graph. Parents that are not in `nodes` are kept as edges only if known. */
export function createAssetGraph(nodes: readonly AssetNode[]): AssetGraph {
  const byKey = new Map<string, AssetNode>();
  for (const node of nodes) if (!byKey.has(node.key)) byKey.set(node.key, node);
  const keys = [...byKey.keys()];
  const parentsOf = new Map<string, string[]>();
  const childrenOf = new Map<string, string[]>();
  for (const key of keys) childrenOf.set(key, []);
  for (const node of byKey.values()) {
    const known = node.parents.filter((p) => byKey.has(p));
    parentsOf.set(node.key, known);
    for (const p of known) childrenOf.get(p)!.push(node.key);
  }
  let topo: string[] | undefined;
  const empty: readonly string[] = [];

  const walk = (
    start: Iterable<string>,
    next: (k: string) => readonly string[],
    depth: number,
  ): Set<string> => {
    const seen = new Set<string>();
    let frontier = [...start];
    const startSet = new Set(frontier);
    for (let level = 0; level < depth && frontier.length > 0; level++) {
      const nextFrontier: string[] = [];
      for (const key of frontier) {
        for (const n of next(key)) {
          if (!seen.has(n) && !startSet.has(n)) {
            seen.add(n);
            nextFrontier.push(n);
          }
        }
      }
      frontier = nextFrontier;
    }
    return seen;
  };

  const graph: AssetGraph = {
    keys,
    asset: (key) => byKey.get(key),
    has: (key) => byKey.has(key),
    parents: (key) => parentsOf.get(key) ?? empty,
    children: (key) => childrenOf.get(key) ?? empty,
    roots: () => keys.filter((k) => parentsOf.get(k)!.length === 0),
    sinks: () => keys.filter((k) => childrenOf.get(k)!.length === 0),
    topologicalOrder() {
      if (!topo)
        topo = topologicalSort(
          keys,
          (k) => parentsOf.get(k)!,
          (k) => childrenOf.get(k)!,
        );
      return topo;
    },
    upstreamOf: (start, depth = Number.POSITIVE_INFINITY) => walk(start, graph.parents, depth),
    downstreamOf: (start, depth = Number.POSITIVE_INFINITY) => walk(start, graph.children, depth),
  };
  return graph;
}

/** Kahn's algorithm; nodes on a cycle are left out (validation reports cycles separately). */
export function topologicalSort(
  keys: readonly string[],
  parents: (key: string) => readonly string[],
  children: (key: string) => readonly string[],
): string[] {
  const indegree = new Map<string, number>();
  for (const k of keys) indegree.set(k, parents(k).length);
  const queue: string[] = keys.filter((k) => indegree.get(k) === 0);
  const order: string[] = [];
  for (let i = 0; i < queue.length; i++) {
    const key = queue[i]!;
    order.push(key);
    for (const child of children(key)) {
      const d = indegree.get(child)! - 1;
      indegree.set(child, d);
      if (d === 0) queue.push(child);
    }
  }
  return order;
}

/**
 * Finds cycles; returns each as a path `[a, b, …, a]`. Iterative DFS (deep graphs do not
 * overflow the stack); each cycle is reported once.
 */
export function findCycles(keys: readonly string[], next: (key: string) => readonly string[]): string[][] {
  const WHITE = 0;
  const GREY = 1;
  const BLACK = 2;
  const color = new Map<string, number>();
  const cycles: string[][] = [];
  for (const root of keys) {
    if ((color.get(root) ?? WHITE) !== WHITE) continue;
    const stack: { key: string; i: number }[] = [{ key: root, i: 0 }];
    const path: string[] = [root];
    color.set(root, GREY);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const edges = next(top.key);
      if (top.i < edges.length) {
        const n = edges[top.i++]!;
        const c = color.get(n) ?? WHITE;
        if (c === WHITE) {
          color.set(n, GREY);
          stack.push({ key: n, i: 0 });
          path.push(n);
        } else if (c === GREY) {
          cycles.push([...path.slice(path.indexOf(n)), n]);
        }
      } else {
        color.set(top.key, BLACK);
        stack.pop();
        path.pop();
      }
    }
  }
  return cycles;
}
