import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { UsageError } from "../errors.js";
import type { BatonInstance } from "../instance/instance.js";

/**
 * The part of a webserver package the CLI uses. Core never imports one by name (the webserver
 * depends on core, not the other way): `baton webserver` / `baton dev` find an installed package
 * that declares itself in its package.json, `"baton": { "webserver": "./dist/index.js" }`, as
 * Dagster's `dagster dev` finds the separately installed `dagster-webserver`.
 */
export interface WebserverModule {
  authFromEnv(env: Readonly<Record<string, string | undefined>>): { tokens: readonly unknown[] };
  startWebserver(options: {
    instance: BatonInstance;
    host?: string;
    port?: number;
    auth?: { tokens: readonly unknown[] };
    readOnly?: boolean;
  }): Promise<{ url: string; port: number; close(): Promise<void> }>;
}

export const WEBSERVER_NOT_INSTALLED =
  "The web UI is not installed: npm install @baton/webserver (or run baton dev --no-webserver)";

export interface FindWebserverOptions {
  /** The definitions file: its folder is the project (looked at first). */
  readonly definitionsFile?: string;
  /** The working directory (default `process.cwd()`): looked at after the definitions' folder. */
  readonly cwd?: string;
  /**
   * Where this Baton is installed (default: @baton/core's own folder). Looked at only when no
   * package.json exists above the definitions' folder or `cwd`: a service started outside any
   * project (cwd `/`, a temp folder) serves the webserver installed with its Baton.
   */
  readonly installation?: string;
}

/** @baton/core's folder (this file is dist/cli/webserver-module.js or src/cli/webserver-module.ts). */
const CORE_DIR = (() => {
  try {
    return fileURLToPath(new URL("../../", import.meta.url));
  } catch {
    return undefined;
  }
})();

/** A package that declares a webserver. */
export interface FoundWebserver {
  /** The package's name (from its package.json). */
  readonly name: string;
  /** Its folder. */
  readonly dir: string;
  /** The module to import: its folder + the declared `baton.webserver` path. */
  readonly entry: string;
  /** Why this one: "baton.config.json" or the package.json that lists it. */
  readonly via: string;
}

interface PackageJson {
  readonly name?: unknown;
  readonly dependencies?: unknown;
  readonly devDependencies?: unknown;
  readonly optionalDependencies?: unknown;
  readonly workspaces?: unknown;
  readonly baton?: unknown;
}

function readJson(file: string): PackageJson | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(file, "utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The folder and every parent folder, nearest first. */
function upwards(dir: string): string[] {
  const dirs: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    dirs.push(d);
    if (path.dirname(d) === d) return dirs;
  }
}

/** The `baton.webserver` entry a package declares, or undefined. */
function declaredEntry(dir: string): { name: string; entry: string } | undefined {
  const pkg = readJson(path.join(dir, "package.json"));
  const baton = pkg?.baton;
  if (typeof baton !== "object" || baton === null) return undefined;
  const entry = (baton as { webserver?: unknown }).webserver;
  if (typeof entry !== "string" || entry === "") return undefined;
  return {
    name: typeof pkg?.name === "string" ? pkg.name : path.basename(dir),
    entry: path.resolve(dir, entry),
  };
}

/** Where `name` is installed for code in `from` (node_modules folders upwards), or undefined. */
function installedDir(name: string, from: string): string | undefined {
  for (const d of upwards(from)) {
    const dir = path.join(d, "node_modules", name);
    if (existsSync(path.join(dir, "package.json"))) return dir;
  }
  return undefined;
}

/** The folders of a root package.json's `workspaces` ("packages/*" and plain paths). */
function workspaceDirs(root: string, workspaces: unknown): string[] {
  const patterns = Array.isArray(workspaces)
    ? workspaces
    : typeof workspaces === "object" && workspaces !== null
      ? (workspaces as { packages?: unknown }).packages
      : undefined;
  if (!Array.isArray(patterns)) return [];
  const dirs: string[] = [];
  for (const pattern of patterns) {
    if (typeof pattern !== "string") continue;
    if (pattern.endsWith("/*")) {
      const parent = path.resolve(root, pattern.slice(0, -2));
      let entries: string[] = [];
      try {
        entries = readdirSync(parent);
      } catch {}
      for (const e of entries.sort()) dirs.push(path.join(parent, e));
    } else if (!pattern.includes("*")) dirs.push(path.resolve(root, pattern));
  }
  return dirs;
}

