import { describe, expect, it } from "vitest";
import {
  type AssetGraph,
  asset,
  defineDefinitions,
  InvalidDefinitionError,
  input,
  multiAsset,
} from "../internal.js";
import { findCycles } from "./asset-graph.js";

const body = () => 1;

/** Graph of assets given as `key -> deps`, in declaration order. */
function graphOf(spec: Readonly<Record<string, readonly string[]>>): AssetGraph {
  return defineDefinitions({
    assets: Object.entries(spec).map(([key, deps]) => asset({ key, deps }, body)),
  }).graph;
}

/** mulberry32: a small seeded PRNG, so the random graphs are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random DAG: node i may depend on nodes ranked before it; declared in a shuffled order. */
function randomDag(n: number, seed: number): { parents: Map<string, string[]>; declared: string[] } {
  const random = prng(seed);
  const parents = new Map<string, string[]>();
  for (let i = 0; i < n; i++) {
    const deps = new Set<string>();
    if (i > 0) {
      const count = Math.floor(random() * 4); // 0..3 parents
      for (let j = 0; j < count; j++) deps.add(`n${Math.floor(random() * i)}`);
    }
    parents.set(`n${i}`, [...deps]);
  }
  const declared = [...parents.keys()];
  for (let i = declared.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [declared[i], declared[j]] = [declared[j]!, declared[i]!];
  }
  return { parents, declared };
}

/** Reference BFS: keys reachable from `start` within `depth` steps, excluding `start`. */
function reach(
  start: Iterable<string>,
  next: (k: string) => readonly string[],
  depth = Infinity,
): Set<string> {
  const startSet = new Set(start);
  const seen = new Set<string>();
  let frontier = [...startSet];
  for (let level = 0; level < depth && frontier.length > 0; level++) {
    const nextFrontier: string[] = [];
    for (const k of frontier)
      for (const n of next(k))
        if (!seen.has(n) && !startSet.has(n)) {
          seen.add(n);
          nextFrontier.push(n);
        }
    frontier = nextFrontier;
  }
  return seen;
}

const sorted = (keys: Iterable<string>) => [...keys].sort();

/**
 *   raw ──► clean ──► daily ──► report
 *    │                  ▲
 *    └──► zones ────────┘        lonely
 */
const shop = () =>
  graphOf({
    raw: [],
    clean: ["raw"],
    zones: ["raw"],
    daily: ["clean", "zones"],
    report: ["daily"],
    lonely: [],
  });

