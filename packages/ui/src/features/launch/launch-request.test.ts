import { describe, expect, it } from "vitest";
import {
  configIssues,
  type DimensionInfo,
  findKeyIndex,
  launchSummary,
  launchTarget,
  lowerBound,
  multiKeys,
  partitionCount,
  placeApiError,
  selectionOf,
  tagsOf,
} from "./launch-request";

const month: DimensionInfo = { name: "month", keys: ["2019-01", "2019-02", "2019-03", "2019-04"] };
const taxi: DimensionInfo = { name: "taxi", keys: ["yellow", "green"] };

describe("launchTarget: the picker → the request body", () => {
  it("launches a run for unpartitioned assets and for one partition", () => {
    expect(launchTarget(false, null)).toEqual({ ok: true, endpoint: "run" });
    expect(launchTarget(true, { mode: "one", key: { key: "2019-01" } })).toEqual({
      ok: true,
      endpoint: "run",
      partitions: { keys: ["2019-01"] },
    });
  });

  it("sends a range as a backfill range, and a one-key range as a run", () => {
    expect(
      launchTarget(true, {
        mode: "range",
        from: { key: "2019-01", index: 0 },
        to: { key: "2019-03", index: 2 },
      }),
    ).toEqual({ ok: true, endpoint: "backfill", partitions: { range: { from: "2019-01", to: "2019-03" } } });
    expect(launchTarget(true, { mode: "range", from: { key: "a" }, to: { key: "a" } })).toMatchObject({
      endpoint: "run",
      partitions: { keys: ["a"] },
    });
  });

  it("refuses incomplete and reversed ranges with the reason", () => {
    expect(launchTarget(true, { mode: "range", from: { key: "a" }, to: null })).toEqual({
      ok: false,
      reason: "Choose the first and last partition.",
    });
    const reversed = launchTarget(true, {
      mode: "range",
      from: { key: "2019-03", index: 2 },
      to: { key: "2019-01", index: 0 },
    });
    expect(reversed.ok).toBe(false);
    expect(!reversed.ok && reversed.reason).toMatch(/reversed/);
  });

  it("sends all / missing / failed / stale as a backfill filter", () => {
    for (const which of ["all", "missing", "failed", "stale"] as const)
      expect(launchTarget(true, { mode: "which", which })).toEqual({
        ok: true,
        endpoint: "backfill",
        partitions: { which },
      });
  });

  it("makes a backfill of one key when the selection spans partitions definitions", () => {
    expect(launchTarget(true, { mode: "one", key: { key: "2019-01" } }, [], true)).toEqual({
      ok: true,
      endpoint: "backfill",
      partitions: { keys: ["2019-01"] },
    });
  });

  it("combines one pick per dimension into multi-partition keys, row-major", () => {
    const picks = [
      { kind: "range" as const, from: 1, to: 2 },
      { kind: "list" as const, keys: ["green", "yellow"] },
    ];
    expect(multiKeys([month, taxi], picks)).toEqual([
      "2019-02|yellow",
      "2019-02|green",
      "2019-03|yellow",
      "2019-03|green",
    ]);
    expect(launchTarget(true, { mode: "dimensions", picks }, [month, taxi])).toEqual({
      ok: true,
      endpoint: "backfill",
      partitions: { keys: ["2019-02|yellow", "2019-02|green", "2019-03|yellow", "2019-03|green"] },
    });
    expect(
      launchTarget(
        true,
        {
          mode: "dimensions",
          picks: [
            { kind: "list", keys: ["2019-04"] },
            { kind: "list", keys: ["green"] },
          ],
        },
        [month, taxi],
      ),
    ).toEqual({ ok: true, endpoint: "run", partitions: { keys: ["2019-04|green"] } });
  });

  it("says which dimension still needs a choice", () => {
    expect(
      launchTarget(
        true,
        {
          mode: "dimensions",
          picks: [
            { kind: "range", from: 0, to: 1 },
            { kind: "list", keys: [] },
          ],
        },
        [month, taxi],
      ),
    ).toEqual({ ok: false, reason: "Choose at least one taxi." });
    expect(
      launchTarget(
        true,
        {
          mode: "dimensions",
          picks: [
            { kind: "range", from: 2, to: 1 },
            { kind: "list", keys: ["green"] },
          ],
        },
        [month, taxi],
      ),
    ).toMatchObject({ ok: false, reason: expect.stringMatching(/month range is reversed/) });
  });
});

