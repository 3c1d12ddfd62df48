import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import type { CliContext } from "../cli-context.js";

/**
 * The TypeScript and Node types a new project gets: the versions this repository builds with
 * (tests/init.test.ts fails when they drift from the root package.json).
 */
export const INIT_DEV_DEPENDENCIES = { typescript: "^7.0.2", "@types/node": "^20.19.0" } as const;

/** Files copied from templates/project/ (source name → name in the new project). */
const TEMPLATE_FILES = [
  ["definitions.ts", "definitions.ts"],
  ["tsconfig.json", "tsconfig.json"],
  // npm drops files named .gitignore from published packages.
  ["gitignore", ".gitignore"],
  ["README.md", "README.md"],
] as const;

/** This package's folder (realpath: a `file:` dependency is a symlink to the checkout). */
function packageRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url)); // <root>/{dist,src}/cli/commands
  return realpathSync(path.resolve(here, "../../.."));
}

interface CorePackage {
  readonly name: string;
  readonly version: string;
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

export interface BatonSpec {
  /** The dependency spec for `@baton/core` in the new package.json. */
  readonly spec: string;
  /** Why: for the printed summary. */
  readonly source: "checkout" | "registry" | "flag";
}

/**
 * `file:<this checkout>` when the running @baton/core is a source checkout (its real path is not
 * inside a node_modules folder), else the registry name at `^<version>`; `--baton-spec` wins.
 */
export function resolveBatonSpec(root: string, version: string, override: string | undefined): BatonSpec {
  if (override !== undefined) {
    if (override.trim() === "")
      throw new UsageError("--baton-spec needs a value (e.g. ^0.1.0 or file:../baton)");
    return { spec: override, source: "flag" };
  }
  if (root.split(path.sep).includes("node_modules")) return { spec: `^${version}`, source: "registry" };
  return { spec: `file:${root}`, source: "checkout" };
}

/**
 * The `@baton/webserver` dependency (the web UI `baton dev` opens; core finds it through the
 * project's dependencies), chosen as `@baton/core`'s: from a checkout `file:` its sibling
 * `packages/webserver`, from an installed copy the registry name at `^<version>` (they are released
 * together). With `--baton-spec`: a version range is reused, a `file:` path to a folder named `core`
 * gets its sibling `webserver`, anything else the registry name at `^<version>`.
 */
export function resolveWebserverSpec(root: string, version: string, baton: BatonSpec): string {
  const registry = `^${version}`;
  const sibling = (core: string) => {
    const dir = path.join(path.dirname(core), "webserver");
    return path.basename(core) === "core" ? dir : undefined;
  };
  if (baton.source === "registry") return registry;
  if (baton.source === "checkout") {
    const dir = sibling(root);
    return dir && existsSync(path.join(dir, "package.json")) ? `file:${dir}` : registry;
  }
  const spec = baton.spec.trim();
  if (/^[\^~<>=\d*]/.test(spec)) return spec;
  if (spec.startsWith("file:")) {
    const dir = sibling(spec.slice("file:".length).replace(/[\\/]+$/, ""));
    if (dir !== undefined) return `file:${dir}`;
  }
  return registry;
}

/** A valid npm package name from a folder name (lowercase, URL-safe characters, ≤ 214). */
export function packageNameFor(folder: string): string {
  const name = folder
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, "-")
    .replace(/^[._-]+/, "")
    .replace(/-+$/, "")
    .slice(0, 214);
  return name || "baton-project";
}

