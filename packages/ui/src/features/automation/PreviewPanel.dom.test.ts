// @vitest-environment happy-dom
/**
 * What a preview shows: a 503 says the daemon is not running and how to start it; a sensor's skip
 * reason or run requests; a schedule's next ticks with their partitions; an evaluation's error in
 * full. Written with createElement so it runs under the root vitest include (*.test.ts).
 */
import type { Preview } from "@baton/webserver/api-types";
import { cleanup, render, screen } from "@testing-library/react";
import { createElement } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "../../api/client";
import { PreviewError, PreviewResult } from "./PreviewPanel";

afterEach(cleanup);

const base = { name: "x", evaluatedAt: Date.UTC(2026, 0, 1), error: null };

describe("preview", () => {
  it("a 503 says the daemon is not running and how to start it", () => {
    render(
      createElement(PreviewError, {
        error: new ApiError(503, "no_daemon", 'No daemon answered the preview of "x" in time'),
      }),
    );
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toContain("The daemon is not running");
    expect(alert.textContent).toContain("baton daemon");
    expect(alert.textContent).toContain("baton dev");
  });

  it("other errors show the server's message", () => {
    render(
      createElement(PreviewError, { error: new ApiError(403, "forbidden", "This needs the launcher role") }),
    );
    expect(screen.getByRole("alert").textContent).toContain("This needs the launcher role");
  });

  it("a sensor that would launch nothing says why; one that would launch lists its requests", () => {
    const skip: Preview = {
      ...base,
      kind: "sensor",
      runRequests: [],
      skipReason: "no new files",
      cursor: null,
    };
    const { unmount } = render(createElement(PreviewResult, { preview: skip }));
    expect(screen.getByText(/It would launch nothing/).parentElement?.textContent).toContain("no new files");
    unmount();
    const launch: Preview = {
      ...base,
      kind: "sensor",
      runRequests: [{ runKey: "k-1", partitionKeys: ["2019-01|yellow"], tags: { source: "s3" } }],
      cursor: "7",
    };
    render(createElement(PreviewResult, { preview: launch }));
    expect(screen.getByText("It would launch 1 run request")).toBeTruthy();
    const table = screen.getByRole("table", { name: "Run requests" });
    expect(table.textContent).toContain("k-1");
    expect(table.textContent).toContain("2019-01|yellow");
    expect(table.textContent).toContain("source=s3");
    expect(screen.getByText(/Cursor after this evaluation/).textContent).toContain("7");
  });

  it("a schedule lists its next ticks with their partitions; a failed evaluation shows its error in full", () => {
    const schedule: Preview = {
      ...base,
      kind: "schedule",
      ticks: [
        { tick: "2026-02-02T11:00:00.000Z", partitionKeys: ["2026-01"] },
        { tick: "2026-03-02T11:00:00.000Z", partitionKeys: null, error: "no partition for this tick" },
      ],
    };
    const { unmount } = render(createElement(PreviewResult, { preview: schedule }));
    expect(screen.getByText("Its next 2 ticks")).toBeTruthy();
    const items = screen.getAllByRole("listitem");
    expect(items[0]!.textContent).toContain("partitions 2026-01");
    expect(items[1]!.textContent).toContain("no partition for this tick");
    unmount();
    render(
      createElement(PreviewResult, {
        preview: { ...base, kind: "sensor", error: "boom\n    at evaluate (defs.ts:3)" },
      }),
    );
    expect(screen.getByRole("alert").textContent).toContain("boom\n    at evaluate (defs.ts:3)");
  });
});
