/**
 * Data hooks of the automation pages. Ticks produce no events on the stream, so these poll every
 * few seconds while the page is visible (TanStack Query pauses `refetchInterval` in a hidden tab).
 */
import type {
  AutomationEvaluations,
  AutomationSwitch,
  BackfillDetail,
  CursorReset,
  InstigatorStateAnswer,
  Jobs,
  Preview,
  RunDetail,
  RunsPage,
  Schedules,
  Sensors,
  TicksPage,
} from "@baton/webserver/api-types";
import {
  keepPreviousData,
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
} from "@tanstack/react-query";
import { api, isApiError } from "../../api/client";
import {
  type InstigatorStatus,
  type Instigators,
  type Kind,
  namesToSwitch,
  withStatus,
  withStatuses,
} from "./automation-model";

/** How often the pages re-read ticks and states (no events announce them). */
export const POLL_MS = 3000;

export const automationKeys = {
  all: ["automation"] as const,
  instigators: ["automation", "instigators"] as const,
  ticks: (name: string) => ["automation", "ticks", name] as const,
  launchedRuns: (kind: Kind, name: string) => ["automation", "launched-runs", kind, name] as const,
  lookup: (id: string) => ["automation", "lookup", id] as const,
  evaluations: (asset: string | null) => ["automation", "evaluations", asset ?? ""] as const,
  jobs: ["automation", "jobs"] as const,
};

const enc = encodeURIComponent;

export function useInstigators() {
  return useQuery({
    queryKey: automationKeys.instigators,
    queryFn: async ({ signal }): Promise<Instigators> => {
      const [schedules, sensors] = await Promise.all([
        api<Schedules>("/api/schedules", { signal }),
        api<Sensors>("/api/sensors", { signal }),
      ]);
      return { schedules: schedules.schedules, sensors: sensors.sensors };
    },
    refetchInterval: POLL_MS,
  });
}

/**
 * Start or stop one schedule or sensor, optimistically: the switch moves at once and moves back
 * (with the server's message) when the server refuses.
 */
export function useToggleInstigator() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ name, to }: { name: string; to: InstigatorStatus }) =>
      api<InstigatorStateAnswer>(`/api/automation/${enc(name)}/${to === "RUNNING" ? "start" : "stop"}`, {
        body: {},
      }),
    onMutate: async ({ name, to }) => {
      await client.cancelQueries({ queryKey: automationKeys.instigators });
      const previous = client.getQueryData<Instigators>(automationKeys.instigators);
      if (previous) client.setQueryData(automationKeys.instigators, withStatus(previous, name, to));
      return { previous };
    },
    onError: (_error, _vars, context) => {
      if (context?.previous) client.setQueryData(automationKeys.instigators, context.previous);
    },
    onSettled: () => client.invalidateQueries({ queryKey: automationKeys.all }),
  });
}

/** Start all / stop all (optionally of one kind); answers the names that changed. */
export function useSwitchAll() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ to, kind }: { to: InstigatorStatus; kind?: Kind }) =>
      api<AutomationSwitch>(`/api/automation/${to === "RUNNING" ? "start-all" : "stop-all"}`, {
        body: kind ? { kind } : {},
      }),
    onMutate: async ({ to, kind }) => {
      await client.cancelQueries({ queryKey: automationKeys.instigators });
      const previous = client.getQueryData<Instigators>(automationKeys.instigators);
      if (previous)
        client.setQueryData(
          automationKeys.instigators,
          withStatuses(previous, namesToSwitch(previous, to, kind), to),
        );
      return { previous };
    },
    onError: (_error, _vars, context) => {
      if (context?.previous) client.setQueryData(automationKeys.instigators, context.previous);
    },
    onSettled: () => client.invalidateQueries({ queryKey: automationKeys.all }),
  });
}

export const TICKS_PAGE = 25;
/** Up to this many loaded pages of ticks keep refreshing. */
export const LIVE_TICK_PAGES = 4;

/** A schedule's or sensor's ticks, newest first, a page at a time (all loaded pages re-read). */
export function useTicks(name: string, enabled = true) {
  return useInfiniteQuery({
    queryKey: automationKeys.ticks(name),
    queryFn: ({ signal, pageParam }) =>
      api<TicksPage>(`/api/automation/${enc(name)}/ticks`, {
        signal,
        query: { limit: TICKS_PAGE, cursor: pageParam },
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    // Every loaded page is re-read on a refetch: stop polling once many older pages are open.
    refetchInterval: (q) => ((q.state.data?.pages.length ?? 1) <= LIVE_TICK_PAGES ? POLL_MS : false),
    enabled,
  });
}

/** The runs a schedule or sensor launched (newest 500): resolves the ids its ticks name. */
export function useLaunchedRuns(kind: Kind, name: string, enabled = true) {
  return useQuery({
    queryKey: automationKeys.launchedRuns(kind, name),
    queryFn: ({ signal }) => api<RunsPage>("/api/runs", { signal, query: { [kind]: name, limit: 500 } }),
    refetchInterval: POLL_MS,
    placeholderData: keepPreviousData,
    enabled,
  });
}

export type LookedUp =
  | { readonly kind: "run"; readonly id: string; readonly status: string }
  | { readonly kind: "backfill"; readonly id: string; readonly status: string; readonly runIds: string[] }
  | { readonly kind: "gone"; readonly id: string };

/**
 * One launched id the runs list did not resolve: a run, else a backfill, else gone (deleted). A
 * known backfill (`backfill`) is read as one at once.
 */
export function useLookup(id: string, enabled: boolean, backfill = false) {
  return useQuery({
    queryKey: automationKeys.lookup(id),
    queryFn: async ({ signal }): Promise<LookedUp> => {
      if (!backfill)
        try {
          const r = await api<RunDetail>(`/api/runs/${enc(id)}`, { signal });
          return { kind: "run", id, status: r.run.status };
        } catch (error) {
          if (!isApiError(error) || error.status !== 404) throw error;
        }
      try {
        const b = await api<BackfillDetail>(`/api/backfills/${enc(id)}`, { signal });
        return { kind: "backfill", id, status: b.backfill.status, runIds: b.runs.map((r) => r.runId) };
      } catch (error) {
        if (isApiError(error) && error.status === 404) return { kind: "gone", id };
        throw error;
      }
    },
    enabled,
    refetchInterval: (q) => (q.state.data?.kind === "backfill" ? POLL_MS : false),
  });
}

/** Declarative automation decisions (eager / onCron), newest first; one asset's when given. */
export function useEvaluations(asset: string | null, limit = 1000) {
  return useQuery({
    queryKey: automationKeys.evaluations(asset),
    queryFn: ({ signal }) =>
      api<AutomationEvaluations>("/api/automation/evaluations", {
        signal,
        query: { limit, asset: asset ?? undefined },
      }),
    refetchInterval: POLL_MS,
    placeholderData: keepPreviousData,
  });
}

export function useJobs() {
  return useQuery({
    queryKey: automationKeys.jobs,
    queryFn: ({ signal }) => api<Jobs>("/api/jobs", { signal }),
    staleTime: 60_000,
  });
}

/** Ask the daemon what the schedule or sensor would do now (nothing is launched). */
export function usePreview(name: string) {
  return useMutation({
    mutationFn: () => api<Preview>(`/api/automation/${enc(name)}/preview`, { body: {} }),
  });
}

export function useResetCursor(name: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => api<CursorReset>(`/api/sensors/${enc(name)}/cursor/reset`, { body: {} }),
    onSettled: () => client.invalidateQueries({ queryKey: automationKeys.instigators }),
  });
}
