import { readFileSync } from "node:fs";
import path from "node:path";
import { InvalidConfigError, UsageError } from "../errors.js";
import type { RunStatus } from "../execution/events.js";
import type { BatonInstance } from "../instance/instance.js";

/** Exit codes: 0 success, 1 the run failed or was canceled, 2 usage/definition/config/store errors. */
export const EXIT = { ok: 0, runFailed: 1, usage: 2 } as const;

export function exitCodeFor(status: RunStatus): number {
  return status === "SUCCESS" ? EXIT.ok : EXIT.runFailed;
}

/** What commands share: output streams, options, and an instance opened on demand. */
export interface CliContext {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WriteStream;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Set by a command; returned from main. */
  exitCode: number;
  instance(): Promise<BatonInstance>;
  print(text: string): void;
  printJson(value: unknown): void;
}

/** `--config '{"a":1}'` or `--config @file.json`. */
export function parseConfigFlag(value: string | undefined, cwd: string): unknown {
  if (value === undefined) return undefined;
  let text = value;
  let source = "--config";
  if (value.startsWith("@")) {
    const file = value.slice(1);
    source = `--config file ${file}`;
    try {
      text = readFileSync(path.resolve(cwd, file), "utf8");
    } catch (error) {
      throw new UsageError(`Cannot read ${source}: ${(error as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidConfigError(
      source,
      [{ path: "", message: `not valid JSON: ${(error as Error).message}` }],
      {
        cause: error,
      },
    );
  }
}

export function parsePositiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new UsageError(`${flag} must be a whole number >= 1 (got "${value}")`);
    return n;
  };
}
