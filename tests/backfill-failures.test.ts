/**
 * Why each failed unit of a backfill failed: the failed step's first error, or the failed blocking
 * check's name and description, per run (one partition, or a chunk of them). Real SQLite store.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  asset,
  assetCheck,
  type BatonInstance,
  dailyPartitions,
  defineDefinitions,
  describeBackfillFailure,
  listBackfillFailures,
  openInstance,
} from "../packages/core/src/internal.js";

const days = dailyPartitions({ start: "2024-01-01", end: "2024-01-11" });
const raw = asset({ key: "raw", partitions: days }, (ctx) => {
  if (ctx.partitionKey === "2024-01-03") throw new Error("upstream file missing for 2024-01-03");
  return ctx.partitionKey === "2024-01-06" ? -1 : 1;
});
const positive = assetCheck({ asset: raw, name: "positive", blocking: true }, (_ctx, value) => ({
  passed: (value as number) > 0,
  ...((value as number) > 0 ? {} : { description: `value ${value} is not positive` }),
}));
const clean = asset({ key: "clean", partitions: days, ins: { raw } }, (_ctx, { raw }) => raw);
const defs = defineDefinitions({ assets: [raw, clean], checks: [positive] });

let home: string;
let instance: BatonInstance;
beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), "baton-backfill-failures-"));
  instance = await openInstance({ home, env: {} });
});
afterAll(async () => {
  await instance?.close();
  await rm(home, { recursive: true, force: true });
});

describe("backfill failures: the first error of each failed unit", () => {
  it("one run per partition: a throwing step and a failed blocking check, oldest first", async () => {
    const created = await instance.createBackfill(defs, { selection: "raw+", partitions: { which: "all" } });
    const done = await instance.runBackfill(defs, created.backfillId, { concurrency: 1 });
    expect(done.status).toBe("FAILED");
    const { failures, failedRuns } = await listBackfillFailures(instance.storage, created.backfillId);
    expect(failedRuns).toBe(2);
    expect(failures).toEqual([
      {
        runId: expect.any(String),
        assetKeys: ["raw", "clean"],
        partitionKeys: ["2024-01-03"],
        kind: "step",
        stepKey: "raw",
        checkName: null,
        message: "upstream file missing for 2024-01-03",
      },
      {
        runId: expect.any(String),
        assetKeys: ["raw", "clean"],
        partitionKeys: ["2024-01-06"],
        kind: "check",
        stepKey: "raw:positive",
        checkName: "positive",
        message: "value -1 is not positive",
      },
    ]);
    expect(failures.map(describeBackfillFailure)).toEqual([
      `2024-01-03: step "raw" failed: upstream file missing for 2024-01-03 (run ${failures[0]!.runId})`,
      `2024-01-06: blocking check "raw:positive" failed: value -1 is not positive (run ${failures[1]!.runId})`,
    ]);
    // A limit reads fewer runs' events but still counts every failed run.
    const first = await listBackfillFailures(instance.storage, created.backfillId, { limit: 1 });
    expect(first.failedRuns).toBe(2);
    expect(first.failures.map((f) => f.partitionKeys)).toEqual([["2024-01-03"]]);
  });

  it("chunks: the failed run's range, and a backfill without failures has none", async () => {
    const chunky = asset({ key: "chunky", partitions: days }, (ctx) => {
      if (ctx.partitionKeys.includes("2024-01-03")) throw new Error("bad rows in 2024-01-03");
      // A run over several partitions returns a value per partition.
      return Object.fromEntries(ctx.partitionKeys.map((k) => [k, 1])) as unknown as number;
    });
    const chunkDefs = defineDefinitions({ assets: [chunky] });
    const created = await instance.createBackfill(chunkDefs, {
      selection: "chunky",
      partitions: { range: { from: "2024-01-01", to: "2024-01-10" } },
      chunkSize: 5,
    });
    await instance.runBackfill(chunkDefs, created.backfillId);
    const { failures, failedRuns } = await listBackfillFailures(instance.storage, created.backfillId);
    expect(failedRuns).toBe(1);
    expect(failures.map(describeBackfillFailure)).toEqual([
      expect.stringMatching(
        /^2024-01-01 … 2024-01-05 \(5\): step "chunky" failed: bad rows in 2024-01-03 \(run [0-9a-f-]{36}\)$/,
      ),
    ]);

    const fine = await instance.createBackfill(defs, {
      selection: "raw",
      partitions: { keys: ["2024-01-01"] },
    });
    await instance.runBackfill(defs, fine.backfillId);
    expect(await listBackfillFailures(instance.storage, fine.backfillId)).toEqual({
      failures: [],
      failedRuns: 0,
    });
  });
});
