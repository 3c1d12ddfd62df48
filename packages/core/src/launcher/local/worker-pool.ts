import { type ChildProcess, fork } from "node:child_process";
import type { Storage } from "../../storage/storage.js";

/** Messages a worker child sends its supervisor. */
export type WorkerMessage =
  | { type: "run-start"; runId: string }
  | { type: "run-end"; runId: string }
  | { type: "ready"; workerId: string }
  /** About to exit after idling with the user's code loaded: replace it quietly. */
  | { type: "idle-exit" };

/** Messages a supervisor sends a worker child: retire = stop claiming and exit (no run in flight). */
export type SupervisorMessage = { type: "retire" };

export interface WorkerPoolOptions {
  readonly storage: Storage;
  /** At most this many child processes (each executes one run at a time). */
  readonly size: number;
  /**
   * Children kept alive while nothing runs (default `size`: all). The others start when
   * every live child is busy (a run started, or a child exited while the rest were busy) and stop
   * again after `idleMs` without a run: an idle `baton dev` holds one small worker, not `size`.
   */
  readonly warm?: number;
  /** How long a child beyond `warm` may stay without a run before it is stopped (default 60 s; undefined in options: never). */
  readonly idleMs?: number | null;
  /** The script and arguments that start one worker child. */
  readonly script: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  log(line: string): void;
}

export interface WorkerPool {
  readonly children: () => readonly ChildProcess[];
  /** Stop: children finish their runs (a second call kills them). */
  stop(): Promise<void>;
}

/**
 * V8's young generation grows to 16 MB semi-spaces (32 MB committed) while a worker imports its
 * code, and an idle process never gives it back: ~25 MB of each idle worker's resident memory
 * (bench:rss). 4 MB semi-spaces keep that to ~8 MB; runs allocating many short-lived objects
 * collect the young generation more often. Not added when the user sets it (NODE_OPTIONS or the
 * supervisor's own flags).
 */
export const WORKER_SEMI_SPACE_MB = 4;

export function workerExecArgv(env: NodeJS.ProcessEnv): string[] {
  const set = [...process.execArgv, env.NODE_OPTIONS ?? ""].some((a) => a.includes("--max-semi-space-size"));
  return set ? [...process.execArgv] : [...process.execArgv, `--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`];
}

/**
 * A supervisor of worker child processes: keeps `warm` of them alive and grows to `size` while
 * they are all busy (Dagster's default launcher spawns a process per run; here a busy pool grows
 * by one child per run start, and shrinks back when children idle). A child that dies while
 * executing a run (SIGKILL, out of memory) has that run failed at once with the reason, and is
 * replaced; the store's heartbeat monitor is the backstop if the supervisor itself dies.
 */
