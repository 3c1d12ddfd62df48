/**
 * Several `baton webserver` processes on one store serve the same live event stream (issue 13 §3).
 * Real processes (the built CLI), real Postgres (a throwaway server) and real SSE over loopback.
 *
 * Postgres: the stream's polling fallback is set far longer than the test (BATON_STREAM_POLL_MS;
 * the stream waits at most 15 s between reads), so an event written through replica A can reach
 * replica B's stream within 1 s only through LISTEN/NOTIFY. Also: one LISTEN connection per
 * process whatever the number of open streams, and a LISTEN connection that is killed comes back
 * by itself. SQLite has no NOTIFY: two replicas on one file still stream by polling.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openStorage } from "../packages/core/src/storage/open-storage.js";
import type { Storage } from "../packages/core/src/storage/storage.js";
import {
  createTestDatabase,
  dropTestDatabase,
  handleMissingPostgres,
  requirePostgresOrSkipReason,
  startTestPostgres,
  type TestPostgres,
} from "./support/postgres.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = path.join(root, "packages", "core", "bin", "baton.js");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Replica {
  readonly url: string;
  readonly child: ChildProcess;
  stderr(): string;
}

/** `baton webserver --port 0`; resolves with its URL once it listens. */
function startReplica(env: Record<string, string>): Promise<Replica> {
  const child = spawn(process.execPath, [bin, "webserver", "--port", "0"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`webserver did not start in 20 s:\n${err}`)), 20_000);
    child.stderr!.on("data", (chunk: Buffer) => {
      err += chunk.toString();
      const m = /baton webserver: (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, child, stderr: () => err });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`webserver exited (${code}) before listening:\n${err}`));
    });
  });
}

