/**
 * The Storage contract for partitions, dynamic partitions and backfills, on every backend (SQLite and
 * Postgres; select with BATON_TEST_STORAGE=sqlite|postgres|all, default all, and CI never skips Postgres).
 * Each test gets a fresh, empty store from ./support/storage-backends.ts, opened through `openStorage`.
 *
 * Partition status is driven only through `appendEvents` with the events the executor emits: a step
 * starting marks its assets' run partitions in progress, a materialization marks its partition
 * materialized, a failed or canceled step marks the run's partitions failed; checks change nothing.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { StorageError } from "../packages/core/src/errors.js";
import type {
  InputDataVersions,
  RunEvent,
  RunEventBody,
  StepKind,
  StoredRunEvent,
} from "../packages/core/src/execution/events.js";
import { openStorage } from "../packages/core/src/storage/open-storage.js";
import {
  countRanges,
  type PartitionState,
  type StatusRange,
} from "../packages/core/src/storage/partition-ranges.js";
import type {
  BackfillCounts,
  BackfillRecord,
  NewRun,
  PartitionRecord,
  Storage,
} from "../packages/core/src/storage/storage.js";
import { type StorageLocation, storageBackends } from "./support/storage-backends.js";

type OpenedStorage = Awaited<ReturnType<typeof openStorage>>;

const T0 = 1_700_000_000_000;

// ---------------------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------------------

const keyOf = (index: number) => `k${index}`;
const range = (start: number, end: number): number[] =>
  Array.from({ length: end - start + 1 }, (_, i) => start + i);

function event(runId: string, timestamp: number, body: RunEventBody): RunEvent {
  return { ...body, runId, timestamp };
}

/** A run over the partitions at `indices` (keys `k<index>` unless given). */
function partitionedRun(
  runId: string,
  assetKeys: readonly string[],
  indices: readonly number[],
  extra: Partial<NewRun> & { keys?: readonly string[] } = {},
): NewRun {
  const { keys, ...overrides } = extra;
  return {
    runId,
    status: "QUEUED",
    selection: assetKeys.join(","),
    assetKeys,
    config: {},
    tags: {},
    createdAt: T0,
    partitions: { keys: keys ?? indices.map(keyOf), indices },
    ...overrides,
  };
}

function runStarted(runId: string, timestamp: number, assetKeys: readonly string[]): RunEvent {
  return event(runId, timestamp, {
    type: "run_started",
    steps: assetKeys.map((k) => ({ stepKey: k, kind: "asset" as const, assetKeys: [k] })),
  });
}

function stepStarted(
  runId: string,
  stepKey: string,
  assetKeys: readonly string[],
  timestamp: number,
  kind: StepKind = "asset",
): RunEvent {
  return event(runId, timestamp, { type: "step_started", stepKey, kind, assetKeys, attempt: 1 });
}

function stepSucceeded(runId: string, stepKey: string, timestamp: number): RunEvent {
  return event(runId, timestamp, { type: "step_succeeded", stepKey, durationMs: 5 });
}

function stepFailed(
  runId: string,
  stepKey: string,
  assetKeys: readonly string[],
  timestamp: number,
): RunEvent {
  return event(runId, timestamp, {
    type: "step_failed",
    stepKey,
    assetKeys,
    durationMs: 12,
    attempt: 1,
    error: { name: "Error", message: "boom" },
  });
}

function stepCanceled(
  runId: string,
  stepKey: string,
  assetKeys: readonly string[],
  timestamp: number,
): RunEvent {
  return event(runId, timestamp, {
    type: "step_canceled",
    stepKey,
    assetKeys,
    reason: "the run was canceled while this step ran",
  });
}

function partitionMaterialization(
  runId: string,
  assetKey: string,
  index: number,
  timestamp: number,
  extra: {
    key?: string;
    codeVersion?: string;
    dataVersion?: string;
    inputDataVersions?: InputDataVersions;
  } = {},
): RunEvent {
  return event(runId, timestamp, {
    type: "materialization",
    stepKey: assetKey,
    assetKey,
    metadata: { rows: { type: "row_count", value: index * 10 } },
    partition: extra.key ?? keyOf(index),
    partitionIndex: index,
    ...(extra.codeVersion !== undefined ? { codeVersion: extra.codeVersion } : {}),
    ...(extra.dataVersion !== undefined ? { dataVersion: extra.dataVersion } : {}),
    ...(extra.inputDataVersions !== undefined ? { inputDataVersions: extra.inputDataVersions } : {}),
  });
}

/** The events of one successful step of `assetKey` over `indices`, from `t` on (one ms apart). */
function successfulStep(
  runId: string,
  assetKey: string,
  indices: readonly number[],
  t: number,
  versions: { codeVersion?: string; dataVersion?: (index: number) => string } = {},
): RunEvent[] {
  return [
    stepStarted(runId, assetKey, [assetKey], t),
    ...indices.map((index, i) =>
      partitionMaterialization(runId, assetKey, index, t + 1 + i, {
        ...(versions.codeVersion !== undefined ? { codeVersion: versions.codeVersion } : {}),
        ...(versions.dataVersion ? { dataVersion: versions.dataVersion(index) } : {}),
      }),
    ),
    stepSucceeded(runId, assetKey, t + 1 + indices.length),
  ];
}

/** Expected ranges from a per-index model (maximal runs of one non-null status). */
function rangesOf(
  model: ReadonlyMap<number, PartitionState> | readonly (PartitionState | null)[],
): StatusRange[] {
  const entries: [number, PartitionState][] = Array.isArray(model)
    ? model.flatMap((s, i): [number, PartitionState][] => (s === null ? [] : [[i, s]]))
    : [...(model as ReadonlyMap<number, PartitionState>)].sort(([a], [b]) => a - b);
  const out: StatusRange[] = [];
  for (const [i, status] of entries) {
    const last = out[out.length - 1];
    if (last && last.end === i - 1 && last.status === status) out[out.length - 1] = { ...last, end: i };
    else out.push({ start: i, end: i, status });
  }
  return out;
}

/** Stored materialization events of a run, by partition key. */
async function materializationsByPartition(
  store: Storage,
  runId: string,
  assetKey?: string,
): Promise<Map<string, StoredRunEvent & { type: "materialization" }>> {
  const out = new Map<string, StoredRunEvent & { type: "materialization" }>();
  for (const e of await store.getEvents(runId, { types: ["materialization"] })) {
    if (e.type !== "materialization" || e.partition === undefined) continue;
    if (assetKey !== undefined && e.assetKey !== assetKey) continue;
    out.set(e.partition, e);
  }
  return out;
}

function indicesOf(rows: readonly PartitionRecord[]): number[] {
  return rows.map((r) => r.partitionIndex);
}

function expectNoTouchingEqualRanges(ranges: readonly StatusRange[]): void {
  for (let i = 1; i < ranges.length; i++) {
    const [a, b] = [ranges[i - 1]!, ranges[i]!];
    expect(a.end).toBeLessThan(b.start);
    if (a.end + 1 === b.start) expect(a.status).not.toBe(b.status);
  }
}

