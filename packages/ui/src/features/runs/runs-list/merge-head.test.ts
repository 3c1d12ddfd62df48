import type { Run, RunsPage } from "@baton/webserver/api-types";
import { describe, expect, it } from "vitest";
import { flattenRuns, mergeHead } from "./merge-head";

const run = (id: string, status: Run["status"] = "SUCCESS") =>
  ({
    runId: id,
    status,
    startedAt: 1,
    endedAt: status === "SUCCESS" ? 2 : null,
    cancelRequested: false,
  }) as Run;
const page = (ids: string[], nextCursor: string | null, status?: Run["status"]): RunsPage => ({
  runs: ids.map((id) => run(id, status)),
  nextCursor,
});

describe("merging a fresh first page into the loaded pages", () => {
  const old = { pages: [page(["c", "b", "a"], "3"), page(["z", "y"], "5")], pageParams: [undefined, "3"] };

  it("prepends new runs and keeps later pages and cursors", () => {
    const merged = mergeHead(old, page(["e", "d", "c"], "1"));
    if (typeof merged === "string") throw new Error(merged);
    expect(flattenRuns(merged.pages).map((r) => r.runId)).toEqual(["e", "d", "c", "b", "a", "z", "y"]);
    expect(merged.pages[0]!.nextCursor).toBe("3");
    expect(merged.pageParams).toEqual([undefined, "3"]);
  });
  it("replaces runs whose status changed and says unchanged when nothing did", () => {
    expect(mergeHead(old, page(["c", "b", "a"], "3"))).toBe("unchanged");
    const merged = mergeHead(old, { runs: [run("c", "FAILURE"), run("b"), run("a")], nextCursor: "3" });
    if (typeof merged === "string") throw new Error(merged);
    expect(merged.pages[0]!.runs[0]!.status).toBe("FAILURE");
  });
  it("drops runs that left the filter", () => {
    const merged = mergeHead(old, page(["c", "a"], "9"));
    if (typeof merged === "string") throw new Error(merged);
    expect(flattenRuns(merged.pages).map((r) => r.runId)).toEqual(["c", "a", "z", "y"]);
  });
  it("asks for a full re-read when the fresh page does not reach a loaded run", () => {
    expect(mergeHead(old, page(["h", "g", "f"], "7"))).toBe("refetch");
    expect(mergeHead(undefined, page(["a"], null))).toBe("refetch");
  });
  it("takes a complete fresh page as the whole list", () => {
    const merged = mergeHead(old, page(["d", "c"], null));
    if (typeof merged === "string") throw new Error(merged);
    expect(merged.pages).toHaveLength(1);
  });
});
