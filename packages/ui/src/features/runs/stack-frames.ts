/**
 * A serialized error's frames for display: which link of the cause chain ran the user's code, its
 * frames split into the user's (shown first) and the internal ones (Baton's, node_modules', Node's:
 * collapsed), files shortened to the user's project folder. The same choices as the CLI
 * (packages/core/src/util/stack.ts), computed from the `frames` the API sends.
 */
import type { SerializedError, StackFrame } from "@baton/webserver/api-types";

export interface ErrorFrames {
  /** The link of the chain the frames belong to (0 = the error itself, 1 = its cause, …). */
  readonly depth: number;
  readonly user: readonly StackFrame[];
  readonly internal: readonly StackFrame[];
  /** The folder user files are shown relative to ("" when there are none). */
  readonly base: string;
}

const MAX_DEPTH = 6;

/**
 * The frames worth showing: those of the deepest link that ran the user's code (an asset's
 * `UserCodeError` wraps what the asset threw; the wrapper's own frames are all Baton's), else the
 * error's own. Null when the error has no frames (stored before they were recorded): show its stack.
 */
export function errorFrames(error: SerializedError): ErrorFrames | null {
  let chosen: { depth: number; frames: readonly StackFrame[] } | null = null;
  let e: SerializedError | undefined = error;
  for (let depth = 0; e && depth < MAX_DEPTH; depth++, e = e.cause) {
    const frames = e.frames;
    if (!frames || frames.length === 0) continue;
    if (chosen === null || frames.some((f) => f.inUserCode)) chosen = { depth, frames };
  }
  if (!chosen) return null;
  const user = chosen.frames.filter((f) => f.inUserCode);
  const internal = chosen.frames.filter((f) => !f.inUserCode);
  return { depth: chosen.depth, user, internal, base: commonFolder(user.map((f) => f.file)) };
}

/** The longest folder every file is in (with its trailing separator), "" if none is shared. */
export function commonFolder(files: readonly string[]): string {
  if (files.length === 0) return "";
  const sep = files[0]!.includes("\\") && !files[0]!.includes("/") ? "\\" : "/";
  let parts = files[0]!.split(sep).slice(0, -1);
  for (const file of files.slice(1)) {
    const other = file.split(sep).slice(0, -1);
    let i = 0;
    while (i < parts.length && i < other.length && parts[i] === other[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.length > 0 ? `${parts.join(sep)}${sep}` : "";
}

/** A frame's file for reading: relative to `base` for the user's, from the package for the others. */
export function shortFile(frame: StackFrame, base = ""): string {
  const file = frame.file;
  if (frame.inUserCode) return base && file.startsWith(base) ? file.slice(base.length) : file;
  const unix = file.replaceAll("\\", "/");
  const inModules = unix.lastIndexOf("/node_modules/");
  if (inModules >= 0) return unix.slice(inModules + "/node_modules/".length);
  const core = /\/core\/((?:dist|src|bin)\/.*)$/.exec(unix);
  if (frame.origin === "baton" && core) return `@baton/core/${core[1]}`;
  return file;
}

/** `part.ts:13:51` (line and column when known). */
export function frameLocation(frame: StackFrame, base = ""): string {
  const file = shortFile(frame, base);
  if (frame.line === null) return file;
  return frame.column === null ? `${file}:${frame.line}` : `${file}:${frame.line}:${frame.column}`;
}

/** The function's name, or null for anonymous functions and top-level code. */
export function frameFunction(frame: StackFrame): string | null {
  return frame.function && frame.function !== "<anonymous>" ? frame.function : null;
}

export const ORIGIN_WORDS: Record<StackFrame["origin"], string> = {
  user: "your code",
  baton: "Baton",
  package: "node_modules",
  node: "Node",
};

/** "Show 4 internal frames" / "Hide 1 internal frame". */
export function toggleLabel(count: number, open: boolean): string {
  return `${open ? "Hide" : "Show"} ${count.toLocaleString("en")} internal frame${count === 1 ? "" : "s"}`;
}

/**
 * The frames as text (downloads, the copy in a log line): the user's first, then the internal ones
 * under a "… N internal frames" line.
 */
export function framesText(frames: ErrorFrames): string {
  const line = (f: StackFrame) => {
    const fn = frameFunction(f);
    return fn ? `    at ${fn} (${frameLocation(f, frames.base)})` : `    at ${frameLocation(f, frames.base)}`;
  };
  const lines = frames.user.map(line);
  if (frames.internal.length > 0) {
    const n = frames.internal.length;
    lines.push(`    … ${n} internal frame${n === 1 ? "" : "s"}:`, ...frames.internal.map(line));
  }
  return lines.join("\n");
}
