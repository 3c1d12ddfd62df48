import { describe, expect, it } from "vitest";
import { InvalidPartitionKeyError } from "../../errors.js";
import { validateKey } from "../../instance/run-partitions-request.js";
import { multiPartitions } from "./multi-partitions.js";
import type { PartitionsDefinition } from "./partitions.js";
import { dynamicPartitions, staticPartitions } from "./static-partitions.js";
import {
  dailyPartitions,
  hourlyPartitions,
  monthlyPartitions,
  timeWindowPartitions,
  weeklyPartitions,
} from "./time-window.js";

const ctx = (now: string, dynamic: readonly string[] = []) => ({
  now: Date.parse(now),
  dynamicKeys: () => dynamic,
});
const FAR = ctx("2100-01-01T00:00Z");

/** The message (and problem) validating `key` against `def` gives. */
function rejection(def: PartitionsDefinition, key: string, c = FAR) {
  try {
    validateKey('"a"', def, def.resolve(c), key);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidPartitionKeyError);
    const e = error as InvalidPartitionKeyError;
    expect(e.partitionKey).toBe(key);
    return { message: e.message, problem: e.problem, nearest: e.nearest };
  }
  throw new Error(`"${key}" was accepted`);
}

const january = dailyPartitions({ start: "2024-01-01", end: "2024-02-01" });

