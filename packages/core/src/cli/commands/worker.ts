import type { Command } from "commander";
import { RunNotFoundError, UsageError } from "../../errors.js";
import { createConfiguredLauncher, readLauncherConfig } from "../../launcher/config.js";
import { idleExitMsOf, runWorkerChild } from "../../launcher/local/worker-child.js";
import { stopSignal } from "../../launcher/signals.js";
import { hostLauncher } from "../../launcher/worker-host.js";
import { publishSnapshot } from "../../snapshot/snapshot.js";
import type { TagLimit } from "../../storage/storage.js";
import { executeRun } from "../../worker/execute-run.js";
import { type CliContext, exitCodeFor, parsePositiveInt } from "../cli-context.js";
import { loadDefinitions, resolveDefinitionsPath } from "../load-definitions.js";

const collect = (value: string, previous: string[]) => [...previous, value];

/** `database=duckdb:1` (runs tagged database=duckdb) or `database:2` (runs with a database tag). */
export function parseTagLimit(text: string): TagLimit {
  const m = /^([^=:]+)(?:=([^:]*))?:(\d+)$/.exec(text);
  if (!m) throw new UsageError(`--tag-limit must look like KEY=VALUE:N or KEY:N (got "${text}")`);
  return { key: m[1]!, ...(m[2] !== undefined ? { value: m[2] } : {}), limit: Number(m[3]) };
}

interface WorkerOptions {
  concurrency?: number;
  maxConcurrentRuns?: number;
  tagLimit: string[];
  heartbeatMs?: number;
  child?: boolean;
  runId?: string;
}

export function registerWorkerCommands(program: Command, ctx: CliContext) {
  const log = (line: string) => ctx.stderr.write(`${line}\n`);
  program
    .command("worker")
    .description(
      "execute queued runs (from launch, schedules, sensors, the UI) with the launcher of baton.config.json (default: local worker processes)",
    )
    .option(
      "--concurrency <n>",
      "local worker processes, each running one run at a time (default 2)",
      parsePositiveInt("--concurrency"),
    )
    .option(
      "--max-concurrent-runs <n>",
      "runs in progress across all workers",
      parsePositiveInt("--max-concurrent-runs"),
    )
    .option("--tag-limit <KEY=VALUE:N>", "at most N runs at once with this tag (repeatable)", collect, [])
    .option("--heartbeat-ms <ms>", "liveness interval (default 1000)", parsePositiveInt("--heartbeat-ms"))
    .option("--child", "(internal) run as one worker process of a local pool")
    .option(
      "--run-id <id>",
      "execute exactly this run (claimed by a launcher, e.g. a Kubernetes Job) in this process; exit 0 if it succeeded, 1 otherwise",
    )
    .action(async (opts: WorkerOptions, cmd: Command) => {
      const tagLimits = opts.tagLimit.map(parseTagLimit);
      const globals = cmd.optsWithGlobals() as { defs?: string };
      const defsPath = resolveDefinitionsPath(globals.defs, ctx.cwd, ctx.env);
      if (opts.runId !== undefined) {
        const conflicting = [
          opts.child && "--child",
          opts.concurrency !== undefined && "--concurrency",
          opts.maxConcurrentRuns !== undefined && "--max-concurrent-runs",
          opts.tagLimit.length > 0 && "--tag-limit",
        ].filter((f): f is string => typeof f === "string");
        if (conflicting.length > 0)
          throw new UsageError(
            `--run-id executes one run in this process: it does not go with ${conflicting.join(", ")}`,
          );
        if (opts.runId.trim() === "") throw new UsageError("--run-id needs a run id (got an empty one)");
        const instance = await ctx.instance();
        // Before loading the user's code: an unknown id is a usage error, not a definitions problem.
        if (!(await instance.storage.getRun(opts.runId))) throw new RunNotFoundError(opts.runId);
        const definitions = await loadDefinitions(defsPath);
        // SIGTERM (Kubernetes deleting the Job's pod) or Ctrl-C cancels the run; a second one exits.
        const stop = stopSignal(`baton worker --run-id ${opts.runId}`, log);
        try {
          const status = await executeRun({
            instance,
            definitions,
            runId: opts.runId,
            signal: stop.signal,
            ...(opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {}),
          });
          log(`run ${opts.runId} ${status}`);
          ctx.exitCode = exitCodeFor(status);
        } finally {
          stop.dispose();
        }
        return;
      }
      if (opts.child) {
        await runWorkerChild({
          instance: await ctx.instance(),
          definitionsPath: defsPath,
          ...(opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {}),
          ...(opts.maxConcurrentRuns !== undefined ? { maxConcurrentRuns: opts.maxConcurrentRuns } : {}),
          tagLimits,
          idleExitMs: idleExitMsOf(ctx.env),
          log,
        });
        return;
      }
      const config = readLauncherConfig(ctx.cwd);
      if (config.kind !== "local" && opts.concurrency !== undefined)
        throw new UsageError(
          `--concurrency sizes the local launcher, but baton.config.json configures launcher.kind "${config.kind}" (remove --concurrency)`,
        );
      // Validate the definitions once here so a broken file fails fast and clearly, and publish
      // what the webserver shows (local workers load the code only when runs come).
      const definitions = await loadDefinitions(defsPath);
      const instance = await ctx.instance();
      await publishSnapshot(instance.storage, definitions).catch(() => undefined);
      const launcher = await createConfiguredLauncher(
        { instance, definitionsPath: defsPath, env: { ...process.env, ...ctx.env }, log },
        config,
        {
          size: opts.concurrency ?? 2,
          ...(opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {}),
          ...(opts.maxConcurrentRuns !== undefined ? { maxConcurrentRuns: opts.maxConcurrentRuns } : {}),
          tagLimits,
          onStarted: (pids) =>
            log(
              `worker pool started: ${pids.length} process${pids.length === 1 ? "" : "es"} (pids ${pids.join(", ")})`,
            ),
        },
      );
      if (config.kind !== "local") log(`baton worker: launching runs as ${launcher.describe()}`);
      const what = config.kind === "local" ? "worker pool" : "baton worker";
      const { forced } = await hostLauncher({
        launcher,
        instance,
        log,
        messages: {
          reloading: () => `${what}: received SIGHUP, reloading the definitions`,
          stopping: (sig) =>
            config.kind === "local"
              ? `${what}: received ${sig}, letting runs finish (again to kill them)`
              : `${what}: received ${sig}, stopping (again to force)`,
          forcing: (sig) =>
            config.kind === "local"
              ? `${what}: received ${sig} again, killing the workers`
              : `${what}: received ${sig} again, stopping now`,
        },
      });
      if (forced) ctx.exitCode = 130;
    });
}
