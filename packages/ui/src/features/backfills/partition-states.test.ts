import { describe, expect, it } from "vitest";
import { KEY_STATES, keyRanges, keyStates, keysIn, stateCounts, summarize } from "./partition-states";

const keys = ["d1", "d2", "d3", "d4", "d5"];
const name = (states: Uint8Array) => [...states].map((s) => KEY_STATES[s]);

describe("a backfill's partition states", () => {
  it("colours each key from its runs; keys without one are pending while it runs", () => {
    const states = keyStates({
      partitionKeys: keys,
      runs: [
        { status: "SUCCESS", partitionKeys: ["d1", "d2"] },
        { status: "FAILURE", partitionKeys: ["d3"] },
        { status: "STARTED", partitionKeys: ["d4"] },
        { status: "SUCCESS", partitionKeys: ["other"] },
      ],
      ended: false,
      moreRuns: false,
    });
    expect(name(states)).toEqual(["succeeded", "succeeded", "failed", "running", "pending"]);
    expect(keyRanges(states)).toEqual([
      { start: 0, end: 1, state: "succeeded" },
      { start: 2, end: 2, state: "failed" },
      { start: 3, end: 3, state: "running" },
      { start: 4, end: 4, state: "pending" },
    ]);
    expect(summarize(stateCounts(states), keys.length)).toBe(
      "5 partitions: 1 failed, 1 running, 2 succeeded, 1 not yet requested.",
    );
    expect(keysIn(states, keys, "failed", 10)).toEqual(["d3"]);
  });
  it("a key with several runs takes the one that matters most", () => {
    const states = keyStates({
      partitionKeys: ["d1"],
      runs: [
        { status: "SUCCESS", partitionKeys: ["d1"] },
        { status: "FAILURE", partitionKeys: ["d1"] },
        { status: "QUEUED", partitionKeys: ["d1"] },
      ],
      ended: false,
      moreRuns: false,
    });
    expect(name(states)).toEqual(["failed"]);
  });
  it("after the end, keys without a run were not run, or done by the backfill it retries", () => {
    const states = keyStates({
      partitionKeys: keys,
      runs: [{ status: "SUCCESS", partitionKeys: ["d3"] }],
      ended: true,
      moreRuns: false,
      doneEarlier: new Set(["d1", "d2", "d3"]),
    });
    expect(name(states)).toEqual(["earlier", "earlier", "succeeded", "notRun", "notRun"]);
  });
  it("many keys make a handful of ranges", () => {
    const many = Array.from({ length: 200_000 }, (_, i) => `k${i}`);
    const states = keyStates({
      partitionKeys: many,
      runs: [{ status: "FAILURE", partitionKeys: ["k100000"] }],
      ended: false,
      moreRuns: true,
    });
    expect(keyRanges(states)).toHaveLength(3);
    expect(stateCounts(states).unknown).toBe(199_999);
  });
});