describe("partitionCount and launchSummary", () => {
  it("counts keys, ranges by index, filters from the status counts", () => {
    expect(partitionCount({ mode: "keys", keys: ["a", "b", "a"] }, [], {})).toBe(2);
    expect(
      partitionCount(
        { mode: "range", from: { key: "b", index: 10 }, to: { key: "c", index: 999_999 } },
        [],
        {},
      ),
    ).toBe(999_990);
    expect(partitionCount({ mode: "range", from: { key: "b" }, to: { key: "c" } }, [], {})).toBeNull();
    expect(partitionCount({ mode: "which", which: "all" }, [], { total: 64 })).toBe(64);
    expect(partitionCount({ mode: "which", which: "missing" }, [], { missing: 7 })).toBe(7);
    expect(partitionCount({ mode: "which", which: "failed" }, [], { failed: 2 })).toBe(2);
    expect(partitionCount({ mode: "which", which: "stale" }, [], { total: 64 })).toBeNull();
    expect(
      partitionCount(
        {
          mode: "dimensions",
          picks: [
            { kind: "range", from: 0, to: 3 },
            { kind: "list", keys: ["green"] },
          ],
        },
        [month, taxi],
        {},
      ),
    ).toBe(4);
  });

  it("describes the launch", () => {
    expect(launchSummary({ ok: true, endpoint: "run" }, 2, null)).toBe("1 run of 2 assets");
    expect(launchSummary({ ok: true, endpoint: "run", partitions: { keys: ["2019-01|yellow"] } }, 1, 1)).toBe(
      "1 run of 1 asset for partition 2019-01|yellow",
    );
    expect(launchSummary({ ok: true, endpoint: "backfill", partitions: { which: "all" } }, 2, 1000)).toBe(
      "a backfill of 2 assets over 1,000 partitions in 1,000 runs (one run per partition)",
    );
    expect(
      launchSummary({ ok: true, endpoint: "backfill", partitions: { which: "stale" } }, 1, null, "stale"),
    ).toMatch(/stale partitions \(counted when it starts\)/);
  });
});

describe("placeApiError: an API 400's field → the form", () => {
  const steps = ["taxi/raw_trips", "taxi/clean_trips", "a.b"];
  it("maps body.config.<step>.<path> to that step's field, even when the step key has dots", () => {
    expect(placeApiError("body.config.taxi/raw_trips.landing", steps)).toEqual({
      area: "config",
      step: "taxi/raw_trips",
      path: "landing",
    });
    expect(placeApiError("body.config.a.b.target.table", steps)).toEqual({
      area: "config",
      step: "a.b",
      path: "target.table",
    });
    expect(placeApiError("body.config.taxi/clean_trips", steps)).toEqual({
      area: "config",
      step: "taxi/clean_trips",
      path: "",
    });
  });
  it("maps partitions and tags to their controls and everything else to the top", () => {
    expect(placeApiError("body.partitions.range.from", steps)).toEqual({ area: "partitions", part: "from" });
    expect(placeApiError("body.partitions.range.to", steps)).toEqual({ area: "partitions", part: "to" });
    expect(placeApiError("body.partitions.keys[3]", steps)).toEqual({ area: "partitions", part: "keys" });
    expect(placeApiError("body.partitions", steps)).toEqual({ area: "partitions", part: "any" });
    expect(placeApiError("body.tags.owner", steps)).toEqual({ area: "tags" });
    expect(placeApiError("body.config.unknown.x", steps)).toEqual({ area: "top" });
    expect(placeApiError("body.selection", steps)).toEqual({ area: "top" });
    expect(placeApiError(undefined, steps)).toEqual({ area: "top" });
  });
});

describe("configIssues", () => {
  it("reads each issue of an INVALID_CONFIG message with its path", () => {
    const message =
      "Invalid config for the run:\n  - taxi/raw_trips.landing: Invalid input: expected string, received number\n  - (root): bad";
    expect(configIssues(message)).toEqual([
      { path: "taxi/raw_trips.landing", message: "Invalid input: expected string, received number" },
      { path: "", message: "bad" },
    ]);
    expect(configIssues("No run")).toEqual([]);
  });
});

describe("helpers", () => {
  it("quotes keys in the selection", () => {
    expect(selectionOf(["taxi/raw_trips", '2019"x'])).toBe('"taxi/raw_trips", "2019\\"x"');
  });
  it("reads tag rows", () => {
    expect(
      tagsOf([
        { key: "team", value: "ops" },
        { key: "", value: "" },
        { key: "team", value: "x" },
        { key: "", value: "v" },
      ]),
    ).toEqual({
      tags: { team: "ops" },
      errors: { 2: '"team" is given twice.', 3: "A tag needs a key." },
    });
  });
  it("finds a key's position in a sorted key space by a parallel search, null when it is out of order", async () => {
    const keyAt = (i: number) => `k${String(i).padStart(7, "0")}`;
    let reads = 0;
    const at = async (i: number) => {
      reads++;
      return keyAt(i);
    };
    expect(await findKeyIndex("k0765432", 1_000_000, at)).toBe(765_432);
    expect(reads).toBeLessThanOrEqual(60);
    expect(await lowerBound("k05", 1_000_000, at)).toBe(500_000);
    expect(await lowerBound("k1", 1_000_000, at)).toBe(1_000_000);
    expect(await lowerBound("a", 1_000_000, at)).toBe(0);
    for (const total of [0, 1, 2, 7, 100])
      for (let i = 0; i <= total; i++)
        expect(await lowerBound(keyAt(i), total, at), `${i} of ${total}`).toBe(i);
    const unsorted = ["b", "a", "c"];
    expect(await findKeyIndex("a", 3, async (i) => unsorted[i])).toBeNull();
  });
});
