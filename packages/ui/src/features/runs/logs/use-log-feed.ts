import type { RunEventsPage } from "@baton/webserver/api-types";
import { useEffect, useRef, useState, useSyncExternalStore } from "react";
import { api } from "../../../api/client";
import { followEvents } from "../../../api/event-stream";
import { type FeedDeps, FIRST_PAGE_SIZE, LogFeed, nextFrame } from "./log-feed";

const readPage = (runId: string, after: number | undefined, limit: number, signal?: AbortSignal) =>
  api<RunEventsPage>(`/api/runs/${encodeURIComponent(runId)}/events`, {
    query: { after, limit },
    ...(signal ? { signal } : {}),
  });

/**
 * First pages asked for ahead of the viewer (by run id), used if the viewer mounts within 10 s.
 * `page: null` marks one the viewer already took: asking again within 10 s (the run page's effect
 * running after the viewer's) reads nothing twice.
 */
const prefetched = new Map<string, { at: number; page: Promise<RunEventsPage> | null }>();
const PREFETCH_MS = 10_000;

/**
 * Start reading a run's first page of log lines now, before the viewer mounts (the run page can
 * call it before its own run query answers, so the two requests go out together).
 */
export function prefetchRunLogs(runId: string) {
  const hit = prefetched.get(runId);
  if (!runId || (hit && Date.now() - hit.at < PREFETCH_MS)) return;
  const page = readPage(runId, undefined, FIRST_PAGE_SIZE);
  // A failed read is forgotten: the viewer (or its "Try again") reads afresh and says what went wrong.
  page.catch(() => {
    if (prefetched.get(runId)?.page === page) prefetched.delete(runId);
  });
  prefetched.set(runId, { at: Date.now(), page });
}

const DEPS: FeedDeps = {
  fetchPage: (runId, after, limit, signal) => {
    if (after === undefined) {
      const hit = prefetched.get(runId);
      prefetched.set(runId, { at: Date.now(), page: null });
      if (hit?.page && Date.now() - hit.at < PREFETCH_MS) return hit.page;
    }
    return readPage(runId, after, limit, signal);
  },
  follow: followEvents,
  schedule: nextFrame,
};

const noSubscribe = () => () => {};
const zero = () => 0;

/** The run's log feed (one per run id), re-rendering the caller when it changes. */
export function useLogFeed(runId: string, ended: boolean): { feed: LogFeed | null; version: number } {
  const [feed, setFeed] = useState<LogFeed | null>(null);
  const endedRef = useRef(ended);
  endedRef.current = ended;
  useEffect(() => {
    const f = new LogFeed(runId, endedRef.current, DEPS);
    setFeed(f);
    f.start();
    // back online after a failed read: read on (the live stream reconnects on its own)
    const online = () => {
      if (f.error !== null) f.retry();
    };
    window.addEventListener("online", online);
    return () => {
      window.removeEventListener("online", online);
      f.stop();
    };
  }, [runId]);
  useEffect(() => {
    feed?.setEnded(ended);
  }, [feed, ended]);
  const version = useSyncExternalStore(feed?.subscribe ?? noSubscribe, feed?.getVersion ?? zero);
  return { feed: feed?.runId === runId ? feed : null, version };
}

/** A value kept in localStorage between visits (`parse` rejects what is stored when it is not valid). */
export function usePersistent<T>(key: string, fallback: T, parse: (raw: string) => T | undefined) {
  const [value, setValue] = useState<T>(() => {
    try {
      const raw = localStorage.getItem(key);
      if (raw !== null) return parse(raw) ?? fallback;
    } catch {
      // storage unavailable: the default
    }
    return fallback;
  });
  const set = (next: T) => {
    setValue(next);
    try {
      localStorage.setItem(key, String(next));
    } catch {
      // storage unavailable: kept for this page only
    }
  };
  return [value, set] as const;
}
