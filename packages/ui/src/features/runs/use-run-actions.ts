import type { BackfillAnswer, LaunchedRunAnswer, RunAnswer } from "@baton/webserver/api-types";
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

/** POST /api/runs/{id}/reexecute: a new queued run of everything, or only of what did not succeed. */
export function useReexecuteRun(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (fromFailure: boolean) =>
      api<LaunchedRunAnswer>(`/api/runs/${seg(id)}/reexecute`, {
        method: "POST",
        body: fromFailure ? { fromFailure: true } : {},
      }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["runs"] }),
  });
}
