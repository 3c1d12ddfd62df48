import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { type Definitions, isDefinitions } from "../definitions/definitions.js";
import { DefinitionsLoadError, isBatonError } from "../errors.js";

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
  const configFile = path.join(cwd, "baton.config.json");
  if (existsSync(configFile)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(configFile, "utf8"));
    } catch (error) {
      throw new DefinitionsLoadError(
        configFile,
        `baton.config.json is not valid JSON: ${(error as Error).message}`,
      );
    }
    const defs = (parsed as { defs?: unknown }).defs;
    if (typeof defs !== "string")
      throw new DefinitionsLoadError(
        configFile,
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

let tsxRegistered = false;

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
    const hint =
      /require is not defined|Cannot use import statement outside a module|exports is not defined/.test(
        message,
      )
        ? ' The file was loaded as CommonJS: add "type": "module" to the nearest package.json, or rename it to .mts.'
        : "";
    throw new DefinitionsLoadError(file, `importing it threw: ${message}.${hint}`, { cause: error });
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
