/**
 * The latest failed load of the definitions, kept in the store next to the published snapshot: the
 * webserver (maybe another process or machine than the loader) shows it in `/api/health` and as a
 * UI banner, while the last good snapshot keeps serving. Cleared by the next good load.
 */
// Types only: the webserver may read this module, and must not load the CLI's loader with it.
import type { SourcePosition } from "../cli/load-definitions.js";
import { DefinitionsLoadError, describeError } from "../errors.js";
import type { Storage } from "../storage/storage.js";

export const LOAD_ERROR_KEY = "definitions/load-error";

export interface DefinitionsLoadFailure {
  /** What failed, as the CLI prints it (may hold a code frame on the lines after the first). */
  readonly message: string;
  /** The file that failed (the user's line's file when known, else the definitions file). */
  readonly file: string | null;
  readonly line: number | null;
  readonly column: number | null;
  /** The first failed load since the last good one (ms since the epoch). */
  readonly since: number;
  /** The latest failed load. */
  readonly at: number;
}

/** The structured failure of loading `definitionsFile` (`since`/`at` are `now`). */
export function loadFailureOf(error: unknown, definitionsFile: string, now: number): DefinitionsLoadFailure {
  // A DefinitionsImportError (cli/load-definitions) carries the user's line that failed.
  const position =
    error instanceof DefinitionsLoadError ? (error as { position?: SourcePosition }).position : undefined;
  return {
    message: describeError(error),
    file: position?.file ?? (error instanceof DefinitionsLoadError ? error.file : definitionsFile),
    line: position?.line ?? null,
    column: position?.column ?? null,
    since: now,
    at: now,
  };
}

/** Store `failure`; a failure already stored (not cleared by a good load since) keeps its `since`. */
export async function recordLoadError(storage: Storage, failure: DefinitionsLoadFailure): Promise<void> {
  const previous = await readLoadError(storage);
  const since = previous ? Math.min(previous.since, failure.since) : failure.since;
  await storage.setValue(LOAD_ERROR_KEY, JSON.stringify({ ...failure, since }), failure.at);
}

/** After a good load (once its snapshot is published): no error to show. */
export async function clearLoadError(storage: Storage): Promise<void> {
  if ((await storage.getValue(LOAD_ERROR_KEY)) !== undefined) await storage.deleteValue(LOAD_ERROR_KEY);
}

/** The stored failure, or undefined when the latest load was good (or the value is unreadable). */
export async function readLoadError(storage: Storage): Promise<DefinitionsLoadFailure | undefined> {
  return parseLoadError(await storage.getValue(LOAD_ERROR_KEY));
}

/** Parse a stored value (undefined for none or a value this version cannot read). */
export function parseLoadError(stored: string | undefined): DefinitionsLoadFailure | undefined {
  if (!stored) return undefined;
  try {
    const value = JSON.parse(stored) as Partial<DefinitionsLoadFailure>;
    if (typeof value.message !== "string" || typeof value.since !== "number" || typeof value.at !== "number")
      return undefined;
    return {
      message: value.message,
      file: typeof value.file === "string" ? value.file : null,
      line: typeof value.line === "number" ? value.line : null,
      column: typeof value.column === "number" ? value.column : null,
      since: value.since,
      at: value.at,
    };
  } catch {
    return undefined;
  }
}
