import { type QueryClient, useQueryClient } from "@tanstack/react-query";
import { createContext, type ReactNode, useContext, useEffect, useState } from "react";
import { followEvents, type StreamEvent } from "./event-stream";
import { queryKeys } from "./queries";

type Listener = (event: StreamEvent) => void;

interface LiveState {
  readonly connected: boolean;
  subscribe(listener: Listener): () => void;
}

const LiveContext = createContext<LiveState>({ connected: false, subscribe: () => () => {} });

/**
 * Invalidate a query at most once per `ms`, trailing (a burst of events → one re-read). A query
 * still fetching is left to finish and invalidated on a later beat: cancelling it for every burst
 * would starve a slow read (a large run's summary) under a steady stream of events.
 */
function throttledInvalidator(client: QueryClient, ms: number) {
  const pending = new Map<string, readonly unknown[]>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    timer = setTimeout(() => {
      timer = undefined;
      for (const [id, k] of [...pending]) {
        if (client.isFetching({ queryKey: k }) > 0) continue;
        pending.delete(id);
        void client.invalidateQueries({ queryKey: k });
      }
      if (pending.size > 0) arm();
    }, ms);
  };
  return (queryKey: readonly unknown[]) => {
    pending.set(JSON.stringify(queryKey), queryKey);
    if (timer === undefined) arm();
  };
}

/** Keeps one event stream open for the app; statuses in the query cache follow it live. */
export function LiveEventsProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const [connected, setConnected] = useState(false);
  const [listeners] = useState(() => new Set<Listener>());
  useEffect(() => {
    const controller = new AbortController();
    const invalidate = throttledInvalidator(client, 250);
    void followEvents(
      {
        onStatus: setConnected,
        onEvent(event) {
          invalidate(queryKeys.graphStatus);
          const { runId, assetKey } = event.data;
          if (runId) invalidate(queryKeys.run(runId));
          if (assetKey) invalidate(queryKeys.asset(assetKey));
          if (event.type.startsWith("run_")) {
            // Run lists (runs page, overview, a backfill's runs) change with run statuses.
            invalidate(["backfill"]);
            invalidate(["backfills"]);
            invalidate(["runs"]);
            invalidate(["overview"]);
          }
          for (const l of listeners) l(event);
        },
      },
      controller.signal,
    );
    return () => controller.abort();
  }, [client, listeners]);
  const [state] = useState<Omit<LiveState, "connected">>(() => ({
    subscribe(listener: Listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  }));
  return (
    <LiveContext.Provider value={{ connected, subscribe: state.subscribe }}>{children}</LiveContext.Provider>
  );
}

export const useLive = () => useContext(LiveContext);
