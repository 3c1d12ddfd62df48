/**
 * The bad-input catalogue's table helper: every row is one kind of bad input with the answer it
 * must get, run as its own `it` case. A row's `message` is an exact string or a regex that pins
 * the useful parts (what is wrong and where: the flag, field path, file:line, key), never only
 * the status. Add a row to the file of its surface (cli, definitions, api, csv, ui).
 */
import { Writable } from "node:stream";
import { expect, it } from "vitest";
import { main } from "../../packages/core/src/cli/main.js";

export interface Row<I> {
  /** What is wrong, in a few words (the test's name). */
  readonly name: string;
  readonly input: I;
  /** Exit code (CLI) or HTTP status (API). */
  readonly code: number;
  /** The whole message (string) or the parts that must be in it (regex). */
  readonly message: string | RegExp;
}

/** What a surface answered: a code and the message a user reads. */
export interface Answer {
  readonly code: number;
  readonly message: string;
  /** Anything else the surface said, shown when a row fails. */
  readonly detail?: string;
}

interface Never {
  readonly pattern: RegExp;
  readonly why: string;
}
/** What every message must not contain, whatever the row. */
const NEVER: readonly Never[] = [
  { pattern: /^ {4}at /m, why: "a stack trace" },
  { pattern: /looks like a bug in Baton/, why: '"this looks like a bug in Baton"' },
  { pattern: /\[object Object\]/, why: "an unrendered value" },
];

/** What an API message must not contain besides: a CLI flag (the caller sent a body, not flags). */
export const NEVER_IN_API: readonly Never[] = [{ pattern: /(^|[\s(`'"])--[a-z]/, why: "a CLI flag" }];

export function expectAnswer(answer: Answer, row: Row<unknown>, never: readonly Never[] = []): void {
  const shown = `${answer.code}: ${answer.message}${answer.detail ? `\n--- detail ---\n${answer.detail}` : ""}`;
  expect(answer.code, shown).toBe(row.code);
  if (typeof row.message === "string") expect(answer.message, shown).toBe(row.message);
  else expect(answer.message, shown).toMatch(row.message);
  for (const n of [...NEVER, ...never])
    expect(answer.message, `the message has ${n.why}`).not.toMatch(n.pattern);
}

/** One `it` per row: `run` turns the row's input into an answer, then code and message are checked. */
export function catalogue<I>(
  rows: readonly Row<I>[],
  run: (input: I) => Promise<Answer>,
  options: { timeout?: number; never?: readonly Never[] } = {},
): void {
  const names = new Set<string>();
  for (const row of rows) {
    if (names.has(row.name)) throw new Error(`two catalogue rows are named "${row.name}"`);
    names.add(row.name);
  }
  it.each(rows.map((row) => [row.name, row] as const))(
    "%s",
    async (_name, row) => {
      expectAnswer(await run(row.input), row, options.never);
    },
    options.timeout,
  );
}

/** A stream that keeps what is written to it. */
function collector() {
  let text = "";
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

export interface CliInput {
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * `baton ARGS` in this process (no child: ~10× faster), with its own BATON_HOME. The message is
 * stderr without the `error: ` prefix and commander's "(run with --help for usage)" hint.
 */
export async function cliInProcess(
  input: CliInput,
  defaults: { cwd: string; home: string },
): Promise<Answer> {
  const out = collector();
  const err = collector();
  const code = await main(input.args, {
    stdout: out.stream,
    stderr: err.stream as unknown as NodeJS.WriteStream,
    cwd: input.cwd ?? defaults.cwd,
    env: { PATH: process.env.PATH, BATON_HOME: defaults.home, ...input.env },
  });
  const message = err
    .text()
    .replace(/^error: /, "")
    .replace(/\n\(run with --help for usage\)\n$/, "\n")
    .trimEnd();
  return { code, message, detail: `stdout:\n${out.text()}\nstderr:\n${err.text()}` };
}
