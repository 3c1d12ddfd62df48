/**
 * Feeds a `LogStore` with one run's events: the stored events page by page (the first page painted
 * at once, the rest appended), then, unless the run ended, the live stream from the last event id.
 * Live events are batched per animation frame (a burst of 1,000 events a second is one store update
 * and one render a frame). Framework-free: the React hook subscribes to `version`.
 */
import type { RunEvent, RunEventsPage } from "@baton/webserver/api-types";
import type { EventStreamHandlers, FollowOptions } from "../../../api/event-stream";
import { LogStore } from "./log-model";

export const PAGE_SIZE = 5000;
/** The first read is smaller: a screenful and more, answered sooner (first paint), then PAGE_SIZE. */
export const FIRST_PAGE_SIZE = 1000;
/** After the run ended, how long to keep following before the stream is closed (the last events). */
export const LINGER_MS = 2000;

export type LivePhase = "off" | "connecting" | "live" | "reconnecting";

export interface FeedDeps {
  fetchPage(
    runId: string,
    after: number | undefined,
    limit: number,
    signal: AbortSignal,
  ): Promise<RunEventsPage>;
  follow(handlers: EventStreamHandlers, signal: AbortSignal, options: FollowOptions): Promise<void>;
  /** Run `fn` at the next frame (requestAnimationFrame; a timer when the page is hidden). */
  schedule(fn: () => void): void;
}

export class LogFeed {
  readonly store = new LogStore();
  /** Bumped on every change a reader could see (lines, phase, error, live). */
  version = 0;
  /** "loading" until the first page is in, "paging" while more stored pages come, then "ready". */
  phase: "loading" | "paging" | "ready" = "loading";
  error: unknown = null;
  live: LivePhase = "off";

  private readonly listeners = new Set<() => void>();
  private readonly stopped = new AbortController();
  private liveCtrl: AbortController | null = null;
  private pending: RunEvent[] = [];
  private flushQueued = false;
  private linger: ReturnType<typeof setTimeout> | undefined;
  private loading = false;

  constructor(
    readonly runId: string,
    private ended: boolean,
    private readonly deps: FeedDeps,
  ) {}

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  getVersion = () => this.version;

  private changed() {
    this.version++;
    for (const l of this.listeners) l();
  }

  start() {
    void this.load();
  }

  stop() {
    this.stopped.abort();
    this.liveCtrl?.abort();
    clearTimeout(this.linger);
  }

  /** Load again after an error, from the last event in the store (nothing twice). */
  retry() {
    if (this.loading || this.stopped.signal.aborted) return;
    this.error = null;
    this.changed();
    void this.load();
  }

  /** The run page learned that the run ended: stop following once the last events had time to arrive. */
  setEnded(ended: boolean) {
    if (ended === this.ended) return;
    this.ended = ended;
    if (!ended || !this.liveCtrl) return;
    clearTimeout(this.linger);
    this.linger = setTimeout(() => {
      this.liveCtrl?.abort();
      this.liveCtrl = null;
      this.live = "off";
      this.changed();
      // whatever the stream had not delivered yet (nothing, normally)
      void this.load();
    }, LINGER_MS);
  }

  private async load() {
    if (this.loading) return;
    this.loading = true;
    const signal = this.stopped.signal;
    try {
      for (;;) {
        const last = this.store.lastId;
        const limit = this.store.lines.length === 0 ? FIRST_PAGE_SIZE : PAGE_SIZE;
        const page = await this.deps.fetchPage(this.runId, last > 0 ? last : undefined, limit, signal);
        if (signal.aborted) return;
        this.store.add(page.events);
        this.phase = page.nextAfter === null ? "ready" : "paging";
        this.changed();
        if (page.nextAfter === null) break;
      }
    } catch (error) {
      if (signal.aborted) return;
      this.error = error;
      if (this.phase === "loading") this.phase = "ready";
      this.changed();
      return;
    } finally {
      this.loading = false;
    }
    if (!this.ended && !this.liveCtrl) this.follow();
  }

  private follow() {
    const ctrl = new AbortController();
    this.liveCtrl = ctrl;
    this.stopped.signal.addEventListener("abort", () => ctrl.abort(), { once: true });
    this.live = "connecting";
    this.changed();
    void this.deps.follow(
      {
        onEvent: (e) => {
          if (ctrl.signal.aborted) return;
          this.pending.push(e.data as unknown as RunEvent);
          if (!this.flushQueued) {
            this.flushQueued = true;
            this.deps.schedule(this.flush);
          }
        },
        onStatus: (connected) => {
          if (ctrl.signal.aborted) return;
          this.live = connected ? "live" : "reconnecting";
          this.changed();
        },
      },
      ctrl.signal,
      { runId: this.runId, after: this.store.lastId },
    );
  }

  /** One frame's worth of live events into the store. */
  flush = () => {
    this.flushQueued = false;
    if (this.pending.length === 0 || this.stopped.signal.aborted) return;
    const batch = this.pending;
    this.pending = [];
    if (this.store.add(batch) > 0) this.changed();
  };
}

/** requestAnimationFrame, or a 250 ms timer while the page is hidden (no frames come then). */
export function nextFrame(fn: () => void) {
  if (typeof document !== "undefined" && document.hidden) setTimeout(fn, 250);
  else requestAnimationFrame(() => fn());
}
