import { describe, expect, it } from "vitest";
import { isPartitionsDefinition, PARTITIONS_BRAND, type TimeWindowKeySpace } from "./partitions.js";
import {
  dailyPartitions,
  hourlyPartitions,
  monthlyPartitions,
  type TimeWindowOptions,
  timeWindowPartitions,
  weeklyPartitions,
} from "./time-window.js";
import {
  civilFromDays,
  daysFromCivil,
  formatOffset,
  isValidTimeZone,
  resolveLocal,
  zonedParts,
  zonedToEpoch,
} from "./zoned-time.js";

const HOUR = 3_600_000;
const at = (iso: string): number => {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`bad test instant ${iso}`);
  return t;
};
const ctx = (now: string | number) => ({
  now: typeof now === "number" ? now : at(now),
  dynamicKeys: () => [],
});
/** Resolved far in the future: for definitions with an `end`, `now` plays no part. */
const FAR = ctx("2100-01-01T00:00Z");

function windows(space: TimeWindowKeySpace, from = 0, to = space.count()) {
  const out: { key: string; start: string; end: string; hours: number }[] = [];
  for (let i = from; i < to; i++) {
    const w = space.windowAt(i);
    out.push({
      key: space.keyAt(i),
      start: w.start.toISOString(),
      end: w.end.toISOString(),
      hours: (w.end.getTime() - w.start.getTime()) / HOUR,
    });
  }
  return out;
}

/** Deterministic pseudo-random integers in [0, n). */
function randomIndices(n: number, howMany: number, seed = 42): number[] {
  let s = seed;
  const out: number[] = [];
  for (let i = 0; i < howMany; i++) {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    out.push(s % n);
  }
  return out;
}

/** keyAt / indexOf round trip, strictly increasing keys (default formats sort), contiguous windows. */
function checkConsistent(space: TimeWindowKeySpace, sorted = true): void {
  const n = space.count();
  expect(n).toBeGreaterThan(1);
  for (const i of [0, n - 1, ...randomIndices(n, 300)]) {
    const key = space.keyAt(i);
    expect(space.indexOf(key), key).toBe(i);
    const w = space.windowAt(i);
    expect(space.indexContaining(w.start.getTime())).toBe(i);
    expect(space.indexContaining(w.end.getTime() - 1)).toBe(i);
    if (i + 1 < n) {
      expect(space.windowAt(i + 1).start.getTime()).toBe(w.end.getTime());
      if (sorted) expect(space.keyAt(i + 1) > key, `${space.keyAt(i + 1)} > ${key}`).toBe(true);
    }
  }
}

describe("zoned-time helpers", () => {
  it("converts civil dates to day numbers and back, for any year", () => {
    expect(daysFromCivil(1970, 1, 1)).toBe(0);
    expect(daysFromCivil(2024, 3, 10)).toBe(Date.UTC(2024, 2, 10) / 86_400_000);
    expect(daysFromCivil(1900, 1, 1)).toBe(Date.UTC(1900, 0, 1) / 86_400_000);
    for (const n of [-800_000, -719_468, -1, 0, 59, 60, 11_016, 19_792, 2_932_896])
      expect(daysFromCivil(...(Object.values(civilFromDays(n)) as [number, number, number]))).toBe(n);
    expect(civilFromDays(daysFromCivil(2024, 2, 29))).toEqual({ year: 2024, month: 2, day: 29 });
    expect(civilFromDays(daysFromCivil(0, 3, 1) - 1)).toEqual({ year: 0, month: 2, day: 29 });
  });

  it("reads local parts and offsets, including DST and half-hour zones", () => {
    expect(zonedParts(at("2024-11-03T05:30Z"), "America/New_York")).toEqual({
      year: 2024,
      month: 11,
      day: 3,
      hour: 1,
      minute: 30,
      second: 0,
      offsetMinutes: -240,
    });
    expect(zonedParts(at("2024-11-03T06:30Z"), "America/New_York")).toMatchObject({
      hour: 1,
      offsetMinutes: -300,
    });
    expect(zonedParts(at("2024-01-01T00:00Z"), "Asia/Kolkata")).toMatchObject({
      hour: 5,
      minute: 30,
      offsetMinutes: 330,
    });
    expect(zonedParts(at("2024-07-01T12:00:07.900Z"), "UTC")).toMatchObject({
      hour: 12,
      second: 7,
      offsetMinutes: 0,
    });
  });

  it("resolves local times in gaps and overlaps", () => {
    const tz = "America/New_York";
    const repeated = { year: 2024, month: 11, day: 3, hour: 1, minute: 30 };
    expect(zonedToEpoch(repeated, tz, "earlier")).toBe(at("2024-11-03T05:30Z"));
    expect(zonedToEpoch(repeated, tz, "later")).toBe(at("2024-11-03T06:30Z"));
    const skipped = { year: 2024, month: 3, day: 10, hour: 2, minute: 30 };
    expect(resolveLocal(skipped, tz)).toEqual({
      kind: "gap",
      transition: at("2024-03-10T07:00Z"),
      shifted: at("2024-03-10T07:30Z"),
    });
    expect(zonedToEpoch(skipped, tz)).toBe(at("2024-03-10T07:00Z"));
    expect(resolveLocal({ year: 2024, month: 7, day: 1, hour: 12 }, tz)).toEqual({
      kind: "unique",
      instant: at("2024-07-01T16:00Z"),
    });
  });

  it("validates zone names and formats offsets", () => {
    expect(isValidTimeZone("America/New_York")).toBe(true);
    expect(isValidTimeZone("UTC")).toBe(true);
    expect(isValidTimeZone("Mars/Olympus")).toBe(false);
    expect(isValidTimeZone("")).toBe(false);
    expect(formatOffset(-5 * HOUR)).toBe("-05:00");
    expect(formatOffset(5.5 * HOUR)).toBe("+05:30");
    expect(formatOffset(0)).toBe("+00:00");
  });
});

