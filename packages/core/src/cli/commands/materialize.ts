import type { Command } from "commander";
import type { Definitions } from "../../definitions/definitions.js";
import { UsageError } from "../../errors.js";
import type { RunEvent } from "../../execution/events.js";
import type { RunSummary } from "../../execution/run-summary.js";
import type { BatonInstance } from "../../instance/instance.js";
import { type CliContext, exitCodeFor, parseConfigFlag, parsePositiveInt } from "../cli-context.js";
import { runToJson, summaryLine } from "../format.js";
import { loadDefinitions, resolveDefinitionsPath } from "../load-definitions.js";
import { createProgressReporter } from "../progress.js";

/** Abort on the first SIGINT/SIGTERM (the run ends CANCELED); a second one exits at once. */
function cancelOnSignals(ctx: CliContext): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let count = 0;
  const handler = (sig: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      ctx.stderr.write(`\nreceived ${sig}: canceling the run (again to force quit)\n`);
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
  run: (
    instance: BatonInstance,
    definitions: Definitions,
    live: { signal: AbortSignal; onEvent: (event: RunEvent) => void },
  ) => Promise<RunSummary>,
): Promise<void> {
  const globals = cmd.optsWithGlobals() as { defs?: string };
  const definitions = await loadDefinitions(resolveDefinitionsPath(globals.defs, ctx.cwd, ctx.env));
  const instance = await ctx.instance();
  const progress = createProgressReporter(ctx.stderr);
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
    .action(
      async (
        opts: { select?: string; config?: string; concurrency?: number; json?: boolean },
        cmd: Command,
      ) => {
        // Checked here rather than with requiredOption, so an unknown flag is reported first.
        if (opts.select === undefined)
          throw new UsageError("materialize needs --select SELECTION (e.g. --select '*' for every asset)");
        const config = parseConfigFlag(opts.config, ctx.cwd);
        await runInCli(ctx, cmd, Boolean(opts.json), (instance, definitions, live) =>
          instance.materialize(definitions, {
            selection: opts.select!,
            config,
            concurrency: opts.concurrency,
            ...live,
          }),
        );
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
        await runInCli(ctx, cmd, Boolean(opts.json), (instance, definitions, live) =>
          instance.reexecute(definitions, runId, {
            fromFailure: Boolean(opts.fromFailure),
            concurrency: opts.concurrency,
            ...live,
          }),
        );
      },
    );
}
