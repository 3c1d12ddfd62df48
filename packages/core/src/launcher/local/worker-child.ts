import { randomUUID } from "node:crypto";
import { loadDefinitions } from "../../cli/load-definitions.js";
import { currentGeneration, followReloads } from "../../daemon/reload.js";
import { UsageError } from "../../errors.js";
import type { BatonInstance } from "../../instance/instance.js";
import { publishSnapshot } from "../../snapshot/snapshot.js";
import type { TagLimit } from "../../storage/storage.js";
import { runWorker } from "../../worker/run-worker.js";
import type { SupervisorMessage, WorkerMessage } from "./worker-pool.js";

/**
 * How long a worker child that loaded the user's code stays without a run before it exits to be
 * replaced by a fresh, small one: `BATON_WORKER_IDLE_EXIT_MS` (default 60 s; 0: never).
 */
export function idleExitMsOf(env: Readonly<Record<string, string | undefined>>): number | undefined {
  const text = env.BATON_WORKER_IDLE_EXIT_MS;
  if (text === undefined || text === "") return 60_000;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 0)
    throw new UsageError(`BATON_WORKER_IDLE_EXIT_MS must be a whole number of milliseconds (got "${text}")`);
  return ms === 0 ? undefined : ms;
}

export interface WorkerChildOptions {
  readonly instance: BatonInstance;
  /** Absolute path of the definitions file. */
  readonly definitionsPath: string;
  readonly heartbeatMs?: number;
  readonly maxConcurrentRuns?: number;
  readonly tagLimits?: readonly TagLimit[];
  /** Exit after this long idle with the user's code loaded (see `idleExitMsOf`); undefined: never. */
  readonly idleExitMs?: number;
  log(line: string): void;
}

/**
 * One worker process of a local launcher's pool (`baton worker --child`): claims and executes
 * queued runs, and speaks the pool's IPC protocol (ready, run-start, run-end, idle-exit; retire).
 * Its supervisor coordinates stopping: Ctrl-C reaches the whole process group, so a child ignores
 * SIGINT and finishes its run on the supervisor's SIGTERM (once); it also stops when the supervisor
 * is gone (the IPC channel closes), and when the code is reloaded (the supervisor starts a
 * replacement that loads the new code). Resolves once it stopped.
 */
export async function runWorkerChild(options: WorkerChildOptions): Promise<void> {
  const { instance, definitionsPath } = options;
  // The code generation this process runs: read before loading, so a reload requested while it
  // loads is not missed.
  const generation = await currentGeneration(instance.storage).catch(() => "");
  // The user's code (with TypeScript's loader and what it imports, e.g. DuckDB) is loaded when a
  // run is first queued, not at start: an idle worker stays small (bench:rss). Its supervisor
  // (`baton worker`, `baton dev`) loaded and checked it already.
  const definitions = async () => {
    const loaded = await loadDefinitions(definitionsPath);
    // What the webserver shows comes from the code that runs (it never loads user code).
    await publishSnapshot(instance.storage, loaded).catch(() => undefined);
    return loaded;
  };
  const stop = new AbortController();
  const onSigint = () => {};
  const onStop = (why: string) => () => {
    if (stop.signal.aborted) return;
    options.log(`worker ${process.pid}: ${why}, finishing its run`);
    stop.abort();
  };
  const onSigterm = onStop("received SIGTERM");
  const onDisconnect = onStop("its supervisor is gone");
  // The supervisor retires a child it no longer needs (idle beyond the warm ones): no log line.
  const onMessage = (m: SupervisorMessage) => {
    if (m?.type === "retire") stop.abort();
  };
  process.on("message", onMessage);
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
  process.on("disconnect", onDisconnect);
  const send = (m: WorkerMessage) => {
    if (process.connected) process.send?.(m);
  };
  const workerId = `worker-${process.pid}-${randomUUID().slice(0, 8)}`;
  // `baton reload` (or a file change in `baton dev`) bumps the code generation: finish the runs in
  // flight and exit. Checked before every claim (no run starts on old code after a reload is
  // requested) and every second while busy.
  const reloads = followReloads({
    storage: instance.storage,
    generation,
    onReload: onStop("the code was reloaded"),
  });
  try {
    send({ type: "ready", workerId });
    await runWorker({
      instance,
      definitions,
      onLoadFailed: (error) =>
        options.log(
          `worker ${process.pid}: could not load ${definitionsPath}, so it takes no runs until the code is reloaded: ${(error as Error)?.message ?? String(error)}`,
        ),
      workerId,
      signal: stop.signal,
      ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
      ...(options.maxConcurrentRuns !== undefined ? { maxConcurrentRuns: options.maxConcurrentRuns } : {}),
      ...(options.tagLimits !== undefined ? { tagLimits: options.tagLimits } : {}),
      mayClaim: reloads.current,
      ...(options.idleExitMs !== undefined ? { idleExitMs: options.idleExitMs } : {}),
      onRunStart: (runId) => send({ type: "run-start", runId }),
      onRunEnd: (runId) => send({ type: "run-end", runId }),
    });
    // Returned without being asked to stop: idle with the code loaded; the supervisor starts a
    // fresh worker (small until its next run).
    if (!stop.signal.aborted) send({ type: "idle-exit" });
  } finally {
    reloads.stop();
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
    process.off("disconnect", onDisconnect);
    process.off("message", onMessage);
  }
}
