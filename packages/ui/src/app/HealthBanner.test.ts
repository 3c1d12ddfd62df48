import { describe, expect, it } from "vitest";
import { WORKER_GAP_MS, workersMissing } from "./HealthBanner";

describe("workersMissing", () => {
  it("is false while a worker runs", () => {
    expect(workersMissing(1, undefined, 1000)).toBe(false);
  });
  it("is true at once when no worker was seen on the page yet", () => {
    expect(workersMissing(0, undefined, 1000)).toBe(true);
  });
  it("waits out a reload's gap (the old worker gone, its replacement not registered yet)", () => {
    expect(workersMissing(0, 10_000, 10_000 + 5_000)).toBe(false);
    expect(workersMissing(0, 10_000, 10_000 + WORKER_GAP_MS)).toBe(false);
    expect(workersMissing(0, 10_000, 10_000 + WORKER_GAP_MS + 1)).toBe(true);
  });
});
