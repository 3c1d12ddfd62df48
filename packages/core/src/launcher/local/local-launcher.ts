import { fileURLToPath } from "node:url";
import type { TagLimit } from "../../storage/storage.js";
import type { LauncherContext, RunLauncher } from "../launcher.js";
import { startWorkerPool } from "./worker-pool.js";

export interface LocalLauncherOptions {
  /** Worker processes at most, each executing one run at a time (default 2). */
  readonly size?: number;
  /**
   * Worker processes kept while nothing runs (default `size`: all); the others start while every
   * live one is busy and stop again after `idleMs` without a run (`baton dev` keeps 1).
   */
  readonly warm?: number;
  /** How long a worker beyond `warm` may idle before it is stopped (default 60 s; null: never). */
  readonly idleMs?: number | null;
  /** Each worker's liveness interval (default 1,000 ms). */
  readonly heartbeatMs?: number;
  /** Runs in progress across all workers of the store. */
  readonly maxConcurrentRuns?: number;
  readonly tagLimits?: readonly TagLimit[];
  /**
   * The script a worker process runs, and the arguments before the worker's own (default: this
   * package's `baton` executable, `worker --child`). Workers open the store from `ctx.env`
   * (`BATON_HOME`, `BATON_DATABASE_URL`), as the CLI does.
   */
  readonly command?: { readonly script: string; readonly args: readonly string[] };
  /** Called once the first worker processes are forked, with their pids. */
  onStarted?(pids: readonly number[]): void;
}

/** `baton` of this package: ../../../bin/baton.js from dist/launcher/local (and from src/launcher/local). */
export const BATON_BIN = fileURLToPath(new URL("../../../bin/baton.js", import.meta.url));

/** `database=duckdb:1` / `database:2`, as `--tag-limit` reads it. */
export function formatTagLimit(limit: TagLimit): string {
  return `${limit.key}${limit.value !== undefined ? `=${limit.value}` : ""}:${limit.limit}`;
}

/**
 * The default run launcher: queued runs are pulled by a pool of local worker processes
 * (`baton worker --child`), which claim them from the store (so several machines' pools share one
 * queue). The pool keeps `warm` workers and grows to `size` while they are all busy; a worker that
 * dies mid-run has its run failed and is replaced; a reload (`baton reload`) makes each worker
 * finish its runs and be replaced by one with the new code.
 */
export function createLocalLauncher(ctx: LauncherContext, options: LocalLauncherOptions = {}): RunLauncher {
  const size = options.size ?? 2;
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`local launcher: size must be a whole number >= 1 (got ${size})`);
  const command = options.command ?? { script: BATON_BIN, args: ["worker", "--child"] };
  const args = [
    ...command.args,
    "--defs",
    ctx.definitionsPath,
    ...(options.heartbeatMs !== undefined ? ["--heartbeat-ms", String(options.heartbeatMs)] : []),
    ...(options.maxConcurrentRuns !== undefined
      ? ["--max-concurrent-runs", String(options.maxConcurrentRuns)]
      : []),
    ...(options.tagLimits ?? []).flatMap((t) => ["--tag-limit", formatTagLimit(t)]),
  ];
  return {
    describe: () =>
      size === 1
        ? "1 local worker process"
        : options.warm !== undefined && options.warm < size
          ? `up to ${size} local worker processes`
          : `${size} local worker processes`,
    /** Aborting `force` as well (a second Ctrl-C) kills the workers: their runs fail. */
    async run(signal: AbortSignal, force?: AbortSignal): Promise<void> {
      // Started at once (before the first await): a caller that starts other services next
      // (the daemon, in `baton dev`) has its workers forked first.
      const pool = startWorkerPool({
        storage: ctx.instance.storage,
        size,
        ...(options.warm !== undefined ? { warm: options.warm } : {}),
        ...(options.idleMs !== undefined ? { idleMs: options.idleMs } : {}),
        script: command.script,
        args,
        env: { ...process.env, ...ctx.env },
        log: (line) => ctx.log(line),
      });
      options.onStarted?.(pool.children().flatMap((c) => (c.pid !== undefined ? [c.pid] : [])));
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener("abort", () => resolve(), { once: true });
      });
      // Children finish their runs; a forced stop (or one requested already) kills them.
      const kill = () => void pool.stop();
      if (force?.aborted) kill();
      else force?.addEventListener("abort", kill, { once: true });
      try {
        await pool.stop();
      } finally {
        force?.removeEventListener("abort", kill);
      }
    },
  };
}
