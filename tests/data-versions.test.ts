/**
 * Data versions: each materialization records its data version (the body's `dataVersion`, else the
 * IO manager's: a content hash for the default fs IO manager and for DuckDB) and the versions of
 * the inputs it read; an upstream re-materialized with the same content does not make downstream
 * stale, a changed one does ("data version changed"), and unknown versions fall back to
 * materialization order. Core staleness, the webserver's bulk graph status, and the NYC taxi
 * example (re-materializing `taxi/zones`, dropping a month, dropping one twice).
 *
 * The core part uses the sources; the graph-status and example parts use the BUILT packages
 * (`npm run build -w @baton/core`, as the example imports `@baton/core`).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadKeySpaces } from "../packages/core/src/instance/run-partitions-request.js";
import {
  asset,
  type BatonInstance,
  createStalenessResolver,
  type Definitions,
  dailyPartitions,
  defineDefinitions,
  hourlyPartitions,
  type IOManager,
  openInstance,
  resource,
  type StaleReason,
} from "../packages/core/src/internal.js";

const ISO = String.raw`\d{4}-\d\d-\d\dT[\d:.]+Z`;

const opened: { home: string; instance: { close(): Promise<void> } }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.instance.close();
    await rm(o.home, { recursive: true, force: true });
  }
});

async function open(): Promise<BatonInstance> {
  const home = await mkdtemp(path.join(tmpdir(), "baton-data-versions-"));
  const instance = await openInstance({ home, env: {} });
  opened.push({ home, instance });
  return instance;
}

async function whyOf(instance: BatonInstance, defs: Definitions, key: string, partition: string | null) {
  const spaces = await loadKeySpaces(defs, instance.storage, Date.now());
  return createStalenessResolver(defs, instance.storage, spaces).staleness(key, partition);
}

/** A body's value for one partition, or keyed by partition when the run covers several. */
function perPartition<T>(keys: readonly string[], one: (key: string) => T): T {
  if (keys.length === 1) return one(keys[0]!);
  return Object.fromEntries(keys.map((k) => [k, one(k)])) as T;
}

async function ok(summary: Promise<{ status: string; runId: string }>) {
  const s = await summary;
  expect(s.status, s.runId).toBe("SUCCESS");
  return s;
}

