import { randomUUID } from "node:crypto";
import type { Command } from "commander";
import { CODE_GENERATION_KEY, requestReload } from "../../daemon/reload.js";
import { UsageError } from "../../errors.js";
import { publishSnapshot } from "../../snapshot/snapshot.js";
import type { TagLimit } from "../../storage/storage.js";
import { runWorker } from "../../worker/run-worker.js";
import { type SupervisorMessage, startWorkerPool, type WorkerMessage } from "../../worker/worker-pool.js";
import { type CliContext, parsePositiveInt } from "../cli-context.js";
import { loadDefinitions, resolveDefinitionsPath } from "../load-definitions.js";

const collect = (value: string, previous: string[]) => [...previous, value];

/** `database=duckdb:1` (runs tagged database=duckdb) or `database:2` (runs with a database tag). */
export function parseTagLimit(text: string): TagLimit {
  const m = /^([^=:]+)(?:=([^:]*))?:(\d+)$/.exec(text);
  if (!m) throw new UsageError(`--tag-limit must look like KEY=VALUE:N or KEY:N (got "${text}")`);
  return { key: m[1]!, ...(m[2] !== undefined ? { value: m[2] } : {}), limit: Number(m[3]) };
}

/** Resolves when the process is asked to stop (SIGINT/SIGTERM); a second signal exits at once. */
export function stopSignal(ctx: CliContext, what: string): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  let count = 0;
  const handler = (sig: NodeJS.Signals) => {
    if (++count === 1) {
      ctx.stderr.write(`${what}: received ${sig}, stopping (again to force)\n`);
      controller.abort();
    } else process.exit(130);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}

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

interface WorkerOptions {
  concurrency?: number;
  maxConcurrentRuns?: number;
  tagLimit: string[];
  heartbeatMs?: number;
  child?: boolean;
}

