import { describe, expect, it } from "vitest";
import { backfillProgress, describeKeys, formatDuration, runCounts } from "./run-format";

describe("run page formatting", () => {
  it("formats durations at a readable precision", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(12_400)).toBe("12 s");
    expect(formatDuration(4_250)).toBe("4.3 s");
    expect(formatDuration(185_000)).toBe("3 min 05 s");
    expect(formatDuration(2 * 3_600_000 + 7 * 60_000)).toBe("2 h 07 min");
  });
  it("describes partition keys compactly", () => {
    expect(describeKeys(null)).toBe("—");
    expect(describeKeys(["2019-01"])).toBe("2019-01");
    expect(describeKeys(["a", "b", "c"])).toBe("a … c (3)");
  });
  it("counts a backfill's runs by status", () => {
    expect(
      runCounts([
        { status: "QUEUED" },
        { status: "STARTED" },
        { status: "SUCCESS" },
        { status: "FAILURE" },
        { status: "CANCELED" },
        { status: "SUCCESS" },
      ]),
    ).toEqual({ queued: 1, running: 1, succeeded: 2, failed: 1, canceled: 1 });
  });
  it("measures progress over the targeted asset partitions", () => {
    expect(backfillProgress({ targeted: 0, materialized: 0, failed: 0, skipped: 0, canceled: 0 })).toBe(0);
    expect(backfillProgress({ targeted: 8, materialized: 4, failed: 1, skipped: 1, canceled: 0 })).toBe(75);
  });
});
