/**
 * Baton's error hierarchy. Every error Baton raises on purpose is a `BatonError` with a stable
 * `code` (safe to match on, and mapped to exit codes / HTTP statuses in one place each) and an
 * ES `cause` when it wraps something. Messages say what happened, where, and what to do.
 */
import { parseStack, type StackFrame } from "./util/stack.js";

export type BatonErrorCode =
  | "INVALID_DEFINITION"
  | "INVALID_SELECTION"
  | "INVALID_CONFIG"
  | "INVALID_PARTITION"
  | "DEFINITIONS_LOAD_FAILED"
  | "USER_CODE_ERROR"
  | "RUN_NOT_FOUND"
  | "STORAGE_ERROR"
  | "USAGE_ERROR"
  | "RUN_CANCELED";

const BATON_ERROR = Symbol.for("baton.error");

export class BatonError extends Error {
  readonly code: BatonErrorCode;
  constructor(code: BatonErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
    Object.defineProperty(this, BATON_ERROR, { value: true });
  }
}

/**
 * True for errors Baton raised on purpose, also when thrown by another copy of @baton/core
 * (a definitions file can load its own instance), so never by `instanceof` alone.
 */
export function isBatonError(value: unknown): value is BatonError {
  return value instanceof Error && (value as unknown as Record<symbol, unknown>)[BATON_ERROR] === true;
}

/** One problem found while validating definitions; `where` names the asset key, check or job. */
export interface DefinitionProblem {
  readonly where: string;
  readonly message: string;
}

/** Thrown by `defineDefinitions` (and loading) with every problem found, not just the first. */
export class InvalidDefinitionError extends BatonError {
  readonly problems: readonly DefinitionProblem[];
  constructor(problems: readonly DefinitionProblem[]) {
    const lines = problems.map((p) => `  - ${p.where}: ${p.message}`);
    super(
      "INVALID_DEFINITION",
      `Invalid definitions (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${lines.join("\n")}`,
    );
    this.problems = problems;
  }
}

/** A selection string that does not parse or names something that does not exist. */
export class SelectionError extends BatonError {
  readonly selection: string;
  /** 0-based character offset of the offending token in `selection`. */
  readonly position: number;
  constructor(selection: string, position: number, problem: string) {
    const caret = `${" ".repeat(Math.max(0, position))}^`;
    super("INVALID_SELECTION", `Invalid selection: ${problem}\n  ${selection}\n  ${caret}`);
    this.selection = selection;
    this.position = position;
  }
}

/** Run config that does not match an asset's config schema, or is not valid JSON. */
export class InvalidConfigError extends BatonError {
  readonly issues: readonly { readonly path: string; readonly message: string }[];
  constructor(
    where: string,
    issues: readonly { path: string; message: string }[],
    options?: { cause?: unknown },
  ) {
    const lines = issues.map((i) => `  - ${i.path || "(root)"}: ${i.message}`);
    super("INVALID_CONFIG", `Invalid config for ${where}:\n${lines.join("\n")}`, options);
    this.issues = issues;
  }
}

/**
 * A partition key that the asset's partitions definition does not have. `problem` says why:
 * `format` (not the expected form, or no such static/dynamic key: the message gives the format and
 * the closest key by spelling), `before` / `after` (a well-formed time outside the partitions: the
 * message gives their range and the nearest key by time), `inside` (a time inside a window, not at
 * its start: the message names that window).
 */
export class InvalidPartitionKeyError extends BatonError {
  readonly partitionKey: string;
  readonly problem: "format" | "before" | "after" | "inside";
  readonly nearest: string | undefined;
  constructor(
    where: string,
    partitionKey: string,
    explanation: {
      readonly problem: "format" | "before" | "after" | "inside";
      readonly reason: string;
      readonly nearest: string | undefined;
    },
  ) {
    const { problem, reason, nearest } = explanation;
    super(
      "INVALID_PARTITION",
      `Invalid partition key "${partitionKey}" for ${where}: ${reason}` +
        (nearest !== undefined ? `; nearest valid key: "${nearest}"` : "; it has no partitions yet"),
    );
    this.partitionKey = partitionKey;
    this.problem = problem;
    this.nearest = nearest;
  }
}

export class DefinitionsLoadError extends BatonError {
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super("DEFINITIONS_LOAD_FAILED", `Could not load definitions from ${file}: ${message}`, options);
    this.file = file;
  }
}

/** Wraps whatever an asset body, check, op or resource threw, with where it happened. */
export class UserCodeError extends BatonError {
  readonly stepKey: string;
  constructor(stepKey: string, phase: string, cause: unknown) {
    super("USER_CODE_ERROR", `Error in ${phase} "${stepKey}": ${describeError(cause)}`, { cause });
    this.stepKey = stepKey;
  }
}

export class RunNotFoundError extends BatonError {
  readonly runId: string;
  constructor(runId: string) {
    super("RUN_NOT_FOUND", `Run ${runId} was not found. List runs with \`baton runs list\`.`);
    this.runId = runId;
  }
}

export class StorageError extends BatonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("STORAGE_ERROR", message, options);
  }
}

export class UsageError extends BatonError {
  constructor(message: string) {
    super("USAGE_ERROR", message);
  }
}

/** A serializable form of any thrown value, for the event log and across process boundaries. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string | undefined;
  readonly code?: string | undefined;
  readonly cause?: SerializedError | undefined;
  /** `stack` parsed, each frame marked as the user's code or not (util/stack.ts); absent in older events. */
  readonly frames?: readonly StackFrame[] | undefined;
}

export function serializeError(error: unknown, depth = 0): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      code: typeof code === "string" ? code : undefined,
      cause: error.cause !== undefined && depth < 5 ? serializeError(error.cause, depth + 1) : undefined,
      frames: error.stack ? parseStack(error.stack) : undefined,
    };
  }
  return { name: "NonErrorThrown", message: describeError(error) };
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "string") return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
