import { describe, expect, it } from "vitest";
import { describeLaunchedBy, launchedBy } from "./launched-by";

const run = (tags: Record<string, string>, extra: { parentRunId?: string; backfillId?: string } = {}) => ({
  tags,
  parentRunId: extra.parentRunId ?? null,
  backfillId: extra.backfillId ?? null,
});

describe("who launched a run", () => {
  it("reads the tags core and the webserver set", () => {
    expect(launchedBy(run({ "baton/launched-by": "local" }))).toEqual([{ kind: "user", name: "local" }]);
    expect(launchedBy(run({ "baton/sensor": "landing" }))).toEqual([{ kind: "sensor", name: "landing" }]);
    expect(launchedBy(run({ "baton/schedule": "nightly" }))).toEqual([{ kind: "schedule", name: "nightly" }]);
    expect(launchedBy(run({ "baton/launched-by": "ci" }, { backfillId: "b1" }))).toEqual([
      { kind: "backfill", backfillId: "b1" },
      { kind: "user", name: "ci" },
    ]);
  });
  it("tells an automatic retry from a re-execution", () => {
    expect(launchedBy(run({ "baton/retry-number": "2" }, { parentRunId: "p" }))).toEqual([
      { kind: "retry", parentRunId: "p", attempt: 2 },
    ]);
    expect(launchedBy(run({ "baton/launched-by": "local" }, { parentRunId: "p" }))[0]).toEqual({
      kind: "reexecution",
      parentRunId: "p",
    });
  });
  it("says so in words, also when nothing is recorded", () => {
    expect(describeLaunchedBy([])).toMatch(/CLI/);
    expect(describeLaunchedBy(launchedBy(run({ "baton/launched-by": "local" }, { parentRunId: "p" })))).toBe(
      "re-execution of run p, local (no token)",
    );
  });
});
