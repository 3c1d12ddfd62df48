/**
 * Type-checking the user's project by running its `tsc` as a child process (TypeScript 7 is a
 * native compiler without a JS API): `tsc --noEmit -p <tsconfig> --pretty false`, its output
 * parsed into diagnostics with the file, line and column.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, realpathSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { UsageError } from "../errors.js";
import {
  type ResolveTypeScriptOptions,
  resolveTypeScript,
  type TypeScriptInstall,
} from "./resolve-typescript.js";

export interface TypeDiagnostic {
  /** Absolute path; undefined for a diagnostic about the options (e.g. an unknown compiler option). */
  readonly file?: string | undefined;
  /** 1-based. */
  readonly line?: number | undefined;
  /** 1-based. */
  readonly column?: number | undefined;
  readonly category: "error" | "warning" | "message";
  /** The TS error number, e.g. 2551. */
  readonly code: number;
  /** The message; a chain of explanations continues on indented lines. */
  readonly message: string;
}

export interface TypeCheckResult {
  /** No errors. */
  readonly ok: boolean;
  readonly diagnostics: readonly TypeDiagnostic[];
  /** The tsconfig.json used (undefined: none was found, strict defaults). */
  readonly tsconfig: string | undefined;
  /** `project`: the whole tsconfig project (it includes the definitions file); `file`: the definitions file alone. */
  readonly scope: "project" | "file";
  /** Why the scope is the file alone, for the user. */
  readonly note?: string | undefined;
  readonly typescript: TypeScriptInstall;
  readonly seconds: number;
}

export interface TypeCheckOptions extends ResolveTypeScriptOptions {
  readonly signal?: AbortSignal;
  /** tsc is killed after this long (default 120 s). */
  readonly timeoutMs?: number;
  /**
   * Keep tsc's incremental state (a .tsbuildinfo in the project's node_modules/.cache/baton, else
   * the temp folder), so a check of unchanged code reuses the last one's results (default true).
   */
  readonly incremental?: boolean;
}

/** The nearest tsconfig.json from `dir` upwards. */
export function findTsconfig(dir: string): string | undefined {
  for (let current = path.resolve(dir); ; ) {
    const candidate = path.join(current, "tsconfig.json");
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

const DIAGNOSTIC = /^(.+)\((\d+),(\d+)\): (error|warning|message) TS(\d+): (.*)$/;
const GLOBAL_DIAGNOSTIC = /^(error|warning|message) TS(\d+): (.*)$/;

/**
 * Parse `tsc --pretty false [--listFiles]` output: diagnostics (paths relative to `cwd`, the
 * folder tsc ran in, made absolute) and the files in the program.
 */
export function parseTscOutput(
  text: string,
  cwd: string,
): { diagnostics: TypeDiagnostic[]; files: string[] } {
  const diagnostics: TypeDiagnostic[] = [];
  const files: string[] = [];
  let last: { -readonly [K in keyof TypeDiagnostic]: TypeDiagnostic[K] } | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const d = DIAGNOSTIC.exec(line);
    if (d) {
      last = {
        file: path.resolve(cwd, d[1]!),
        line: Number(d[2]),
        column: Number(d[3]),
        category: d[4] as TypeDiagnostic["category"],
        code: Number(d[5]),
        message: d[6]!,
      };
      diagnostics.push(last);
      continue;
    }
    const g = GLOBAL_DIAGNOSTIC.exec(line);
    if (g) {
      last = { category: g[1] as TypeDiagnostic["category"], code: Number(g[2]), message: g[3]! };
      diagnostics.push(last);
      continue;
    }
    if (/^\s/.test(line) && last) {
      last.message += `\n${line}`;
      continue;
    }
    if (path.isAbsolute(line)) {
      files.push(path.resolve(line));
      last = undefined;
    }
  }
  return { diagnostics, files };
}

/** `definitions.ts:20:43 - error TS2551: Property 'fares' does not exist …` (file relative to `cwd`). */
export function formatDiagnostic(d: TypeDiagnostic, cwd: string): string {
  const where = d.file
    ? `${path.relative(cwd, d.file) || d.file}${d.line !== undefined ? `:${d.line}:${d.column ?? 1}` : ""} - `
    : "";
  return `${where}${d.category} TS${d.code}: ${d.message}`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** `2 type errors in 1 file` (errors without a file, e.g. in compiler options, count no file). */
export function typeErrorSummary(result: Pick<TypeCheckResult, "diagnostics">): string {
  const errors = result.diagnostics.filter((d) => d.category === "error");
  const files = new Set(errors.flatMap((d) => (d.file ? [d.file] : [])));
  return files.size > 0
    ? `${plural(errors.length, "type error")} in ${plural(files.size, "file")}`
    : plural(errors.length, "type error");
}

interface TscRun {
  readonly exitCode: number | null;
  readonly output: string;
}

/** Kill tsc and whatever it started (on Node < 22.15 `bin/tsc` runs the native binary as a child). */
function killTree(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    if (process.platform !== "win32") process.kill(-child.pid, "SIGKILL");
    else child.kill("SIGKILL");
  } catch {
    child.kill("SIGKILL");
  }
}

function runTsc(
  ts: TypeScriptInstall,
  args: readonly string[],
  cwd: string,
  options: { signal?: AbortSignal | undefined; timeoutMs: number },
): Promise<TscRun> {
  return new Promise<TscRun>((resolve, reject) => {
    options.signal?.throwIfAborted();
    const child = spawn(process.execPath, [ts.tsc, ...args], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      detached: process.platform !== "win32",
      windowsHide: true,
    });
    let output = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    const finish = (fn: () => void) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      fn();
    };
    const onAbort = () => {
      killTree(child);
      finish(() => reject(options.signal!.reason));
    };
    const timer = setTimeout(() => {
      killTree(child);
      finish(() =>
        reject(
          new UsageError(
            `tsc did not finish within ${Math.round(options.timeoutMs / 1000)} s (${ts.tsc} -p …); it was stopped`,
          ),
        ),
      );
    }, options.timeoutMs);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (error) =>
      finish(() => reject(new UsageError(`could not start tsc (${ts.tsc}): ${error.message}`))),
    );
    child.on("close", (code) => finish(() => resolve({ exitCode: code, output })));
  });
}

