/**
 * The API's Server-Sent Events (`/api/events/stream`) read with fetch rather than EventSource, so
 * the bearer token goes in a header. Resumes after a dropped connection from the last event id
 * (the server answers exactly what came after it: no gaps, no repeats).
 */
import { authHeaders } from "./client";

export interface StreamEvent {
  readonly id: number;
  readonly type: string;
  readonly data: { readonly runId?: string; readonly assetKey?: string; readonly [k: string]: unknown };
}

export interface EventStreamHandlers {
  onEvent(event: StreamEvent): void;
  onStatus?(connected: boolean): void;
}

/** Parse SSE text: complete messages out, the unfinished tail back. */
export function parseSse(buffer: string): {
  messages: { id?: string; event?: string; data: string }[];
  rest: string;
} {
  const messages: { id?: string; event?: string; data: string }[] = [];
  const normalized = buffer.replace(/\r\n?/g, "\n");
  const blocks = normalized.split("\n\n");
  const rest = blocks.pop() ?? "";
  for (const block of blocks) {
    let id: string | undefined;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") id = value;
      else if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (data.length > 0)
      messages.push({ ...(id ? { id } : {}), ...(event ? { event } : {}), data: data.join("\n") });
  }
  return { messages, rest };
}

export interface FollowOptions {
  /** Only this run's events. */
  readonly runId?: string;
  /** Start after this event id (default: from now). */
  readonly after?: number;
}

/** The stream's URL for these options, resuming after `lastId` when set. */
export function streamUrl(options: FollowOptions, lastId: string | undefined): string {
  const params = new URLSearchParams();
  if (options.runId !== undefined) params.set("runId", options.runId);
  const after = lastId ?? (options.after !== undefined ? String(options.after) : undefined);
  if (after !== undefined) params.set("after", after);
  const query = params.toString();
  return query ? `/api/events/stream?${query}` : "/api/events/stream";
}

/**
 * Connect and keep connected until `signal` aborts. With `options.after`, every event after that id
 * arrives exactly once (a page read over HTTP, then followed live, has no gap and no repeat).
 */
export async function followEvents(
  handlers: EventStreamHandlers,
  signal: AbortSignal,
  options: FollowOptions = {},
): Promise<void> {
  let lastId: string | undefined;
  let backoff = 500;
  while (!signal.aborted) {
    try {
      const response = await fetch(streamUrl(options, lastId), {
        headers: { accept: "text/event-stream", ...authHeaders() },
        signal,
      });
      if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
      handlers.onStatus?.(true);
      backoff = 500;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const { messages, rest } = parseSse(buffer + value);
        buffer = rest;
        for (const m of messages) {
          if (m.id) lastId = m.id;
          try {
            handlers.onEvent({ id: Number(m.id), type: m.event ?? "message", data: JSON.parse(m.data) });
          } catch {
            // a malformed message is skipped; the next one carries on
          }
        }
      }
    } catch {
      if (signal.aborted) return;
    }
    handlers.onStatus?.(false);
    await new Promise((r) => setTimeout(r, backoff));
    backoff = Math.min(backoff * 2, 10_000);
  }
}
