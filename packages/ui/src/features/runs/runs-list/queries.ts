/**
 * The runs list's data: GET /api/runs as cursor pages (TanStack useInfiniteQuery). The key starts with
 * "runs", so LiveEvents re-reads the loaded pages on every run event; a queued run makes no event, so
 * the first page is also re-read every few seconds while the tab is visible and merged in front.
 */
import type { RunsPage } from "@baton/webserver/api-types";
import { type InfiniteData, useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { api } from "../../../api/client";
import { mergeHead } from "./merge-head";

export const runsListKey = (query: Readonly<Record<string, string | number>>) =>
  ["runs", "list", query] as const;

/** How often the first page is re-read while the tab is visible (queued runs make no event). */
export const HEAD_POLL_MS = 5000;

export function useRunsList(query: Readonly<Record<string, string | number>>, enabled: boolean) {
  const client = useQueryClient();
  const key = runsListKey(query);
  const list = useInfiniteQuery({
    queryKey: key,
    queryFn: ({ signal, pageParam }) =>
      api<RunsPage>("/api/runs", { signal, query: { ...query, cursor: pageParam } }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled,
  });
  const ready = list.isSuccess;
  const keyText = JSON.stringify(key);
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyText is the key's identity
  useEffect(() => {
    if (!enabled || !ready) return;
    let stopped = false;
    const controller = new AbortController();
    const poll = async () => {
      if (document.visibilityState !== "visible" || client.isFetching({ queryKey: key }) > 0) return;
      try {
        const fresh = await api<RunsPage>("/api/runs", { signal: controller.signal, query });
        if (stopped || client.isFetching({ queryKey: key }) > 0) return;
        const old = client.getQueryData<InfiniteData<RunsPage, string | undefined>>(key);
        const merged = mergeHead(old, fresh);
        if (merged === "unchanged") return;
        if (merged === "refetch") void client.invalidateQueries({ queryKey: key, exact: true });
        else client.setQueryData(key, merged as InfiniteData<RunsPage, string | undefined>);
      } catch {
        // a failed poll is retried at the next beat; the list's own errors are shown by the page
      }
    };
    const timer = setInterval(() => void poll(), HEAD_POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
      controller.abort();
    };
  }, [client, keyText, enabled, ready]);
  return list;
}
