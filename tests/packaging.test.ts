/**
 * Core packaging (issue 13 §5), with the BUILT packages and real child processes:
 * - `import { asset } from "@baton/core"` loads no database driver, no CLI library, no Kysely and
 *   no webserver (an ESM resolve hook records every module the child resolves, and the CommonJS
 *   cache is read too); `openInstance` then still works, loading the SQLite driver on demand.
 * - core's dist never imports `@baton/webserver`; `baton webserver` finds a webserver through the
 *   registration (`"baton": { "webserver": … }` in an installed package's package.json), and says
 *   clearly when none is installed.
 * - every name the README documents as `@baton/core` API is exported by the root entry.
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { resolveWebserverSpec } from "../packages/core/src/cli/commands/init.js";
import { findWebserver, WEBSERVER_NOT_INSTALLED } from "../packages/core/src/cli/webserver-module.js";
import { cliHarness, describeResult, expectUsageError, ROOT } from "./support/cli.js";

const CORE_DIST = path.join(ROOT, "packages/core/dist");
const { startCli, baton } = cliHarness({ defaultCwd: ROOT, tempPrefix: "baton-packaging-" });

/** Packages a definitions import must not load (a URL segment each). */
const HEAVY = [
  "better-sqlite3",
  "pg",
  "@duckdb/node-api",
  "kysely",
  "commander",
  "chokidar",
  "cli-progress",
  "tsx",
  "@kubernetes/client-node",
  "@baton/webserver",
];

/** The heavy packages a list of module URLs / paths contains. */
function heavyIn(urls: readonly string[]): string[] {
  return HEAVY.filter((name) =>
    urls.some(
      (u) =>
        u.includes(`/node_modules/${name}/`) ||
        (name === "@baton/webserver" && u.includes("/packages/webserver/")),
    ),
  );
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "baton-packaging-"));
  // A child started with --import <tmp>/import/register.mjs appends every URL it resolves
  // (import, import(), ESM→CJS) to $PACK_LOG; the hook runs in the loader thread.
  const dir = path.join(tmp, "import");
  await mkdir(dir);
  await writeFile(
    path.join(dir, "hooks.mjs"),
    `import { appendFileSync } from "node:fs";
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(log, result.url + "\\n");
  return result;
}
`,
  );
  await writeFile(
    path.join(dir, "register.mjs"),
    `import { register } from "node:module";
register(new URL("./hooks.mjs", import.meta.url), { data: { log: process.env.PACK_LOG } });
`,
  );
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

