/**
 * The webserver through a real port: `startWebserver` on 127.0.0.1 port 0 (the BUILT packages,
 * `npm run build` first), with a real store.
 *
 * - Binding and headers (SQLite): refuses a non-loopback address without tokens, defaults to
 *   127.0.0.1, security headers on every answer, no CORS, and a refused large body does not
 *   break the kept-alive connection for the next request.
 * - Live events (SQLite and Postgres; BATON_TEST_STORAGE selects): a run launched with POST
 *   /api/runs and executed in this process (claimRuns + executeQueuedRun, as a worker does) is
 *   streamed over `GET /api/events/stream`, parsed by hand from the fetch body: order and bodies
 *   equal to the stored events, filtering by run, resumption with Last-Event-ID / ?after=, "from
 *   now" without it, 400/404, close() ending streams. On Postgres, one test holds a row lock so
 *   that two writers commit out of id order (what two workers do under load) and checks that an
 *   unfiltered stream still delivers every event.
 * - Fuzz (every backend): 5,000 malformed requests from a seeded PRNG (BATON_FUZZ_SEED replays a
 *   run), 20 at a time over loopback through node:http (raw paths: traversal, %00, long and
 *   non-ASCII segments; garbage queries, bodies, content types and tokens): no 5xx, every JSON
 *   error body has error.code and error.message, no dropped connection, and /api/health still
 *   answers 200. Prints the count of each status and every failure grouped by cause.
 */

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  asset,
  assetCheck,
  assetJob,
  type BatonInstance,
  dailyPartitions,
  defineDefinitions,
  dynamicPartitions,
  openInstance,
  publishSnapshot,
  schedule,
  sensor,
  staticPartitions,
} from "@baton/core/internal";
import { makeToken, startWebserver } from "@baton/webserver";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { z } from "zod";
import { type StorageLocation, storageBackends } from "./support/storage-backends.js";

type Server = Awaited<ReturnType<typeof startWebserver>>;

/** Every wait is bounded by this (polled or raced, never slept on). */
const WAIT_MS = 15_000;

/** `test` on one backend only; on the others the test is not registered (CI fails on skipped tests). */
const onlyOn = (current: string, wanted: string): typeof test =>
  current === wanted ? test : ((() => undefined) as unknown as typeof test);
const POLL_MS = 50;

// ---------------------------------------------------------------------------------------------
// Definitions (published as a snapshot for the webserver; executed in this process)

const raw = asset(
  { key: "shop/raw", group: "ingest", kinds: ["json"], owners: ["data@example.com"] },
  async (ctx) => {
    ctx.log.info("loaded raw rows", { rows: 3 });
    return [1, 2, 3];
  },
);
const clean = asset(
  {
    key: "shop/clean",
    group: "transform",
    ins: { raw },
    config: z.object({ factor: z.number().default(1) }),
  },
  async (ctx, { raw }) => ({ value: raw.map((x) => x * ctx.config.factor), metadata: { rows: raw.length } }),
);
const report = asset({ key: "shop/report", group: "reports", ins: { clean } }, async (_ctx, { clean }) =>
  clean.reduce((a, b) => a + b, 0),
);
const rawNotEmpty = assetCheck({ asset: raw, name: "not_empty" }, (_ctx, rows) => ({
  passed: rows.length > 0,
}));
const daily = asset(
  { key: "daily", group: "parts", partitions: dailyPartitions({ start: "2024-01-01", end: "2024-02-01" }) },
  async (ctx) => ctx.partitionKey,
);
const regional = asset(
  { key: "regional", group: "parts", partitions: staticPartitions(["eu", "us"]) },
  async (ctx) => ctx.partitionKey,
);
const dyn = asset(
  { key: "dyn", group: "parts", partitions: dynamicPartitions({ name: "regions" }) },
  async (ctx) => ctx.partitionKey,
);

const definitions = defineDefinitions({
  assets: [raw, clean, report, daily, regional, dyn],
  checks: [rawNotEmpty],
  jobs: [assetJob({ name: "shop_job", selection: "shop/raw*" })],
  schedules: [schedule({ name: "nightly", cron: "0 3 * * *", selection: "shop/raw" })],
  sensors: [
    sensor({
      name: "custom_sensor",
      selection: "regional",
      evaluate: (ctx) => ({
        runRequests: [{ partitionKey: "eu" }],
        cursor: String(Number(ctx.cursor ?? 0) + 1),
      }),
    }),
  ],
});

// ---------------------------------------------------------------------------------------------
// Helpers

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** A temp home (IO manager files) and an instance on the given store location. */
async function openTestInstance(
  location: StorageLocation,
): Promise<{ instance: BatonInstance; home: string }> {
  const options = location.options as { sqlitePath?: string; databaseUrl?: string };
  const home = options.databaseUrl
    ? await mkdtemp(path.join(tmpdir(), "baton-webserver-http-"))
    : path.dirname(options.sqlitePath!);
  const instance = await openInstance({
    home,
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    env: {},
  });
  return { instance, home };
}

/** One parsed Server-Sent Event. */
interface SseMessage {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: string;
}

interface SseStream {
  readonly response: Response;
  /** Every message `next()` returned so far. */
  readonly seen: SseMessage[];
  /** The next event, or null once the stream ended; throws after `ms`. */
  next(ms?: number): Promise<SseMessage | null>;
  close(): void;
}

/** Opens `GET /api/events/stream` with fetch and parses text/event-stream from the body by hand. */
async function openStream(
  base: string,
  query: string,
  headers: Record<string, string> = {},
): Promise<SseStream> {
  const controller = new AbortController();
  const response = await fetch(`${base}/api/events/stream${query}`, { headers, signal: controller.signal });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const queue: SseMessage[] = [];
  let buffer = "";
  let ended = false;
  let pending: ReturnType<typeof reader.read> | undefined;
  const seen: SseMessage[] = [];

  const parseBlocks = () => {
    for (;;) {
      const m = /\r?\n\r?\n/.exec(buffer);
      if (!m) return;
      const block = buffer.slice(0, m.index);
      buffer = buffer.slice(m.index + m[0].length);
      let id: string | undefined;
      let event: string | undefined;
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line === "" || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "id") id = value;
        else if (field === "event") event = value;
        else if (field === "data") data.push(value);
      }
      if (data.length > 0 || event !== undefined) queue.push({ id, event, data: data.join("\n") });
    }
  };

  return {
    response,
    seen,
    async next(ms = WAIT_MS) {
      const deadline = Date.now() + ms;
      for (;;) {
        const message = queue.shift();
        if (message) {
          seen.push(message);
          return message;
        }
        if (ended) return null;
        pending ??= reader.read();
        const result = await withTimeout(pending, Math.max(deadline - Date.now(), 1), "the next SSE event");
        pending = undefined;
        if (result.done) ended = true;
        else {
          buffer += decoder.decode(result.value, { stream: true });
          parseBlocks();
        }
      }
    },
    close() {
      controller.abort();
      reader.cancel().catch(() => {});
    },
  };
}

