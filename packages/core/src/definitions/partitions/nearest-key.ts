import { editDistance } from "../definitions.js";
import type { PartitionKeySpace } from "./partitions.js";

/**
 * The valid key closest to `key`, for error messages. Small spaces: by edit distance. Large ones
 * (time windows, whose keys sort like their times): by binary search on the sorted keys, then the
 * neighbour sharing the longest prefix — O(log n) key lookups, never the whole list.
 */
export function nearestKey(space: PartitionKeySpace, key: string): string | undefined {
  const n = space.count();
  if (n === 0) return undefined;
  if (n <= 2000) {
    let best = space.keyAt(0);
    let bestD = Number.POSITIVE_INFINITY;
    for (const k of space.keys()) {
      const d = editDistance(key, k);
      if (d < bestD) {
        best = k;
        bestD = d;
      }
    }
    return best;
  }
  let lo = 0;
  let hi = n - 1;
  if (space.keyAt(0) > space.keyAt(n - 1)) return key < space.keyAt(0) ? space.keyAt(0) : space.keyAt(n - 1);
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (space.keyAt(mid) < key) lo = mid + 1;
    else hi = mid;
  }
  const candidates = [lo - 1, lo, lo + 1].filter((i) => i >= 0 && i < n).map((i) => space.keyAt(i));
  const prefix = (a: string) => {
    let i = 0;
    while (i < a.length && i < key.length && a[i] === key[i]) i++;
    return i;
  };
  return candidates.sort((a, b) => prefix(b) - prefix(a) || editDistance(key, a) - editDistance(key, b))[0];
}
