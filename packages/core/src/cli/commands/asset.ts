import type { Command } from "commander";
import type { CliContext } from "../cli-context.js";
import { describeTime, plainMetadata, table } from "../format.js";
import { loadDefinitions, resolveDefinitionsPath } from "../load-definitions.js";
import { registerStatusCommands } from "./why.js";

export function registerAssetCommands(program: Command, ctx: CliContext) {
  const asset = program.command("asset").description("inspect assets");
  registerStatusCommands(program, ctx, asset);
  asset
    .command("list")
    .description("list assets with group, deps and latest materialization")
    .option("--json", "print JSON on stdout")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const globals = cmd.optsWithGlobals() as { defs?: string };
      const definitions = await loadDefinitions(resolveDefinitionsPath(globals.defs, ctx.cwd, ctx.env));
      const instance = await ctx.instance();
      const statuses = new Map(
        (await instance.storage.getAssetStatuses()).map((s) => [s.assetKey, s] as const),
      );
      const rows = definitions.graph.topologicalOrder().map((key) => {
        const node = definitions.graph.asset(key)!;
        const status = statuses.get(key);
        return {
          key,
          group: node.group,
          kinds: node.kinds,
          deps: definitions.graph.parents(key),
          checks: definitions.checksFor(key).map((c) => c.name),
          lastMaterialization: status?.lastMaterialization
            ? {
                runId: status.lastMaterialization.runId,
                timestamp: status.lastMaterialization.timestamp,
                metadata: plainMetadata(status.lastMaterialization.metadata),
              }
            : null,
          lastFailure: status?.lastFailure ?? null,
        };
      });
      if (opts.json) {
        ctx.printJson({ assets: rows });
        return;
      }
      ctx.print(
        table(
          ["ASSET", "GROUP", "DEPS", "LAST MATERIALIZED", "RUN"],
          rows.map((r) => [
            r.key,
            r.group,
            r.deps.join(",") || "-",
            describeTime(r.lastMaterialization?.timestamp),
            r.lastMaterialization?.runId.slice(0, 8) ?? "-",
          ]),
        ),
      );
    });
}