describe("core staleness with data versions (fs IO manager)", () => {
  /** zones (a lookup) → trips (daily) and → report (unpartitioned); hourly raw → daily clean. */
  function graph(state: { zones: number[]; hour5: number }) {
    const days = dailyPartitions({ start: "2024-01-01", end: "2024-01-03" });
    const hours = hourlyPartitions({ start: "2024-01-01", end: "2024-01-02" });
    const zones = asset({ key: "zones" }, () => state.zones);
    const trips = asset({ key: "trips", partitions: days, ins: { zones } }, (ctx, { zones }) =>
      perPartition(ctx.partitionKeys, (day) => ({ day, zones: zones.length })),
    );
    const report = asset({ key: "report", ins: { zones } }, (_ctx, { zones }) => zones.length);
    const raw = asset({ key: "raw", partitions: hours }, (ctx) =>
      perPartition(ctx.partitionKeys, (hour) => (hour.endsWith("05:00") ? state.hour5 : 1)),
    );
    const clean = asset(
      { key: "clean", partitions: days, ins: { raw } },
      (_ctx, { raw }) => Object.keys(raw).length,
    );
    return defineDefinitions({ assets: [zones, trips, report, raw, clean] });
  }

  async function materialized(state: { zones: number[]; hour5: number }) {
    const instance = await open();
    const defs = graph(state);
    await ok(instance.materialize(defs, { selection: "zones,report" }));
    await ok(
      instance.materialize(defs, {
        selection: "trips",
        partitions: { range: { from: "2024-01-01", to: "2024-01-02" } },
      }),
    );
    await ok(
      instance.materialize(defs, {
        selection: "raw",
        partitions: { range: { from: "2024-01-01-00:00", to: "2024-01-01-23:00" } },
      }),
    );
    await ok(instance.materialize(defs, { selection: "clean", partitions: { keys: ["2024-01-01"] } }));
    return { instance, defs };
  }

  it("records the value's content hash and the versions each materialization read", async () => {
    const { instance } = await materialized({ zones: [1, 2, 3], hour5: 5 });
    const [zones] = await instance.storage.getAssetStatuses(["zones"]);
    const zonesVersion = zones!.lastMaterialization!.dataVersion!;
    expect(zonesVersion).toMatch(/^[0-9a-f]{16}$/);
    // Read in the same run (report) and from the store in a later run (trips): the same version.
    const [report] = await instance.storage.getAssetStatuses(["report"]);
    expect(report!.lastMaterialization!.inputDataVersions).toEqual({ zones: zonesVersion });
    const [day] = await instance.storage.getPartitions("trips", { keys: ["2024-01-01"] });
    expect(day!.lastMaterialization!.inputDataVersions).toEqual({ zones: zonesVersion });
    // A partitioned input: one version per upstream partition read (24 hours).
    const [cleanDay] = await instance.storage.getPartitions("clean", { keys: ["2024-01-01"] });
    const read = cleanDay!.lastMaterialization!.inputDataVersions!.raw as Record<string, string>;
    expect(Object.keys(read)).toHaveLength(24);
    const [hour5] = await instance.storage.getPartitions("raw", { keys: ["2024-01-01-05:00"] });
    expect(read["2024-01-01-05:00"]).toBe(hour5!.lastMaterialization!.dataVersion);
    // The materialization event carries them too.
    const [event] = await instance.storage.getMaterializations("report", { limit: 1 });
    expect(event).toMatchObject({
      dataVersion: expect.any(String),
      inputDataVersions: { zones: zonesVersion },
    });
  });

  it("an unpartitioned upstream re-materialized with the same value leaves downstream fresh; a changed one makes it stale", async () => {
    const state = { zones: [1, 2, 3], hour5: 5 };
    const { instance, defs } = await materialized(state);
    await ok(instance.materialize(defs, { selection: "zones" }));
    for (const [key, partition] of [
      ["trips", "2024-01-01"],
      ["trips", "2024-01-02"],
      ["report", null],
    ] as const) {
      const s = await whyOf(instance, defs, key, partition);
      expect([key, partition, s.status, s.reasons]).toEqual([key, partition, "fresh", []]);
    }

    state.zones = [1, 2, 3, 4];
    await ok(instance.materialize(defs, { selection: "zones" }));
    const day = await whyOf(instance, defs, "trips", "2024-01-02");
    expect(day.status).toBe("stale");
    expect(day.reasons).toEqual([
      {
        kind: "upstream_newer",
        assetKey: "trips",
        partition: "2024-01-02",
        upstream: "zones",
        upstreamPartitions: [],
        message: expect.stringMatching(
          new RegExp(
            `^upstream zones data version changed since trips \\[2024-01-02\\] was materialized \\(${ISO}\\)$`,
          ),
        ),
      } satisfies StaleReason,
    ]);
    const report = await whyOf(instance, defs, "report", null);
    expect(report.reasons.map((r) => r.message)).toEqual([
      expect.stringMatching(
        new RegExp(`^upstream zones data version changed since report was materialized \\(${ISO}\\)$`),
      ),
    ]);

    // Back to the content trips last read: fresh again (versions compare content, not time).
    state.zones = [1, 2, 3];
    await ok(instance.materialize(defs, { selection: "zones" }));
    expect((await whyOf(instance, defs, "trips", "2024-01-02")).status).toBe("fresh");
  });

  it("a partitioned upstream: the same hour again leaves the day fresh; a changed hour names that hour", async () => {
    const state = { zones: [1], hour5: 5 };
    const { instance, defs } = await materialized(state);
    const hour = { selection: "raw", partitions: { keys: ["2024-01-01-05:00"] } };
    await ok(instance.materialize(defs, hour));
    expect(await whyOf(instance, defs, "clean", "2024-01-01")).toMatchObject({
      status: "fresh",
      reasons: [],
    });

    state.hour5 = 6;
    await ok(instance.materialize(defs, hour));
    const day = await whyOf(instance, defs, "clean", "2024-01-01");
    expect(day.status).toBe("stale");
    expect(day.reasons).toEqual([
      expect.objectContaining({
        kind: "upstream_newer",
        upstream: "raw",
        upstreamPartitions: ["2024-01-01-05:00"],
        message: expect.stringMatching(
          new RegExp(
            `^upstream raw \\[2024-01-01-05:00\\] data version changed since clean \\[2024-01-01\\] was materialized \\(${ISO}\\)$`,
          ),
        ),
      }),
    ]);
    // Re-materializing the day records the new version: fresh.
    await ok(instance.materialize(defs, { selection: "clean", partitions: { keys: ["2024-01-01"] } }));
    expect((await whyOf(instance, defs, "clean", "2024-01-01")).status).toBe("fresh");
  });

  it("a body's { value, dataVersion } wins over the content hash", async () => {
    const instance = await open();
    let version = "v1";
    let n = 0;
    const source = asset({ key: "source" }, () => ({ value: ++n, dataVersion: version }));
    const down = asset({ key: "down", ins: { source } }, (_ctx, { source }) => source * 2);
    const defs = defineDefinitions({ assets: [source, down] });
    await ok(instance.materialize(defs, {}));
    // A different value under the same declared version: downstream stays fresh.
    await ok(instance.materialize(defs, { selection: "source" }));
    const [stored] = await instance.storage.getAssetStatuses(["source"]);
    expect(stored!.lastMaterialization!.dataVersion).toBe("v1");
    expect((await whyOf(instance, defs, "down", null)).status).toBe("fresh");
    version = "v2";
    await ok(instance.materialize(defs, { selection: "source" }));
    expect((await whyOf(instance, defs, "down", null)).reasons.map((r) => r.message)).toEqual([
      expect.stringMatching(/^upstream source data version changed since down was materialized/),
    ]);
  });

  it("a bad dataVersion fails the step, saying what was returned and what is expected", async () => {
    const instance = await open();
    const bad = asset({ key: "bad" }, () => ({ value: 1, dataVersion: 42 as unknown as string }));
    const summary = await instance.materialize(defineDefinitions({ assets: [bad] }), {});
    expect(summary.status).toBe("FAILURE");
    const step = summary.steps.find((s) => s.stepKey === "bad")!;
    expect(step.error?.message).toContain(
      '"bad" returned dataVersion of type number; expected a non-empty string of at most 200 characters',
    );
  });

  it("unknown versions (an IO manager that reports none) fall back to materialization order", async () => {
    const instance = await open();
    const values = new Map<string, unknown>();
    const memory: IOManager = {
      async handleOutput(ctx, value) {
        values.set(ctx.assetKey, value);
        return undefined;
      },
      async loadInput(ctx) {
        return values.get(ctx.assetKey);
      },
    };
    const up = asset({ key: "up" }, () => 1);
    const down = asset({ key: "down", ins: { up } }, (_ctx, { up }) => up + 1);
    const defs = defineDefinitions({
      assets: [up, down],
      resources: { io_manager: resource({ setup: () => memory }) },
    });
    await ok(instance.materialize(defs, {}));
    const [d] = await instance.storage.getAssetStatuses(["down"]);
    expect(d!.lastMaterialization).toMatchObject({ dataVersion: null, inputDataVersions: null });
    await ok(instance.materialize(defs, { selection: "up" }));
    expect((await whyOf(instance, defs, "down", null)).reasons.map((r) => r.message)).toEqual([
      expect.stringMatching(new RegExp(`^upstream up was materialized at ${ISO}, after down \\(${ISO}\\)$`)),
    ]);
  });
});

