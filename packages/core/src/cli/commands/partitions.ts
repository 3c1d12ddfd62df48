import type { Command } from "commander";
import { partitionKeyProblem } from "../../definitions/partitions/static-partitions.js";
import { UsageError } from "../../errors.js";
import type { CliContext } from "../cli-context.js";

export function registerPartitionsCommands(program: Command, ctx: CliContext) {
  const partitions = program.command("partitions").description("manage dynamic partitions");
  const checkName = (name: string) => {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name))
      throw new UsageError(`invalid dynamic partitions name "${name}"`);
  };
  partitions
    .command("add")
    .description("add keys to dynamic partitions NAME")
    .argument("<name>")
    .argument("<keys...>")
    .action(async (name: string, keys: string[]) => {
      checkName(name);
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
    .action(async (name: string, keys: string[]) => {
      checkName(name);
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
    .action(async (name: string, opts: { json?: boolean }) => {
      checkName(name);
      const keys = await (await ctx.instance()).storage.getDynamicPartitions(name);
      if (opts.json) ctx.printJson({ name, keys });
      else for (const k of keys) ctx.print(k);
    });
}
