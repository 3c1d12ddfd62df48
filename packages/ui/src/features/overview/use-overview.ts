/**
 * The overview's reads. Query keys start with "overview" so the live event stream re-reads them on
 * every run event (see api/LiveEvents); the per-run and per-asset reads share the run page's and the
 * asset page's cache entries (so following a link shows the page at once).
 */
import type { AssetDetail, BackfillsPage, ChecksPage, RunDetail, RunsPage } from "@baton/webserver/api-types";
import { keepPreviousData, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { api, keySegment } from "../../api/client";
import { queryKeys } from "../../api/queries";
import { FETCH_LIMIT, QUEUED_STATUSES, RUNNING_STATUSES, windowStart } from "./overview-model";

export const overviewKeys = {
  failedRuns: ["overview", "runs", "failed"] as const,
  runningRuns: ["overview", "runs", "running"] as const,
  queuedRuns: ["overview", "runs", "queued"] as const,
  backfills: ["overview", "backfills"] as const,
};

const listRuns = (statuses: readonly string[], signal: AbortSignal, createdAfter?: string) =>
  api<RunsPage>("/api/runs", {
    signal,
    query: { status: statuses.join(","), limit: FETCH_LIMIT, createdAfter },
  });

/** Failed runs created in the last 24 h (the window slides: re-read every minute). */
export function useFailedRuns() {
  return useQuery({
    queryKey: overviewKeys.failedRuns,
    // The window is computed at each read, so the key stays the same as time passes.
    queryFn: ({ signal }) => listRuns(["FAILURE"], signal, windowStart(Date.now())),
    refetchInterval: 60_000,
    placeholderData: keepPreviousData,
  });
}

export function useRunningRuns() {
  return useQuery({
    queryKey: overviewKeys.runningRuns,
    queryFn: ({ signal }) => listRuns(RUNNING_STATUSES, signal),
    placeholderData: keepPreviousData,
  });
}

export function useQueuedRuns() {
  return useQuery({
    queryKey: overviewKeys.queuedRuns,
    queryFn: ({ signal }) => listRuns(QUEUED_STATUSES, signal),
    placeholderData: keepPreviousData,
  });
}

/** The newest backfills (the API has no status filter; active ones are the recent ones). */
export function useRecentBackfills() {
  return useQuery({
    queryKey: overviewKeys.backfills,
    queryFn: ({ signal }) => api<BackfillsPage>("/api/backfills", { signal, query: { limit: FETCH_LIMIT } }),
    placeholderData: keepPreviousData,
  });
}

/** The shown failed runs' details (for their failure reason): a failed run no longer changes. */
export function useRunDetails(runIds: readonly string[]) {
  return useQueries({
    queries: runIds.map((id) => ({
      queryKey: queryKeys.run(id),
      queryFn: ({ signal }: { signal: AbortSignal }) =>
        api<RunDetail>(`/api/runs/${encodeURIComponent(id)}`, { signal }),
      staleTime: Number.POSITIVE_INFINITY,
    })),
  });
}

/** The latest check results of the shown assets with failed checks (which check failed). */
export function useAssetChecks(keys: readonly string[]) {
  return useQueries({
    queries: keys.map((key) => ({
      queryKey: queryKeys.checks(key),
      queryFn: ({ signal }: { signal: AbortSignal }) =>
        api<ChecksPage>(`/api/assets/${keySegment(key)}/checks`, { signal }),
      staleTime: 30_000,
    })),
  });
}

/** The shown overdue assets' details (their freshness message says by how much). */
export function useAssetDetails(keys: readonly string[]) {
  return useQueries({
    queries: keys.map((key) => ({
      queryKey: queryKeys.assetDetail(key),
      queryFn: ({ signal }: { signal: AbortSignal }) =>
        api<AssetDetail>(`/api/assets/${keySegment(key)}`, { signal }),
      staleTime: 30_000,
    })),
  });
}

/**
 * Re-read the asset statuses now and then: an asset turns overdue as time passes, with no event to
 * say so.
 */
export function useGraphStatusClock(ms = 30_000) {
  const client = useQueryClient();
  useEffect(() => {
    const timer = setInterval(() => void client.invalidateQueries({ queryKey: queryKeys.graphStatus }), ms);
    return () => clearInterval(timer);
  }, [client, ms]);
}