describe("definitions", () => {
  it("are branded time definitions with their options", () => {
    const def = dailyPartitions({ start: "2024-01-01", end: "2024-02-01", timezone: "America/New_York" });
    expect(def[PARTITIONS_BRAND]).toBe(true);
    expect(isPartitionsDefinition(def)).toBe(true);
    expect(def).toMatchObject({
      kind: "time",
      grain: "day",
      unit: "day",
      cron: "0 0 * * *",
      timezone: "America/New_York",
      format: "YYYY-MM-DD",
      start: at("2024-01-01T05:00Z"),
      end: at("2024-02-01T05:00Z"),
      endOffset: 0,
    });
    expect(def.describeFormat()).toBe("YYYY-MM-DD (daily, America/New_York)");
    expect(hourlyPartitions({ start: "2024-01-01", minuteOffset: 15 })).toMatchObject({
      grain: "hour",
      unit: "hour",
      cron: "15 * * * *",
      format: "YYYY-MM-DD-HH:mm",
    });
    expect(weeklyPartitions({ start: "2024-01-01", dayOffset: 1 })).toMatchObject({
      grain: "week",
      cron: "0 0 * * 1",
    });
    expect(monthlyPartitions({ start: "2024-01-01" }).describeFormat()).toBe("YYYY-MM (monthly, UTC)");
    const cron = timeWindowPartitions({
      cron: "0 9 * * 1-5",
      start: "2024-01-01",
      timezone: "America/New_York",
    });
    expect(cron).toMatchObject({ grain: "cron", unit: undefined, cron: "0 9 * * 1-5", end: undefined });
    expect(cron.describeFormat()).toBe('YYYY-MM-DD-HH:mm (cron "0 9 * * 1-5", America/New_York)');
  });

  it("have equal fingerprints exactly when they produce the same keys", () => {
    const fp = (o: Parameters<typeof dailyPartitions>[0]) => dailyPartitions(o).fingerprint;
    const base = fp({ start: "2024-01-01", end: "2024-02-01" });
    expect(base).toBe(
      "time:day:UTC:YYYY-MM-DD:start=2024-01-01T00:00:00.000Z:end=2024-02-01T00:00:00.000Z:offset=0:hourOffset=0",
    );
    // Same first window / same last window / endOffset irrelevant with an end.
    expect(fp({ start: new Date("2024-01-01T00:00:00Z"), end: "2024-02-01" })).toBe(base);
    expect(fp({ start: "2023-12-31T00:01", end: "2024-02-01" })).toBe(base);
    expect(fp({ start: "2024-01-01", end: "2024-02-01T13:00" })).toBe(base);
    expect(fp({ start: "2024-01-01", end: "2024-02-01", endOffset: 3 })).toBe(base);
    // Different keys.
    expect(fp({ start: "2024-01-02", end: "2024-02-01" })).not.toBe(base);
    expect(fp({ start: "2024-01-01", end: "2024-02-02" })).not.toBe(base);
    expect(fp({ start: "2024-01-01" })).not.toBe(base);
    expect(fp({ start: "2024-01-01", endOffset: 1 })).not.toBe(fp({ start: "2024-01-01" }));
    expect(fp({ start: "2024-01-01", end: "2024-02-01", format: "YYYYMMDD" })).not.toBe(base);
    expect(fp({ start: "2024-01-01", end: "2024-02-01", hourOffset: 1 })).not.toBe(base);
    expect(fp({ start: "2024-01-01", end: "2024-02-01", timezone: "Europe/Berlin" })).not.toBe(base);
    expect(weeklyPartitions({ start: "2024-01-01", end: "2024-02-01" }).fingerprint).not.toBe(base);
    // Zone aliases are the same zone.
    expect(fp({ start: "2024-01-01", timezone: "US/Eastern" })).toBe(
      fp({ start: "2024-01-01", timezone: "America/New_York" }),
    );
  });
});

