import path from "node:path";
import { fileURLToPath } from "node:url";
import { openInstance } from "@baton/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import partitionedDefinitions from "./fixtures/partitioned/definitions.js";
import {
  type CliResult,
  cliHarness,
  describeResult,
  expectExit,
  expectUsageError,
  UUID,
} from "./support/cli.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PARTITIONED = path.join(ROOT, "tests/fixtures/partitioned");
/** One hourly asset taking ~100 ms per partition: backfills of it last long enough to cancel. */
const SLOW = path.join(ROOT, "tests/fixtures/cli-partitions/slow");

/** A child that has not exited by then is killed and its test fails with its output. */
const HOURLY = "YYYY-MM-DD-HH:mm (hourly, UTC)";
const DAILY = "YYYY-MM-DD (daily, UTC)";
const hour = (day: number, h: number) => `2024-01-0${day}-${String(h).padStart(2, "0")}:00`;
const DAY1_HOURS = Array.from({ length: 24 }, (_, h) => hour(1, h));
/** `--from` / `--to` over the 24 hours of 2024-01-01. */
const DAY1 = ["--from", hour(1, 0), "--to", hour(1, 23)];
/** `--from` / `--to` over the fixture's whole week of hours (168). */
const WEEK = ["--from", hour(1, 0), "--to", hour(7, 23)];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Spawning the CLI (as in tests/cli.test.ts)

const { startCli, baton, makeHome } = cliHarness({
  defaultCwd: PARTITIONED,
  tempPrefix: "baton-cli-partitions-test-",
});
function parseJson<T>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch (error) {
    throw new Error(`stdout is not one JSON document: ${(error as Error).message}\n${describeResult(r)}`);
  }
}

/** Common shape of a usage/definitions/config/store error: exit 2, short message, no stack. */

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// ---------------------------------------------------------------------------------------------
// The `--json` shapes

interface StepJson {
  stepKey: string;
  kind: string | null;
  assetKeys: string[];
  status: string;
  metadata: Record<string, Record<string, unknown>>;
}

interface RunJson {
  runId: string;
  status: string;
  steps: StepJson[];
}

interface RunRecordJson {
  runId: string;
  status: string;
  selection: string;
  partitionKeys: string[] | null;
  backfillId: string | null;
}

interface Counts {
  targeted: number;
  materialized: number;
  failed: number;
  skipped: number;
  canceled: number;
  runs: number;
}

/** `materialize … --json` (a backfill), `backfill retry --json`. */
interface BackfillResultJson {
  backfillId: string;
  status: string;
  counts: Counts;
  /** How many partitions of the anchor asset were asked for. */
  partitionKeys: number;
}

interface BackfillRecordJson {
  backfillId: string;
  status: string;
  selection: string;
  assetKeys: string[];
  partitionKeys: string[];
  options: Record<string, unknown>;
  counts: Counts;
  error: string | null;
  createdAt: number;
  updatedAt: number;
  endedAt: number | null;
}

interface BackfillShowJson extends BackfillRecordJson {
  runsByStatus: Record<string, number>;
  runs: { runId: string; status: string; partitions: string[] }[];
  failures: {
    runId: string;
    assetKeys: string[];
    partitionKeys: string[];
    kind: string;
    stepKey: string | null;
    checkName: string | null;
    message: string;
  }[];
  moreFailures: boolean;
}

interface StatusJson {
  assetKey: string;
  total: number;
  counts: { materialized: number; failed: number; in_progress: number; missing: number };
  ranges: { status: string; start: number; end: number; startKey: string; endKey: string }[];
  freshness: unknown;
  checks: unknown[];
}

interface ReasonJson {
  kind: string;
  message: string;
  upstream?: string;
  upstreamPartitions?: string[];
  upstreamPartition?: string | null;
  causes?: ReasonJson[];
}

interface WhyJson {
  assetKey: string;
  partition: string | null;
  status: string;
  reasons: ReasonJson[];
  freshness: unknown;
}

interface AssetJson {
  key: string;
  lastMaterialization: { runId: string; metadata: Record<string, unknown> } | null;
}

/** The first line `backfill <uuid> started` of a backfill's stderr, as its id. */
function startedId(r: CliResult): string {
  const m = /^backfill (\S+) started$/m.exec(r.stderr);
  expect(m, describeResult(r)).not.toBeNull();
  return m![1]!;
}

/** The closing summary line a backfill prints on stderr. */
function summaryOf(id: string, status: string, c: Counts) {
  return (
    `backfill ${id} ${status}: ${c.runs} runs; asset partitions: ${c.materialized}/${c.targeted} materialized, ` +
    `${c.failed} failed, ${c.skipped} skipped, ${c.canceled} canceled\n`
  );
}

// ---------------------------------------------------------------------------------------------