const DEPENDENCY_FIELDS = ["dependencies", "devDependencies", "optionalDependencies"] as const;

/** `webserver` from baton.config.json in `cwd`: a package name, or a path to a package folder. */
function configured(cwd: string): FoundWebserver | undefined {
  const file = path.join(cwd, "baton.config.json");
  if (!existsSync(file)) return undefined;
  const value = readJson(file) as { webserver?: unknown } | undefined;
  if (value?.webserver === undefined) return undefined;
  const spec = value.webserver;
  if (typeof spec !== "string" || spec.trim() === "")
    throw new UsageError(`${file}: "webserver" must be a package name or a path to a package folder`);
  const dir = /^[./]/.test(spec) || path.isAbsolute(spec) ? path.resolve(cwd, spec) : installedDir(spec, cwd);
  if (dir === undefined || !existsSync(path.join(dir, "package.json")))
    throw new UsageError(
      `${file}: "webserver": "${spec}" is not installed (no ${/^[./]/.test(spec) ? path.join(path.resolve(cwd, spec), "package.json") : `node_modules/${spec}`} from ${cwd})`,
    );
  const declared = declaredEntry(dir);
  if (!declared)
    throw new UsageError(
      `${file}: "webserver": "${spec}" does not declare a webserver ("baton": { "webserver": "<entry module>" } in ${path.join(dir, "package.json")})`,
    );
  return { ...declared, dir, via: file };
}

/**
 * Find an installed webserver: the `webserver` of baton.config.json (in `cwd`), else the first
 * package declaring `"baton": { "webserver": … }` among the dependencies (and workspaces) of the
 * package.json files from the definitions' folder upwards, then from `cwd` upwards (a project's
 * own package.json first, then its workspace root). Each is looked up in node_modules from the
 * folder that lists it. Undefined when none is installed.
 */
export function findWebserver(options: FindWebserverOptions = {}): FoundWebserver | undefined {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const fromConfig = configured(cwd);
  if (fromConfig) return fromConfig;
  const starts = [
    ...(options.definitionsFile ? [path.dirname(path.resolve(cwd, options.definitionsFile))] : []),
    cwd,
  ];
  const seen = new Set<string>();
  let inAProject = false;
  const search = (start: string): FoundWebserver | undefined => {
    for (const dir of upwards(start)) {
      if (seen.has(dir)) continue;
      seen.add(dir);
      const manifest = path.join(dir, "package.json");
      const pkg = readJson(manifest);
      if (!pkg) continue;
      inAProject = true;
      for (const field of DEPENDENCY_FIELDS) {
        const deps = pkg[field];
        if (typeof deps !== "object" || deps === null) continue;
        for (const name of Object.keys(deps)) {
          const installed = installedDir(name, dir);
          const declared = installed && declaredEntry(installed);
          if (installed && declared) return { ...declared, dir: installed, via: manifest };
        }
      }
      for (const ws of workspaceDirs(dir, pkg.workspaces)) {
        const declared = declaredEntry(ws);
        if (declared) return { ...declared, dir: ws, via: `${manifest} (workspaces)` };
      }
    }
    return undefined;
  };
  for (const start of starts) {
    const found = search(start);
    if (found) return found;
  }
  // Inside a project, its package.json files decide (a project listing none gets the install
  // message); outside any, the webserver installed with this Baton.
  const installation = options.installation ?? CORE_DIR;
  if (!inAProject && installation) return search(installation);
  return undefined;
}

/**
 * Import the installed webserver (see findWebserver); a clear error when there is none, or when
 * the one found cannot be loaded (e.g. not built).
 */
export async function importWebserver(options: FindWebserverOptions = {}): Promise<WebserverModule> {
  const found = findWebserver(options);
  if (!found) throw new UsageError(WEBSERVER_NOT_INSTALLED);
  let loaded: Partial<WebserverModule>;
  try {
    loaded = (await import(pathToFileURL(found.entry).href)) as Partial<WebserverModule>;
  } catch (error) {
    throw new UsageError(
      `The web UI (${found.name}, found through ${found.via}) could not be loaded from ${found.entry}: ${(error as Error).message}${existsSync(found.entry) ? "" : " (not built? run npm run build in Baton's checkout)"}`,
    );
  }
  for (const name of ["startWebserver", "authFromEnv"] as const)
    if (typeof loaded[name] !== "function")
      throw new UsageError(
        `The web UI (${found.name}, found through ${found.via}) does not export ${name}() from ${found.entry}`,
      );
  return loaded as WebserverModule;
}
