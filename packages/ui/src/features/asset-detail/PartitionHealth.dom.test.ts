// @vitest-environment happy-dom
/**
 * The partition health bar's UI contract (bench:ui and the browser tests rely on it): the element
 * named "Partition health" is aria-busy until the /partitions answer is painted, then not; the
 * legend counts; the keyboard opens a partition (multi keys come from the dimensions, no request).
 * Written with createElement so it runs under the root vitest include (*.test.ts).
 */
import type { PartitionStatus } from "@baton/webserver/api-types";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { createElement } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PartitionHealth } from "./PartitionHealth";

const multi: PartitionStatus = {
  assetKey: "taxi/raw_trips",
  total: 6,
  counts: { materialized: 2, failed: 1, in_progress: 0, missing: 3 },
  ranges: [
    { status: "materialized", start: 0, end: 1, startKey: "2019-01|yellow", endKey: "2019-01|green" },
    { status: "failed", start: 2, end: 2, startKey: "2019-02|yellow", endKey: "2019-02|yellow" },
    { status: "missing", start: 3, end: 5, startKey: "2019-02|green", endKey: "2019-03|green" },
  ],
  dimensions: [
    { name: "month", size: 3, keys: ["2019-01", "2019-02", "2019-03"] },
    { name: "taxi", size: 2, keys: ["yellow", "green"] },
  ],
};

let answer: () => Promise<Response>;
beforeEach(() => {
  vi.stubGlobal(
    "fetch",
    vi.fn(() => answer()),
  );
  vi.spyOn(HTMLElement.prototype, "getBoundingClientRect").mockReturnValue({
    width: 800,
    height: 40,
    top: 0,
    left: 0,
    right: 800,
    bottom: 40,
    x: 0,
    y: 0,
    toJSON: () => ({}),
  });
});
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

function renderBar(onSelect = vi.fn()) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    createElement(
      QueryClientProvider,
      { client },
      createElement(PartitionHealth, { assetKey: "taxi/raw_trips", selected: null, onSelect }),
    ),
  );
  return onSelect;
}

describe("PartitionHealth", () => {
  it("is busy until the answer is painted, then shows the counts", async () => {
    let resolve!: (r: Response) => void;
    answer = () => new Promise((r) => (resolve = r));
    renderBar();
    const bar = screen.getByRole("figure", { name: "Partition health" });
    expect(bar.getAttribute("aria-busy")).toBe("true");
    resolve(new Response(JSON.stringify(multi), { status: 200 }));
    await waitFor(() =>
      expect(screen.getByRole("figure", { name: "Partition health" }).getAttribute("aria-busy")).toBe(
        "false",
      ),
    );
    const legend = screen.getByRole("list", { name: "Partition counts" }).textContent;
    expect(legend).toContain("materialized 2");
    expect(legend).toContain("failed 1");
    expect(legend).toContain("missing 3");
  });

  it("opens a partition from the keyboard: arrows move row by row in the grid, Enter selects", async () => {
    answer = async () => new Response(JSON.stringify(multi), { status: 200 });
    const onSelect = renderBar();
    const slider = await screen.findByRole("slider");
    fireEvent.focus(slider);
    fireEvent.keyDown(slider, { key: "ArrowDown" }); // index 2: 2019-02|yellow
    expect(slider.getAttribute("aria-valuetext")).toBe("2019-02|yellow: failed");
    fireEvent.keyDown(slider, { key: "ArrowRight" });
    fireEvent.keyDown(slider, { key: "Enter" });
    await waitFor(() => expect(onSelect).toHaveBeenCalledWith("2019-02|green"));
    expect(fetch).toHaveBeenCalledTimes(1); // the key came from the dimensions, not from a request
  });

  it("says what went wrong when the answer is an error", async () => {
    answer = async () =>
      new Response(
        JSON.stringify({ error: { code: "not_partitioned", message: "Asset is not partitioned." } }),
        {
          status: 409,
        },
      );
    renderBar();
    expect(await screen.findByRole("alert")).toHaveProperty(
      "textContent",
      expect.stringContaining("not partitioned"),
    );
  });
});
