import { existsSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import type { Definitions } from "../../definitions/definitions.js";
import { describeError, isBatonError, UsageError } from "../../errors.js";
import {
  formatDiagnostic,
  type TypeCheckResult,
  typeCheck,
  typeErrorSummary,
} from "../../typecheck/typecheck.js";
import { type CliContext, EXIT } from "../cli-context.js";
import { loadDefinitions, resolveDefinitionsPath } from "../load-definitions.js";

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Print a type check's errors (one `file:line:col - error TSnnnn: …` each) and its note. */
export function printTypeCheck(
  out: NodeJS.WritableStream,
  notes: NodeJS.WritableStream,
  result: TypeCheckResult,
  cwd: string,
) {
  for (const d of result.diagnostics) out.write(`${formatDiagnostic(d, cwd)}\n`);
  if (result.note) notes.write(`note: ${result.note}\n`);
}

/** The type check as JSON (files relative to `cwd`). */
export function typeCheckToJson(result: TypeCheckResult, cwd: string) {
  return {
    ok: result.ok,
    errors: result.diagnostics.filter((d) => d.category === "error").length,
    diagnostics: result.diagnostics.map((d) => ({
      file: d.file ? path.relative(cwd, d.file) || d.file : null,
      line: d.line ?? null,
      column: d.column ?? null,
      category: d.category,
      code: d.code,
      message: d.message,
      text: formatDiagnostic(d, cwd),
    })),
    tsconfig: result.tsconfig ?? null,
    scope: result.scope,
    note: result.note ?? null,
    typescript: {
      version: result.typescript.version,
      from: result.typescript.from,
      tsc: result.typescript.tsc,
    },
    seconds: Math.round(result.seconds * 1000) / 1000,
  };
}

function definitionCounts(defs: Definitions) {
  return {
    assets: defs.graph.keys.length,
    checks: defs.checks.length,
    jobs: defs.jobs.length,
    schedules: defs.schedules.length,
    sensors: defs.sensors.length,
  };
}

/** Why the definitions failed: the error's message, its code, and each validation problem. */
function definitionsFailure(error: unknown) {
  const problems = (error as { problems?: unknown }).problems;
  return {
    code: isBatonError(error) ? error.code : "DEFINITIONS_LOAD_FAILED",
    message: describeError(error),
    ...(Array.isArray(problems) ? { problems: problems as { where: string; message: string }[] } : {}),
  };
}

/**
 * A definitions file that is not there: the loader's message (where it looked, how to fix it)
 * rather than tsc's "file not found".
 */
export async function requireDefinitionsFile(file: string): Promise<void> {
  if (!existsSync(file)) await loadDefinitions(file);
}

/**
 * `baton check`: type-check the project (tsc) and load + validate the definitions, at the same
 * time. Prints every problem and a one-line summary; exit code 2 when anything failed.
 */
export async function runCheck(ctx: CliContext, file: string, json: boolean) {
  const shownFile = path.relative(ctx.cwd, file) || file;
  await requireDefinitionsFile(file);
  const [types, loaded] = await Promise.allSettled([
    typeCheck(file, { env: ctx.env }),
    loadDefinitions(file),
  ]);
  // TypeScript missing, tsc crashing: the check itself could not run.
  if (types.status === "rejected") throw types.reason;
  const result = types.value;
  const defs = loaded.status === "fulfilled" ? loaded.value : undefined;
  const failure = loaded.status === "rejected" ? definitionsFailure(loaded.reason) : undefined;

  const parts: string[] = [];
  if (!result.ok) parts.push(typeErrorSummary(result));
  if (failure)
    parts.push(
      failure.problems
        ? `definitions are invalid (${plural(failure.problems.length, "problem")})`
        : "definitions do not load",
    );
  const ok = parts.length === 0;
  const counts = defs ? definitionCounts(defs) : undefined;
  const summary = ok
    ? `ok: ${plural(counts!.assets, "asset")}, ${plural(counts!.checks, "check")}, ${plural(counts!.jobs, "job")}, ` +
      `${plural(counts!.schedules, "schedule")}, ${plural(counts!.sensors, "sensor")}; type-checked in ${result.seconds.toFixed(1)} s`
    : parts.join("; ");

  if (json) {
    ctx.printJson({
      ok,
      summary,
      typecheck: typeCheckToJson(result, ctx.cwd),
      definitions: {
        file: shownFile,
        ok: !failure,
        ...(counts ? counts : {}),
        ...(failure ? { error: failure } : {}),
      },
    });
  } else {
    printTypeCheck(ctx.stdout, ctx.stderr, result, ctx.cwd);
    // A load error names the file already; a validation error says what is wrong, not where.
    if (failure)
      ctx.print(failure.message.includes(file) ? failure.message : `${shownFile}: ${failure.message}`);
    ctx.print(summary);
  }
  ctx.exitCode = ok ? EXIT.ok : EXIT.usage;
}

/**
 * `--typecheck`: load the definitions while tsc checks the project; on type errors print them
 * (stderr) and throw, so nothing runs. A file that does not load but has type errors reports
 * the type errors (they usually say why).
 */
export async function loadTypeChecked(ctx: CliContext, file: string): Promise<Definitions> {
  await requireDefinitionsFile(file);
  const types = typeCheck(file, { env: ctx.env });
  types.catch(() => undefined); // awaited below; a load error must not leave it unhandled
  const gate = async () => {
    const result = await types;
    printTypeCheck(ctx.stderr, ctx.stderr, result, ctx.cwd);
    if (!result.ok)
      throw new UsageError(
        `${typeErrorSummary(result)}: nothing ran (--typecheck runs only code that type-checks; fix them, or run without --typecheck)`,
      );
    ctx.stderr.write(`types ok (type-checked in ${result.seconds.toFixed(1)} s)\n`);
  };
  let definitions: Definitions;
  try {
    definitions = await loadDefinitions(file);
  } catch (error) {
    await gate();
    throw error;
  }
  await gate();
  return definitions;
}

export function registerCheckCommand(program: Command, ctx: CliContext) {
  program
    .command("check")
    .description(
      "type-check the project (its tsconfig.json, with its TypeScript) and load and validate the definitions",
    )
    .option("--json", "print the result as JSON on stdout")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const globals = cmd.optsWithGlobals() as { defs?: string };
      await runCheck(ctx, resolveDefinitionsPath(globals.defs, ctx.cwd, ctx.env), Boolean(opts.json));
    });
}