describe("UTC fixed units", () => {
  it("daily: count with end, with now, with endOffset", () => {
    const bounded = dailyPartitions({ start: "2024-01-01", end: "2024-02-01" }).resolve(
      ctx("2024-01-10T12:00Z"),
    );
    expect(bounded.count()).toBe(31);
    expect(bounded.keyAt(0)).toBe("2024-01-01");
    expect(bounded.keyAt(30)).toBe("2024-01-31");
    expect(windows(bounded, 30)).toEqual([
      { key: "2024-01-31", start: "2024-01-31T00:00:00.000Z", end: "2024-02-01T00:00:00.000Z", hours: 24 },
    ]);

    const open = (now: string, endOffset?: number) =>
      dailyPartitions({ start: "2024-01-01", endOffset }).resolve(ctx(now)).count();
    expect(open("2024-01-10T12:00Z")).toBe(9); // Jan 1..9 complete
    expect(open("2024-01-10T00:00Z")).toBe(9); // Jan 9 ends exactly at now
    expect(open("2024-01-09T23:59:59.999Z")).toBe(8);
    expect(open("2024-01-10T12:00Z", 1)).toBe(10); // + the window in progress
    expect(open("2024-01-10T12:00Z", -1)).toBe(8);
    expect(open("2023-06-01T00:00Z")).toBe(0);
    expect(open("2023-06-01T00:00Z", -1)).toBe(0); // never negative
    expect(open("2024-01-01T00:00Z", 1)).toBe(1);
    const space = dailyPartitions({ start: "2024-01-01", endOffset: 1 }).resolve(ctx("2024-01-10T12:00Z"));
    expect(space.keyAt(9)).toBe("2024-01-10");
    expect(() => space.keyAt(10)).toThrow(RangeError);
  });

  it("daily: a start inside a day begins at the next midnight; hourOffset moves the boundary", () => {
    const space = dailyPartitions({ start: "2024-01-01T00:01", end: "2024-01-04" }).resolve(FAR);
    expect([...space.keys()]).toEqual(["2024-01-02", "2024-01-03"]);
    const shifted = dailyPartitions({ start: "2024-01-01", end: "2024-01-04", hourOffset: 6 }).resolve(FAR);
    expect(windows(shifted)).toEqual([
      { key: "2024-01-01", start: "2024-01-01T06:00:00.000Z", end: "2024-01-02T06:00:00.000Z", hours: 24 },
      { key: "2024-01-02", start: "2024-01-02T06:00:00.000Z", end: "2024-01-03T06:00:00.000Z", hours: 24 },
    ]);
    expect(shifted.indexContaining(at("2024-01-02T05:59Z"))).toBe(0);
    expect(shifted.indexContaining(at("2024-01-02T06:00Z"))).toBe(1);
  });

  it("monthly: windows of calendar months", () => {
    const space = monthlyPartitions({ start: "2023-11-15" }).resolve(ctx("2024-03-05T00:00Z"));
    expect([...space.keys()]).toEqual(["2023-12", "2024-01", "2024-02"]);
    expect(windows(space, 2)).toEqual([
      { key: "2024-02", start: "2024-02-01T00:00:00.000Z", end: "2024-03-01T00:00:00.000Z", hours: 29 * 24 },
    ]);
    expect(monthlyPartitions({ start: "2019-01" }).resolve(ctx("2024-01-01T00:00Z")).count()).toBe(60);
    const offset = monthlyPartitions({ start: "2024-01-01", end: "2024-04-01", dayOffset: 14 }).resolve(FAR);
    expect([...offset.keys()]).toEqual(["2024-01", "2024-02"]);
    expect(offset.windowAt(0).start.toISOString()).toBe("2024-01-15T00:00:00.000Z");
    checkConsistent(monthlyPartitions({ start: "1900-01" }).resolve(ctx("2024-06-01T00:00Z")));
  });

  it("weekly: weeks start on Sunday + dayOffset", () => {
    const sundays = weeklyPartitions({ start: "2024-01-01", end: "2024-02-04" }).resolve(FAR);
    expect([...sundays.keys()]).toEqual(["2024-01-07", "2024-01-14", "2024-01-21", "2024-01-28"]);
    const mondays = weeklyPartitions({ start: "2024-01-01", end: "2024-02-04", dayOffset: 1 }).resolve(FAR);
    expect([...mondays.keys()]).toEqual(["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"]);
    expect(windows(mondays, 0, 1)).toEqual([
      { key: "2024-01-01", start: "2024-01-01T00:00:00.000Z", end: "2024-01-08T00:00:00.000Z", hours: 168 },
    ]);
    expect(mondays.indexOf("2024-01-02")).toBe(-1); // a date inside a week, not its start
    checkConsistent(
      weeklyPartitions({ start: "1950-01-01", dayOffset: 3 }).resolve(ctx("2024-06-01T00:00Z")),
    );
  });

  it("hourly: count, endOffset, minuteOffset", () => {
    const space = hourlyPartitions({ start: "2024-01-01" }).resolve(ctx("2024-01-02T05:30Z"));
    expect(space.count()).toBe(29);
    expect(space.keyAt(0)).toBe("2024-01-01-00:00");
    expect(space.keyAt(28)).toBe("2024-01-02-04:00");
    const ahead = hourlyPartitions({ start: "2024-01-01", endOffset: 1 }).resolve(ctx("2024-01-02T05:30Z"));
    expect(ahead.count()).toBe(30);
    expect(ahead.keyAt(29)).toBe("2024-01-02-05:00");
    expect(
      hourlyPartitions({ start: "2024-01-01", endOffset: -1 }).resolve(ctx("2024-01-02T05:30Z")).count(),
    ).toBe(28);
    const quarter = hourlyPartitions({
      start: "2024-01-01",
      minuteOffset: 15,
      end: "2024-01-01T03:00",
    }).resolve(FAR);
    expect([...quarter.keys()]).toEqual(["2024-01-01-00:15", "2024-01-01-01:15"]);
    expect(quarter.indexOf("2024-01-01-01:00")).toBe(-1);
  });

  it("keyAt / indexOf round trip on random indices, contiguous windows", () => {
    const now = ctx("2024-06-15T12:34Z");
    checkConsistent(dailyPartitions({ start: "1990-01-01" }).resolve(now));
    checkConsistent(hourlyPartitions({ start: "2020-01-01" }).resolve(now));
    checkConsistent(dailyPartitions({ start: "2000-02-28", hourOffset: 23 }).resolve(now));
  });

  it("keys(start, end) is lazy and clipped to the range", () => {
    const space = dailyPartitions({ start: "2024-01-01", end: "2024-01-11" }).resolve(FAR);
    expect([...space.keys(2, 5)]).toEqual(["2024-01-03", "2024-01-04", "2024-01-05"]);
    expect([...space.keys(8, 100)]).toEqual(["2024-01-09", "2024-01-10"]);
    expect([...space.keys(-5, 1)]).toEqual(["2024-01-01"]);
    expect([...space.keys(5, 5)]).toEqual([]);
    const huge = hourlyPartitions({ start: "1900-01-01" }).resolve(ctx("2024-01-01T00:00Z"));
    const iterator = huge.keys(1000, 2000)[Symbol.iterator]();
    expect(iterator.next().value).toBe("1900-02-11-16:00");
  });

  it("windowAt and keyAt reject indices out of range", () => {
    const space = dailyPartitions({ start: "2024-01-01", end: "2024-01-11" }).resolve(FAR);
    for (const bad of [-1, 10, 1.5, Number.NaN]) {
      expect(() => space.keyAt(bad)).toThrow(RangeError);
      expect(() => space.windowAt(bad)).toThrow(RangeError);
    }
  });
});

describe("custom formats", () => {
  it("monthly YYYYMM", () => {
    const space = monthlyPartitions({ start: "2024-01", end: "2024-04", format: "YYYYMM" }).resolve(FAR);
    expect([...space.keys()]).toEqual(["202401", "202402", "202403"]);
    expect(space.indexOf("202402")).toBe(1);
    expect(space.indexOf("2024-02")).toBe(-1);
    expect(space.indexOf("202413")).toBe(-1);
  });

  it("daily DD.MM.YYYY, and literal text around tokens", () => {
    const space = dailyPartitions({ start: "2024-03-09", end: "2024-03-12", format: "DD.MM.YYYY" }).resolve(
      FAR,
    );
    expect([...space.keys()]).toEqual(["09.03.2024", "10.03.2024", "11.03.2024"]);
    expect(space.indexOf("10.03.2024")).toBe(1);
    expect(space.indexOf("2024-03-10")).toBe(-1);
    expect(space.indexOf("10x03.2024")).toBe(-1); // "." is literal, not a regex wildcard
    const labelled = hourlyPartitions({
      start: "2024-01-01",
      end: "2024-01-01T02:00",
      format: "day=YYYYMMDD hour=HH",
    });
    expect([...labelled.resolve(FAR).keys()]).toEqual(["day=20240101 hour=00", "day=20240101 hour=01"]);
  });
});

