/**
 * Type errors before runs (issue 12 §2), as real processes of the BUILT CLI: `baton check`,
 * `baton materialize --typecheck` and the type checks of `baton dev`. The fixture is the issue's
 * case: `t.fares` for `t.fare`, which runs, stores null and says SUCCESS.
 */
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { cliHarness, expectExit, ROOT } from "./support/cli.js";
import {
  describeProc,
  exitOf,
  forget,
  killGroup,
  type Proc,
  spawnBaton,
  stderrShows,
  waitFor,
} from "./support/processes.js";

const FIXTURES = path.join(ROOT, "tests/fixtures/typecheck");
const TYPO = path.join(FIXTURES, "typo");
const CLEAN = path.join(FIXTURES, "clean");
const INVALID = path.join(FIXTURES, "invalid");
/** Editable copies live in the repo (tests/.tmp) so `@baton/core` and `zod` resolve as for the fixtures. */
const SCRATCH = path.join(ROOT, "tests/.tmp");
const TYPO_ERROR =
  "definitions.ts:19:22 - error TS2551: Property 'fares' does not exist on type 'Trip'. Did you mean 'fare'?";
const OK_LINE = /^ok: 2 assets, 1 check, 0 jobs, 0 schedules, 0 sensors; type-checked in \d+\.\d s$/;
/** tsc on this shared 2-core machine: a few seconds each, more under load. */
const SLOW = 90_000;

const { baton, makeHome } = cliHarness({ defaultCwd: CLEAN, tempPrefix: "baton-typecheck-" });
const cleanups: (() => Promise<void>)[] = [];
const cleanup = (fn: () => Promise<void>) => cleanups.push(fn);
const procs: Proc[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) {
    killGroup(p, "SIGKILL");
    await exitOf(p, 5_000).catch(() => undefined);
    forget(p);
  }
});
afterAll(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const lines = (text: string) => text.trimEnd().split("\n");

describe("baton check", () => {
  test(
    "the issue's typo: file:line:col, the TS code, a one-line summary, exit 2",
    async () => {
      const r = await baton(["check"], { home: await makeHome(cleanup), cwd: TYPO });
      expectExit(r, 2);
      expect(lines(r.stdout)).toEqual([TYPO_ERROR, "1 type error in 1 file"]);
      expect(r.stderr).toBe("");
    },
    SLOW,
  );

  test(
    "a clean project is ok, with what it defines and how long the type check took",
    async () => {
      const r = await baton(["check"], { home: await makeHome(cleanup), cwd: CLEAN });
      expectExit(r, 0);
      expect(lines(r.stdout)).toHaveLength(1);
      expect(r.stdout.trimEnd()).toMatch(OK_LINE);
    },
    SLOW,
  );

  test(
    "--json: each diagnostic with file, line, column and code; the tsconfig and TypeScript used",
    async () => {
      const r = await baton(["check", "--json"], { home: await makeHome(cleanup), cwd: TYPO });
      expectExit(r, 2);
      const out = JSON.parse(r.stdout);
      expect(out).toMatchObject({
        ok: false,
        summary: "1 type error in 1 file",
        typecheck: {
          ok: false,
          errors: 1,
          diagnostics: [
            {
              file: "definitions.ts",
              line: 19,
              column: 22,
              code: 2551,
              category: "error",
              text: TYPO_ERROR,
            },
          ],
          tsconfig: path.join(TYPO, "tsconfig.json"),
          scope: "project",
          typescript: { from: "project", version: expect.stringMatching(/^\d+\./) },
        },
        // The file still loads and is valid: the typo only shows when the asset runs.
        definitions: { file: "definitions.ts", ok: true, assets: 2, checks: 1 },
      });
    },
    SLOW,
  );

  test(
    "definitions that type-check but are invalid: the problem, with the file; exit 2",
    async () => {
      const r = await baton(["check"], { home: await makeHome(cleanup), cwd: INVALID });
      expectExit(r, 2);
      expect(lines(r.stdout)).toEqual([
        "definitions.ts: Invalid definitions (1 problem):",
        '  - lonely/orphan: depends on unknown asset "nowhere/missing"',
        "definitions are invalid (1 problem)",
      ]);
    },
    SLOW,
  );
});

test("no definitions file: the loader's message (where it looked), not tsc's; exit 2", async () => {
  const home = await makeHome(cleanup);
  const r = await baton(["check"], { home, cwd: home });
  expectExit(r, 2);
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(
    /^error: Could not load definitions from \S+definitions\.ts: file not found\. Pass --defs FILE/,
  );
  expect(r.stderr).not.toMatch(/TS\d+/);
});

describe("baton materialize --typecheck", () => {
  test(
    "refuses to run code with type errors: prints them, exit 2, the store has no run",
    async () => {
      const home = await makeHome(cleanup);
      const r = await baton(["materialize", "--select", "*", "--typecheck"], { home, cwd: TYPO });
      expectExit(r, 2);
      expect(r.stdout).toBe("");
      expect(lines(r.stderr)).toEqual([
        TYPO_ERROR,
        "error: 1 type error in 1 file: nothing ran (--typecheck runs only code that type-checks; fix them, or run without --typecheck)",
      ]);
      const runs = await baton(["runs", "list", "--json"], { home, cwd: TYPO });
      expectExit(runs, 0);
      expect(JSON.parse(runs.stdout).runs).toEqual([]);
    },
    SLOW,
  );

  test(
    "without the flag the same code still runs (the default spawns no tsc): SUCCESS, the typo's value stored as null",
    async () => {
      const home = await makeHome(cleanup);
      const r = await baton(["materialize", "--select", "*", "--json"], { home, cwd: TYPO });
      expectExit(r, 0);
      expect(r.stderr).not.toContain("TS2551");
      expect(r.stderr).not.toContain("types ok");
      expect(JSON.parse(r.stdout).status).toBe("SUCCESS");
      // What the issue saw: the filesystem IO manager stored the typo's undefined values as null.
      expect(JSON.parse(await readFile(path.join(home, "storage/fares.json"), "utf8"))).toEqual([null, null]);
    },
    SLOW,
  );

  test(
    "type-correct code runs after the check",
    async () => {
      const r = await baton(["materialize", "--select", "*", "--typecheck", "--json"], {
        home: await makeHome(cleanup),
        cwd: CLEAN,
      });
      expectExit(r, 0);
      expect(r.stderr).toMatch(/^types ok \(type-checked in \d+\.\d s\)$/m);
      expect(JSON.parse(r.stdout).status).toBe("SUCCESS");
    },
    SLOW,
  );
});

/** An editable copy of the clean fixture (removed after the suite). */
async function scratchProject(name: string): Promise<{ dir: string; defs: string; source: string }> {
  await mkdir(SCRATCH, { recursive: true });
  const dir = path.join(SCRATCH, `${name}-${process.pid}-${Date.now()}`);
  await cp(CLEAN, dir, { recursive: true });
  cleanup(() => rm(dir, { recursive: true, force: true }));
  const defs = path.join(dir, "definitions.ts");
  return { dir, defs, source: await readFile(defs, "utf8") };
}
const withTypo = (source: string) => source.replace("t.fare)", "t.fares)");
const count = (text: string, part: string) => text.split(part).length - 1;

function startDev(dir: string, home: string, extra: string[] = []): Proc {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(BATON_|FIXTURE_)/.test(k) && k !== "CI" && v !== undefined) env[k] = v;
  const dev = spawnBaton(["dev", "--workers", "1", "--no-webserver", ...extra], {
    cwd: dir,
    env: { ...env, BATON_HOME: home },
  });
  procs.push(dev);
  return dev;
}

