/**
 * Storage filters the webserver uses: runs by asset, tag and creation time (with cursor paging),
 * materializations of one partition, check evaluation history, and the cross-run event stream —
 * on SQLite and Postgres.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunEvent } from "../packages/core/src/execution/events.js";
import { openStorage } from "../packages/core/src/storage/open-storage.js";
import type { NewRun, Storage } from "../packages/core/src/storage/storage.js";
import { type StorageLocation, storageBackends } from "./support/storage-backends.js";

const T0 = 1_700_000_000_000;

function run(runId: string, overrides: Partial<NewRun> = {}): NewRun {
  return {
    runId,
    status: "QUEUED",
    selection: "*",
    assetKeys: ["a"],
    config: {},
    tags: {},
    createdAt: T0,
    ...overrides,
  };
}

async function allPages(store: Storage, query: Parameters<Storage["listRuns"]>[0]) {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listRuns({ ...query, limit: 2, ...(cursor ? { cursor } : {}) });
    ids.push(...page.runs.map((r) => r.runId));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return ids;
}

for (const backend of storageBackends()) {
  describe.skipIf(backend.skipReason !== null)(`storage filters: ${backend.name}`, () => {
    let current: StorageLocation | undefined;
    let store: Storage;
    beforeAll(() => backend.start());
    afterAll(() => backend.stop());
    beforeEach(async () => {
      current = await backend.createLocation();
      store = await openStorage(current.options);
    });
    afterEach(async () => {
      await store.close().catch(() => {});
      if (current) await backend.destroyLocation(current);
    });

    it("filters runs by asset key exactly (no prefix or case matches), across pages", async () => {
      await store.createRuns([
        run("r1", { assetKeys: ["taxi/raw"] }),
        run("r2", { assetKeys: ["taxi/raw_trips"] }),
        run("r3", { assetKeys: ["x", "taxi/raw"] }),
        run("r4", { assetKeys: ["Taxi/raw"] }),
        run("r5", { assetKeys: ["taxi/raw"] }),
      ]);
      expect(await allPages(store, { assetKey: "taxi/raw" })).toEqual(["r5", "r3", "r1"]);
      expect(await allPages(store, { assetKey: "taxi/raw_trips" })).toEqual(["r2"]);
      expect(await allPages(store, { assetKey: "taxi" })).toEqual([]);
    });

    it("filters runs by tag key, or key and exact value (quotes and backslashes included)", async () => {
      await store.createRuns([
        run("r1", { tags: { "baton/sensor": "files" } }),
        run("r2", { tags: { "baton/sensor": "files_2" } }),
        run("r3", { tags: { "baton/schedule": "files" } }),
        run("r4", { tags: { note: 'say "hi" \\ %_' } }),
        run("r5", { tags: { other: '"baton/sensor":"files"' } }),
      ]);
      expect(await allPages(store, { tag: { key: "baton/sensor", value: "files" } })).toEqual(["r1"]);
      expect(await allPages(store, { tag: { key: "baton/sensor" } })).toEqual(["r2", "r1"]);
      expect(await allPages(store, { tag: { key: "note", value: 'say "hi" \\ %_' } })).toEqual(["r4"]);
      expect(await allPages(store, { tag: { key: "note", value: "say" } })).toEqual([]);
    });

    it("filters runs by creation time and combines filters with statuses", async () => {
      await store.createRuns([
        run("r1", { createdAt: T0 }),
        run("r2", { createdAt: T0 + 1000, assetKeys: ["b"] }),
        run("r3", { createdAt: T0 + 2000 }),
        run("r4", { createdAt: T0 + 3000 }),
      ]);
      expect(await allPages(store, { createdAfter: T0 + 1000, createdBefore: T0 + 3000 })).toEqual([
        "r3",
        "r2",
      ]);
      expect(await allPages(store, { createdAfter: T0 + 1000, assetKey: "a" })).toEqual(["r4", "r3"]);
      expect(await allPages(store, { statuses: ["SUCCESS"], assetKey: "a" })).toEqual([]);
    });

    it("lists materializations of one partition, check history, and events across runs after an id", async () => {
      await store.createRun(run("r1"));
      await store.createRun(run("r2"));
      const mat = (runId: string, partition: string): RunEvent => ({
        type: "materialization",
        runId,
        timestamp: T0,
        stepKey: "a",
        assetKey: "a",
        metadata: {},
        partition,
        partitionIndex: 0,
      });
      await store.appendEvents([mat("r1", "2024-01-01"), mat("r1", "2024-01-011"), mat("r2", "2024-01-01")]);
      await store.appendEvents([
        {
          type: "check_evaluation",
          runId: "r2",
          timestamp: T0,
          stepKey: "a:c1",
          assetKey: "a",
          checkName: "c1",
          passed: false,
          blocking: true,
          severity: "ERROR",
          metadata: {},
        } as RunEvent,
        {
          type: "check_evaluation",
          runId: "r2",
          timestamp: T0,
          stepKey: "a:c2",
          assetKey: "a",
          checkName: "c2",
          passed: true,
          blocking: false,
          severity: "WARN",
          metadata: {},
        } as RunEvent,
      ]);
      const ofPartition = await store.getMaterializations("a", { partition: "2024-01-01" });
      expect(ofPartition.map((e) => e.runId)).toEqual(["r2", "r1"]);
      const history = await store.getCheckEvaluations("a");
      expect(history.map((e) => (e as { checkName: string }).checkName)).toEqual(["c2", "c1"]);
      expect((await store.getCheckEvaluations("a", { checkName: "c1" })).length).toBe(1);
      const first = (await store.getEventsAfter(0, { limit: 1 }))[0]!;
      const rest = await store.getEventsAfter(first.id);
      expect(rest.length).toBe(4);
      expect(rest.every((e, i) => i === 0 || e.id > rest[i - 1]!.id)).toBe(true);
      expect((await store.getEventsAfter(0, { runId: "r1" })).map((e) => e.runId)).toEqual(["r1", "r1"]);
      expect(await store.latestEventId()).toBe(rest[rest.length - 1]!.id);
    });
  });
}