describe("asset graph (via defineDefinitions(...).graph)", () => {
  it("keys, has, asset, parents and children", () => {
    const g = shop();
    expect(g.keys).toEqual(["raw", "clean", "zones", "daily", "report", "lonely"]);
    expect(g.has("daily")).toBe(true);
    expect(g.has("nope")).toBe(false);
    expect(g.asset("daily")?.key).toBe("daily");
    expect(g.asset("daily")?.parents).toEqual(["clean", "zones"]);
    expect(g.asset("nope")).toBeUndefined();
    expect(g.parents("daily")).toEqual(["clean", "zones"]);
    expect(g.children("raw")).toEqual(["clean", "zones"]);
    expect(g.parents("raw")).toEqual([]);
    expect(g.children("report")).toEqual([]);
    expect(g.parents("nope")).toEqual([]);
    expect(g.children("nope")).toEqual([]);
  });

  it("parents combine deps and ins, without duplicates", () => {
    const up = asset({ key: "up" }, body);
    const other = asset({ key: "other" }, body);
    const down = asset({ key: "down", deps: [up, "other"], ins: { u: up, o: input<number>("other") } }, body);
    const g = defineDefinitions({ assets: [up, other, down] }).graph;
    expect(sorted(g.parents("down"))).toEqual(["other", "up"]);
    expect(g.children("up")).toEqual(["down"]);
    expect(g.children("other")).toEqual(["down"]);
  });

  it("roots and sinks (an isolated asset is both)", () => {
    const g = shop();
    expect(g.roots()).toEqual(["raw", "lonely"]);
    expect(g.sinks()).toEqual(["report", "lonely"]);
  });

  it("multi-asset outputs are separate nodes of one computation", () => {
    const m = multiAsset(
      {
        name: "split",
        deps: ["raw"],
        outs: { a: { key: "split/a" }, b: { key: "split/b", deps: ["extra"] } },
      },
      () => ({}),
    );
    const g = defineDefinitions({
      assets: [asset({ key: "raw" }, body), asset({ key: "extra" }, body), m],
    }).graph;
    expect(g.parents("split/a")).toEqual(["raw"]);
    expect(sorted(g.parents("split/b"))).toEqual(["extra", "raw"]);
    expect(g.asset("split/a")?.computation).toBe(m);
    expect(g.asset("split/b")?.computation).toBe(m);
    expect(g.children("raw")).toEqual(["split/a", "split/b"]);
  });

  it("topological order puts every asset after its parents and is deterministic", () => {
    const g = shop();
    const order = g.topologicalOrder();
    expect(sorted(order)).toEqual(sorted(g.keys));
    for (const key of g.keys)
      for (const p of g.parents(key)) expect(order.indexOf(p)).toBeLessThan(order.indexOf(key));
    expect(shop().topologicalOrder()).toEqual(order);
  });

  it("independent assets keep declaration order", () => {
    expect(graphOf({ c: [], a: [], b: [] }).topologicalOrder()).toEqual(["c", "a", "b"]);
  });

  it("topological order respects every edge of a random 500-node DAG", () => {
    for (const seed of [1, 42, 2024]) {
      const { parents, declared } = randomDag(500, seed);
      const g = graphOf(Object.fromEntries(declared.map((k) => [k, parents.get(k)!])));
      const order = g.topologicalOrder();
      expect(order).toHaveLength(500);
      expect(new Set(order).size).toBe(500);
      const position = new Map(order.map((k, i) => [k, i]));
      let edges = 0;
      for (const [key, ps] of parents) {
        expect(sorted(g.parents(key))).toEqual(sorted(ps));
        for (const p of ps) {
          edges++;
          if (position.get(p)! >= position.get(key)!)
            expect.fail(`seed ${seed}: ${p} (parent) comes after ${key} in topological order`);
        }
      }
      expect(edges).toBeGreaterThan(500); // the DAG is not trivial
      // children are the reverse of parents
      let childEdges = 0;
      for (const key of g.keys) childEdges += g.children(key).length;
      expect(childEdges).toBe(edges);
    }
  });

  describe("upstreamOf / downstreamOf", () => {
    const g = shop();

    it("without depth: everything upstream / downstream, excluding the start", () => {
      expect(sorted(g.upstreamOf(["report"]))).toEqual(["clean", "daily", "raw", "zones"]);
      expect(sorted(g.downstreamOf(["raw"]))).toEqual(["clean", "daily", "report", "zones"]);
      expect(g.upstreamOf(["raw"]).size).toBe(0);
      expect(g.downstreamOf(["report"]).size).toBe(0);
      expect(g.upstreamOf(["lonely"]).size).toBe(0);
      expect(g.downstreamOf([]).size).toBe(0);
    });

    it("with depth", () => {
      expect(sorted(g.upstreamOf(["report"], 1))).toEqual(["daily"]);
      expect(sorted(g.upstreamOf(["report"], 2))).toEqual(["clean", "daily", "zones"]);
      expect(sorted(g.upstreamOf(["report"], 3))).toEqual(["clean", "daily", "raw", "zones"]);
      expect(sorted(g.upstreamOf(["report"], 99))).toEqual(["clean", "daily", "raw", "zones"]);
      expect(sorted(g.downstreamOf(["raw"], 1))).toEqual(["clean", "zones"]);
      expect(sorted(g.downstreamOf(["raw"], 2))).toEqual(["clean", "daily", "zones"]);
      expect(g.upstreamOf(["report"], 0).size).toBe(0);
      expect(g.downstreamOf(["raw"], 0).size).toBe(0);
    });

    it("several start keys: the union, not including any start key", () => {
      expect(sorted(g.upstreamOf(["clean", "zones"]))).toEqual(["raw"]);
      expect(sorted(g.downstreamOf(["clean", "daily"]))).toEqual(["report"]);
      expect(sorted(g.upstreamOf(new Set(["report", "daily"])))).toEqual(["clean", "raw", "zones"]);
    });

    it("matches a reference BFS on a random DAG, with and without depth", () => {
      const { parents, declared } = randomDag(300, 7);
      const rg = graphOf(Object.fromEntries(declared.map((k) => [k, parents.get(k)!])));
      const random = prng(99);
      for (let i = 0; i < 25; i++) {
        const start = [declared[Math.floor(random() * 300)]!, declared[Math.floor(random() * 300)]!];
        for (const depth of [undefined, 1, 2, 3]) {
          expect(sorted(rg.upstreamOf(start, depth))).toEqual(sorted(reach(start, rg.parents, depth)));
          expect(sorted(rg.downstreamOf(start, depth))).toEqual(sorted(reach(start, rg.children, depth)));
        }
      }
    });
  });
});

