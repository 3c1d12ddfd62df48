import { type AssetDefinition, asset } from "@baton/core";

/**
 * The benchmark DAG from issue #2, comparable with Dagster measured on the same machine:
 * layers of 10; asset i (layer L = floor(i/10), column j = i mod 10) depends on asset
 * (L-1)*10+j and, when j is even, also on (L-1)*10+(j+1) mod 10; each returns
 * (sum of its inputs + 1) mod 1000.
 */
export function benchDag(n: number): AssetDefinition<number>[] {
  const assets: AssetDefinition<number>[] = [];
  for (let i = 0; i < n; i++) {
    const layer = Math.floor(i / 10);
    const j = i % 10;
    const ins: Record<string, AssetDefinition<number>> = {};
    if (layer > 0) {
      ins.a = assets[(layer - 1) * 10 + j]!;
      if (j % 2 === 0) ins.b = assets[(layer - 1) * 10 + ((j + 1) % 10)]!;
    }
    assets.push(
      asset({ key: `asset_${i}`, ins }, async (_ctx, inputs) => {
        let sum = 0;
        for (const v of Object.values(inputs)) sum += v;
        return (sum + 1) % 1000;
      }),
    );
  }
  return assets;
}