/** Options for a file without a tsconfig.json: strict, Node ESM (as Baton loads it). */
function strictDefaults(fileDir: string): string[] {
  const args = [
    "--strict",
    "--target",
    "es2022",
    "--module",
    "nodenext",
    "--moduleResolution",
    "nodenext",
    "--skipLibCheck",
  ];
  // TypeScript >= 6 includes no @types by default: Node's types when the project has them.
  try {
    const found = findUp(fileDir, path.join("node_modules", "@types", "node", "package.json"));
    if (found) args.push("--types", "node");
  } catch {}
  return args;
}

function findUp(dir: string, relative: string): string | undefined {
  for (let current = path.resolve(dir); ; ) {
    if (existsSync(path.join(current, relative))) return path.join(current, relative);
    const parent = path.dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/**
 * A tsconfig extending `base` that holds only `file`, kept in the cache folder (below the
 * project's node_modules, so type roots resolve as for the project). Its path is stable, so the
 * incremental state of checking it is reused; it is rewritten only when its content changes.
 */
async function singleFileConfig(base: string, file: string): Promise<string> {
  const dir = path.join(await cacheDir(file), `single-${hash(`${base}\0${file}`)}`);
  await mkdir(dir, { recursive: true });
  const config = path.join(dir, "tsconfig.json");
  const content = JSON.stringify(
    {
      extends: base,
      compilerOptions: { noEmit: true, ...(isJavaScript(file) ? { allowJs: true } : {}) },
      files: [file],
      include: [],
    },
    null,
    2,
  );
  const existing = await readFile(config, "utf8").catch(() => undefined);
  if (existing !== content) {
    // Written aside and renamed: a concurrent check never reads a half-written file.
    const temp = `${config}.${process.pid}.tmp`;
    await writeFile(temp, content);
    await rename(temp, config);
  }
  return config;
}

/** A JavaScript definitions file is type-checked only as far as tsc does with allowJs (no checkJs). */
const isJavaScript = (file: string) => /\.[cm]?jsx?$/.test(file);

const hash = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 16);

/** node_modules/.cache/baton of the project (else a temp folder): Baton's type-check state. */
async function cacheDir(file: string): Promise<string> {
  const modules = findUp(path.dirname(file), "node_modules");
  const dir = modules ? path.join(modules, ".cache", "baton") : path.join(os.tmpdir(), "baton-typecheck");
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * The root files of a tsconfig project (`tsc --showConfig`), absolute; undefined when that does
 * not answer (then the project's own check tells whether it includes the definitions file).
 */
async function rootFiles(
  ts: TypeScriptInstall,
  tsconfig: string,
  cwd: string,
  run: { signal?: AbortSignal | undefined; timeoutMs: number },
): Promise<string[] | undefined> {
  try {
    const { exitCode, output } = await runTsc(ts, ["--showConfig", "-p", tsconfig], cwd, run);
    if (exitCode !== 0) return undefined;
    const files = (JSON.parse(output) as { files?: unknown }).files;
    if (!Array.isArray(files)) return undefined;
    return files.filter((f): f is string => typeof f === "string").map((f) => path.resolve(cwd, f));
  } catch {
    run.signal?.throwIfAborted();
    return undefined;
  }
}

/** Where the incremental state of checking `key` (a tsconfig, or a file alone) is kept. */
async function buildInfoFile(key: string, file: string): Promise<string> {
  const dir = await cacheDir(file);
  const target = path.join(dir, `${hash(key)}.tsbuildinfo`);
  if (!existsSync(target)) await pruneCache(dir).catch(() => undefined);
  return target;
}

/** Entries kept in the cache folder (each project or file checked adds one or two). */
const CACHE_ENTRIES = 200;

/** Remove the least recently written entries beyond CACHE_ENTRIES (e.g. of deleted temp projects). */
async function pruneCache(dir: string) {
  const names = await readdir(dir);
  if (names.length <= CACHE_ENTRIES) return;
  const entries = await Promise.all(
    names.map(async (name) => ({
      name,
      mtime: (await stat(path.join(dir, name)).catch(() => undefined))?.mtimeMs ?? 0,
    })),
  );
  entries.sort((a, b) => a.mtime - b.mtime);
  for (const e of entries.slice(0, entries.length - CACHE_ENTRIES))
    await rm(path.join(dir, e.name), { recursive: true, force: true });
}

function realpath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

/**
 * Type-check the project of `definitionsFile`: with the nearest tsconfig.json from its folder
 * upwards (the whole project; when that project does not include the file, the file alone with
 * its options), or the file alone with strict defaults when there is none. Rejects when tsc
 * cannot run or gives no diagnostics for a failure; aborts (killing tsc) on `signal`.
 */
export async function typeCheck(
  definitionsFile: string,
  options: TypeCheckOptions = {},
): Promise<TypeCheckResult> {
  const started = performance.now();
  const file = path.resolve(definitionsFile);
  const fileDir = path.dirname(file);
  const tsconfig = findTsconfig(fileDir);
  const ts = resolveTypeScript(fileDir, options);
  const run = { signal: options.signal, timeoutMs: options.timeoutMs ?? 120_000 };
  const common = ["--noEmit", "--pretty", "false", "--listFiles"];

  const check = async (args: string[], cwd: string, key: string, signal = run.signal) => {
    const incremental =
      options.incremental === false
        ? []
        : ["--incremental", "--tsBuildInfoFile", await buildInfoFile(key, file)];
    const { exitCode, output } = await runTsc(ts, [...common, ...incremental, ...args], cwd, {
      ...run,
      signal,
    });
    const parsed = parseTscOutput(output, cwd);
    if (exitCode !== 0 && !parsed.diagnostics.some((d) => d.category === "error")) {
      const text = output
        .split("\n")
        .filter((l) => l.trim() && !path.isAbsolute(l))
        .join("\n")
        .slice(0, 2000);
      throw new UsageError(
        `tsc ${ts.version} (${ts.tsc}) exited with code ${exitCode} without reporting an error${text ? `:\n${text}` : ""}`,
      );
    }
    return parsed;
  };
  const done = (
    diagnostics: TypeDiagnostic[],
    scope: TypeCheckResult["scope"],
    note?: string,
  ): TypeCheckResult => ({
    ok: !diagnostics.some((d) => d.category === "error"),
    diagnostics,
    tsconfig,
    scope,
    ...(note ? { note } : {}),
    typescript: ts,
    seconds: (performance.now() - started) / 1000,
  });

  if (!tsconfig) {
    const js = isJavaScript(file) ? ["--allowJs"] : [];
    const { diagnostics } = await check([...strictDefaults(fileDir), ...js, file], fileDir, file);
    return done(
      diagnostics,
      "file",
      `no tsconfig.json in ${fileDir} or above: type-checked ${path.basename(file)} alone with strict defaults (add a tsconfig.json to use your own options)`,
    );
  }
  const projectDir = path.dirname(tsconfig);
  const wanted = realpath(file);
  const isDefinitions = (f: string) => f === file || f === wanted;
  // The project's root files (`--showConfig`, a tenth of a second) while the project is checked:
  // a project that does not include the definitions file (e.g. a repository's root tsconfig) is
  // not checked whole for nothing.
  const projectRun = new AbortController();
  const projectChecked = check(
    ["-p", tsconfig],
    projectDir,
    tsconfig,
    run.signal ? AbortSignal.any([run.signal, projectRun.signal]) : projectRun.signal,
  );
  projectChecked.catch(() => undefined);
  const roots = await rootFiles(ts, tsconfig, projectDir, run);
  if (roots === undefined || roots.some(isDefinitions)) {
    const project = await projectChecked;
    if (project.files.some(isDefinitions)) return done(project.diagnostics, "project");
  } else projectRun.abort(new Error("the project does not include the definitions file"));
  // The project does not include the definitions file (e.g. a root tsconfig that excludes it):
  // check the file with the project's options rather than call it ok unchecked.
  const single = await singleFileConfig(tsconfig, file);
  const alone = await check(["-p", single], projectDir, single);
  return done(
    alone.diagnostics,
    "file",
    `${tsconfig} does not include ${path.basename(file)}: type-checked it alone with that tsconfig's options`,
  );
}
