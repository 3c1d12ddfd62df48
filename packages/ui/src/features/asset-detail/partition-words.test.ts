import type { PartitionsSpec } from "@baton/webserver/api-types";
import { describe, expect, it } from "vitest";
import { formatWithKeyFormat, partitionsInWords } from "./partition-words";

const months: PartitionsSpec = {
  kind: "time",
  unit: "month",
  cron: null,
  timezone: "UTC",
  format: "YYYY-MM",
  start: "2019-01-01T00:00:00.000Z",
  end: "2021-08-01T00:00:00.000Z",
  endOffset: 0,
  offsets: {},
};

describe("partitionsInWords", () => {
  it("says a multi definition with its real first and last keys", () => {
    const spec: PartitionsSpec = {
      kind: "multi",
      dimensions: [
        { name: "month", spec: months },
        { name: "taxi", spec: { kind: "static", keys: ["yellow", "green"] } },
      ],
    };
    expect(partitionsInWords(spec, { month: { first: "2019-01", last: "2021-07" } })).toBe(
      "monthly from 2019-01 to 2021-07 × taxi: yellow, green",
    );
    expect(partitionsInWords(spec)).toBe(
      "monthly from 2019-01 until 2021-08 (excluded) × taxi: yellow, green",
    );
  });

  it("says open-ended, cron, zoned, dynamic and long static definitions", () => {
    const hourly = {
      ...months,
      unit: "hour" as const,
      format: "YYYY-MM-DD-HH:mm",
      end: null,
      timezone: "Europe/Paris",
    };
    expect(partitionsInWords(hourly)).toBe("hourly from 2019-01-01-01:00 up to now (Europe/Paris)");
    expect(partitionsInWords(hourly, { first: "a", last: "b" })).toBe(
      "hourly from a to b, growing with time (Europe/Paris)",
    );
    expect(partitionsInWords({ ...months, unit: null, cron: "0 6 * * 1" }, { first: "x", last: "y" })).toBe(
      "on cron “0 6 * * 1” from x to y",
    );
    expect(partitionsInWords({ kind: "dynamic", name: "customers" })).toBe(
      "dynamic “customers” (keys added at run time)",
    );
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    expect(partitionsInWords({ kind: "static", keys })).toBe("k0, k1, k2, k3, k4, k5, … k19 (20 keys)");
  });

  it("formats instants with the key format in the time zone", () => {
    expect(formatWithKeyFormat("2020-03-01T05:30:00Z", "YYYY-MM-DD HH:mm", "America/New_York")).toBe(
      "2020-03-01 00:30",
    );
  });
});
