/**
 * Shared parts of the Postgres fault scenarios (postgres-restart, two-daemons): the real `baton`
 * processes on one database, an SSE client that resumes with Last-Event-ID, and the store checks
 * (read with a raw `pg` client, independent of the Storage implementation under test).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { describeProc, type Proc, spawnBaton, spawnCommand, waitFor } from "../support/processes.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const FIXTURE = path.join(ROOT, "tests/fixtures/faults-postgres");

/** One line of measured figures for the closing note's table. */
export function printFigures(figures: Record<string, unknown>): void {
  console.log(`FAULT_FIGURES ${JSON.stringify(figures)}`);
}

export interface ProcEnv {
  readonly home: string;
  readonly databaseUrl: string;
  readonly extra?: Readonly<Record<string, string>>;
}

/** Our environment without BATON_*, FIXTURE_* and CI, plus the store and the fixture settings. */
export function childEnv(e: ProcEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(BATON_|FIXTURE_)/.test(k) && k !== "CI" && v !== undefined) env[k] = v;
  env.BATON_HOME = e.home;
  env.BATON_DATABASE_URL = e.databaseUrl;
  Object.assign(env, e.extra ?? {});
  return env;
}

/**
 * The CLI the processes run: the built one, or FAULT_BATON_BIN (a scratch build with a fault put in on
 * purpose, to show these tests fail without touching the tree other suites run).
 */
export function startBaton(e: ProcEnv, args: readonly string[], procs: Proc[]): Proc {
  const bin = process.env.FAULT_BATON_BIN;
  const options = { cwd: FIXTURE, env: childEnv(e) };
  const proc = bin
    ? spawnCommand("baton", process.execPath, [bin], args, options)
    : spawnBaton(args, options);
  procs.push(proc);
  return proc;
}

export function roleOf(d: Proc): "leader" | "standby" | undefined {
  const text = d.stderr();
  const lead = text.lastIndexOf("is the leader");
  const stand = text.lastIndexOf("is waiting as standby");
  if (lead < 0 && stand < 0) return undefined;
  return lead > stand ? "leader" : "standby";
}

/** `baton daemon --interval-ms 200`, once it announced a role. */
export async function startDaemon(e: ProcEnv, procs: Proc[], ms = 20_000): Promise<Proc> {
  const daemon = startBaton(e, ["daemon", "--interval-ms", "200"], procs);
  await waitFor(
    () => `the daemon to announce its role: ${describeProc(daemon)}`,
    () => {
      if (daemon.exitInfo()) throw new Error(`the daemon exited: ${describeProc(daemon)}`);
      return roleOf(daemon) !== undefined;
    },
    ms,
  );
  return daemon;
}

/** `baton worker --concurrency N --heartbeat-ms 300`; its child pids once it says it started. */
export async function startWorkers(
  e: ProcEnv,
  procs: Proc[],
  concurrency: number,
  ms = 30_000,
): Promise<{ proc: Proc; childPids: number[] }> {
  const proc = startBaton(
    e,
    ["worker", "--concurrency", String(concurrency), "--heartbeat-ms", "300"],
    procs,
  );
  const match = await waitFor(
    () => `the worker pool to start: ${describeProc(proc)}`,
    () => {
      if (proc.exitInfo()) throw new Error(`the pool exited: ${describeProc(proc)}`);
      return /worker pool started: \d+ process(?:es)? \(pids ([\d, ]+)\)/.exec(proc.stderr()) ?? undefined;
    },
    ms,
  );
  return { proc, childPids: match[1]!.split(",").map((s) => Number(s.trim())) };
}

/** `baton webserver --port 0`; its base URL once it listens. */
export async function startWebserver(
  e: ProcEnv,
  procs: Proc[],
  ms = 20_000,
): Promise<{ proc: Proc; url: string }> {
  const proc = startBaton(e, ["webserver", "--port", "0"], procs);
  const url = await waitFor(
    () => `the webserver to listen: ${describeProc(proc)}`,
    () => {
      if (proc.exitInfo()) throw new Error(`the webserver exited: ${describeProc(proc)}`);
      return /baton webserver: (http:\/\/\S+)/.exec(proc.stderr())?.[1];
    },
    ms,
  );
  return { proc, url };
}

export interface StreamFollower {
  /** Every event id received, in arrival order (duplicates kept: the test checks there are none). */
  readonly ids: number[];
  /** Connections that ended (or failed) while we still followed, each followed by a resume. */
  readonly drops: { at: number; lastId: number; why: string }[];
  /** Successful (re)connections, with the Last-Event-ID each sent. */
  readonly connects: { at: number; lastEventId: string | null }[];
  lastId(): number;
  close(): Promise<void>;
}

/**
 * Follows `/api/events/stream` from `afterId` like a browser's EventSource: when the stream ends or
 * fails it reconnects (every 100 ms until it answers) with `Last-Event-ID` = the last id received.
 */
export function followStream(baseUrl: string, afterId: number): StreamFollower {
  const controller = new AbortController();
  const ids: number[] = [];
  const drops: StreamFollower["drops"] = [];
  const connects: StreamFollower["connects"] = [];
  let last = afterId;
  const once = async () => {
    const lastEventId = String(last);
    const response = await fetch(`${baseUrl}/api/events/stream`, {
      signal: controller.signal,
      headers: { "last-event-id": lastEventId, accept: "text/event-stream" },
    });
    if (response.status !== 200 || !response.body) {
      await response.body?.cancel().catch(() => undefined);
      throw new Error(`HTTP ${response.status}`);
    }
    connects.push({ at: Date.now(), lastEventId });
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new Error("the stream ended");
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const id = /^id: (\d+)$/m.exec(block)?.[1];
        if (id !== undefined) {
          ids.push(Number(id));
          last = Number(id);
        }
        end = buffer.indexOf("\n\n");
      }
    }
  };
  const pump = (async () => {
    while (!controller.signal.aborted) {
      const before = connects.length;
      try {
        await once();
      } catch (error) {
        if (controller.signal.aborted) return;
        // Only an open stream that ended is a drop (not a refused or failed reconnection attempt).
        if (connects.length > before) drops.push({ at: Date.now(), lastId: last, why: String(error) });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  })();
  return {
    ids,
    drops,
    connects,
    lastId: () => last,
    async close() {
      controller.abort();
      await pump;
    },
  };
}

/** A raw client to look at the store (stray errors, e.g. during a restart, do not crash the test). */
export async function withPg<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function query<R extends Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  return withPg(url, async (c) => (await c.query(sql, params)).rows as R[]);
}

/** Runs whose event_logs run_seq is not exactly 1..n (a lost or duplicated event), in words. */
export async function runSeqViolations(url: string): Promise<string[]> {
  const rows = await query<{ run_id: string; n: number; min: number; max: number; distinct: number }>(
    url,
    `SELECT run_id, count(*)::int AS n, min(run_seq)::int AS min, max(run_seq)::int AS max,
            count(DISTINCT run_seq)::int AS distinct
       FROM event_logs GROUP BY run_id
     HAVING min(run_seq) <> 1 OR max(run_seq) <> count(*) OR count(DISTINCT run_seq) <> count(*)`,
  );
  return rows.map(
    (r) => `run ${r.run_id}: ${r.n} events, run_seq ${r.min}..${r.max} (${r.distinct} distinct)`,
  );
}
