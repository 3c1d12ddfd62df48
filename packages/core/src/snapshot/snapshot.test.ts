import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { asset } from "../definitions/asset.js";
import { assetCheck } from "../definitions/asset-check.js";
import { eager } from "../definitions/automation-condition.js";
import { defineDefinitions } from "../definitions/definitions.js";
import { assetJob } from "../definitions/job.js";
import { multiAsset } from "../definitions/multi-asset.js";
import { multiPartitions } from "../definitions/partitions/multi-partitions.js";
import type { PartitionsDefinition } from "../definitions/partitions/partitions.js";
import { dynamicPartitions, staticPartitions } from "../definitions/partitions/static-partitions.js";
import {
  dailyPartitions,
  hourlyPartitions,
  monthlyPartitions,
  timeWindowPartitions,
  weeklyPartitions,
} from "../definitions/partitions/time-window.js";
import { resource } from "../definitions/resource.js";
import { schedule } from "../definitions/schedule.js";
import { sensor } from "../definitions/sensor.js";
import { resolveSelection } from "../graph/selection.js";
import { openInstance } from "../instance/instance.js";
import { definitionsFromSnapshot } from "./from-snapshot.js";
import { partitionsFromSpec, partitionsSpec } from "./partitions-spec.js";
import { publishSnapshot, readSnapshot, SNAPSHOT_KEY, snapshotOf } from "./snapshot.js";

const cases: [string, PartitionsDefinition][] = [
  ["static", staticPartitions(["a", "b", "c"])],
  ["dynamic", dynamicPartitions({ name: "customers" })],
  [
    "hourly with minuteOffset",
    hourlyPartitions({ start: "2024-01-01", minuteOffset: 15, timezone: "Asia/Kolkata" }),
  ],
  [
    "daily with hourOffset and end",
    dailyPartitions({ start: "2024-01-01", end: "2024-03-01", hourOffset: 6 }),
  ],
  [
    "weekly with dayOffset",
    weeklyPartitions({ start: "2024-01-01", dayOffset: 1, timezone: "America/New_York" }),
  ],
  [
    "monthly with format and endOffset",
    monthlyPartitions({ start: "2019-01", format: "YYYY.MM", endOffset: 1 }),
  ],
  ["cron", timeWindowPartitions({ start: "2024-01-01", cron: "0 9 * * 1-5", timezone: "Europe/Paris" })],
  [
    "multi",
    multiPartitions({
      month: monthlyPartitions({ start: "2019-01", end: "2021-08" }),
      taxi: staticPartitions(["yellow", "green"]),
    }),
  ],
];

describe("partitions specs", () => {
  it.each(cases)("%s: rebuilt from its JSON spec with the same fingerprint and keys", (_name, def) => {
    const spec = JSON.parse(JSON.stringify(partitionsSpec(def)));
    const rebuilt = partitionsFromSpec(spec);
    expect(rebuilt.fingerprint).toBe(def.fingerprint);
    expect(rebuilt.describeFormat()).toBe(def.describeFormat());
    const ctx = { now: Date.parse("2024-06-15T12:00:00Z"), dynamicKeys: () => ["acme", "globex"] };
    const a = def.resolve(ctx);
    const b = rebuilt.resolve(ctx);
    expect(b.count()).toBe(a.count());
    expect([...b.keys(0, Math.min(5, b.count()))]).toEqual([...a.keys(0, Math.min(5, a.count()))]);
    if (a.count() > 0) expect(b.keyAt(b.count() - 1)).toBe(a.keyAt(a.count() - 1));
  });
});

