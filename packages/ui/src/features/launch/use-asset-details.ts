import type { AssetDetail } from "@baton/webserver/api-types";
import { type QueryObserverResult, useQueries } from "@tanstack/react-query";
import { api, keySegment } from "../../api/client";
import { queryKeys } from "../../api/queries";

/** Module-level (stable), so the combined result keeps its identity while nothing changed. */
function combine(results: QueryObserverResult<AssetDetail>[]) {
  return {
    details: results.map((r) => r.data),
    pending: results.some((r) => r.isPending),
    errors: results.flatMap((r, index) => (r.error ? [{ index, error: r.error }] : [])),
  };
}

/** The detail of each key (same cache entries as useAssetDetail), in the order given. */
export function useAssetDetails(keys: readonly string[]) {
  return useQueries({
    queries: keys.map((key) => ({
      queryKey: queryKeys.assetDetail(key),
      queryFn: ({ signal }: { signal: AbortSignal }) =>
        api<AssetDetail>(`/api/assets/${keySegment(key)}`, { signal }),
    })),
    combine,
  });
}
