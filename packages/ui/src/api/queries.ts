/**
 * The UI's data layer: one hook per API read, typed from the webserver's response schemas
 * (`@baton/webserver/api-types`, inferred from the same zod schemas /api/openapi.json is built from).
 * Query keys live here so the live event stream can invalidate exactly what changed.
 */
import type {
  AssetDetail,
  AssetGraph,
  BackfillAnswer,
  BackfillDetail,
  ChecksPage,
  CreateBackfillBody,
  GraphStatus,
  Health,
  LaunchedRunAnswer,
  LaunchRunBody,
  MaterializationsPage,
  Me,
  MetadataSeries,
  PartitionKeys,
  PartitionStatus,
  RunDetail,
  Staleness,
} from "@baton/webserver/api-types";
import {
  keepPreviousData,
  type QueryClient,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from "@tanstack/react-query";
import { useEffect } from "react";
import { api, keySegment } from "./client";

export const queryKeys = {
  health: ["health"] as const,
  me: ["me"] as const,
  graph: ["graph"] as const,
  graphStatus: ["graph-status"] as const,
  /** Everything about one asset (detail, partitions, why, history, checks, series). */
  asset: (key: string) => ["asset", key] as const,
  assetDetail: (key: string) => ["asset", key, "detail"] as const,
  partitions: (key: string) => ["asset", key, "partitions"] as const,
  partitionKeys: (key: string, q: string, offset: number, limit?: number) =>
    ["asset", key, "partition-keys", q, offset, limit] as const,
  why: (key: string, partition: string | null) => ["asset", key, "why", partition] as const,
  materializations: (key: string, partition: string | null) =>
    ["asset", key, "materializations", partition] as const,
  checks: (key: string) => ["asset", key, "checks"] as const,
  series: (key: string, name: string) => ["asset", key, "series", name] as const,
  run: (id: string) => ["run", id] as const,
  backfill: (id: string) => ["backfill", id] as const,
};

const assetPath = (key: string, rest = "") => `/api/assets/${keySegment(key)}${rest}`;

export function useHealth() {
  return useQuery({
    queryKey: queryKeys.health,
    queryFn: ({ signal }) => api<Health>("/api/health", { signal }),
    // Daemon and worker liveness are heartbeats, not events: re-read them now and then.
    refetchInterval: 5000,
  });
}

export function useMe() {
  return useQuery({
    queryKey: queryKeys.me,
    queryFn: ({ signal }) => api<Me>("/api/me", { signal }),
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
}

const graphQuery = {
  queryKey: queryKeys.graph,
  queryFn: ({ signal }: { signal: AbortSignal }) => api<AssetGraph>("/api/assets", { signal }),
  staleTime: Number.POSITIVE_INFINITY,
};
const graphStatusQuery = {
  queryKey: queryKeys.graphStatus,
  queryFn: ({ signal }: { signal: AbortSignal }) => api<GraphStatus>("/api/graph/status", { signal }),
  staleTime: 30_000,
};

/** Start reading the graph and its statuses at once (in parallel with the sign-in check). */
export function prefetchGraph(client: QueryClient) {
  void client.prefetchQuery(graphQuery);
  void client.prefetchQuery(graphStatusQuery);
}

/** Start reading every asset's status at once (the overview). */
export function prefetchGraphStatus(client: QueryClient) {
  void client.prefetchQuery(graphStatusQuery);
}

/** The asset graph; re-read when the published definitions change (their hash is in /api/health). */
export function useAssetGraph() {
  const client = useQueryClient();
  const hash = useHealth().data?.definitions?.hash;
  const graph = useQuery(graphQuery);
  const stale = hash !== undefined && graph.data !== undefined && graph.data.hash !== hash;
  useEffect(() => {
    if (stale) void client.invalidateQueries({ queryKey: queryKeys.graph });
  }, [stale, client]);
  return graph;
}

/** Every asset's live status, refreshed from the event stream (see LiveEvents). */
export function useGraphStatus() {
  return useQuery({ ...graphStatusQuery, placeholderData: keepPreviousData });
}

export function useAssetDetail(key: string) {
  return useQuery({
    queryKey: queryKeys.assetDetail(key),
    queryFn: ({ signal }) => api<AssetDetail>(assetPath(key), { signal }),
  });
}

export function usePartitionStatus(key: string, enabled = true) {
  return useQuery({
    queryKey: queryKeys.partitions(key),
    queryFn: ({ signal }) => api<PartitionStatus>(assetPath(key, "/partitions"), { signal }),
    enabled,
    placeholderData: keepPreviousData,
  });
}

export function usePartitionKeys(key: string, q: string, offset = 0, limit = 200, enabled = true) {
  return useQuery({
    queryKey: queryKeys.partitionKeys(key, q, offset, limit),
    queryFn: ({ signal }) =>
      api<PartitionKeys>(assetPath(key, "/partition-keys"), {
        signal,
        query: { q: q || undefined, offset, limit },
      }),
    enabled,
    staleTime: 60_000,
    placeholderData: keepPreviousData,
  });
}

export function useWhy(key: string, partition: string | null, enabled = true) {
  return useQuery({
    queryKey: queryKeys.why(key, partition),
    queryFn: ({ signal }) => api<Staleness>(assetPath(key, "/why"), { signal, query: { partition } }),
    enabled,
  });
}

export function useMaterializations(key: string, partition: string | null = null, limit = 20) {
  return useInfiniteQuery({
    queryKey: queryKeys.materializations(key, partition),
    queryFn: ({ signal, pageParam }) =>
      api<MaterializationsPage>(assetPath(key, "/materializations"), {
        signal,
        query: { limit, cursor: pageParam, partition },
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

export function useChecks(key: string) {
  return useQuery({
    queryKey: queryKeys.checks(key),
    queryFn: ({ signal }) => api<ChecksPage>(assetPath(key, "/checks"), { signal }),
  });
}

export function useMetadataSeries(key: string, name: string | null) {
  return useQuery({
    queryKey: queryKeys.series(key, name ?? ""),
    queryFn: ({ signal }) =>
      api<MetadataSeries>(assetPath(key, `/metadata/${encodeURIComponent(name ?? "")}`), { signal }),
    enabled: name !== null,
  });
}

/** A run and its step summary (also read ahead when the app opens on a run page). */
export const runQuery = (id: string) => ({
  queryKey: queryKeys.run(id),
  queryFn: ({ signal }: { signal: AbortSignal }) =>
    api<RunDetail>(`/api/runs/${encodeURIComponent(id)}`, { signal }),
});

export function useRun(id: string) {
  return useQuery(runQuery(id));
}

export function useBackfill(id: string) {
  return useQuery({
    queryKey: queryKeys.backfill(id),
    queryFn: ({ signal }) => api<BackfillDetail>(`/api/backfills/${encodeURIComponent(id)}`, { signal }),
  });
}

/** After a launch: statuses change (queued), so re-read them at once rather than at the next event. */
function useLaunchInvalidation() {
  const client = useQueryClient();
  return () => client.invalidateQueries({ queryKey: queryKeys.graphStatus });
}

export function useLaunchRun() {
  const invalidate = useLaunchInvalidation();
  return useMutation({
    mutationFn: (body: LaunchRunBody) => api<LaunchedRunAnswer>("/api/runs", { body }),
    onSuccess: invalidate,
  });
}

export function useCreateBackfill() {
  const invalidate = useLaunchInvalidation();
  return useMutation({
    mutationFn: (body: CreateBackfillBody) => api<BackfillAnswer>("/api/backfills", { body }),
    onSuccess: invalidate,
  });
}
