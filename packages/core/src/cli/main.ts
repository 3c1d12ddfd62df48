import { Command, CommanderError, Option } from "commander";
import { BatonError, isBatonError } from "../errors.js";
import { type BatonInstance, openInstance } from "../instance/instance.js";
import { formatFrames, relevantFrames } from "../util/stack.js";
import { type CliContext, EXIT } from "./cli-context.js";
import { registerAssetCommands } from "./commands/asset.js";
import { registerAutomationCommands } from "./commands/automation.js";
import { registerBackfillCommands } from "./commands/backfill.js";
import { registerCheckCommand } from "./commands/check.js";
import { registerDaemonCommands } from "./commands/daemon.js";
import { registerInitCommand } from "./commands/init.js";
import { registerInstanceCommands } from "./commands/instance.js";
import { registerMaterializeCommands } from "./commands/materialize.js";
import { registerPartitionsCommands } from "./commands/partitions.js";
import { registerRunsCommands } from "./commands/runs.js";
import { registerWorkerCommands } from "./commands/worker.js";

export interface MainOptions {
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WriteStream;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Run the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  let verbose = argv.includes("--verbose");
  let opened: Promise<BatonInstance> | undefined;
  const ctx: CliContext = {
    stdout,
    stderr,
    cwd: options.cwd ?? process.cwd(),
    env,
    exitCode: EXIT.ok,
    instance: () => {
      opened ??= openInstance({ env });
      return opened;
    },
    print: (text) => stdout.write(`${text}\n`),
    printJson: (value) => stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  };

  const program = new Command("baton")
    .description("Baton: materialize, inspect and re-run data assets")
    .option("--defs <file>", "definitions file (default: $BATON_DEFS, baton.config.json, ./definitions.ts)")
    .option("--verbose", "print stack traces on errors")
    .addOption(new Option("--version", "print the version").hideHelp())
    .exitOverride()
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      writeOut: (s) => stdout.write(s),
      writeErr: (s) => stderr.write(s),
    });
  program.hook("preAction", (cmd) => {
    verbose = Boolean(cmd.optsWithGlobals().verbose);
  });

  registerMaterializeCommands(program, ctx);
  registerAssetCommands(program, ctx);
  registerRunsCommands(program, ctx);
  registerBackfillCommands(program, ctx);
  registerPartitionsCommands(program, ctx);
  registerWorkerCommands(program, ctx);
  registerDaemonCommands(program, ctx);
  registerAutomationCommands(program, ctx);
  registerInitCommand(program, ctx);
  registerCheckCommand(program, ctx);
  registerInstanceCommands(program, ctx);
  program
    .command("migrate")
    .description("apply pending store migrations (they also run automatically)")
    .action(async () => {
      const instance = await ctx.instance();
      const storage = instance.storage as typeof instance.storage & { migrated?: string[] };
      const applied = storage.migrated ?? [];
      ctx.print(
        applied.length
          ? `applied ${applied.length} migration(s) to ${storage.location}: ${applied.join(", ")}`
          : `${storage.location} is up to date`,
      );
    });

  try {
    if (argv.length === 1 && argv[0] === "--version") {
      ctx.print("0.1.0");
      return EXIT.ok;
    }
    await program.parseAsync([...argv], { from: "user" });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are "errors" in commander's exitOverride mode.
      if (error.code === "commander.helpDisplayed" || error.code === "commander.help" || error.exitCode === 0)
        return EXIT.ok;
      return EXIT.usage;
    }
    reportError(stderr, error, verbose, ctx.cwd);
    return EXIT.usage;
  } finally {
    if (opened) await (await opened.catch(() => undefined))?.close().catch(() => undefined);
  }
}

/**
 * An error from the machine rather than from Baton: a Node system error (EADDRINUSE, EACCES,
 * ENOENT …, with the failing call) is about the environment, and its message says which.
 */
function isSystemError(error: unknown): boolean {
  const e = error as { code?: unknown; syscall?: unknown } | undefined;
  return (
    error instanceof Error &&
    typeof e?.code === "string" &&
    /^E[A-Z]+$/.test(e.code) &&
    typeof e.syscall === "string"
  );
}

/**
 * `error: <message>`; with --verbose the stack: the user's frames first (of the error or the cause
 * that ran their code), then Baton's and Node's. An uncoded error thrown by the user's code shows
 * their frames; one from Baton's own code is a bug.
 */
export function reportError(stderr: NodeJS.WritableStream, error: unknown, verbose: boolean, cwd: string) {
  if (isBatonError(error)) {
    stderr.write(`error: ${error.message}\n`);
  } else {
    stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  const frames = error instanceof Error ? relevantFrames(error) : [];
  if (verbose && frames.length > 0) {
    stderr.write(`${formatFrames(frames, { verbose: true, cwd }).join("\n")}\n`);
    return;
  }
  // Coded errors (Baton's own, from any copy of @baton/core, and system errors) are the user's to
  // fix and say how; anything else is unexpected, unless the user's code threw it.
  if (error instanceof BatonError || isBatonError(error) || isSystemError(error)) return;
  if (frames.some((f) => f.inUserCode)) stderr.write(`${formatFrames(frames, { cwd }).join("\n")}\n`);
  else stderr.write("(this looks like a bug in Baton; run with --verbose for the stack trace)\n");
}
