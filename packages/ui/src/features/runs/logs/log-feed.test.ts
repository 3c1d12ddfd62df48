import type { RunEvent, RunEventsPage } from "@baton/webserver/api-types";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { EventStreamHandlers, FollowOptions } from "../../../api/event-stream";
import { type FeedDeps, FIRST_PAGE_SIZE, LINGER_MS, LogFeed, PAGE_SIZE } from "./log-feed";

const log = (id: number): RunEvent =>
  ({
    id,
    runId: "r",
    timestamp: id,
    type: "log",
    level: "info",
    message: `line ${id}`,
    source: "logger",
  }) as RunEvent;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => log(from + i));
const tick = () => new Promise((r) => setTimeout(r, 0));

/** Stored events served in pages of `size`; a stream the test drives; frames run on demand. */
function fakeDeps(stored: RunEvent[], size = 3) {
  const frames: (() => void)[] = [];
  const follows: { handlers: EventStreamHandlers; signal: AbortSignal; options: FollowOptions }[] = [];
  const pages: (number | undefined)[] = [];
  const limits: number[] = [];
  let failNext: Error | null = null;
  const deps: FeedDeps = {
    async fetchPage(_runId, after, limit, _signal): Promise<RunEventsPage> {
      pages.push(after);
      limits.push(limit);
      if (failNext) {
        const e = failNext;
        failNext = null;
        throw e;
      }
      const rest = stored.filter((e) => e.id > (after ?? 0));
      const events = rest.slice(0, size);
      return { events, nextAfter: events.length === size ? events[events.length - 1]!.id : null };
    },
    follow(handlers, signal, options) {
      follows.push({ handlers, signal, options });
      return new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
    },
    schedule: (fn) => frames.push(fn),
  };
  const runFrames = () => {
    for (const f of frames.splice(0)) f();
  };
  const send = (f: number, e: RunEvent) =>
    follows[f]!.handlers.onEvent({ id: e.id, type: e.type, data: e as never });
  return {
    deps,
    frames,
    follows,
    pages,
    limits,
    runFrames,
    send,
    fail(e: Error) {
      failNext = e;
    },
  };
}

const ids = (feed: LogFeed) => feed.store.lines.map((l) => l.id);

afterEach(() => {
  vi.useRealTimers();
});

describe("LogFeed", () => {
  it("pages through the stored events, then follows the run from the last one", async () => {
    const fake = fakeDeps(range(1, 7));
    const feed = new LogFeed("r", false, fake.deps);
    const seen: number[] = [];
    feed.subscribe(() => seen.push(feed.store.lines.length));
    feed.start();
    await vi.waitFor(() => expect(fake.follows.length).toBe(1));
    expect(fake.pages).toEqual([undefined, 3, 6]);
    expect(fake.limits).toEqual([FIRST_PAGE_SIZE, PAGE_SIZE, PAGE_SIZE]);
    expect(seen.slice(0, 3)).toEqual([3, 6, 7]); // the first page painted before the rest came
    expect(feed.phase).toBe("ready");
    expect(fake.follows[0]!.options).toEqual({ runId: "r", after: 7 });
    expect(feed.live).toBe("connecting");
    feed.stop();
    expect(fake.follows[0]!.signal.aborted).toBe(true);
  });

  it("batches live events per frame, and a resumed stream repeating events adds each once", async () => {
    const fake = fakeDeps(range(1, 2));
    const feed = new LogFeed("r", false, fake.deps);
    feed.start();
    await vi.waitFor(() => expect(fake.follows.length).toBe(1));
    fake.follows[0]!.handlers.onStatus?.(true);
    expect(feed.live).toBe("live");
    const before = feed.version;
    for (const e of range(3, 500)) fake.send(0, e);
    expect(fake.frames.length).toBe(1); // one frame scheduled for the burst
    expect(feed.store.lines.length).toBe(2);
    fake.runFrames();
    expect(feed.version).toBe(before + 1);
    expect(feed.store.lines.length).toBe(500);
    // the connection drops; on reconnecting the stream resumes (here it also repeats a few)
    fake.follows[0]!.handlers.onStatus?.(false);
    expect(feed.live).toBe("reconnecting");
    for (const e of [...range(498, 500), ...range(501, 510)]) fake.send(0, e);
    fake.runFrames();
    expect(ids(feed)).toEqual(range(1, 510).map((e) => e.id));
    feed.stop();
  });

  it("an ended run is read and not followed; a run that ends stops being followed after a moment", async () => {
    const done = fakeDeps(range(1, 4));
    const endedFeed = new LogFeed("r", true, done.deps);
    endedFeed.start();
    await vi.waitFor(() => expect(endedFeed.phase).toBe("ready"));
    await tick();
    expect(done.follows.length).toBe(0);
    expect(endedFeed.live).toBe("off");

    vi.useFakeTimers();
    const fake = fakeDeps(range(1, 2));
    const feed = new LogFeed("r", false, fake.deps);
    feed.start();
    await vi.waitFor(() => expect(fake.follows.length).toBe(1));
    feed.setEnded(true);
    fake.send(0, log(3));
    fake.runFrames();
    await vi.advanceTimersByTimeAsync(LINGER_MS + 10);
    expect(fake.follows[0]!.signal.aborted).toBe(true);
    expect(feed.live).toBe("off");
    expect(fake.pages.at(-1)).toBe(3); // one last read after the last event seen
    expect(ids(feed)).toEqual([1, 2, 3]);
  });

  it("a failed page keeps what was read, says why, and a retry resumes after the last line", async () => {
    const fake = fakeDeps(range(1, 5), 2);
    const feed = new LogFeed("r", true, fake.deps);
    fake.fail(new Error("offline"));
    feed.start();
    await vi.waitFor(() => expect(feed.error).not.toBeNull());
    expect(feed.phase).toBe("ready");
    expect((feed.error as Error).message).toBe("offline");
    feed.retry();
    await vi.waitFor(() => expect(feed.store.lines.length).toBe(5));
    expect(feed.error).toBeNull();
    expect(fake.pages).toEqual([undefined, undefined, 2, 4]);
  });
});
