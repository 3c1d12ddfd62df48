/**
 * `baton init` end to end, as a new user runs it: init into a temp folder outside the repository,
 * `npm install` there (the `file:` dependency links this checkout; the rest comes from the npm
 * cache or registry), materialize everything, `baton check`, list the schedule; and the refusals.
 * Needs the BUILT packages (the root `npm test` builds first).
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  INIT_DEV_DEPENDENCIES,
  packageNameFor,
  resolveBatonSpec,
} from "../packages/core/src/cli/commands/init.js";
import { BIN, ROOT } from "./support/cli.js";

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const describeResult = (r: Result) =>
  `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;

/**
 * Our environment without BATON_* (the project's own `.baton/` is used), CI, and npm_* (set when
 * the suite runs under `npm test`: they would steer the child npm, e.g. to the workspace root).
 */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(BATON_|FIXTURE_|npm_|INIT_CWD$)/i.test(k) && k !== "CI" && v !== undefined) env[k] = v;
  return env;
}

/** Run a command to completion; killed (its whole process group) after `timeoutMs`. */
function run(command: string, args: readonly string[], cwd: string, timeoutMs = 30_000): Promise<Result> {
  const child = spawn(command, [...args], {
    cwd,
    env: childEnv(),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => {
    stdout += c;
  });
  child.stderr.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
  });
  return new Promise<Result>((resolve, reject) => {
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
      reject(
        new Error(`${command} ${args.join(" ")} did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`),
      );
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const baton = (args: readonly string[], cwd: string) => run(process.execPath, [BIN, ...args], cwd);
const NPX = process.platform === "win32" ? "npx.cmd" : "npx";
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const FILES = ["package.json", "definitions.ts", "tsconfig.json", ".gitignore", "README.md"];

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "baton-init-"));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("baton init → npm install → materialize → type check", () => {
  let project: string;
  let initOut: Result;

  beforeAll(async () => {
    project = path.join(tmp, "My Shop"); // a space, and a capital the package name must not keep
    initOut = await baton(["init", "My Shop"], tmp);
  });

  test("writes the project and prints the @baton/core spec it used and the next steps", async () => {
    expect(initOut.code, describeResult(initOut)).toBe(0);
    expect((await readdir(project)).sort()).toEqual([...FILES].sort());
    const core = path.join(ROOT, "packages/core");
    expect(initOut.stdout).toContain(`@baton/core: "file:${core}" (from this Baton source checkout)`);
    for (const step of [
      "cd 'My Shop'",
      "npm install",
      "npx baton materialize --select '*'",
      "npx baton dev",
      "npx baton check",
    ])
      expect(initOut.stdout).toContain(step);

    const pkg = JSON.parse(await readFile(path.join(project, "package.json"), "utf8"));
    const corePkg = JSON.parse(await readFile(path.join(core, "package.json"), "utf8"));
    const rootPkg = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8"));
    expect(pkg.name).toBe("my-shop");
    expect(pkg.type).toBe("module");
    expect(pkg.dependencies).toEqual({
      "@baton/core": `file:${core}`,
      "@baton/webserver": `file:${path.join(ROOT, "packages/webserver")}`,
      zod: corePkg.peerDependencies?.zod ?? corePkg.dependencies.zod,
    });
    // The versions this repository builds with.
    expect(pkg.devDependencies).toEqual({
      typescript: rootPkg.devDependencies.typescript,
      "@types/node": rootPkg.devDependencies["@types/node"],
    });
    expect(pkg.devDependencies).toEqual(INIT_DEV_DEPENDENCIES);
    expect(Object.keys(pkg.scripts)).toEqual(expect.arrayContaining(["materialize", "dev", "check"]));

    const tsconfig = JSON.parse(await readFile(path.join(project, "tsconfig.json"), "utf8"));
    expect(tsconfig.compilerOptions).toMatchObject({
      strict: true,
      noEmit: true,
      module: "nodenext",
      moduleResolution: "nodenext",
      noUncheckedIndexedAccess: true,
      skipLibCheck: true,
    });
    expect((await readFile(path.join(project, ".gitignore"), "utf8")).split("\n")).toEqual(
      expect.arrayContaining([".baton/", "node_modules/"]),
    );
    const readme = await readFile(path.join(project, "README.md"), "utf8");
    expect(readme).toMatch(/^# my-shop$/m);
    for (const step of ["npm install", "npx baton materialize --select '*'", "npx baton dev"])
      expect(readme).toContain(step);
  });

  test("installs, materializes both assets and the check, type-checks, and lists the schedule", async () => {
    expect(initOut.code, describeResult(initOut)).toBe(0);
    const install = await run(
      NPM,
      ["install", "--prefer-offline", "--no-audit", "--no-fund"],
      project,
      120_000,
    );
    expect(install.code, describeResult(install)).toBe(0);
    // The web UI `npx baton dev` opens: installed, and declaring itself for core to find.
    const web = JSON.parse(
      await readFile(path.join(project, "node_modules/@baton/webserver/package.json"), "utf8"),
    );
    expect(web.baton).toEqual({ webserver: "./dist/index.js" });

    const materialize = await run(NPX, ["baton", "materialize", "--select", "*", "--json"], project);
    expect(materialize.code, describeResult(materialize)).toBe(0);
    const summary = JSON.parse(materialize.stdout);
    expect(summary.status).toBe("SUCCESS");
    const steps = Object.fromEntries(
      (summary.steps as { stepKey: string; status: string }[]).map((s) => [s.stepKey, s.status]),
    );
    expect(steps).toEqual({
      "shop/orders": "succeeded",
      "shop/orders:positive_amounts": "succeeded",
      "shop/revenue_by_customer": "succeeded",
    });
    const orders = (summary.steps as { stepKey: string; checks: { name: string; passed: boolean }[] }[]).find(
      (s) => s.stepKey === "shop/orders:positive_amounts",
    );
    expect(JSON.stringify(orders)).toContain('"passed":true');
    // Stored in the project's own .baton/ (git-ignored).
    await stat(path.join(project, ".baton", "baton.db"));

    // The config schema is the project's zod (another copy than Baton's): validated and applied.
    const config = await run(
      NPX,
      [
        "baton",
        "materialize",
        "--select",
        "shop/revenue_by_customer",
        "--config",
        '{"shop/revenue_by_customer": {"minAmount": 10}}',
        "--json",
      ],
      project,
    );
    expect(config.code, describeResult(config)).toBe(0);
    expect(JSON.parse(config.stdout).steps[0].metadata).toEqual({
      "shop/revenue_by_customer": { customers: 2 },
    });
    const badConfig = await run(
      NPX,
      [
        "baton",
        "materialize",
        "--select",
        "*",
        "--config",
        '{"shop/revenue_by_customer": {"minAmount": -1}}',
      ],
      project,
    );
    expect(badConfig.code, describeResult(badConfig)).toBe(2);
    expect(badConfig.stderr).toContain("minAmount");

    // `baton check` (the project's tsconfig.json, TypeScript from the project) passes …
    const check = await run(NPX, ["baton", "check"], project, 60_000);
    expect(check.code, describeResult(check)).toBe(0);
    expect(check.stdout).toMatch(/^ok: 2 assets, 1 check, 0 jobs, 1 schedule, 0 sensors; type-checked in /m);
    // … and does check definitions.ts: the typo the issue reports (a field that does not exist).
    const original = await readFile(path.join(project, "definitions.ts"), "utf8");
    const typo = original.replace(
      "order.amount >= ctx.config.minAmount",
      "order.amont >= ctx.config.minAmount",
    );
    expect(typo).not.toBe(original);
    await writeFile(path.join(project, "definitions.ts"), typo);
    try {
      const failed = await run(NPX, ["baton", "check"], project, 60_000);
      expect(failed.code, describeResult(failed)).toBe(2);
      expect(failed.stdout).toMatch(
        /^definitions\.ts:\d+:\d+ - error TS2551: Property 'amont' does not exist on type 'Order'/m,
      );
    } finally {
      await writeFile(path.join(project, "definitions.ts"), original);
    }

    const schedules = await run(NPX, ["baton", "schedule", "list", "--json"], project);
    expect(schedules.code, describeResult(schedules)).toBe(0);
    expect(JSON.parse(schedules.stdout)).toEqual([
      expect.objectContaining({ name: "daily_refresh", cron: "0 6 * * *", target: "*", status: "STOPPED" }),
    ]);
  }, 150_000);

  test("a second init into the same folder refuses, lists every file and changes nothing", async () => {
    expect(initOut.code, describeResult(initOut)).toBe(0);
    const before = new Map<string, string>();
    for (const f of FILES) before.set(f, await readFile(path.join(project, f), "utf8"));
    const entries = (await readdir(project)).sort();

    const again = await baton(["init", "My Shop", "--baton-spec", "^9.9.9"], tmp);
    expect(again.code, describeResult(again)).toBe(2);
    expect(again.stdout).toBe("");
    expect(again.stderr).toBe(
      `error: baton init: nothing written: these files already exist in ${project}:\n${FILES.map((f) => `  ${f}\n`).join("")}Move them away or choose another folder.\n`,
    );
    for (const f of FILES) expect(await readFile(path.join(project, f), "utf8")).toBe(before.get(f));
    expect((await readdir(project)).sort()).toEqual(entries);
  });
});

describe("baton init: where @baton/core comes from, and bad folders", () => {
  test("--baton-spec overrides the dependency and says so", async () => {
    const r = await baton(["init", "flagged", "--baton-spec", "^0.1.0"], tmp);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toContain('@baton/core: "^0.1.0" (from --baton-spec)');
    const pkg = JSON.parse(await readFile(path.join(tmp, "flagged", "package.json"), "utf8"));
    expect(pkg.dependencies["@baton/core"]).toBe("^0.1.0");
  });

  test("works through npx --package <checkout>/packages/core from any folder (as the README says)", async () => {
    const elsewhere = await mkdtemp(path.join(tmp, "npx-"));
    const core = path.join(ROOT, "packages/core");
    const r = await run(NPX, ["--yes", "--package", core, "baton", "init", "via-npx"], elsewhere, 60_000);
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toContain(`@baton/core: "file:${core}" (from this Baton source checkout)`);
    expect((await readdir(path.join(elsewhere, "via-npx"))).sort()).toEqual([...FILES].sort());
  });

  test("from the packed package installed in a node_modules folder: the registry name at ^version", async () => {
    // The tarball npm would publish, unpacked where an install puts it. Under tests/.tmp so that
    // its dependencies resolve from the repository's node_modules without installing anything.
    const core = path.join(ROOT, "packages/core");
    await mkdir(path.join(ROOT, "tests/.tmp"), { recursive: true });
    const base = await mkdtemp(path.join(ROOT, "tests/.tmp", "init-registry-"));
    try {
      const packed = await run(NPM, ["pack", "--ignore-scripts", "--json", "--pack-destination", base], core);
      expect(packed.code, describeResult(packed)).toBe(0);
      const [tarball] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
      if (!tarball) throw new Error(`npm pack listed no tarball: ${describeResult(packed)}`);
      const { filename, files } = tarball;
      expect(files.map((f) => f.path)).toEqual(
        expect.arrayContaining(["templates/project/definitions.ts", "templates/project/gitignore"]),
      );
      const installed = path.join(base, "node_modules", "@baton", "core");
      await mkdir(installed, { recursive: true });
      const untar = await run(
        "tar",
        ["-xzf", path.join(base, filename), "-C", installed, "--strip-components=1"],
        base,
      );
      expect(untar.code, describeResult(untar)).toBe(0);
      const version = JSON.parse(await readFile(path.join(core, "package.json"), "utf8")).version;
      const r = await run(process.execPath, [path.join(installed, "bin/baton.js"), "init", "app"], base);
      expect(r.code, describeResult(r)).toBe(0);
      expect(r.stdout).toContain(`@baton/core: "^${version}" (from the npm registry)`);
      const pkg = JSON.parse(await readFile(path.join(base, "app", "package.json"), "utf8"));
      expect(pkg.dependencies["@baton/core"]).toBe(`^${version}`);
      expect((await readdir(path.join(base, "app"))).sort()).toEqual([...FILES].sort());
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  }, 60_000);

  test("one existing file, even a dangling symbolic link, is enough to refuse; nothing is written", async () => {
    const dir = path.join(tmp, "half");
    await mkdir(dir);
    await symlink(path.join(tmp, "nowhere"), path.join(dir, "README.md"));
    const r = await baton(["init", "half"], tmp);
    expect(r.code, describeResult(r)).toBe(2);
    expect(r.stderr).toBe(
      `error: baton init: nothing written: this file already exists in ${dir}:\n  README.md\nMove it away or choose another folder.\n`,
    );
    expect(await readdir(dir)).toEqual(["README.md"]);
    await expect(stat(path.join(tmp, "nowhere"))).rejects.toThrow(/ENOENT/);
  });

  test("a checkout gives file:<path>; an install inside node_modules gives the registry version", () => {
    expect(resolveBatonSpec("/src/baton/packages/core", "0.1.0", undefined)).toEqual({
      spec: "file:/src/baton/packages/core",
      source: "checkout",
    });
    expect(resolveBatonSpec("/app/node_modules/@baton/core", "0.3.1", undefined)).toEqual({
      spec: "^0.3.1",
      source: "registry",
    });
    expect(resolveBatonSpec("/app/node_modules/@baton/core", "0.3.1", "file:../baton")).toEqual({
      spec: "file:../baton",
      source: "flag",
    });
  });

  test("package names come from the folder, made valid for npm", () => {
    expect(packageNameFor("My Shop")).toBe("my-shop");
    expect(packageNameFor(".hidden_Data!!")).toBe("hidden_data");
    expect(packageNameFor("---")).toBe("baton-project");
  });

  test("DIR that is a file, or under a file, or an invalid --name: a clear message, nothing written", async () => {
    const file = path.join(tmp, "a-file.txt");
    await writeFile(file, "x");
    const onFile = await baton(["init", "a-file.txt"], tmp);
    expect(onFile.code, describeResult(onFile)).toBe(2);
    expect(onFile.stderr).toBe(
      `error: baton init: ${file} is a file, not a folder; give a new or existing folder\n`,
    );
    const under = await baton(["init", "a-file.txt/sub"], tmp);
    expect(under.code, describeResult(under)).toBe(2);
    expect(under.stderr).toBe(
      `error: baton init: cannot use ${file}/sub: a part of the path is a file, not a folder\n`,
    );
    const badName = await baton(["init", "named", "--name", "Not Valid"], tmp);
    expect(badName.code, describeResult(badName)).toBe(2);
    expect(badName.stderr).toMatch(/^error: --name: "Not Valid" is not a valid npm package name/);
    await expect(stat(path.join(tmp, "named"))).rejects.toThrow(/ENOENT/);
  });
});
