/**
 * Errors point at the user's code: a step's error and a definitions file that does not load name
 * the user's file:line:col (source-mapped to the .ts), with their frames first and Baton's and
 * Node's collapsed, through the built CLI as a user runs it (in-process runs and run workers).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { openInstance as openBuiltInstance, publishSnapshot } from "@baton/core/internal";
import { createApp } from "@baton/webserver";
import { describe, expect, test } from "vitest";
import { reportError } from "../packages/core/src/cli/main.js";
import { openInstance, type SerializedError, type StoredRunEvent } from "../packages/core/src/internal.js";
import { checkAnswer } from "./support/api-responses.js";
import { type CliResult, cliHarness, expectExit, expectUsageError, STACK_LINE } from "./support/cli.js";
import { waitFor } from "./support/processes.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const FIXTURE = path.join(ROOT, "tests/fixtures/frames");
const THROWING_IMPORT = path.join(FIXTURE, "throwing-import");
const LOADER = path.join(ROOT, "packages/core/dist/cli/load-definitions.js");

const { baton, startCli, makeHome } = cliHarness({ defaultCwd: FIXTURE, tempPrefix: "baton-frames-test-" });

/** Line and column (1-based) of `needle` on the line of `file` that holds `marker` (or the next line). */
function positionOf(file: string, marker: string, needle: string): { line: number; column: number } {
  const lines = readFileSync(file, "utf8").split("\n");
  let i = lines.findIndex((l) => l.includes(marker));
  if (!lines[i]!.includes(needle)) i = lines.findIndex((l, j) => j > i && l.includes(needle));
  expect(i, `${needle} after ${marker} in ${file}`).toBeGreaterThan(0);
  return { line: i + 1, column: lines[i]!.indexOf(needle) + 1 };
}

// Where part.ts throws (`new Error` is where V8 puts the frame) and where definitions.ts calls it.
const THROW = positionOf(path.join(FIXTURE, "part.ts"), "FRAMES-THROW", "new Error");
const CALL = positionOf(path.join(FIXTURE, "definitions.ts"), "FRAMES-CALL", "totalFare(");
const IMPORT_THROW = positionOf(
  path.join(THROWING_IMPORT, "definitions.ts"),
  "FRAMES-IMPORT-THROW",
  "assetCheck(",
);
const COLLAPSED =
  /^ +… (\d+) frames? in Baton(, node_modules)?( and Node)? \(run with --verbose to see (them|it)\)$/m;
/** A frame line of Baton's built code. */
const BATON_FRAME = /packages\/core\/dist\//;

/** The user's frames as the CLI prints them: `at totalFare (part.ts:13:45)` then the call site. */
function expectUserFramesFirst(text: string) {
  const throwAt = text.indexOf(`at totalFare (part.ts:${THROW.line}:${THROW.column})`);
  const callAt = text.indexOf(`at definitions.ts:${CALL.line}:${CALL.column}\n`);
  expect(throwAt, text).toBeGreaterThan(0);
  expect(callAt, text).toBeGreaterThan(throwAt);
  const collapsed = COLLAPSED.exec(text);
  expect(collapsed, text).not.toBeNull();
  expect(collapsed!.index).toBeGreaterThan(callAt);
  // Baton's frames are counted, not shown.
  expect(Number(collapsed![1])).toBeGreaterThanOrEqual(2);
  expect(text).not.toMatch(BATON_FRAME);
}

function runIdOf(r: CliResult): string {
  const m = /run ([0-9a-f-]{36}) started/.exec(r.stderr);
  expect(m, r.stderr).not.toBeNull();
  return m![1]!;
}

function stepFailed(events: readonly StoredRunEvent[]): SerializedError {
  const failed = events.find((e) => e.type === "step_failed");
  expect(failed).toBeDefined();
  return (failed as Extract<StoredRunEvent, { type: "step_failed" }>).error;
}

