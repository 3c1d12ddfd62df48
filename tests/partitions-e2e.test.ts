/**
 * End-to-end tests of partitions through the public API, on every storage backend (SQLite and a
 * throwaway Postgres; select with BATON_TEST_STORAGE=sqlite|postgres|all, default all, and CI never
 * skips Postgres): partitioned runs of every kind of definition, partition mappings as seen in the
 * values bodies receive, range runs, partition status, staleness, freshness and backfills.
 *
 * Each test opens its own instance with `openInstance` on a fresh temp home (the default IO
 * manager writes there) and, for Postgres, a fresh database; definitions are built per test so the
 * bodies can record what they saw.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { loadKeySpaces } from "../packages/core/src/instance/run-partitions-request.js";
import {
  asset,
  type BatonInstance,
  createStalenessResolver,
  dailyPartitions,
  defineDefinitions,
  dynamicPartitions,
  evaluateFreshness,
  hourlyPartitions,
  InvalidDefinitionError,
  InvalidPartitionKeyError,
  lastPartitionMapping,
  mapped,
  monthlyPartitions,
  multiPartitions,
  multiRunBackfill,
  openInstance,
  partitionStatus,
  type RunRecord,
  type Staleness,
  type StaleReason,
  type Storage,
  singleRunBackfill,
  staticMapping,
  staticPartitions,
  timeWindowMapping,
} from "../packages/core/src/internal.js";
import { type StorageBackend, type StorageLocation, storageBackends } from "./support/storage-backends.js";

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** Every run (oldest first), optionally of one backfill. */
async function allRuns(storage: Storage, backfillId?: string): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await storage.listRuns({
      limit: 1000,
      ...(backfillId !== undefined ? { backfillId } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
    });
    out.push(...page.runs);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return out.reverse();
}

/** The keys of `n` consecutive UTC hours from `startIso` (hourly key format). */
function hourKeys(startIso: string, n: number): string[] {
  const start = Date.parse(startIso);
  return Array.from({ length: n }, (_, i) => {
    const d = new Date(start + i * HOUR).toISOString();
    return `${d.slice(0, 10)}-${d.slice(11, 16)}`;
  });
}

/** What an async call threw (fails the test when it did not throw). */
async function thrown(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the call to throw, but it returned");
}

function thrownSync(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the call to throw, but it returned");
}

/** Hourly raw → daily clean (default time-window mapping) over `days` days from 2024-01-01 (UTC). */
function hourlyDaily(
  days: number,
  options: {
    failHours?: Set<string>;
    /** Hours whose data changed (their value + 100), so re-materializing them is a real change. */
    changedHours?: ReadonlySet<string>;
    cleanCodeVersion?: string;
    onRaw?: (key: string) => void;
    onClean?: (key: string, hours: string[]) => void;
  } = {},
) {
  const end = `2024-01-${String(1 + days).padStart(2, "0")}`;
  const hours = hourlyPartitions({ start: "2024-01-01", end });
  const daysDef = dailyPartitions({ start: "2024-01-01", end });
  const raw = asset({ key: "raw", partitions: hours, codeVersion: "1" }, (ctx) => {
    const out: Record<string, number> = {};
    for (const key of ctx.partitionKeys) {
      options.onRaw?.(key);
      if (options.failHours?.has(key)) throw new Error(`no data for hour ${key}`);
      out[key] = Number(key.slice(11, 13)) + (options.changedHours?.has(key) ? 100 : 0);
    }
    // A run over several hours returns them keyed by partition; each stored value is a number.
    return ctx.partitionKeys.length === 1 ? out[ctx.partitionKeys[0]!]! : (out as unknown as number);
  });
  const clean = asset(
    {
      key: "clean",
      partitions: daysDef,
      ins: { raw },
      ...(options.cleanCodeVersion !== undefined ? { codeVersion: options.cleanCodeVersion } : {}),
    },
    (ctx, { raw }) => {
      const byDay: Record<string, number> = {};
      for (const day of ctx.partitionKeys) {
        const hoursOfDay = Object.keys(raw).filter((h) => h.startsWith(day));
        options.onClean?.(day, hoursOfDay);
        byDay[day] = hoursOfDay.reduce((sum, h) => sum + raw[h]!, 0);
      }
      return ctx.partitionKeys.length === 1 ? byDay[ctx.partitionKeys[0]!]! : (byDay as unknown as number);
    },
  );
  return { hours, days: daysDef, raw, clean };
}

// ---------------------------------------------------------------------------------------------------------
// The suite, once per backend
// ---------------------------------------------------------------------------------------------------------

for (const backend of storageBackends()) {
  describe.skipIf(backend.skipReason !== null)(`partitions end to end on ${backend.name}`, () => {
    partitionsSuite(backend);
  });
}