describe("partition keys outside the range say so, with the range and the nearest key by time", () => {
  it("daily: before the first and after the last", () => {
    expect(rejection(january, "2023-12-31")).toEqual({
      problem: "before",
      nearest: "2024-01-01",
      message:
        'Invalid partition key "2023-12-31" for "a": it is before the first partition; the partitions run from ' +
        '"2024-01-01" to "2024-01-31" (daily, UTC); nearest valid key: "2024-01-01"',
    });
    expect(rejection(january, "2024-02-01")).toEqual({
      problem: "after",
      nearest: "2024-01-31",
      message:
        'Invalid partition key "2024-02-01" for "a": it is after the last partition; the partitions run from ' +
        '"2024-01-01" to "2024-01-31" (daily, UTC); nearest valid key: "2024-01-31"',
    });
    // Far away in either direction: still the nearest by time, not by spelling.
    expect(rejection(january, "1999-01-31").nearest).toBe("2024-01-01");
    expect(rejection(january, "9999-01-01").nearest).toBe("2024-01-31");
  });

  it("a wrong format keeps the format message and the nearest key by spelling", () => {
    expect(rejection(january, "2024-01-5")).toEqual({
      problem: "format",
      nearest: "2024-01-05",
      message:
        'Invalid partition key "2024-01-5" for "a": expected YYYY-MM-DD (daily, UTC); nearest valid key: "2024-01-05"',
    });
    // Not a date at all (February 30th): a format problem, not "after the last".
    expect(rejection(january, "2024-02-30").problem).toBe("format");
    expect(rejection(january, "2024-13-01").problem).toBe("format");
  });

  it("without an end: the last key is the latest complete window, and the message says so", () => {
    const open = dailyPartitions({ start: "2024-01-01" });
    const now = ctx("2024-03-10T12:00Z");
    expect(rejection(open, "2024-03-10", now)).toEqual({
      problem: "after",
      nearest: "2024-03-09",
      message:
        'Invalid partition key "2024-03-10" for "a": it is after the last partition; the partitions run from ' +
        '"2024-01-01" to "2024-03-09" (daily, UTC; up to the latest complete day); nearest valid key: "2024-03-09"',
    });
    const inProgress = hourlyPartitions({ start: "2024-03-10T00:00", endOffset: 1 });
    expect(rejection(inProgress, "2024-03-10-14:00", now).message).toBe(
      'Invalid partition key "2024-03-10-14:00" for "a": it is after the last partition; the partitions run from ' +
        '"2024-03-10-00:00" to "2024-03-10-12:00" (hourly, UTC; up to the hour in progress); ' +
        'nearest valid key: "2024-03-10-12:00"',
    );
  });

  it("hourly, weekly, monthly and cron windows, in their time zone", () => {
    const hourly = hourlyPartitions({
      start: "2024-01-01T00:00",
      end: "2024-01-02T00:00",
      timezone: "Europe/Berlin",
    });
    expect(rejection(hourly, "2023-12-31-23:00")).toMatchObject({
      problem: "before",
      nearest: "2024-01-01-00:00",
    });
    expect(rejection(hourly, "2023-12-31-23:00").message).toContain(
      'the partitions run from "2024-01-01-00:00" to "2024-01-01-23:00" (hourly, Europe/Berlin)',
    );
    expect(rejection(hourly, "2024-01-02-00:00")).toMatchObject({
      problem: "after",
      nearest: "2024-01-01-23:00",
    });

    const weekly = weeklyPartitions({ start: "2024-01-07", end: "2024-02-04" }); // Sundays
    expect(rejection(weekly, "2023-12-31")).toMatchObject({ problem: "before", nearest: "2024-01-07" });
    expect(rejection(weekly, "2024-02-04")).toMatchObject({ problem: "after", nearest: "2024-01-28" });
    // A Wednesday inside the range: not a window start; the window containing it is named.
    expect(rejection(weekly, "2024-01-10")).toEqual({
      problem: "inside",
      nearest: "2024-01-07",
      message:
        'Invalid partition key "2024-01-10" for "a": it is not the start of a partition; it falls in "2024-01-07" ' +
        '(weekly, UTC); nearest valid key: "2024-01-07"',
    });

    const monthly = monthlyPartitions({ start: "2024-01", end: "2024-04" });
    expect(rejection(monthly, "2023-12")).toMatchObject({ problem: "before", nearest: "2024-01" });
    expect(rejection(monthly, "2024-04").message).toBe(
      'Invalid partition key "2024-04" for "a": it is after the last partition; the partitions run from ' +
        '"2024-01" to "2024-03" (monthly, UTC); nearest valid key: "2024-03"',
    );

    const weekdays = timeWindowPartitions({ cron: "0 9 * * 1-5", start: "2024-01-01", end: "2024-01-13" });
    expect(rejection(weekdays, "2023-12-29-09:00").message).toBe(
      'Invalid partition key "2023-12-29-09:00" for "a": it is before the first partition; the partitions run from ' +
        '"2024-01-01-09:00" to "2024-01-11-09:00" (cron "0 9 * * 1-5", UTC); nearest valid key: "2024-01-01-09:00"',
    );
    // Far in the future: decided from the bounds, without iterating ticks up to it.
    const t0 = performance.now();
    expect(rejection(weekdays, "9999-12-31-09:00")).toMatchObject({
      problem: "after",
      nearest: "2024-01-11-09:00",
    });
    expect(performance.now() - t0).toBeLessThan(1000);
    // A Saturday inside the range: the window it falls in.
    expect(rejection(weekdays, "2024-01-06-09:00")).toMatchObject({
      problem: "inside",
      nearest: "2024-01-05-09:00",
    });
  });

  it("multi-partition keys name the dimension and keep the other parts", () => {
    const m = multiPartitions({
      month: monthlyPartitions({ start: "2024-01", end: "2024-04" }),
      taxi: staticPartitions(["yellow", "green"]),
    });
    expect(rejection(m, "2023-12|green")).toEqual({
      problem: "before",
      nearest: "2024-01|green",
      message:
        'Invalid partition key "2023-12|green" for "a": its month "2023-12" is before the first partition; ' +
        'the month partitions run from "2024-01" to "2024-03" (monthly, UTC); nearest valid key: "2024-01|green"',
    });
    // Out of range and a misspelled static part: both parts of the nearest key are fixed.
    expect(rejection(m, "2025-01|yelow")).toMatchObject({ problem: "after", nearest: "2024-03|yellow" });
    // Only the static part is wrong: the format message with the did-you-mean.
    expect(rejection(m, "2024-02|blue")).toEqual({
      problem: "format",
      nearest: "2024-02|green",
      message:
        'Invalid partition key "2024-02|blue" for "a": expected month|taxi where month is YYYY-MM (monthly, UTC) ' +
        'and taxi is one of yellow, green; nearest valid key: "2024-02|green"',
    });
    expect(rejection(m, "2024-02").problem).toBe("format");
  });

  it("static and dynamic keys keep the did-you-mean", () => {
    expect(rejection(staticPartitions(["yellow", "green"]), "yelow").message).toBe(
      'Invalid partition key "yelow" for "a": expected one of yellow, green; nearest valid key: "yellow"',
    );
    const regions = dynamicPartitions({ name: "regions" });
    expect(rejection(regions, "nrth", ctx("2024-01-01T00:00Z", ["north", "south"])).nearest).toBe("north");
    expect(rejection(regions, "x").message).toMatch(/; it has no partitions yet$/);
  });
});
