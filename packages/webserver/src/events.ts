import type { Storage } from "@baton/core/internal";
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { ApiError } from "./errors.js";
import { type ApiApp, BEARER, errors, type RouteContext } from "./http.js";

/**
 * `GET /api/events/stream[?runId=ID][&after=ID]`: run events as Server-Sent Events, in log order,
 * each with its log id as the SSE id. Resumable: a reconnecting client sends `Last-Event-ID` and
 * receives exactly what came after. Without either, it starts from now.
 */
export async function eventStream(
  c: Context,
  storage: Storage,
  options: { pollMs: number; signal?: AbortSignal },
) {
  const runId = c.req.query("runId");
  if (runId !== undefined && (runId.length === 0 || runId.length > 200))
    throw new ApiError(400, "invalid_request", "query.runId: must be a run id", "query.runId");
  const lastEventId = c.req.header("last-event-id") ?? c.req.query("after");
  let after: number;
  if (lastEventId !== undefined) {
    if (!/^\d{1,15}$/.test(lastEventId))
      throw new ApiError(
        400,
        "invalid_request",
        "Last-Event-ID: must be an event id from this stream",
        "header.last-event-id",
      );
    after = Number(lastEventId);
  } else after = await storage.latestEventId();
  if (runId !== undefined && !(await storage.getRun(runId)))
    throw new ApiError(404, "not_found", `No run "${runId}".`);
  return streamSSE(c, async (stream) => {
    let lastPing = Date.now();
    const aborted = () => stream.aborted || stream.closed || options.signal?.aborted === true;
    // Woken by the store when events commit (Postgres LISTEN/NOTIFY: one connection per process,
    // shared by every open stream); polling every pollMs stays the fallback (SQLite, a LISTEN
    // connection being re-established).
    let woken = false;
    let wake: (() => void) | undefined;
    const onWake = () => {
      woken = true;
      wake?.();
    };
    const unwatch = storage.watchEvents?.(onWake);
    stream.onAbort(onWake);
    options.signal?.addEventListener("abort", onWake, { once: true });
    try {
      let failures = 0;
      while (!aborted()) {
        woken = false;
        let events: Awaited<ReturnType<Storage["getEventsAfter"]>>;
        try {
          events = await storage.getEventsAfter(after, { ...(runId ? { runId } : {}), limit: 500 });
          failures = 0;
        } catch (error) {
          // The store is unreachable (a database restart): keep the stream open and read again from
          // the same cursor once it is back, so the client sees no gap and no duplicate (even one that
          // cannot resume with Last-Event-ID). A comment line keeps proxies from timing out meanwhile.
          failures++;
          if (failures === 1)
            console.error(
              `baton webserver: event stream: reading the store failed, retrying from event ${after}: ${error instanceof Error ? error.message : String(error)}`,
            );
          await stream.write(": store unavailable, retrying\n\n").catch(() => undefined);
          await new Promise((resolve) =>
            setTimeout(resolve, Math.min(1000, 100 * 2 ** Math.min(failures, 4))),
          );
          continue;
        }
        for (const e of events) {
          await stream.writeSSE({ id: String(e.id), event: e.type, data: JSON.stringify(e) });
          after = e.id;
        }
        if (events.length === 500) continue;
        if (Date.now() - lastPing > 15_000) {
          await stream.write(": ping\n\n");
          lastPing = Date.now();
        }
        // A wake that came while reading is not lost: read again at once.
        if (woken || aborted()) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, Math.min(options.pollMs, 15_000));
          function done() {
            clearTimeout(timer);
            wake = undefined;
            resolve();
          }
          wake = done;
        });
      }
    } finally {
      unwatch?.();
      options.signal?.removeEventListener("abort", onWake);
    }
  });
}

/** Route: the live event stream (plain Hono: a stream, described in the OpenAPI doc by hand). */
export function eventRoutes(app: ApiApp, { storage, options }: RouteContext) {
  app.get("/api/events/stream", (c) =>
    eventStream(c, storage, {
      pollMs: options.streamPollMs ?? 250,
      ...(options.signal ? { signal: options.signal } : {}),
    }),
  );

  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/api/events/stream",
    operationId: "streamEvents",
    summary: "Live run events (Server-Sent Events)",
    tags: ["events"],
    security: BEARER,
    description:
      "Run events as Server-Sent Events (id = event log id; resumable with Last-Event-ID; starts from now without it).",
    request: {
      query: z.object({
        runId: z.string().optional().openapi({ description: "only this run's events" }),
        after: z.string().optional().openapi({ description: "start after this event id" }),
      }),
    },
    responses: {
      200: {
        description:
          "text/event-stream: each message's `event` is the run event's type, `id` its log id and `data` the RunEvent as JSON",
        content: { "text/event-stream": { schema: z.string() } },
      },
      ...errors(400, 401, 404, 503),
    },
  });
}