describe("an asset that throws", () => {
  test("materialize and runs logs show the user's frames at their .ts lines first, Baton's collapsed", async ({
    onTestFinished,
  }) => {
    const home = await makeHome(onTestFinished);
    const r = await baton(["materialize", "--select", "*"], { home });
    expectExit(r, 1);
    expect(r.stderr).toContain('✗ total failed: Error in asset "total": no trips to add up\n');
    expectUserFramesFirst(r.stderr);

    const runId = runIdOf(r);
    const logs = await baton(["runs", "logs", runId], { home });
    expectExit(logs, 0);
    const failedLine = logs.stdout.indexOf('total step_failed: Error in asset "total": no trips to add up\n');
    expect(failedLine, logs.stdout).toBeGreaterThan(0);
    expectUserFramesFirst(logs.stdout.slice(failedLine));
    // The wrapper's stack (all Baton's) is not printed any more.
    expect(logs.stdout).not.toContain("UserCodeError:");

    // --verbose lists the collapsed frames too, after the user's.
    const verbose = await baton(["--verbose", "runs", "logs", runId], { home });
    expectExit(verbose, 0);
    const header = /^ {4}… (\d+) frames? in Baton[^:\n]*:$/m.exec(verbose.stdout);
    expect(header, verbose.stdout).not.toBeNull();
    expect(verbose.stdout.indexOf(`part.ts:${THROW.line}:${THROW.column}`)).toBeLessThan(header!.index);
    expect(verbose.stdout.slice(header!.index)).toMatch(BATON_FRAME);

    // --json: the stored error carries each link's frames, the user's marked.
    const json = await baton(["runs", "logs", runId, "--json"], { home });
    const events = json.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as StoredRunEvent);
    const error = stepFailed(events);
    expect(error.frames?.every((f) => !f.inUserCode)).toBe(true); // UserCodeError: made by Baton
    expect(error.cause?.frames?.slice(0, 2)).toEqual([
      {
        function: "totalFare",
        file: path.join(FIXTURE, "part.ts"),
        line: THROW.line,
        column: THROW.column,
        origin: "user",
        inUserCode: true,
      },
      expect.objectContaining({
        file: path.join(FIXTURE, "definitions.ts"),
        line: CALL.line,
        inUserCode: true,
      }),
    ]);
    expect(error.cause?.frames?.find((f) => !f.inUserCode)).toMatchObject({ origin: "baton" });
  });

  test("a run worker stores the same mapped frames", async ({ onTestFinished }) => {
    const home = await makeHome(onTestFinished);
    const launched = await baton(["launch", "--select", "*"], { home });
    expectExit(launched, 0);
    const runId = launched.stdout.trim();
    const worker = startCli(["worker", "--concurrency", "1", "--heartbeat-ms", "200"], { home });
    onTestFinished(async () => {
      if (worker.child.exitCode === null) worker.child.kill("SIGKILL");
      await worker.result.catch(() => undefined);
    });
    const instance = await openInstance({ env: { BATON_HOME: home } });
    onTestFinished(() => instance.close());
    await waitFor(`run ${runId} to fail in the worker`, async () => {
      const run = await instance.storage.getRun(runId);
      return run?.status === "FAILURE";
    });
    const error = stepFailed(await instance.storage.getEvents(runId));
    expect(error.cause?.frames?.[0]).toMatchObject({
      file: path.join(FIXTURE, "part.ts"),
      line: THROW.line,
      column: THROW.column,
      inUserCode: true,
    });
    worker.child.kill("SIGTERM");
    await worker.result;
  });
});

