// @vitest-environment happy-dom
/**
 * The data layer against the real webserver (its Hono app answering `fetch`, no port) over a real
 * SQLite store: typed reads, the server's 400 message and field surfaced by mutations, the graph
 * re-read when the definitions change, and the SSE parser.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  asset,
  type BatonInstance,
  dailyPartitions,
  defineDefinitions,
  openInstance,
  publishSnapshot,
} from "@baton/core/internal";
import { createApp } from "@baton/webserver";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import { createElement, type ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { z } from "zod";
import { ApiError, api } from "./client";
import { parseSse } from "./event-stream";
import { useAssetGraph, useGraphStatus, useLaunchRun, usePartitionStatus } from "./queries";

const raw = asset(
  {
    key: "taxi/raw",
    group: "ingest",
    partitions: dailyPartitions({ start: "2024-01-01", end: "2024-01-04" }),
  }, // 01..03
  async () => 1,
);
const configured = asset(
  { key: "configured", group: "reports", config: z.object({ n: z.number().int().min(1) }) },
  async (ctx) => ctx.config.n,
);
const defs = defineDefinitions({ assets: [raw, configured] });

let home: string;
let instance: BatonInstance;
const realFetch = globalThis.fetch;

beforeEach(async () => {
  home = await mkdtemp(path.join(tmpdir(), "baton-ui-hooks-"));
  instance = await openInstance({ home, env: {} });
  await publishSnapshot(instance.storage, defs);
  const app = createApp({ instance, ui: false });
  // The page's relative URLs go to the real app.
  globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    return Promise.resolve(app.request(new URL(url, "http://127.0.0.1").href, init));
  };
});
afterEach(async () => {
  globalThis.fetch = realFetch;
  await instance.close();
  await rm(home, { recursive: true, force: true });
});

function wrapper() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return ({ children }: { children: ReactNode }) => createElement(QueryClientProvider, { client }, children);
}

describe("API hooks against the real webserver", () => {
  test("useAssetGraph and useGraphStatus read the published definitions and statuses", async () => {
    const w = wrapper();
    const graph = renderHook(() => useAssetGraph(), { wrapper: w });
    await waitFor(() => expect(graph.result.current.isSuccess).toBe(true));
    expect(graph.result.current.data!.assets.map((a) => [a.key, a.group])).toEqual([
      ["taxi/raw", "ingest"],
      ["configured", "reports"],
    ]);
    const status = renderHook(() => useGraphStatus(), { wrapper: w });
    await waitFor(() => expect(status.result.current.isSuccess).toBe(true));
    expect(status.result.current.data!.assets["taxi/raw"]).toMatchObject({
      status: "missing",
      partitions: { total: 3, materialized: 0 },
    });
  });

  test("usePartitionStatus answers in ranges that cover every partition", async () => {
    await instance.materialize(defs, { selection: "taxi/raw", partitions: { keys: ["2024-01-02"] } });
    const { result } = renderHook(() => usePartitionStatus("taxi/raw"), { wrapper: wrapper() });
    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    expect(result.current.data!.ranges.map((r) => [r.status, r.startKey, r.endKey])).toEqual([
      ["missing", "2024-01-01", "2024-01-01"],
      ["materialized", "2024-01-02", "2024-01-02"],
      ["missing", "2024-01-03", "2024-01-03"],
    ]);
  });

  test("a launch with bad config rejects with the server's message and the field it names; a good one queues", async () => {
    const { result } = renderHook(() => useLaunchRun(), { wrapper: wrapper() });
    let error: unknown;
    await act(async () => {
      error = await result.current
        .mutateAsync({ selection: "configured", config: { configured: { n: 0 } } })
        .catch((e) => e);
    });
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, field: "body.config.configured.n" });
    expect((error as ApiError).message).toMatch(/n/);
    expect((await instance.storage.listRuns({ limit: 10 })).runs).toHaveLength(0);
    let answer: { run: { runId: string; status: string } } | undefined;
    await act(async () => {
      answer = (await result.current.mutateAsync({
        selection: "configured",
        config: { configured: { n: 3 } },
      })) as typeof answer;
    });
    expect(answer!.run.status).toBe("QUEUED");
  });

  test("the graph is re-read when the published definitions change", async () => {
    const { result } = renderHook(() => useAssetGraph(), { wrapper: wrapper() });
    await waitFor(() => expect(result.current.data?.assets).toHaveLength(2));
    const extra = asset({ key: "extra", deps: ["configured"] }, async () => 1);
    await publishSnapshot(instance.storage, defineDefinitions({ assets: [raw, configured, extra] }));
    // /api/health (polled every 5 s) reports the new hash; the graph follows it.
    await waitFor(() => expect(result.current.data?.assets.map((a) => a.key)).toContain("extra"), {
      timeout: 12_000,
    });
  }, 20_000);

  test("api() turns an unknown asset into a 404 ApiError with the server's message", async () => {
    const error = await api("/api/assets/nope").catch((e) => e);
    expect(error).toMatchObject({ status: 404, code: "not_found" });
    expect((error as Error).message).toContain("nope");
  });
});

describe("SSE parsing", () => {
  test("complete messages out (id, event, multi-line data, comments skipped), the tail kept", () => {
    const { messages, rest } = parseSse(
      ': ping\n\nid: 7\nevent: run_started\ndata: {"a":1}\n\nid: 8\ndata: line1\ndata: line2\n\nid: 9\ndata: {"par',
    );
    expect(messages).toEqual([
      { id: "7", event: "run_started", data: '{"a":1}' },
      { id: "8", data: "line1\nline2" },
    ]);
    expect(rest).toBe('id: 9\ndata: {"par');
  });
  test("CRLF line endings", () => {
    expect(parseSse("id: 1\r\ndata: x\r\n\r\n").messages).toEqual([{ id: "1", data: "x" }]);
  });
});
