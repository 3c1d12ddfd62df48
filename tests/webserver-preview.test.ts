/**
 * Previews through the API: the webserver cannot run user code, so it asks the daemon (a request
 * in the store, answered by the daemon's sensors loop). SQLite; the daemon runs in-process.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  asset,
  type BatonInstance,
  createDaemon,
  defineDefinitions,
  monthlyPartitions,
  openInstance,
  publishSnapshot,
  schedule,
  sensor,
} from "@baton/core/internal";
import { createApp } from "@baton/webserver";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const months = monthlyPartitions({ start: "2024-01", end: "2024-07" });
const definitions = defineDefinitions({
  assets: [asset({ key: "plain" }, () => 1), asset({ key: "monthly", partitions: months }, () => 1)],
  schedules: [schedule({ name: "monthly_refresh", cron: "0 6 1 * *", selection: "monthly" })],
  sensors: [
    sensor({
      name: "poke",
      selection: "plain",
      evaluate: (ctx) => ({ runRequests: [{ runKey: `k-${ctx.cursor ?? "first"}` }], cursor: "next" }),
    }),
  ],
});

let home: string;
let instance: BatonInstance;
beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), "baton-preview-"));
  instance = await openInstance({ home, env: {} });
  await publishSnapshot(instance.storage, definitions);
});
afterEach(async () => {
  await instance.close();
  await rm(home, { recursive: true, force: true });
});

const post = (app: ReturnType<typeof createApp>, url: string) =>
  app.request(url, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });

describe("POST /api/automation/{name}/preview", () => {
  it("asks the daemon: a sensor's run requests come back, nothing is launched, the cursor stays", async () => {
    const controller = new AbortController();
    const daemon = createDaemon({ instance, definitions: () => definitions, watch: false, intervalMs: 100 });
    const running = daemon.run(controller.signal);
    try {
      const app = createApp({ instance, previewTimeoutMs: 10_000 });
      const res = await post(app, "/api/automation/poke/preview");
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        name: "poke",
        kind: "sensor",
        runRequests: [{ runKey: "k-first" }],
        cursor: "next",
        error: null,
      });
      expect((await instance.storage.listRuns()).runs).toEqual([]);
      expect((await instance.storage.getInstigatorState("poke"))?.cursor ?? null).toBeNull();
      expect(await instance.storage.listValues("preview/")).toEqual([]);

      const sch = await post(app, "/api/automation/monthly_refresh/preview");
      expect(sch.status).toBe(200);
      const ticks = (
        (await sch.json()) as { ticks: { tick: string; partitionKeys: string[] | null; error?: string }[] }
      ).ticks;
      expect(ticks).toHaveLength(5);
      // Today is past the partitions' end: each tick says so instead of failing the request.
      expect(ticks[0]!.error).toMatch(/past the partitions' end \(last: 2024-06\)/);
    } finally {
      controller.abort();
      await running;
    }
  });

  it("answers 503 naming the daemon when none answers in time, and 404 for an unknown name", async () => {
    const app = createApp({ instance, previewTimeoutMs: 300 });
    const res = await post(app, "/api/automation/poke/preview");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      error: { code: "no_daemon", message: expect.stringMatching(/baton daemon/) },
    });
    expect(await instance.storage.listValues("preview/")).toEqual([]); // the request is withdrawn
    const missing = await post(app, "/api/automation/nope/preview");
    expect(missing.status).toBe(404);
  });
});
