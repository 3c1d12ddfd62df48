/**
 * A linear-time layered layout for very large groups, where elk's layered algorithm is too slow
 * (measured here: ~0.4 s for 250 nodes, 11–27 s for 2,000). Longest-path layering (left to right),
 * a few barycenter sweeps to reduce crossings, then each node placed near the mean of its
 * neighbours in the previous layer without overlaps.
 */
export interface FastLayoutInput {
  readonly count: number;
  readonly edges: readonly (readonly [number, number])[];
  /** Every node's size: one for all, or one per node (group boxes). */
  readonly width: number | readonly number[];
  readonly height: number | readonly number[];
  readonly gapX: number;
  readonly gapY: number;
}

export function fastLayered(input: FastLayoutInput): {
  width: number;
  height: number;
  positions: [number, number][];
} {
  const { count, edges, gapX, gapY } = input;
  const widthOf = (i: number) => (typeof input.width === "number" ? input.width : input.width[i]!);
  const heightOf = (i: number) => (typeof input.height === "number" ? input.height : input.height[i]!);
  const parents: number[][] = Array.from({ length: count }, () => []);
  const children: number[][] = Array.from({ length: count }, () => []);
  const indegree = new Int32Array(count);
  for (const [a, b] of edges) {
    if (a === b) continue;
    parents[b]!.push(a);
    children[a]!.push(b);
    indegree[b]!++;
  }
  // Longest-path layering in topological order (Kahn); nodes left over by a cycle go last.
  const layer = new Int32Array(count);
  const queue: number[] = [];
  for (let i = 0; i < count; i++) if (indegree[i] === 0) queue.push(i);
  const seen = new Uint8Array(count);
  for (let q = 0; q < queue.length; q++) {
    const n = queue[q]!;
    seen[n] = 1;
    for (const c of children[n]!) {
      layer[c] = Math.max(layer[c]!, layer[n]! + 1);
      if (--indegree[c]! === 0) queue.push(c);
    }
  }
  let maxLayer = 0;
  for (let i = 0; i < count; i++) maxLayer = Math.max(maxLayer, layer[i]!);
  for (let i = 0; i < count; i++) if (!seen[i]) layer[i] = ++maxLayer;
  // Sinks move right next to their nearest child-less position: pull sources towards their children.
  for (let q = queue.length - 1; q >= 0; q--) {
    const n = queue[q]!;
    const cs = children[n]!;
    if (cs.length === 0 || parents[n]!.length > 0) continue;
    let min = Number.POSITIVE_INFINITY;
    for (const c of cs) min = Math.min(min, layer[c]!);
    layer[n] = Math.max(0, min - 1);
  }
  const layers: number[][] = Array.from({ length: maxLayer + 1 }, () => []);
  for (let i = 0; i < count; i++) layers[layer[i]!]!.push(i);
  const order = new Float64Array(count);
  const reindex = (l: number[]) => {
    for (let i = 0; i < l.length; i++) order[l[i]!] = i;
  };
  layers.forEach(reindex);
  const sweep = (from: number[][], neighbours: number[][]) => {
    for (const l of from) {
      for (const n of l) {
        const ns = neighbours[n]!;
        if (ns.length === 0) continue;
        let sum = 0;
        for (const m of ns) sum += order[m]!;
        order[n] = sum / ns.length;
      }
      l.sort((a, b) => order[a]! - order[b]!);
      reindex(l);
    }
  };
  for (let pass = 0; pass < 4; pass++) {
    sweep(layers, parents);
    sweep([...layers].reverse(), children);
  }
  // y: near the mean of the parents' centres, pushed down to avoid overlap within the layer;
  // x: each layer as wide as its widest node.
  const y = new Float64Array(count);
  for (const l of layers) {
    let next = 0;
    for (const n of l) {
      const ps = parents[n]!;
      let want = next;
      if (ps.length > 0) {
        let sum = 0;
        for (const p of ps) sum += y[p]! + heightOf(p) / 2;
        want = Math.max(next, Math.round(sum / ps.length - heightOf(n) / 2));
      }
      y[n] = want;
      next = want + heightOf(n) + gapY;
    }
  }
  const layerX: number[] = [];
  let x = 0;
  for (const l of layers) {
    layerX.push(x);
    let w = 0;
    for (const n of l) w = Math.max(w, widthOf(n));
    x += w + gapX;
  }
  let maxY = 0;
  const positions: [number, number][] = [];
  for (let i = 0; i < count; i++) {
    positions.push([layerX[layer[i]!]!, y[i]!]);
    maxY = Math.max(maxY, y[i]! + heightOf(i));
  }
  return { width: Math.max(0, x - gapX), height: maxY, positions };
}
