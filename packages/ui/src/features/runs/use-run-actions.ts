import type { BackfillAnswer, RunAnswer } from "@baton/webserver/api-types";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client";
import { queryKeys } from "../../api/queries";

const seg = encodeURIComponent;

/** POST /api/runs/{id}/cancel; the run query is re-read at once. */
export function useCancelRun(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api<RunAnswer>(`/api/runs/${seg(id)}/cancel`, { method: "POST" }),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.run(id) }),
  });
}

/** POST /api/backfills/{id}/cancel. */
export function useCancelBackfill(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api<BackfillAnswer>(`/api/backfills/${seg(id)}/cancel`, { method: "POST" }),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.backfill(id) }),
  });
}

/** POST /api/backfills/{id}/retry: a new backfill re-running what did not succeed. */
export function useRetryBackfill(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api<BackfillAnswer>(`/api/backfills/${seg(id)}/retry`, { method: "POST" }),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.backfill(id) }),
  });
}