const TERMINAL_EVENTS = new Set(["run_succeeded", "run_failed", "run_canceled"]);

/** Messages up to and including the first one matching `last`. */
async function readUntil(stream: SseStream, last: (m: SseMessage) => boolean): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  for (;;) {
    const message = await stream.next();
    if (message === null) throw new Error(`the stream ended after ${out.length} events`);
    out.push(message);
    if (last(message)) return out;
  }
}

/** Messages up to and including a run's end (or exactly `count` messages). */
async function readRun(stream: SseStream, count?: number): Promise<SseMessage[]> {
  if (count === undefined) return readUntil(stream, (m) => TERMINAL_EVENTS.has(m.event ?? ""));
  let n = 0;
  return readUntil(stream, () => ++n === count);
}

/** A response's JSON body, untyped (the assertions say what it must be). */
const json = (response: Response): Promise<any> => response.json();

async function getJson(base: string, pathname: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${base}${pathname}`);
  return { status: response.status, body: await response.json() };
}

/** Every stored event of a run, through the API. */
async function storedEvents(
  base: string,
  runId: string,
): Promise<{ id: number; type: string; runId: string }[]> {
  const { status, body } = await getJson(base, `/api/runs/${runId}/events?limit=5000`);
  expect(status).toBe(200);
  return body.events;
}

/** Launch through the API; the run waits QUEUED until `execute`. */
async function launch(base: string, selection = "shop/raw*"): Promise<string> {
  const config = selection === "shop/raw*" ? { config: { "shop/clean": { factor: 2 } } } : {};
  const response = await fetch(`${base}/api/runs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ selection, ...config }),
  });
  const body = (await json(response)) as { run: { runId: string; status: string } };
  expect(response.status).toBe(201);
  expect(body.run.status).toBe("QUEUED");
  return body.run.runId;
}

let workerSeq = 0;
/** What a run worker does: claim the queued run, then execute it in this process. */
async function execute(instance: BatonInstance, runId: string): Promise<void> {
  const claimed = await instance.storage.claimRuns({
    workerId: `test-worker-${++workerSeq}`,
    limit: 100,
    now: Date.now(),
  });
  expect(claimed.map((r) => r.runId)).toContain(runId);
  const summary = await instance.executeQueuedRun(definitions, runId);
  expect(summary.status).toBe("SUCCESS");
}

/** The SSE messages must be exactly these stored events: ids, types and bodies. */
function expectSameEvents(messages: readonly SseMessage[], stored: readonly { id: number; type: string }[]) {
  expect(messages.map((m) => Number(m.id))).toEqual(stored.map((e) => e.id));
  expect(messages.map((m) => m.event)).toEqual(stored.map((e) => e.type));
  expect(messages.map((m) => JSON.parse(m.data))).toEqual(stored);
}

function expectIncreasingIds(messages: readonly SseMessage[]) {
  const ids = messages.map((m) => Number(m.id));
  for (let i = 1; i < ids.length; i++) expect(ids[i]!).toBeGreaterThan(ids[i - 1]!);
}

// ---------------------------------------------------------------------------------------------
// Binding, security headers, CORS