describe("data versions from the body and the DuckDB IO manager", () => {
  it("a run over several partitions takes dataVersion keyed by partition; one string for several is an error", async () => {
    const instance = await open();
    const days = dailyPartitions({ start: "2024-01-01", end: "2024-01-03" });
    let mode: "keyed" | "string" = "keyed";
    const a = asset({ key: "a", partitions: days }, (ctx) => ({
      value: perPartition(ctx.partitionKeys, (k) => k.length),
      dataVersion: (mode === "keyed" ? { "2024-01-01": "one" } : "same") as unknown as string,
    }));
    const defs = defineDefinitions({ assets: [a] });
    const range = { range: { from: "2024-01-01", to: "2024-01-02" } };
    await ok(instance.materialize(defs, { partitions: range }));
    const rows = await instance.storage.getPartitions("a");
    // The partition left out gets the IO manager's version (a content hash).
    expect(rows.map((r) => r.lastMaterialization?.dataVersion)).toEqual([
      "one",
      expect.stringMatching(/^[0-9a-f]{16}$/),
    ]);
    mode = "string";
    const failed = await instance.materialize(defs, { partitions: range });
    expect(failed.status).toBe("FAILURE");
    expect(failed.steps.find((s) => s.stepKey === "a")?.error?.message).toContain(
      '"a" returned dataVersion as one string, but the run covers 2 partitions: return an object keyed by partition key',
    );
  });

  it("a run over several days records, for each day, the versions of its own 24 hours", async () => {
    const instance = await open();
    const hours = hourlyPartitions({ start: "2024-01-01", end: "2024-01-03" });
    const days = dailyPartitions({ start: "2024-01-01", end: "2024-01-03" });
    const raw = asset({ key: "raw", partitions: hours }, (ctx) => perPartition(ctx.partitionKeys, (k) => k));
    const clean = asset({ key: "clean", partitions: days, ins: { raw } }, (ctx, { raw }) =>
      perPartition(ctx.partitionKeys, (day) => Object.keys(raw).filter((h) => h.startsWith(day)).length),
    );
    const defs = defineDefinitions({ assets: [raw, clean] });
    await ok(
      instance.materialize(defs, {
        selection: "raw",
        partitions: { range: { from: "2024-01-01-00:00", to: "2024-01-02-23:00" } },
      }),
    );
    await ok(
      instance.materialize(defs, {
        selection: "clean",
        partitions: { range: { from: "2024-01-01", to: "2024-01-02" } },
      }),
    );
    for (const row of await instance.storage.getPartitions("clean")) {
      const read = Object.keys(row.lastMaterialization!.inputDataVersions!.raw as Record<string, string>);
      expect(read, row.partitionKey).toHaveLength(24);
      expect(
        read.every((h) => h.startsWith(row.partitionKey)),
        row.partitionKey,
      ).toBe(true);
    }
  });

  it("DuckDB: the same rows in another order give the same version; other rows or columns another; off: none", async () => {
    const { duckdbIOManager, sql } = await import("../packages/core/src/duckdb/index.js");
    const home = await mkdtemp(path.join(tmpdir(), "baton-data-versions-duckdb-"));
    const io = await duckdbIOManager({ path: path.join(home, "w.duckdb") }).setup({} as never);
    const off = await duckdbIOManager({ path: path.join(home, "w.duckdb"), dataVersions: false }).setup(
      {} as never,
    );
    opened.push({ home, instance: { close: async () => {} } });
    const log = { debug() {}, info() {}, warn() {}, error() {} };
    const store = async (value: unknown, partitionKey?: string, manager = io) =>
      (
        await manager.handleOutput(
          { assetKey: partitionKey === undefined ? "t/x" : "t/p", partitionKey, runId: "r", log },
          value,
        )
      )?.dataVersion;
    const v1 = await store(sql`select * from (values (1, 'a'), (2, 'b'), (2, 'b')) v(id, name)`);
    expect(v1).toMatch(/^[0-9a-f]{16}$/);
    expect(
      await store([
        { id: 2, name: "b" },
        { id: 1, name: "a" },
        { id: 2, name: "b" },
      ]),
    ).not.toBe(v1); // BIGINT ids
    expect(await store(sql`select * from (values (2, 'b'), (1, 'a'), (2, 'b')) v(id, name)`)).toBe(v1);
    // A duplicate row dropped, a value changed, a column renamed: each a new version.
    expect(await store(sql`select * from (values (1, 'a'), (2, 'b')) v(id, name)`)).not.toBe(v1);
    expect(await store(sql`select * from (values (1, 'a'), (2, 'c'), (2, 'b')) v(id, name)`)).not.toBe(v1);
    expect(await store(sql`select * from (values (1, 'a'), (2, 'b'), (2, 'b')) v(id, label)`)).not.toBe(v1);
    // Partitions: the partition's rows only (not the partition column).
    const p1 = await store(sql`select * from (values (1, 'a'), (2, 'b'), (2, 'b')) v(id, name)`, "p1");
    expect(await store(sql`select 9 as id, 'z' as name`, "p2")).not.toBe(p1);
    expect(await store(sql`select * from (values (2, 'b'), (1, 'a'), (2, 'b')) v(id, name)`, "p1")).toBe(p1);
    expect(await store(sql`select 1 as id`, undefined, off)).toBeUndefined();
  });
});