describe("America/New_York (DST)", () => {
  const tz = "America/New_York";

  it("daily windows are 23 h on spring-forward day and 25 h on fall-back day", () => {
    const spring = dailyPartitions({ start: "2024-03-09", end: "2024-03-12", timezone: tz }).resolve(FAR);
    expect(windows(spring)).toEqual([
      { key: "2024-03-09", start: "2024-03-09T05:00:00.000Z", end: "2024-03-10T05:00:00.000Z", hours: 24 },
      { key: "2024-03-10", start: "2024-03-10T05:00:00.000Z", end: "2024-03-11T04:00:00.000Z", hours: 23 },
      { key: "2024-03-11", start: "2024-03-11T04:00:00.000Z", end: "2024-03-12T04:00:00.000Z", hours: 24 },
    ]);
    const fall = dailyPartitions({ start: "2024-11-03", end: "2024-11-05", timezone: tz }).resolve(FAR);
    expect(windows(fall)).toEqual([
      { key: "2024-11-03", start: "2024-11-03T04:00:00.000Z", end: "2024-11-04T05:00:00.000Z", hours: 25 },
      { key: "2024-11-04", start: "2024-11-04T05:00:00.000Z", end: "2024-11-05T05:00:00.000Z", hours: 24 },
    ]);
    expect(fall.indexContaining(at("2024-11-04T04:30Z"))).toBe(0); // 23:30 EST on Nov 3
    expect(fall.indexContaining(at("2024-11-04T05:00Z"))).toBe(1);
  });

  it("counts daily windows against the local clock", () => {
    const count = (now: string) =>
      dailyPartitions({ start: "2024-01-01", timezone: tz }).resolve(ctx(now)).count();
    expect(count("2024-01-02T04:59Z")).toBe(0); // 23:59 on Jan 1 in New York
    expect(count("2024-01-02T05:00Z")).toBe(1);
  });

  it("hourly across spring forward: no 02:00 key, every window exactly one hour", () => {
    const space = hourlyPartitions({ start: "2024-03-10", end: "2024-03-10T05:00", timezone: tz }).resolve(
      FAR,
    );
    expect(windows(space)).toEqual([
      {
        key: "2024-03-10-00:00",
        start: "2024-03-10T05:00:00.000Z",
        end: "2024-03-10T06:00:00.000Z",
        hours: 1,
      },
      {
        key: "2024-03-10-01:00",
        start: "2024-03-10T06:00:00.000Z",
        end: "2024-03-10T07:00:00.000Z",
        hours: 1,
      },
      {
        key: "2024-03-10-03:00",
        start: "2024-03-10T07:00:00.000Z",
        end: "2024-03-10T08:00:00.000Z",
        hours: 1,
      },
      {
        key: "2024-03-10-04:00",
        start: "2024-03-10T08:00:00.000Z",
        end: "2024-03-10T09:00:00.000Z",
        hours: 1,
      },
    ]);
    expect(space.indexOf("2024-03-10-02:00")).toBe(-1);
    expect(space.indexOf("2024-03-10-03:00")).toBe(2);
  });

  it("hourly across fall back: two 01:00 windows, the second keyed with its offset", () => {
    const space = hourlyPartitions({ start: "2024-11-03", end: "2024-11-03T04:00", timezone: tz }).resolve(
      FAR,
    );
    expect(windows(space)).toEqual([
      {
        key: "2024-11-03-00:00",
        start: "2024-11-03T04:00:00.000Z",
        end: "2024-11-03T05:00:00.000Z",
        hours: 1,
      },
      {
        key: "2024-11-03-01:00",
        start: "2024-11-03T05:00:00.000Z",
        end: "2024-11-03T06:00:00.000Z",
        hours: 1,
      },
      {
        key: "2024-11-03-01:00-05:00",
        start: "2024-11-03T06:00:00.000Z",
        end: "2024-11-03T07:00:00.000Z",
        hours: 1,
      },
      {
        key: "2024-11-03-02:00",
        start: "2024-11-03T07:00:00.000Z",
        end: "2024-11-03T08:00:00.000Z",
        hours: 1,
      },
      {
        key: "2024-11-03-03:00",
        start: "2024-11-03T08:00:00.000Z",
        end: "2024-11-03T09:00:00.000Z",
        hours: 1,
      },
    ]);
    expect(space.indexOf("2024-11-03-01:00")).toBe(1);
    expect(space.indexOf("2024-11-03-01:00-05:00")).toBe(2);
    expect(space.indexOf("2024-11-03-01:00-04:00")).toBe(-1); // the first occurrence has no suffix
    expect(space.indexOf("2024-11-03-02:00-05:00")).toBe(-1); // 02:00 happens once
  });

  it("hourly starting at a local time string", () => {
    const space = hourlyPartitions({ start: "2024-03-01T05:00", timezone: tz }).resolve(
      ctx("2024-03-01T12:00Z"),
    );
    expect(space.keyAt(0)).toBe("2024-03-01-05:00");
    expect(space.windowAt(0).start.toISOString()).toBe("2024-03-01T10:00:00.000Z");
    expect(space.count()).toBe(2);
    const absolute = hourlyPartitions({ start: "2024-03-01T05:00Z", timezone: tz });
    expect(absolute.resolve(ctx("2024-03-01T12:00Z")).keyAt(0)).toBe("2024-03-01-00:00");
  });

  it("round trips over years of DST transitions", () => {
    checkConsistent(
      hourlyPartitions({ start: "2015-01-01", timezone: tz }).resolve(ctx("2025-01-01T00:00Z")),
    );
    checkConsistent(dailyPartitions({ start: "1970-01-01", timezone: tz }).resolve(ctx("2025-01-01T00:00Z")));
    // Every fall-back hour in ten years, both occurrences.
    const space = hourlyPartitions({ start: "2015-01-01", timezone: tz }).resolve(ctx("2025-01-01T00:00Z"));
    const suffixed = [...space.keys()].filter((k) => /:00-05:00$/.test(k));
    expect(suffixed).toHaveLength(10);
    for (const key of suffixed) expect(space.indexOf(key.slice(0, -6)) + 1).toBe(space.indexOf(key));
  });
});