describe("definitions that do not load", () => {
  const importMessage = `definitions.ts:${IMPORT_THROW.line}:${IMPORT_THROW.column}: ReferenceError: assetCheck is not defined`;

  test("a throwing import names the user's file:line:col, with the line and a caret", async ({
    onTestFinished,
  }) => {
    const home = await makeHome(onTestFinished);
    const file = path.join(THROWING_IMPORT, "definitions.ts");
    const r = await baton(["materialize", "--select", "*"], { home, cwd: THROWING_IMPORT });
    expectUsageError(r);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe(
      `error: Could not load definitions from ${file}: importing it threw: ${importMessage}`,
    );
    const gutter = String(IMPORT_THROW.line);
    expect(lines[1]).toBe(
      `    ${gutter} | export const positive = assetCheck({ asset: rows, name: "positive" }, () => ({ passed: true }));`,
    );
    expect(lines[2]).toBe(`    ${" ".repeat(gutter.length)} | ${" ".repeat(IMPORT_THROW.column - 1)}^`);

    // From elsewhere the file is named by its path.
    const away = await baton(["--defs", file, "materialize", "--select", "*"], { home, cwd: ROOT });
    expect(away.stderr).toContain(
      `importing it threw: tests/fixtures/frames/throwing-import/${importMessage}`,
    );

    // --verbose: the user's frame first, then Baton's and Node's.
    const verbose = await baton(["--verbose", "materialize", "--select", "*"], {
      home,
      cwd: THROWING_IMPORT,
    });
    expectExit(verbose, 2);
    const frames = verbose.stderr.split("\n").filter((l) => STACK_LINE.test(l));
    expect(frames[0]).toBe(`    at definitions.ts:${IMPORT_THROW.line}:${IMPORT_THROW.column}`);
    expect(verbose.stderr).toMatch(/^ {4}… \d+ frames? in (Baton|Node)[^:\n]*:$/m);
    expect(verbose.stderr).not.toContain("looks like a bug");
  });

  test("a reload (baton dev's fresh import) maps the line too", () => {
    // In a child process: vitest replaces Error.prepareStackTrace, which turns Node's source maps off here.
    const file = path.join(THROWING_IMPORT, "definitions.ts");
    const script = `import { loadDefinitions } from ${JSON.stringify(pathToFileURL(LOADER).href)};
      await loadDefinitions(${JSON.stringify(file)}, { fresh: true }).catch((e) => console.log(e.message));`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: THROWING_IMPORT,
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.stdout, r.stderr).toContain(`importing it threw: ${importMessage}\n`);
  });

  test("a syntax error names file:line:col (TypeScript through tsx, JavaScript through node --check); CommonJS in an ES module", async ({
    onTestFinished,
  }) => {
    const home = await makeHome(onTestFinished);
    // Written at test time (a committed file would break `biome check`).
    const dir = path.join(home, "broken");
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, "package.json"), '{ "type": "module" }\n');
    const source = "export const ok = 1;\n\nexport const oops = () => {\n  return 1 +;\n};\n";
    await writeFile(path.join(dir, "definitions.ts"), source);
    await writeFile(path.join(dir, "definitions.mjs"), source);
    const ts = await baton(["materialize", "--select", "*"], { home, cwd: dir });
    expectUsageError(ts);
    expect(ts.stderr).toContain('importing it threw: definitions.ts:4:13: SyntaxError: Unexpected ";"\n');
    expect(ts.stderr).toContain("    4 |   return 1 +;\n      |             ^\n");

    const js = await baton(["--defs", "definitions.mjs", "materialize", "--select", "*"], { home, cwd: dir });
    expectUsageError(js);
    expect(js.stderr).toContain(
      "importing it threw: definitions.mjs:4:13: SyntaxError: Unexpected token ';'\n",
    );
    expect(js.stderr).toContain("      |             ^\n");

    // CommonJS in an ES module: located, and Node's own explanation without a hint that it was CommonJS.
    await writeFile(path.join(dir, "cjs.js"), 'const core = require("@baton/core");\nexport default core;\n');
    const cjs = await baton(["--defs", "cjs.js", "materialize", "--select", "*"], { home, cwd: dir });
    expectUsageError(cjs);
    expect(cjs.stderr).toContain(
      "importing it threw: cjs.js:1:14: ReferenceError: require is not defined in ES module scope",
    );
    expect(cjs.stderr).toContain('contains "type": "module"');
    expect(cjs.stderr).not.toContain("was loaded as CommonJS");
  });
});

