import type { AssetGraph } from "@baton/webserver/api-types";
import ELK from "elkjs/lib/elk.bundled.js";
import { describe, expect, test } from "vitest";
import { buildModel } from "../model";
import {
  composeLayout,
  ELK_MAX_NODES,
  groupJobs,
  groupLevelJob,
  layoutGroup,
  layoutGroupLevel,
} from "./engine";
import { fastLayered } from "./fast-layered";
import type { Box, GroupResult } from "./types";

const elk = new ELK();

function asset(key: string, group: string, deps: string[] = []): AssetGraph["assets"][number] {
  return {
    key,
    group,
    deps,
    kinds: [],
    owners: [],
    tags: {},
    description: null,
    computation: key,
    partitions: null,
    checks: [],
    automation: null,
  };
}

/** Lineage-shaped: each asset has 1–3 upstreams, mostly in its own group (deterministic). */
function syntheticGraph(count: number, groups: number): AssetGraph {
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const assets: AssetGraph["assets"] = [];
  for (let i = 0; i < count; i++) {
    const group = `g${i % groups}`;
    const deps = new Set<string>();
    if (i >= groups) {
      const n = 1 + Math.floor(rnd() * 3);
      for (let j = 0; j < n; j++) {
        const sameGroup = rnd() < 0.9;
        const back = 1 + Math.floor(rnd() * Math.min(i / groups, 20));
        const up = sameGroup ? i - back * groups : Math.floor(rnd() * i);
        if (up >= 0 && up < i) deps.add(`a${up}`);
      }
    }
    assets.push(asset(`a${i}`, group, [...deps]));
  }
  return { hash: "h", assets };
}

const overlaps = (a: Box, b: Box) =>
  a.x < b.x + b.width && a.x + a.width > b.x && a.y < b.y + b.height && a.y + a.height > b.y;
const inside = (a: Box, outer: Box) =>
  a.x >= outer.x &&
  a.y >= outer.y &&
  a.x + a.width <= outer.x + outer.width &&
  a.y + a.height <= outer.y + outer.height;

async function layoutAll(graph: AssetGraph, collapsed = new Set<string>()) {
  const model = buildModel(graph);
  const jobs = groupJobs(model);
  const results = new Map<string, GroupResult>();
  for (const [name, job] of jobs) if (!collapsed.has(name)) results.set(name, await layoutGroup(job, elk));
  const levelJob = groupLevelJob(model, collapsed, results);
  const level = layoutGroupLevel(levelJob);
  return { model, layout: composeLayout(model, collapsed, results, levelJob, level, jobs), results };
}

describe("layout (graph → boxes)", () => {
  test("every node sits inside its group box, no two nodes overlap, groups do not overlap", async () => {
    const { layout } = await layoutAll(syntheticGraph(120, 4));
    expect(layout.nodes.size).toBe(120);
    const nodes = [...layout.nodes.values()];
    for (const n of nodes) expect(inside(n, layout.groups.get(n.group)!)).toBe(true);
    for (let i = 0; i < nodes.length; i++)
      for (let j = i + 1; j < nodes.length; j++) expect(overlaps(nodes[i]!, nodes[j]!)).toBe(false);
    const groups = [...layout.groups.values()];
    for (let i = 0; i < groups.length; i++)
      for (let j = i + 1; j < groups.length; j++) expect(overlaps(groups[i]!, groups[j]!)).toBe(false);
  });

  test("lineage flows left to right inside a group (elk and the fast layout alike)", async () => {
    for (const size of [40, ELK_MAX_NODES * 4]) {
      const { model, layout, results } = await layoutAll(syntheticGraph(size, 1));
      expect(results.get("g0")!.engine).toBe(size > ELK_MAX_NODES ? "fast-layered" : "elk");
      for (const [from, to] of model.edges)
        expect(layout.nodes.get(to)!.x).toBeGreaterThan(layout.nodes.get(from)!.x);
    }
  });

  test("a collapsed group is one box: no nodes, edges end at the box, edges inside it vanish", async () => {
    const graph: AssetGraph = {
      hash: "h",
      assets: [
        asset("raw", "ingest"),
        asset("clean", "ingest", ["raw"]),
        asset("report", "reports", ["clean"]),
      ],
    };
    const { layout } = await layoutAll(graph, new Set(["ingest"]));
    const ingest = layout.groups.get("ingest")!;
    expect(ingest.collapsed).toBe(true);
    expect(ingest.count).toBe(2);
    expect(layout.nodes.has("raw")).toBe(false);
    expect(layout.nodes.has("report")).toBe(true);
    expect(layout.edges).toHaveLength(1);
    expect(layout.edges[0]).toMatchObject({ fromKey: "ingest", toKey: "report", from: ingest });
    // Upstream group to the left of the downstream one.
    expect(layout.groups.get("reports")!.x).toBeGreaterThan(ingest.x + ingest.width - 1);
  });

  test("cross-group edges are drawn between the nodes themselves when both groups are expanded", async () => {
    const graph: AssetGraph = {
      hash: "h",
      assets: [
        asset("raw", "ingest"),
        asset("report", "reports", ["raw"]),
        asset("other", "reports", ["raw"]),
      ],
    };
    const { layout } = await layoutAll(graph);
    expect(layout.edges.map((e) => `${e.fromKey}>${e.toKey}`).sort()).toEqual(["raw>other", "raw>report"]);
  });

  test("group jobs are keyed by content: same graph, same hash; one more edge, another hash", () => {
    const a = groupJobs(buildModel(syntheticGraph(50, 2)));
    const b = groupJobs(buildModel(syntheticGraph(50, 2)));
    expect([...a.values()].map((j) => j.hash)).toEqual([...b.values()].map((j) => j.hash));
    const changed = syntheticGraph(50, 2);
    changed.assets[48] = { ...changed.assets[48]!, deps: [...changed.assets[48]!.deps, "a0"] };
    const c = groupJobs(buildModel(changed));
    expect(c.get("g0")!.hash).not.toBe(a.get("g0")!.hash);
    expect(c.get("g1")!.hash).toBe(a.get("g1")!.hash);
  });

  test("the fast layout handles thousands of nodes in milliseconds, without overlaps", () => {
    const graph = syntheticGraph(5000, 1);
    const model = buildModel(graph);
    const job = groupJobs(model).get("g0")!;
    const started = performance.now();
    const r = fastLayered({
      count: job.nodes.length,
      edges: job.edges,
      width: 240,
      height: 68,
      gapX: 64,
      gapY: 20,
    });
    const ms = performance.now() - started;
    expect(ms).toBeLessThan(2000); // a bound that only a quadratic blow-up would break, not a timing target
    const seen = new Set(r.positions.map(([x, y]) => `${x},${y}`));
    expect(seen.size).toBe(5000);
    for (const [a, b] of job.edges) expect(r.positions[b]![0]).toBeGreaterThan(r.positions[a]![0]);
  });
});