describe("other zones", () => {
  it("Europe/Berlin hourly boundaries across both transitions", () => {
    const tz = "Europe/Berlin";
    const spring = hourlyPartitions({ start: "2024-03-31", end: "2024-03-31T04:00", timezone: tz }).resolve(
      FAR,
    );
    expect(windows(spring).map((w) => [w.key, w.start])).toEqual([
      ["2024-03-31-00:00", "2024-03-30T23:00:00.000Z"],
      ["2024-03-31-01:00", "2024-03-31T00:00:00.000Z"],
      ["2024-03-31-03:00", "2024-03-31T01:00:00.000Z"],
    ]);
    const fall = hourlyPartitions({ start: "2024-10-27", end: "2024-10-27T04:00", timezone: tz }).resolve(
      FAR,
    );
    expect(windows(fall).map((w) => [w.key, w.start])).toEqual([
      ["2024-10-27-00:00", "2024-10-26T22:00:00.000Z"],
      ["2024-10-27-01:00", "2024-10-26T23:00:00.000Z"],
      ["2024-10-27-02:00", "2024-10-27T00:00:00.000Z"],
      ["2024-10-27-02:00+01:00", "2024-10-27T01:00:00.000Z"],
      ["2024-10-27-03:00", "2024-10-27T02:00:00.000Z"],
    ]);
    expect(fall.indexOf("2024-10-27-02:00+01:00")).toBe(3);
  });

  it("Asia/Kolkata (+05:30) hourly boundaries fall on local :00", () => {
    const tz = "Asia/Kolkata";
    const space = hourlyPartitions({ start: "2024-01-01", end: "2024-01-01T03:00", timezone: tz }).resolve(
      FAR,
    );
    expect(windows(space).map((w) => [w.key, w.start])).toEqual([
      ["2024-01-01-00:00", "2023-12-31T18:30:00.000Z"],
      ["2024-01-01-01:00", "2023-12-31T19:30:00.000Z"],
      ["2024-01-01-02:00", "2023-12-31T20:30:00.000Z"],
    ]);
    const late = hourlyPartitions({ start: "2024-01-01T00:10", timezone: tz }).resolve(
      ctx("2024-01-01T00:00Z"),
    );
    expect(late.keyAt(0)).toBe("2024-01-01-01:00");
    expect(late.count()).toBe(4); // 01:00..04:00 local complete by 05:30 local
    const half = hourlyPartitions({ start: "2024-01-01", minuteOffset: 30, timezone: tz });
    expect(half.resolve(ctx("2024-01-01T00:00Z")).windowAt(0).start.toISOString()).toBe(
      "2023-12-31T19:00:00.000Z",
    );
    checkConsistent(
      hourlyPartitions({ start: "2020-01-01", timezone: tz }).resolve(ctx("2024-01-01T00:00Z")),
    );
  });

  it("Australia/Lord_Howe daily windows across its 30-minute DST shifts", () => {
    const tz = "Australia/Lord_Howe";
    const autumn = dailyPartitions({ start: "2024-04-06", end: "2024-04-09", timezone: tz }).resolve(FAR);
    expect(windows(autumn)).toEqual([
      { key: "2024-04-06", start: "2024-04-05T13:00:00.000Z", end: "2024-04-06T13:00:00.000Z", hours: 24 },
      { key: "2024-04-07", start: "2024-04-06T13:00:00.000Z", end: "2024-04-07T13:30:00.000Z", hours: 24.5 },
      { key: "2024-04-08", start: "2024-04-07T13:30:00.000Z", end: "2024-04-08T13:30:00.000Z", hours: 24 },
    ]);
    const spring = dailyPartitions({ start: "2024-10-06", end: "2024-10-07", timezone: tz }).resolve(FAR);
    expect(windows(spring)).toEqual([
      { key: "2024-10-06", start: "2024-10-05T13:30:00.000Z", end: "2024-10-06T13:00:00.000Z", hours: 23.5 },
    ]);
    checkConsistent(dailyPartitions({ start: "2000-01-01", timezone: tz }).resolve(ctx("2025-01-01T00:00Z")));
  });

  it("America/Havana: a midnight that happens twice starts at its first occurrence", () => {
    const tz = "America/Havana"; // 2024-11-03 01:00 -04 falls back to 00:00 -05
    const space = dailyPartitions({ start: "2024-11-02", end: "2024-11-05", timezone: tz }).resolve(FAR);
    expect(windows(space).map((w) => [w.key, w.start, w.hours])).toEqual([
      ["2024-11-02", "2024-11-02T04:00:00.000Z", 24],
      ["2024-11-03", "2024-11-03T04:00:00.000Z", 25],
      ["2024-11-04", "2024-11-04T05:00:00.000Z", 24],
    ]);
    expect(space.indexContaining(at("2024-11-03T04:30Z"))).toBe(1); // 00:30, first time round
  });

  it("America/Santiago: a midnight that does not exist starts at the first valid instant", () => {
    const tz = "America/Santiago"; // 2024-09-08 00:00 -04 jumps to 01:00 -03
    const space = dailyPartitions({ start: "2024-09-07", end: "2024-09-09", timezone: tz }).resolve(FAR);
    expect(windows(space)).toEqual([
      { key: "2024-09-07", start: "2024-09-07T04:00:00.000Z", end: "2024-09-08T04:00:00.000Z", hours: 24 },
      { key: "2024-09-08", start: "2024-09-08T04:00:00.000Z", end: "2024-09-09T03:00:00.000Z", hours: 23 },
    ]);
  });
});

