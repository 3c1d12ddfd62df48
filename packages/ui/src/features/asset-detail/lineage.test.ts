import { describe, expect, it } from "vitest";
import { lineageAround } from "./lineage";

describe("lineageAround", () => {
  it("finds two levels up and down, without repeating the nearer level or the asset itself", () => {
    const assets = [
      { key: "a", deps: [] },
      { key: "z", deps: [] },
      { key: "b", deps: ["a"] },
      { key: "c", deps: ["b", "z", "a"] },
      { key: "d", deps: ["c"] },
      { key: "e", deps: ["d", "c"] },
      { key: "f", deps: ["e"] },
    ];
    expect(lineageAround(assets, "c")).toEqual({
      upstream2: [],
      upstream1: ["a", "b", "z"],
      downstream1: ["d", "e"],
      downstream2: ["f"],
    });
    expect(lineageAround(assets, "b")).toEqual({
      upstream2: [],
      upstream1: ["a"],
      downstream1: ["c"],
      downstream2: ["d", "e"],
    });
    expect(lineageAround(assets, "d").upstream2).toEqual(["a", "b", "z"]);
    expect(lineageAround(assets, "unknown")).toEqual({
      upstream2: [],
      upstream1: [],
      downstream1: [],
      downstream2: [],
    });
  });
});