// Each spawn costs ~0.3-0.5 s (tsx load); tests spawning several in a row get a longer budget.
describe.concurrent("baton CLI: partitions and backfills (end to end)", { timeout: 60_000 }, () => {
  test("materialize -p KEY runs one partition; an invalid key is refused before any run is recorded", async ({
    onTestFinished,
  }) => {
    const home = await makeHome(onTestFinished);
    const bad = await baton(["materialize", "-s", "sensors/readings", "-p", "2024-01-01-5:00", "--json"], {
      home,
    });
    expectUsageError(bad);
    expect(bad.stderr).toContain('Invalid partition key "2024-01-01-5:00" for "sensors/readings"');
    expect(bad.stderr).toContain("expected YYYY-MM-DD-HH:mm");
    expect(bad.stderr).toContain('nearest valid key: "2024-01-01-05:00"');
    expect(bad.stderr).not.toContain("started");

    const r = await baton(["materialize", "-s", "sensors/readings", "-p", hour(1, 5), "--json"], { home });
    expectExit(r, 0);
    const run = parseJson<RunJson>(r);
    expect(run.runId).toMatch(UUID);
    expect(run.status).toBe("SUCCESS");
    expect(run.steps).toEqual([
      expect.objectContaining({
        stepKey: "sensors/readings",
        kind: "asset",
        assetKeys: ["sensors/readings"],
        status: "succeeded",
        metadata: { "sensors/readings": {} },
      }),
    ]);
    expect(r.stderr).toContain(`run ${run.runId} started: 1 step`);
    expect(r.stderr).toContain(`run ${run.runId} SUCCESS in`);

    // Only the good run was recorded, for exactly that partition and outside any backfill.
    const list = await baton(["runs", "list", "--json"], { home });
    expectExit(list, 0);
    expect(parseJson<{ runs: RunRecordJson[] }>(list).runs).toEqual([
      expect.objectContaining({
        runId: run.runId,
        status: "SUCCESS",
        selection: "sensors/readings",
        partitionKeys: [hour(1, 5)],
        backfillId: null,
      }),
    ]);
  });

  test("partition flag misuse: exit 2 with one clear message each", async ({ onTestFinished }) => {
    const home = await makeHome(onTestFinished);
    const readings = ["materialize", "-s", "sensors/readings"];
    const [
      onUnpartitioned,
      noPartition,
      fromOnly,
      fromAndWhich,
      chunkAlone,
      bogus,
      whyNoP,
      showUnknown,
      beforeFirst,
    ] = await Promise.all([
      baton(["materialize", "-s", "sensors/week", "-p", "2024-01-01"], { home }),
      baton(readings, { home }),
      baton([...readings, "--from", hour(1, 0)], { home }),
      baton([...readings, ...DAY1, "--partitions", "missing"], { home }),
      baton([...readings, "-p", hour(1, 5), "--chunk", "2"], { home }),
      baton([...readings, "--partitions", "bogus"], { home }),
      baton(["why", "sensors/daily"], { home }),
      baton(["backfill", "show", "00000000-0000-4000-8000-000000000000"], { home }),
      baton([...readings, "--from", "2023-12-31-23:00", "--to", hour(1, 2)], { home }),
    ]);
    // A well-formed key outside the range (here --from): said so, with the range and the nearest key by time.
    const range = `the partitions run from "${hour(1, 0)}" to "${hour(7, 23)}" (hourly, UTC)`;
    expectUsageError(beforeFirst);
    expect(beforeFirst.stderr).toContain(
      `Invalid partition key "2023-12-31-23:00" for "sensors/readings": it is before the first partition; ${range}; ` +
        `nearest valid key: "${hour(1, 0)}"`,
    );
    expectUsageError(onUnpartitioned);
    expect(onUnpartitioned.stderr).toContain(
      "A partition was given, but none of the selected assets is partitioned. Drop --partition/--from/--to.",
    );
    expectUsageError(noPartition);
    expect(noPartition.stderr).toContain(
      `"sensors/readings" is partitioned (${HOURLY}): choose partitions with --partition KEY or --from A --to B.`,
    );
    expectUsageError(fromOnly);
    expect(fromOnly.stderr).toContain("--from and --to go together");
    expectUsageError(fromAndWhich);
    expect(fromAndWhich.stderr).toContain("use one of --partition, --from/--to and --partitions");
    expectUsageError(chunkAlone);
    expect(chunkAlone.stderr).toContain("--single-run, --chunk and --runs apply to backfills");
    expectUsageError(bogus);
    expect(bogus.stderr).toContain('--partitions must be all, missing, failed or stale (got "bogus")');
    expectUsageError(whyNoP);
    expect(whyNoP.stderr).toContain(`"sensors/daily" is partitioned (${DAILY}): pass --partition KEY`);
    expectUsageError(showUnknown);
    expect(showUnknown.stderr).toContain("Backfill 00000000-0000-4000-8000-000000000000 was not found");
  });

  describe("a backfill of sensors/readings* over one day, then asset status and why", () => {
    let home = "";
    let backfill: CliResult;
    let result: BackfillResultJson;
    let shown: CliResult;
    let statusText: CliResult;
    let statusJson: CliResult;
    const cleanups: (() => Promise<void>)[] = [];

    beforeAll(async () => {
      home = await makeHome((fn) => cleanups.push(fn));
      backfill = await baton(["materialize", "-s", "sensors/readings*", ...DAY1, "--json"], { home });
      result = parseJson<BackfillResultJson>(backfill);
      // Read-only commands, before the `why` test materializes anything more.
      [shown, statusText, statusJson] = await Promise.all([
        baton(["backfill", "show", result.backfillId, "--json"], { home }),
        baton(["asset", "status", "sensors/readings"], { home }),
        baton(["asset", "status", "sensors/readings", "--json"], { home }),
      ]);
    });
    afterAll(async () => {
      for (const fn of cleanups) await fn();
    });

    test("24 hours + 1 day succeed; sensors/week (reads all 7 days, only 1 exists) fails: FAILED, exit 1", () => {
      expectExit(backfill, 1);
      const counts = { targeted: 26, materialized: 25, failed: 1, skipped: 0, canceled: 0, runs: 26 };
      expect(result).toEqual({
        backfillId: expect.stringMatching(UUID),
        status: "FAILED",
        counts,
        partitionKeys: 24,
      });
      const id = result.backfillId;
      expect(startedId(backfill)).toBe(id);
      expect(backfill.stderr.startsWith(`backfill ${id} started\n`), backfill.stderr).toBe(true);
      expect(backfill.stderr.endsWith(summaryOf(id, "FAILED", counts)), backfill.stderr).toBe(true);
      expect(backfill.stdout).not.toContain("started");
    });

    test("backfill show --json: one run per hour and for the day succeeded; the week's run failed", () => {
      expectExit(shown, 0);
      const show = parseJson<BackfillShowJson>(shown);
      expect(show).toMatchObject({
        backfillId: result.backfillId,
        status: "FAILED",
        selection: "sensors/readings*",
        assetKeys: ["sensors/readings", "sensors/daily", "sensors/week"],
        partitionKeys: DAY1_HOURS,
        counts: result.counts,
        error: null,
        endedAt: expect.any(Number),
        runsByStatus: { SUCCESS: 25, FAILURE: 1 },
      });
      expect(show.runs).toHaveLength(26);
      expect(show.runs.filter((r) => r.status === "FAILURE").map((r) => r.partitions)).toEqual([[]]);
      // Why it failed: the failed step and its first error.
      const failedRun = show.runs.find((r) => r.status === "FAILURE")!;
      expect(show.failures).toEqual([
        {
          runId: failedRun.runId,
          assetKeys: ["sensors/week"],
          partitionKeys: [],
          kind: "step",
          stepKey: "sensors/week",
          checkName: null,
          message: expect.stringMatching(
            /^Error in loading input "sensors\/daily" partition "2024-01-02" for "sensors\/week": No stored value /,
          ),
        },
      ]);
      expect(show.moreFailures).toBe(false);
      expect(
        show.runs
          .filter((r) => r.status === "SUCCESS")
          .flatMap((r) => r.partitions)
          .sort(),
      ).toEqual([...DAY1_HOURS, "2024-01-01"].sort());
    });

    test("asset status: counts and ranges, as text and as JSON", () => {
      expectExit(statusText, 0);
      expect(statusText.stdout).toBe(
        [
          "sensors/readings: 168 partitions",
          "  materialized 24",
          "  failed       0",
          "  in_progress  0",
          "  missing      144",
          "ranges:",
          "  materialized 2024-01-01-00:00 … 2024-01-01-23:00 (24)",
          "  missing      2024-01-02-00:00 … 2024-01-07-23:00 (144)",
          "",
        ].join("\n"),
      );
      expectExit(statusJson, 0);
      expect(parseJson<StatusJson>(statusJson)).toEqual({
        assetKey: "sensors/readings",
        total: 168,
        counts: { materialized: 24, failed: 0, in_progress: 0, missing: 144 },
        ranges: [
          { status: "materialized", start: 0, end: 23, startKey: hour(1, 0), endKey: hour(1, 23) },
          { status: "missing", start: 24, end: 167, startKey: hour(2, 0), endKey: hour(7, 23) },
        ],
        freshness: null,
        checks: [],
      });
    });

    test("why: up to date; stale once an hour is re-materialized; code version change; week missing", async () => {
      const [fresh, week] = await Promise.all([
        baton(["why", "sensors/daily", "-p", "2024-01-01"], { home }),
        baton(["why", "sensors/week"], { home }),
      ]);
      expectExit(fresh, 0);
      expect(fresh.stdout).toMatch(/^sensors\/daily \[2024-01-01\] is up to date \(materialized \S+\)\.$/m);
      // Day 7 closed long ago and was never materialized (freshness: maxLagMinutes 60).
      expect(fresh.stdout).toContain(
        "It is overdue: partition 2024-01-07 closed at 2024-01-08T00:00:00.000Z and is not materialized",
      );
      expectExit(week, 0);
      expect(week.stdout).toBe("sensors/week is missing: it has never been materialized.\n");

      // New data for one hour (the same data again would leave the day fresh: data versions).
      const again = await baton(["materialize", "-s", "sensors/readings", "-p", hour(1, 3)], {
        home,
        env: { FIXTURE_READINGS_OFFSET: "100" },
      });
      expectExit(again, 0);
      const [stale, v2] = await Promise.all([
        baton(["why", "sensors/daily", "-p", "2024-01-01"], { home }),
        baton(["why", "sensors/daily", "-p", "2024-01-01", "--json"], {
          home,
          env: { FIXTURE_CODE_VERSION: "2" },
        }),
      ]);
      expectExit(stale, 0);
      const lines = stale.stdout.split("\n");
      expect(lines[0]).toBe("sensors/daily [2024-01-01] is stale:");
      expect(lines[1]).toMatch(
        /^ {2}- upstream sensors\/readings \[2024-01-01-03:00\] data version changed since sensors\/daily \[2024-01-01\] was materialized \(\S+\)$/,
      );
      expect(lines[2]).toMatch(/^It is overdue: /);

      expectExit(v2, 0);
      const why = parseJson<WhyJson>(v2);
      expect(why).toMatchObject({ assetKey: "sensors/daily", partition: "2024-01-01", status: "stale" });
      expect(why.reasons[0]).toMatchObject({
        kind: "upstream_newer",
        upstream: "sensors/readings",
        upstreamPartitions: [hour(1, 3)],
      });
      // Every hour was materialized with code version "1": each followed hour is stale for that.
      const upstreamStale = why.reasons.filter((r) => r.kind === "upstream_stale");
      expect(upstreamStale.length).toBeGreaterThan(0);
      expect(why.reasons.map((r) => r.kind)).toEqual([
        "upstream_newer",
        ...upstreamStale.map(() => "upstream_stale"),
      ]);
      for (const r of upstreamStale) {
        expect(r.upstream).toBe("sensors/readings");
        expect(r.causes).toEqual([
          expect.objectContaining({
            kind: "code_version",
            message: `code version changed from "1" to "2" since sensors/readings [${r.upstreamPartition}] was materialized`,
          }),
        ]);
      }
    });
  });

  test("a backfill of sensors/readings alone completes (exit 0); --partitions missing then targets only the other hours", async ({
    onTestFinished,
  }) => {
    const home = await makeHome(onTestFinished);
    const day = await baton(["materialize", "-s", "sensors/readings", ...DAY1, "--json"], { home });
    expectExit(day, 0);
    const counts = { targeted: 24, materialized: 24, failed: 0, skipped: 0, canceled: 0, runs: 24 };
    const dayResult = parseJson<BackfillResultJson>(day);
    expect(dayResult).toEqual({
      backfillId: expect.stringMatching(UUID),
      status: "COMPLETED",
      counts,
      partitionKeys: 24,
    });
    expect(startedId(day)).toBe(dayResult.backfillId);
    expect(day.stderr.endsWith(summaryOf(dayResult.backfillId, "COMPLETED", counts)), day.stderr).toBe(true);

    const missing = await baton(
      ["materialize", "-s", "sensors/readings", "--partitions", "missing", "--json"],
      {
        home,
      },
    );
    expectExit(missing, 0);
    expect(parseJson<BackfillResultJson>(missing)).toEqual({
      backfillId: expect.stringMatching(UUID),
      status: "COMPLETED",
      counts: { targeted: 144, materialized: 144, failed: 0, skipped: 0, canceled: 0, runs: 144 },
      partitionKeys: 144,
    });
  });

  describe("a backfill with a failing hour, its retry, a forced retry, and backfill list/show/cancel", () => {
    let home = "";
    let failed: CliResult;
    let failedResult: BackfillResultJson;
    let retried: CliResult;
    let retryResult: BackfillResultJson;
    let shownRetry: CliResult;
    let nothingLeft: CliResult;
    let forced: CliResult;
    let forcedResult: BackfillResultJson;
    const cleanups: (() => Promise<void>)[] = [];

    beforeAll(async () => {
      home = await makeHome((fn) => cleanups.push(fn));
      failed = await baton(["materialize", "-s", "sensors/readings+", ...DAY1, "--json"], {
        home,
        env: { FIXTURE_FAIL_HOUR: hour(1, 3) },
      });
      failedResult = parseJson<BackfillResultJson>(failed);
      // Without FIXTURE_FAIL_HOUR this time: the hour succeeds.
      retried = await baton(["backfill", "retry", failedResult.backfillId, "--json"], { home });
      retryResult = parseJson<BackfillResultJson>(retried);
      [shownRetry, nothingLeft] = await Promise.all([
        baton(["backfill", "show", retryResult.backfillId, "--json"], { home }),
        baton(["backfill", "retry", retryResult.backfillId], { home }),
      ]);
      forced = await baton(["backfill", "retry", retryResult.backfillId, "--force", "--json"], { home });
      forcedResult = parseJson<BackfillResultJson>(forced);
    });
    afterAll(async () => {
      for (const fn of cleanups) await fn();
    });

    test("FIXTURE_FAIL_HOUR: that hour fails and the day is skipped; exit 1", () => {
      expectExit(failed, 1);
      const counts = { targeted: 25, materialized: 23, failed: 1, skipped: 1, canceled: 0, runs: 24 };
      expect(failedResult).toEqual({
        backfillId: expect.stringMatching(UUID),
        status: "FAILED",
        counts,
        partitionKeys: 24,
      });
      expect(
        failed.stderr.endsWith(summaryOf(failedResult.backfillId, "FAILED", counts)),
        failed.stderr,
      ).toBe(true);
    });

    test("backfill retry runs only the failed hour and the skipped day: COMPLETED, exit 0", () => {
      expectExit(retried, 0);
      const id = retryResult.backfillId;
      expect(id).not.toBe(failedResult.backfillId);
      const counts = { targeted: 25, materialized: 25, failed: 0, skipped: 0, canceled: 0, runs: 2 };
      expect(retryResult).toEqual({
        backfillId: expect.stringMatching(UUID),
        status: "COMPLETED",
        counts,
        partitionKeys: 24,
      });
      expect(retried.stderr).toContain(`retrying ${failedResult.backfillId} as backfill ${id}\n`);
      expect(retried.stderr).toContain(`backfill ${id} started\n`);
      expect(retried.stderr.endsWith(summaryOf(id, "COMPLETED", counts)), retried.stderr).toBe(true);

      expectExit(shownRetry, 0);
      const show = parseJson<BackfillShowJson>(shownRetry);
      expect(show).toMatchObject({
        backfillId: id,
        status: "COMPLETED",
        selection: "sensors/readings+",
        partitionKeys: DAY1_HOURS,
        options: { parentBackfillId: failedResult.backfillId },
        counts,
        runsByStatus: { SUCCESS: 2 },
      });
      expect(show.runs.map((r) => ({ status: r.status, partitions: r.partitions }))).toEqual(
        expect.arrayContaining([
          { status: "SUCCESS", partitions: [hour(1, 3)] },
          { status: "SUCCESS", partitions: ["2024-01-01"] },
        ]),
      );
      expect(show.runs).toHaveLength(2);
    });

    test("retrying a completed retry: 'nothing left to retry' (exit 2); --force runs everything again", () => {
      expectUsageError(nothingLeft);
      expect(nothingLeft.stderr).toContain(
        `Backfill ${retryResult.backfillId} has nothing left to retry; pass --force to run it all again.`,
      );
      expectExit(forced, 0);
      expect(forcedResult).toEqual({
        backfillId: expect.stringMatching(UUID),
        status: "COMPLETED",
        counts: { targeted: 25, materialized: 25, failed: 0, skipped: 0, canceled: 0, runs: 25 },
        partitionKeys: 24,
      });
    });

    test("backfill list --json: newest first, retries pointing at their parent", async () => {
      const r = await baton(["backfill", "list", "--json"], { home });
      expectExit(r, 0);
      const page = parseJson<{ backfills: BackfillRecordJson[]; nextCursor: string | null }>(r);
      expect(page.backfills.map((b) => [b.backfillId, b.status, b.options.parentBackfillId ?? null])).toEqual(
        [
          [forcedResult.backfillId, "COMPLETED", retryResult.backfillId],
          [retryResult.backfillId, "COMPLETED", failedResult.backfillId],
          [failedResult.backfillId, "FAILED", null],
        ],
      );
      expect(page.backfills[0]?.options.force).toBe(true);
      for (const b of page.backfills)
        expect(b).toMatchObject({
          selection: "sensors/readings+",
          assetKeys: ["sensors/readings", "sensors/daily"],
          partitionKeys: DAY1_HOURS,
        });
      expect(page.nextCursor).toBeNull();
    });

    test("backfill show ID (text): header, counts, runs and the failed run's partition", async () => {
      const id = failedResult.backfillId;
      const r = await baton(["backfill", "show", id], { home });
      expectExit(r, 0);
      const lines = r.stdout.trimEnd().split("\n");
      expect(lines.slice(0, 3)).toEqual([
        `backfill ${id}  FAILED  selection: sensors/readings+`,
        "partitions: 24 (2024-01-01-00:00 … 2024-01-01-23:00)",
        "asset partitions: 23/25 materialized, 1 failed, 1 skipped, 0 canceled",
      ]);
      // Why the day was skipped (it has no run of its own), naming the failed upstream hour.
      expect(lines[3]).toMatch(
        new RegExp(
          `^sensors/daily \\[2024-01-01\\] skipped: upstream sensors/readings \\[${escapeRegExp(hour(1, 3))}\\] failed: step "sensors/readings" failed: .*no data for ${escapeRegExp(hour(1, 3))}.* \\(run [0-9a-f-]{36}\\)$`,
        ),
      );
      expect(lines[4]).toMatch(/^runs: 24 \((23 SUCCESS, 1 FAILURE|1 FAILURE, 23 SUCCESS)\)$/);
      // Why the hour failed: partition, the failed step and its error (without Baton's "Error in asset" prefix).
      expect(lines[5]).toBe("failures (1 failed run; partition: first error):");
      expect(lines[6]).toMatch(
        new RegExp(
          `^ {2}${escapeRegExp(hour(1, 3))}: step "sensors/readings" failed: no data for ${escapeRegExp(hour(1, 3))} \\(run [0-9a-f-]{36}\\)$`,
        ),
      );
      expect(lines).toHaveLength(7);
      expect(r.stderr).toBe("");
    });

    test("backfill cancel of a backfill that already ended: exit 2", async () => {
      const r = await baton(["backfill", "cancel", retryResult.backfillId], { home });
      expectUsageError(r);
      expect(r.stderr).toContain(`Backfill ${retryResult.backfillId} already ended (COMPLETED).`);
    });
  });

  describe("canceling backfills", () => {
    test("a REQUESTED backfill (nobody drives it) is CANCELED at once; resume then refuses it", async ({
      onTestFinished,
    }) => {
      const home = await makeHome(onTestFinished);
      // Stored but not started (as if its process died before running it): via the public API.
      const instance = await openInstance({ home, env: {} });
      let id: string;
      try {
        const record = await instance.createBackfill(partitionedDefinitions, {
          selection: "sensors/readings",
          partitions: { range: { from: hour(1, 0), to: hour(1, 23) } },
        });
        expect(record.status).toBe("REQUESTED");
        id = record.backfillId;
      } finally {
        await instance.close();
      }
      const r = await baton(["backfill", "cancel", id], { home });
      expectExit(r, 0);
      expect(r.stdout).toBe(`backfill ${id} CANCELED\n`);
      const resume = await baton(["backfill", "resume", id], { home });
      expectExit(resume, 2);
      expect(resume.stdout).toBe("");
      expect(resume.stderr).toContain(
        `error: Backfill ${id} was canceled; retry it with \`baton backfill retry ${id}\`.`,
      );
    });

    test("backfill resume of an unknown backfill: exit 2 without first claiming it started", async ({
      onTestFinished,
    }) => {
      const unknown = "00000000-0000-4000-8000-000000000000";
      const r = await baton(["backfill", "resume", unknown], { home: await makeHome(onTestFinished) });
      expectUsageError(r);
      expect(r.stderr).toContain(`Backfill ${unknown} was not found`);
      expect(r.stderr).not.toContain("started");
    });

    test("baton backfill cancel from another process stops a running backfill: exit 1, CANCELED", async ({
      onTestFinished,
    }) => {
      const home = await makeHome(onTestFinished);
      // 168 runs of ~100 ms, one at a time: 17 s or more unless canceled.
      const running = startCli(["materialize", "-s", "slow/ticks", ...WEEK, "--runs", "1", "--json"], {
        home,
        cwd: SLOW,
      });
      onTestFinished(() => {
        if (running.child.exitCode === null && running.child.signalCode === null)
          running.child.kill("SIGKILL");
      });
      // The first progress line is printed once the backfill is stored as RUNNING.
      await running.stderrContains("units settled");
      let listed: BackfillRecordJson[] = [];
      for (let attempt = 0; attempt < 10; attempt++) {
        const list = await baton(["backfill", "list", "--json"], { home, cwd: SLOW });
        expectExit(list, 0);
        listed = parseJson<{ backfills: BackfillRecordJson[] }>(list).backfills;
        if (listed[0]?.status === "RUNNING") break;
        await sleep(100);
      }
      expect(listed.map((b) => b.status)).toEqual(["RUNNING"]);
      const id = listed[0]!.backfillId;

      const cancel = await baton(["backfill", "cancel", id], { home, cwd: SLOW });
      expectExit(cancel, 0);
      expect(cancel.stdout).toBe(`backfill ${id} CANCELING\n`);

      const r = await running.result;
      expectExit(r, 1);
      const result = parseJson<BackfillResultJson>(r);
      expect(result).toMatchObject({ backfillId: id, status: "CANCELED", partitionKeys: 168 });
      expect(r.stderr.endsWith(summaryOf(id, "CANCELED", result.counts)), r.stderr).toBe(true);

      const show = await baton(["backfill", "show", id, "--json"], { home, cwd: SLOW });
      expectExit(show, 0);
      const shown = parseJson<BackfillShowJson>(show);
      expect(shown.status).toBe("CANCELED");
      expect(shown.endedAt).toEqual(expect.any(Number));
      expect(shown.counts).toEqual(result.counts);
      const c = shown.counts;
      expect(c).toMatchObject({ targeted: 168, failed: 0, skipped: 0 });
      expect(c.canceled).toBeGreaterThan(0);
      expect(c.materialized + c.canceled).toBe(168);
      expect(c.runs).toBeLessThan(168);
      expect(shown.runs).toHaveLength(c.runs);
    });

    test("SIGINT to a running backfill cancels it: exit 1, CANCELED", async ({ onTestFinished }) => {
      const home = await makeHome(onTestFinished);
      const running = startCli(["materialize", "-s", "slow/ticks", ...WEEK, "--json"], { home, cwd: SLOW });
      onTestFinished(() => {
        if (running.child.exitCode === null && running.child.signalCode === null)
          running.child.kill("SIGKILL");
      });
      await running.stderrContains("units settled");
      await sleep(300); // a few runs done, a few in flight
      running.child.kill("SIGINT");
      const r = await running.result;
      expectExit(r, 1);
      expect(r.stderr).toContain("received SIGINT: canceling the backfill");
      const result = parseJson<BackfillResultJson>(r);
      expect(result.status).toBe("CANCELED");
      const c = result.counts;
      expect(c).toMatchObject({ targeted: 168, failed: 0, skipped: 0 });
      expect(c.canceled).toBeGreaterThan(0);
      expect(c.materialized + c.canceled).toBe(168);
      expect(r.stderr.endsWith(summaryOf(result.backfillId, "CANCELED", c)), r.stderr).toBe(true);
    });
  });

  test("--single-run on sensors/bulk: one run over the 5 days, whose body sees 5 partition keys", async ({
    onTestFinished,
  }) => {
    const home = await makeHome(onTestFinished);
    const r = await baton(
      [
        "materialize",
        "-s",
        "sensors/bulk",
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-05",
        "--single-run",
        "--json",
      ],
      { home },
    );
    expectExit(r, 0);
    const result = parseJson<BackfillResultJson>(r);
    expect(result).toEqual({
      backfillId: expect.stringMatching(UUID),
      status: "COMPLETED",
      counts: { targeted: 5, materialized: 5, failed: 0, skipped: 0, canceled: 0, runs: 1 },
      partitionKeys: 5,
    });
    const [show, assets] = await Promise.all([
      baton(["backfill", "show", result.backfillId, "--json"], { home }),
      baton(["asset", "list", "--json"], { home }),
    ]);
    expectExit(show, 0);
    const runs = parseJson<BackfillShowJson>(show).runs;
    expect(runs).toEqual([
      {
        runId: expect.stringMatching(UUID),
        status: "SUCCESS",
        partitions: ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"],
      },
    ]);
    expectExit(assets, 0);
    const bulk = parseJson<{ assets: AssetJson[] }>(assets).assets.find((a) => a.key === "sensors/bulk");
    expect(bulk?.lastMaterialization).toMatchObject({ runId: runs[0]!.runId, metadata: { partitions: 5 } });
  });

  test("--chunk 2 on sensors/bulk overrides its single-run policy: 3 runs of at most 2 days", async ({
    onTestFinished,
  }) => {
    const home = await makeHome(onTestFinished);
    const r = await baton(
      [
        "materialize",
        "-s",
        "sensors/bulk",
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-05",
        "--chunk",
        "2",
        "--json",
      ],
      { home },
    );
    expectExit(r, 0);
    expect(parseJson<BackfillResultJson>(r)).toEqual({
      backfillId: expect.stringMatching(UUID),
      status: "COMPLETED",
      counts: { targeted: 5, materialized: 5, failed: 0, skipped: 0, canceled: 0, runs: 3 },
      partitionKeys: 5,
    });
  });

  test("why stays correct past the first upstream partitions: a stale hour late in the day makes the day stale", async ({
    onTestFinished,
  }) => {
    const home = await makeHome(onTestFinished);
    const v1 = await baton(["materialize", "-s", "sensors/readings+", ...DAY1], { home });
    expectExit(v1, 0);
    // Code version 2 for hours 00:00-02:00 only, and the day recomputed after them.
    const v2env = { FIXTURE_CODE_VERSION: "2" };
    const v2 = await baton(
      ["materialize", "-s", "sensors/readings+", "--from", hour(1, 0), "--to", hour(1, 2)],
      {
        home,
        env: v2env,
      },
    );
    expectExit(v2, 0);
    const r = await baton(["why", "sensors/daily", "-p", "2024-01-01", "--json"], { home, env: v2env });
    expectExit(r, 0);
    const why = parseJson<WhyJson>(r);
    // Hours 03:00-23:00 were materialized with code version "1" and are stale under "2"…
    // …so the day computed from them is stale too.
    expect(why.status).toBe("stale");
    expect(why.reasons).toContainEqual(
      expect.objectContaining({
        kind: "upstream_stale",
        upstream: "sensors/readings",
        upstreamPartition: hour(1, 3),
      }),
    );
  });

  describe("dynamic partitions", () => {
    let home = "";
    let added: CliResult;
    let addedAgain: CliResult;
    let listed: CliResult;
    let eu: CliResult;
    let asia: CliResult;
    let invalidKey: CliResult;
    let removed: CliResult;
    let statusAfterRemove: CliResult;
    let typo: CliResult;
    let typoList: CliResult;
    const cleanups: (() => Promise<void>)[] = [];

    beforeAll(async () => {
      home = await makeHome((fn) => cleanups.push(fn));
      added = await baton(["partitions", "add", "regions", "eu", "us"], { home });
      addedAgain = await baton(["partitions", "add", "regions", "eu", "us"], { home });
      [listed, eu, asia, invalidKey] = await Promise.all([
        baton(["partitions", "list", "regions", "--json"], { home }),
        baton(["materialize", "-s", "sensors/regional", "-p", "eu", "--json"], { home }),
        baton(["materialize", "-s", "sensors/regional", "-p", "asia"], { home }),
        baton(["partitions", "add", "regions", "a|b"], { home }),
      ]);
      removed = await baton(["partitions", "remove", "regions", "eu", "nope"], { home });
      [typo, typoList] = await Promise.all([
        baton(["partitions", "add", "regionz", "eu"], { home }),
        baton(["partitions", "list", "regionz"], { home }),
      ]);
      statusAfterRemove = await baton(["asset", "status", "sensors/regional", "--json"], { home });
    });
    afterAll(async () => {
      for (const fn of cleanups) await fn();
    });

    test("partitions add: 'added 2', then 'already there'; list --json keeps insertion order", () => {
      expectExit(added, 0);
      expect(added.stdout).toBe("added 2 key(s) to regions\n");
      expectExit(addedAgain, 0);
      expect(addedAgain.stdout).toBe("added 0 key(s) to regions (2 already there)\n");
      expectExit(listed, 0);
      expect(parseJson(listed)).toEqual({ name: "regions", keys: ["eu", "us"] });
    });

    test("materialize -p: a key that was added runs; one that was not is refused with the expected format", () => {
      expectExit(eu, 0);
      expect(parseJson<RunJson>(eu)).toMatchObject({
        status: "SUCCESS",
        steps: [{ stepKey: "sensors/regional", status: "succeeded" }],
      });
      expectUsageError(asia);
      expect(asia.stderr).toContain('Invalid partition key "asia" for "sensors/regional"');
      expect(asia.stderr).toContain(
        'expected a key added to dynamic partitions "regions" (baton partitions add regions KEY)',
      );
    });

    test("partitions add/list of a name the definitions do not declare: exit 2 with did-you-mean, nothing stored", async () => {
      for (const r of [typo, typoList]) {
        expectUsageError(r);
        expect(r.stderr).toContain(
          'No dynamic partitions named "regionz" in the definitions (did you mean "regions"?); declared: regions',
        );
      }
      const listed = await baton(["partitions", "list", "regions", "--json"], { home });
      expect(parseJson<{ keys: string[] }>(listed).keys).not.toContain("regionz");
    });

    test("partitions add of an invalid key: exit 2", () => {
      expectUsageError(invalidKey);
      expect(invalidKey.stderr).toContain('invalid partition key "a|b"');
    });

    test("partitions remove names the keys that were not there", () => {
      expectExit(removed, 0);
      expect(removed.stdout).toBe("removed 1 key(s) from regions; not present: nope\n");
    });

    test("after removing a materialized key, asset status does not pass its status on to another key", () => {
      expectExit(statusAfterRemove, 0);
      // Left: "us", never materialized ("eu" was the one materialized, and is gone).
      expect(parseJson<StatusJson>(statusAfterRemove)).toMatchObject({
        assetKey: "sensors/regional",
        total: 1,
        counts: { materialized: 0, failed: 0, in_progress: 0, missing: 1 },
        ranges: [{ status: "missing", start: 0, end: 0, startKey: "us", endKey: "us" }],
      });
    });
  });
});