export function registerWorkerCommands(program: Command, ctx: CliContext) {
  program
    .command("worker")
    .description("run worker pool: executes queued runs (from launch, schedules, sensors, the UI)")
    .option(
      "--concurrency <n>",
      "worker processes, each running one run at a time (default 2)",
      parsePositiveInt("--concurrency"),
    )
    .option(
      "--max-concurrent-runs <n>",
      "runs in progress across all workers",
      parsePositiveInt("--max-concurrent-runs"),
    )
    .option("--tag-limit <KEY=VALUE:N>", "at most N runs at once with this tag (repeatable)", collect, [])
    .option("--heartbeat-ms <ms>", "liveness interval (default 1000)", parsePositiveInt("--heartbeat-ms"))
    .option("--child", "(internal) run as one worker process of a pool")
    .action(async (opts: WorkerOptions, cmd: Command) => {
      const tagLimits = opts.tagLimit.map(parseTagLimit);
      const globals = cmd.optsWithGlobals() as { defs?: string };
      const defsPath = resolveDefinitionsPath(globals.defs, ctx.cwd, ctx.env);
      if (opts.child) {
        const instance = await ctx.instance();
        // The code generation this process runs: read before loading, so a reload requested
        // while it loads is not missed.
        const generation = await instance.storage.getValue(CODE_GENERATION_KEY).catch(() => undefined);
        // The user's code (with TypeScript's loader and what it imports, e.g. DuckDB) is loaded
        // when a run is first queued, not at start: an idle worker stays small (bench:rss). Its
        // supervisor (`baton worker`, `baton dev`) loaded and checked it already.
        const definitions = async () => {
          const loaded = await loadDefinitions(defsPath);
          // What the webserver shows comes from the code that runs (it never loads user code).
          await publishSnapshot(instance.storage, loaded).catch(() => undefined);
          return loaded;
        };
        // The supervisor coordinates stopping: Ctrl-C reaches the whole process group, so a child
        // ignores SIGINT and finishes its run on the supervisor's SIGTERM (once); it also stops
        // when the supervisor is gone (the IPC channel closes).
        const stop = new AbortController();
        const onSigint = () => {};
        const onStop = (why: string) => () => {
          if (stop.signal.aborted) return;
          ctx.stderr.write(`worker ${process.pid}: ${why}, finishing its run\n`);
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
        // `baton reload` (or a file change in `baton dev`) bumps the code generation: finish the
        // runs in flight and exit; the supervisor starts a replacement that loads the new code.
        // Checked before every claim (no run starts on old code after a reload is requested) and
        // every second while busy.
        const current = async () => {
          const g = await instance.storage.getValue(CODE_GENERATION_KEY);
          if (g === generation) return true;
          onStop("the code was reloaded")();
          return false;
        };
        const reloadPoll = setInterval(() => void current().catch(() => undefined), 1000);
        try {
          send({ type: "ready", workerId });
          await runWorker({
            instance,
            definitions,
            onLoadFailed: (error) =>
              ctx.stderr.write(
                `worker ${process.pid}: could not load ${defsPath}, so it takes no runs until the code is reloaded: ${(error as Error)?.message ?? String(error)}\n`,
              ),
            workerId,
            signal: stop.signal,
            ...(opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {}),
            ...(opts.maxConcurrentRuns !== undefined ? { maxConcurrentRuns: opts.maxConcurrentRuns } : {}),
            tagLimits,
            mayClaim: current,
            idleExitMs: idleExitMsOf(ctx.env),
            onRunStart: (runId) => send({ type: "run-start", runId }),
            onRunEnd: (runId) => send({ type: "run-end", runId }),
          });
          // Returned without being asked to stop: idle with the code loaded; the supervisor
          // starts a fresh worker (small until its next run).
          if (!stop.signal.aborted) send({ type: "idle-exit" });
        } finally {
          clearInterval(reloadPoll);
          process.off("SIGINT", onSigint);
          process.off("SIGTERM", onSigterm);
          process.off("disconnect", onDisconnect);
          process.off("message", onMessage);
        }
        return;
      }
      // Supervisor: validate the definitions once here so a broken file fails fast and clearly,
      // and publish what the webserver shows (the children load the code only when runs come).
      const definitions = await loadDefinitions(defsPath);
      const instance = await ctx.instance();
      await publishSnapshot(instance.storage, definitions).catch(() => undefined);
      const size = opts.concurrency ?? 2;
      const args = [
        "worker",
        "--child",
        "--defs",
        defsPath,
        ...(opts.heartbeatMs !== undefined ? ["--heartbeat-ms", String(opts.heartbeatMs)] : []),
        ...(opts.maxConcurrentRuns !== undefined
          ? ["--max-concurrent-runs", String(opts.maxConcurrentRuns)]
          : []),
        ...opts.tagLimit.flatMap((t) => ["--tag-limit", t]),
      ];
      const pool = startWorkerPool({
        storage: instance.storage,
        size,
        script: process.argv[1]!,
        args,
        env: { ...process.env, ...ctx.env },
        log: (line) => ctx.stderr.write(`${line}\n`),
      });
      ctx.stderr.write(
        `worker pool started: ${size} process${size === 1 ? "" : "es"} (pids ${pool
          .children()
          .map((c) => c.pid)
          .join(", ")})\n`,
      );
      // SIGHUP: reload (the children finish their runs and restart with the new code).
      const onHup = () => {
        ctx.stderr.write("worker pool: received SIGHUP, reloading the definitions\n");
        void requestReload(instance.storage, Date.now());
      };
      process.on("SIGHUP", onHup);
      // First signal: children finish their runs. Second: children are killed (their runs fail).
      await new Promise<void>((resolve) => {
        let count = 0;
        const handler = (sig: NodeJS.Signals) => {
          count++;
          ctx.stderr.write(
            count === 1
              ? `worker pool: received ${sig}, letting runs finish (again to kill them)\n`
              : `worker pool: received ${sig} again, killing the workers\n`,
          );
          if (count > 1) ctx.exitCode = 130;
          void pool.stop().then(() => {
            process.off("SIGHUP", onHup);
            process.off("SIGINT", handler);
            process.off("SIGTERM", handler);
            resolve();
          });
        };
        process.on("SIGINT", handler);
        process.on("SIGTERM", handler);
      });
    });
}
