import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { stopSignal } from "../../launcher/signals.js";
import {
  parseDurationFlag,
  type RetentionPolicy,
  readRetentionConfig,
  retentionCutoffs,
} from "../../retention/retention-config.js";
import type { PurgeResult } from "../../storage/storage.js";
import { type CliContext, parsePositiveInt } from "../cli-context.js";
import { table } from "../format.js";

interface PurgeFlags {
  olderThan?: number;
  ticksOlderThan?: number;
  automationOlderThan?: number;
  execute?: boolean;
  vacuum?: boolean;
  json?: boolean;
  batchSize?: number;
}

/**
 * What to purge: the flags, where `--older-than` also covers ticks and automation decisions unless
 * their own flags say otherwise; with no flag at all, baton.config.json's `retention` block.
 */
function policyOf(
  flags: PurgeFlags,
  cwd: string,
): { policy: Omit<RetentionPolicy, "everyMs">; from: string } {
  if (
    flags.olderThan === undefined &&
    flags.ticksOlderThan === undefined &&
    flags.automationOlderThan === undefined
  ) {
    const configured = readRetentionConfig(cwd);
    if (!configured)
      throw new UsageError(
        "baton instance purge needs --older-than DURATION (e.g. 30d), --ticks-older-than or --automation-older-than, or a retention block in baton.config.json",
      );
    return { policy: configured, from: "baton.config.json retention" };
  }
  const ticks = flags.ticksOlderThan ?? flags.olderThan;
  const automation = flags.automationOlderThan ?? flags.olderThan;
  return {
    policy: {
      ...(flags.olderThan !== undefined ? { eventsMs: flags.olderThan } : {}),
      ...(ticks !== undefined ? { ticksMs: ticks } : {}),
      ...(automation !== undefined ? { automationMs: automation } : {}),
    },
    from: "flags",
  };
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export function registerInstanceCommands(program: Command, ctx: CliContext) {
  const instanceCmd = program.command("instance").description("maintain the instance's store");
  instanceCmd
    .command("purge")
    .description(
      "delete old runs' step events and logs, old ticks and automation decisions (a dry run unless --execute); run rows, run-level events, step outcomes and the latest materialization and check result of every asset partition are kept",
    )
    .option(
      "--older-than <duration>",
      "events of runs that ended longer ago than this (12h, 30d, 4w); also ticks and automation decisions unless set below",
      parseDurationFlag("--older-than"),
    )
    .option(
      "--ticks-older-than <duration>",
      "schedule and sensor ticks (the latest of each is kept)",
      parseDurationFlag("--ticks-older-than"),
    )
    .option(
      "--automation-older-than <duration>",
      "automation decisions (the latest of each asset is kept)",
      parseDurationFlag("--automation-older-than"),
    )
    .option("--execute", "delete (without it, only count what would be deleted)")
    .option(
      "--vacuum",
      "after deleting, give the space back (SQLite VACUUM rewrites the file: run it when the store is quiet)",
    )
    .option("--batch-size <n>", "rows per delete statement (default 5000)", parsePositiveInt("--batch-size"))
    .option("--json", "print JSON on stdout")
    .action(async (flags: PurgeFlags) => {
      const { policy, from } = policyOf(flags, ctx.cwd);
      const instance = await ctx.instance();
      const storage = instance.storage;
      const now = Date.now();
      const cutoffs = retentionCutoffs(policy, now);
      const dryRun = !flags.execute;
      const stop = dryRun
        ? undefined
        : stopSignal("baton instance purge", (line) => ctx.stderr.write(`${line}\n`));
      let result: PurgeResult;
      const started = performance.now();
      try {
        result = await storage.purge({
          ...cutoffs,
          dryRun,
          ...(flags.batchSize !== undefined ? { batchSize: flags.batchSize } : {}),
          ...(stop ? { signal: stop.signal } : {}),
        });
      } finally {
        stop?.dispose();
      }
      const seconds = (performance.now() - started) / 1000;
      let vacuumSeconds: number | undefined;
      if (flags.vacuum && !dryRun && !result.canceled) {
        const t = performance.now();
        await storage.vacuum();
        vacuumSeconds = (performance.now() - t) / 1000;
      }
      if (flags.json) {
        ctx.printJson({
          dryRun,
          store: storage.location,
          policyFrom: from,
          cutoffs: {
            events: iso(cutoffs.eventsBefore),
            ticks: iso(cutoffs.ticksBefore),
            automation: iso(cutoffs.automationBefore),
          },
          counts: {
            runs: result.runs,
            events: result.events,
            logs: result.logs,
            ticks: result.ticks,
            automationEvaluations: result.automationEvaluations,
          },
          seconds: Number(seconds.toFixed(3)),
          ...(vacuumSeconds !== undefined ? { vacuumSeconds: Number(vacuumSeconds.toFixed(3)) } : {}),
          canceled: result.canceled,
        });
        return;
      }
      const verb = dryRun ? "would delete" : "deleted";
      ctx.print(
        dryRun
          ? `dry run on ${storage.location}: nothing deleted (pass --execute to delete)`
          : `purged ${storage.location}${result.canceled ? " (stopped early: what was deleted stays deleted)" : ""}`,
      );
      const rows: string[][] = [];
      if (cutoffs.eventsBefore !== undefined) {
        rows.push(["events", String(result.events), `of runs ended before ${iso(cutoffs.eventsBefore)}`]);
        rows.push(["log lines", String(result.logs), `of runs ended before ${iso(cutoffs.eventsBefore)}`]);
        rows.push([
          "runs affected",
          String(result.runs),
          "(run rows, run-level events and step outcomes kept)",
        ]);
      }
      if (cutoffs.ticksBefore !== undefined)
        rows.push([
          "ticks",
          String(result.ticks),
          `before ${iso(cutoffs.ticksBefore)} (latest per schedule/sensor kept)`,
        ]);
      if (cutoffs.automationBefore !== undefined)
        rows.push([
          "automation decisions",
          String(result.automationEvaluations),
          `before ${iso(cutoffs.automationBefore)} (latest per asset kept)`,
        ]);
      ctx.print(table(["KIND", verb.toUpperCase(), "WHICH"], rows));
      ctx.print(`${dryRun ? "counted" : "done"} in ${seconds.toFixed(1)} s`);
      if (vacuumSeconds !== undefined) ctx.print(`vacuumed in ${vacuumSeconds.toFixed(1)} s`);
      else if (flags.vacuum && dryRun) ctx.print("--vacuum applies with --execute");
    });
}