describe("general cron", () => {
  const tz = "America/New_York";
  const weekdays = timeWindowPartitions({
    cron: "0 9 * * 1-5",
    start: "2024-01-01",
    end: "2024-01-15",
    timezone: tz,
  });

  it("windows run from tick to tick, keyed by the tick's local time", () => {
    const space = weekdays.resolve(FAR);
    expect(space.count()).toBe(9); // Friday Jan 12's window ends Monday Jan 15 09:00, after `end`
    expect([...space.keys()]).toEqual([
      "2024-01-01-09:00",
      "2024-01-02-09:00",
      "2024-01-03-09:00",
      "2024-01-04-09:00",
      "2024-01-05-09:00",
      "2024-01-08-09:00",
      "2024-01-09-09:00",
      "2024-01-10-09:00",
      "2024-01-11-09:00",
    ]);
    expect(windows(space, 4, 5)).toEqual([
      {
        key: "2024-01-05-09:00",
        start: "2024-01-05T14:00:00.000Z",
        end: "2024-01-08T14:00:00.000Z",
        hours: 72,
      },
    ]);
    expect(space.indexOf("2024-01-08-09:00")).toBe(5);
    expect(space.indexOf("2024-01-06-09:00")).toBe(-1); // a Saturday
    expect(space.indexOf("2024-01-02-10:00")).toBe(-1);
    expect(space.indexOf("2024-01-12-09:00")).toBe(-1); // a tick, but its window ends after `end`
  });

  it("follows the local clock across DST and counts against now", () => {
    const space = timeWindowPartitions({ cron: "0 9 * * 1-5", start: "2024-03-08", timezone: tz }).resolve(
      ctx("2024-03-12T12:30Z"),
    );
    expect(windows(space)).toEqual([
      {
        key: "2024-03-08-09:00",
        start: "2024-03-08T14:00:00.000Z",
        end: "2024-03-11T13:00:00.000Z",
        hours: 71,
      },
    ]);
    const ahead = timeWindowPartitions({
      cron: "0 9 * * 1-5",
      start: "2024-03-08",
      timezone: tz,
      endOffset: 1,
    });
    expect([...ahead.resolve(ctx("2024-03-12T12:30Z")).keys()]).toEqual([
      "2024-03-08-09:00",
      "2024-03-11-09:00",
    ]);
  });

  it("allows a date-only format when the cron fires once a day", () => {
    const space = timeWindowPartitions({
      cron: "0 9 * * 1-5",
      start: "2024-01-01",
      end: "2024-01-15",
      timezone: tz,
      format: "YYYY-MM-DD",
    }).resolve(FAR);
    expect(space.keyAt(5)).toBe("2024-01-08");
    expect(space.indexOf("2024-01-08")).toBe(5);
    expect(space.indexOf("2024-01-07")).toBe(-1);
  });

  it("an hourly cron matches hourlyPartitions across fall back", () => {
    const cron = timeWindowPartitions({
      cron: "0 * * * *",
      start: "2024-11-03",
      end: "2024-11-03T03:00",
      timezone: tz,
    });
    const fixed = hourlyPartitions({ start: "2024-11-03", end: "2024-11-03T03:00", timezone: tz });
    expect(windows(cron.resolve(FAR))).toEqual(windows(fixed.resolve(FAR)));
    expect(cron.resolve(FAR).indexOf("2024-11-03-01:00-05:00")).toBe(2);
  });

  it("a daily cron inside the skipped hour fires after the gap; inside the repeated hour, once", () => {
    const skipped = timeWindowPartitions({
      cron: "30 2 * * *",
      start: "2024-03-09",
      end: "2024-03-12",
      timezone: tz,
    });
    const space = skipped.resolve(FAR);
    expect(windows(space)).toEqual([
      {
        key: "2024-03-09-02:30",
        start: "2024-03-09T07:30:00.000Z",
        end: "2024-03-10T07:30:00.000Z",
        hours: 24,
      },
      {
        key: "2024-03-10-03:30",
        start: "2024-03-10T07:30:00.000Z",
        end: "2024-03-11T06:30:00.000Z",
        hours: 23,
      },
    ]);
    expect(space.indexOf("2024-03-10-03:30")).toBe(1);
    expect(space.indexOf("2024-03-10-02:30")).toBe(-1);
    const repeated = timeWindowPartitions({
      cron: "30 1 * * *",
      start: "2024-11-02",
      end: "2024-11-05",
      timezone: tz,
    });
    expect(windows(repeated.resolve(FAR)).map((w) => [w.key, w.start])).toEqual([
      ["2024-11-02-01:30", "2024-11-02T05:30:00.000Z"],
      ["2024-11-03-01:30", "2024-11-03T05:30:00.000Z"],
    ]);
  });

  it("supports L and # day fields", () => {
    const last = timeWindowPartitions({
      cron: "0 0 L * *",
      start: "2024-01-01",
      end: "2024-05-01",
      format: "YYYY-MM-DD",
    });
    expect([...last.resolve(FAR).keys()]).toEqual(["2024-01-31", "2024-02-29", "2024-03-31"]);
    const secondFriday = timeWindowPartitions({
      cron: "0 12 * * 5#2",
      start: "2024-01-01",
      end: "2024-04-01",
    });
    expect([...secondFriday.resolve(FAR).keys()]).toEqual(["2024-01-12-12:00", "2024-02-09-12:00"]);
  });
});

