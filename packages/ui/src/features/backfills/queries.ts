/**
 * The backfill pages' data. Keys start with "backfill"/"backfills", so LiveEvents re-reads them on
 * run events; a backfill's own status (requested → running → completed) changes without one, so
 * they are also re-read every few seconds while something is in progress.
 */
import type { Backfill, BackfillDetail, BackfillsPage } from "@baton/webserver/api-types";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { api } from "../../api/client";
import { queryKeys } from "../../api/queries";

const ACTIVE = new Set<Backfill["status"]>(["REQUESTED", "RUNNING", "CANCELING"]);
export const isActive = (status: Backfill["status"]) => ACTIVE.has(status);

const POLL_MS = 2000;
export const BACKFILLS_PAGE = 30;

/** GET /api/backfills/{id}; re-read every 2 s while it is in progress. */
export function useBackfillDetail(id: string, enabled = true) {
  return useQuery({
    queryKey: queryKeys.backfill(id),
    queryFn: ({ signal }) => api<BackfillDetail>(`/api/backfills/${encodeURIComponent(id)}`, { signal }),
    enabled: enabled && id !== "",
    // A backfill of many keys is a large answer (every key): read it less often.
    refetchInterval: (q) => {
      const b = q.state.data?.backfill;
      if (!b || !isActive(b.status)) return false;
      return b.partitionKeys.length > 10_000 ? POLL_MS * 5 : POLL_MS;
    },
  });
}

/** GET /api/backfills as cursor pages, newest first. */
export function useBackfillsList() {
  return useInfiniteQuery({
    queryKey: ["backfills", "list"],
    queryFn: ({ signal, pageParam }) =>
      api<BackfillsPage>("/api/backfills", { signal, query: { limit: BACKFILLS_PAGE, cursor: pageParam } }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    refetchInterval: (q) =>
      q.state.data?.pages.some((p) => p.backfills.some((b) => isActive(b.status))) ? POLL_MS * 2 : false,
  });
}