describe("binding and headers (SQLite)", () => {
  let dir: string;
  let instance: BatonInstance;
  const token = "admin-token-0123456789abcdef";

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "baton-webserver-http-"));
    instance = await openInstance({ home: dir, env: {} });
    await publishSnapshot(instance.storage, definitions);
  });
  afterAll(async () => {
    await instance?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("a non-loopback host without tokens is refused, naming BATON_API_TOKENS", async () => {
    await expect(startWebserver({ instance, host: "0.0.0.0", port: 0 })).rejects.toThrow(/BATON_API_TOKENS/);
    await expect(
      startWebserver({ instance, host: "0.0.0.0", port: 0, auth: { tokens: [] } }),
    ).rejects.toThrow(/BATON_API_TOKENS/);
  });

  test("a non-loopback host with a token starts, and requires the token", async () => {
    const server = await startWebserver({
      instance,
      host: "0.0.0.0",
      port: 0,
      auth: { tokens: [makeToken("ops", "viewer", token)] },
    });
    try {
      expect(server.url).toBe(`http://0.0.0.0:${server.port}`);
      expect(server.port).toBeGreaterThan(0);
      const anonymous = await fetch(`http://127.0.0.1:${server.port}/api/health`);
      expect(anonymous.status).toBe(401);
      expect((await json(anonymous)).error.code).toBe("unauthorized");
      const authed = await fetch(`http://127.0.0.1:${server.port}/api/health`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(authed.status).toBe(200);
      expect((await json(authed)).status).toBe("ok");
    } finally {
      await server.close();
    }
  });

  test("binds to 127.0.0.1 by default; security headers on every answer; no CORS", async () => {
    const server = await startWebserver({ instance, port: 0, streamPollMs: POLL_MS });
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
      const expectSecurityHeaders = (response: Response) => {
        expect(response.headers.get("x-content-type-options")).toBe("nosniff");
        expect(response.headers.get("x-frame-options")).toBe("SAMEORIGIN");
        expect(response.headers.get("referrer-policy")).toBe("no-referrer");
        expect(response.headers.get("cross-origin-resource-policy")).toBe("same-origin");
        expect(response.headers.get("cross-origin-opener-policy")).toBe("same-origin");
        expect(response.headers.get("x-permitted-cross-domain-policies")).toBe("none");
        expect(response.headers.get("content-security-policy")).toMatch(
          /^default-src 'self'; script-src 'self';/,
        );
        expect(response.headers.get("access-control-allow-origin")).toBeNull();
        expect(response.headers.get("access-control-allow-credentials")).toBeNull();
        expect(response.headers.get("access-control-allow-methods")).toBeNull();
      };
      const origin = { origin: "http://evil.example" };

      const health = await fetch(`${server.url}/api/health`, { headers: origin });
      expect(health.status).toBe(200);
      expectSecurityHeaders(health);

      const assets = await fetch(`${server.url}/api/assets`, { headers: origin });
      expect(assets.status).toBe(200);
      expect((await json(assets)).assets.map((a: { key: string }) => a.key).sort()).toEqual([
        "daily",
        "dyn",
        "regional",
        "shop/clean",
        "shop/raw",
        "shop/report",
      ]);
      expectSecurityHeaders(assets);

      const missing = await fetch(`${server.url}/api/runs/nope`, { headers: origin });
      expect(missing.status).toBe(404);
      expect((await json(missing)).error.code).toBe("not_found");
      expectSecurityHeaders(missing);

      // A cross-site form post: refused before anything happens.
      const form = await fetch(`${server.url}/api/runs`, {
        method: "POST",
        headers: { ...origin, "content-type": "application/x-www-form-urlencoded" },
        body: "selection=*",
      });
      expect(form.status).toBe(415);
      expect((await json(form)).error.code).toBe("unsupported_media_type");
      expectSecurityHeaders(form);
      expect((await instance.storage.listRuns({})).runs).toEqual([]);

      // A CORS preflight gets no permission.
      const preflight = await fetch(`${server.url}/api/runs`, {
        method: "OPTIONS",
        headers: {
          ...origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type",
        },
      });
      expect(preflight.status).toBe(404);
      expectSecurityHeaders(preflight);
      await preflight.body?.cancel();

      const stream = await openStream(server.url, "", origin);
      expect(stream.response.status).toBe(200);
      expect(stream.response.headers.get("content-type")).toMatch(/^text\/event-stream/);
      expectSecurityHeaders(stream.response);
      stream.close();
    } finally {
      await withTimeout(server.close(), WAIT_MS, "server.close()");
    }
  });

  test("a large body refused unread (415) does not cost the next request on the same connection", async () => {
    const server = await startWebserver({ instance, port: 0 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const call = (method: string, pathname: string, headers: Record<string, string>, body?: string) =>
      new Promise<string>((resolve) => {
        const request = http.request(
          { host: "127.0.0.1", port: server.port, method, path: pathname, agent, headers, timeout: WAIT_MS },
          (response) => {
            response.resume();
            response.on("end", () => resolve(`${response.statusCode}`));
          },
        );
        request.on("timeout", () => request.destroy(new Error("no answer")));
        request.on("error", (error) => resolve(`error: ${error.message}`));
        request.end(body);
      });
    try {
      const big = JSON.stringify({ selection: "x".repeat(600_000) });
      // Sent with Content-Length; the server answers before reading it.
      expect(
        await call(
          "POST",
          "/api/runs",
          { "content-type": "text/plain", "content-length": String(big.length) },
          big,
        ),
      ).toBe("415");
      // The client may reuse the kept-alive connection (the answer did not say Connection: close).
      expect(await call("GET", "/api/health", {})).toBe("200");
      expect(await call("GET", "/api/health", {})).toBe("200");
    } finally {
      agent.destroy();
      await withTimeout(server.close(), WAIT_MS, "server.close()");
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Live events over SSE, on every backend

for (const backend of storageBackends()) {
  describe.skipIf(backend.skipReason !== null)(`live events over SSE (${backend.name})`, () => {
    let location: StorageLocation;
    let instance: BatonInstance;
    let home: string;
    let server: Server;
    const open: SseStream[] = [];
    const stream = async (query: string, headers: Record<string, string> = {}) => {
      const s = await openStream(server.url, query, headers);
      open.push(s);
      return s;
    };

    beforeAll(async () => {
      await backend.start();
      location = await backend.createLocation();
      ({ instance, home } = await openTestInstance(location));
      await publishSnapshot(instance.storage, definitions);
      server = await startWebserver({ instance, port: 0, streamPollMs: POLL_MS });
    });
    afterAll(async () => {
      for (const s of open) s.close();
      if (server) await withTimeout(server.close(), WAIT_MS, "server.close()");
      await instance?.close();
      if (location) await backend.destroyLocation(location);
      if (backend.name === "postgres" && home) await rm(home, { recursive: true, force: true });
      await backend.stop();
    });

    test("a run's events arrive in order, equal to the stored ones", async () => {
      const runId = await launch(server.url);
      const s = await stream(`?runId=${runId}`);
      expect(s.response.status).toBe(200);
      expect(s.response.headers.get("content-type")).toMatch(/^text\/event-stream/);
      await execute(instance, runId);
      const messages = await readRun(s);
      const stored = await storedEvents(server.url, runId);

      expectIncreasingIds(messages);
      expectSameEvents(messages, stored);
      const types = messages.map((m) => m.event);
      expect(types[0]).toBe("run_started");
      expect(types[types.length - 1]).toBe("run_succeeded");
      for (const key of ["shop/raw", "shop/clean", "shop/report"]) {
        const mat = messages.findIndex(
          (m) => m.event === "materialization" && JSON.parse(m.data).assetKey === key,
        );
        expect(mat, `materialization of ${key}`).toBeGreaterThan(0);
      }
      expect(types).toContain("step_started");
      expect(types).toContain("step_succeeded");
      expect(types).toContain("check_evaluation");
      for (const m of messages) expect(JSON.parse(m.data).runId).toBe(runId);
      s.close();
    });

    test("a runId-filtered stream gets only that run, also while another run executes at the same time", async () => {
      const runA = await launch(server.url);
      const runB = await launch(server.url, "shop/raw");
      const streamA = await stream(`?runId=${runA}`);
      const streamB = await stream(`?runId=${encodeURIComponent(runB)}`);
      const claimed = await instance.storage.claimRuns({ workerId: "pair", limit: 10, now: Date.now() });
      expect(claimed.map((r) => r.runId)).toEqual(expect.arrayContaining([runA, runB]));
      const summaries = await Promise.all([
        instance.executeQueuedRun(definitions, runA),
        instance.executeQueuedRun(definitions, runB),
      ]);
      expect(summaries.map((s) => s.status)).toEqual(["SUCCESS", "SUCCESS"]);

      const messagesA = await readRun(streamA);
      const messagesB = await readRun(streamB);
      expectSameEvents(messagesA, await storedEvents(server.url, runA));
      expectSameEvents(messagesB, await storedEvents(server.url, runB));
      expect(messagesB.some((m) => JSON.parse(m.data).runId === runA)).toBe(false);
      streamA.close();
      streamB.close();
    });

    test("an unfiltered stream starts from now: older events are not replayed", async () => {
      const before = await launch(server.url, "shop/raw");
      await execute(instance, before);
      const s = await stream("");
      expect(s.response.status).toBe(200);
      const after = await launch(server.url, "shop/raw");
      await execute(instance, after);
      const messages = await readRun(s);
      // The first event is the new run's start: nothing of `before` came first.
      expect(messages[0]!.event).toBe("run_started");
      expectSameEvents(messages, await storedEvents(server.url, after));
      s.close();
    });

    test("resuming with Last-Event-ID (or ?after=) gives exactly the remaining events", async () => {
      const runId = await launch(server.url);
      const first = await stream(`?runId=${runId}`);
      const executing = execute(instance, runId);
      const head = await readRun(first, 3);
      first.close();
      await executing;
      const stored = await storedEvents(server.url, runId);
      expect(stored.length).toBeGreaterThan(6);

      const resumed = await stream(`?runId=${runId}`, { "Last-Event-ID": head[2]!.id! });
      expect(resumed.response.status).toBe(200);
      const tail = await readRun(resumed);
      expectSameEvents([...head, ...tail], stored);
      resumed.close();

      // The query parameter (for clients that cannot set headers) resumes the same way.
      const viaQuery = await stream(`?runId=${runId}&after=${stored[4]!.id}`);
      expectSameEvents(await readRun(viaQuery), stored.slice(5));
      viaQuery.close();

      // Last-Event-ID: 0 replays the whole run.
      const all = await stream(`?runId=${runId}`, { "Last-Event-ID": "0" });
      expectSameEvents(await readRun(all), stored);
      all.close();
    });

    test("a bad Last-Event-ID is a 400, an unknown run a 404", async () => {
      const runId = await launch(server.url, "shop/raw");
      for (const bad of ["abc", "-1", "1.5", "1e3", "0x10", "1234567890123456", "12 13"]) {
        const response = await fetch(`${server.url}/api/events/stream?runId=${runId}`, {
          headers: { "Last-Event-ID": bad },
        });
        expect(response.status, `Last-Event-ID ${JSON.stringify(bad)}`).toBe(400);
        expect(await json(response)).toEqual({
          error: {
            code: "invalid_request",
            message: "Last-Event-ID: must be an event id from this stream",
            field: "header.last-event-id",
          },
        });
      }
      const badAfter = await fetch(`${server.url}/api/events/stream?after=x`);
      expect(badAfter.status).toBe(400);
      expect((await json(badAfter)).error.field).toBe("header.last-event-id");

      const unknown = await fetch(`${server.url}/api/events/stream?runId=no-such-run`);
      expect(unknown.status).toBe(404);
      expect(await json(unknown)).toEqual({
        error: { code: "not_found", message: 'No run "no-such-run".' },
      });

      const empty = await fetch(`${server.url}/api/events/stream?runId=`);
      expect(empty.status).toBe(400);
      expect((await json(empty)).error).toMatchObject({ code: "invalid_request", field: "query.runId" });
    });

    onlyOn(backend.name, "postgres")(
      "an unfiltered stream sees every event when two writers commit out of id order",
      async () => {
        // Run A's first event batch takes its ids, then waits on a row lock we hold on A's runs row
        // (as a slow worker's transaction would); meanwhile run B tries to write higher ids.
        const runA = await launch(server.url, "shop/raw");
        const runB = await launch(server.url, "shop/raw");
        const claimed = await instance.storage.claimRuns({ workerId: "gap", limit: 10, now: Date.now() });
        expect(claimed.map((r) => r.runId)).toEqual(expect.arrayContaining([runA, runB]));
        const s = await stream("");
        const locker = new pg.Client({
          connectionString: (location.options as { databaseUrl: string }).databaseUrl,
        });
        locker.on("error", () => {});
        await locker.connect();
        let executingA: Promise<{ status: string }> | undefined;
        try {
          await locker.query("BEGIN");
          // A's materialization upserts this row: its event write waits after taking its ids.
          await locker.query(
            "INSERT INTO asset_status (asset_key, updated_at) VALUES ($1, 0) ON CONFLICT (asset_key) DO UPDATE SET updated_at = asset_status.updated_at",
            ["shop/raw"],
          );
          executingA = instance.executeQueuedRun(definitions, runA);
          await waitFor("run A's event transaction to wait on the lock (after its insert)", async () => {
            // pg_stat_activity is a per-transaction snapshot: clear it to see the present.
            await locker.query("SELECT pg_stat_clear_snapshot()");
            const { rows } = await locker.query(
              "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
            );
            return rows.some((r: { query: string }) => /asset_status/i.test(r.query));
          });
          // Run B's writer now waits for A's transaction (event writers are serialized on Postgres,
          // so ids become visible in order): B cannot commit its higher ids before A commits.
          const executingB = instance.executeQueuedRun(definitions, runB);
          await waitFor("run B's event transaction to wait behind run A's", async () => {
            await locker.query("SELECT pg_stat_clear_snapshot()");
            const { rows } = await locker.query(
              "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
            );
            return rows.some((r: { query: string }) => /pg_advisory_xact_lock/i.test(r.query));
          });
          await locker.query("COMMIT");
          expect(await executingA).toMatchObject({ status: "SUCCESS" });
          expect(await executingB).toMatchObject({ status: "SUCCESS" });
          await readUntil(s, (m) => m.event === "run_succeeded" && JSON.parse(m.data).runId === runB);
        } finally {
          await locker.query("ROLLBACK").catch(() => {});
          await locker.end().catch(() => {});
          await executingA?.catch(() => {});
        }
        // A sentinel run after both: once its end arrives, everything committed before it must have.
        const runC = await launch(server.url, "shop/raw");
        await execute(instance, runC);
        await readUntil(s, (m) => m.event === "run_succeeded" && JSON.parse(m.data).runId === runC);
        s.close();
        const stored = [
          ...(await storedEvents(server.url, runA)),
          ...(await storedEvents(server.url, runB)),
          ...(await storedEvents(server.url, runC)),
        ].sort((x, y) => x.id - y.id);
        const received = s.seen.map((m) => Number(m.id));
        const missing = stored.filter((e) => !received.includes(e.id));
        expect(
          missing.map((e) => `${e.id} ${e.type} of ${e.runId === runA ? "A" : "another run"}`),
          "stored events the stream never delivered",
        ).toEqual([]);
        expect([...received].sort((x, y) => x - y)).toEqual(stored.map((e) => e.id));
      },
    );

    test("server.close() ends open streams", async () => {
      const own = await startWebserver({ instance, port: 0, streamPollMs: POLL_MS });
      const a = await openStream(own.url, "");
      const runId = await launch(own.url, "shop/raw");
      const b = await openStream(own.url, `?runId=${runId}`);
      expect([a.response.status, b.response.status]).toEqual([200, 200]);
      const closing = own.close();
      expect(await a.next()).toBeNull();
      expect(await b.next()).toBeNull();
      await withTimeout(closing, WAIT_MS, "server.close() with two open streams");
      await expect(fetch(`${own.url}/api/health`)).rejects.toThrow();
    });

    onlyOn(backend.name, "sqlite")(
      "server.close() with an open stream resolves promptly, not after the keep-alive timeout",
      async () => {
        const own = await startWebserver({ instance, port: 0, streamPollMs: POLL_MS });
        const s = await openStream(own.url, "");
        expect(s.response.status).toBe(200);
        const started = Date.now();
        await withTimeout(own.close(), WAIT_MS, "server.close() with an open stream");
        const closedMs = Date.now() - started;
        expect(await s.next()).toBeNull();
        // The stream ends within one poll (50 ms); close() should not then wait ~5 s for Node's
        // keep-alive timeout on the stream's now idle connection.
        expect(closedMs, "ms until server.close() resolved").toBeLessThan(1_500);
      },
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Fuzz: thousands of malformed requests over loopback

/** mulberry32: a small seeded PRNG, so a failing request list can be replayed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
type Rng = ReturnType<typeof prng>;

interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

interface FuzzResult {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

const FUZZ_REQUESTS = 5_000;
const FUZZ_CONCURRENCY = 20;
const FUZZ_SEED = Number(process.env.BATON_FUZZ_SEED ?? 20_261_122);

const ADMIN = "admin-token-fuzz-0123456789";
const LAUNCHER = "launcher-token-fuzz-0123456789";
const VIEWER = "viewer-token-fuzz-0123456789";

/** Known values: ids of real runs and backfills, keys and names from the snapshot. */
interface FuzzWorld {
  readonly runIds: string[];
  readonly backfillIds: string[];
}

const ASSET_KEYS = ["shop/raw", "shop/clean", "shop/report", "daily", "regional", "dyn"];
const NAMES = ["nightly", "custom_sensor", "regions", "shop_job"];
const PARTITION_KEYS = [
  "2024-01-01",
  "2024-01-15",
  "2024-01-31",
  "eu",
  "us",
  "2023-12-31",
  "2024-02-01",
  "x",
];

function randomString(r: Rng): string {
  return r.pick<() => string>([
    () => "",
    () => " ",
    () => "a".repeat(r.int(20) + 1),
    () => "x".repeat(r.pick([201, 1001, 5000, 10_001, 20_000])),
    () => "日本語/ключ/🚀",
    () => "\u0000",
    () => "\u202e\ufeff",
    () => "../../etc/passwd",
    () => "'; DROP TABLE runs; --",
    () => "{{7*7}} $(id)",
    () => "%00",
    () => "__proto__",
    () => "constructor",
    () => "null",
    () => "*",
    () => "((((((((",
    () => `${"(".repeat(3000)}shop/raw${")".repeat(3000)}`,
    () => `${"not ".repeat(2000)}shop/raw`,
    () => `${"+".repeat(4000)}shop/raw`,
    () => "shop/raw+999999999999",
    () => "key:*",
    () => 'tag:a=b or owner:"x',
    () => r.pick(ASSET_KEYS),
    () => r.pick(PARTITION_KEYS),
    () => String(r.next() * 1e6),
  ])();
}

function randomJson(r: Rng, depth = 0): unknown {
  const leaves = [
    () => null,
    () => r.chance(0.5),
    () => r.pick([0, -1, 1.5, -0, 1e308, -1e308, 2 ** 53 + 1, 1001, 1_000_001, 10, 3]),
    () => randomString(r),
  ];
  if (depth > 3 || r.chance(0.5)) return r.pick(leaves)();
  if (r.chance(0.5)) return Array.from({ length: r.int(5) }, () => randomJson(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = r.int(5); i > 0; i--)
    o[r.chance(0.7) ? randomString(r).slice(0, 30) : "__proto__"] = randomJson(r, depth + 1);
  return o;
}

/** JSON text nested `depth` levels deep (built as text: JSON.stringify would overflow the stack). */
function deeplyNested(r: Rng, depth = r.pick([100, 1000, 10_000, 100_000])): string {
  const array = r.chance(0.5);
  return `${(array ? "[" : '{"a":').repeat(depth)}1${(array ? "]" : "}").repeat(depth)}`;
}

function partitionsValue(r: Rng): unknown {
  return r.pick<() => unknown>([
    () => ({ keys: Array.from({ length: r.int(4) + 1 }, () => r.pick(PARTITION_KEYS)) }),
    () => ({ range: { from: r.pick(PARTITION_KEYS), to: r.pick(PARTITION_KEYS) } }),
    () => ({ which: r.pick(["all", "missing", "failed", "stale", "none"]) }),
    () => ({ keys: [], range: { from: "a", to: "b" } }),
    () => ({}),
    () => ({ keys: Array.from({ length: r.pick([1000, 20_000, 100_001]) }, (_, i) => `k${i}`) }),
  ])();
}

/** A body that is valid (or nearly) for the route, before mutation. */
function baseBody(r: Rng, path: string): Record<string, unknown> {
  const selection = r.pick([
    "shop/raw*",
    "shop/raw",
    "daily",
    "regional",
    "dyn",
    "*",
    "group:parts",
    "key:shop/*",
  ]);
  if (path === "/api/runs")
    return {
      selection,
      ...(r.chance(0.5) ? { partitions: partitionsValue(r) } : {}),
      ...(r.chance(0.4) ? { config: { "shop/clean": { factor: r.pick([2, "2", null]) } } } : {}),
      ...(r.chance(0.3) ? { tags: { team: "a", [randomString(r).slice(0, 300)]: randomString(r) } } : {}),
      ...(r.chance(0.3) ? { priority: r.pick([0, 5, 1001, 1.5, -1000]) } : {}),
      ...(r.chance(0.3) ? { maxRetries: r.pick([0, 1, 11, -1]) } : {}),
    };
  if (path === "/api/backfills")
    return {
      selection,
      partitions: partitionsValue(r),
      ...(r.chance(0.3) ? { chunkSize: r.pick([1, 10, 0, 1e9]) } : {}),
      ...(r.chance(0.3) ? { singleRun: r.chance(0.5) } : {}),
      ...(r.chance(0.3) ? { config: { daily: {} } } : {}),
    };
  if (path.endsWith("/reexecute")) return { fromFailure: r.chance(0.5) };
  if (path.endsWith("/retry")) return { force: r.chance(0.5) };
  if (path.includes("/api/partitions/"))
    return { keys: Array.from({ length: r.pick([1, 3, 50]) }, () => randomString(r).slice(0, 40) || "k") };
  return {};
}

function mutate(r: Rng, value: Record<string, unknown>): unknown {
  if (r.chance(0.1)) return randomJson(r);
  if (r.chance(0.05)) return [value];
  const out: Record<string, unknown> = { ...value };
  for (const key of Object.keys(out)) {
    if (r.chance(0.15)) delete out[key];
    else if (r.chance(0.2)) out[key] = r.chance(0.1) ? JSON.parse(deeplyNested(r, 50)) : randomJson(r);
  }
  if (r.chance(0.2))
    out[r.pick(["extra", "selection", "partitions", "__proto__", "runId", ""])] = randomJson(r);
  return out;
}

const RAW_BODIES = [
  "",
  "{",
  "}",
  "[",
  '{"selection":',
  "{'selection': 'shop/raw'}",
  "undefined",
  "NaN",
  '{"selection": "shop/raw"} trailing',
  '\ufeff{"selection": "shop/raw"}',
  '{"selection": "shop/raw", "selection": 1}',
  "\u0000\u0001\u0002",
  "selection=shop/raw",
  "<xml/>",
  "1e999999",
  '"just a string"',
  "true",
  "-",
  '{"a":1,}',
];

interface Template {
  readonly method: string;
  readonly path: string;
}

const TEMPLATES: readonly Template[] = [
  { method: "GET", path: "/api/health" },
  { method: "GET", path: "/api/assets" },
  { method: "GET", path: "/api/assets/{key}" },
  { method: "GET", path: "/api/assets/{key}/partitions" },
  { method: "GET", path: "/api/assets/{key}/why" },
  { method: "GET", path: "/api/assets/{key}/materializations" },
  { method: "GET", path: "/api/jobs" },
  { method: "GET", path: "/api/resources" },
  { method: "GET", path: "/api/schedules" },
  { method: "GET", path: "/api/sensors" },
  { method: "GET", path: "/api/automation/{name}/ticks" },
  { method: "POST", path: "/api/automation/{name}/start" },
  { method: "POST", path: "/api/automation/{name}/stop" },
  { method: "POST", path: "/api/sensors/{name}/cursor/reset" },
  { method: "GET", path: "/api/runs" },
  { method: "GET", path: "/api/runs/{id}" },
  { method: "GET", path: "/api/runs/{id}/events" },
  { method: "GET", path: "/api/runs/{id}/logs" },
  { method: "POST", path: "/api/runs" },
  { method: "POST", path: "/api/runs" },
  { method: "POST", path: "/api/runs" },
  { method: "POST", path: "/api/runs/{id}/cancel" },
  { method: "POST", path: "/api/runs/{id}/reexecute" },
  { method: "GET", path: "/api/backfills" },
  { method: "GET", path: "/api/backfills/{id}" },
  { method: "POST", path: "/api/backfills" },
  { method: "POST", path: "/api/backfills" },
  { method: "POST", path: "/api/backfills/{id}/cancel" },
  { method: "POST", path: "/api/backfills/{id}/retry" },
  { method: "POST", path: "/api/partitions/{name}/add" },
  { method: "POST", path: "/api/partitions/{name}/remove" },
  { method: "GET", path: "/api/events/stream" },
  { method: "GET", path: "/api/openapi.json" },
];

const WILD_PATHS = [
  "/api/../../etc/passwd",
  "/api/assets/../../../etc/passwd",
  "/api/%2e%2e/%2e%2e/etc/passwd",
  "/api/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
  "/..",
  "/../../../../etc/passwd",
  "//api//runs",
  "/api/runs/",
  "/API/RUNS",
  "/api",
  "/api/",
  "/",
  "/index.html",
  "/api/%00",
  "/api/runs/%00",
  "/api/runs/%",
  "/api/assets/%zz",
  "/api/assets/%E0%A4%A",
  "/api/assets/%C0%AE%C0%AE",
  "/api/assets/\u00e9\u00ff",
  "/api/events/stream/../health",
  "/api/runs/a/b/c/d/e/f",
  "/api/automation//start",
  "/api/partitions/%2F/add",
  "*",
  // The UI's files and routes (a fixture dist).
  "/static/index-abc.js",
  "/static/missing.js",
  "/static/..%2f..%2fpackage.json",
  "/static/%2e%2e/%2e%2e/package.json",
  "/assets/shop%2Fraw",
  "/runs/abc",
  "/..%5c..%5cetc%5cpasswd",
];

/** A parameter value for a `{…}` route segment: real ids and keys, or garbage. */
function paramValue(r: Rng, name: string, world: FuzzWorld): string {
  if (r.chance(0.4)) {
    if (name === "key") return encodeURIComponent(r.pick(ASSET_KEYS));
    if (name === "name") return r.pick(NAMES);
    const ids = r.chance(0.5) ? world.runIds : world.backfillIds;
    if (ids.length > 0) return r.pick(ids);
  }
  return r.pick<() => string>([
    () => "",
    () => "..",
    () => "%2e%2e",
    () => "%00",
    () => "a%2Fb",
    () => "x".repeat(r.pick([199, 201, 1001, 5000])),
    () => encodeURIComponent("日本語/🚀"),
    () => "%",
    () => "%ZZ",
    () => "%27%3B%20DROP%20TABLE%20runs%3B--",
    () => "null",
    () => "__proto__",
    () => "constructor",
    () => "-1",
    () => "1e999",
    () => String(r.int(1e9)),
    () => encodeURIComponent(randomString(r)),
  ])();
}

function queryString(r: Rng): string {
  if (r.chance(0.1))
    return r.pick(["?", "?&&==&", "?%", "?limit", "?limit=1&limit=2", "?a[b]=c", "?%00=%00", "?=x"]);
  const keys = ["limit", "cursor", "status", "backfill", "after", "partition", "runId", "foo", "__proto__"];
  const values = [
    "",
    "0",
    "-1",
    "1",
    "5",
    "1.5",
    "1e3",
    "1e309",
    "NaN",
    "Infinity",
    "abc",
    "99999999999999999999",
    "9007199254740993",
    "FAILURE,CANCELED",
    "QUEUED,",
    "nope",
    "2024-01-15",
    "eu",
    "%00",
    "%",
    encodeURIComponent("日本"),
    "x".repeat(2000),
  ];
  const parts = Array.from({ length: r.int(4) + 1 }, () => `${r.pick(keys)}=${r.pick(values)}`);
  return `?${parts.join("&")}`;
}

function fuzzRequest(r: Rng, world: FuzzWorld): FuzzRequest {
  const template = r.pick(TEMPLATES);
  let pathname = r.chance(0.85)
    ? template.path.replace(/\{(\w+)\}/g, (_, name: string) => paramValue(r, name, world))
    : r.pick(WILD_PATHS);
  if (r.chance(0.5)) pathname += queryString(r);
  const method = r.chance(0.8)
    ? template.method
    : r.pick(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "PURGE"]);

  const headers: Record<string, string> = {};
  const auth = r.next();
  if (auth < 0.55) headers.authorization = `Bearer ${ADMIN}`;
  else if (auth < 0.65) headers.authorization = `Bearer ${LAUNCHER}`;
  else if (auth < 0.75) headers.authorization = `Bearer ${VIEWER}`;
  else {
    const bad = r.pick([
      undefined,
      "Bearer",
      "Bearer ",
      `Bearer ${ADMIN}x`,
      `bearer ${ADMIN}`,
      `Bearer ${ADMIN} extra`,
      `Bearer\t${ADMIN}`,
      ADMIN,
      "Basic YWxhZGRpbjpvcGVuc2VzYW1l",
      `Bearer ${"t".repeat(10_000)}`,
      "Bearer \u00e9\u00e8\u00ff",
      "Bearer null",
    ]);
    if (bad !== undefined) headers.authorization = bad;
  }
  const type = r.pick([
    "application/json",
    "application/json",
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/json-patch+json",
    "application/jsonx",
    "application/vnd.api+json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "",
    undefined,
  ]);
  if (type !== undefined) headers["content-type"] = type;
  if (pathname.startsWith("/api/events/stream") && r.chance(0.5))
    headers["last-event-id"] = r.pick(["0", "1", "-1", "abc", "99999999999999", "1234567890123456", ""]);
  if (r.chance(0.1)) headers.accept = r.pick(["text/event-stream", "*/*", "text/html", "application/xml"]);
  if (r.chance(0.1)) headers.origin = "http://evil.example";

  let body: string | undefined;
  const sendsBody = method !== "GET" && method !== "HEAD" ? r.chance(0.9) : r.chance(0.05);
  if (sendsBody) {
    const kind = r.next();
    if (kind < 0.5) body = JSON.stringify(mutate(r, baseBody(r, template.path)));
    else if (kind < 0.7) body = JSON.stringify(randomJson(r));
    else if (kind < 0.88) body = r.pick(RAW_BODIES);
    else if (kind < 0.95)
      body = JSON.stringify({ ...baseBody(r, template.path), partitions: partitionsValue(r) });
    else if (kind < 0.997)
      body = r.pick([
        () => deeplyNested(r),
        () => `{"selection":"shop/raw*","config":{"shop/clean":${deeplyNested(r)}}}`,
        () => `{"selection":"shop/raw","tags":${deeplyNested(r)}}`,
        () => `{"selection":"daily","partitions":{"keys":${deeplyNested(r)}}}`,
      ])();
    else body = JSON.stringify({ selection: "x".repeat(2_200_000) });
  }
  return { method, path: pathname, headers, ...(body !== undefined ? { body } : {}) };
}

/** The previous request sent on each socket (to explain a connection the server dropped). */
const lastOnSocket = new WeakMap<object, string>();

function send(port: number, agent: http.Agent, req: FuzzRequest): Promise<FuzzResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined) headers["content-length"] = Buffer.byteLength(req.body);
    const started = Date.now();
    let previous: string | undefined;
    const request = http.request(
      { host: "127.0.0.1", port, method: req.method, path: req.path, headers, agent, timeout: 20_000 },
      (response) => {
        const contentType = String(response.headers["content-type"] ?? "");
        if (contentType.startsWith("text/event-stream")) {
          // A stream that opened would never end: that it opened is the answer.
          request.destroy();
          resolve({ status: response.statusCode ?? 0, contentType, text: "" });
          return;
        }
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            contentType,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        response.on("error", reject);
      },
    );
    request.on("socket", (socket) => {
      previous = lastOnSocket.get(socket);
      lastOnSocket.set(socket, describeRequest(req));
    });
    request.on("timeout", () => request.destroy(new Error("no answer within 20 s")));
    request.on("error", (error) =>
      reject(
        new Error(
          `${error.message} after ${Date.now() - started} ms on a ${request.reusedSocket ? "reused" : "new"} connection` +
            (previous ? `; previous request on it: ${previous}` : ""),
        ),
      ),
    );
    if (req.body !== undefined) request.write(req.body);
    request.end();
  });
}

function describeRequest(req: FuzzRequest): string {
  const body =
    req.body === undefined
      ? ""
      : ` body(${req.body.length} chars): ${JSON.stringify(req.body.slice(0, 200))}`;
  const headers = JSON.stringify(req.headers, (_k, v) =>
    typeof v === "string" && v.length > 60 ? `${v.slice(0, 60)}…(${v.length})` : v,
  );
  return `${req.method} ${req.path.length > 200 ? `${req.path.slice(0, 200)}…(${req.path.length})` : req.path} ${headers}${body}`;
}

/** Failures grouped by cause (ids, numbers and the previous request blanked), with up to 3 examples each. */
class FailureLog {
  readonly groups = new Map<string, { count: number; examples: string[] }>();
  add(kind: string, detail: string, req: FuzzRequest) {
    const cause = detail
      .split("; previous request on it:")[0]!
      .replace(/ on a (new|reused) connection/, "")
      .replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "ID")
      .replace(/\d+/g, "N")
      .slice(0, 200);
    const key = `${kind}: ${cause}`;
    const group = this.groups.get(key) ?? { count: 0, examples: [] };
    this.groups.set(key, group);
    group.count++;
    if (group.examples.length < 3)
      group.examples.push(`${describeRequest(req)}\n      → ${detail.slice(0, 400)}`);
  }
  list(kind: string): string[] {
    return [...this.groups]
      .filter(([key]) => key.startsWith(`${kind}:`))
      .map(([key, g]) => `${g.count}× ${key}\n${g.examples.map((e) => `    e.g. ${e}`).join("\n")}`);
  }
}

for (const backend of storageBackends()) {
  describe.skipIf(backend.skipReason !== null)(`fuzz (${backend.name})`, () => {
    let location: StorageLocation;
    let instance: BatonInstance;
    let home: string;
    let server: Server;
    let uiDir: string;

    beforeAll(async () => {
      await backend.start();
      location = await backend.createLocation();
      ({ instance, home } = await openTestInstance(location));
      await publishSnapshot(instance.storage, definitions);
      // A built UI, so that paths outside /api are served too (index.html, /static files).
      uiDir = await mkdtemp(path.join(tmpdir(), "baton-webserver-ui-"));
      await mkdir(path.join(uiDir, "static"));
      await writeFile(path.join(uiDir, "index.html"), "<!doctype html><title>Baton</title>");
      await writeFile(path.join(uiDir, "static", "index-abc.js"), "export {};");
      server = await startWebserver({
        instance,
        port: 0,
        streamPollMs: POLL_MS,
        ui: { dir: uiDir },
        auth: {
          tokens: [
            makeToken("admin", "admin", ADMIN),
            makeToken("ci", "launcher", LAUNCHER),
            makeToken("ro", "viewer", VIEWER),
          ],
        },
      });
    });
    afterAll(async () => {
      if (server) await withTimeout(server.close(), WAIT_MS, "server.close()");
      await instance?.close();
      if (location) await backend.destroyLocation(location);
      if (backend.name === "postgres" && home) await rm(home, { recursive: true, force: true });
      if (uiDir) await rm(uiDir, { recursive: true, force: true });
      await backend.stop();
    });

    test(`${FUZZ_REQUESTS} malformed requests: no 5xx, every JSON error well formed, still healthy`, {
      timeout: 120_000,
    }, async () => {
      // Real ids to aim at: a succeeded run (events, materializations), a queued one, a backfill.
      const api = async (method: string, pathname: string, body?: unknown) => {
        const response = await fetch(`${server.url}${pathname}`, {
          method,
          headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        return { status: response.status, body: (await json(response)) as any };
      };
      const done = await api("POST", "/api/runs", { selection: "shop/raw*" });
      expect(done.status).toBe(201);
      await execute(instance, done.body.run.runId);
      const queued = await api("POST", "/api/runs", { selection: "regional", partitions: { keys: ["eu"] } });
      expect(queued.status).toBe(201);
      const backfill = await api("POST", "/api/backfills", {
        selection: "daily",
        partitions: { which: "all" },
      });
      expect(backfill.status).toBe(201);
      const world: FuzzWorld = {
        runIds: [done.body.run.runId, queued.body.run.runId],
        backfillIds: [backfill.body.backfill.backfillId],
      };

      const r = prng(FUZZ_SEED);
      const requests = Array.from({ length: FUZZ_REQUESTS }, () => fuzzRequest(r, world));
      // Idle sockets are dropped after 2 s, before the server's keep-alive timeout (5 s) closes
      // them: reusing one at that very moment is the classic keep-alive race, a client artifact
      // (seen once under load), not a connection the server dropped mid-request.
      const agent = new http.Agent({ keepAlive: true, maxSockets: FUZZ_CONCURRENCY, timeout: 2_000 });
      const freshAgent = new http.Agent({ keepAlive: false });
      const statuses = new Map<number, number>();
      const failures = new FailureLog();
      const started = Date.now();
      let nextIndex = 0;
      const worker = async () => {
        while (nextIndex < requests.length) {
          const req = requests[nextIndex++]!;
          let result: FuzzResult;
          try {
            result = await send(server.port, agent, req);
          } catch (error) {
            // A request that met a keep-alive socket the server was closing at that moment never
            // reached it: Node's documented answer (request.reusedSocket) is to send it again. Once,
            // on a new connection; a second failure, or any failure on a new one, counts.
            const message = (error as Error).message;
            if (!/^(socket hang up|read ECONNRESET) .* on a reused connection/.test(message)) {
              failures.add("no answer", message, req);
              continue;
            }
            try {
              result = await send(server.port, freshAgent, req);
            } catch (again) {
              failures.add("no answer", `${(again as Error).message} (sent again after: ${message})`, req);
              continue;
            }
          }
          statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
          if (result.status >= 500)
            failures.add("5xx", `${result.status} ${result.text || "(no body)"}`, req);
          else if (
            result.status >= 300 &&
            /^application\/json/i.test(result.contentType) &&
            req.method !== "HEAD"
          ) {
            let e: { code?: unknown; message?: unknown; field?: unknown } | undefined;
            try {
              e = JSON.parse(result.text).error;
            } catch {
              failures.add("bad error body", `${result.status} unparseable: ${result.text}`, req);
              continue;
            }
            if (
              typeof e?.code !== "string" ||
              typeof e.message !== "string" ||
              (e.field !== undefined && typeof e.field !== "string")
            )
              failures.add("bad error body", `${result.status} ${result.text}`, req);
          }
        }
      };
      await Promise.all(Array.from({ length: FUZZ_CONCURRENCY }, worker));
      agent.destroy();
      const seconds = (Date.now() - started) / 1000;
      console.log(
        `fuzz ${backend.name}, seed ${FUZZ_SEED} (BATON_FUZZ_SEED): ${requests.length} requests in ${seconds.toFixed(1)} s; ` +
          `statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}\n` +
          [...failures.list("5xx"), ...failures.list("bad error body"), ...failures.list("no answer")].join(
            "\n",
          ),
      );

      const health = await fetch(`${server.url}/api/health`, {
        headers: { authorization: `Bearer ${VIEWER}` },
      });
      expect(health.status).toBe(200);
      expect((await json(health)).status).toBe("ok");
      // Validation was reached, not only auth: many 400s, and plenty of requests got through.
      expect(statuses.get(400) ?? 0).toBeGreaterThan(300);
      expect(statuses.get(200) ?? 0).toBeGreaterThan(300);
      expect.soft(failures.list("5xx"), "5xx answers").toEqual([]);
      expect.soft(failures.list("bad error body"), "error bodies without error.code/message").toEqual([]);
      expect.soft(failures.list("no answer"), "requests whose connection was dropped").toEqual([]);
    });
  });
}
