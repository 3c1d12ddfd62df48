// @vitest-environment happy-dom
/**
 * The running/stopped switch: it moves at once (optimistic, in the shared list the page reads), and
 * when the server refuses it moves back and says why, naming the schedule or sensor. Written with
 * createElement so it runs under the root vitest include (*.test.ts).
 */
import type { Sensor } from "@baton/webserver/api-types";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { createElement } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Instigators } from "./automation-model";
import { StatusSwitch } from "./StatusSwitch";
import { automationKeys } from "./use-automation";

const sensor: Sensor = {
  name: "taxi_landing",
  type: "file",
  target: { selection: "taxi/raw_trips*" },
  minimumIntervalSeconds: 30,
  defaultStatus: "RUNNING",
  description: null,
  status: "RUNNING",
  cursor: null,
  lastTickAt: null,
  lastTick: null,
};

let answer: (url: string) => Promise<Response>;
const calls: string[] = [];
beforeEach(() => {
  calls.length = 0;
  vi.stubGlobal(
    "fetch",
    vi.fn((url: string) => {
      calls.push(url);
      return answer(url);
    }),
  );
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

/** Renders the switch as the page does: its status from the cached list (updated optimistically). */
function Harness({ client }: { client: QueryClient }) {
  const data = client.getQueryData<Instigators>(automationKeys.instigators);
  const status = data?.sensors[0]?.status ?? "STOPPED";
  return createElement(StatusSwitch, { name: "taxi_landing", status });
}

function setup() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity } } });
  client.setQueryData<Instigators>(automationKeys.instigators, { schedules: [], sensors: [sensor] });
  const view = render(createElement(QueryClientProvider, { client }, createElement(Harness, { client })));
  // Re-render on every cache change (the page's useQuery does the same).
  client
    .getQueryCache()
    .subscribe(() =>
      view.rerender(createElement(QueryClientProvider, { client }, createElement(Harness, { client }))),
    );
  return client;
}

describe("StatusSwitch", () => {
  it("moves at once and back again, with the server's message, when the server refuses", async () => {
    let refuse!: () => void;
    answer = (url) =>
      url.includes("/stop")
        ? new Promise((resolve) => {
            refuse = () =>
              resolve(
                new Response(
                  JSON.stringify({ error: { code: "internal", message: "the store is read-only" } }),
                  {
                    status: 500,
                  },
                ),
              );
          })
        : Promise.resolve(new Response(JSON.stringify({ schedules: [], sensors: [sensor] })));
    setup();
    const toggle = screen.getByRole("switch", { name: "taxi_landing running" });
    expect(toggle.getAttribute("aria-checked")).toBe("true");
    fireEvent.click(toggle);
    await waitFor(() => expect(toggle.getAttribute("aria-checked")).toBe("false"));
    expect(calls).toContain("/api/automation/taxi_landing/stop");
    refuse();
    await waitFor(() => expect(toggle.getAttribute("aria-checked")).toBe("true"));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe("Could not stop taxi_landing: the store is read-only");
    expect(toggle.getAttribute("aria-describedby")).toBe(alert.id);
  });

  it("is disabled with the reason for a token that may not change it", () => {
    answer = () => Promise.reject(new Error("no request expected"));
    const client = new QueryClient();
    render(
      createElement(
        QueryClientProvider,
        { client },
        createElement("p", { id: "why" }, "viewer"),
        createElement(StatusSwitch, {
          name: "nightly",
          status: "STOPPED",
          disabledReason: "Your token (vera) has the viewer role; this needs a launcher token.",
          reasonId: "why",
        }),
      ),
    );
    const toggle = screen.getByRole("switch", { name: "nightly running" }) as HTMLButtonElement;
    expect(toggle.disabled).toBe(true);
    expect(toggle.getAttribute("aria-checked")).toBe("false");
    expect(toggle.getAttribute("aria-describedby")).toBe("why");
    expect(toggle.title).toContain("viewer role");
    fireEvent.click(toggle);
    expect(calls).toEqual([]);
  });
});
