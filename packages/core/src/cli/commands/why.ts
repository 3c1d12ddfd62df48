import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { loadKeySpaces, validateKey } from "../../instance/run-partitions-request.js";
import { evaluateFreshness } from "../../status/freshness.js";
import { partitionStatus } from "../../status/partition-status.js";
import { createStalenessResolver, describeReasons } from "../../status/staleness.js";
import type { CliContext } from "../cli-context.js";
import { describeTime, plainMetadata } from "../format.js";
import { loadDefinitions, resolveDefinitionsPath } from "../load-definitions.js";

async function setup(ctx: CliContext, cmd: Command, assetKey: string) {
  const definitions = await loadDefinitions(
    resolveDefinitionsPath((cmd.optsWithGlobals() as { defs?: string }).defs, ctx.cwd, ctx.env),
  );
  if (!definitions.graph.has(assetKey)) {
    const { suggest } = await import("../../definitions/definitions.js");
    throw new UsageError(`unknown asset "${assetKey}"${suggest(assetKey, definitions.graph.keys)}`);
  }
  const instance = await ctx.instance();
  const now = Date.now();
  const spaces = await loadKeySpaces(definitions, instance.storage, now);
  return { definitions, instance, spaces, now };
}

export function registerStatusCommands(program: Command, ctx: CliContext, asset: Command) {
  asset
    .command("status")
    .description("an asset's status: partition counts and ranges, staleness, freshness")
    .argument("<assetKey>")
    .option("--json", "print JSON on stdout")
    .action(async (assetKey: string, opts: { json?: boolean }, cmd: Command) => {
      const { definitions, instance, spaces, now } = await setup(ctx, cmd, assetKey);
      const partitioned = definitions.computationOf(assetKey).partitions !== undefined;
      const freshness = await evaluateFreshness(definitions, instance.storage, spaces, assetKey, now);
      const checks = await instance.storage.getLatestCheckResults(assetKey);
      if (partitioned) {
        const status = await partitionStatus(definitions, instance.storage, spaces, assetKey);
        if (opts.json) {
          ctx.printJson({ ...status, freshness: freshness ?? null, checks });
          return;
        }
        ctx.print(`${assetKey}: ${status.total} partitions`);
        for (const s of ["materialized", "failed", "in_progress", "missing"] as const)
          ctx.print(`  ${s.padEnd(12)} ${status.counts[s]}`);
        const shown = status.ranges.slice(0, 50);
        ctx.print("ranges:");
        for (const r of shown)
          ctx.print(
            `  ${r.status.padEnd(12)} ${r.startKey}${r.end > r.start ? ` … ${r.endKey}` : ""} (${r.end - r.start + 1})`,
          );
        if (status.ranges.length > shown.length)
          ctx.print(`  … ${status.ranges.length - shown.length} more ranges (--json for all)`);
      } else {
        const resolver = createStalenessResolver(definitions, instance.storage, spaces);
        const stale = await resolver.staleness(assetKey, null);
        const [latest] = await instance.storage.getAssetStatuses([assetKey]);
        if (opts.json) {
          ctx.printJson({
            assetKey,
            status: stale.status,
            lastMaterialization: latest?.lastMaterialization
              ? {
                  ...latest.lastMaterialization,
                  metadata: plainMetadata(latest.lastMaterialization.metadata),
                }
              : null,
            lastFailure: latest?.lastFailure ?? null,
            reasons: stale.reasons,
            freshness: freshness ?? null,
            checks,
          });
          return;
        }
        ctx.print(`${assetKey}: ${stale.status}`);
        ctx.print(`  last materialized: ${describeTime(latest?.lastMaterialization?.timestamp)}`);
        if (stale.status === "stale") ctx.print(...[describeReasons(stale.reasons).join("\n")]);
      }
      if (freshness) ctx.print(`freshness: ${freshness.status} — ${freshness.message}`);
      for (const c of checks)
        ctx.print(`check ${c.checkName}: ${c.passed ? "passed" : "failed"} (${describeTime(c.timestamp)})`);
    });

  program
    .command("why")
    .description("explain why an asset (partition) is stale, missing or overdue, with the upstream chain")
    .argument("<assetKey>")
    .option("-p, --partition <key>", "the partition to explain (required for partitioned assets)")
    .option("--json", "print JSON on stdout")
    .action(async (assetKey: string, opts: { partition?: string; json?: boolean }, cmd: Command) => {
      const { definitions, instance, spaces, now } = await setup(ctx, cmd, assetKey);
      const def = definitions.computationOf(assetKey).partitions;
      if (def && opts.partition === undefined)
        throw new UsageError(`"${assetKey}" is partitioned (${def.describeFormat()}): pass --partition KEY`);
      if (!def && opts.partition !== undefined)
        throw new UsageError(`"${assetKey}" is not partitioned: drop --partition`);
      if (def) validateKey(`"${assetKey}"`, def, spaces.of(def), opts.partition!);
      const resolver = createStalenessResolver(definitions, instance.storage, spaces);
      const stale = await resolver.staleness(assetKey, opts.partition ?? null);
      const freshness = await evaluateFreshness(definitions, instance.storage, spaces, assetKey, now);
      if (opts.json) {
        ctx.printJson({ ...stale, freshness: freshness ?? null });
        return;
      }
      const label = opts.partition === undefined ? assetKey : `${assetKey} [${opts.partition}]`;
      if (stale.status === "fresh")
        ctx.print(
          `${label} is up to date (materialized ${describeTime(stale.lastMaterialization?.timestamp)}).`,
        );
      else if (stale.status === "missing") ctx.print(`${label} is missing: it has never been materialized.`);
      else {
        ctx.print(`${label} is stale:`);
        for (const line of describeReasons(stale.reasons)) ctx.print(line);
      }
      if (freshness)
        ctx.print(
          `${freshness.status === "overdue" ? "It is overdue" : "Freshness is OK"}: ${freshness.message}.`,
        );
    });
}
