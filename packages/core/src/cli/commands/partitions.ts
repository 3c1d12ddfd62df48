import type { Command } from "commander";
import { suggest } from "../../definitions/definitions.js";
import { partitionKeyProblem } from "../../definitions/partitions/static-partitions.js";
import { UsageError } from "../../errors.js";
import { dynamicPartitionsNames } from "../../instance/run-partitions-request.js";
import type { CliContext } from "../cli-context.js";
import { loadDefinitions, resolveDefinitionsPath } from "../load-definitions.js";

export function registerPartitionsCommands(program: Command, ctx: CliContext) {
  const partitions = program.command("partitions").description("manage dynamic partitions");
  // A name the definitions do not declare (a typo) would store keys nothing reads: refused, as the
  // API refuses it, with the declared names.
  const checkName = async (name: string, cmd: Command) => {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name))
      throw new UsageError(`invalid dynamic partitions name "${name}"`);
    const globals = cmd.optsWithGlobals() as { defs?: string };
    const definitions = await loadDefinitions(resolveDefinitionsPath(globals.defs, ctx.cwd, ctx.env));
    const declared = dynamicPartitionsNames(definitions);
    if (!declared.has(name))
      throw new UsageError(
        `No dynamic partitions named "${name}" in the definitions${suggest(name, declared)}; ${
          declared.size > 0
            ? `declared: ${[...declared].sort().join(", ")}`
            : "they declare none (dynamicPartitions({ name }))"
        }`,
      );
  };
  partitions
    .command("add")
    .description("add keys to dynamic partitions NAME")
    .argument("<name>")
    .argument("<keys...>")
    .action(async (name: string, keys: string[], _opts: unknown, cmd: Command) => {
      await checkName(name, cmd);
      for (const k of keys) {
        const problem = partitionKeyProblem(k);
        if (problem) throw new UsageError(problem);
      }
      const added = await (await ctx.instance()).storage.addDynamicPartitions(name, keys);
      ctx.print(
        `added ${added.length} key(s) to ${name}${added.length < keys.length ? ` (${keys.length - added.length} already there)` : ""}`,
      );
    });
  partitions
    .command("remove")
    .description("remove keys from dynamic partitions NAME (their history stays)")
    .argument("<name>")
    .argument("<keys...>")
    .action(async (name: string, keys: string[], _opts: unknown, cmd: Command) => {
      await checkName(name, cmd);
      const removed = await (await ctx.instance()).storage.removeDynamicPartitions(name, keys);
      const unknown = keys.filter((k) => !removed.includes(k));
      ctx.print(
        `removed ${removed.length} key(s) from ${name}${unknown.length ? `; not present: ${unknown.join(", ")}` : ""}`,
      );
    });
  partitions
    .command("list")
    .description("keys of dynamic partitions NAME, in insertion order")
    .argument("<name>")
    .option("--json", "print JSON on stdout")
    .action(async (name: string, opts: { json?: boolean }, cmd: Command) => {
      await checkName(name, cmd);
      const keys = await (await ctx.instance()).storage.getDynamicPartitions(name);
      if (opts.json) ctx.printJson({ name, keys });
      else for (const k of keys) ctx.print(k);
    });
}