function partitionsSuite(backend: StorageBackend): void {
  let home: string;
  let location: StorageLocation | undefined;
  let instance: BatonInstance;
  let storage: Storage;

  beforeAll(async () => {
    await backend.start();
  });
  afterAll(async () => {
    await backend.stop();
  });
  beforeEach(async () => {
    home = await mkdtemp(path.join(tmpdir(), "baton-partitions-e2e-"));
    location = backend.name === "postgres" ? await backend.createLocation() : undefined;
    const databaseUrl = location?.options.databaseUrl;
    instance = await openInstance({ home, ...(databaseUrl ? { databaseUrl } : {}), env: {} });
    storage = instance.storage;
    expect(storage.dialect).toBe(backend.name);
  });
  afterEach(async () => {
    vi.useRealTimers();
    await instance.close();
    if (location) await backend.destroyLocation(location);
    await rm(home, { recursive: true, force: true });
  });

  // -------------------------------------------------------------------------------------------------------
  // 1. Partitioned runs
  // -------------------------------------------------------------------------------------------------------

  describe("partitioned runs", () => {
    it("static partitions: the body sees its key, no time window, no dimensions", async () => {
      const seen: unknown[] = [];
      const colors = asset(
        { key: "colors", partitions: staticPartitions(["red", "green", "blue"]) },
        (ctx) => {
          seen.push([ctx.partitionKey, ctx.partitionKeys, ctx.partitionTimeWindow, ctx.partitionDimensions]);
          return ctx.partitionKey.toUpperCase();
        },
      );
      const defs = defineDefinitions({ assets: [colors] });
      const summary = await instance.materialize(defs, { partitions: { keys: ["green"] } });
      expect(summary.status).toBe("SUCCESS");
      expect(seen).toEqual([["green", ["green"], undefined, undefined]]);
      const [run] = await allRuns(storage);
      expect(run!.partitionKeys).toEqual(["green"]);
      const rows = await storage.getPartitions("colors");
      expect(rows.map((r) => [r.partitionKey, r.partitionIndex, r.status])).toEqual([
        ["green", 1, "materialized"],
      ]);
    });

    it("daily partitions in UTC and America/New_York: exact windows, 23 h on the DST day", async () => {
      const seen: Record<string, { key: string; start: string; end: string }> = {};
      const utc = asset(
        { key: "daily_utc", partitions: dailyPartitions({ start: "2024-03-01", end: "2024-03-20" }) },
        (ctx) => {
          const w = ctx.partitionTimeWindow;
          seen.utc = { key: ctx.partitionKey, start: w.start.toISOString(), end: w.end.toISOString() };
          return 1;
        },
      );
      const ny = asset(
        {
          key: "daily_ny",
          partitions: dailyPartitions({
            start: "2024-03-01",
            end: "2024-03-20",
            timezone: "America/New_York",
          }),
        },
        (ctx) => {
          const w = ctx.partitionTimeWindow;
          seen.ny = { key: ctx.partitionKey, start: w.start.toISOString(), end: w.end.toISOString() };
          return 2;
        },
      );
      const defs = defineDefinitions({ assets: [utc, ny] });
      expect(
        (await instance.materialize(defs, { selection: "daily_utc", partitions: { keys: ["2024-03-10"] } }))
          .status,
      ).toBe("SUCCESS");
      expect(
        (await instance.materialize(defs, { selection: "daily_ny", partitions: { keys: ["2024-03-10"] } }))
          .status,
      ).toBe("SUCCESS");
      expect(seen.utc).toEqual({
        key: "2024-03-10",
        start: "2024-03-10T00:00:00.000Z",
        end: "2024-03-11T00:00:00.000Z",
      });
      // New York springs forward on 2024-03-10: midnight EST (-05:00) to midnight EDT (-04:00).
      expect(seen.ny).toEqual({
        key: "2024-03-10",
        start: "2024-03-10T05:00:00.000Z",
        end: "2024-03-11T04:00:00.000Z",
      });
      expect(Date.parse(seen.ny!.end) - Date.parse(seen.ny!.start)).toBe(23 * HOUR);
    });

    it("monthly partitions: the window is the calendar month", async () => {
      const seen: unknown[] = [];
      const monthly = asset(
        { key: "monthly", partitions: monthlyPartitions({ start: "2024-01", end: "2024-06" }) },
        (ctx) => {
          seen.push([ctx.partitionKey, ctx.partitionTimeWindow.start, ctx.partitionTimeWindow.end]);
          return ctx.partitionKey;
        },
      );
      const defs = defineDefinitions({ assets: [monthly] });
      expect((await instance.materialize(defs, { partitions: { keys: ["2024-02"] } })).status).toBe(
        "SUCCESS",
      );
      expect(seen).toEqual([
        ["2024-02", new Date("2024-02-01T00:00:00.000Z"), new Date("2024-03-01T00:00:00.000Z")],
      ]);
    });

    it("multi partitions: key month|taxi, dimensions and the month's window", async () => {
      const seen: unknown[] = [];
      const trips = asset(
        {
          key: "trips",
          partitions: multiPartitions({
            month: monthlyPartitions({ start: "2024-01", end: "2024-04" }),
            taxi: staticPartitions(["yellow", "green"]),
          }),
        },
        (ctx) => {
          seen.push({
            key: ctx.partitionKey,
            dims: ctx.partitionDimensions,
            window: ctx.partitionTimeWindow,
          });
          return `${ctx.partitionDimensions.taxi} in ${ctx.partitionDimensions.month}`;
        },
      );
      const defs = defineDefinitions({ assets: [trips] });
      expect((await instance.materialize(defs, { partitions: { keys: ["2024-02|green"] } })).status).toBe(
        "SUCCESS",
      );
      expect(seen).toEqual([
        {
          key: "2024-02|green",
          dims: { month: "2024-02", taxi: "green" },
          window: { start: new Date("2024-02-01T00:00:00.000Z"), end: new Date("2024-03-01T00:00:00.000Z") },
        },
      ]);
      // Row-major: month 2024-02 is index 1, green index 1 → 1 * 2 + 1.
      const rows = await storage.getPartitions("trips");
      expect(rows.map((r) => [r.partitionKey, r.partitionIndex, r.status])).toEqual([
        ["2024-02|green", 3, "materialized"],
      ]);
    });

    it("dynamic partitions: added keys run, a removed key is rejected before any run", async () => {
      const seen: string[] = [];
      const regional = asset(
        { key: "regional", partitions: dynamicPartitions({ name: "regions" }) },
        (ctx) => {
          seen.push(ctx.partitionKey);
          return ctx.partitionKey;
        },
      );
      const defs = defineDefinitions({ assets: [regional] });
      await storage.addDynamicPartitions("regions", ["north", "south", "east"]);
      expect((await instance.materialize(defs, { partitions: { keys: ["south"] } })).status).toBe("SUCCESS");
      expect(seen).toEqual(["south"]);

      await storage.removeDynamicPartitions("regions", ["east"]);
      expect(await storage.getDynamicPartitions("regions")).toEqual(["north", "south"]);
      const error = await thrown(() => instance.materialize(defs, { partitions: { keys: ["east"] } }));
      expect(error).toBeInstanceOf(InvalidPartitionKeyError);
      expect(error.message).toBe(
        'Invalid partition key "east" for "regional": expected a key added to dynamic partitions "regions" ' +
          '(baton partitions add regions KEY); nearest valid key: "north"',
      );
      expect(seen).toEqual(["south"]);
      expect((await allRuns(storage)).length).toBe(1);
    });

    it("invalid keys of every kind are rejected before any run is created", async () => {
      const defs = defineDefinitions({
        assets: [
          asset({ key: "s", partitions: staticPartitions(["yellow", "green"]) }, () => 1),
          asset(
            { key: "d", partitions: dailyPartitions({ start: "2024-01-01", end: "2024-02-01" }) },
            () => 1,
          ),
          asset(
            {
              key: "m",
              partitions: multiPartitions({
                month: monthlyPartitions({ start: "2024-01", end: "2024-04" }),
                taxi: staticPartitions(["yellow", "green"]),
              }),
            },
            () => 1,
          ),
          asset({ key: "dyn", partitions: dynamicPartitions({ name: "empty" }) }, () => 1),
        ],
      });
      const cases: [selection: string, key: string, message: string][] = [
        [
          "s",
          "yelow",
          'Invalid partition key "yelow" for "s": expected one of yellow, green; nearest valid key: "yellow"',
        ],
        [
          "d",
          "2024-01-5",
          'Invalid partition key "2024-01-5" for "d": expected YYYY-MM-DD (daily, UTC); nearest valid key: "2024-01-05"',
        ],
        [
          "d",
          "2024-02-01",
          'Invalid partition key "2024-02-01" for "d": it is after the last partition; the partitions run from ' +
            '"2024-01-01" to "2024-01-31" (daily, UTC); nearest valid key: "2024-01-31"',
        ],
        [
          "m",
          "2024-02|blue",
          'Invalid partition key "2024-02|blue" for "m": expected month|taxi where month is YYYY-MM (monthly, UTC) ' +
            'and taxi is one of yellow, green; nearest valid key: "2024-02|green"',
        ],
        [
          "dyn",
          "x",
          'Invalid partition key "x" for "dyn": expected a key added to dynamic partitions "empty" ' +
            "(baton partitions add empty KEY); it has no partitions yet",
        ],
      ];
      for (const [selection, key, message] of cases) {
        const error = await thrown(() =>
          instance.materialize(defs, { selection, partitions: { keys: [key] } }),
        );
        expect(error, `${selection} ${key}`).toBeInstanceOf(InvalidPartitionKeyError);
        expect((error as InvalidPartitionKeyError).partitionKey).toBe(key);
        expect(error.message).toBe(message);
      }
      // A range with one bad end is rejected too.
      const rangeError = await thrown(() =>
        instance.materialize(defs, {
          selection: "d",
          partitions: { range: { from: "2024-01-03", to: "2024-1-04" } },
        }),
      );
      expect(rangeError).toBeInstanceOf(InvalidPartitionKeyError);
      expect(rangeError.message).toContain('nearest valid key: "2024-01-04"');
      expect((await storage.listRuns()).runs).toEqual([]);
    });
  });

  // -------------------------------------------------------------------------------------------------------
  // 2. Mappings, through the values bodies receive
  // -------------------------------------------------------------------------------------------------------

  describe("partition mappings", () => {
    it("identity: the same partition's value", async () => {
      const keys = staticPartitions(["a", "b", "c"]);
      const up = asset({ key: "up", partitions: keys }, (ctx) => `value of ${ctx.partitionKey}`);
      const received: unknown[] = [];
      const down = asset({ key: "down", partitions: keys, ins: { up } }, (ctx, { up }) => {
        received.push([ctx.partitionKey, up]);
        return up.length;
      });
      const defs = defineDefinitions({ assets: [up, down] });
      expect(defs.mappingFor("down", "up")?.kind).toBe("identity");
      expect((await instance.materialize(defs, { partitions: { keys: ["a"] } })).status).toBe("SUCCESS");
      expect(
        (await instance.materialize(defs, { selection: "up", partitions: { keys: ["b"] } })).status,
      ).toBe("SUCCESS");
      // The downstream alone reads the stored value of its own partition.
      expect(
        (await instance.materialize(defs, { selection: "down", partitions: { keys: ["b"] } })).status,
      ).toBe("SUCCESS");
      expect(received).toEqual([
        ["a", "value of a"],
        ["b", "value of b"],
      ]);
    });

    it("daily ← hourly (default time-window mapping): an object of exactly the day's 24 hours", async () => {
      const received: Record<string, string[]> = {};
      const { raw, clean } = hourlyDaily(2, { onClean: (day, hours) => (received[day] = hours) });
      const defs = defineDefinitions({ assets: [raw, clean] });
      expect(defs.mappingFor("clean", "raw")?.kind).toBe("time_window");
      expect(
        (
          await instance.materialize(defs, {
            selection: "raw",
            partitions: { range: { from: "2024-01-02-00:00", to: "2024-01-02-23:00" } },
          })
        ).status,
      ).toBe("SUCCESS");
      let inputs: unknown;
      const probe = asset(
        {
          key: "clean",
          partitions: dailyPartitions({ start: "2024-01-01", end: "2024-01-03" }),
          ins: { raw },
        },
        (_ctx, ins) => {
          inputs = ins.raw;
          return 0;
        },
      );
      const probeDefs = defineDefinitions({ assets: [raw, probe] });
      const summary = await instance.materialize(probeDefs, {
        selection: "clean",
        partitions: { keys: ["2024-01-02"] },
      });
      expect(summary.status).toBe("SUCCESS");
      expect(inputs).toEqual(
        Object.fromEntries(hourKeys("2024-01-02T00:00Z", 24).map((k) => [k, Number(k.slice(11, 13))])),
      );
      expect(Object.keys(inputs as object)).toHaveLength(24);
      // And the real clean body sums them.
      expect(
        (await instance.materialize(defs, { selection: "clean", partitions: { keys: ["2024-01-02"] } }))
          .status,
      ).toBe("SUCCESS");
      expect(received).toEqual({ "2024-01-02": hourKeys("2024-01-02T00:00Z", 24) });
      // The default IO manager stored the day's value: 0 + 1 + … + 23.
      expect(JSON.parse(await readFile(path.join(home, "storage", "clean", "2024-01-02.json"), "utf8"))).toBe(
        276,
      );
    });

    it("previous day through timeWindowMapping({ startOffset: -1, endOffset: -1 }); the first day gets {}", async () => {
      const days = dailyPartitions({ start: "2024-01-01", end: "2024-01-05" });
      const daily = asset({ key: "daily", partitions: days }, (ctx) => `day ${ctx.partitionKey}`);
      const received: unknown[] = [];
      const lagged = asset(
        {
          key: "lagged",
          partitions: days,
          ins: { prev: mapped(daily, timeWindowMapping({ startOffset: -1, endOffset: -1 })) },
        },
        (ctx, { prev }) => {
          received.push([ctx.partitionKey, prev]);
          return Object.keys(prev).length;
        },
      );
      const defs = defineDefinitions({ assets: [daily, lagged] });
      for (const key of ["2024-01-01", "2024-01-02", "2024-01-03"])
        expect((await instance.materialize(defs, { partitions: { keys: [key] } })).status).toBe("SUCCESS");
      expect(received).toEqual([
        ["2024-01-01", {}],
        ["2024-01-02", { "2024-01-01": "day 2024-01-01" }],
        ["2024-01-03", { "2024-01-02": "day 2024-01-02" }],
      ]);
    });

    it("unpartitioned ← partitioned: every partition, keyed; lastPartitionMapping: one value", async () => {
      const keys = staticPartitions(["a", "b", "c"]);
      const part = asset({ key: "part", partitions: keys }, (ctx) => ctx.partitionKey.charCodeAt(0));
      const received: unknown[] = [];
      const all = asset({ key: "all", ins: { part } }, (_ctx, { part }) => {
        received.push(["all", part]);
        return Object.values(part).reduce((a, b) => a + b, 0);
      });
      const last = asset(
        { key: "last", ins: { part: mapped(part, lastPartitionMapping()) } },
        (_ctx, { part }) => {
          received.push(["last", part]);
          return part;
        },
      );
      const defs = defineDefinitions({ assets: [part, all, last] });
      expect(defs.mappingFor("all", "part")?.kind).toBe("all");
      for (const key of ["a", "b", "c"])
        expect(
          (await instance.materialize(defs, { selection: "part", partitions: { keys: [key] } })).status,
        ).toBe("SUCCESS");
      const summary = await instance.materialize(defs, { assetKeys: ["all", "last"] });
      expect(summary.status).toBe("SUCCESS");
      expect(received.sort()).toEqual([
        ["all", { a: 97, b: 98, c: 99 }],
        ["last", 99],
      ]);
    });

    it("staticMapping: each downstream key reads the upstream keys mapped to it", async () => {
      const up = asset(
        { key: "up", partitions: staticPartitions(["a", "b", "c"]) },
        (ctx) => ctx.partitionKey,
      );
      const received: unknown[] = [];
      const down = asset(
        {
          key: "down",
          partitions: staticPartitions(["x", "y"]),
          ins: { up: mapped(up, staticMapping({ a: "x", b: "x", c: ["x", "y"] })) },
        },
        (ctx, { up }) => {
          received.push([ctx.partitionKey, up]);
          return Object.keys(up).length;
        },
      );
      const defs = defineDefinitions({ assets: [up, down] });
      for (const key of ["a", "b", "c"])
        expect(
          (await instance.materialize(defs, { selection: "up", partitions: { keys: [key] } })).status,
        ).toBe("SUCCESS");
      for (const key of ["x", "y"])
        expect(
          (await instance.materialize(defs, { selection: "down", partitions: { keys: [key] } })).status,
        ).toBe("SUCCESS");
      expect(received).toEqual([
        ["x", { a: "a", b: "b", c: "c" }],
        ["y", { c: "c" }],
      ]);
    });

    it("multi ← single through the dimension (one value), single ← multi (both taxi types)", async () => {
      const months = monthlyPartitions({ start: "2024-01", end: "2024-04" });
      const rates = asset({ key: "rates", partitions: months }, (ctx) => `rate ${ctx.partitionKey}`);
      const received: unknown[] = [];
      const trips = asset(
        {
          key: "trips",
          partitions: multiPartitions({ month: months, taxi: staticPartitions(["yellow", "green"]) }),
          ins: { rates },
        },
        (ctx, { rates }) => {
          received.push([ctx.partitionKey, rates]);
          return `${ctx.partitionDimensions.taxi} @ ${rates}`;
        },
      );
      const summary = asset({ key: "summary", partitions: months, ins: { trips } }, (ctx, { trips }) => {
        received.push([ctx.partitionKey, trips]);
        return Object.keys(trips).length;
      });
      const defs = defineDefinitions({ assets: [rates, trips, summary] });
      expect(defs.mappingFor("trips", "rates")?.kind).toBe("dimension");
      expect(defs.mappingFor("summary", "trips")?.kind).toBe("dimension");
      const run = (selection: string, key: string) =>
        instance.materialize(defs, { selection, partitions: { keys: [key] } }).then((s) => s.status);
      expect(await run("rates", "2024-02")).toBe("SUCCESS");
      expect(await run("trips", "2024-02|yellow")).toBe("SUCCESS");
      expect(await run("trips", "2024-02|green")).toBe("SUCCESS");
      expect(await run("summary", "2024-02")).toBe("SUCCESS");
      expect(received).toEqual([
        ["2024-02|yellow", "rate 2024-02"],
        ["2024-02|green", "rate 2024-02"],
        ["2024-02", { "2024-02|yellow": "yellow @ rate 2024-02", "2024-02|green": "green @ rate 2024-02" }],
      ]);
    });

    it("incompatible partitions without a mapping: defineDefinitions names both assets", () => {
      const daily = asset(
        { key: "events/daily", partitions: dailyPartitions({ start: "2024-01-01" }) },
        () => 1,
      );
      const bySource = asset(
        { key: "events/by_source", partitions: staticPartitions(["web", "app"]), ins: { daily } },
        () => 2,
      );
      const error = thrownSync(() => defineDefinitions({ assets: [daily, bySource] }));
      expect(error).toBeInstanceOf(InvalidDefinitionError);
      const problems = (error as InvalidDefinitionError).problems;
      expect(problems).toEqual([
        {
          where: "events/by_source",
          message:
            'cannot read partitioned asset "events/daily": their partitions are incompatible (static vs daily time windows); add a partition mapping',
        },
      ]);
      expect(error.message).toContain("events/by_source");
      expect(error.message).toContain("events/daily");
    });
  });

  // -------------------------------------------------------------------------------------------------------
  // 3. Range runs
  // -------------------------------------------------------------------------------------------------------

  describe("range runs", () => {
    const days = dailyPartitions({ start: "2024-01-01", end: "2024-01-11" });

    it("one run over 3 days: 3 materializations; ctx.partitionKey throws, naming partitionKeys", async () => {
      const seen: unknown[] = [];
      const daily = asset({ key: "daily", partitions: days }, (ctx) => {
        let keyError: unknown;
        try {
          void ctx.partitionKey;
        } catch (error) {
          keyError = error;
        }
        seen.push({
          keys: ctx.partitionKeys,
          window: ctx.partitionTimeWindow,
          keyError: keyError instanceof Error ? keyError.message : keyError,
        });
        return Object.fromEntries(ctx.partitionKeys.map((k) => [k, `v${k.slice(8)}`]));
      });
      const defs = defineDefinitions({ assets: [daily] });
      const summary = await instance.materialize(defs, {
        partitions: { range: { from: "2024-01-03", to: "2024-01-05" } },
      });
      expect(summary.status).toBe("SUCCESS");
      expect(seen).toEqual([
        {
          keys: ["2024-01-03", "2024-01-04", "2024-01-05"],
          window: { start: new Date("2024-01-03T00:00:00.000Z"), end: new Date("2024-01-06T00:00:00.000Z") },
          keyError:
            "this run covers 3 partitions (2024-01-03 … 2024-01-05): use ctx.partitionKeys or ctx.partitionTimeWindow instead of ctx.partitionKey",
        },
      ]);
      const runs = await allRuns(storage);
      expect(runs.map((r) => r.partitionKeys)).toEqual([["2024-01-03", "2024-01-04", "2024-01-05"]]);
      const events = await storage.getEvents(summary.runId, { types: ["materialization"] });
      expect(
        events.map((e) =>
          e.type === "materialization" ? [e.assetKey, e.partition, e.partitionIndex] : null,
        ),
      ).toEqual([
        ["daily", "2024-01-03", 2],
        ["daily", "2024-01-04", 3],
        ["daily", "2024-01-05", 4],
      ]);
      // Each partition's value is stored on its own: a downstream run of one day reads it.
      let read: unknown;
      const next = asset({ key: "next", partitions: days, ins: { daily } }, (_ctx, { daily }) => {
        read = daily;
        return daily;
      });
      const defs2 = defineDefinitions({ assets: [daily, next] });
      expect(
        (await instance.materialize(defs2, { selection: "next", partitions: { keys: ["2024-01-04"] } }))
          .status,
      ).toBe("SUCCESS");
      expect(read).toBe("v04");
    });

    it("returning a non-object from a multi-partition run fails the step, naming the asset", async () => {
      const daily = asset({ key: "range/daily", partitions: days }, () => 42);
      const defs = defineDefinitions({ assets: [daily] });
      const summary = await instance.materialize(defs, {
        partitions: { range: { from: "2024-01-01", to: "2024-01-03" } },
      });
      expect(summary.status).toBe("FAILURE");
      expect(summary.steps.map((s) => [s.stepKey, s.status])).toEqual([["range/daily", "failed"]]);
      expect(summary.steps[0]!.error?.message).toBe(
        'Error in asset "range/daily": "range/daily" ran for 3 partitions, so it must return nothing or an object ' +
          'keyed by partition key; missing "2024-01-01", "2024-01-02", "2024-01-03"',
      );
      expect(await storage.getEvents(summary.runId, { types: ["materialization"] })).toEqual([]);
      const status = await partitionStatus(
        defs,
        storage,
        await loadKeySpaces(defs, storage, Date.now()),
        "range/daily",
      );
      expect(status.counts).toEqual({ materialized: 0, failed: 3, in_progress: 0, missing: 7 });
    });
  });

  // -------------------------------------------------------------------------------------------------------
  // 4. Partition status
  // -------------------------------------------------------------------------------------------------------

  describe("partition status", () => {
    it("exact counts and ranges, gaps included as missing with their keys", async () => {
      const failing = new Set(["2024-01-05"]);
      const daily = asset(
        { key: "status/daily", partitions: dailyPartitions({ start: "2024-01-01", end: "2024-01-11" }) },
        (ctx) => {
          if (failing.has(ctx.partitionKey)) throw new Error(`boom ${ctx.partitionKey}`);
          return 1;
        },
      );
      const defs = defineDefinitions({ assets: [daily] });
      const run = (keys: string[]) =>
        instance.materialize(defs, { partitions: { keys } }).then((s) => s.status);
      expect(await run(["2024-01-01"])).toBe("SUCCESS");
      expect(await run(["2024-01-02"])).toBe("SUCCESS");
      expect(await run(["2024-01-03"])).toBe("SUCCESS");
      expect(await run(["2024-01-05"])).toBe("FAILURE");
      expect(await run(["2024-01-07"])).toBe("SUCCESS");
      expect(await run(["2024-01-08"])).toBe("SUCCESS");
      const spaces = await loadKeySpaces(defs, storage, Date.now());
      const status = await partitionStatus(defs, storage, spaces, "status/daily");
      expect(status).toEqual({
        assetKey: "status/daily",
        total: 10,
        counts: { materialized: 5, failed: 1, in_progress: 0, missing: 4 },
        ranges: [
          { status: "materialized", start: 0, end: 2, startKey: "2024-01-01", endKey: "2024-01-03" },
          { status: "missing", start: 3, end: 3, startKey: "2024-01-04", endKey: "2024-01-04" },
          { status: "failed", start: 4, end: 4, startKey: "2024-01-05", endKey: "2024-01-05" },
          { status: "missing", start: 5, end: 5, startKey: "2024-01-06", endKey: "2024-01-06" },
          { status: "materialized", start: 6, end: 7, startKey: "2024-01-07", endKey: "2024-01-08" },
          { status: "missing", start: 8, end: 9, startKey: "2024-01-09", endKey: "2024-01-10" },
        ],
      });
      // Fixing the failure and filling the first gap merges the ranges.
      failing.clear();
      expect(await run(["2024-01-04"])).toBe("SUCCESS");
      expect(await run(["2024-01-05"])).toBe("SUCCESS");
      const after = await partitionStatus(defs, storage, spaces, "status/daily");
      expect(after.counts).toEqual({ materialized: 7, failed: 0, in_progress: 0, missing: 3 });
      expect(after.ranges).toEqual([
        { status: "materialized", start: 0, end: 4, startKey: "2024-01-01", endKey: "2024-01-05" },
        { status: "missing", start: 5, end: 5, startKey: "2024-01-06", endKey: "2024-01-06" },
        { status: "materialized", start: 6, end: 7, startKey: "2024-01-07", endKey: "2024-01-08" },
        { status: "missing", start: 8, end: 9, startKey: "2024-01-09", endKey: "2024-01-10" },
      ]);
      const rows = await storage.getPartitions("status/daily", { keys: ["2024-01-05"] });
      expect(rows.map((r) => [r.status, r.lastFailure !== null, r.lastMaterialization !== null])).toEqual([
        ["materialized", true, true],
      ]);
    });
    it("concurrent runs of neighbouring partitions keep the status exact (one maximal range)", async () => {
      const hourly = asset(
        { key: "status/hourly", partitions: hourlyPartitions({ start: "2024-01-01", end: "2024-01-03" }) },
        (ctx) => ctx.partitionKey,
      );
      const defs = defineDefinitions({ assets: [hourly] });
      const keys = hourKeys("2024-01-01T00:00Z", 48);
      const spaces = await loadKeySpaces(defs, storage, Date.now());
      // Twice over every hour, 4 runs at a time (what a backfill does by default). Soft assertions so
      // that both passes report (BUG on Postgres, see the report).
      for (let pass = 1; pass <= 2; pass++) {
        const errors: string[] = [];
        let next = 0;
        const worker = async () => {
          while (next < keys.length) {
            const key = keys[next++]!;
            await instance.materialize(defs, { partitions: { keys: [key] } }).then(
              (summary) => summary.status === "SUCCESS" || errors.push(`${key}: run ${summary.status}`),
              (error: Error) => errors.push(`${key}: ${error.message}`),
            );
          }
        };
        await Promise.all([worker(), worker(), worker(), worker()]);
        expect.soft(errors, `pass ${pass}`).toEqual([]);
        const runs = await allRuns(storage);
        expect
          .soft(runs.filter((r) => r.status !== "SUCCESS").map((r) => [r.status, r.partitionKeys]))
          .toEqual([]);
        expect
          .soft(await storage.getPartitionRanges("status/hourly"), `pass ${pass}`)
          .toEqual([{ start: 0, end: 47, status: "materialized" }]);
        expect.soft((await partitionStatus(defs, storage, spaces, "status/hourly")).counts).toEqual({
          materialized: 48,
          failed: 0,
          in_progress: 0,
          missing: 0,
        });
      }
    });
  });

  // -------------------------------------------------------------------------------------------------------
  // 5. Staleness
  // -------------------------------------------------------------------------------------------------------

  describe("staleness", () => {
    /** hourly raw → daily clean → unpartitioned report, over 4 days, fully materialized in 3 runs. */
    async function materializedGraph(cleanCodeVersion = "1") {
      const changedHours = new Set<string>();
      const { raw, clean } = hourlyDaily(4, { cleanCodeVersion, changedHours });
      const report = asset({ key: "report", ins: { clean } }, (_ctx, { clean }) =>
        Object.values(clean).reduce((a, b) => a + b, 0),
      );
      const defs = defineDefinitions({ assets: [raw, clean, report] });
      const resolver = async () =>
        createStalenessResolver(defs, storage, await loadKeySpaces(defs, storage, Date.now()));
      expect((await (await resolver()).staleness("report", null)).status).toBe("missing");
      const range = (selection: string, from: string, to: string) =>
        instance.materialize(defs, { selection, partitions: { range: { from, to } } }).then((s) => s.status);
      expect(await range("raw", "2024-01-01-00:00", "2024-01-04-23:00")).toBe("SUCCESS");
      expect(await range("clean", "2024-01-01", "2024-01-04")).toBe("SUCCESS");
      expect((await instance.materialize(defs, { selection: "report" })).status).toBe("SUCCESS");
      return { raw, clean, report, defs, resolver, changedHours };
    }

    it("fresh after a full materialization; one raw hour changed: clean day upstream_newer, report upstream_stale", async () => {
      const { defs, resolver, changedHours } = await materializedGraph();
      const fresh = await resolver();
      for (const [key, partition] of [
        ["raw", "2024-01-01-05:00"],
        ["clean", "2024-01-01"],
        ["clean", "2024-01-04"],
        ["report", null],
      ] as const) {
        const s = await fresh.staleness(key, partition);
        expect([key, partition, s.status, s.reasons]).toEqual([key, partition, "fresh", []]);
      }

      // The same data again changes nothing (data versions); changed data does.
      changedHours.add("2024-01-01-05:00");
      expect(
        (await instance.materialize(defs, { selection: "raw", partitions: { keys: ["2024-01-01-05:00"] } }))
          .status,
      ).toBe("SUCCESS");
      const r = await resolver();
      const cleanDay = await r.staleness("clean", "2024-01-01");
      expect(cleanDay.status).toBe("stale");
      expect(cleanDay.reasons).toEqual([
        {
          kind: "upstream_newer",
          assetKey: "clean",
          partition: "2024-01-01",
          upstream: "raw",
          upstreamPartitions: ["2024-01-01-05:00"],
          message: expect.stringMatching(
            /^upstream raw \[2024-01-01-05:00\] data version changed since clean \[2024-01-01\] was materialized \(\d{4}-\d\d-\d\dT[\d:.]+Z\)$/,
          ),
        },
      ]);
      expect((await r.staleness("clean", "2024-01-02")).status).toBe("fresh");
      expect((await r.staleness("raw", "2024-01-01-05:00")).status).toBe("fresh");
      const report = await r.staleness("report", null);
      expect(report.status).toBe("stale");
      expect(report.reasons).toEqual([
        {
          kind: "upstream_stale",
          assetKey: "report",
          partition: null,
          upstream: "clean",
          upstreamPartition: "2024-01-01",
          causes: cleanDay.reasons,
          message: "upstream clean [2024-01-01] is stale",
        },
      ]);
    });

    it("a stale later day (the 4th of 4) makes the unpartitioned report stale too", async () => {
      const { defs, resolver, changedHours } = await materializedGraph();
      changedHours.add("2024-01-04-10:00");
      expect(
        (await instance.materialize(defs, { selection: "raw", partitions: { keys: ["2024-01-04-10:00"] } }))
          .status,
      ).toBe("SUCCESS");
      const r = await resolver();
      const lastDay = await r.staleness("clean", "2024-01-04");
      expect(lastDay.status).toBe("stale");
      expect(
        lastDay.reasons.map((x) => [x.kind, (x as { upstreamPartitions?: string[] }).upstreamPartitions]),
      ).toEqual([["upstream_newer", ["2024-01-04-10:00"]]]);
      const report = await r.staleness("report", null);
      expect(
        report.reasons.map((x) => [x.kind, (x as { upstreamPartition?: string }).upstreamPartition]),
      ).toEqual([["upstream_stale", "2024-01-04"]]);
      expect(report.status).toBe("stale");
    });

    it("a new codeVersion: code_version with from/to, and the report is stale through it", async () => {
      await materializedGraph("1");
      // The same graph, redefined with a new code version for clean.
      const { raw, clean } = hourlyDaily(4, { cleanCodeVersion: "2" });
      const report = asset({ key: "report", ins: { clean } }, () => 0);
      const defs = defineDefinitions({ assets: [raw, clean, report] });
      const r = createStalenessResolver(defs, storage, await loadKeySpaces(defs, storage, Date.now()));
      const day = await r.staleness("clean", "2024-01-02");
      expect(day.status).toBe("stale");
      expect(day.lastMaterialization?.codeVersion).toBe("1");
      expect(day.reasons).toEqual([
        {
          kind: "code_version",
          assetKey: "clean",
          partition: "2024-01-02",
          from: "1",
          to: "2",
          message: 'code version changed from "1" to "2" since clean [2024-01-02] was materialized',
        },
      ]);
      const rep = await r.staleness("report", null);
      expect(rep.status).toBe("stale");
      expect(rep.reasons[0]).toMatchObject({
        kind: "upstream_stale",
        upstream: "clean",
        upstreamPartition: "2024-01-01",
        causes: [{ kind: "code_version", from: "1", to: "2", partition: "2024-01-01" }],
      });
      expect((await r.staleness("raw", "2024-01-02-03:00")).status).toBe("fresh");
    });

    it("never materialized: status missing with a missing reason", async () => {
      const { raw, clean } = hourlyDaily(1);
      const defs = defineDefinitions({ assets: [raw, clean] });
      const r = createStalenessResolver(defs, storage, await loadKeySpaces(defs, storage, Date.now()));
      const s: Staleness = await r.staleness("clean", "2024-01-01");
      const expected: StaleReason = {
        kind: "missing",
        assetKey: "clean",
        partition: "2024-01-01",
        message: "clean [2024-01-01] has never been materialized",
      };
      expect(s).toEqual({
        assetKey: "clean",
        partition: "2024-01-01",
        status: "missing",
        lastMaterialization: null,
        reasons: [expected],
      });
    });
  });

  // -------------------------------------------------------------------------------------------------------
  // 6. Freshness
  // -------------------------------------------------------------------------------------------------------

  describe("freshness", () => {
    it("maxLagMinutes: fresh up to the boundary, overdue just after, overdue when never materialized", async () => {
      const a = asset({ key: "lagged", freshness: { maxLagMinutes: 30 } }, () => 1);
      const defs = defineDefinitions({ assets: [a] });
      const spaces = await loadKeySpaces(defs, storage, Date.now());
      const never = await evaluateFreshness(defs, storage, spaces, "lagged", Date.now());
      expect(never).toMatchObject({
        status: "overdue",
        lastMaterializedAt: null,
        message: "never materialized; it must be at most 30 min old now",
      });
      expect((await instance.materialize(defs)).status).toBe("SUCCESS");
      const [status] = await storage.getAssetStatuses(["lagged"]);
      const at = status!.lastMaterialization!.timestamp;
      const atBoundary = await evaluateFreshness(defs, storage, spaces, "lagged", at + 30 * MINUTE);
      expect(atBoundary).toEqual({
        assetKey: "lagged",
        policy: { maxLagMinutes: 30 },
        status: "fresh",
        partition: null,
        lastMaterializedAt: at,
        deadline: at + 30 * MINUTE,
        message: "last materialized 30 min before now (allowed: 30 min now)",
      });
      const after = await evaluateFreshness(defs, storage, spaces, "lagged", at + 30 * MINUTE + 1);
      expect(after?.status).toBe("overdue");
      expect(after?.lastMaterializedAt).toBe(at);
    });

    it('cron deadline "0 9 * * *": 08:00 data is fresh at 09:30, overdue at 11:30 the next day', async () => {
      const a = asset({ key: "morning", freshness: { maxLagMinutes: 120, cron: "0 9 * * *" } }, () => 1);
      const defs = defineDefinitions({ assets: [a] });
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(new Date("2024-05-01T08:00:00.000Z"));
      expect((await instance.materialize(defs)).status).toBe("SUCCESS");
      vi.useRealTimers();
      const [status] = await storage.getAssetStatuses(["morning"]);
      expect(status!.lastMaterialization!.timestamp).toBe(Date.parse("2024-05-01T08:00:00.000Z"));
      const spaces = await loadKeySpaces(defs, storage, Date.now());
      const at0930 = await evaluateFreshness(
        defs,
        storage,
        spaces,
        "morning",
        Date.parse("2024-05-01T09:30:00Z"),
      );
      expect(at0930).toMatchObject({
        status: "fresh",
        deadline: Date.parse("2024-05-01T09:00:00Z"),
        message:
          "last materialized 60 min before the deadline (allowed: 120 min at the 2024-05-01T09:00:00.000Z deadline (0 9 * * *))",
      });
      const nextDay = await evaluateFreshness(
        defs,
        storage,
        spaces,
        "morning",
        Date.parse("2024-05-02T11:30:00Z"),
      );
      expect(nextDay).toMatchObject({
        status: "overdue",
        deadline: Date.parse("2024-05-02T09:00:00Z"),
        lastMaterializedAt: Date.parse("2024-05-01T08:00:00Z"),
        message:
          "last materialized 1500 min before the deadline (allowed: 120 min at the 2024-05-02T09:00:00.000Z deadline (0 9 * * *))",
      });
    });

    it("daily partitions: the latest closed day is overdue 2 h after close until materialized", async () => {
      const daily = asset(
        {
          key: "fresh/daily",
          partitions: dailyPartitions({ start: "2024-01-01" }),
          freshness: { maxLagMinutes: 60 },
        },
        () => 1,
      );
      const defs = defineDefinitions({ assets: [daily] });
      const now = Date.parse("2024-01-10T02:00:00Z");
      const spaces = await loadKeySpaces(defs, storage, now);
      const early = await evaluateFreshness(
        defs,
        storage,
        spaces,
        "fresh/daily",
        Date.parse("2024-01-10T00:30:00Z"),
      );
      expect(early).toMatchObject({
        status: "fresh",
        partition: "2024-01-09",
        lastMaterializedAt: null,
        message: "partition 2024-01-09 is due by 2024-01-10T01:00:00.000Z",
      });
      const overdue = await evaluateFreshness(defs, storage, spaces, "fresh/daily", now);
      expect(overdue).toEqual({
        assetKey: "fresh/daily",
        policy: { maxLagMinutes: 60 },
        status: "overdue",
        partition: "2024-01-09",
        lastMaterializedAt: null,
        deadline: Date.parse("2024-01-10T01:00:00Z"),
        message:
          "partition 2024-01-09 closed at 2024-01-10T00:00:00.000Z and is not materialized 120 min later (allowed: 60 min)",
      });
      // An older day being materialized does not help.
      expect((await instance.materialize(defs, { partitions: { keys: ["2024-01-08"] }, now })).status).toBe(
        "SUCCESS",
      );
      expect((await evaluateFreshness(defs, storage, spaces, "fresh/daily", now))?.status).toBe("overdue");
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(new Date("2024-01-10T02:05:00.000Z"));
      expect((await instance.materialize(defs, { partitions: { keys: ["2024-01-09"] }, now })).status).toBe(
        "SUCCESS",
      );
      vi.useRealTimers();
      const fresh = await evaluateFreshness(
        defs,
        storage,
        spaces,
        "fresh/daily",
        Date.parse("2024-01-10T02:10:00Z"),
      );
      expect(fresh).toMatchObject({
        status: "fresh",
        partition: "2024-01-09",
        lastMaterializedAt: Date.parse("2024-01-10T02:05:00.000Z"),
        message: "partition 2024-01-09 was materialized at 2024-01-10T02:05:00.000Z",
      });
    });
  });

  // -------------------------------------------------------------------------------------------------------
  // 7. Backfills
  // -------------------------------------------------------------------------------------------------------

  describe("backfills", () => {
    const ALL_HOURS_5 = { range: { from: "2024-01-01-00:00", to: "2024-01-05-23:00" } };
    const ALL_HOURS_2 = { range: { from: "2024-01-01-00:00", to: "2024-01-02-23:00" } };
    const DAYS_5 = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"];

    it("5 days of hourly → daily: 120 + 5 runs, COMPLETED, daily runs start after their 24 hours succeeded", async () => {
      const cleanInputs: Record<string, string[]> = {};
      const { raw, clean } = hourlyDaily(5, { onClean: (day, hours) => (cleanInputs[day] = hours) });
      const defs = defineDefinitions({ assets: [raw, clean] });
      const created = await instance.createBackfill(defs, { selection: "*", partitions: ALL_HOURS_5 });
      expect(created.status).toBe("REQUESTED");
      expect(created.assetKeys).toEqual(["raw", "clean"]);
      expect(created.partitionKeys).toEqual(hourKeys("2024-01-01T00:00Z", 120));
      expect(created.counts).toEqual({
        targeted: 125,
        materialized: 0,
        failed: 0,
        skipped: 0,
        canceled: 0,
        runs: 0,
      });
      expect(await allRuns(storage)).toEqual([]);

      const done = await instance.runBackfill(defs, created.backfillId);
      expect(done.status).toBe("COMPLETED");
      expect(done.counts).toEqual({
        targeted: 125,
        materialized: 125,
        failed: 0,
        skipped: 0,
        canceled: 0,
        runs: 125,
      });
      expect(done.endedAt).not.toBeNull();
      expect(await storage.getBackfill(created.backfillId)).toEqual(done);

      const runs = await allRuns(storage, created.backfillId);
      expect(runs).toHaveLength(125);
      expect((await allRuns(storage)).length).toBe(125);
      expect(runs.every((r) => r.status === "SUCCESS" && r.backfillId === created.backfillId)).toBe(true);
      expect(runs.every((r) => r.tags["baton/backfill"] === created.backfillId)).toBe(true);
      const hourly = runs.filter((r) => r.assetKeys.join() === "raw");
      const daily = runs.filter((r) => r.assetKeys.join() === "clean");
      expect(hourly.map((r) => r.partitionKeys!.join()).sort()).toEqual(hourKeys("2024-01-01T00:00Z", 120));
      expect(daily.map((r) => r.partitionKeys!.join()).sort()).toEqual(DAYS_5);

      // Dependency order, by event log ids (one sequence per store).
      const eventId = async (runId: string, type: "run_started" | "run_succeeded") => {
        const [e] = await storage.getEvents(runId, { types: [type] });
        return e!.id;
      };
      for (const day of daily) {
        const started = await eventId(day.runId, "run_started");
        const hours = hourly.filter((h) => h.partitionKeys![0]!.startsWith(day.partitionKeys![0]!));
        expect(hours).toHaveLength(24);
        for (const h of hours) expect(await eventId(h.runId, "run_succeeded")).toBeLessThan(started);
        // Run creation order too: the day's run was created after each of its hours' runs.
        const position = runs.indexOf(day);
        for (const h of hours) expect(runs.indexOf(h)).toBeLessThan(position);
      }
      expect(Object.keys(cleanInputs).sort()).toEqual(DAYS_5);
      for (const day of DAYS_5) expect(cleanInputs[day]).toEqual(hourKeys(`${day}T00:00Z`, 24));
      const spaces = await loadKeySpaces(defs, storage, Date.now());
      // Soft: on Postgres, runs finishing concurrently corrupt the stored status ranges (fragmented or
      // overlapping, so counts like 123 materialized of 120 partitions); see the report.
      const rawStatus = await partitionStatus(defs, storage, spaces, "raw");
      expect.soft(rawStatus.counts).toEqual({ materialized: 120, failed: 0, in_progress: 0, missing: 0 });
      expect
        .soft(await storage.getPartitionRanges("raw"))
        .toEqual([{ start: 0, end: 119, status: "materialized" }]);
      expect.soft(rawStatus.ranges).toEqual([
        {
          status: "materialized",
          start: 0,
          end: 119,
          startKey: "2024-01-01-00:00",
          endKey: "2024-01-05-23:00",
        },
      ]);
      expect((await partitionStatus(defs, storage, spaces, "clean")).counts).toEqual({
        materialized: 5,
        failed: 0,
        in_progress: 0,
        missing: 0,
      });
    });

    it("singleRunBackfill: one run over the 5 days; the body sees 5 partitionKeys", async () => {
      const seen: string[][] = [];
      const bulk = asset(
        {
          key: "bulk",
          partitions: dailyPartitions({ start: "2024-01-01", end: "2024-01-06" }),
          backfillPolicy: singleRunBackfill(),
        },
        (ctx) => {
          seen.push([...ctx.partitionKeys]);
          return Object.fromEntries(ctx.partitionKeys.map((k) => [k, k]));
        },
      );
      const defs = defineDefinitions({ assets: [bulk] });
      const bf = await instance.createBackfill(defs, { selection: "bulk", partitions: { which: "all" } });
      expect(bf.partitionKeys).toEqual(DAYS_5);
      const done = await instance.runBackfill(defs, bf.backfillId);
      expect(done.status).toBe("COMPLETED");
      expect(done.counts).toEqual({
        targeted: 5,
        materialized: 5,
        failed: 0,
        skipped: 0,
        canceled: 0,
        runs: 1,
      });
      const runs = await allRuns(storage, bf.backfillId);
      expect(runs.map((r) => [r.status, r.partitionKeys])).toEqual([["SUCCESS", DAYS_5]]);
      expect(seen).toEqual([DAYS_5]);
      expect(seen[0]!.length).toBe(5);
      expect(
        (await storage.getEvents(runs[0]!.runId, { types: ["materialization"] })).map((e) =>
          e.type === "materialization" ? e.partition : null,
        ),
      ).toEqual(DAYS_5);
    });

    it("multiRunBackfill({ maxPartitionsPerRun: 2 }): 3 runs for 5 days; which: missing targets only gaps", async () => {
      const seen: string[][] = [];
      const chunked = asset(
        {
          key: "chunked",
          partitions: dailyPartitions({ start: "2024-01-01", end: "2024-01-06" }),
          backfillPolicy: multiRunBackfill({ maxPartitionsPerRun: 2 }),
        },
        (ctx) => {
          seen.push([...ctx.partitionKeys]);
          return ctx.partitionKeys.length === 1
            ? 1
            : Object.fromEntries(ctx.partitionKeys.map((k) => [k, 1] as const));
        },
      );
      const defs = defineDefinitions({ assets: [chunked] });
      const bf = await instance.createBackfill(defs, {
        selection: "chunked",
        partitions: { range: { from: "2024-01-01", to: "2024-01-05" } },
      });
      const done = await instance.runBackfill(defs, bf.backfillId, { concurrency: 1 });
      expect(done.status).toBe("COMPLETED");
      expect(done.counts).toEqual({
        targeted: 5,
        materialized: 5,
        failed: 0,
        skipped: 0,
        canceled: 0,
        runs: 3,
      });
      expect((await allRuns(storage, bf.backfillId)).map((r) => r.partitionKeys)).toEqual([
        ["2024-01-01", "2024-01-02"],
        ["2024-01-03", "2024-01-04"],
        ["2024-01-05"],
      ]);
      expect(seen).toEqual([["2024-01-01", "2024-01-02"], ["2024-01-03", "2024-01-04"], ["2024-01-05"]]);

      // which: "missing" on a second asset where two days exist already.
      const gappy = asset(
        { key: "gappy", partitions: dailyPartitions({ start: "2024-01-01", end: "2024-01-06" }) },
        (ctx) => ctx.partitionKey,
      );
      const defs2 = defineDefinitions({ assets: [chunked, gappy] });
      for (const key of ["2024-01-02", "2024-01-04"])
        expect(
          (await instance.materialize(defs2, { selection: "gappy", partitions: { keys: [key] } })).status,
        ).toBe("SUCCESS");
      const missing = await instance.createBackfill(defs2, {
        selection: "gappy",
        partitions: { which: "missing" },
      });
      expect(missing.partitionKeys).toEqual(["2024-01-01", "2024-01-03", "2024-01-05"]);
      expect(missing.counts.targeted).toBe(3);
      const filled = await instance.runBackfill(defs2, missing.backfillId);
      expect(filled.counts).toEqual({
        targeted: 3,
        materialized: 3,
        failed: 0,
        skipped: 0,
        canceled: 0,
        runs: 3,
      });
      expect((await allRuns(storage, missing.backfillId)).map((r) => r.partitionKeys![0]).sort()).toEqual([
        "2024-01-01",
        "2024-01-03",
        "2024-01-05",
      ]);
      const none = await thrown(() =>
        instance.createBackfill(defs2, { selection: "gappy", partitions: { which: "missing" } }),
      );
      expect(none.message).toBe('No partitions of "gappy" match --partitions missing: nothing to backfill.');
    });

    it('which: "stale" targets only materialized partitions whose upstream changed since', async () => {
      const days = dailyPartitions({ start: "2024-01-01", end: "2024-01-06" });
      let generation = 0;
      const src = asset({ key: "src", partitions: days }, (ctx) => `${ctx.partitionKey}#${generation}`);
      const derived = asset({ key: "derived", partitions: days, ins: { src } }, (_ctx, { src }) => `${src}!`);
      const defs = defineDefinitions({ assets: [src, derived] });
      for (const key of ["2024-01-01", "2024-01-02", "2024-01-03"])
        expect(
          (await instance.materialize(defs, { selection: "*", partitions: { keys: [key] } })).status,
        ).toBe("SUCCESS");
      // Nothing is stale yet: no partitions match.
      const none = await thrown(() =>
        instance.createBackfill(defs, { selection: "derived", partitions: { which: "stale" } }),
      );
      expect(none.message).toBe('No partitions of "derived" match --partitions stale: nothing to backfill.');
      // Re-materialize the upstream of day 2 only, with new data: derived day 2 becomes stale, days 4-5
      // stay missing (not stale).
      generation++;
      expect(
        (await instance.materialize(defs, { selection: "src", partitions: { keys: ["2024-01-02"] } })).status,
      ).toBe("SUCCESS");
      const stale = await instance.createBackfill(defs, {
        selection: "derived",
        partitions: { which: "stale" },
      });
      expect(stale.partitionKeys).toEqual(["2024-01-02"]);
      const done = await instance.runBackfill(defs, stale.backfillId);
      expect(done.status).toBe("COMPLETED");
      expect(done.counts.runs).toBe(1);
      const again = await thrown(() =>
        instance.createBackfill(defs, { selection: "derived", partitions: { which: "stale" } }),
      );
      expect(again.message).toContain("match --partitions stale");
    });

    it("a failing hour skips its day (FAILED); retry runs only that hour and day; force re-runs everything", async () => {
      const failHours = new Set(["2024-01-02-07:00"]);
      const rawCalls: string[] = [];
      const { raw, clean } = hourlyDaily(2, { failHours, onRaw: (k) => rawCalls.push(k) });
      const defs = defineDefinitions({ assets: [raw, clean] });
      const first = await instance.createBackfill(defs, { selection: "*", partitions: ALL_HOURS_2 });
      const failed = await instance.runBackfill(defs, first.backfillId);
      expect(failed.status).toBe("FAILED");
      expect(failed.counts).toEqual({
        targeted: 50,
        materialized: 48,
        failed: 1,
        skipped: 1,
        canceled: 0,
        runs: 49,
      });
      const firstRuns = await allRuns(storage, first.backfillId);
      expect(firstRuns).toHaveLength(49);
      expect(firstRuns.filter((r) => r.status === "FAILURE").map((r) => r.partitionKeys)).toEqual([
        ["2024-01-02-07:00"],
      ]);
      expect(firstRuns.filter((r) => r.assetKeys.join() === "clean").map((r) => r.partitionKeys)).toEqual([
        ["2024-01-01"],
      ]);
      const spaces = await loadKeySpaces(defs, storage, Date.now());
      const rawStatus = await partitionStatus(defs, storage, spaces, "raw");
      // Soft: on Postgres the stored ranges get fragmented / overlapping by concurrent runs (see the report).
      expect.soft(rawStatus.counts).toEqual({ materialized: 47, failed: 1, in_progress: 0, missing: 0 });
      expect.soft(rawStatus.ranges).toEqual([
        {
          status: "materialized",
          start: 0,
          end: 30,
          startKey: "2024-01-01-00:00",
          endKey: "2024-01-02-06:00",
        },
        { status: "failed", start: 31, end: 31, startKey: "2024-01-02-07:00", endKey: "2024-01-02-07:00" },
        {
          status: "materialized",
          start: 32,
          end: 47,
          startKey: "2024-01-02-08:00",
          endKey: "2024-01-02-23:00",
        },
      ]);
      expect((await partitionStatus(defs, storage, spaces, "clean")).counts).toEqual({
        materialized: 1,
        failed: 0,
        in_progress: 0,
        missing: 1,
      });

      // Fixed: the retry runs only the failed hour and the skipped day.
      failHours.clear();
      rawCalls.length = 0;
      const retry = await instance.retryBackfill(defs, first.backfillId);
      expect(retry.status).toBe("REQUESTED");
      expect(retry.options.parentBackfillId).toBe(first.backfillId);
      expect(retry.partitionKeys).toEqual(first.partitionKeys);
      const retried = await instance.runBackfill(defs, retry.backfillId);
      expect(retried.status).toBe("COMPLETED");
      expect(retried.counts).toEqual({
        targeted: 50,
        materialized: 50,
        failed: 0,
        skipped: 0,
        canceled: 0,
        runs: 2,
      });
      const retryRuns = await allRuns(storage, retry.backfillId);
      expect(retryRuns.map((r) => [r.status, r.assetKeys, r.partitionKeys])).toEqual([
        ["SUCCESS", ["raw"], ["2024-01-02-07:00"]],
        ["SUCCESS", ["clean"], ["2024-01-02"]],
      ]);
      expect(rawCalls).toEqual(["2024-01-02-07:00"]);
      expect((await partitionStatus(defs, storage, spaces, "clean")).counts.materialized).toBe(2);

      // Running the completed retry again launches nothing, and keeps its record.
      const again = await instance.runBackfill(defs, retry.backfillId);
      expect((await allRuns(storage, retry.backfillId)).length).toBe(2);
      expect((await allRuns(storage)).length).toBe(51);
      expect(again.status).toBe("COMPLETED");
      expect(rawCalls).toEqual(["2024-01-02-07:00"]);
      // BUG: runBackfill restarts counts.runs at 0 (it counts only the runs launched by this call), so the
      // record of a backfill that launched 2 runs says runs: 0 afterwards while materialized still says 50.
      expect.soft(again.counts).toEqual(retried.counts);

      // Nothing is left to retry without force.
      const nothing = await thrown(() => instance.retryBackfill(defs, retry.backfillId));
      expect(nothing.message).toBe(
        `Backfill ${retry.backfillId} has nothing left to retry; pass --force to run it all again.`,
      );

      // force: everything again.
      rawCalls.length = 0;
      const forced = await instance.retryBackfill(defs, first.backfillId, { force: true });
      expect(forced.options.force).toBe(true);
      const forcedDone = await instance.runBackfill(defs, forced.backfillId);
      expect(forcedDone.status).toBe("COMPLETED");
      expect(forcedDone.counts).toEqual({
        targeted: 50,
        materialized: 50,
        failed: 0,
        skipped: 0,
        canceled: 0,
        runs: 50,
      });
      expect((await allRuns(storage, forced.backfillId)).length).toBe(50);
      expect(rawCalls.sort()).toEqual(hourKeys("2024-01-01T00:00Z", 48));
    });

    it("cancel with an AbortSignal after 3 runs: CANCELED, nothing launched afterwards; a retry resumes", async () => {
      const rawCalls: string[] = [];
      const { raw, clean } = hourlyDaily(2, { onRaw: (k) => rawCalls.push(k) });
      const defs = defineDefinitions({ assets: [raw, clean] });
      const bf = await instance.createBackfill(defs, { selection: "*", partitions: ALL_HOURS_2 });
      const controller = new AbortController();
      const canceled = await instance.runBackfill(defs, bf.backfillId, {
        concurrency: 1,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.unitsDone === 3) controller.abort();
        },
      });
      expect(canceled.status).toBe("CANCELED");
      expect(canceled.counts).toEqual({
        targeted: 50,
        materialized: 3,
        failed: 0,
        skipped: 0,
        canceled: 47,
        runs: 3,
      });
      expect(rawCalls).toEqual(hourKeys("2024-01-01T00:00Z", 3));
      const runsAfterCancel = await allRuns(storage, bf.backfillId);
      expect(runsAfterCancel.map((r) => r.status)).toEqual(["SUCCESS", "SUCCESS", "SUCCESS"]);
      // Stable: nothing keeps running in the background, and the stored record is the returned one.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await allRuns(storage)).length).toBe(3);
      expect(await storage.getBackfill(bf.backfillId)).toEqual(canceled);
      // A canceled backfill cannot be run again, only retried.
      const rerun = await thrown(() => instance.runBackfill(defs, bf.backfillId));
      expect(rerun.message).toBe(
        `Backfill ${bf.backfillId} was canceled; retry it with \`baton backfill retry ${bf.backfillId}\`.`,
      );

      // Resume: a retry skips the 3 hours that succeeded.
      rawCalls.length = 0;
      const resume = await instance.retryBackfill(defs, bf.backfillId);
      const resumed = await instance.runBackfill(defs, resume.backfillId);
      expect(resumed.status).toBe("COMPLETED");
      expect(resumed.counts).toEqual({
        targeted: 50,
        materialized: 50,
        failed: 0,
        skipped: 0,
        canceled: 0,
        runs: 47,
      });
      const resumedRuns = await allRuns(storage, resume.backfillId);
      expect(resumedRuns).toHaveLength(47);
      const resumedKeys = resumedRuns.map((r) => r.partitionKeys!.join());
      expect(resumedKeys.filter((k) => hourKeys("2024-01-01T00:00Z", 3).includes(k))).toEqual([]);
      expect(rawCalls.sort()).toEqual(hourKeys("2024-01-01T00:00Z", 48).slice(3));
    });

    it("instance.cancelBackfill from inside the first run's body: CANCELED after that run, run count stable", async () => {
      let backfillId = "";
      let calls = 0;
      const days = dailyPartitions({ start: "2024-01-01", end: "2024-01-06" });
      const slow = asset({ key: "cancel/daily", partitions: days }, async (ctx) => {
        calls++;
        if (calls === 1) {
          const record = await instance.cancelBackfill(backfillId);
          expect(record.status).toBe("CANCELING");
        }
        return ctx.partitionKey;
      });
      const defs = defineDefinitions({ assets: [slow] });
      const bf = await instance.createBackfill(defs, { selection: "*", partitions: { which: "all" } });
      backfillId = bf.backfillId;
      const done = await instance.runBackfill(defs, bf.backfillId, { concurrency: 1 });
      expect(done.status).toBe("CANCELED");
      expect(done.counts).toEqual({
        targeted: 5,
        materialized: 1,
        failed: 0,
        skipped: 0,
        canceled: 4,
        runs: 1,
      });
      expect(calls).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await allRuns(storage, bf.backfillId)).map((r) => [r.status, r.partitionKeys])).toEqual([
        ["SUCCESS", ["2024-01-01"]],
      ]);
      expect(await storage.getBackfill(bf.backfillId)).toEqual(done);
    });
  });
}
