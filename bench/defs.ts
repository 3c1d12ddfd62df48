// npm run bench:defs — build + validate Definitions and the asset graph for N assets.
import { defineDefinitions } from "@baton/core";
import { benchDag } from "./dag.js";

for (const n of [1_000, 5_000, 10_000]) {
  const t0 = performance.now();
  const assets = benchDag(n);
  const t1 = performance.now();
  const defs = defineDefinitions({ assets });
  const order = defs.graph.topologicalOrder();
  const t2 = performance.now();
  if (order.length !== n) throw new Error(`expected ${n} assets in order, got ${order.length}`);
  console.log(
    JSON.stringify({
      bench: "defs",
      case: `dag-${n}`,
      assets: n,
      declareSeconds: +((t1 - t0) / 1000).toFixed(4),
      validateSeconds: +((t2 - t1) / 1000).toFixed(4),
      seconds: +((t2 - t0) / 1000).toFixed(4),
      msPerAsset: +((t2 - t0) / n).toFixed(4),
    }),
  );
}
