import { type ChildProcess, fork } from "node:child_process";
import type { Storage } from "../storage/storage.js";

/** Messages a worker child sends its supervisor. */
export type WorkerMessage =
  | { type: "run-start"; runId: string }
  | { type: "run-end"; runId: string }
  | { type: "ready" };

export interface WorkerPoolOptions {
  readonly storage: Storage;
  /** Child processes (each executes one run at a time). */
  readonly size: number;
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
 * A supervisor of worker child processes: keeps `size` of them alive. A child that dies while
 * executing a run (SIGKILL, out of memory) has that run failed at once with the reason, and is
 * replaced; the store's heartbeat monitor is the backstop if the supervisor itself dies.
 */
export function startWorkerPool(options: WorkerPoolOptions): WorkerPool {
  const running = new Map<ChildProcess, string | undefined>();
  let stopping = false;
  let stopped: () => void = () => {};
  const allStopped = new Promise<void>((resolve) => {
    stopped = resolve;
  });

  const spawnChild = () => {
    const child = fork(options.script, [...options.args], {
      env: options.env ?? process.env,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    running.set(child, undefined);
    child.on("message", (message: WorkerMessage) => {
      if (message.type === "run-start") running.set(child, message.runId);
      else if (message.type === "run-end") running.set(child, undefined);
    });
    child.on("exit", (code, signal) => {
      const runId = running.get(child);
      running.delete(child);
      const how = signal ? `signal ${signal}` : `code ${code}`;
      if (runId) {
        void failRun(runId, `its worker process ${child.pid} died (${how}) while running it`);
      }
      if (stopping) {
        if (running.size === 0) stopped();
        return;
      }
      options.log(`worker ${child.pid} exited (${how}); starting a replacement`);
      spawnChild();
    });
    return child;
  };

  const failRun = async (runId: string, reason: string) => {
    const run = await options.storage.getRun(runId).catch(() => undefined);
    if (!run || ["SUCCESS", "FAILURE", "CANCELED"].includes(run.status)) return;
    await options.storage
      .appendEvents([{ type: "run_failed", reason, runId, timestamp: Date.now() }])
      .catch(() => undefined);
    options.log(`run ${runId} failed: ${reason}`);
  };

  for (let i = 0; i < options.size; i++) spawnChild();

  return {
    children: () => [...running.keys()],
    async stop() {
      if (stopping) {
        for (const child of running.keys()) child.kill("SIGKILL");
        return allStopped;
      }
      stopping = true;
      if (running.size === 0) return;
      for (const child of running.keys()) child.kill("SIGTERM");
      await allStopped;
    },
  };
}
