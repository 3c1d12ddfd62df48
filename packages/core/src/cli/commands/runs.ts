import type { Command } from "commander";
import { type SerializedError, UsageError } from "../../errors.js";
import type { RunStatus } from "../../execution/events.js";
import { formatFrames, relevantFrames } from "../../util/stack.js";
import { type CliContext, parsePositiveInt } from "../cli-context.js";
import { describeDuration, describeTime, runToJson, table } from "../format.js";

const STATUSES: readonly RunStatus[] = ["QUEUED", "STARTED", "SUCCESS", "FAILURE", "CANCELING", "CANCELED"];

function parseStatus(value: string, previous: RunStatus[] = []): RunStatus[] {
  const upper = value.toUpperCase() as RunStatus;
  if (!STATUSES.includes(upper))
    throw new UsageError(`--status must be one of ${STATUSES.join(", ")} (got "${value}")`);
  return [...previous, upper];
}

export function registerRunsCommands(program: Command, ctx: CliContext) {
  const runs = program.command("runs").description("inspect runs");
  runs
    .command("list")
    .description("list runs, newest first")
    .option("--status <status>", "only runs with this status (repeatable)", parseStatus)
    .option("--limit <n>", "page size (default 20)", parsePositiveInt("--limit"))
    .option("--cursor <cursor>", "next page, from a previous --json output")
    .option("--json", "print JSON on stdout")
    .action(async (opts: { status?: RunStatus[]; limit?: number; cursor?: string; json?: boolean }) => {
      const instance = await ctx.instance();
      const page = await instance.storage.listRuns({
        statuses: opts.status,
        limit: opts.limit ?? 20,
        ...(opts.cursor !== undefined ? { cursor: opts.cursor } : {}),
      });
      if (opts.json) {
        ctx.printJson(page);
        return;
      }
      ctx.print(
        table(
          ["RUN", "STATUS", "SELECTION", "CREATED", "DURATION"],
          page.runs.map((r) => [
            r.runId,
            r.status,
            r.selection,
            describeTime(r.createdAt),
            describeDuration(r.endedAt !== null && r.startedAt !== null ? r.endedAt - r.startedAt : null),
          ]),
        ),
      );
      if (page.nextCursor) ctx.print(`more: baton runs list --cursor ${page.nextCursor}`);
    });

  runs
    .command("cancel")
    .description("cancel a run: a queued one at once, a running one through its worker")
    .argument("<runId>")
    .action(async (runId: string) => {
      const instance = await ctx.instance();
      const run = await instance.cancelRun(runId);
      ctx.print(`run ${runId} ${run.status}`);
    });

  runs
    .command("show")
    .description("show a run's steps, outcomes and reasons")
    .argument("<runId>")
    .option("--json", "print JSON on stdout")
    .action(async (runId: string, opts: { json?: boolean }) => {
      const instance = await ctx.instance();
      const summary = await instance.runSummary(runId);
      const run = (await instance.storage.getRun(runId))!;
      if (opts.json) {
        ctx.printJson({ ...runToJson(summary), selection: run.selection, parentRunId: run.parentRunId });
        return;
      }
      ctx.print(`run ${run.runId}  ${run.status}  selection: ${run.selection}`);
      if (run.parentRunId) ctx.print(`re-execution of ${run.parentRunId}`);
      if (summary.reason) ctx.print(`reason: ${summary.reason}`);
      ctx.print(
        table(
          ["STEP", "STATUS", "DURATION", "DETAIL"],
          summary.steps.map((s) => [s.stepKey, s.status, describeDuration(s.durationMs), s.reason ?? ""]),
        ),
      );
    });

  runs
    .command("logs")
    .description("print a run's event log (steps, logs, captured output)")
    .argument("<runId>")
    .option("--json", "print the events as JSON lines on stdout")
    .action(async (runId: string, opts: { json?: boolean }, cmd: Command) => {
      const verbose = Boolean((cmd.optsWithGlobals() as { verbose?: boolean }).verbose);
      // An error's message, then the user's frames with Baton's and Node's collapsed (listed with --verbose).
      const withFrames = (message: string, error: SerializedError | undefined) =>
        [message, ...(error ? formatFrames(relevantFrames(error), { verbose, cwd: ctx.cwd }) : [])].join(
          "\n",
        );
      const instance = await ctx.instance();
      await instance.runSummary(runId); // 404 as a clear error
      const events = await instance.storage.getEvents(runId);
      for (const e of events) {
        if (opts.json) {
          ctx.stdout.write(`${JSON.stringify(e)}\n`);
          continue;
        }
        const time = new Date(e.timestamp).toISOString().slice(11, 23);
        const where = "stepKey" in e && e.stepKey ? e.stepKey : "run";
        let text: string = e.type;
        if (e.type === "log") text = `${e.level.toUpperCase()} [${e.source}] ${e.message}`;
        else if (e.type === "step_failed") text = withFrames(`step_failed: ${e.error.message}`, e.error);
        else if (e.type === "step_skipped" || e.type === "step_canceled") text = `${e.type}: ${e.reason}`;
        else if (e.type === "run_failed") text = withFrames(`${e.type}: ${e.reason}`, e.error);
        else if (e.type === "run_canceled") text = `${e.type}: ${e.reason}`;
        else if (e.type === "check_evaluation")
          text = `check ${e.checkName}: ${e.passed ? "passed" : "failed"}`;
        ctx.print(`${time} ${where} ${text}`);
      }
    });
}