async function stopReplica(replica: Replica | undefined) {
  const child = replica?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

interface Received {
  readonly id: number;
  readonly type: string;
  readonly runId: string;
  readonly at: number;
}

/** An open SSE stream of a replica, collecting events as they arrive (with arrival time). */
async function openStream(baseUrl: string) {
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/api/events/stream`, { signal: controller.signal });
  expect(response.status).toBe(200);
  const received: Received[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const pump = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(block)?.[1];
          const id = /^id: (\d+)$/m.exec(block)?.[1];
          if (data && id) {
            const event = JSON.parse(data) as { type: string; runId: string };
            received.push({ id: Number(id), type: event.type, runId: event.runId, at: Date.now() });
          }
          end = buffer.indexOf("\n\n");
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    received,
    /** The event of `runId` with `type`, waiting at most `ms`. */
    async waitFor(runId: string, type: string, ms: number) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = received.find((e) => e.runId === runId && e.type === type);
        if (hit) return hit;
        if (Date.now() > deadline) return undefined;
        await sleep(10);
      }
    },
    async close() {
      controller.abort();
      await pump;
    },
  };
}

/** A queued run nobody claims: canceling it through a replica's API writes `run_canceled`. */
async function queuedRun(storage: Storage, runId: string) {
  await storage.createRun({
    runId,
    status: "QUEUED",
    selection: "a",
    assetKeys: ["a"],
    config: {},
    tags: {},
    createdAt: Date.now(),
    request: { assetKeys: ["a"] },
  });
}

async function cancelThrough(replica: Replica, runId: string) {
  const response = await fetch(`${replica.url}/api/runs/${runId}/cancel`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return Date.now();
}

const skipReason = requirePostgresOrSkipReason();
if (skipReason !== null) handleMissingPostgres(skipReason);

describe.skipIf(skipReason !== null)("webserver replicas on one Postgres (LISTEN/NOTIFY)", () => {
  let server: TestPostgres;
  let databaseUrl: string;
  let home: string;
  let storage: Storage;
  let admin: pg.Client;
  let a: Replica | undefined;
  let b: Replica | undefined;

  /** LISTEN connections of the replicas, as Postgres sees them. */
  const listeners = async () =>
    (
      await admin.query<{ pid: number; query: string }>(
        "select pid, query from pg_stat_activity where datname = current_database() and application_name = 'baton-listen'",
      )
    ).rows;
  const waitForListeners = async (n: number, ms = 10_000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const rows = await listeners();
      if (rows.length === n && rows.every((r) => /LISTEN/i.test(r.query))) return rows;
      if (Date.now() > deadline)
        throw new Error(`expected ${n} LISTEN connection(s), saw ${JSON.stringify(rows)}`);
      await sleep(25);
    }
  };

  beforeAll(async () => {
    server = (await startTestPostgres())!;
    databaseUrl = await createTestDatabase(server.url);
    home = await mkdtemp(path.join(tmpdir(), "baton-replicas-"));
    storage = await openStorage({ databaseUrl, sqlitePath: path.join(home, "unused.db") });
    admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    // Polling alone could not meet the 1 s bound: the streams read the store once when they open,
    // then wait for a wake (or 15 s, the ping interval).
    const env = { BATON_HOME: home, BATON_DATABASE_URL: databaseUrl, BATON_STREAM_POLL_MS: "60000" };
    [a, b] = await Promise.all([startReplica(env), startReplica(env)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([stopReplica(a), stopReplica(b)]);
    await admin?.end();
    await storage?.close();
    if (databaseUrl) await dropTestDatabase(databaseUrl);
    await server?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  }, 30_000);

  test("an event written through replica A reaches every stream of replica B within 1 s", async () => {
    // Three clients on B share one LISTEN connection; A has no stream open, so no connection.
    const streams = await Promise.all([openStream(b!.url), openStream(b!.url), openStream(b!.url)]);
    try {
      await waitForListeners(1);
      for (let round = 0; round < 3; round++) {
        const runId = `replica-run-${round}`;
        await queuedRun(storage, runId);
        const writtenAt = await cancelThrough(a!, runId);
        for (const stream of streams) {
          const hit = await stream.waitFor(runId, "run_canceled", 1000);
          expect(hit, `round ${round}: run_canceled not streamed by replica B within 1 s`).toBeDefined();
          expect(hit!.at - writtenAt).toBeLessThan(1000);
        }
      }
      expect(await listeners()).toHaveLength(1);
      // Each stream saw each event once, in log order.
      for (const stream of streams) {
        const ids = stream.received.map((e) => e.id);
        expect(ids).toEqual([...new Set(ids)].sort((x, y) => x - y));
        expect(stream.received.filter((e) => e.type === "run_canceled")).toHaveLength(3);
      }
    } finally {
      await Promise.all(streams.map((s) => s.close()));
    }
    // The last stream gone, B lets its LISTEN connection go.
    await waitForListeners(0);
  }, 30_000);

  test("a LISTEN connection that is killed reconnects by itself (and catches up)", async () => {
    const stream = await openStream(b!.url);
    try {
      const [before] = await waitForListeners(1);
      await admin.query("select pg_terminate_backend($1)", [before!.pid]);
      // Written while B may have no LISTEN connection: the reconnection's wake reads it.
      await queuedRun(storage, "while-disconnected");
      await cancelThrough(a!, "while-disconnected");
      const [after] = await waitForListeners(1);
      expect(after!.pid).not.toBe(before!.pid);
      expect(await stream.waitFor("while-disconnected", "run_canceled", 2000)).toBeDefined();
      // And NOTIFY wakes it again.
      await queuedRun(storage, "after-reconnect");
      const writtenAt = await cancelThrough(a!, "after-reconnect");
      const hit = await stream.waitFor("after-reconnect", "run_canceled", 1000);
      expect(hit, "not streamed within 1 s after the reconnection").toBeDefined();
      expect(hit!.at - writtenAt).toBeLessThan(1000);
    } finally {
      await stream.close();
    }
  }, 30_000);
});

describe("webserver replicas on one SQLite file (polling)", () => {
  let home: string;
  let storage: Storage;
  let a: Replica | undefined;
  let b: Replica | undefined;

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), "baton-replicas-sqlite-"));
    storage = await openStorage({ sqlitePath: path.join(home, "baton.db") });
    const env = { BATON_HOME: home, BATON_DATABASE_URL: "" };
    [a, b] = await Promise.all([startReplica(env), startReplica(env)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([stopReplica(a), stopReplica(b)]);
    await storage?.close();
    if (home) await rm(home, { recursive: true, force: true });
  }, 30_000);

  test("an event written through replica A is streamed by replica B (polling, 250 ms)", async () => {
    expect(storage.watchEvents).toBeUndefined();
    const stream = await openStream(b!.url);
    try {
      await sleep(300); // the stream has read its starting point
      await queuedRun(storage, "sqlite-run");
      await cancelThrough(a!, "sqlite-run");
      expect(await stream.waitFor("sqlite-run", "run_canceled", 3000)).toBeDefined();
    } finally {
      await stream.close();
    }
  }, 30_000);

  test("a bad BATON_STREAM_POLL_MS fails the start naming the variable", async () => {
    await expect(
      startReplica({ BATON_HOME: home, BATON_DATABASE_URL: "", BATON_STREAM_POLL_MS: "soon" }),
    ).rejects.toThrow(/BATON_STREAM_POLL_MS must be a whole number of milliseconds/);
  }, 30_000);
});