describe("findCycles", () => {
  const nextOf = (edges: Readonly<Record<string, readonly string[]>>) => (k: string) => edges[k] ?? [];

  it("returns no cycles for a DAG", () => {
    expect(findCycles(["a", "b", "c"], nextOf({ a: ["b"], b: ["c"], c: [] }))).toEqual([]);
    expect(findCycles([], nextOf({}))).toEqual([]);
  });

  it("returns each cycle as a closed path along the edges", () => {
    expect(findCycles(["a"], nextOf({ a: ["a"] }))).toEqual([["a", "a"]]);
    expect(findCycles(["a", "b"], nextOf({ a: ["b"], b: ["a"] }))).toEqual([["a", "b", "a"]]);
    expect(findCycles(["a", "b", "c"], nextOf({ a: ["b"], b: ["c"], c: ["a"] }))).toEqual([
      ["a", "b", "c", "a"],
    ]);
  });

  it("the path starts where the cycle is entered, without the lead-in", () => {
    expect(findCycles(["s", "a", "b"], nextOf({ s: ["a"], a: ["b"], b: ["a"] }))).toEqual([["a", "b", "a"]]);
  });

  it("reports disjoint cycles separately", () => {
    const cycles = findCycles(
      ["a", "b", "x", "y", "z"],
      nextOf({ a: ["b"], b: ["a"], x: ["y"], y: ["z"], z: ["x"] }),
    );
    expect(cycles).toEqual([
      ["a", "b", "a"],
      ["x", "y", "z", "x"],
    ]);
  });

  it("every reported path follows real edges and is closed", () => {
    const edges: Record<string, string[]> = { a: ["b", "c"], b: ["c", "a"], c: ["a", "d"], d: ["d"] };
    const cycles = findCycles(Object.keys(edges), nextOf(edges));
    expect(cycles.length).toBeGreaterThan(0);
    for (const cycle of cycles) {
      expect(cycle[0]).toBe(cycle[cycle.length - 1]);
      for (let i = 0; i + 1 < cycle.length; i++) expect(edges[cycle[i]!]).toContain(cycle[i + 1]);
    }
  });

  it("does not overflow the stack on a 100,000-node chain closing into a cycle", () => {
    const n = 100_000;
    const keys = Array.from({ length: n }, (_, i) => `k${i}`);
    const next = (k: string) => [`k${(Number(k.slice(1)) + 1) % n}`];
    const cycles = findCycles(keys, next);
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toHaveLength(n + 1);
    expect(cycles[0]![0]).toBe("k0");
    expect(cycles[0]![n - 1]).toBe(`k${n - 1}`);
    expect(cycles[0]![n]).toBe("k0");
  });
});

describe("large graphs", () => {
  const N = 10_000;
  const key = (i: number) => `chain/n${i}`;

  it("a 10,000-node chain: topological order has every node, in chain order", () => {
    // Declared downstream-first, so the order cannot just echo the declaration order.
    const assets = Array.from({ length: N }, (_, j) => {
      const i = N - 1 - j;
      return asset({ key: key(i), deps: i === 0 ? [] : [key(i - 1)] }, body);
    });
    const g = defineDefinitions({ assets }).graph;
    const order = g.topologicalOrder();
    expect(order).toHaveLength(N);
    expect(order).toEqual(Array.from({ length: N }, (_, i) => key(i)));
    expect(g.roots()).toEqual([key(0)]);
    expect(g.sinks()).toEqual([key(N - 1)]);
    expect(g.upstreamOf([key(N - 1)]).size).toBe(N - 1);
    expect(g.downstreamOf([key(0)]).size).toBe(N - 1);
    expect(g.upstreamOf([key(N - 1)], 10).size).toBe(10);
  });

  it("a 10,000-node chain closing into a cycle is reported (no stack overflow)", () => {
    const assets = Array.from({ length: N }, (_, i) =>
      asset({ key: key(i), deps: [key(i === 0 ? N - 1 : i - 1)] }, body),
    );
    let error: unknown;
    try {
      defineDefinitions({ assets });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidDefinitionError);
    const problems = (error as InvalidDefinitionError).problems;
    expect(problems).toHaveLength(1);
    const path = [...Array.from({ length: N }, (_, i) => key(i)), key(0)];
    expect(problems[0]).toEqual({ where: key(0), message: `dependency cycle: ${path.join(" -> ")}` });
  });
});
