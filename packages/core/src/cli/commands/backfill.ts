import type { Command } from "commander";
import { BatonError, UsageError } from "../../errors.js";
import { describeBackfillFailure, listBackfillFailures } from "../../instance/backfill-failures.js";
import { allRuns } from "../../storage/all-runs.js";
import type { CliContext } from "../cli-context.js";
import { parsePositiveInt } from "../cli-context.js";
import { describeTime, table } from "../format.js";
import { loadDefinitions, resolveDefinitionsPath } from "../load-definitions.js";
import { driveBackfill } from "./materialize.js";

const defsOf = (ctx: CliContext, cmd: Command) =>
  loadDefinitions(
    resolveDefinitionsPath((cmd.optsWithGlobals() as { defs?: string }).defs, ctx.cwd, ctx.env),
  );

export function registerBackfillCommands(program: Command, ctx: CliContext) {
  const backfill = program.command("backfill").description("list, inspect, cancel and retry backfills");
  backfill
    .command("list")
    .description("backfills, newest first")
    .option("--limit <n>", "page size (default 20)", parsePositiveInt("--limit"))
    .option("--cursor <cursor>", "next page")
    .option("--json", "print JSON on stdout")
    .action(async (opts: { limit?: number; cursor?: string; json?: boolean }) => {
      const instance = await ctx.instance();
      const page = await instance.storage.listBackfills({
        limit: opts.limit ?? 20,
        ...(opts.cursor ? { cursor: opts.cursor } : {}),
      });
      if (opts.json) {
        ctx.printJson(page);
        return;
      }
      ctx.print(
        table(
          ["BACKFILL", "STATUS", "SELECTION", "PARTITIONS", "DONE", "FAILED", "CREATED"],
          page.backfills.map((b) => [
            b.backfillId,
            b.status,
            b.selection,
            String(b.partitionKeys.length),
            `${b.counts.materialized}/${b.counts.targeted}`,
            String(b.counts.failed),
            describeTime(b.createdAt),
          ]),
        ),
      );
      if (page.nextCursor) ctx.print(`more: baton backfill list --cursor ${page.nextCursor}`);
    });

  backfill
    .command("show")
    .description("a backfill's partitions, counts and runs")
    .argument("<backfillId>")
    .option("--json", "print JSON on stdout")
    .action(async (backfillId: string, opts: { json?: boolean }) => {
      const instance = await ctx.instance();
      const record = await instance.storage.getBackfill(backfillId);
      if (!record) throw new BatonError("RUN_NOT_FOUND", `Backfill ${backfillId} was not found.`);
      const runs: { runId: string; status: string; partitions: readonly string[] }[] = [];
      for await (const r of allRuns(instance.storage, { backfillId }))
        runs.push({ runId: r.runId, status: r.status, partitions: r.partitionKeys ?? [] });
      const byStatus: Record<string, number> = {};
      for (const r of runs) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
      // Why each failed run failed (its first error): the first 20 (--json: 1,000).
      const { failures, failedRuns } = await listBackfillFailures(instance.storage, backfillId, {
        limit: opts.json ? 1000 : 20,
      });
      if (opts.json) {
        ctx.printJson({
          ...record,
          runsByStatus: byStatus,
          runs,
          failures,
          moreFailures: failedRuns > failures.length,
        });
        return;
      }
      const c = record.counts;
      const keys = record.partitionKeys;
      ctx.print(`backfill ${record.backfillId}  ${record.status}  selection: ${record.selection}`);
      ctx.print(`partitions: ${keys.length} (${keys[0]} … ${keys[keys.length - 1]})`);
      ctx.print(
        `asset partitions: ${c.materialized}/${c.targeted} materialized, ${c.failed} failed, ${c.skipped} skipped, ${c.canceled} canceled`,
      );
      if (record.error) ctx.print(record.error);
      ctx.print(
        `runs: ${runs.length} (${
          Object.entries(byStatus)
            .map(([s, n]) => `${n} ${s}`)
            .join(", ") || "none yet"
        })`,
      );
      if (failures.length > 0) {
        ctx.print(
          `failures (${failedRuns} failed run${failedRuns === 1 ? "" : "s"}; partition: first error):`,
        );
        for (const f of failures) ctx.print(`  ${describeBackfillFailure(f)}`);
        if (failedRuns > failures.length)
          ctx.print(
            `  … and ${failedRuns - failures.length} more (baton backfill show ${backfillId} --json)`,
          );
      }
    });

  backfill
    .command("cancel")
    .description("stop a backfill (runs in flight are canceled)")
    .argument("<backfillId>")
    .action(async (backfillId: string) => {
      const instance = await ctx.instance();
      const record = await instance.cancelBackfill(backfillId);
      ctx.print(`backfill ${backfillId} ${record.status}`);
    });

  backfill
    .command("retry")
    .description("run again what did not succeed (a new backfill linked to this one)")
    .argument("<backfillId>")
    .option("--force", "run every partition again, also those that succeeded")
    .option("--runs <n>", "runs at once (default 4)", parsePositiveInt("--runs"))
    .option("--json", "print the result as JSON on stdout")
    .action(
      async (backfillId: string, opts: { force?: boolean; runs?: number; json?: boolean }, cmd: Command) => {
        const definitions = await defsOf(ctx, cmd);
        const instance = await ctx.instance();
        const record = await instance.retryBackfill(definitions, backfillId, { force: Boolean(opts.force) });
        ctx.stderr.write(`retrying ${backfillId} as backfill ${record.backfillId}\n`);
        if ((record.options as { daemon?: boolean }).daemon) {
          ctx.print(record.backfillId);
          ctx.stderr.write("the daemon drives it (baton daemon); follow it with `baton backfill show`\n");
          return;
        }
        await driveBackfill(ctx, definitions, record.backfillId, opts, Boolean(opts.json));
      },
    );

  backfill
    .command("resume")
    .description("drive a stored backfill that no process is running (e.g. after a crash)")
    .argument("<backfillId>")
    .option("--runs <n>", "runs at once (default 4)", parsePositiveInt("--runs"))
    .option("--json", "print the result as JSON on stdout")
    .action(async (backfillId: string, opts: { runs?: number; json?: boolean }, cmd: Command) => {
      const definitions = await defsOf(ctx, cmd);
      const instance = await ctx.instance();
      const record = await instance.storage.getBackfill(backfillId);
      if ((record?.options as { daemon?: boolean } | undefined)?.daemon)
        throw new UsageError(
          `Backfill ${backfillId} is driven by the daemon (it resumes it after a restart); start \`baton daemon\` or \`baton dev\`.`,
        );
      await driveBackfill(ctx, definitions, backfillId, opts, Boolean(opts.json));
    });
}