describe("the API", () => {
  test("a run's step error and its step_failed event carry frames, the user's marked", async ({
    onTestFinished,
  }) => {
    const home = await makeHome(onTestFinished);
    const { default: defs } = await import("./fixtures/frames/definitions.js");
    const instance = await openBuiltInstance({ home, env: {} });
    onTestFinished(() => instance.close());
    await publishSnapshot(instance.storage, defs);
    const run = await instance.materialize(defs, { selection: "*" });
    expect(run.status).toBe("FAILURE");
    const app = createApp({ instance });
    const get = async (url: string) => {
      const res = await app.request(url);
      const body = await res.json();
      expect(res.status, JSON.stringify(body)).toBe(200);
      // The answer matches the declared response schema (frames included: the schemas are strict).
      checkAnswer(app, "GET", url, res.status, res.headers.get("content-type"), body);
      return body;
    };
    const userFrame = expect.objectContaining({
      function: "totalFare",
      file: path.join(FIXTURE, "part.ts"),
      line: expect.any(Number),
      column: expect.any(Number),
      origin: "user",
      inUserCode: true,
    });

    const detail = (await get(`/api/runs/${run.runId}`)) as {
      summary: { steps: { stepKey: string; error: SerializedError | null }[] };
    };
    const step = detail.summary.steps.find((s) => s.stepKey === "total")!;
    expect(step.error?.cause?.frames?.[0]).toEqual(userFrame);
    expect(step.error?.frames?.length).toBeGreaterThan(0);
    expect(step.error?.frames?.some((f) => f.inUserCode)).toBe(false);

    const page = (await get(`/api/runs/${run.runId}/events`)) as { events: StoredRunEvent[] };
    expect(stepFailed(page.events).cause?.frames?.[0]).toEqual(userFrame);
  });
});

describe("reportError (the CLI's last word on an error)", () => {
  function capture(error: unknown, verbose: boolean): string {
    let out = "";
    const write = (s: string) => {
      out += s;
      return true;
    };
    const stream = { write } as unknown as NodeJS.WritableStream;
    reportError(stream, error, verbose, ROOT);
    return out;
  }
  function thrownByUserCode(): Error {
    try {
      JSON.parse("{ not json");
    } catch (error) {
      return error as Error;
    }
    throw new Error("unreachable");
  }

  test("an uncoded error from the user's code shows their frames, not 'a bug in Baton'", () => {
    const out = capture(thrownByUserCode(), false);
    const lines = out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^error: .*JSON/);
    // JSON.parse is Node's and vitest's runner is in node_modules (collapsed); the first frame shown is this file's.
    expect(lines[1]).toMatch(/^ {4}at thrownByUserCode \(tests\/frames\.test\.ts:\d+:\d+\)$/);
    expect(lines.at(-1)).toMatch(/^ {4}… \d+ frames in [^(]*Node \(run with --verbose to see them\)$/);
    expect(out).not.toContain("looks like a bug");
  });

  test("one from Baton's own code is a bug; --verbose lists the frames, the user's first", () => {
    const internal = new TypeError("x is undefined");
    internal.stack = `TypeError: x is undefined\n    at plan (${ROOT}/packages/core/dist/execution/plan.js:1:2)`;
    expect(capture(internal, false)).toBe(
      "error: x is undefined\n(this looks like a bug in Baton; run with --verbose for the stack trace)\n",
    );
    const verbose = capture(thrownByUserCode(), true).split("\n");
    expect(verbose[1]).toMatch(/^ {4}at thrownByUserCode \(tests\/frames\.test\.ts:/);
    expect(verbose).toContainEqual(expect.stringMatching(/^ {4}… \d+ frames? in [^:]+:$/));
  });
});
