import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type CliResult,
  cliHarness,
  describeResult,
  expectExit,
  expectUsageError,
  STACK_LINE,
  UUID,
} from "./support/cli.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BASIC = path.join(ROOT, "tests/fixtures/basic");
const CLI_FIXTURES = path.join(ROOT, "tests/fixtures/cli");
const fixture = (name: string) => path.join(CLI_FIXTURES, name);

/** A child that has not exited by then is killed and its test fails with its output. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for terminal escape codes
const ANSI = /\x1b\[/;
const ASSET_KEYS = ["taxi/clean_trips", "taxi/raw_trips", "taxi/revenue"];
const CHECK_STEP = "taxi/raw_trips:no_negative_fares";

// ---------------------------------------------------------------------------------------------
// Spawning the CLI

const { startCli, baton, makeHome } = cliHarness({
  defaultCwd: BASIC,
  tempPrefix: "baton-cli-test-",
});
// ---------------------------------------------------------------------------------------------
// The `--json` shapes

interface CheckJson {
  assetKey: string;
  checkName: string;
  passed: boolean;
  blocking: boolean;
  severity: string;
  metadata: Record<string, unknown>;
}

interface StepJson {
  stepKey: string;
  kind: string | null;
  assetKeys: string[];
  status: string;
  durationMs: number | null;
  attempts: number;
  reason: string | null;
  error: { name: string; message: string } | null;
  metadata: Record<string, Record<string, unknown>>;
  checks: CheckJson[];
}

interface RunJson {
  runId: string;
  status: string;
  durationMs: number | null;
  reason: string | null;
  steps: StepJson[];
}

interface ShownRunJson extends RunJson {
  selection: string;
  parentRunId: string | null;
}

interface RunRecordJson {
  runId: string;
  status: string;
  selection: string;
  config: unknown;
  parentRunId: string | null;
  rootRunId: string | null;
}

interface AssetJson {
  key: string;
  group: string;
  deps: string[];
  lastMaterialization: { runId: string; timestamp: number; metadata: Record<string, unknown> } | null;
}

function parseJson<T>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch (error) {
    throw new Error(`stdout is not one JSON document: ${(error as Error).message}\n${describeResult(r)}`);
  }
}

function stepsByKey(run: RunJson): Record<string, StepJson> {
  return Object.fromEntries(run.steps.map((s) => [s.stepKey, s]));
}

/** Common shape of a usage/definitions/config/store error: exit 2, short message, no stack. */

// ---------------------------------------------------------------------------------------------