describe("indexContaining", () => {
  it("fixed units: inside, before and after the range", () => {
    const daily = dailyPartitions({ start: "2024-01-01", end: "2024-01-11" }).resolve(FAR);
    expect(daily.indexContaining(at("2024-01-05T12:00Z"))).toBe(4);
    expect(daily.indexContaining(at("2024-01-01T00:00Z"))).toBe(0);
    expect(daily.indexContaining(at("2023-12-31T23:59:59.999Z"))).toBe(-1);
    expect(daily.indexContaining(at("2023-12-01T00:00Z"))).toBe(-31);
    expect(daily.indexContaining(at("2024-01-11T00:00Z"))).toBe(10); // == count: just past the range
    expect(daily.indexContaining(at("2024-02-01T00:00Z"))).toBe(31);
    const monthly = monthlyPartitions({ start: "2024-01" }).resolve(ctx("2024-03-01T00:00Z"));
    expect(monthly.indexContaining(at("2023-06-15T00:00Z"))).toBe(-7);
    expect(monthly.indexContaining(at("2025-01-01T00:00Z"))).toBe(12);
    const hourly = hourlyPartitions({ start: "2024-01-01" }).resolve(ctx("2024-01-02T00:00Z"));
    expect(hourly.indexContaining(at("2024-01-01T00:00Z") - 1)).toBe(-1);
    expect(hourly.indexContaining(at("2024-01-03T00:30Z"))).toBe(48);
    expect(() => hourly.indexContaining(Number.NaN)).toThrow(RangeError);
  });

  it("cron: inside, before (stepping back over earlier ticks) and after the range", () => {
    const space = timeWindowPartitions({
      cron: "0 9 * * 1-5",
      start: "2024-01-01",
      end: "2024-01-15",
      timezone: "America/New_York",
    }).resolve(FAR);
    expect(space.indexContaining(at("2024-01-06T12:00Z"))).toBe(4); // Saturday: Friday's window
    expect(space.indexContaining(at("2024-01-01T14:00Z"))).toBe(0);
    expect(space.indexContaining(at("2024-01-01T13:59Z"))).toBe(-1); // Friday Dec 29's window
    expect(space.indexContaining(at("2023-12-29T13:00Z"))).toBe(-2); // before 9:00 on Dec 29
    expect(space.indexContaining(at("2023-12-01T15:00Z"))).toBe(-21); // 21 weekdays Dec 1..29
    expect(space.indexContaining(at("2022-01-03T15:00Z"))).toBe(-(260 + 260)); // 2022 and 2023 have 260 weekdays each
    expect(space.indexContaining(at("2024-01-19T15:00Z"))).toBe(14); // beyond `end`
    expect(space.count()).toBe(9);
  });
});

describe("invalid options", () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      "unparseable start",
      () => dailyPartitions({ start: "not a date" }),
      /dailyPartitions: start "not a date"/,
    ],
    ["impossible start date", () => dailyPartitions({ start: "2024-02-30" }), /start "2024-02-30"/],
    ["invalid Date start", () => dailyPartitions({ start: new Date(Number.NaN) }), /start Invalid Date/],
    ["missing start", () => dailyPartitions({} as TimeWindowOptions), /start is required/],
    ["unparseable end", () => dailyPartitions({ start: "2024-01-01", end: "soon" }), /end "soon"/],
    [
      "end before start",
      () => dailyPartitions({ start: "2024-01-01", end: "2023-01-01" }),
      /end "2023-01-01" is before start "2024-01-01"/,
    ],
    [
      "unknown timezone",
      () => dailyPartitions({ start: "2024-01-01", timezone: "Mars/Olympus" }),
      /timezone "Mars\/Olympus"/,
    ],
    ["empty timezone", () => hourlyPartitions({ start: "2024-01-01", timezone: "" }), /timezone ""/],
    [
      "bad token",
      () => dailyPartitions({ start: "2024-01-01", format: "YY-MM-DD" }),
      /format "YY-MM-DD".*"YY"/,
    ],
    [
      "seconds token",
      () => hourlyPartitions({ start: "2024-01-01", format: "YYYY-MM-DD HH:mm:ss" }),
      /format.*"ss"/,
    ],
    [
      "long month token",
      () => monthlyPartitions({ start: "2024-01-01", format: "YYYY-MMM" }),
      /format.*"MMM"/,
    ],
    [
      "duplicate token",
      () => dailyPartitions({ start: "2024-01-01", format: "YYYY-MM-DD-DD" }),
      /format.*DD appears twice/,
    ],
    [
      "monthly without MM",
      () => monthlyPartitions({ start: "2024-01-01", format: "YYYY" }),
      /format "YYYY".*MM/,
    ],
    [
      "daily without DD",
      () => dailyPartitions({ start: "2024-01-01", format: "YYYY-MM" }),
      /format "YYYY-MM".*DD/,
    ],
    [
      "hourly without HH",
      () => hourlyPartitions({ start: "2024-01-01", format: "YYYY-MM-DD" }),
      /format "YYYY-MM-DD".*HH/,
    ],
    [
      "format with a slash",
      () => dailyPartitions({ start: "2024-01-01", format: "DD/MM/YYYY" }),
      /format "DD\/MM\/YYYY"/,
    ],
    [
      "format with a pipe",
      () => dailyPartitions({ start: "2024-01-01", format: "YYYY|MM|DD" }),
      /format "YYYY\|MM\|DD"/,
    ],
    ["empty format", () => dailyPartitions({ start: "2024-01-01", format: "" }), /format ""/],
    ["fractional endOffset", () => dailyPartitions({ start: "2024-01-01", endOffset: 1.5 }), /endOffset 1.5/],
    [
      "hourOffset out of range",
      () => dailyPartitions({ start: "2024-01-01", hourOffset: 24 }),
      /hourOffset 24/,
    ],
    [
      "minuteOffset negative",
      () => hourlyPartitions({ start: "2024-01-01", minuteOffset: -1 }),
      /minuteOffset -1/,
    ],
    ["weekly dayOffset", () => weeklyPartitions({ start: "2024-01-01", dayOffset: 7 }), /dayOffset 7/],
    ["monthly dayOffset", () => monthlyPartitions({ start: "2024-01-01", dayOffset: 28 }), /dayOffset 28/],
    [
      "invalid cron",
      () => timeWindowPartitions({ start: "2024-01-01", cron: "not a cron" }),
      /cron "not a cron"/,
    ],
    [
      "out-of-range cron",
      () => timeWindowPartitions({ start: "2024-01-01", cron: "61 * * * *" }),
      /cron "61 \* \* \* \*"/,
    ],
    ["empty cron", () => timeWindowPartitions({ start: "2024-01-01", cron: "" }), /cron ""/],
    [
      "never-firing cron",
      () => timeWindowPartitions({ start: "2024-01-01", cron: "0 0 31 2 *" }),
      /cron "0 0 31 2 \*"/,
    ],
    [
      "cron with seconds",
      () => timeWindowPartitions({ start: "2024-01-01", cron: "*/10 * * * * *" }),
      /cron "\*\/10 \* \* \* \* \*".*seconds/,
    ],
    [
      "cron format missing HH",
      () => timeWindowPartitions({ start: "2024-01-01", cron: "0 * * * *", format: "YYYY-MM-DD" }),
      /format "YYYY-MM-DD".*HH/,
    ],
  ];
  for (const [name, make, message] of cases)
    it(name, () => {
      expect(make).toThrow(message);
    });

  it("accepts the documented start forms", () => {
    expect(monthlyPartitions({ start: "2019-01" }).start).toBe(at("2019-01-01T00:00Z"));
    expect(hourlyPartitions({ start: "2024-03-01T05:00", timezone: "Europe/Berlin" }).start).toBe(
      at("2024-03-01T04:00Z"),
    );
    expect(hourlyPartitions({ start: "2024-03-01T05:00:30" }).start).toBe(at("2024-03-01T05:00:30Z"));
    expect(hourlyPartitions({ start: "2024-03-01T05:00+02:00", timezone: "Asia/Tokyo" }).start).toBe(
      at("2024-03-01T03:00Z"),
    );
    expect(dailyPartitions({ start: new Date("2024-03-01T12:00:00Z") }).start).toBe(at("2024-03-01T12:00Z"));
  });
});

