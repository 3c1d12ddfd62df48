import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { type Definitions, isDefinitions } from "../definitions/definitions.js";
import { DefinitionsLoadError, isBatonError } from "../errors.js";
import { firstUserFrame, frameLocation, parseStack } from "../util/stack.js";

const DEFAULT_FILES = ["definitions.ts", "definitions.mts", "definitions.js", "definitions.mjs"];

/**
 * Where the user's definitions file is: `--defs`, else `$BATON_DEFS`, else `defs` in
 * `baton.config.json`, else `./definitions.{ts,mts,js,mjs}`.
 */
export function resolveDefinitionsPath(
  flag: string | undefined,
  cwd: string = process.cwd(),
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  if (flag) return path.resolve(cwd, flag);
  if (env.BATON_DEFS) return path.resolve(cwd, env.BATON_DEFS);
  const config = readBatonConfig(cwd);
  if (config) {
    const defs = (config.value as { defs?: unknown }).defs;
    if (typeof defs !== "string")
      throw new DefinitionsLoadError(
        config.file,
        'baton.config.json needs a "defs" string naming the definitions file',
      );
    return path.resolve(cwd, defs);
  }
  for (const name of DEFAULT_FILES) {
    const candidate = path.join(cwd, name);
    if (existsSync(candidate)) return candidate;
  }
  return path.join(cwd, DEFAULT_FILES[0]!);
}

/**
 * `baton.config.json` in `cwd` (undefined when there is none): `defs` names the definitions file,
 * `launcher` the run launcher `baton worker` uses (see launcher/config.ts).
 */