function packageJson(name: string, batonSpec: string, webserverSpec: string, zodSpec: string): string {
  const pkg = {
    name,
    version: "0.1.0",
    private: true,
    type: "module",
    scripts: {
      materialize: 'baton materialize --select "*"',
      dev: "baton dev",
      check: "baton check",
      typecheck: "tsc --noEmit",
    },
    dependencies: { "@baton/core": batonSpec, "@baton/webserver": webserverSpec, zod: zodSpec },
    devDependencies: { ...INIT_DEV_DEPENDENCIES },
    engines: { node: ">=20.19" },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  switch (e.code) {
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ENOTDIR":
      return "a part of the path is a file, not a folder";
    case "EROFS":
      return "the file system is read-only";
    case "ENOSPC":
      return "no space left on the device";
    default:
      return e.message ?? String(error);
  }
}

export interface InitResult {
  readonly dir: string;
  readonly files: readonly string[];
  readonly baton: BatonSpec;
}

/** Write a new project into `dir`: nothing at all when any of its files already exists. */
export function initProject(dir: string, options: { batonSpec?: string; name?: string } = {}): InitResult {
  const root = packageRoot();
  const core = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as CorePackage;
  const baton = resolveBatonSpec(root, core.version, options.batonSpec);
  const zodSpec = core.peerDependencies?.zod ?? core.dependencies?.zod ?? "^4";

  let stat: ReturnType<typeof statSync> | undefined;
  try {
    stat = statSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT")
      throw new UsageError(`baton init: cannot use ${dir}: ${describe(error)}`);
  }
  if (stat && !stat.isDirectory())
    throw new UsageError(`baton init: ${dir} is a file, not a folder; give a new or existing folder`);

  const name = options.name ?? packageNameFor(path.basename(dir));
  if (!/^(?:@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*$/.test(name) || name.length > 214)
    throw new UsageError(
      `--name: "${name}" is not a valid npm package name (lowercase letters, digits, - . _ ~; optionally @scope/)`,
    );
  const files = new Map<string, string>();
  const webserverSpec = resolveWebserverSpec(root, core.version, baton);
  files.set("package.json", packageJson(name, baton.spec, webserverSpec, zodSpec));
  for (const [from, to] of TEMPLATE_FILES) {
    const text = readFileSync(path.join(root, "templates", "project", from), "utf8");
    files.set(to, text.replaceAll("{{name}}", name));
  }

  // lstat: a symbolic link counts even when it points nowhere (writing would follow it).
  const conflicts = [...files.keys()].filter((f) => lstatSync(path.join(dir, f), { throwIfNoEntry: false }));
  if (conflicts.length > 0)
    throw new UsageError(
      `baton init: nothing written: ${conflicts.length === 1 ? "this file already exists" : "these files already exist"} in ${dir}:\n${conflicts.map((f) => `  ${f}`).join("\n")}\nMove ${conflicts.length === 1 ? "it" : "them"} away or choose another folder.`,
    );

  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new UsageError(`baton init: cannot create the folder ${dir}: ${describe(error)}`);
  }
  const written: string[] = [];
  try {
    for (const [file, text] of files) {
      // "wx": never overwrite, even a file that appeared since the check above.
      writeFileSync(path.join(dir, file), text, { flag: "wx" });
      written.push(file);
    }
  } catch (error) {
    for (const file of written) rmSync(path.join(dir, file), { force: true });
    const file = [...files.keys()][written.length] ?? "";
    throw new UsageError(
      `baton init: cannot write ${path.join(dir, file)}: ${describe(error)} (nothing was left behind)`,
    );
  }
  return { dir, files: [...files.keys()], baton };
}

export function registerInitCommand(program: Command, ctx: CliContext) {
  program
    .command("init")
    .description("write a new Baton project (package.json, tsconfig.json, definitions.ts …) into DIR")
    .argument("[dir]", "the project folder, created if missing", ".")
    .option(
      "--baton-spec <spec>",
      "the @baton/core dependency to write (default: file:<this checkout> from a source checkout, else ^<version>)",
    )
    .option("--name <name>", "the package name (default: from the folder's name)")
    .action((dirArg: string, opts: { batonSpec?: string; name?: string }) => {
      const dir = path.resolve(ctx.cwd, dirArg);
      const result = initProject(dir, opts);
      const relative = path.relative(ctx.cwd, dir);
      const shown = relative === "" ? "." : relative.startsWith("..") ? dir : relative;
      const why = {
        checkout: "this Baton source checkout",
        registry: "the npm registry",
        flag: "--baton-spec",
      }[result.baton.source];
      ctx.print(`Wrote a Baton project to ${dir}:`);
      for (const f of result.files) ctx.print(`  ${f}`);
      ctx.print(`@baton/core: "${result.baton.spec}" (from ${why})`);
      ctx.print("");
      ctx.print("Next:");
      if (shown !== ".")
        ctx.print(`  cd ${/^[\w@%+=:,./-]+$/.test(shown) ? shown : `'${shown.replaceAll("'", `'\\''`)}'`}`);
      ctx.print("  npm install");
      ctx.print("  npx baton materialize --select '*'   # run both assets and the check");
      ctx.print("  npx baton dev                        # the UI, the daemon and the schedule");
      ctx.print("  npx baton check                      # type-check and validate the definitions");
    });
}