describe("invalid keys", () => {
  it("return -1: malformed, out of range, not a window start, nonexistent local hour", () => {
    const daily = dailyPartitions({ start: "2024-01-01", end: "2024-02-01" }).resolve(FAR);
    for (const key of [
      "",
      "garbage",
      "2024-1-01",
      "2024-01-01 ",
      " 2024-01-01",
      "2024-01-01T00",
      "2024-13-01",
      "2024-02-30",
    ])
      expect(daily.indexOf(key), JSON.stringify(key)).toBe(-1);
    expect(daily.indexOf("2023-12-31")).toBe(-1);
    expect(daily.indexOf("2024-02-01")).toBe(-1);
    expect(daily.indexOf("2024-01-31")).toBe(30);
    expect(daily.indexOf(undefined as unknown as string)).toBe(-1);

    const monthly = monthlyPartitions({ start: "2024-01", end: "2025-01" }).resolve(FAR);
    expect(monthly.indexOf("2024-01-15")).toBe(-1);
    expect(monthly.indexOf("2024-00")).toBe(-1);
    const monthlyDays = monthlyPartitions({ start: "2024-01", end: "2025-01", format: "YYYY-MM-DD" }).resolve(
      FAR,
    );
    expect(monthlyDays.indexOf("2024-03-01")).toBe(2);
    expect(monthlyDays.indexOf("2024-03-15")).toBe(-1); // parses, but not a window start

    const shifted = dailyPartitions({
      start: "2024-01-01",
      end: "2024-02-01",
      hourOffset: 6,
      format: "YYYY-MM-DD-HH",
    });
    expect(shifted.resolve(FAR).indexOf("2024-01-02-06")).toBe(1);
    expect(shifted.resolve(FAR).indexOf("2024-01-02-05")).toBe(-1);

    const hourly = hourlyPartitions({ start: "2024-01-01", end: "2024-02-01" }).resolve(FAR);
    expect(hourly.indexOf("2024-01-01-00:30")).toBe(-1);
    expect(hourly.indexOf("2024-01-01-24:00")).toBe(-1);
    expect(hourly.indexOf("2024-01-05-10:00+00:00")).toBe(-1); // an offset suffix on an unrepeated hour
    expect(hourly.indexOf("2024-01-05-10:00")).toBe(106);

    const ny = hourlyPartitions({
      start: "2024-03-01",
      end: "2024-04-01",
      timezone: "America/New_York",
    }).resolve(FAR);
    expect(ny.indexOf("2024-03-10-02:00")).toBe(-1); // does not exist in New York
    expect(ny.indexOf("2024-03-10-02:00-05:00")).toBe(-1);
    expect(ny.indexOf("2024-03-10-03:00")).toBe(9 * 24 + 2);
  });
});

describe("laziness: 1,000,000+ windows", () => {
  it("fixed units answer count / keyAt / indexOf without building the key list", () => {
    const started = performance.now();
    // Formatting a New York key costs Intl calls: building 1M of them would take seconds.
    const space = hourlyPartitions({ start: "1900-01-01", timezone: "America/New_York" }).resolve(
      ctx("2024-01-01T00:00Z"),
    );
    expect(space.count()).toBe(1_086_955);
    expect(space.keyAt(999_999)).toBe("2014-01-29-15:00");
    expect(space.indexOf("2014-01-29-15:00")).toBe(999_999);
    expect(space.indexContaining(at("2014-01-29T20:30Z"))).toBe(999_999);
    expect(performance.now() - started).toBeLessThan(500);

    // Billions of windows: only arithmetic can answer this.
    const max = 8.64e15;
    const utc = hourlyPartitions({ start: "1900-01-01" }).resolve(ctx(max));
    expect(utc.count()).toBe(Math.floor((max - at("1900-01-01T00:00Z")) / HOUR));
    expect(utc.keyAt(999_999)).toBe("2014-01-29-15:00");
    const days = dailyPartitions({ start: "1000-01-01", timezone: "Europe/Paris" }).resolve(ctx(max));
    expect(days.count()).toBeGreaterThan(100_000_000);
    expect(days.indexOf("2024-01-01")).toBe(daysFromCivil(2024, 1, 1) - daysFromCivil(1000, 1, 1));
  });

  it("a general cron iterates its ticks once, then answers from the cache", () => {
    const tz = "America/New_York";
    const def = timeWindowPartitions({ cron: "0 * * * *", start: "1900-01-01", timezone: tz });
    const fixed = hourlyPartitions({ start: "1900-01-01", timezone: tz }).resolve(ctx("2024-01-01T00:00Z"));
    const space = def.resolve(ctx("2024-01-01T00:00Z"));
    expect(space.count()).toBe(fixed.count());
    for (const i of [0, 999_999, ...randomIndices(fixed.count(), 200)])
      expect(space.keyAt(i)).toBe(fixed.keyAt(i));
    const again = performance.now();
    const second = def.resolve(ctx("2024-01-01T00:00Z"));
    expect(second.count()).toBe(1_086_955);
    expect(second.indexOf("2014-01-29-15:00")).toBe(999_999);
    expect(performance.now() - again).toBeLessThan(500);
  });
});