interface NodeResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function node(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<NodeResult> {
  const child = spawn(process.execPath, [...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => {
    stdout += c;
  });
  child.stderr.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`node ${args.join(" ")} did not exit within 30 s\n${stdout}\n${stderr}`));
    }, 30_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("importing the definitions API", () => {
  test("loads no driver, CLI library, Kysely or webserver; openInstance then loads SQLite lazily and runs", async () => {
    const dir = path.join(tmp, "import");
    const log = path.join(dir, "resolved.log");
    // From the repository root, as a project's definitions.ts resolves @baton/core.
    const script = `
import { readFileSync } from "node:fs";
import Module from "node:module";
const loaded = () => [
  ...readFileSync(${JSON.stringify(log)}, "utf8").split("\\n").filter(Boolean),
  ...Object.keys(Module._cache),
];
const core = await import("@baton/core");
const trips = core.asset({ key: "trips" }, () => [1, 2, 3]);
const total = core.asset({ key: "total", ins: { trips } }, (ctx, { trips }) => trips.reduce((a, b) => a + b, 0));
const defs = core.defineDefinitions({ assets: [trips, total] });
const afterImport = loaded();
const instance = await core.openInstance({ home: process.argv[1], env: {} });
const summary = await instance.materialize(defs, { selection: "*" });
const value = JSON.parse(readFileSync(process.argv[1] + "/storage/total.json", "utf8"));
await instance.close();
console.log(JSON.stringify({ afterImport, afterOpen: loaded(), status: summary.status, value }));
`;
    const r = await node(
      [
        "--import",
        path.join(dir, "register.mjs"),
        "--input-type=module",
        "-e",
        script,
        path.join(dir, "home"),
      ],
      ROOT,
      { PACK_LOG: log },
    );
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as {
      afterImport: string[];
      afterOpen: string[];
      status: string;
      value: unknown;
    };
    // The hook saw the package itself (the record is real), and nothing heavy.
    expect(out.afterImport.some((u) => u.includes("/packages/core/dist/index.js"))).toBe(true);
    expect(heavyIn(out.afterImport)).toEqual([]);
    // Nor core's CLI, storage or engine modules.
    expect(
      out.afterImport.filter((u) => /\/packages\/core\/dist\/(cli|storage|instance|daemon|worker)\//.test(u)),
    ).toEqual([]);
    // openInstance works, loading the store and its driver only now.
    expect(out.status).toBe("SUCCESS");
    expect(out.value).toBe(6);
    expect(heavyIn(out.afterOpen)).toEqual(expect.arrayContaining(["better-sqlite3", "kysely"]));
    expect(heavyIn(out.afterOpen)).not.toContain("pg");
    expect(heavyIn(out.afterOpen)).not.toContain("@baton/webserver");
  }, 60_000);
});

test("@baton/core/internal (what the webserver imports) loads no driver, CLI library or Kubernetes client", async () => {
  const log = path.join(tmp, "import", "internal.log");
  const r = await node(
    [
      "--import",
      path.join(tmp, "import", "register.mjs"),
      "--input-type=module",
      "-e",
      `import { readFileSync } from "node:fs";
import Module from "node:module";
await import("@baton/core/internal");
console.log(JSON.stringify([...readFileSync(process.env.PACK_LOG, "utf8").split("\\n").filter(Boolean), ...Object.keys(Module._cache)]));`,
    ],
    ROOT,
    { PACK_LOG: log },
  );
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  const loaded = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as string[];
  expect(loaded.some((u) => u.includes("/packages/core/dist/internal.js"))).toBe(true);
  expect(heavyIn(loaded)).toEqual(["kysely"]);
  expect(loaded.filter((u) => /\/packages\/core\/dist\/(cli|launcher\/kubernetes)\//.test(u))).toEqual([]);
});

describe("the webserver is found, not imported", () => {
  test("core's built dist contains no import of @baton/webserver", async () => {
    // The package's name as a string literal: how code imports it, directly or through a variable
    // (`const name = "@baton/webserver"; await import(name)`, as core did); messages may name it,
    // and `baton init` writes it as a key of the new project's dependencies.
    const importOf = /["']@baton\/webserver(?:\/[^"'\s]*)?["'](?!\s*:)/;
    expect(importOf.test('const m = await import("@baton/webserver");')).toBe(true); // the check can fail
    expect(importOf.test('const name = "@baton/webserver";\nawait import(name);')).toBe(true);
    expect(importOf.test("import { createApp } from '@baton/webserver/api-types';")).toBe(true);
    expect(importOf.test('dependencies: { "@baton/webserver": spec }')).toBe(false);
    expect(importOf.test('"The web UI is not installed: npm install @baton/webserver (or …)"')).toBe(false);
    const offenders: string[] = [];
    let files = 0;
    const walk = async (dir: string) => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(file);
        else if (/\.[cm]?js$/.test(entry.name)) {
          files++;
          if (importOf.test(await readFile(file, "utf8"))) offenders.push(path.relative(ROOT, file));
        }
      }
    };
    await walk(CORE_DIST);
    expect(files).toBeGreaterThan(50);
    expect(offenders).toEqual([]);
    const pkg = JSON.parse(await readFile(path.join(ROOT, "packages/core/package.json"), "utf8"));
    expect(Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })).not.toContain("@baton/webserver");
  });

  test("in the repository: the workspace's webserver package, found through the root package.json", () => {
    const found = findWebserver({ cwd: path.join(ROOT, "tests/fixtures/basic") });
    expect(found).toEqual({
      name: "@baton/webserver",
      dir: path.join(ROOT, "packages/webserver"),
      entry: path.join(ROOT, "packages/webserver/dist/index.js"),
      via: `${path.join(ROOT, "package.json")} (workspaces)`,
    });
  });

  test("outside any project (no package.json above cwd): the webserver installed with this Baton", async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), "baton-no-project-"));
    try {
      // The temp folder has no package.json above it: core's own installation (this checkout) decides.
      expect(findWebserver({ cwd: outside })?.dir).toBe(path.join(ROOT, "packages/webserver"));
      // An installation that lists no webserver: none.
      expect(findWebserver({ cwd: outside, installation: outside })).toBeUndefined();
      // Inside a project, its own package.json decides (the installation is not looked at).
      await writeFile(path.join(outside, "package.json"), JSON.stringify({ name: "p", dependencies: {} }));
      expect(findWebserver({ cwd: outside })).toBeUndefined();
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  test("a project listing no webserver: baton webserver says how to install one (NODE_PATH does not count)", async () => {
    const project = path.join(tmp, "bare");
    await mkdir(project);
    await writeFile(
      path.join(project, "package.json"),
      JSON.stringify({ name: "bare", type: "module", dependencies: { left: "1" } }),
    );
    // An installed dependency that is not a webserver is looked at and skipped.
    await mkdir(path.join(project, "node_modules/left"), { recursive: true });
    await writeFile(path.join(project, "node_modules/left/package.json"), JSON.stringify({ name: "left" }));
    expect(findWebserver({ cwd: project })).toBeUndefined();
    const home = path.join(project, ".baton");
    const r = await baton(["webserver", "--port", "0"], {
      home,
      cwd: project,
      env: { NODE_PATH: path.join(ROOT, "node_modules") },
    });
    expectUsageError(r);
    expect(r.stderr).toBe(`error: ${WEBSERVER_NOT_INSTALLED}\n`);
    expect(WEBSERVER_NOT_INSTALLED).toBe(
      "The web UI is not installed: npm install @baton/webserver (or run baton dev --no-webserver)",
    );
    // It failed before opening anything.
    expect(await readdir(project)).not.toContain(".baton");
  }, 40_000);

  test("any installed package declaring itself serves: baton webserver starts it", async () => {
    const project = path.join(tmp, "custom");
    const pkgDir = path.join(project, "node_modules/@acme/ui-server");
    await mkdir(pkgDir, { recursive: true });
    await writeFile(
      path.join(project, "package.json"),
      JSON.stringify({ name: "custom", type: "module", devDependencies: { "@acme/ui-server": "1.0.0" } }),
    );
    await writeFile(
      path.join(pkgDir, "package.json"),
      JSON.stringify({ name: "@acme/ui-server", type: "module", baton: { webserver: "./server.js" } }),
    );
    await writeFile(
      path.join(pkgDir, "server.js"),
      `export const authFromEnv = () => ({ tokens: [] });
export async function startWebserver({ instance, port }) {
  process.stdout.write("acme started on " + instance.home + "\\n");
  const alive = setInterval(() => {}, 1000); // a server's open socket keeps the process up
  const close = async () => {
    clearInterval(alive);
    process.stdout.write("acme closed\\n");
  };
  return { url: "http://acme.invalid:" + port, port, close };
}
`,
    );
    expect(findWebserver({ cwd: project })).toMatchObject({
      name: "@acme/ui-server",
      entry: path.join(pkgDir, "server.js"),
      via: path.join(project, "package.json"),
    });
    const home = path.join(project, "home");
    const cli = startCli(["webserver", "--port", "4321"], { home, cwd: project });
    await cli.stderrContains("baton webserver:");
    // The command installs its signal handler just after printing its URL.
    await new Promise((resolve) => setTimeout(resolve, 500));
    cli.child.kill("SIGTERM");
    const r = await cli.result;
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stderr).toContain(
      "baton webserver: http://acme.invalid:4321 (no auth: loopback only; Ctrl-C to stop)",
    );
    expect(r.stdout).toBe(`acme started on ${home}\nacme closed\n`);
  }, 40_000);

  test('baton.config.json "webserver" picks a package folder; bad values name the field and file', async () => {
    const project = path.join(tmp, "configured");
    await mkdir(path.join(project, "web"), { recursive: true });
    await writeFile(path.join(project, "package.json"), JSON.stringify({ name: "configured" }));
    await writeFile(
      path.join(project, "web/package.json"),
      JSON.stringify({ name: "my-web", baton: { webserver: "main.js" } }),
    );
    const config = path.join(project, "baton.config.json");
    await writeFile(config, JSON.stringify({ defs: "definitions.ts", webserver: "./web" }));
    expect(findWebserver({ cwd: project })).toEqual({
      name: "my-web",
      dir: path.join(project, "web"),
      entry: path.join(project, "web/main.js"),
      via: config,
    });
    await writeFile(config, JSON.stringify({ webserver: 3 }));
    expect(() => findWebserver({ cwd: project })).toThrow(
      `${config}: "webserver" must be a package name or a path to a package folder`,
    );
    await writeFile(config, JSON.stringify({ webserver: "not-installed" }));
    expect(() => findWebserver({ cwd: project })).toThrow(
      `${config}: "webserver": "not-installed" is not installed (no node_modules/not-installed from ${project})`,
    );
    await writeFile(path.join(project, "web/package.json"), JSON.stringify({ name: "my-web" }));
    await writeFile(config, JSON.stringify({ webserver: "./web" }));
    expect(() => findWebserver({ cwd: project })).toThrow(
      /"webserver": "\.\/web" does not declare a webserver/,
    );
  });

  test("the definitions' folder is looked at before cwd", async () => {
    const project = path.join(tmp, "defs-first");
    const pkgDir = path.join(project, "node_modules/web-a");
    await mkdir(pkgDir, { recursive: true });
    await writeFile(path.join(project, "package.json"), JSON.stringify({ dependencies: { "web-a": "1" } }));
    await writeFile(
      path.join(pkgDir, "package.json"),
      JSON.stringify({ name: "web-a", baton: { webserver: "x.js" } }),
    );
    const elsewhere = path.join(tmp, "elsewhere");
    await mkdir(elsewhere);
    // (`installation`: not this checkout's Baton, which a folder outside any project falls back to.)
    expect(findWebserver({ cwd: elsewhere, installation: elsewhere })).toBeUndefined();
    expect(
      findWebserver({
        cwd: elsewhere,
        installation: elsewhere,
        definitionsFile: path.join(project, "definitions.ts"),
      })?.name,
    ).toBe("web-a");
  });

  test("baton init's @baton/webserver spec follows @baton/core's", () => {
    const checkout = path.join(ROOT, "packages/core");
    expect(resolveWebserverSpec(checkout, "0.1.0", { spec: `file:${checkout}`, source: "checkout" })).toBe(
      `file:${path.join(ROOT, "packages/webserver")}`,
    );
    expect(
      resolveWebserverSpec("/app/node_modules/@baton/core", "0.3.1", { spec: "^0.3.1", source: "registry" }),
    ).toBe("^0.3.1");
    const flag = (spec: string) => resolveWebserverSpec(checkout, "0.3.1", { spec, source: "flag" });
    expect(flag("~0.2.0")).toBe("~0.2.0");
    expect(flag("file:../baton/packages/core")).toBe("file:../baton/packages/webserver");
    expect(flag("file:../baton")).toBe("^0.3.1");
    expect(flag("github:me/baton")).toBe("^0.3.1");
  });
});