// Each spawn costs ~0.5 s (tsx load); tests spawning several in a row get a longer budget.
describe.concurrent("baton CLI (end to end)", { timeout: 60_000 }, () => {
  test("materialize --select '*' --json: one JSON document on stdout, progress on stderr; asset list before and after", async ({
    onTestFinished,
  }) => {
    const home = await makeHome(onTestFinished);

    // asset list before any run: the three assets, nothing materialized yet.
    const before = await baton(["asset", "list", "--json"], { home });
    expectExit(before, 0);
    const beforeAssets = parseJson<{ assets: AssetJson[] }>(before).assets;
    expect(beforeAssets.map((a) => ({ key: a.key, group: a.group, deps: a.deps }))).toEqual([
      { key: "taxi/raw_trips", group: "ingest", deps: [] },
      { key: "taxi/clean_trips", group: "transform", deps: ["taxi/raw_trips"] },
      { key: "taxi/revenue", group: "reports", deps: ["taxi/clean_trips"] },
    ]);
    for (const a of beforeAssets) expect(a.lastMaterialization).toBeNull();

    // No --defs: the basic fixture's ./definitions.ts is found by default.
    const r = await baton(["materialize", "--select", "*", "--json"], { home });
    expectExit(r, 0);
    const run = parseJson<RunJson>(r);
    expect(r.stdout.trim().startsWith("{") && r.stdout.trim().endsWith("}")).toBe(true);
    expect(run.runId).toMatch(UUID);
    expect(run.status).toBe("SUCCESS");
    expect(run.reason).toBeNull();
    expect(run.durationMs).toEqual(expect.any(Number));
    const steps = stepsByKey(run);
    expect(Object.keys(steps).sort()).toEqual([...ASSET_KEYS, CHECK_STEP].sort());
    const ok = {
      status: "succeeded",
      durationMs: expect.any(Number),
      attempts: 1,
      reason: null,
      error: null,
    };
    expect(steps["taxi/raw_trips"]).toEqual({
      ...ok,
      stepKey: "taxi/raw_trips",
      kind: "asset",
      assetKeys: ["taxi/raw_trips"],
      metadata: { "taxi/raw_trips": {} },
      checks: [],
    });
    expect(steps["taxi/clean_trips"]).toEqual({
      ...ok,
      stepKey: "taxi/clean_trips",
      kind: "asset",
      assetKeys: ["taxi/clean_trips"],
      metadata: { "taxi/clean_trips": { rows: 3 } },
      checks: [],
    });
    expect(steps["taxi/revenue"]).toEqual({
      ...ok,
      stepKey: "taxi/revenue",
      kind: "asset",
      assetKeys: ["taxi/revenue"],
      metadata: { "taxi/revenue": {} },
      checks: [],
    });
    expect(steps[CHECK_STEP]).toEqual({
      ...ok,
      stepKey: CHECK_STEP,
      kind: "check",
      assetKeys: ["taxi/raw_trips"],
      metadata: {},
      checks: [
        {
          assetKey: "taxi/raw_trips",
          checkName: "no_negative_fares",
          passed: true,
          blocking: true,
          severity: "ERROR",
          metadata: { bad: 0 },
        },
      ],
    });

    // Progress and captured console output go to stderr, as plain lines (no TTY, CI unset).
    expect(r.stderr).toContain(`run ${run.runId} started: 4 steps`);
    expect(r.stderr).toContain("  ✓ taxi/raw_trips (");
    expect(r.stderr).toContain("  ✓ taxi/clean_trips (");
    expect(r.stderr).toContain("  ✓ taxi/revenue (");
    expect(r.stderr).toContain(`    ✓ check ${CHECK_STEP} passed`);
    expect(r.stderr).toContain("    taxi/raw_trips | loading trips");
    expect(r.stderr).toContain(`run ${run.runId} SUCCESS in`);
    expect(r.stderr).toContain("4 succeeded, 0 failed, 0 skipped, 0 canceled");
    expect(r.stderr).not.toMatch(ANSI);
    // …and none of it on stdout.
    expect(r.stdout).not.toContain("loading trips");
    expect(r.stdout).not.toContain("✓");
    expect(r.stdout).not.toContain("started:");

    // asset list after the run: every asset's last materialization is this run.
    const after = await baton(["asset", "list", "--json"], { home });
    expectExit(after, 0);
    const afterAssets = parseJson<{ assets: AssetJson[] }>(after).assets;
    expect(afterAssets.map((a) => ({ key: a.key, group: a.group, deps: a.deps }))).toEqual(
      beforeAssets.map((a) => ({ key: a.key, group: a.group, deps: a.deps })),
    );
    for (const a of afterAssets)
      expect(a.lastMaterialization, a.key).toEqual({
        runId: run.runId,
        timestamp: expect.any(Number),
        metadata: a.key === "taxi/clean_trips" ? { rows: 3 } : {},
      });
  });

  test("a failing blocking check (FIXTURE_NEGATIVE_FARE=-3) skips downstream, naming the check; CI=true stays plain", async ({
    onTestFinished,
  }) => {
    const home = await makeHome(onTestFinished);
    const r = await baton(["materialize", "--select", "*", "--json"], {
      home,
      env: { FIXTURE_NEGATIVE_FARE: "-3", CI: "true" },
    });
    expectExit(r, 1);
    const run = parseJson<RunJson>(r);
    expect(run.status).toBe("FAILURE");
    const steps = stepsByKey(run);
    expect(steps["taxi/raw_trips"]?.status).toBe("succeeded");
    expect(steps[CHECK_STEP]).toMatchObject({
      status: "failed",
      checks: [{ checkName: "no_negative_fares", passed: false, blocking: true, metadata: { bad: 1 } }],
    });
    expect(steps["taxi/clean_trips"]).toMatchObject({
      status: "skipped",
      error: null,
      metadata: {},
    });
    expect(steps["taxi/clean_trips"]?.reason).toContain(`"${CHECK_STEP}"`);
    expect(steps["taxi/clean_trips"]?.reason).toMatch(/blocking check/);
    expect(steps["taxi/revenue"]).toMatchObject({ status: "skipped", metadata: {} });
    expect(steps["taxi/revenue"]?.reason).toContain('"taxi/clean_trips"');
    expect(r.stderr).toContain(`    ✗ check ${CHECK_STEP} failed (blocking, ERROR)`);
    expect(r.stderr).toContain(`  - taxi/clean_trips skipped: blocking check "${CHECK_STEP}" failed`);
    expect(r.stderr).not.toMatch(ANSI);
  });

  describe("a failed run, its re-execution from failure, and the run history commands", () => {
    let home = "";
    let failed: CliResult;
    let failedRun: RunJson;
    let reexecuted: CliResult;
    let newRun: RunJson;
    const cleanups: (() => Promise<void>)[] = [];

    beforeAll(async () => {
      home = await makeHome((fn) => cleanups.push(fn));
      failed = await baton(["materialize", "--select", "*", "--json"], {
        home,
        env: { FIXTURE_FAIL_CLEAN: "1" },
      });
      failedRun = parseJson<RunJson>(failed);
      // Without FIXTURE_FAIL_CLEAN this time: clean_trips now succeeds.
      reexecuted = await baton(["reexecute", failedRun.runId, "--from-failure", "--json"], { home });
      newRun = parseJson<RunJson>(reexecuted);
    });
    afterAll(async () => {
      for (const fn of cleanups) await fn();
    });

    test("FIXTURE_FAIL_CLEAN=1: exit 1, FAILURE, clean_trips failed, revenue skipped", () => {
      expectExit(failed, 1);
      expect(failedRun.runId).toMatch(UUID);
      expect(failedRun.status).toBe("FAILURE");
      const steps = stepsByKey(failedRun);
      expect(steps["taxi/raw_trips"]?.status).toBe("succeeded");
      expect(steps[CHECK_STEP]?.status).toBe("succeeded");
      expect(steps["taxi/clean_trips"]).toMatchObject({
        status: "failed",
        kind: "asset",
        metadata: {},
        error: { message: expect.stringContaining("clean_trips exploded on purpose") },
      });
      expect(steps["taxi/revenue"]).toMatchObject({
        status: "skipped",
        reason: 'upstream step "taxi/clean_trips" failed',
        error: null,
        metadata: {},
      });
      expect(failed.stderr).toContain("  ✗ taxi/clean_trips failed: ");
      expect(failed.stderr).toContain("clean_trips exploded on purpose");
      expect(failed.stderr).toContain('  - taxi/revenue skipped: upstream step "taxi/clean_trips" failed');
      expect(failed.stderr).toContain("2 succeeded, 1 failed, 1 skipped, 0 canceled");
    });

    test("reexecute --from-failure runs only clean_trips and revenue, and succeeds", () => {
      expectExit(reexecuted, 0);
      expect(newRun.runId).toMatch(UUID);
      expect(newRun.runId).not.toBe(failedRun.runId);
      expect(newRun.status).toBe("SUCCESS");
      expect(newRun.steps.map((s) => s.stepKey).sort()).toEqual(["taxi/clean_trips", "taxi/revenue"]);
      expect(newRun.steps.map((s) => s.status)).toEqual(["succeeded", "succeeded"]);
      expect(stepsByKey(newRun)["taxi/clean_trips"]?.metadata).toEqual({ "taxi/clean_trips": { rows: 3 } });
      expect(reexecuted.stderr).not.toContain("taxi/raw_trips");
    });

    test("runs show NEW_ID --json and text name the parent run", async () => {
      const [json, text] = await Promise.all([
        baton(["runs", "show", newRun.runId, "--json"], { home }),
        baton(["runs", "show", newRun.runId], { home }),
      ]);
      expectExit(json, 0);
      const shown = parseJson<ShownRunJson>(json);
      expect(shown).toMatchObject({
        runId: newRun.runId,
        status: "SUCCESS",
        selection: "*",
        parentRunId: failedRun.runId,
      });
      expect(shown.steps.map((s) => s.stepKey).sort()).toEqual(["taxi/clean_trips", "taxi/revenue"]);
      expectExit(text, 0);
      expect(text.stdout).toContain(`re-execution of ${failedRun.runId}`);
    });

    test("runs list --json: newest first, with statuses and parent", async () => {
      const r = await baton(["runs", "list", "--json"], { home });
      expectExit(r, 0);
      const page = parseJson<{ runs: RunRecordJson[]; nextCursor: string | null }>(r);
      expect(page.runs.map((x) => [x.runId, x.status])).toEqual([
        [newRun.runId, "SUCCESS"],
        [failedRun.runId, "FAILURE"],
      ]);
      expect(page.runs[0]).toMatchObject({ parentRunId: failedRun.runId, rootRunId: failedRun.runId });
      expect(page.runs[1]).toMatchObject({ parentRunId: null, selection: "*" });
      expect(page.nextCursor).toBeNull();
    });

    test("runs show ID prints the run header and one row per step", async () => {
      const r = await baton(["runs", "show", failedRun.runId], { home });
      expectExit(r, 0);
      const lines = r.stdout.split("\n");
      expect(lines[0]).toBe(`run ${failedRun.runId}  FAILURE  selection: *`);
      expect(r.stdout).toMatch(/^STEP\s+STATUS\s+DURATION\s+DETAIL$/m);
      expect(r.stdout).toMatch(/^taxi\/raw_trips\s+succeeded\s+\d+ ms$/m);
      expect(r.stdout).toMatch(/^taxi\/raw_trips:no_negative_fares\s+succeeded\s+\d+ ms$/m);
      expect(r.stdout).toMatch(/^taxi\/clean_trips\s+failed\s+\d+ ms\s+.*clean_trips exploded on purpose$/m);
      expect(r.stdout).toMatch(/^taxi\/revenue\s+skipped\s+-\s+upstream step "taxi\/clean_trips" failed$/m);
      expect(r.stderr).toBe("");
    });

    test("runs logs ID prints the event log with captured stdout", async () => {
      const r = await baton(["runs", "logs", failedRun.runId], { home });
      expectExit(r, 0);
      expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} taxi\/raw_trips INFO \[stdout\] loading trips$/m);
      expect(r.stdout).toMatch(/^\S+ run run_started$/m);
      expect(r.stdout).toMatch(/^\S+ taxi\/clean_trips step_failed: .*clean_trips exploded on purpose$/m);
      expect(r.stdout).toMatch(/^\S+ run run_failed: /m);
    });

    test("runs logs ID --json prints one JSON event per line", async () => {
      const r = await baton(["runs", "logs", failedRun.runId, "--json"], { home });
      expectExit(r, 0);
      const lines = r.stdout.split("\n").filter((l) => l !== "");
      const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(events.length).toBeGreaterThan(5);
      for (const e of events) expect(e.runId).toBe(failedRun.runId);
      expect(events[0]?.type).toBe("run_started");
      expect(events.at(-1)?.type).toBe("run_failed");
      expect(events).toContainEqual(
        expect.objectContaining({
          type: "log",
          stepKey: "taxi/raw_trips",
          source: "stdout",
          message: "loading trips",
        }),
      );
    });

    test("runs show of an unknown id: exit 2, 'was not found', no stack trace", async () => {
      const unknown = "00000000-0000-4000-8000-000000000000";
      const r = await baton(["runs", "show", unknown], { home });
      expectUsageError(r);
      expect(r.stderr).toContain(`Run ${unknown} was not found`);
    });
  });

  describe("run config", () => {
    test("--config JSON reaches the asset (revenue doubled)", async ({ onTestFinished }) => {
      const home = await makeHome(onTestFinished);
      const r = await baton(
        ["materialize", "--select", "*", "--config", '{"taxi/revenue":{"multiplier":2}}', "--json"],
        { home },
      );
      expectExit(r, 0);
      const revenue = stepsByKey(parseJson<RunJson>(r))["taxi/revenue"];
      expect(revenue).toMatchObject({ status: "succeeded", metadata: { "taxi/revenue": {} } });
      // (10 + 5 + 7.5) * 2, stored by the default IO manager under BATON_HOME.
      expect(JSON.parse(await readFile(path.join(home, "storage/taxi/revenue.json"), "utf8"))).toBe(45);
    });

    test("--config @file.json reads the file relative to cwd", async ({ onTestFinished }) => {
      const home = await makeHome(onTestFinished);
      const r = await baton(
        ["materialize", "--select", "*", "--config", "@../cli/config-file/revenue-config.json", "--json"],
        { home },
      );
      expectExit(r, 0);
      expect(stepsByKey(parseJson<RunJson>(r))["taxi/revenue"]?.status).toBe("succeeded");
      // multiplier 3 from the file
      expect(JSON.parse(await readFile(path.join(home, "storage/taxi/revenue.json"), "utf8"))).toBe(67.5);
    });

    test("invalid --config: exit 2 with a clear message, and no run recorded", async ({ onTestFinished }) => {
      const home = await makeHome(onTestFinished);
      const [badJson, badType] = await Promise.all([
        baton(["materialize", "--select", "*", "--config", "{bad"], { home }),
        baton(["materialize", "--select", "*", "--config", '{"taxi/revenue":{"multiplier":"x"}}'], { home }),
      ]);
      expectUsageError(badJson);
      expect(badJson.stderr).toContain("not valid JSON");
      expectUsageError(badType);
      expect(badType.stderr).toContain("taxi/revenue.multiplier");
      expect(badType.stderr).not.toContain("started:");

      const list = await baton(["runs", "list", "--json"], { home });
      expectExit(list, 0);
      expect(parseJson<{ runs: unknown[] }>(list).runs).toEqual([]);
    });
  });

  describe("usage errors exit 2 with one clear message and no stack trace", () => {
    test("unknown flag (materialize --selekt x) names the flag", async ({ onTestFinished }) => {
      const r = await baton(["materialize", "--selekt", "x"], { home: await makeHome(onTestFinished) });
      expectUsageError(r);
      expect(r.stderr).toContain("unknown option '--selekt'");
    });

    test("missing --select", async ({ onTestFinished }) => {
      const r = await baton(["materialize"], { home: await makeHome(onTestFinished) });
      expectUsageError(r);
      expect(r.stderr).toContain("materialize needs --select SELECTION");
    });

    test("--concurrency 0", async ({ onTestFinished }) => {
      const r = await baton(["materialize", "--select", "*", "--concurrency", "0"], {
        home: await makeHome(onTestFinished),
      });
      expectUsageError(r);
      expect(r.stderr).toContain('--concurrency must be a whole number >= 1 (got "0")');
    });

    test("a selection naming an unknown asset suggests the right one, with a caret", async ({
      onTestFinished,
    }) => {
      const r = await baton(["materialize", "--select", "taxi/raw_trip"], {
        home: await makeHome(onTestFinished),
      });
      expectUsageError(r);
      expect(r.stderr).toContain('did you mean "taxi/raw_trips"');
      const lines = r.stderr.split("\n");
      const echo = lines.indexOf("  taxi/raw_trip");
      expect(echo, r.stderr).toBeGreaterThan(0);
      expect(lines[echo + 1]).toBe("  ^");
    });

    test("an unclosed parenthesis in a selection", async ({ onTestFinished }) => {
      const r = await baton(["materialize", "--select", "(taxi/raw_trips"], {
        home: await makeHome(onTestFinished),
      });
      expectUsageError(r);
      expect(r.stderr).toContain("Invalid selection");
      expect(r.stderr).toMatch(/unclosed "\("/);
      const lines = r.stderr.split("\n");
      const echo = lines.indexOf("  (taxi/raw_trips");
      expect(echo, r.stderr).toBeGreaterThan(0);
      expect(lines[echo + 1]).toMatch(/^ {2,}\^$/);
    });

    test("a missing definitions file", async ({ onTestFinished }) => {
      const r = await baton(["--defs", "nope.ts", "materialize", "--select", "*"], {
        home: await makeHome(onTestFinished),
      });
      expectUsageError(r);
      expect(r.stderr).toContain(path.join(BASIC, "nope.ts"));
      expect(r.stderr).toContain("file not found");
    });

    test("invalid definitions list every problem with its asset key; --verbose adds the stack", async ({
      onTestFinished,
    }) => {
      const home = await makeHome(onTestFinished);
      const cwd = fixture("invalid");
      const [r, verbose] = await Promise.all([
        baton(["materialize", "--select", "*"], { home, cwd }),
        baton(["--verbose", "materialize", "--select", "*"], { home, cwd }),
      ]);
      expectUsageError(r);
      expect(r.stderr).toContain("Invalid definitions (2 problems)");
      expect(r.stderr).toMatch(
        /^ {2}- loop\/[ab]: dependency cycle: loop\/[ab] -> loop\/[ab] -> loop\/[ab]$/m,
      );
      expect(r.stderr).toContain('  - lonely/orphan: depends on unknown asset "nowhere/missing"');

      expectExit(verbose, 2);
      expect(verbose.stderr).toContain("Invalid definitions (2 problems)");
      expect(verbose.stderr).toMatch(STACK_LINE);
    });

    test("a definitions file with a syntax error names the file", async ({ onTestFinished }) => {
      const home = await makeHome(onTestFinished);
      // Written at test time (a committed file would break `biome check`); no imports to resolve.
      const file = path.join(home, "broken-defs", "definitions.ts");
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(path.join(path.dirname(file), "package.json"), '{ "type": "module" }\n');
      await writeFile(file, "export const oops = ;\n");
      const r = await baton(["--defs", file, "materialize", "--select", "*"], { home });
      expectUsageError(r);
      expect(r.stderr).toContain(`Could not load definitions from ${file}`);
    });

    test("a definitions file that imports a missing package is reported as a definitions load error", async ({
      onTestFinished,
    }) => {
      const file = path.join(fixture("missing-import"), "definitions.ts");
      const r = await baton(["materialize", "--select", "*"], {
        home: await makeHome(onTestFinished),
        cwd: fixture("missing-import"),
      });
      expectUsageError(r);
      expect(r.stderr).toContain("baton-fixture-no-such-package");
      expect(r.stderr).toContain(`Could not load definitions from ${file}`);
    });

    test("a file exporting no Definitions", async ({ onTestFinished }) => {
      const r = await baton(["materialize", "--select", "*"], {
        home: await makeHome(onTestFinished),
        cwd: fixture("no-definitions"),
      });
      expectUsageError(r);
      expect(r.stderr).toContain(path.join(fixture("no-definitions"), "definitions.ts"));
      expect(r.stderr).toContain("exports no Definitions (exports: answer, helper)");
    });

    test("an unreachable Postgres names BATON_DATABASE_URL and hides the password", async ({
      onTestFinished,
    }) => {
      const r = await baton(["materialize", "--select", "*"], {
        home: await makeHome(onTestFinished),
        env: { BATON_DATABASE_URL: "postgres://u:secret@127.0.0.1:1/db" },
      });
      expectUsageError(r);
      expect(r.stderr).not.toContain("secret");
      expect(r.stderr).toContain("127.0.0.1:1");
      expect(r.stderr).toContain("BATON_DATABASE_URL");
    });
  });

  describe("definitions discovery", () => {
    const assetKeysOf = (r: CliResult) =>
      parseJson<{ assets: AssetJson[] }>(r)
        .assets.map((a) => a.key)
        .sort();

    test("$BATON_DEFS, relative to cwd", async ({ onTestFinished }) => {
      const r = await baton(["asset", "list", "--json"], {
        home: await makeHome(onTestFinished),
        cwd: CLI_FIXTURES, // holds no definitions file itself
        env: { BATON_DEFS: "../basic/definitions.ts" },
      });
      expectExit(r, 0);
      expect(assetKeysOf(r)).toEqual(ASSET_KEYS);
    });

    test('baton.config.json { "defs": … } in cwd', async ({ onTestFinished }) => {
      const r = await baton(["asset", "list", "--json"], {
        home: await makeHome(onTestFinished),
        cwd: fixture("config-file"),
      });
      expectExit(r, 0);
      expect(assetKeysOf(r)).toEqual(ASSET_KEYS);
    });
    // ./definitions.ts in cwd is what every basic-fixture test above relies on (no --defs).
  });

  test("migrate applies migrations on a fresh home, then is up to date", async ({ onTestFinished }) => {
    const home = await makeHome(onTestFinished);
    const db = path.join(home, "baton.db");
    const first = await baton(["migrate"], { home });
    expectExit(first, 0);
    expect(first.stdout).toMatch(
      new RegExp(`^applied [1-9]\\d* migration\\(s\\) to ${escapeRegExp(db)}: \\S+`),
    );
    const second = await baton(["migrate"], { home });
    expectExit(second, 0);
    expect(second.stdout).toBe(`${db} is up to date\n`);
  });

  describe("cancellation with SIGINT", () => {
    async function materializeAndInterrupt(home: string, env: Record<string, string>) {
      const running = startCli(["materialize", "--select", "*", "--json"], {
        home,
        cwd: fixture("cancel"),
        env,
      });
      await running.stderrContains("waiting");
      // Like a user pressing Ctrl-C a moment later: by then the run has nothing to do but wait.
      await new Promise((resolve) => setTimeout(resolve, 750));
      running.child.kill("SIGINT");
      const r = await running.result;
      const list = await baton(["runs", "list", "--json"], { home, cwd: fixture("cancel") });
      expectExit(list, 0);
      return { r, runs: parseJson<{ runs: RunRecordJson[] }>(list).runs };
    }

    test("an asset awaiting ctx.signal: SIGINT cancels the run (exit 1, CANCELED)", async ({
      onTestFinished,
    }) => {
      const { r, runs } = await materializeAndInterrupt(await makeHome(onTestFinished), {});
      expect(r.stderr).toContain("slow/waiter | waiting");
      // Exit code and stored status together, so a failure shows both.
      expect({ code: r.code, stored: runs.map((x) => x.status) }, describeResult(r)).toEqual({
        code: 1,
        stored: ["CANCELED"],
      });
      expect(parseJson<RunJson>(r).status).toBe("CANCELED");
    });

    test("the same asset holding a timer while it waits: SIGINT cancels the run", async ({
      onTestFinished,
    }) => {
      const { r, runs } = await materializeAndInterrupt(await makeHome(onTestFinished), {
        FIXTURE_KEEPALIVE: "1",
      });
      expectExit(r, 1);
      expect(r.stderr).toContain("received SIGINT: canceling the run");
      const run = parseJson<RunJson>(r);
      expect(run.status).toBe("CANCELED");
      expect(stepsByKey(run)["slow/waiter"]?.status).toBe("canceled");
      expect(stepsByKey(run)["slow/after"]?.status).toBe("canceled");
      expect(runs.map((x) => [x.runId, x.status])).toEqual([[run.runId, "CANCELED"]]);
    });
  });

  test("--help lists the commands", async ({ onTestFinished }) => {
    const r = await baton(["--help"], { home: await makeHome(onTestFinished) });
    expectExit(r, 0);
    expect(r.stdout).toContain("Usage: baton");
    for (const command of ["materialize", "reexecute", "asset", "runs", "migrate"])
      expect(r.stdout).toMatch(new RegExp(`^ {2}${command}\\b`, "m"));
    expect(r.stderr).toBe("");
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
