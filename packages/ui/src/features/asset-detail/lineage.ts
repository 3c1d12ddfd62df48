/** Two levels of lineage around one asset, from the graph's direct deps. */
import type { AssetGraphNode } from "@baton/webserver/api-types";

export interface Lineage {
  readonly upstream2: string[];
  readonly upstream1: string[];
  readonly downstream1: string[];
  readonly downstream2: string[];
}

const sorted = (s: Iterable<string>) => [...s].sort((a, b) => a.localeCompare(b));

export function lineageAround(assets: readonly Pick<AssetGraphNode, "key" | "deps">[], key: string): Lineage {
  const deps = new Map<string, readonly string[]>();
  const children = new Map<string, string[]>();
  for (const a of assets) {
    deps.set(a.key, a.deps);
    for (const d of a.deps) {
      const list = children.get(d);
      if (list) list.push(a.key);
      else children.set(d, [a.key]);
    }
  }
  const up1 = new Set(deps.get(key) ?? []);
  const up2 = new Set<string>();
  for (const u of up1) for (const d of deps.get(u) ?? []) if (d !== key && !up1.has(d)) up2.add(d);
  const down1 = new Set(children.get(key) ?? []);
  const down2 = new Set<string>();
  for (const c of down1) for (const d of children.get(c) ?? []) if (d !== key && !down1.has(d)) down2.add(d);
  return {
    upstream2: sorted(up2),
    upstream1: sorted(up1),
    downstream1: sorted(down1),
    downstream2: sorted(down2),
  };
}