describe("the public API", () => {
  test("every name the README documents as @baton/core API is exported by the root entry", async () => {
    const readme = await readFile(path.join(ROOT, "README.md"), "utf8");
    const root = (await import("@baton/core")) as Record<string, unknown>;
    const internal = (await import("@baton/core/internal")) as Record<string, unknown>;
    const duckdb = (await import("@baton/core/duckdb")) as Record<string, unknown>;
    const rootTypes = await readFile(path.join(CORE_DIST, "index.d.ts"), "utf8");

    // 1. Names imported from an entry in the README's code.
    const imported = (entry: string) =>
      [...readme.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g)]
        .filter((m) => m[2] === entry)
        .flatMap((m) => m[1]!.split(",").map((n) => n.replace(/^\s*type\s+/, "").trim()))
        .filter(Boolean);
    const fromRoot = imported("@baton/core");
    expect(fromRoot).toEqual(expect.arrayContaining(["asset", "defineDefinitions", "schedule", "runPipes"]));
    expect(fromRoot.filter((n) => !(n in root))).toEqual([]);
    expect(imported("@baton/core/duckdb").filter((n) => !(n in duckdb))).toEqual([]);

    // 2. Functions the README shows called (`name(…)`) that core has: public, not internal-only.
    const called = [...new Set([...readme.matchAll(/`([a-z][A-Za-z]+)\(/g)].map((m) => m[1]!))];
    const documented = called.filter((n) => n in internal || n in root);
    expect(documented).toEqual(expect.arrayContaining(["asset", "multiAsset", "assetCheck", "pipesCheck"]));
    expect(documented.filter((n) => !(n in root))).toEqual([]);

    // 3. Interfaces the README augments (`declare module "@baton/core" { interface X …`).
    const augmented = [...readme.matchAll(/declare module "@baton\/core" \{ interface (\w+)/g)].map(
      (m) => m[1]!,
    );
    expect(augmented).toContain("ResourceTypes");
    for (const name of augmented) expect(rootTypes).toMatch(new RegExp(`\\b${name}\\b`));

    // The internal entry is a superset: the webserver needs one import line.
    expect(Object.keys(root).filter((n) => !(n in internal))).toEqual([]);
    expect(root.asset).toBe(internal.asset);
  });
});