export function readBatonConfig(cwd: string): { readonly file: string; readonly value: object } | undefined {
  const file = path.join(cwd, "baton.config.json");
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new DefinitionsLoadError(file, `baton.config.json is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new DefinitionsLoadError(file, "baton.config.json must hold a JSON object");
  return { file, value: parsed };
}

let tsxRegistered = false;

/** Where in the user's files a load failed (absolute file; line and column from 1). */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly column: number | null;
}

/**
 * A `DefinitionsLoadError` that knows the user's line that failed (a syntax error, a throwing import):
 * the structured form `/api/health` and the UI show. Same name and code as its parent.
 */
export class DefinitionsImportError extends DefinitionsLoadError {
  readonly position: SourcePosition;
  constructor(file: string, message: string, position: SourcePosition, options?: { cause?: unknown }) {
    super(file, message, options);
    this.name = "DefinitionsLoadError";
    this.position = position;
  }
}

/**
 * Import the user's definitions (TypeScript through tsx, or JavaScript) and return the
 * `Definitions` it exports (default export, or a named export `definitions`/`defs`).
 */
export async function loadDefinitions(file: string, options: { fresh?: boolean } = {}): Promise<Definitions> {
  if (!existsSync(file)) {
    throw new DefinitionsLoadError(
      file,
      "file not found. Pass --defs FILE, set BATON_DEFS, or create ./definitions.ts exporting `export default defineDefinitions({ … })`.",
    );
  }
  if (/\.[cm]?tsx?$/.test(file) && !tsxRegistered) {
    const { register } = await import("tsx/esm/api");
    register();
    tsxRegistered = true;
  }
  let mod: Record<string, unknown>;
  try {
    if (options.fresh) {
      // A reload: tsx imports the file and its local imports in a new namespace (a fresh module
      // graph), so edited files are read again; packages stay shared.
      const { tsImport } = await import("tsx/esm/api");
      mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>;
    } else mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    if (isBatonError(error)) throw error;
    const message = (error as Error)?.message ?? String(error);
    // CommonJS syntax in a file Node loaded as CommonJS: make it an ES module. (In a file loaded as an
    // ES module, Node's own message says why it is one and how to change that.)
    const hint =
      /require is not defined|Cannot use import statement outside a module|exports is not defined/.test(
        message,
      ) && !/in ES module scope/.test(message)
        ? ' The file was loaded as CommonJS: add "type": "module" to the nearest package.json, or rename it to .mts.'
        : "";
    const sentence = (text: string) => (/[.!?]$/.test(text) ? text : `${text}.`);
    const where = locateLoadError(error, file);
    if (where) {
      const text = `${where.location}: ${where.name}: ${where.message}`;
      throw new DefinitionsImportError(
        file,
        `importing it threw: ${hint ? `${sentence(text)}${hint}` : text}${where.codeFrame ? `\n${where.codeFrame}` : ""}`,
        where.position,
        { cause: error },
      );
    }
    throw new DefinitionsLoadError(file, `importing it threw: ${sentence(message)}${hint}`, { cause: error });
  }
  for (const name of ["default", "definitions", "defs"]) {
    const value = mod[name];
    if (isDefinitions(value)) return value;
  }
  const exported = Object.keys(mod);
  throw new DefinitionsLoadError(
    file,
    `it exports no Definitions (exports: ${exported.length ? exported.join(", ") : "none"}). ` +
      "Add `export default defineDefinitions({ assets: [...] })`.",
  );
}

/** Where in the user's files loading failed: `definitions.ts:12:3`, the error, a code frame. */
interface LoadErrorLocation {
  readonly location: string;
  readonly position: SourcePosition;
  readonly name: string;
  readonly message: string;
  readonly codeFrame: string | undefined;
}

/**
 * The user's line that made importing the definitions fail: a syntax error's position (tsx/esbuild
 * name it in the message; for JavaScript, `node --check` does), else the first frame of the stack
 * in the user's code (source-mapped to the .ts line by tsx). Undefined when no user line is known
 * (a missing package: Node's message names the importing file already).
 */
export function locateLoadError(
  error: unknown,
  file: string,
  cwd: string = process.cwd(),
): LoadErrorLocation | undefined {
  if (!(error instanceof Error)) return undefined;
  // esbuild (through tsx): "Transform failed with 2 errors:\n/p/definitions.ts:4:12: ERROR: Unexpected \";\"\n…"
  const esbuild = [...error.message.matchAll(/^(.+?):(\d+):(\d+): ERROR: (.*)$/gm)];
  if (esbuild.length > 0) {
    const [, where, line, column0, text] = esbuild[0]!;
    const more =
      esbuild.length > 1 ? ` (and ${esbuild.length - 1} more error${esbuild.length > 2 ? "s" : ""})` : "";
    // esbuild counts columns from 0; editors and V8 from 1.
    return located(
      path.resolve(where!),
      Number(line),
      Number(column0) + 1,
      "SyntaxError",
      `${text}${more}`,
      cwd,
    );
  }
  if (error.name === "SyntaxError" && !/\.[cm]?tsx?$/.test(file)) {
    const checked = checkJavaScriptSyntax(file);
    if (checked) return located(file, checked.line, checked.column, "SyntaxError", error.message, cwd);
  }
  const frame = firstUserFrame(parseStack(error.stack));
  if (!frame || frame.line === null) return undefined;
  return located(frame.file, frame.line, frame.column, error.name, error.message, cwd);
}

function located(
  file: string,
  line: number,
  column: number | null,
  name: string,
  message: string,
  cwd: string,
): LoadErrorLocation {
  return {
    location: frameLocation({ file, line, column }, cwd),
    position: { file, line, column },
    name,
    message,
    codeFrame: codeFrame(file, line, column),
  };
}

/**
 * Two lines: the source line (cut to ~120 characters around the column) and a caret under the column.
 *   `    10 | export const check = assetCheck({ … });`
 *   `       |                      ^`
 */
export function codeFrame(file: string, line: number, column: number | null): string | undefined {
  let source: string;
  try {
    if (statSync(file).size > 5_000_000) return undefined;
    source = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  let text = source.split(/\r?\n/)[line - 1];
  if (text === undefined || text.trim() === "") return undefined;
  let col = column === null ? undefined : Math.max(0, column - 1);
  const width = 120;
  if (text.length > width) {
    const start = col === undefined ? 0 : Math.max(0, Math.min(col - 40, text.length - width));
    text = `${start > 0 ? "…" : ""}${text.slice(start, start + width)}${start + width < text.length ? "…" : ""}`;
    if (col !== undefined) col = col - start + (start > 0 ? 1 : 0);
  }
  const gutter = String(line);
  const lines = [`    ${gutter} | ${text.trimEnd()}`];
  if (col !== undefined) {
    // Keep tabs so the caret lines up under the column as the terminal shows the line.
    const pad = text.slice(0, col).replace(/[^\t]/g, " ");
    lines.push(`    ${" ".repeat(gutter.length)} | ${pad}^`);
  }
  return lines.join("\n");
}

/** A JavaScript syntax error's position, from `node --check` (V8's import error does not carry it). */
function checkJavaScriptSyntax(file: string): { line: number; column: number } | undefined {
  const result = spawnSync(process.execPath, ["--check", file], { encoding: "utf8", timeout: 10_000 });
  // "file:///p/definitions.mjs:4\n  return 1 +;\n            ^\n\nSyntaxError: …"
  const m = /^(?:file:\/\/)?(.*?):(\d+)\r?\n(.*)\r?\n(\s*)\^/m.exec(result.stderr ?? "");
  if (!m) return undefined;
  return { line: Number(m[2]), column: m[4]!.length + 1 };
}
