import type { PartitionKeys } from "@baton/webserver/api-types";
import { keepPreviousData, type QueryClient, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, keySegment } from "../../api/client";
import { queryKeys, usePartitionKeys } from "../../api/queries";
import { findKeyIndex, type KeyRef, lowerBound } from "./launch-request";

/** One page of a key search: the keys (with their position when known) and how many match. */
export interface KeyPage {
  readonly keys: readonly KeyRef[];
  readonly total: number | null;
  /** `total` is a lower bound (the server stopped scanning, or a prefix page was full). */
  readonly atLeast: boolean;
  readonly loading: boolean;
  readonly error: string | null;
}

const page = (client: QueryClient, assetKey: string, offset: number, limit: number) =>
  client.fetchQuery({
    queryKey: queryKeys.partitionKeys(assetKey, "", offset, limit),
    queryFn: ({ signal }) =>
      api<PartitionKeys>(`/api/assets/${keySegment(assetKey)}/partition-keys`, {
        signal,
        query: { offset, limit },
      }),
    staleTime: 60_000,
  });

/** Key spaces up to this size are read in one page (the API's largest) to find a key's position. */
const SMALL = 1000;

/** Reads one key by position (cached: binary searches share their probes). */
export function keyReader(client: QueryClient, assetKey: string) {
  return async (index: number) => (await page(client, assetKey, index, 1)).keys[0];
}

/** The position of a key in the asset's (sorted) key space, or null (see findKeyIndex). */
export async function lookUpKeyIndex(client: QueryClient, assetKey: string, key: string, total: number) {
  // A small key space (static partitions, in any order) is read whole: one page.
  if (total <= SMALL) {
    const i = (await page(client, assetKey, 0, SMALL)).keys.indexOf(key);
    return i >= 0 ? i : null;
  }
  return findKeyIndex(key, total, keyReader(client, assetKey));
}

/**
 * Keys of a sorted key space (time partitions) starting with `q`: a binary search for the first one
 * (~20 one-key reads for a million), then one page from there. Finds recent keys that the server's
 * substring scan (bounded to the first 200,000 keys) does not reach. Empty when nothing starts with q.
 */
async function prefixPage(client: QueryClient, assetKey: string, q: string, limit: number) {
  const { total } = await page(client, assetKey, 0, 1);
  const start = await lowerBound(q, total, keyReader(client, assetKey));
  if (start >= total) return { keys: [] as KeyRef[], full: false };
  const p = await page(client, assetKey, start, limit);
  const keys: KeyRef[] = [];
  for (const [i, key] of p.keys.entries()) {
    if (!key.startsWith(q)) break;
    keys.push({ key, index: start + i });
  }
  return { keys, full: keys.length === p.keys.length && p.keys.length === limit };
}

/**
 * Search an asset's partition keys on the server, one page at a time (the key space is never
 * loaded whole). Without a query: the first page, positions known. In a sorted key space, a query
 * is first read as a prefix (positions known, so a range is counted at once); otherwise, or when
 * no key starts with it, the server's substring search answers.
 */
export function useKeySearch(
  assetKey: string,
  q: string,
  limit: number,
  enabled: boolean,
  sorted: boolean,
): KeyPage {
  const client = useQueryClient();
  const prefix = useQuery({
    queryKey: [...queryKeys.asset(assetKey), "partition-keys-prefix", q, limit],
    queryFn: () => prefixPage(client, assetKey, q, limit),
    enabled: enabled && sorted && q !== "",
    staleTime: 60_000,
    placeholderData: keepPreviousData,
  });
  const usePrefix = sorted && q !== "" && (prefix.isPending || (prefix.data?.keys.length ?? 0) > 0);
  const substring = usePartitionKeys(assetKey, q, 0, limit, enabled && !usePrefix);
  if (usePrefix) {
    const d = prefix.data;
    return {
      keys: d?.keys ?? [],
      total: d ? d.keys.length : null,
      atLeast: d?.full ?? false,
      loading: prefix.isFetching,
      error: prefix.error ? (prefix.error as Error).message : null,
    };
  }
  const data = substring.data;
  return {
    // Without a search the page starts at offset 0, so each key's position is known.
    keys: (data?.keys ?? []).map((key, i) => ({ key, index: q ? undefined : data!.offset + i })),
    total: data?.total ?? null,
    atLeast: data?.truncated ?? false,
    loading: substring.isFetching,
    error: substring.error ? (substring.error as Error).message : null,
  };
}