export function startWorkerPool(options: WorkerPoolOptions): WorkerPool {
  const running = new Map<ChildProcess, string | undefined>();
  const recycled = new WeakSet<ChildProcess>();
  const workerIds = new Map<ChildProcess, string>();
  const pending = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  let stopping = false;
  const respawns = new Set<NodeJS.Timeout>();
  let stopped: () => void = () => {};
  const allStopped = new Promise<void>((resolve) => {
    stopped = resolve;
  });

  const failRun = async (runId: string, reason: string) => {
    const run = await options.storage.getRun(runId).catch(() => undefined);
    if (!run || ["SUCCESS", "FAILURE", "CANCELED"].includes(run.status)) return;
    await options.storage
      .appendEvents([{ type: "run_failed", reason, runId, timestamp: Date.now() }])
      .catch(() => undefined);
    options.log(`run ${runId} failed: ${reason}`);
  };

  // A child that dies right after starting (e.g. definitions that fail to load) is restarted with
  // a growing delay, not in a tight loop.
  let quickDeaths = 0;
  const warm = Math.max(1, Math.min(options.size, options.warm ?? options.size));
  const idleMs = options.idleMs === undefined ? 60_000 : options.idleMs;
  const idleTimers = new Map<ChildProcess, NodeJS.Timeout>();
  const allBusy = () => [...running.values()].every((runId) => runId !== undefined);
  /** More capacity may be needed: every live child runs something and the pool may grow. */
  const mayGrow = () => !stopping && running.size < options.size && allBusy();
  /** A child without a run: a child beyond `warm` is stopped after `idleMs` (it finishes nothing). */
  const idle = (child: ChildProcess) => {
    clearTimeout(idleTimers.get(child));
    if (idleMs === null) return;
    const timer = setTimeout(() => {
      idleTimers.delete(child);
      if (stopping || running.get(child) !== undefined || running.size <= warm) return;
      recycled.add(child);
      // Asked over IPC (quietly; it stops claiming and exits 0); SIGTERM if the channel is gone.
      if (!child.connected || !child.send({ type: "retire" } satisfies SupervisorMessage))
        child.kill("SIGTERM");
    }, idleMs);
    timer.unref();
    idleTimers.set(child, timer);
  };
  const spawnChild = () => {
    const bornAt = Date.now();
    const env = options.env ?? process.env;
    const child = fork(options.script, [...options.args], {
      // DuckDB files are locked per process: a worker lets go of them between runs.
      env: { ...env, BATON_DUCKDB_RELEASE_IDLE: "1" },
      execArgv: workerExecArgv(env),
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    running.set(child, undefined);
    idle(child);
    child.on("message", (message: WorkerMessage) => {
      if (message.type === "run-start") {
        running.set(child, message.runId);
        clearTimeout(idleTimers.get(child));
        if (mayGrow()) spawnChild();
      } else if (message.type === "run-end") {
        running.set(child, undefined);
        idle(child);
      } else if (message.type === "ready") workerIds.set(child, message.workerId);
      else if (message.type === "idle-exit") recycled.add(child);
    });
    child.on("exit", (code, signal) => {
      const runId = running.get(child);
      running.delete(child);
      clearTimeout(idleTimers.get(child));
      idleTimers.delete(child);
      const how = signal ? `signal ${signal}` : `code ${code}`;
      if (runId) track(failRun(runId, `its worker process ${child.pid} died (${how}) while running it`));
      const workerId = workerIds.get(child);
      workerIds.delete(child);
      if (workerId) track(options.storage.stopWorker(workerId, Date.now()).catch(() => undefined));
      if (stopping) {
        if (running.size === 0) stopped();
        return;
      }
      // Replaced when the pool would fall below `warm`, or when every other child is busy (queued
      // runs may be waiting for the capacity it had); otherwise the next busy moment grows it again.
      if (running.size >= warm && !mayGrow()) return;
      // A clean exit (code 0: a reload) is not a crash; a quick crash backs off.
      const crashed = signal !== null || code !== 0;
      quickDeaths = crashed && Date.now() - bornAt < 2000 ? quickDeaths + 1 : 0;
      const delay = quickDeaths === 0 ? 0 : Math.min(30_000, 250 * 2 ** Math.min(quickDeaths, 7));
      if (!(recycled.has(child) && code === 0))
        options.log(
          `worker ${child.pid} exited (${how}); starting a replacement${delay ? ` in ${(delay / 1000).toFixed(1)} s` : ""}`,
        );
      const respawn = setTimeout(() => {
        respawns.delete(respawn);
        if (!stopping) spawnChild();
      }, delay);
      respawns.add(respawn);
    });
    return child;
  };

  for (let i = 0; i < warm; i++) spawnChild();

  return {
    children: () => [...running.keys()],
    async stop() {
      if (stopping) {
        // Asked again: do not wait for runs to finish.
        for (const child of running.keys()) child.kill("SIGKILL");
      } else {
        stopping = true;
        for (const t of idleTimers.values()) clearTimeout(t);
        idleTimers.clear();
        for (const t of respawns) clearTimeout(t);
        respawns.clear();
        for (const child of running.keys()) child.kill("SIGTERM");
      }
      if (running.size > 0) await allStopped;
      // Runs of children that died are failed (and worker rows closed) before the store closes.
      await Promise.all([...pending]);
    },
  };
}
