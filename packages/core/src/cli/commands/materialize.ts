import type { Command } from "commander";
import type { Definitions } from "../../definitions/definitions.js";
import { BatonError, UsageError } from "../../errors.js";
import type { RunEvent } from "../../execution/events.js";
import type { RunSummary } from "../../execution/run-summary.js";
import type { PartitionFilter } from "../../instance/backfill.js";
import type { BatonInstance } from "../../instance/instance.js";
import { type CliContext, exitCodeFor, parseConfigFlag, parsePositiveInt } from "../cli-context.js";
import { runToJson, summaryLine } from "../format.js";
import { loadDefinitions, resolveDefinitionsPath } from "../load-definitions.js";
import { createBackfillProgressReporter, createProgressReporter } from "../progress.js";
import { loadTypeChecked } from "./check.js";

/** Abort on the first SIGINT/SIGTERM (the run ends CANCELED); a second one exits at once. */
function cancelOnSignals(ctx: CliContext, what = "run"): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let count = 0;
  const handler = (sig: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      ctx.stderr.write(`\nreceived ${sig}: canceling the ${what} (again to force quit)\n`);
      controller.abort(new Error(`canceled by ${sig}`));
    } else {
      process.exit(130);
    }
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}

/**
 * Load definitions, open the instance, run with live progress on stderr and Ctrl-C canceling,
 * then report: the summary line, `--json` on stdout, and the exit code.
 */
async function runInCli(
  ctx: CliContext,
  cmd: Command,
  json: boolean,
  typecheck: boolean,
  run: (
    instance: BatonInstance,
    definitions: Definitions,
    live: { signal: AbortSignal; onEvent: (event: RunEvent) => void },
  ) => Promise<RunSummary>,
): Promise<void> {
  const globals = cmd.optsWithGlobals() as { defs?: string };
  const file = resolveDefinitionsPath(globals.defs, ctx.cwd, ctx.env);
  const definitions = typecheck ? await loadTypeChecked(ctx, file) : await loadDefinitions(file);
  const instance = await ctx.instance();
  const progress = createProgressReporter(ctx.stderr, {
    verbose: Boolean((globals as { verbose?: boolean }).verbose),
    cwd: ctx.cwd,
  });
  const cancel = cancelOnSignals(ctx);
  try {
    const summary = await run(instance, definitions, {
      signal: cancel.signal,
      onEvent: (e) => progress.onEvent(e),
    });
    ctx.stderr.write(`${summaryLine(summary)}\n`);
    if (json) ctx.printJson(runToJson(summary));
    ctx.exitCode = exitCodeFor(summary.status);
  } finally {
    progress.stop();
    cancel.dispose();
  }
}