describe("baton dev", () => {
  test(
    "prints type errors at start and after an edit, 'types ok' once fixed; the code still loads and reloads",
    async () => {
      const project = await scratchProject("typecheck-dev");
      await writeFile(project.defs, withTypo(project.source));
      const dev = startDev(project.dir, await makeHome(cleanup));
      await stderrShows(dev, TYPO_ERROR, 45_000);
      await stderrShows(
        dev,
        "baton dev: 1 type error in 1 file (the code runs anyway; baton dev --typecheck runs only code that type-checks)",
      );
      await stderrShows(dev, "baton dev: daemon + 1 worker", 30_000);

      await writeFile(project.defs, project.source);
      await stderrShows(dev, "baton dev: types ok", 45_000);
      await stderrShows(dev, "baton dev: reloaded", 30_000);

      // Broken again, one line lower: printed again, and the reload is not blocked.
      await writeFile(project.defs, `// edited\n${withTypo(project.source)}`);
      await stderrShows(dev, TYPO_ERROR.replace(":19:22", ":20:22"), 45_000);
      await waitFor(
        () => describeProc(dev),
        () => count(dev.stderr(), "baton dev: reloaded") === 2,
        30_000,
      );
      expect(dev.stderr()).not.toContain("keeping the previous definitions");
      dev.child.kill("SIGINT");
      expect(await exitOf(dev, 20_000)).toEqual({ code: 0, signal: null });
    },
    SLOW * 2,
  );

  test(
    "--typecheck: type errors at start are refused; an edit with type errors keeps the previous definitions",
    async () => {
      const project = await scratchProject("typecheck-dev-gate");
      const home = await makeHome(cleanup);
      await writeFile(project.defs, withTypo(project.source));
      const refused = startDev(project.dir, home, ["--typecheck"]);
      expect(await exitOf(refused, 45_000)).toEqual({ code: 2, signal: null });
      expect(lines(refused.stderr()), describeProc(refused)).toEqual([
        TYPO_ERROR,
        "error: 1 type error in 1 file: baton dev --typecheck starts only code that type-checks (fix them, or run without --typecheck)",
      ]);

      await writeFile(project.defs, project.source);
      const dev = startDev(project.dir, home, ["--typecheck"]);
      await stderrShows(dev, "baton dev: daemon + 1 worker", 45_000);
      await writeFile(project.defs, withTypo(project.source));
      await stderrShows(
        dev,
        "baton dev: 1 type error in 1 file, keeping the previous definitions (--typecheck)",
        45_000,
      );
      expect(dev.stderr()).toContain(TYPO_ERROR);
      expect(dev.stderr()).not.toContain("baton dev: reloaded");

      await writeFile(project.defs, `// fixed\n${project.source}`);
      await stderrShows(dev, "baton dev: reloaded", 45_000);
      expect(dev.stderr()).toContain("baton dev: types ok");
      dev.child.kill("SIGINT");
      expect(await exitOf(dev, 20_000)).toEqual({ code: 0, signal: null });
    },
    SLOW * 2,
  );
});
