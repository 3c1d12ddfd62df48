/**
 * V8 stack traces as frames, each marked as the user's code or not, so that an error can show the
 * user's own lines first and collapse Baton's and Node's below them.
 *
 * Browser-safe on purpose (no `node:` imports): `errors.ts` uses it and the UI bundles `errors.ts`.
 */

/** Where a frame's code lives. */
export type FrameOrigin =
  /** the user's project: definitions, assets, helpers */
  | "user"
  /** @baton/core (this package, from any copy of it) */
  | "baton"
  /** another package in node_modules (tsx, duckdb, zod …) */
  | "package"
  /** Node's own code (`node:internal/…`), native code, `Promise.all (index 0)` */
  | "node";

export interface StackFrame {
  /** the function as V8 names it (`totalFare`, `async runStep`, `new Reader`), or null */
  readonly function: string | null;
  /** an absolute path for files (file:// URLs are turned into paths), else what V8 wrote (`node:fs`, `native`) */
  readonly file: string;
  /** 1-based, as editors count; null when V8 gave no position */
  readonly line: number | null;
  /** 1-based; null when V8 gave no position */
  readonly column: number | null;
  readonly origin: FrameOrigin;
  /** origin === "user" */
  readonly inUserCode: boolean;
}

export interface ClassifyOptions {
  /** Folders whose files are Baton's (default: this @baton/core package's folder). */
  readonly batonRoots?: readonly string[];
}

/** A frame's location in the same shape as the stack line: `at fn (file:line:col)`. */
const FRAME_WITH_FUNCTION = /^\s*at (.+?) \((.*)\)$/;
const FRAME_BARE = /^\s*at (.*)$/;
const POSITION = /^(.*?):(\d+)(?::(\d+))?$/;

/** The folder of this @baton/core package (the parent of `dist/` or `src/`), as a `/`-separated path. */
function ownPackageRoot(): string | undefined {
  let here: string;
  try {
    here = import.meta.url;
  } catch {
    return undefined;
  }
  if (!here.startsWith("file:")) return undefined;
  const file = fileUrlToPath(here).replaceAll("\\", "/");
  // …/core/dist/util/stack.js or …/core/src/util/stack.ts
  const m = /^(.*)\/(?:dist|src)\/util\/stack\.[cm]?[jt]s$/.exec(file);
  return m?.[1];
}

let defaultRoots: readonly string[] | undefined;
function batonRoots(options: ClassifyOptions | undefined): readonly string[] {
  if (options?.batonRoots) return options.batonRoots.map((r) => r.replaceAll("\\", "/").replace(/\/+$/, ""));
  if (!defaultRoots) {
    const own = ownPackageRoot();
    defaultRoots = own ? [own] : [];
  }
  return defaultRoots;
}

