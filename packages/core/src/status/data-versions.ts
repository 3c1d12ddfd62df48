import type { ReadDataVersions } from "../execution/step-runner.js";
import type { Storage } from "../storage/storage.js";

/**
 * The store's current data versions of an asset (key "" when unpartitioned; partitions without a
 * known version are left out): what a run records as the versions its steps read.
 */
export function storedDataVersions(storage: Storage): ReadDataVersions {
  return async (assetKey, partitionKeys) => {
    const out = new Map<string, string>();
    if (partitionKeys === undefined) {
      const [s] = await storage.getAssetStatuses([assetKey]);
      const v = s?.lastMaterialization?.dataVersion;
      if (v) out.set("", v);
      return out;
    }
    if (partitionKeys.length === 0) return out;
    for (const r of await storage.getPartitions(assetKey, { keys: partitionKeys })) {
      const v = r.lastMaterialization?.dataVersion;
      if (v) out.set(r.partitionKey, v);
    }
    return out;
  };
}