/** mulberry32. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], rand: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const ZERO_COUNTS: BackfillCounts = {
  targeted: 0,
  materialized: 0,
  failed: 0,
  skipped: 0,
  canceled: 0,
  runs: 0,
};

// ---------------------------------------------------------------------------------------------------------
// The contract
// ---------------------------------------------------------------------------------------------------------

function partitionsContract(open: () => Promise<OpenedStorage>): void {
  describe("partition status from events", () => {
    it("a run over [0..9]: in progress on step start, then one materialized range with per-partition rows", async () => {
      const store = await open();
      const indices = range(0, 9);
      await store.createRun(partitionedRun("r1", ["a"], indices));
      await store.appendEvents([runStarted("r1", T0 + 1, ["a"]), stepStarted("r1", "a", ["a"], T0 + 2)]);

      expect(await store.getPartitionRanges("a")).toEqual([{ start: 0, end: 9, status: "in_progress" }]);
      expect(await store.getPartitions("a")).toStrictEqual(
        indices.map(
          (i): PartitionRecord => ({
            assetKey: "a",
            partitionKey: keyOf(i),
            partitionIndex: i,
            status: "in_progress",
            lastRunId: "r1",
            lastMaterialization: null,
            lastFailure: null,
          }),
        ),
      );

      await store.appendEvents([
        ...indices.map((i) =>
          partitionMaterialization("r1", "a", i, T0 + 10 + i, { codeVersion: "v1", dataVersion: `d${i}` }),
        ),
        stepSucceeded("r1", "a", T0 + 30),
        event("r1", T0 + 31, { type: "run_succeeded" }),
      ]);
      expect(await store.getPartitionRanges("a")).toEqual([{ start: 0, end: 9, status: "materialized" }]);

      const stored = await materializationsByPartition(store, "r1");
      expect(stored.size).toBe(10);
      const rows = await store.getPartitions("a");
      expect(rows).toStrictEqual(
        indices.map(
          (i): PartitionRecord => ({
            assetKey: "a",
            partitionKey: keyOf(i),
            partitionIndex: i,
            status: "materialized",
            lastRunId: "r1",
            lastMaterialization: {
              eventId: stored.get(keyOf(i))!.id,
              timestamp: T0 + 10 + i,
              codeVersion: "v1",
              dataVersion: `d${i}`,
              inputDataVersions: null,
            },
            lastFailure: null,
          }),
        ),
      );
      // Distinct, real event ids.
      expect(new Set(rows.map((r) => r.lastMaterialization!.eventId)).size).toBe(10);
      // Other assets and unknown assets have nothing.
      expect(await store.getPartitionRanges("b")).toEqual([]);
      expect(await store.getPartitions("b")).toEqual([]);
    });

    it("a later failed run over [3..5] splits the range; rematerializing [3..5] merges it back", async () => {
      const store = await open();
      await store.createRun(partitionedRun("r1", ["a"], range(0, 9)));
      await store.appendEvents(successfulStep("r1", "a", range(0, 9), T0, { codeVersion: "v1" }));
      const before = await store.getPartitions("a");
      expect(await store.getPartitionRanges("a")).toEqual([{ start: 0, end: 9, status: "materialized" }]);

      await store.createRun(partitionedRun("r2", ["a"], range(3, 5)));
      await store.appendEvents([stepStarted("r2", "a", ["a"], T0 + 100)]);
      expect(await store.getPartitionRanges("a")).toEqual([
        { start: 0, end: 2, status: "materialized" },
        { start: 3, end: 5, status: "in_progress" },
        { start: 6, end: 9, status: "materialized" },
      ]);
      await store.appendEvents([stepFailed("r2", "a", ["a"], T0 + 101)]);
      expect(await store.getPartitionRanges("a")).toEqual([
        { start: 0, end: 2, status: "materialized" },
        { start: 3, end: 5, status: "failed" },
        { start: 6, end: 9, status: "materialized" },
      ]);

      const afterFailure = await store.getPartitions("a");
      for (const i of range(0, 9)) {
        if (i >= 3 && i <= 5) {
          expect(afterFailure[i]).toStrictEqual({
            ...before[i]!,
            status: "failed",
            lastRunId: "r2",
            lastMaterialization: before[i]!.lastMaterialization, // kept from r1
            lastFailure: { runId: "r2", timestamp: T0 + 101 },
          });
          expect(afterFailure[i]!.lastMaterialization).not.toBeNull();
        } else {
          expect(afterFailure[i]).toStrictEqual(before[i]);
        }
      }

      await store.createRun(partitionedRun("r3", ["a"], range(3, 5)));
      await store.appendEvents(successfulStep("r3", "a", range(3, 5), T0 + 200, { codeVersion: "v2" }));
      expect(await store.getPartitionRanges("a")).toEqual([{ start: 0, end: 9, status: "materialized" }]);

      const stored = await materializationsByPartition(store, "r3");
      const final = await store.getPartitions("a");
      for (const i of range(3, 5))
        expect(final[i]).toStrictEqual({
          ...before[i]!,
          status: "materialized",
          lastRunId: "r3",
          lastMaterialization: {
            eventId: stored.get(keyOf(i))!.id,
            timestamp: stored.get(keyOf(i))!.timestamp,
            codeVersion: "v2",
            dataVersion: null,
            inputDataVersions: null,
          },
          // The failure stays on record.
          lastFailure: { runId: "r2", timestamp: T0 + 101 },
        });
      for (const i of [0, 1, 2, 6, 7, 8, 9]) expect(final[i]).toStrictEqual(before[i]);
    });

    it("step_canceled after step_started marks the run's partitions failed", async () => {
      const store = await open();
      await store.createRun(partitionedRun("r1", ["a"], range(0, 9)));
      await store.appendEvents(successfulStep("r1", "a", range(0, 9), T0));
      await store.createRun(partitionedRun("r2", ["a"], range(7, 9)));
      await store.appendEvents([stepStarted("r2", "a", ["a"], T0 + 100)]);
      await store.appendEvents([
        stepCanceled("r2", "a", ["a"], T0 + 101),
        event("r2", T0 + 102, { type: "run_canceled", reason: "user asked" }),
      ]);
      expect(await store.getPartitionRanges("a")).toEqual([
        { start: 0, end: 6, status: "materialized" },
        { start: 7, end: 9, status: "failed" },
      ]);
      const rows = await store.getPartitions("a", { startIndex: 7 });
      expect(rows.map((r) => [r.status, r.lastRunId, r.lastFailure])).toEqual(
        range(7, 9).map(() => ["failed", "r2", { runId: "r2", timestamp: T0 + 101 }]),
      );
      expect(rows.every((r) => r.lastMaterialization !== null)).toBe(true);
    });

    it("check steps, skipped steps, check evaluations and asset-less cancels change nothing", async () => {
      const store = await open();
      await store.createRun(partitionedRun("r1", ["a"], range(0, 2)));
      await store.appendEvents(successfulStep("r1", "a", range(0, 2), T0));
      const ranges = await store.getPartitionRanges("a");
      const rows = await store.getPartitions("a");
      expect(ranges).toEqual([{ start: 0, end: 2, status: "materialized" }]);

      await store.createRun(partitionedRun("r2", ["a"], range(0, 4)));
      await store.appendEvents([
        // A check step starts with the checked asset in assetKeys, and fails/cancels with none.
        stepStarted("r2", "a:not_null", ["a"], T0 + 100, "check"),
        event("r2", T0 + 101, {
          type: "check_evaluation",
          stepKey: "a:not_null",
          assetKey: "a",
          checkName: "not_null",
          passed: false,
          blocking: true,
          severity: "ERROR",
          metadata: {},
          partition: keyOf(1),
        }),
        stepFailed("r2", "a:not_null", [], T0 + 102),
        stepStarted("r2", "a:unique", ["a"], T0 + 103, "check"),
        stepCanceled("r2", "a:unique", [], T0 + 104),
        // The executor cancels steps that never started with no asset keys.
        stepCanceled("r2", "a", [], T0 + 105),
        event("r2", T0 + 106, {
          type: "step_skipped",
          stepKey: "a",
          assetKeys: ["a"],
          reason: "upstream failed",
          cause: "a:not_null",
        }),
      ]);
      expect(await store.getPartitionRanges("a")).toEqual(ranges);
      expect(await store.getPartitions("a")).toStrictEqual(rows);
    });

    it("unpartitioned runs do not create partition rows or ranges", async () => {
      const store = await open();
      await store.createRun({
        runId: "plain",
        status: "QUEUED",
        selection: "a",
        assetKeys: ["a", "b"],
        config: {},
        tags: {},
        createdAt: T0,
      });
      await store.createRun({ ...partitionedRun("plain-null", ["a"], []), partitions: null });
      for (const runId of ["plain", "plain-null"])
        await store.appendEvents([
          runStarted(runId, T0 + 1, ["a", "b"]),
          stepStarted(runId, "a", ["a"], T0 + 2),
          event(runId, T0 + 3, {
            type: "materialization",
            stepKey: "a",
            assetKey: "a",
            metadata: {},
            codeVersion: "v1",
          }),
          stepSucceeded(runId, "a", T0 + 4),
          stepStarted(runId, "b", ["b"], T0 + 5),
          stepFailed(runId, "b", ["b"], T0 + 6),
          stepCanceled(runId, "b", ["b"], T0 + 7),
          event(runId, T0 + 8, { type: "run_failed", reason: "b failed" }),
        ]);
      for (const asset of ["a", "b"]) {
        expect(await store.getPartitionRanges(asset)).toEqual([]);
        expect(await store.getPartitions(asset)).toEqual([]);
      }
      // The unpartitioned asset status index still works.
      const statuses = await store.getAssetStatuses(["a", "b"]);
      expect(statuses.find((s) => s.assetKey === "a")?.lastMaterialization?.codeVersion).toBe("v1");
      expect(statuses.find((s) => s.assetKey === "b")?.lastFailure?.runId).toBe("plain-null");
    });

    it("two assets in one run touch only their own rows", async () => {
      const store = await open();
      await store.createRun(partitionedRun("r1", ["a", "b"], range(0, 4)));
      await store.appendEvents([
        event("r1", T0, {
          type: "run_started",
          steps: [
            { stepKey: "a", kind: "asset", assetKeys: ["a"] },
            { stepKey: "b", kind: "asset", assetKeys: ["b"] },
          ],
        }),
        ...successfulStep("r1", "a", range(0, 4), T0 + 1),
        stepStarted("r1", "b", ["b"], T0 + 20),
      ]);
      expect(await store.getPartitionRanges("a")).toEqual([{ start: 0, end: 4, status: "materialized" }]);
      expect(await store.getPartitionRanges("b")).toEqual([{ start: 0, end: 4, status: "in_progress" }]);

      await store.appendEvents([stepFailed("r1", "b", ["b"], T0 + 21)]);
      expect(await store.getPartitionRanges("a")).toEqual([{ start: 0, end: 4, status: "materialized" }]);
      expect(await store.getPartitionRanges("b")).toEqual([{ start: 0, end: 4, status: "failed" }]);
      const a = await store.getPartitions("a");
      const b = await store.getPartitions("b");
      expect(a.map((r) => [r.assetKey, r.status, r.lastFailure])).toEqual(
        range(0, 4).map(() => ["a", "materialized", null]),
      );
      expect(b.map((r) => [r.assetKey, r.status, r.lastMaterialization, r.lastFailure])).toEqual(
        range(0, 4).map(() => ["b", "failed", null, { runId: "r1", timestamp: T0 + 21 }]),
      );
      expect(await store.getPartitions("c")).toEqual([]);
    });

    it("a multi-asset step marks every one of its assets", async () => {
      const store = await open();
      await store.createRun(partitionedRun("r1", ["a", "b"], range(0, 2)));
      await store.appendEvents([stepStarted("r1", "ab", ["a", "b"], T0)]);
      for (const asset of ["a", "b"])
        expect(await store.getPartitionRanges(asset)).toEqual([{ start: 0, end: 2, status: "in_progress" }]);
      await store.appendEvents([stepFailed("r1", "ab", ["a", "b"], T0 + 1)]);
      for (const asset of ["a", "b"])
        expect(await store.getPartitionRanges(asset)).toEqual([{ start: 0, end: 2, status: "failed" }]);
      expect(await store.getPartitionRanges("c")).toEqual([]);
    });

    it("a batch mixing two runs applies each run's partitions to its own asset only", async () => {
      const store = await open();
      await store.createRun(partitionedRun("r0", ["a", "b"], range(0, 4)));
      await store.appendEvents([
        ...successfulStep("r0", "a", range(0, 4), T0),
        stepStarted("r0", "b", ["b"], T0 + 10),
        stepFailed("r0", "b", ["b"], T0 + 11),
      ]);
      const a0 = await store.getPartitions("a");

      await store.createRun(partitionedRun("r1", ["a"], range(10, 12)));
      await store.createRun(partitionedRun("r2", ["b"], range(0, 1)));
      // Interleaved, as two runs writing through one batching writer would be.
      await store.appendEvents([
        stepStarted("r1", "a", ["a"], T0 + 100),
        stepStarted("r2", "b", ["b"], T0 + 101),
        partitionMaterialization("r1", "a", 10, T0 + 102),
        partitionMaterialization("r2", "b", 0, T0 + 103),
        partitionMaterialization("r1", "a", 11, T0 + 104),
        partitionMaterialization("r2", "b", 1, T0 + 105),
        partitionMaterialization("r1", "a", 12, T0 + 106),
        stepSucceeded("r2", "b", T0 + 107),
        stepSucceeded("r1", "a", T0 + 108),
      ]);
      expect(await store.getPartitionRanges("a")).toEqual([
        { start: 0, end: 4, status: "materialized" },
        { start: 10, end: 12, status: "materialized" },
      ]);
      expect(await store.getPartitionRanges("b")).toEqual([
        { start: 0, end: 1, status: "materialized" },
        { start: 2, end: 4, status: "failed" },
      ]);

      const a = await store.getPartitions("a");
      expect(indicesOf(a)).toEqual([0, 1, 2, 3, 4, 10, 11, 12]);
      expect(a.slice(0, 5)).toStrictEqual(a0);
      const r1 = await materializationsByPartition(store, "r1");
      const r2 = await materializationsByPartition(store, "r2");
      for (const row of a.slice(5)) {
        expect(row.lastRunId).toBe("r1");
        expect(row.lastMaterialization?.eventId).toBe(r1.get(row.partitionKey)!.id);
        expect(row.lastMaterialization?.timestamp).toBe(r1.get(row.partitionKey)!.timestamp);
      }
      const b = await store.getPartitions("b");
      expect(b.map((r) => [r.partitionIndex, r.status, r.lastRunId])).toEqual([
        [0, "materialized", "r2"],
        [1, "materialized", "r2"],
        [2, "failed", "r0"],
        [3, "failed", "r0"],
        [4, "failed", "r0"],
      ]);
      for (const row of b.slice(0, 2)) {
        expect(row.lastMaterialization?.eventId).toBe(r2.get(row.partitionKey)!.id);
        expect(row.lastFailure).toStrictEqual({ runId: "r0", timestamp: T0 + 11 });
      }
    });

    it("per-partition rows do not depend on how the events were batched", async () => {
      // A step that materializes some partitions and then fails (e.g. on the last one). The event
      // writer batches events arbitrarily, so one batch or one event per batch must give the same rows:
      // lastMaterialization.timestamp is the materialization event's timestamp either way.
      const store = await open();
      const body = (runId: string, asset: string): RunEvent[] => [
        stepStarted(runId, asset, [asset], T0 + 1),
        partitionMaterialization(runId, asset, 0, T0 + 2, { codeVersion: "v1", dataVersion: "d0" }),
        partitionMaterialization(runId, asset, 1, T0 + 3, { codeVersion: "v1", dataVersion: "d1" }),
        stepFailed(runId, asset, [asset], T0 + 4),
      ];
      await store.createRun(partitionedRun("separate", ["x"], range(0, 2)));
      await store.createRun(partitionedRun("together", ["y"], range(0, 2)));
      for (const e of body("separate", "x")) await store.appendEvents([e]);
      await store.appendEvents(body("together", "y"));

      const normalize = async (asset: string, runId: string) => {
        const stored = await materializationsByPartition(store, runId, asset);
        return (await store.getPartitions(asset)).map((r) => {
          const m = r.lastMaterialization;
          if (m !== null) {
            // The row points at the real event, and repeats its timestamp.
            expect(m.eventId).toBe(stored.get(r.partitionKey)?.id);
            expect(m.timestamp, `${asset}/${r.partitionKey} lastMaterialization.timestamp`).toBe(
              stored.get(r.partitionKey)?.timestamp,
            );
          }
          return {
            ...r,
            assetKey: "*",
            lastRunId: "*",
            lastMaterialization: m && { ...m, eventId: 0 },
            lastFailure: r.lastFailure && { ...r.lastFailure, runId: "*" },
          };
        });
      };
      const separate = await normalize("x", "separate");
      const together = await normalize("y", "together");
      expect(together).toStrictEqual(separate);
      expect(await store.getPartitionRanges("y")).toEqual(await store.getPartitionRanges("x"));
    });

    it("a later run starting in the same batch keeps the earlier materialization's timestamp", async () => {
      const store = await open();
      await store.createRun(partitionedRun("r1", ["a"], [0]));
      await store.createRun(partitionedRun("r2", ["a"], [0]));
      await store.appendEvents([
        stepStarted("r1", "a", ["a"], T0 + 1),
        partitionMaterialization("r1", "a", 0, T0 + 2),
        stepSucceeded("r1", "a", T0 + 3),
        stepStarted("r2", "a", ["a"], T0 + 50),
      ]);
      expect(await store.getPartitionRanges("a")).toEqual([{ start: 0, end: 0, status: "in_progress" }]);
      const [m] = (await materializationsByPartition(store, "r1")).values();
      const [row] = await store.getPartitions("a");
      expect(row).toMatchObject({ status: "in_progress", lastRunId: "r2" });
      expect(row!.lastMaterialization).toStrictEqual({
        eventId: m!.id,
        timestamp: T0 + 2,
        codeVersion: null,
        dataVersion: null,
        inputDataVersions: null,
      });
    });

    it("data versions: each materialization's own and its inputs' round-trip; a newer one without versions clears them", async () => {
      const store = await open();
      const inputs = { up: "u1", hourly: { "2024-01-01-00:00": "h0", "2024-01-01-01:00": "h1" } };
      await store.createRun(partitionedRun("r1", ["a"], [0, 1]));
      await store.appendEvents([
        stepStarted("r1", "a", ["a"], T0 + 1),
        partitionMaterialization("r1", "a", 0, T0 + 2, {
          codeVersion: "v1",
          dataVersion: "d0",
          inputDataVersions: inputs,
        }),
        partitionMaterialization("r1", "a", 1, T0 + 3, { dataVersion: "d1" }),
        stepSucceeded("r1", "a", T0 + 4),
      ]);
      const [row0, row1] = await store.getPartitions("a");
      expect(row0!.lastMaterialization).toMatchObject({
        codeVersion: "v1",
        dataVersion: "d0",
        inputDataVersions: inputs,
      });
      expect(row1!.lastMaterialization).toMatchObject({ dataVersion: "d1", inputDataVersions: null });
      // A failure of a later run keeps the materialization's versions.
      await store.createRun(partitionedRun("r2", ["a"], [0]));
      await store.appendEvents([
        stepStarted("r2", "a", ["a"], T0 + 10),
        stepFailed("r2", "a", ["a"], T0 + 11),
      ]);
      expect((await store.getPartitions("a", { keys: [keyOf(0)] }))[0]!.lastMaterialization).toMatchObject({
        codeVersion: "v1",
        dataVersion: "d0",
        inputDataVersions: inputs,
      });
      // A later materialization without versions: unknown, not the previous value's versions.
      await store.createRun(partitionedRun("r3", ["a"], [0]));
      await store.appendEvents(successfulStep("r3", "a", [0], T0 + 20));
      expect((await store.getPartitions("a", { keys: [keyOf(0)] }))[0]!.lastMaterialization).toMatchObject({
        codeVersion: null,
        dataVersion: null,
        inputDataVersions: null,
      });
    });
  });

  describe("getPartitions", () => {
    /** Asset "f" over k0..k12: 0..5 materialized, 6..8 failed, 9..12 in progress. */
    async function seed(store: Storage) {
      const rand = prng(5);
      await store.createRun(partitionedRun("r1", ["f"], range(0, 5)));
      await store.appendEvents([
        stepStarted("r1", "f", ["f"], T0),
        // Materialized out of index order.
        ...shuffled(range(0, 5), rand).map((i, n) => partitionMaterialization("r1", "f", i, T0 + 1 + n)),
        stepSucceeded("r1", "f", T0 + 10),
      ]);
      await store.createRun(partitionedRun("r2", ["f"], range(6, 8)));
      await store.appendEvents([
        stepStarted("r2", "f", ["f"], T0 + 20),
        stepFailed("r2", "f", ["f"], T0 + 21),
      ]);
      await store.createRun(partitionedRun("r3", ["f"], [12, 9, 11, 10]));
      await store.appendEvents([stepStarted("r3", "f", ["f"], T0 + 30)]);
      // Another asset with the same keys must never show up.
      await store.createRun(partitionedRun("other", ["g"], range(0, 12)));
      await store.appendEvents([stepStarted("other", "g", ["g"], T0 + 40)]);
    }

    it("orders by index (not key) and reports each status", async () => {
      const store = await open();
      await seed(store);
      const rows = await store.getPartitions("f");
      expect(indicesOf(rows)).toEqual(range(0, 12));
      expect(rows.map((r) => r.partitionKey)).toEqual(range(0, 12).map(keyOf));
      expect(rows.every((r) => r.assetKey === "f")).toBe(true);
      expect(rows.map((r) => r.status)).toEqual([
        ...range(0, 5).map(() => "materialized"),
        ...range(6, 8).map(() => "failed"),
        ...range(9, 12).map(() => "in_progress"),
      ]);
      expect(await store.getPartitionRanges("f")).toEqual([
        { start: 0, end: 5, status: "materialized" },
        { start: 6, end: 8, status: "failed" },
        { start: 9, end: 12, status: "in_progress" },
      ]);
    });

    it("filters by keys (unknown keys ignored; [] returns [])", async () => {
      const store = await open();
      await seed(store);
      const rows = await store.getPartitions("f", { keys: ["k12", "k3", "nope", "k10", "k3"] });
      expect(rows.map((r) => r.partitionKey)).toEqual(["k3", "k10", "k12"]);
      expect(await store.getPartitions("f", { keys: [] })).toEqual([]);
      expect(await store.getPartitions("f", { keys: ["nope"] })).toEqual([]);
    });

    it("filters by inclusive index bounds", async () => {
      const store = await open();
      await seed(store);
      expect(indicesOf(await store.getPartitions("f", { startIndex: 4, endIndex: 9 }))).toEqual(range(4, 9));
      expect(indicesOf(await store.getPartitions("f", { startIndex: 10 }))).toEqual(range(10, 12));
      expect(indicesOf(await store.getPartitions("f", { endIndex: 2 }))).toEqual(range(0, 2));
      expect(indicesOf(await store.getPartitions("f", { startIndex: 7, endIndex: 7 }))).toEqual([7]);
      expect(await store.getPartitions("f", { startIndex: 8, endIndex: 7 })).toEqual([]);
      expect(await store.getPartitions("f", { startIndex: 100 })).toEqual([]);
    });

    it("filters by statuses", async () => {
      const store = await open();
      await seed(store);
      expect(indicesOf(await store.getPartitions("f", { statuses: ["failed"] }))).toEqual(range(6, 8));
      expect(indicesOf(await store.getPartitions("f", { statuses: ["in_progress", "failed"] }))).toEqual(
        range(6, 12),
      );
      expect(indicesOf(await store.getPartitions("f", { statuses: ["materialized"] }))).toEqual(range(0, 5));
    });

    it("limits after ordering and combines filters", async () => {
      const store = await open();
      await seed(store);
      expect(indicesOf(await store.getPartitions("f", { limit: 3 }))).toEqual([0, 1, 2]);
      expect(indicesOf(await store.getPartitions("f", { limit: 100 }))).toEqual(range(0, 12));
      expect(
        indicesOf(await store.getPartitions("f", { statuses: ["materialized"], startIndex: 2, limit: 2 })),
      ).toEqual([2, 3]);
      expect(
        indicesOf(
          await store.getPartitions("f", {
            keys: ["k1", "k7", "k8", "k11", "k12"],
            statuses: ["failed", "in_progress"],
            endIndex: 11,
          }),
        ),
      ).toEqual([7, 8, 11]);
      expect(
        indicesOf(await store.getPartitions("f", { statuses: ["in_progress"], startIndex: 5, limit: 1 })),
      ).toEqual([9]);
    });
  });

  describe("scale", () => {
    it("20,000 partitions in 40 scattered blocks: 40 ranges, exact counts", async () => {
      const store = await open();
      const BLOCKS = 40;
      const SIZE = 500;
      const STRIDE = 1000;
      const TOTAL = BLOCKS * STRIDE;
      const rand = prng(20_000);
      // Block b starts somewhere in [b*1000, b*1000+400]: at least 100 indices from its neighbors.
      const starts = range(0, BLOCKS - 1).map((b) => b * STRIDE + Math.floor(rand() * 401));
      const order = shuffled(range(0, BLOCKS - 1), rand);

      const runIndices = new Map<string, number[]>();
      const events: RunEvent[] = [];
      let t = T0;
      for (const b of order) {
        const runId = `block-${b}`;
        const indices = range(starts[b]!, starts[b]! + SIZE - 1);
        runIndices.set(runId, indices);
        await store.createRun(partitionedRun(runId, ["big"], indices, { createdAt: t }));
        events.push(runStarted(runId, ++t, ["big"]), stepStarted(runId, "big", ["big"], ++t));
        // Within a block, materialize out of order too.
        for (const i of shuffled(indices, rand))
          events.push(partitionMaterialization(runId, "big", i, ++t, { dataVersion: `d${i}` }));
        events.push(stepSucceeded(runId, "big", ++t), event(runId, ++t, { type: "run_succeeded" }));
      }

      const model: (PartitionState | null)[] = new Array(TOTAL).fill(null);
      const started = performance.now();
      for (let from = 0; from < events.length; from += 5000) {
        const batch = events.slice(from, from + 5000);
        await store.appendEvents(batch);
        for (const e of batch) {
          if (e.type === "step_started") for (const i of runIndices.get(e.runId)!) model[i] = "in_progress";
          else if (e.type === "materialization") model[e.partitionIndex!] = "materialized";
        }
        // Batches cut through blocks: some are partly in progress, partly materialized.
        const ranges = await store.getPartitionRanges("big");
        expect(ranges).toEqual(rangesOf(model));
        expectNoTouchingEqualRanges(ranges);
      }
      const elapsed = performance.now() - started;

      const ranges = await store.getPartitionRanges("big");
      expect(ranges).toHaveLength(BLOCKS);
      expect(ranges).toEqual(
        starts.map((s) => ({ start: s, end: s + SIZE - 1, status: "materialized" as const })),
      );
      expect(countRanges(ranges, TOTAL)).toEqual({
        materialized: BLOCKS * SIZE,
        failed: 0,
        in_progress: 0,
        missing: TOTAL - BLOCKS * SIZE,
      });
      // A total cutting through the last block.
      const cut = starts[BLOCKS - 1]! + 100;
      expect(countRanges(ranges, cut)).toEqual({
        materialized: (BLOCKS - 1) * SIZE + 100,
        failed: 0,
        in_progress: 0,
        missing: cut - (BLOCKS - 1) * SIZE - 100,
      });

      // Rows: exactly one per materialized partition, readable by index window.
      const block7 = await store.getPartitions("big", {
        startIndex: starts[7]!,
        endIndex: starts[7]! + SIZE - 1,
      });
      expect(indicesOf(block7)).toEqual(range(starts[7]!, starts[7]! + SIZE - 1));
      expect(block7.every((r) => r.status === "materialized" && r.lastRunId === "block-7")).toBe(true);
      expect(block7.map((r) => r.lastMaterialization?.dataVersion)).toEqual(
        block7.map((r) => `d${r.partitionIndex}`),
      );
      const gap = await store.getPartitions("big", {
        startIndex: starts[7]! + SIZE,
        endIndex: 8 * STRIDE - 1,
      });
      expect(gap).toEqual([]);
      expect(await store.getPartitions("big", { statuses: ["in_progress", "failed"] })).toEqual([]);
      expect(elapsed).toBeLessThan(20_000);
    }, 60_000);
  });

  describe("syncPartitionsDefinition", () => {
    it("two stores (two processes): a fingerprint one changes is never answered from the other's cache", async () => {
      const a = await open();
      const b = await open();
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
      const byIndex = (k: string) => Number(k.slice(1));
      const reversed = (k: string) => 9 - Number(k.slice(1));
      expect(await a.syncPartitionsDefinition("x", "fp1", byIndex)).toBe(true);
      // `a` sees fp1 stored (Postgres: from its cache once its listener is up).
      for (let i = 0; i < 5; i++) {
        expect(await a.syncPartitionsDefinition("x", "fp1", byIndex)).toBe(false);
        await sleep(50);
      }
      await b.createRun(partitionedRun("r1", ["x"], range(0, 2)));
      await b.appendEvents(successfulStep("r1", "x", range(0, 2), T0));
      expect(await b.syncPartitionsDefinition("x", "fp2", reversed)).toBe(true);
      expect(await b.getPartitionRanges("x")).toEqual([{ start: 7, end: 9, status: "materialized" }]);
      // `a` still computes fp1: it must re-index back (a stale "fp1 is stored" would keep fp2's indices).
      await sleep(1000);
      expect(await a.syncPartitionsDefinition("x", "fp1", byIndex)).toBe(true);
      expect(await a.getPartitionRanges("x")).toEqual([{ start: 0, end: 2, status: "materialized" }]);
      // And the other way round: `b` learns that fp1 is back.
      await sleep(1000);
      expect(await b.syncPartitionsDefinition("x", "fp2", reversed)).toBe(true);
    });

    it("stores the first fingerprint, then re-indexes only when it changes", async () => {
      const store = await open();
      // No rows yet: the first call records the fingerprint (and reports a re-index).
      expect(await store.syncPartitionsDefinition("a", "fp1", (k) => Number(k.slice(1)))).toBe(true);
      expect(await store.syncPartitionsDefinition("a", "fp1", () => 0)).toBe(false);
      expect(await store.getPartitionRanges("a")).toEqual([]);
      expect(await store.getPartitions("a")).toEqual([]);

      await store.createRun(partitionedRun("r1", ["a"], range(0, 9)));
      await store.appendEvents(successfulStep("r1", "a", range(0, 9), T0, { codeVersion: "v1" }));
      const before = await store.getPartitions("a");
      expect(await store.getPartitionRanges("a")).toEqual([{ start: 0, end: 9, status: "materialized" }]);

      // Same fingerprint: indexOf is not even consulted.
      let calls = 0;
      expect(
        await store.syncPartitionsDefinition("a", "fp1", () => {
          calls++;
          return 0;
        }),
      ).toBe(false);
      expect(calls).toBe(0);

      // A new definition: everything moves 5 to the right, and k9 is gone.
      const shifted = (key: string) => (key === "k9" ? -1 : Number(key.slice(1)) + 5);
      expect(await store.syncPartitionsDefinition("a", "fp2", shifted)).toBe(true);
      expect(await store.getPartitionRanges("a")).toEqual([{ start: 5, end: 13, status: "materialized" }]);
      const [k0] = await store.getPartitions("a", { keys: ["k0"] });
      expect(k0).toStrictEqual({ ...before[0]!, partitionIndex: 5 });
      const [k9] = await store.getPartitions("a", { keys: ["k9"] });
      expect(k9).toMatchObject({ partitionKey: "k9", partitionIndex: -1 });
      // The dropped key keeps its history, outside every range.
      expect(k9!.lastMaterialization).toStrictEqual(before[9]!.lastMaterialization);
      const ranges = await store.getPartitionRanges("a");
      expect(ranges.some((r) => r.start <= -1 && -1 <= r.end)).toBe(false);
      expect(ranges.every((r) => r.start >= 0)).toBe(true);
      expect(
        (await store.getPartitions("a", { startIndex: 0 })).map((r) => [r.partitionKey, r.partitionIndex]),
      ).toEqual(range(0, 8).map((i) => [keyOf(i), i + 5]));

      // Same new fingerprint again: nothing to do.
      expect(await store.syncPartitionsDefinition("a", "fp2", () => 0)).toBe(false);
      expect(await store.getPartitionRanges("a")).toEqual([{ start: 5, end: 13, status: "materialized" }]);
      expect((await store.getPartitions("a", { keys: ["k0"] }))[0]?.partitionIndex).toBe(5);

      // Later events use the new indices and merge with the re-indexed ranges.
      await store.createRun(partitionedRun("r2", ["a"], [14], { keys: ["k10"] }));
      await store.appendEvents([
        stepStarted("r2", "a", ["a"], T0 + 100),
        partitionMaterialization("r2", "a", 14, T0 + 101, { key: "k10" }),
      ]);
      expect(await store.getPartitionRanges("a")).toEqual([{ start: 5, end: 14, status: "materialized" }]);
    });

    it("rebuilds ranges with every status, and leaves other assets alone", async () => {
      const store = await open();
      expect(await store.syncPartitionsDefinition("a", "v1", (k) => Number(k.slice(1)))).toBe(true);
      await store.createRun(partitionedRun("r1", ["a", "b"], range(0, 9)));
      await store.appendEvents([
        ...successfulStep("r1", "a", range(0, 9), T0),
        ...successfulStep("r1", "b", range(0, 9), T0 + 50),
      ]);
      await store.createRun(partitionedRun("r2", ["a"], range(4, 5)));
      await store.appendEvents([
        stepStarted("r2", "a", ["a"], T0 + 100),
        stepFailed("r2", "a", ["a"], T0 + 101),
      ]);
      await store.createRun(partitionedRun("r3", ["a"], [8]));
      await store.appendEvents([stepStarted("r3", "a", ["a"], T0 + 200)]);
      const bRanges = await store.getPartitionRanges("b");

      // Reverse the order of the keys: index i becomes 9 - i; k0 and k1 are dropped.
      const reversed = (key: string) => {
        const i = Number(key.slice(1));
        return i < 2 ? -1 : 9 - i;
      };
      expect(await store.syncPartitionsDefinition("a", "v2", reversed)).toBe(true);
      const model = new Map<number, PartitionState>();
      for (const i of range(2, 9))
        model.set(9 - i, i === 4 || i === 5 ? "failed" : i === 8 ? "in_progress" : "materialized");
      expect(await store.getPartitionRanges("a")).toEqual(rangesOf(model));
      expect(await store.getPartitionRanges("a")).toEqual([
        { start: 0, end: 0, status: "materialized" },
        { start: 1, end: 1, status: "in_progress" },
        { start: 2, end: 3, status: "materialized" },
        { start: 4, end: 5, status: "failed" },
        { start: 6, end: 7, status: "materialized" },
      ]);
      const rows = await store.getPartitions("a");
      // Dropped keys (index -1) sort first; their order among themselves is unspecified.
      expect(
        rows
          .slice(0, 2)
          .map((r) => [r.partitionKey, r.partitionIndex])
          .sort(),
      ).toEqual([
        ["k0", -1],
        ["k1", -1],
      ]);
      expect(rows.slice(2).map((r) => [r.partitionKey, r.partitionIndex])).toEqual(
        range(0, 7).map((i) => [keyOf(9 - i), i]),
      );
      // The other asset was neither re-indexed nor rebuilt.
      expect(await store.getPartitionRanges("b")).toEqual(bRanges);
      expect(indicesOf(await store.getPartitions("b"))).toEqual(range(0, 9));
    });
  });

  describe("dynamic partitions", () => {
    it("add returns only new keys, get keeps insertion order, remove returns what it removed", async () => {
      const store = await open();
      expect(await store.getDynamicPartitions("customers")).toEqual([]);
      expect(await store.addDynamicPartitions("customers", ["acme", "globex", "acme", "initech"])).toEqual([
        "acme",
        "globex",
        "initech",
      ]);
      expect(
        await store.addDynamicPartitions("customers", ["globex", "zeta", "hooli", "zeta", "acme"]),
      ).toEqual(["zeta", "hooli"]);
      expect(await store.addDynamicPartitions("customers", ["acme"])).toEqual([]);
      expect(await store.addDynamicPartitions("customers", [])).toEqual([]);
      expect(await store.getDynamicPartitions("customers")).toEqual([
        "acme",
        "globex",
        "initech",
        "zeta",
        "hooli",
      ]);

      const removed = await store.removeDynamicPartitions("customers", [
        "globex",
        "unknown",
        "hooli",
        "globex",
      ]);
      expect([...removed].sort()).toEqual(["globex", "hooli"]);
      expect(await store.removeDynamicPartitions("customers", ["unknown", "globex"])).toEqual([]);
      expect(await store.removeDynamicPartitions("customers", [])).toEqual([]);
      expect(await store.getDynamicPartitions("customers")).toEqual(["acme", "initech", "zeta"]);

      // Re-adding a removed key puts it at the end.
      expect(await store.addDynamicPartitions("customers", ["globex"])).toEqual(["globex"]);
      expect(await store.getDynamicPartitions("customers")).toEqual(["acme", "initech", "zeta", "globex"]);
    });

    it("names are independent", async () => {
      const store = await open();
      expect(await store.addDynamicPartitions("one", ["x", "y"])).toEqual(["x", "y"]);
      expect(await store.addDynamicPartitions("two", ["y", "x", "z"])).toEqual(["y", "x", "z"]);
      expect(await store.getDynamicPartitions("one")).toEqual(["x", "y"]);
      expect(await store.getDynamicPartitions("two")).toEqual(["y", "x", "z"]);
      expect(await store.removeDynamicPartitions("one", ["x", "z"])).toEqual(["x"]);
      expect(await store.getDynamicPartitions("one")).toEqual(["y"]);
      expect(await store.getDynamicPartitions("two")).toEqual(["y", "x", "z"]);
      expect(await store.getDynamicPartitions("three")).toEqual([]);
    });

    it("handles more keys than fit in one insert, and awkward key text", async () => {
      const store = await open();
      const keys = Array.from({ length: 2500 }, (_, i) => `key-${String(i).padStart(4, "0")}`);
      const awkward = ["", "é 🚕", "with 'quote'", 'and "double"', "a,b", "%_", "null"];
      expect(await store.addDynamicPartitions("many", [...keys, ...awkward])).toEqual([...keys, ...awkward]);
      expect(await store.getDynamicPartitions("many")).toEqual([...keys, ...awkward]);
      expect([...(await store.removeDynamicPartitions("many", awkward))].sort()).toEqual([...awkward].sort());
      expect(await store.getDynamicPartitions("many")).toEqual(keys);
    });
  });

  describe("many keys in one call", () => {
    // More keys than one statement can bind (SQLite: 32,766 variables; Postgres: 65,535 parameters).
    const MANY = 70_000;
    const manyKeys = () => Array.from({ length: MANY }, (_, i) => `customer-${i}`);

    it(`removeDynamicPartitions removes ${MANY} keys at once`, async () => {
      const store = await open();
      const keys = manyKeys();
      expect((await store.addDynamicPartitions("big", keys)).length).toBe(MANY);
      expect((await store.getDynamicPartitions("big")).length).toBe(MANY);
      const removed = await store.removeDynamicPartitions("big", [...keys, "unknown"]);
      expect(removed.length).toBe(MANY);
      expect(await store.getDynamicPartitions("big")).toEqual([]);
    }, 60_000);

    it(`getPartitions filters by ${MANY} keys at once`, async () => {
      const store = await open();
      const keys = manyKeys();
      await store.createRun(partitionedRun("r1", ["a"], [0, 1, 2], { keys: keys.slice(0, 3) }));
      await store.appendEvents([stepStarted("r1", "a", ["a"], T0)]);
      const rows = await store.getPartitions("a", { keys: [...keys].reverse() });
      expect(rows.map((r) => r.partitionKey)).toEqual(keys.slice(0, 3));
      // Like a short key list, a repeated key yields its row once, wherever the repeats are.
      const repeated = [keys[1]!, keys[0]!, ...[...keys].reverse(), keys[2]!];
      expect((await store.getPartitions("a", { keys: repeated })).map((r) => r.partitionKey)).toEqual(
        keys.slice(0, 3),
      );
      expect(
        (await store.getPartitions("a", { keys: repeated, limit: 2 })).map((r) => r.partitionIndex),
      ).toEqual([0, 1]);
    }, 60_000);
  });

  describe("backfills", () => {
    const backfill = (
      backfillId: string,
      overrides: Partial<Omit<BackfillRecord, "updatedAt" | "endedAt" | "error">> = {},
    ): Omit<BackfillRecord, "updatedAt" | "endedAt" | "error"> => ({
      backfillId,
      status: "REQUESTED",
      selection: "daily_trips+",
      assetKeys: ["daily_trips", "daily_summary"],
      partitionKeys: ["2024-01-01", "2024-01-02", "2024-01-03"],
      options: {
        force: true,
        tags: { team: "data", "baton/priority": "5" },
        config: { ops: { daily_trips: { config: { limit: 10, list: [1, "two", null] } } } },
        policy: { maxPartitionsPerRun: 2, mode: "multi_run" },
        parentBackfillId: null,
        note: "é 🚕",
      },
      counts: { targeted: 6, materialized: 0, failed: 0, skipped: 0, canceled: 0, runs: 0 },
      createdAt: T0,
      ...overrides,
    });

    it("createBackfill/getBackfill round-trips every field", async () => {
      const store = await open();
      const b = backfill("bf-1");
      await store.createBackfill(b);
      expect(await store.getBackfill("bf-1")).toStrictEqual({
        ...b,
        error: null,
        updatedAt: T0,
        endedAt: null,
      });
      expect(await store.getBackfill("unknown")).toBeUndefined();

      await store.createBackfill(
        backfill("bf-empty", { assetKeys: [], partitionKeys: [], options: {}, counts: ZERO_COUNTS }),
      );
      expect(await store.getBackfill("bf-empty")).toMatchObject({
        assetKeys: [],
        partitionKeys: [],
        options: {},
        counts: ZERO_COUNTS,
      });
    });

    it("listBackfills lists newest first and pages by cursor: 10, 10, 5", async () => {
      const store = await open();
      const ids = range(0, 24).map((i) => `bf-${String(i).padStart(2, "0")}`);
      for (const [i, id] of ids.entries()) await store.createBackfill(backfill(id, { createdAt: T0 + i }));

      const pages: string[][] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await store.listBackfills({ limit: 10, ...(cursor !== undefined ? { cursor } : {}) });
        pages.push(page.backfills.map((b) => b.backfillId));
        if (page.nextCursor === null) break;
        expect(typeof page.nextCursor).toBe("string");
        cursor = page.nextCursor;
        expect(pages.length).toBeLessThan(4);
      }
      expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
      expect(pages.flat()).toEqual([...ids].reverse());

      const all = await store.listBackfills();
      expect(all.nextCursor).toBeNull();
      expect(all.backfills.map((b) => b.backfillId)).toEqual([...ids].reverse());
      expect(all.backfills[0]).toStrictEqual(await store.getBackfill("bf-24"));
      await expect(store.listBackfills({ cursor: "nope" })).rejects.toBeInstanceOf(StorageError);
    });

    it("updateBackfill patches status, counts, error and endedAt, and bumps updatedAt", async () => {
      const store = await open();
      await store.createBackfill(backfill("bf-1"));
      await store.createBackfill(backfill("bf-2"));
      const untouched = await store.getBackfill("bf-2");

      const beforeRunning = Date.now();
      const running: BackfillCounts = {
        targeted: 6,
        materialized: 2,
        failed: 0,
        skipped: 0,
        canceled: 0,
        runs: 1,
      };
      await store.updateBackfill("bf-1", { status: "RUNNING", counts: running });
      const afterRunning = (await store.getBackfill("bf-1"))!;
      expect(afterRunning).toStrictEqual({
        ...backfill("bf-1"),
        status: "RUNNING",
        counts: running,
        error: null,
        endedAt: null,
        updatedAt: afterRunning.updatedAt,
      });
      expect(afterRunning.updatedAt).toBeGreaterThan(T0);
      expect(afterRunning.updatedAt).toBeGreaterThanOrEqual(beforeRunning);

      await store.updateBackfill("bf-1", { status: "FAILED", error: "run r3 failed", endedAt: T0 + 500 });
      const failed = (await store.getBackfill("bf-1"))!;
      expect(failed).toMatchObject({
        status: "FAILED",
        counts: running,
        error: "run r3 failed",
        endedAt: T0 + 500,
      });
      expect(failed.updatedAt).toBeGreaterThanOrEqual(afterRunning.updatedAt);

      // null clears; omitted fields stay.
      await store.updateBackfill("bf-1", { error: null, endedAt: null });
      expect(await store.getBackfill("bf-1")).toMatchObject({
        status: "FAILED",
        counts: running,
        error: null,
        endedAt: null,
      });
      expect(await store.getBackfill("bf-2")).toStrictEqual(untouched);
    });

    it("listRuns({ backfillId }) returns only that backfill's runs, newest first", async () => {
      const store = await open();
      await store.createBackfill(backfill("bf-1"));
      await store.createBackfill(backfill("bf-2"));
      const runs: [string, string | null][] = [
        ["r1", "bf-1"],
        ["r2", "bf-2"],
        ["r3", null],
        ["r4", "bf-1"],
        ["r5", "bf-1"],
      ];
      for (const [runId, backfillId] of runs)
        await store.createRun(
          partitionedRun(runId, ["daily_trips"], [0], { backfillId, keys: ["2024-01-01"] }),
        );

      const one = await store.listRuns({ backfillId: "bf-1" });
      expect(one.runs.map((r) => r.runId)).toEqual(["r5", "r4", "r1"]);
      expect(one.runs.every((r) => r.backfillId === "bf-1")).toBe(true);
      expect((await store.listRuns({ backfillId: "bf-2" })).runs.map((r) => r.runId)).toEqual(["r2"]);
      expect((await store.listRuns({ backfillId: "bf-none" })).runs).toEqual([]);
      expect((await store.listRuns()).runs.map((r) => r.runId)).toEqual(["r5", "r4", "r3", "r2", "r1"]);

      const first = await store.listRuns({ backfillId: "bf-1", limit: 2 });
      expect(first.runs.map((r) => r.runId)).toEqual(["r5", "r4"]);
      const second = await store.listRuns({ backfillId: "bf-1", limit: 2, cursor: first.nextCursor! });
      expect(second.runs.map((r) => r.runId)).toEqual(["r1"]);
      expect(second.nextCursor).toBeNull();
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Run the contract for every backend
// ---------------------------------------------------------------------------------------------------------

for (const backend of storageBackends()) {
  describe.skipIf(backend.skipReason !== null)(`storage partitions contract: ${backend.name}`, () => {
    let current: StorageLocation | undefined;
    const opened: OpenedStorage[] = [];

    beforeAll(() => backend.start());
    afterAll(() => backend.stop());
    beforeEach(async () => {
      current = await backend.createLocation();
    });
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close().catch(() => {});
      if (current !== undefined) await backend.destroyLocation(current);
      current = undefined;
    });

    const open = async () => {
      if (current === undefined) throw new Error("no store location: open() called outside a test");
      const store = await openStorage(current.options);
      opened.push(store);
      return store;
    };

    partitionsContract(open);
  });
}