describe("the webserver's bulk graph status agrees (built packages)", () => {
  it("the same value again: not stale in /api/graph/status nor in /why; a changed value: stale in both", async () => {
    const core = await import("@baton/core/internal");
    const { createApp } = await import("@baton/webserver");
    const home = await mkdtemp(path.join(tmpdir(), "baton-data-versions-graph-"));
    const instance = await core.openInstance({ home, env: {} });
    opened.push({ home, instance });
    const state = { value: [1, 2, 3] };
    const lookup = core.asset({ key: "lookup" }, () => state.value);
    const reader = core.asset({ key: "reader", ins: { lookup } }, (_ctx, { lookup }) => lookup.length);
    const side = core.asset({ key: "side", deps: ["lookup"] }, () => 1);
    const defs = core.defineDefinitions({ assets: [lookup, reader, side] });
    await core.publishSnapshot(instance.storage, defs);
    const app = createApp({ instance });
    const read = async () => {
      const graph = (await (await app.request("/api/graph/status")).json()) as {
        assets: Record<string, { stale: boolean; status: string }>;
      };
      const why = (await (await app.request("/api/assets/reader/why")).json()) as {
        status: string;
        reasons: { message: string }[];
      };
      return { graph: graph.assets, why };
    };
    expect((await instance.materialize(defs, {})).status).toBe("SUCCESS");
    expect((await read()).graph.reader).toMatchObject({ stale: false, status: "materialized" });

    expect((await instance.materialize(defs, { selection: "lookup" })).status).toBe("SUCCESS");
    let now = await read();
    expect(now.graph.reader).toMatchObject({ stale: false, status: "materialized" });
    expect(now.why).toMatchObject({ status: "fresh", reasons: [] });
    // A `deps` edge (not read, so no version recorded) still compares materialization order.
    expect(now.graph.side).toMatchObject({ stale: true, status: "stale" });

    state.value = [1, 2];
    expect((await instance.materialize(defs, { selection: "lookup" })).status).toBe("SUCCESS");
    now = await read();
    expect(now.graph.reader).toMatchObject({ stale: true, status: "stale" });
    expect(now.why.status).toBe("stale");
    expect(now.why.reasons.map((r) => r.message)).toEqual([
      expect.stringMatching(/^upstream lookup data version changed since reader was materialized/),
    ]);
  });
});