describe("definitions snapshot", () => {
  const days = dailyPartitions({ start: "2024-01-01", end: "2024-02-01" });
  const raw = asset(
    {
      key: "shop/raw",
      group: "ingest",
      owners: ["data@x.com"],
      tags: { team: "data" },
      kinds: ["duckdb"],
      partitions: days,
      config: z.object({ limit: z.number().int().default(10) }),
      codeVersion: "3",
    },
    async () => 1,
  );
  const report = asset(
    { key: "shop/report", deps: ["shop/raw"], automation: eager(), freshness: { maxLagMinutes: 60 } },
    async () => 2,
  );
  const defs = defineDefinitions({
    assets: [raw, report],
    checks: [assetCheck({ asset: raw, name: "non_empty", blocking: true }, async () => ({ passed: true }))],
    resources: {
      secret_api: resource({ description: "the API", setup: () => ({ token: "s3cret" }) }),
      settings: { region: "eu", password: "hunter2", nested: { apiKey: "k3y", retries: 3 } },
    },
    jobs: [assetJob({ name: "all", selection: "*" })],
    schedules: [schedule({ name: "nightly", cron: "0 2 * * *", job: "all" })],
    sensors: [sensor({ name: "poke", selection: "shop/report", evaluate: () => undefined })],
  });

  it("describes assets, partitions, config schema, checks, automation and instigators as JSON", () => {
    const snap = snapshotOf(defs, 1000);
    expect(snap.assets.map((a) => a.key)).toEqual(["shop/raw", "shop/report"]);
    const [r, rep] = snap.assets;
    expect(r).toMatchObject({
      group: "ingest",
      owners: ["data@x.com"],
      tags: { team: "data" },
      kinds: ["duckdb"],
      codeVersion: "3",
      parents: [],
      computation: { name: "shop/raw", kind: "asset", assetKeys: ["shop/raw"], canSubset: false },
      partitions: {
        kind: "time",
        unit: "day",
        start: "2024-01-01T00:00:00.000Z",
        end: "2024-02-01T00:00:00.000Z",
      },
      checks: [{ name: "non_empty", blocking: true }],
      automation: null,
    });
    expect(r!.configSchema).toMatchObject({
      type: "object",
      properties: { limit: { type: "integer", default: 10 } },
    });
    expect(rep).toMatchObject({
      parents: ["shop/raw"],
      automation: "eager",
      freshness: { maxLagMinutes: 60 },
      configSchema: null,
    });
    expect(snap.jobs).toEqual([{ name: "all", selection: "*", description: null }]);
    expect(snap.schedules[0]).toMatchObject({
      name: "nightly",
      cron: "0 2 * * *",
      target: { job: "all" },
      defaultStatus: "STOPPED",
    });
    expect(snap.sensors[0]).toMatchObject({
      name: "poke",
      type: "custom",
      target: { selection: "shop/report" },
    });
    expect(snap.resources).toEqual([
      { name: "secret_api", description: "the API", config: null },
      {
        name: "settings",
        description: null,
        config: { region: "eu", password: "***", nested: { apiKey: "***", retries: 3 } },
      },
    ]);
    for (const secret of ["s3cret", "hunter2", "k3y"]) expect(JSON.stringify(snap)).not.toContain(secret);
  });

  it("has a hash that depends on the definitions, not on when it was taken", () => {
    expect(snapshotOf(defs, 1).hash).toBe(snapshotOf(defs, 2).hash);
    const other = defineDefinitions({ assets: [asset({ key: "x" }, () => 1)] });
    expect(snapshotOf(other).hash).not.toBe(snapshotOf(defs).hash);
  });

  it("is published to the store once per hash, and read back", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), "baton-snapshot-"));
    const instance = await openInstance({ home, env: {} });
    try {
      expect(await readSnapshot(instance.storage)).toBeUndefined();
      await publishSnapshot(instance.storage, defs, 1000);
      const first = await readSnapshot(instance.storage);
      expect(first?.publishedAt).toBe(1000);
      await publishSnapshot(instance.storage, defs, 2000);
      expect((await readSnapshot(instance.storage))?.publishedAt).toBe(1000); // same hash: kept
      await publishSnapshot(
        instance.storage,
        defineDefinitions({ assets: [asset({ key: "x" }, () => 1)] }),
        3000,
      );
      const third = await readSnapshot(instance.storage);
      expect(third?.assets.map((a) => a.key)).toEqual(["x"]);
      await instance.storage.setValue(SNAPSHOT_KEY, "{not json", 4000);
      await publishSnapshot(instance.storage, defs, 5000);
      expect((await readSnapshot(instance.storage))?.hash).toBe(first?.hash);
    } finally {
      await instance.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe("definitions rebuilt from a snapshot", () => {
  const months = monthlyPartitions({ start: "2019-01", end: "2019-07" });
  const trips = multiPartitions({ month: months, taxi: staticPartitions(["yellow", "green"]) });
  const raw = asset(
    { key: "taxi/raw", partitions: trips, config: z.object({ landing: z.string().default("landing") }) },
    async () => 1,
  );
  const revenue = asset({ key: "taxi/revenue", ins: { raw }, partitions: months }, async () => 2);
  const summaries = multiAsset(
    {
      name: "summaries",
      outs: { a: { key: "taxi/summary_a", deps: ["taxi/revenue"] }, b: { key: "taxi/summary_b" } },
      canSubset: true,
    },
    async () => ({ a: 1, b: 2 }),
  );
  const original = defineDefinitions({
    assets: [raw, revenue, summaries],
    checks: [assetCheck({ asset: raw, name: "non_empty" }, async () => ({ passed: true }))],
    jobs: [assetJob({ name: "monthly", selection: "taxi/raw*" })],
  });
  const rebuilt = definitionsFromSnapshot(JSON.parse(JSON.stringify(snapshotOf(original))));

  it("has the same graph, partitions, checks, jobs and selections", () => {
    expect([...rebuilt.graph.keys].sort()).toEqual([...original.graph.keys].sort());
    for (const key of original.graph.keys) {
      expect(rebuilt.graph.parents(key)).toEqual(original.graph.parents(key));
      expect(rebuilt.computationOf(key).name).toBe(original.computationOf(key).name);
      expect(rebuilt.computationOf(key).partitions?.fingerprint).toBe(
        original.computationOf(key).partitions?.fingerprint,
      );
      expect(rebuilt.checksFor(key).map((c) => c.key)).toEqual(original.checksFor(key).map((c) => c.key));
    }
    expect([...resolveSelection("taxi/raw*", rebuilt.graph)].sort()).toEqual(
      [...resolveSelection("taxi/raw*", original.graph)].sort(),
    );
    expect(rebuilt.job("monthly")?.selection).toBe("taxi/raw*");
  });

  it("validates and queues runs like the original: partition keys, config, subsetting", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), "baton-snapshot-launch-"));
    const instance = await openInstance({ home, env: {} });
    try {
      const run = await instance.launchRun(rebuilt, {
        selection: "taxi/raw",
        partitions: { keys: ["2019-02|green"] },
        config: { "taxi/raw": { landing: "/data" } },
      });
      expect(run).toMatchObject({
        status: "QUEUED",
        partitionKeys: ["2019-02|green"],
        assetKeys: ["taxi/raw"],
      });
      expect(run.request?.checkKeys).toEqual(["taxi/raw:non_empty"]);
      await expect(
        instance.launchRun(rebuilt, { selection: "taxi/raw", partitions: { keys: ["2019-13|green"] } }),
      ).rejects.toThrow(/2019-13\|green/);
      await expect(
        instance.launchRun(rebuilt, {
          selection: "taxi/raw",
          partitions: { keys: ["2019-02|green"] },
          config: { "taxi/raw": { landing: 5 } },
        }),
      ).rejects.toThrow(/landing/);
      const sub = await instance.launchRun(rebuilt, { selection: "taxi/summary_b" });
      expect(sub.assetKeys).toEqual(["taxi/summary_b"]);
      const backfill = await instance.createBackfill(rebuilt, {
        selection: "taxi/raw*",
        partitions: { range: { from: "2019-01|yellow", to: "2019-02|green" } },
        daemon: true,
      });
      expect(backfill).toMatchObject({ status: "REQUESTED", options: { daemon: true } });
      expect(backfill.partitionKeys.length).toBeGreaterThan(1);
    } finally {
      await instance.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});