interface MaterializeOptions {
  select?: string;
  config?: string;
  concurrency?: number;
  json?: boolean;
  partition: string[];
  from?: string;
  to?: string;
  partitions?: PartitionFilter;
  singleRun?: boolean;
  chunk?: number;
  runs?: number;
  queue?: boolean;
  typecheck?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function parseWhich(value: string): PartitionFilter {
  if (value === "all" || value === "missing" || value === "failed" || value === "stale") return value;
  throw new UsageError(`--partitions must be all, missing, failed or stale (got "${value}")`);
}

/** Run a stored backfill here with a progress bar; Ctrl-C cancels it. Sets the exit code. */
export async function driveBackfill(
  ctx: CliContext,
  definitions: Definitions,
  backfillId: string,
  opts: { runs?: number; concurrency?: number; force?: boolean },
  json: boolean,
) {
  const instance = await ctx.instance();
  const record = await instance.storage.getBackfill(backfillId);
  if (!record)
    throw new BatonError(
      "RUN_NOT_FOUND",
      `Backfill ${backfillId} was not found. List backfills with \`baton backfill list\`.`,
    );
  if (record.status === "CANCELED" || record.status === "CANCELING")
    throw new UsageError(
      `Backfill ${backfillId} was canceled; retry it with \`baton backfill retry ${backfillId}\`.`,
    );
  const progress = createBackfillProgressReporter(ctx.stderr);
  const cancel = cancelOnSignals(ctx, "backfill");
  ctx.stderr.write(`backfill ${backfillId} started\n`);
  try {
    const done = await instance.runBackfill(definitions, backfillId, {
      ...(opts.runs !== undefined ? { concurrency: opts.runs } : {}),
      ...(opts.concurrency !== undefined ? { stepConcurrency: opts.concurrency } : {}),
      ...(opts.force ? { force: true } : {}),
      signal: cancel.signal,
      onProgress: (p) => progress.onProgress(p),
    });
    progress.stop();
    const c = done.counts;
    ctx.stderr.write(
      `backfill ${backfillId} ${done.status}: ${c.runs} runs; asset partitions: ${c.materialized}/${c.targeted} materialized, ` +
        `${c.failed} failed, ${c.skipped} skipped, ${c.canceled} canceled\n`,
    );
    if (json)
      ctx.printJson({
        backfillId,
        status: done.status,
        counts: done.counts,
        partitionKeys: done.partitionKeys.length,
      });
    ctx.exitCode = done.status === "COMPLETED" ? 0 : 1;
  } finally {
    progress.stop();
    cancel.dispose();
  }
}

export function registerMaterializeCommands(program: Command, ctx: CliContext) {
  program
    .command("materialize")
    .description("materialize the selected assets now, in this process")
    .option(
      "-s, --select <selection>",
      "asset selection (required), e.g. 'taxi/raw_trips+' or 'group:ingest*'",
    )
    .option("--config <json>", "run config as JSON, or @file.json, keyed by asset key")
    .option(
      "--concurrency <n>",
      "steps running at once (default: CPU count)",
      parsePositiveInt("--concurrency"),
    )
    .option("--json", "print the run result as JSON on stdout")
    .option("-p, --partition <key>", "partition to materialize (repeat for several: a backfill)", collect, [])
    .option("--from <key>", "first partition of a range (inclusive; with --to: a backfill)")
    .option("--to <key>", "last partition of a range (inclusive)")
    .option(
      "--partitions <which>",
      "backfill all, missing, failed or stale partitions of the selection",
      parseWhich,
    )
    .option("--single-run", "backfill: one run for the whole range (the body gets ctx.partitionKeys)")
    .option("--chunk <n>", "backfill: partitions per run", parsePositiveInt("--chunk"))
    .option("--runs <n>", "backfill: runs at once (default 4)", parsePositiveInt("--runs"))
    .option("--queue", "backfill: hand it to the daemon (runs queued for workers) and print its id")
    .option(
      "--typecheck",
      "type-check the project first (as baton check); on type errors print them and run nothing",
    )
    .action(async (opts: MaterializeOptions, cmd: Command) => {
      // Checked here rather than with requiredOption, so an unknown flag is reported first.
      if (opts.select === undefined)
        throw new UsageError("materialize needs --select SELECTION (e.g. --select '*' for every asset)");
      if ((opts.from === undefined) !== (opts.to === undefined))
        throw new UsageError("--from and --to go together (both ends are included)");
      const ways = [opts.partition.length > 0, opts.from !== undefined, opts.partitions !== undefined].filter(
        Boolean,
      );
      if (ways.length > 1) throw new UsageError("use one of --partition, --from/--to and --partitions");
      const config = parseConfigFlag(opts.config, ctx.cwd);
      const backfill = opts.partition.length > 1 || opts.from !== undefined || opts.partitions !== undefined;
      if (!backfill) {
        if (opts.queue)
          throw new UsageError("--queue applies to backfills; queue a single run with `baton launch`");
        if (opts.singleRun || opts.chunk !== undefined || opts.runs !== undefined)
          throw new UsageError(
            "--single-run, --chunk and --runs apply to backfills (--from/--to, --partitions, several --partition)",
          );
        await runInCli(ctx, cmd, Boolean(opts.json), Boolean(opts.typecheck), (instance, definitions, live) =>
          instance.materialize(definitions, {
            selection: opts.select!,
            config,
            concurrency: opts.concurrency,
            ...(opts.partition.length === 1 ? { partitions: { keys: opts.partition } } : {}),
            ...live,
          }),
        );
        return;
      }
      if (opts.singleRun && opts.chunk !== undefined)
        throw new UsageError("--single-run and --chunk do not go together (one run covers every partition)");
      const file = resolveDefinitionsPath(
        (cmd.optsWithGlobals() as { defs?: string }).defs,
        ctx.cwd,
        ctx.env,
      );
      const definitions = opts.typecheck ? await loadTypeChecked(ctx, file) : await loadDefinitions(file);
      const instance = await ctx.instance();
      const record = await instance.createBackfill(definitions, {
        selection: opts.select,
        partitions:
          opts.from !== undefined
            ? { range: { from: opts.from, to: opts.to! } }
            : opts.partitions !== undefined
              ? { which: opts.partitions }
              : { keys: opts.partition },
        ...(opts.singleRun ? { singleRun: true } : {}),
        ...(opts.chunk !== undefined ? { chunkSize: opts.chunk } : {}),
        ...(config !== undefined ? { config: config as Record<string, unknown> } : {}),
        ...(opts.queue ? { daemon: true } : {}),
      });
      if (opts.queue) {
        if (opts.json) ctx.printJson(record);
        else ctx.print(record.backfillId);
        ctx.stderr.write(
          `backfill ${record.backfillId} queued: ${record.partitionKeys.length} partition(s); the daemon drives it (baton daemon, baton worker)\n`,
        );
        return;
      }
      await driveBackfill(ctx, definitions, record.backfillId, opts, Boolean(opts.json));
    });

  program
    .command("launch")
    .description("queue a run for the run workers (baton worker) and print its id")
    .option("-s, --select <selection>", "asset selection (required)")
    .option("-p, --partition <key>", "partition (repeat for a run over several)", collect, [])
    .option("--config <json>", "run config as JSON, or @file.json, keyed by asset key")
    .option("--priority <n>", "higher runs first (default 0)", (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n)) throw new UsageError(`--priority must be a whole number (got "${v}")`);
      return n;
    })
    .option("--tag <key=value>", "run tag (repeatable), e.g. for --tag-limit on workers", collect, [])
    .option(
      "--max-retries <n>",
      "the daemon re-executes it from failure up to N times",
      parsePositiveInt("--max-retries"),
    )
    .option("--json", "print the queued run as JSON on stdout")
    .action(
      async (
        opts: {
          select?: string;
          partition: string[];
          config?: string;
          priority?: number;
          tag: string[];
          maxRetries?: number;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        if (opts.select === undefined) throw new UsageError("launch needs --select SELECTION");
        const tags: Record<string, string> = {};
        for (const t of opts.tag) {
          const i = t.indexOf("=");
          if (i <= 0) throw new UsageError(`--tag must look like key=value (got "${t}")`);
          tags[t.slice(0, i)] = t.slice(i + 1);
        }
        if (opts.maxRetries !== undefined) tags["baton/max-retries"] = String(opts.maxRetries);
        const config = parseConfigFlag(opts.config, ctx.cwd);
        const definitions = await loadDefinitions(
          resolveDefinitionsPath((cmd.optsWithGlobals() as { defs?: string }).defs, ctx.cwd, ctx.env),
        );
        const instance = await ctx.instance();
        const run = await instance.launchRun(definitions, {
          selection: opts.select,
          config,
          tags,
          ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
          ...(opts.partition.length > 0 ? { partitions: { keys: opts.partition } } : {}),
        });
        if (opts.json) ctx.printJson(run);
        else ctx.print(run.runId);
      },
    );

  program
    .command("reexecute")
    .description("run a previous run again (or only what did not succeed, with --from-failure)")
    .argument("<runId>", "the run to re-execute")
    .option("--from-failure", "only steps that failed, were skipped or canceled")
    .option(
      "--concurrency <n>",
      "steps running at once (default: CPU count)",
      parsePositiveInt("--concurrency"),
    )
    .option("--json", "print the run result as JSON on stdout")
    .action(
      async (runId: string, opts: { fromFailure?: boolean; concurrency?: number; json?: boolean }, cmd) => {
        await runInCli(ctx, cmd, Boolean(opts.json), false, (instance, definitions, live) =>
          instance.reexecute(definitions, runId, {
            fromFailure: Boolean(opts.fromFailure),
            concurrency: opts.concurrency,
            ...live,
          }),
        );
      },
    );
}