describe("NYC taxi example (DuckDB, built packages)", () => {
  type CoreModule = typeof import("../packages/core/src/internal.js");
  const MONTHS = ["2019-01", "2019-02"] as const;
  let tmp: string;
  let landing: string;
  let core: CoreModule;
  let instance: BatonInstance;
  let definitions: Definitions;
  let gen: typeof import("../examples/nyc_taxi/src/generate.js");

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), "baton-data-versions-taxi-"));
    landing = path.join(tmp, "landing");
    process.env.TAXI_LANDING = landing;
    process.env.TAXI_WAREHOUSE = path.join(tmp, "warehouse.duckdb");
    gen = await import("../examples/nyc_taxi/src/generate.js");
    definitions = (await import("../examples/nyc_taxi/definitions.js")).default as unknown as Definitions;
    core = (await import("@baton/core/internal")) as unknown as CoreModule;
    instance = await core.openInstance({ home: path.join(tmp, "home"), env: {} });
    for (const month of MONTHS) await gen.generateMonth({ month, taxi: "yellow", rows: 300, dir: landing });
    const created = await instance.createBackfill(definitions, {
      selection: "*",
      partitions: { keys: MONTHS.map((m) => `${m}|yellow`) },
    });
    expect((await instance.runBackfill(definitions, created.backfillId)).status).toBe("COMPLETED");
  });

  afterAll(async () => {
    await instance?.close();
    delete process.env.TAXI_LANDING;
    delete process.env.TAXI_WAREHOUSE;
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  /** What the landing sensor launches for one file: its month × taxi and the two lookups, and downstream. */
  async function dropFile(key: string) {
    const created = await instance.createBackfill(definitions, {
      selection: "taxi/raw_trips* or taxi/zones or taxi/payment_types",
      partitions: { keys: [key] },
    });
    const done = await instance.runBackfill(definitions, created.backfillId);
    expect(done.status, JSON.stringify(done.counts)).toBe("COMPLETED");
  }

  async function statusOf(key: string, partition: string | null) {
    const spaces = await core.loadKeySpaces(definitions, instance.storage, Date.now());
    const s = await core
      .createStalenessResolver(definitions, instance.storage, spaces)
      .staleness(key, partition);
    return [key, partition, s.status, s.reasons.map((r) => r.message)];
  }
  const fresh = (key: string, partition: string | null) => [key, partition, "fresh", []];

  it("taxi/zones re-materialized with the same rows keeps every month fresh", async () => {
    const [before] = await instance.storage.getAssetStatuses(["taxi/zones"]);
    expect(before!.lastMaterialization!.dataVersion).toMatch(/^[0-9a-f]{16}$/);
    expect((await instance.materialize(definitions, { selection: "taxi/zones" })).status).toBe("SUCCESS");
    const [after] = await instance.storage.getAssetStatuses(["taxi/zones"]);
    expect(after!.lastMaterialization!.eventId).toBeGreaterThan(before!.lastMaterialization!.eventId);
    expect(after!.lastMaterialization!.dataVersion).toBe(before!.lastMaterialization!.dataVersion);
    for (const month of MONTHS) {
      expect(await statusOf("taxi/clean_trips", `${month}|yellow`)).toEqual(
        fresh("taxi/clean_trips", `${month}|yellow`),
      );
      expect(await statusOf("taxi/zone_stats", month)).toEqual(fresh("taxi/zone_stats", month));
      expect(await statusOf("taxi/daily_revenue", month)).toEqual(fresh("taxi/daily_revenue", month));
    }
    expect(await statusOf("taxi/monthly_summary", null)).toEqual(fresh("taxi/monthly_summary", null));
  });

  it("dropping a new month leaves the other months fresh; dropping one again changes nothing downstream", async () => {
    await gen.generateMonth({ month: "2019-03", taxi: "yellow", rows: 300, dir: landing });
    await dropFile("2019-03|yellow");
    for (const month of MONTHS) {
      expect(await statusOf("taxi/clean_trips", `${month}|yellow`)).toEqual(
        fresh("taxi/clean_trips", `${month}|yellow`),
      );
      expect(await statusOf("taxi/zone_stats", month)).toEqual(fresh("taxi/zone_stats", month));
    }
    // The file's backfill covers the summaries (they read every month), so they are current too.
    expect(await statusOf("taxi/monthly_summary", null)).toEqual(fresh("taxi/monthly_summary", null));

    // The same file again: re-ingested with the same rows, so nothing downstream of it changed.
    const [raw1] = await instance.storage.getPartitions("taxi/raw_trips", { keys: ["2019-01|yellow"] });
    await dropFile("2019-01|yellow");
    const [raw2] = await instance.storage.getPartitions("taxi/raw_trips", { keys: ["2019-01|yellow"] });
    expect(raw2!.lastMaterialization!.eventId).toBeGreaterThan(raw1!.lastMaterialization!.eventId);
    expect(raw2!.lastMaterialization!.dataVersion).toBe(raw1!.lastMaterialization!.dataVersion);
    for (const month of [...MONTHS, "2019-03"]) {
      expect(await statusOf("taxi/clean_trips", `${month}|yellow`)).toEqual(
        fresh("taxi/clean_trips", `${month}|yellow`),
      );
      expect(await statusOf("taxi/daily_revenue", month)).toEqual(fresh("taxi/daily_revenue", month));
    }
  });
});
