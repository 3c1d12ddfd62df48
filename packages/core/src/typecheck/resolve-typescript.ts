import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../errors.js";

/** The `tsc` Baton runs: which package, its version and where it was found. */
export interface TypeScriptInstall {
  /** The typescript package folder. */
  readonly dir: string;
  /** The node script `tsc` (run with `node`, as npm's bin shim does). */
  readonly tsc: string;
  readonly version: string;
  /** `project`: the user's own; `baton`: the one installed next to @baton/core; `env`: $BATON_TYPESCRIPT. */
  readonly from: "project" | "baton" | "env";
}

/** Read a typescript package folder's version and `tsc` bin; undefined when it is not one. */
function installAt(dir: string, from: TypeScriptInstall["from"]): TypeScriptInstall | undefined {
  let pkg: { name?: unknown; version?: unknown; bin?: unknown };
  try {
    pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
  } catch {
    return undefined;
  }
  const bin = typeof pkg.bin === "string" ? pkg.bin : (pkg.bin as Record<string, unknown> | undefined)?.tsc;
  if (pkg.name !== "typescript" || typeof bin !== "string") return undefined;
  const tsc = path.resolve(dir, bin);
  if (!existsSync(tsc)) return undefined;
  return { dir, tsc, version: String(pkg.version), from };
}

/** The typescript package folder `require` finds from `fromDir` (walking up node_modules). */
function packageDirFrom(fromDir: string): string | undefined {
  try {
    const req = createRequire(path.join(fromDir, "__baton_resolve__.js"));
    return path.dirname(req.resolve("typescript/package.json"));
  } catch {
    return undefined;
  }
}

export interface ResolveTypeScriptOptions {
  /**
   * Folders tried after the project's, in order (default: where @baton/core is installed, so a
   * project without its own TypeScript is checked with the one Baton was installed with).
   */
  readonly fallbackDirs?: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Where this module is installed (dist/typecheck/ or src/typecheck/ inside @baton/core). */
const BATON_DIR = path.dirname(fileURLToPath(import.meta.url));

/**
 * The TypeScript to type-check `projectDir` with: `$BATON_TYPESCRIPT` (a typescript package
 * folder), else the project's own (resolved as `require` would from `projectDir`), else the one
 * resolvable from @baton/core's install. Throws a `UsageError` saying how to install it.
 */
export function resolveTypeScript(
  projectDir: string,
  options: ResolveTypeScriptOptions = {},
): TypeScriptInstall {
  const env = options.env ?? process.env;
  const explicit = env.BATON_TYPESCRIPT;
  if (explicit) {
    const dir = path.resolve(projectDir, explicit);
    const found = installAt(dir, "env") ?? installAt(path.join(dir, "node_modules", "typescript"), "env");
    if (!found)
      throw new UsageError(
        `BATON_TYPESCRIPT=${explicit} is not a typescript package folder (expected ${path.join(dir, "package.json")} with name "typescript" and a tsc bin). Unset it to use the project's TypeScript.`,
      );
    return found;
  }
  const own = packageDirFrom(projectDir);
  const fromProject = own ? installAt(own, "project") : undefined;
  if (fromProject) return fromProject;
  for (const dir of options.fallbackDirs ?? [BATON_DIR]) {
    const other = packageDirFrom(dir);
    const found = other ? installAt(other, "baton") : undefined;
    if (found) return found;
  }
  throw new UsageError(
    `TypeScript is not installed for ${projectDir}: run \`npm install -D typescript\` there (Baton runs your project's tsc to type-check), or set BATON_TYPESCRIPT to a typescript package folder.`,
  );
}