/** `file:///a/b%20c.ts` → `/a/b c.ts` (and `C:\…` on Windows); other strings unchanged. */
function fileUrlToPath(location: string): string {
  if (!location.startsWith("file://")) return location;
  let rest = location.slice("file://".length);
  // tsx's fresh imports add ?tsx-namespace=…; Vite and others add ?t=…
  rest = rest.replace(/[?#].*$/, "");
  if (rest.startsWith("localhost/")) rest = rest.slice("localhost".length);
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    decoded = rest;
  }
  return /^\/[A-Za-z]:\//.test(decoded) ? decoded.slice(1).replaceAll("/", "\\") : decoded;
}

/** Which code a frame's file belongs to. */
export function classifyFile(file: string, options?: ClassifyOptions): FrameOrigin {
  if (!/^([A-Za-z]:[\\/]|\/|\\\\)/.test(file)) return "node"; // node:…, native, <anonymous>, index 0
  const f = file.replaceAll("\\", "/");
  if (f.includes("/node_modules/@baton/")) return "baton";
  for (const root of batonRoots(options)) {
    if (f.startsWith(`${root}/`) && !f.slice(root.length).includes("/node_modules/")) return "baton";
  }
  if (f.includes("/node_modules/")) return "package";
  return "user";
}

/** One `    at …` line as a frame, or undefined for anything else (the message lines). */
export function parseFrame(line: string, options?: ClassifyOptions): StackFrame | undefined {
  let fn: string | null = null;
  let location: string;
  const withFn = FRAME_WITH_FUNCTION.exec(line);
  if (withFn) {
    fn = withFn[1]!;
    location = withFn[2]!;
  } else {
    const bare = FRAME_BARE.exec(line);
    if (!bare) return undefined;
    location = bare[1]!;
  }
  // `eval at f (file:1:2), <anonymous>:3:4`: the frame is in evaluated code; name the caller's file.
  const evalAt = /^eval at .*?\((.*?)\), .*$/.exec(location);
  if (evalAt) location = evalAt[1]!;
  let file = location;
  let lineNo: number | null = null;
  let column: number | null = null;
  const pos = POSITION.exec(location);
  if (pos?.[1]) {
    file = pos[1];
    lineNo = Number(pos[2]);
    column = pos[3] !== undefined ? Number(pos[3]) : null;
  }
  file = fileUrlToPath(file);
  const origin = classifyFile(file, options);
  return { function: fn, file, line: lineNo, column, origin, inUserCode: origin === "user" };
}

/** Every frame of a V8 stack (`error.stack`), top first; [] for no stack. */
export function parseStack(stack: string | undefined | null, options?: ClassifyOptions): StackFrame[] {
  if (!stack) return [];
  const frames: StackFrame[] = [];
  for (const line of stack.split("\n")) {
    if (!/^\s+at /.test(line)) continue;
    const frame = parseFrame(line, options);
    if (frame) frames.push(frame);
  }
  return frames;
}

/** `file:line:col` (or `file:line`, or just `file`), the file relative to `cwd` when it is inside it. */
export function frameLocation(frame: Pick<StackFrame, "file" | "line" | "column">, cwd?: string): string {
  const file = cwd ? relativeTo(frame.file, cwd) : frame.file;
  if (frame.line === null) return file;
  return frame.column === null ? `${file}:${frame.line}` : `${file}:${frame.line}:${frame.column}`;
}

function relativeTo(file: string, cwd: string): string {
  const sep = file.includes("\\") && !file.includes("/") ? "\\" : "/";
  const dir = cwd.endsWith(sep) ? cwd : `${cwd}${sep}`;
  return file.startsWith(dir) ? file.slice(dir.length) : file;
}

/** `at totalFare (part.ts:7:69)`, or `at part.ts:7:69` for an anonymous function or top-level code. */
export function formatFrame(frame: StackFrame, cwd?: string): string {
  const where = frameLocation(frame, cwd);
  return frame.function && frame.function !== "<anonymous>"
    ? `at ${frame.function} (${where})`
    : `at ${where}`;
}

/** "Baton and Node", "Baton, node_modules and Node": what the hidden frames are. */
export function describeOrigins(frames: readonly Pick<StackFrame, "origin">[]): string {
  const names: string[] = [];
  if (frames.some((f) => f.origin === "baton")) names.push("Baton");
  if (frames.some((f) => f.origin === "package")) names.push("node_modules");
  if (frames.some((f) => f.origin === "node")) names.push("Node");
  if (names.length <= 1) return names[0] ?? "Node";
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

export interface FormatFramesOptions {
  /** Also list the frames outside the user's code (after the user's). */
  readonly verbose?: boolean;
  /** Files under this folder are shown relative to it. */
  readonly cwd?: string;
  /** Put before each line (default four spaces, as V8 does). */
  readonly indent?: string;
  /** What the collapsed line tells the reader to do (default "run with --verbose to see them"). */
  readonly expandHint?: string;
}

/**
 * The user's frames first (`    at fn (file:line:col)`), then one line for the rest:
 * `    … 4 frames in Baton and Node (run with --verbose to see them)`; with `verbose` the rest are
 * listed below that line (`    … 4 frames in Baton and Node:`).
 */
export function formatFrames(frames: readonly StackFrame[], options: FormatFramesOptions = {}): string[] {
  const indent = options.indent ?? "    ";
  const user = frames.filter((f) => f.inUserCode);
  const other = frames.filter((f) => !f.inUserCode);
  const lines = user.map((f) => `${indent}${formatFrame(f, options.cwd)}`);
  if (other.length === 0) return lines;
  const count = `${other.length} frame${other.length === 1 ? "" : "s"} in ${describeOrigins(other)}`;
  if (options.verbose) {
    lines.push(`${indent}… ${count}:`);
    for (const f of other) lines.push(`${indent}${formatFrame(f, options.cwd)}`);
  } else {
    const hint = options.expandHint ?? `run with --verbose to see ${other.length === 1 ? "it" : "them"}`;
    lines.push(`${indent}… ${count} (${hint})`);
  }
  return lines;
}

/** An error-like chain: each link has its frames (or a stack to parse) and maybe a cause. */
export interface FramedError {
  readonly stack?: string | undefined;
  readonly frames?: readonly StackFrame[] | undefined;
  readonly cause?: FramedError | undefined | unknown;
}

/** A link's frames: stored ones, else parsed from its stack. */
export function framesOf(error: FramedError, options?: ClassifyOptions): readonly StackFrame[] {
  return error.frames ?? parseStack(error.stack, options);
}

/**
 * The frames worth showing for an error and its causes: those of the deepest link that ran the
 * user's code (a `UserCodeError` wraps what the asset threw; the wrapper's own stack is all Baton's),
 * else the outermost link's.
 */
export function relevantFrames(error: FramedError, options?: ClassifyOptions): readonly StackFrame[] {
  const first = framesOf(error, options);
  let best: readonly StackFrame[] | undefined = first.some((f) => f.inUserCode) ? first : undefined;
  let link: unknown = error.cause;
  for (let depth = 0; link && typeof link === "object" && depth < 6; depth++) {
    const frames = framesOf(link as FramedError, options);
    if (frames.some((f) => f.inUserCode)) best = frames;
    link = (link as FramedError).cause;
  }
  return best ?? first;
}

/** The first frame in the user's code, if any. */
export function firstUserFrame(frames: readonly StackFrame[]): StackFrame | undefined {
  return frames.find((f) => f.inUserCode);
}
