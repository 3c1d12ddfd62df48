/**
 * SQL models as assets: `sqlAssets({ dir, warehouse })` over tests/fixtures/sql-models/models, run
 * for real on a DuckDB file in a temp folder through the instance API. Bad models (unknown ref,
 * cycle, bad header, binder error) are real files written to a temp folder.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { afterEach, describe, expect, it } from "vitest";
import { duckdb, duckdbIOManager, sqlAssets } from "../packages/core/src/duckdb/index.js";
import {
  asset,
  type BatonInstance,
  defineDefinitions,
  openInstance,
  type RunEvent,
} from "../packages/core/src/index.js";
import { loadKeySpaces } from "../packages/core/src/instance/run-partitions-request.js";
import { createStalenessResolver } from "../packages/core/src/status/staleness.js";
import { days, type Order, sqlModelsDefinitions } from "./fixtures/sql-models/definitions.js";

const ORDERS: Order[] = [
  { order_id: 1, day: "2024-01-01", status: "paid", amount: 10 },
  { order_id: 2, day: "2024-01-01", status: "refunded", amount: 5 },
  { order_id: 3, day: "2024-01-02", status: "paid", amount: 7.5 },
  { order_id: 4, day: "2024-01-03", status: "paid", amount: 2 },
];

const opened: { dir: string; instance: BatonInstance }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.instance.close();
    await rm(o.dir, { recursive: true, force: true });
  }
});

async function setup() {
  const dir = await mkdtemp(path.join(tmpdir(), "baton-sql-models-"));
  const instance = await openInstance({ home: path.join(dir, "home"), env: {} });
  opened.push({ dir, instance });
  return { dir, instance, warehouse: path.join(dir, "warehouse.duckdb") };
}

/** Rows of a query on the warehouse file (the process's shared instance of it). */
async function rowsOf(file: string, text: string) {
  const db = await DuckDBInstance.fromCache(file);
  const connection = await db.connect();
  try {
    const reader = await connection.runAndReadAll(text);
    return reader.getRowObjectsJson();
  } finally {
    connection.closeSync();
  }
}

async function eventsOf(instance: BatonInstance, runId: string) {
  return (await instance.storage.getEvents(runId)).map((e) => e as RunEvent);
}

/** Write `files` (path → text) under a fresh models folder; returns its path. */
async function models(dir: string, files: Record<string, string>) {
  const root = path.join(dir, "models");
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), text);
  }
  return root;
}

describe("sqlAssets", () => {
  it("builds models in ref order on DuckDB, a TS asset referenced by key, checks as asset checks", async () => {
    const { instance, warehouse } = await setup();
    const defs = sqlModelsDefinitions(warehouse, ORDERS);
    const clean = defs.computationOf("shop/orders_clean");
    // Refs are inputs (so the versions a model read are recorded), named after the upstream keys.
    expect(clean.ins).toEqual({ shop_raw_orders: "shop/raw_orders" });
    expect(defs.graph.parents("shop/orders_clean")).toEqual(["shop/raw_orders"]);
    expect(clean.specs[0]).toMatchObject({
      group: "shop",
      description: "Orders with a DATE day and a known status",
      tags: { tier: "silver", pii: "" },
      kinds: ["duckdb", "sql"],
    });
    expect(defs.computationOf("shop/revenue").ins).toEqual({ shop_orders_clean: "shop/orders_clean" });

    const s = await instance.materialize(defs, {
      selection: "shop/raw_orders, shop/orders_clean, shop/revenue",
    });
    expect(s.status, s.runId).toBe("SUCCESS");
    const events = await eventsOf(instance, s.runId);
    const started = events
      .filter((e): e is Extract<RunEvent, { type: "step_started" }> => e.type === "step_started")
      .map((e) => e.stepKey);
    expect(started.indexOf("shop/orders_clean")).toBeGreaterThan(started.indexOf("shop/raw_orders"));
    expect(started.indexOf("shop/revenue")).toBeGreaterThan(started.indexOf("shop/orders_clean"));
    const checks = events.filter(
      (e): e is Extract<RunEvent, { type: "check_evaluation" }> => e.type === "check_evaluation",
    );
    expect(checks.map((c) => `${c.assetKey}:${c.checkName}:${c.passed}`).sort()).toEqual([
      "shop/orders_clean:accepted_values_status:true",
      "shop/orders_clean:not_null_order_id:true",
      "shop/orders_clean:row_count:true",
      "shop/orders_clean:unique_order_id:true",
      "shop/revenue:row_count:true",
    ]);
    expect(await rowsOf(warehouse, "select * from shop.revenue")).toEqual([
      { status: "paid", orders: "3", revenue: 19.5 },
      { status: "refunded", orders: "1", revenue: 5 },
    ]);
    expect(await rowsOf(warehouse, "select typeof(day) as t from shop.orders_clean limit 1")).toEqual([
      { t: "DATE" },
    ]);
  });

  it("a partitioned model gets its window and replaces only its own rows", async () => {
    const { instance, warehouse } = await setup();
    const defs = sqlModelsDefinitions(warehouse, ORDERS);
    expect(
      (await instance.materialize(defs, { selection: "shop/raw_orders, shop/orders_clean" })).status,
    ).toBe("SUCCESS");
    for (const day of ["2024-01-01", "2024-01-02", "2024-01-01"]) {
      const s = await instance.materialize(defs, {
        selection: "shop/daily_orders",
        partitions: { keys: [day] },
      });
      expect(s.status, s.runId).toBe("SUCCESS");
    }
    const [m] = await instance.storage.getMaterializations("shop/daily_orders", { limit: 1 });
    expect(m).toMatchObject({ partition: "2024-01-01", metadata: { row_count: { value: 1 } } });
    // Re-running 2024-01-01 did not duplicate it, and 2024-01-02 is still there.
    expect(
      await rowsOf(
        warehouse,
        "select day::VARCHAR as day, orders, revenue from shop.daily_orders order by day",
      ),
    ).toEqual([
      { day: "2024-01-01", orders: "2", revenue: 15 },
      { day: "2024-01-02", orders: "1", revenue: 7.5 },
    ]);
  });

  it("a partitioned model returning rows outside its partition fails and writes nothing", async () => {
    const { dir, instance, warehouse } = await setup();
    const root = await models(dir, {
      "shop/unfiltered.sql":
        "-- partitions: daily\n-- partition_column: day\nselect day::DATE as day, amount from {{ ref('shop/raw_orders') }}",
    });
    const defs = sqlModelsDefinitions(warehouse, ORDERS, root);
    expect((await instance.materialize(defs, { selection: "shop/raw_orders" })).status).toBe("SUCCESS");
    const s = await instance.materialize(defs, {
      selection: "shop/unfiltered",
      partitions: { keys: ["2024-01-02"] },
    });
    expect(s.status).toBe("FAILURE");
    const failed = (await eventsOf(instance, s.runId)).find(
      (e): e is Extract<RunEvent, { type: "step_failed" }> => e.type === "step_failed",
    );
    expect(failed?.error.message).toContain("SQL model shop/unfiltered (");
    expect(failed?.error.message).toMatch(/3 row\(s\) have day outside partition 2024-01-02/);
    expect(
      await rowsOf(
        warehouse,
        "select count(*)::INTEGER as n from information_schema.tables where table_name = 'unfiltered'",
      ),
    ).toEqual([{ n: 0 }]);
  });

  it("a failing blocking check stops the downstream model", async () => {
    const { instance, warehouse } = await setup();
    const dup = [...ORDERS, { order_id: 1, day: "2024-01-04", status: "paid", amount: 1 }];
    const defs = sqlModelsDefinitions(warehouse, dup);
    const s = await instance.materialize(defs, {
      selection: "shop/raw_orders, shop/orders_clean, shop/revenue",
    });
    expect(s.status).toBe("FAILURE");
    const events = await eventsOf(instance, s.runId);
    const unique = events.find(
      (e): e is Extract<RunEvent, { type: "check_evaluation" }> =>
        e.type === "check_evaluation" && e.checkName === "unique_order_id",
    );
    expect(unique).toMatchObject({ passed: false, blocking: true, metadata: { failing_rows: { value: 1 } } });
    expect(events.some((e) => e.type === "step_started" && e.stepKey === "shop/revenue")).toBe(false);
    expect(await instance.storage.getMaterializations("shop/revenue", { limit: 1 })).toEqual([]);
  });

  it("DuckDB's binder error names the model file and line", async () => {
    const { dir, instance, warehouse } = await setup();
    const root = await models(dir, {
      "shop/bad.sql":
        "-- group: shop\nselect order_id,\n       no_such_column\nfrom {{ ref('shop/raw_orders') }}\n",
    });
    const defs = sqlModelsDefinitions(warehouse, ORDERS, root);
    const s = await instance.materialize(defs, { selection: "shop/raw_orders, shop/bad" });
    expect(s.status).toBe("FAILURE");
    const failed = (await eventsOf(instance, s.runId)).find(
      (e): e is Extract<RunEvent, { type: "step_failed" }> => e.type === "step_failed",
    );
    expect(failed?.stepKey).toBe("shop/bad");
    expect(failed?.error.message).toMatch(
      /SQL model shop\/bad \(.*models\/shop\/bad\.sql:3\): Binder Error: .*no_such_column/,
    );
  });

  /**
   * Models partitioned without `partition_column`, their `_partition` column, a TypeScript asset
   * reading one model's partition through the DuckDB IO manager, checks scoped to the partition,
   * and what a materialization and the definition record.
   */
  async function partitionedSetup() {
    const { dir, instance, warehouse } = await setup();
    const byDay =
      "-- description: Orders per status of one day\n-- partitions: daily\n-- check: not_null(status)\n-- check: row_count > 0\n" +
      "select status, count(*)::BIGINT as orders\nfrom {{ ref('shop/raw_orders') }}\nwhere day::DATE = {{ partition.key }}::DATE\ngroup by all";
    const root = await models(dir, {
      "shop/by_day.sql": byDay,
      // `select *` of a partitioned model brings its `_partition`: the copy's replaces it.
      "shop/by_day_copy.sql":
        "-- partitions: daily\nselect * from {{ ref('by_day') }} where _partition = {{ partition.key }}",
    });
    const rawOrders = asset({ key: "shop/raw_orders", kinds: ["duckdb"] }, async () =>
      ORDERS.map((o) => ({ ...o })),
    );
    const m = sqlAssets({
      dir: root,
      warehouse: "warehouse",
      partitions: { daily: days },
      sources: [rawOrders],
    });
    const report = asset(
      { key: "shop/day_report", partitions: days, ins: { byDay: m.byKey("shop/by_day") } },
      async (_ctx, { byDay }) => [
        { statuses: await byDay.count(), rows: JSON.stringify(await byDay.rows()) },
      ],
    );
    const defs = defineDefinitions({
      assets: [rawOrders, ...m.assets, report],
      checks: [...m.checks],
      resources: { warehouse: duckdb({ path: warehouse }), io_manager: duckdbIOManager({ path: warehouse }) },
    });
    return { dir, root, instance, warehouse, defs, byDay };
  }

  it("a partitioned model tags its rows with _partition: a TS asset reads its partition, checks see only it", async () => {
    const { instance, warehouse, defs, byDay } = await partitionedSetup();
    expect((await instance.materialize(defs, { selection: "shop/raw_orders" })).status).toBe("SUCCESS");
    for (const day of ["2024-01-02", "2024-01-01"]) {
      const s = await instance.materialize(defs, {
        selection: "shop/by_day, shop/by_day_copy, shop/day_report",
        partitions: { keys: [day] },
      });
      expect(s.status, s.runId).toBe("SUCCESS");
      if (day === "2024-01-01") {
        const checks = (await eventsOf(instance, s.runId)).filter(
          (e): e is Extract<RunEvent, { type: "check_evaluation" }> => e.type === "check_evaluation",
        );
        // The table holds 3 rows (2 days) by now; the row count check counts this partition's 2.
        expect(checks.map((c) => [c.checkName, c.passed, c.metadata]).sort()).toEqual([
          ["not_null_status", true, { failing_rows: { type: "number", value: 0 } }],
          ["row_count", true, { row_count: { type: "number", value: 2 } }],
        ]);
      }
    }
    expect(
      await rowsOf(warehouse, "select _partition, status, orders from shop.by_day order by all"),
    ).toEqual([
      { _partition: "2024-01-01", status: "paid", orders: "1" },
      { _partition: "2024-01-01", status: "refunded", orders: "1" },
      { _partition: "2024-01-02", status: "paid", orders: "1" },
    ]);
    expect(
      await rowsOf(warehouse, "select column_name from (describe shop.by_day_copy) order by all"),
    ).toEqual([{ column_name: "_partition" }, { column_name: "orders" }, { column_name: "status" }]);
    expect(
      await rowsOf(
        warehouse,
        "select _partition, count(*)::INTEGER as n from shop.by_day_copy group by all order by all",
      ),
    ).toEqual([
      { _partition: "2024-01-01", n: 2 },
      { _partition: "2024-01-02", n: 1 },
    ]);
    // The TS asset read its own day's rows (the handle hides _partition), through the IO manager.
    const report = await rowsOf(
      warehouse,
      "select _partition, statuses, rows from shop.day_report order by all",
    );
    expect(report.map((r) => [r._partition, r.statuses])).toEqual([
      ["2024-01-01", "2"],
      ["2024-01-02", "1"],
    ]);
    expect(JSON.parse(String(report[1]!.rows))).toEqual([{ status: "paid", orders: 1 }]);

    // A materialization records what the IO manager's do, and the same rows give the same version.
    const [m1] = await instance.storage.getMaterializations("shop/by_day", { limit: 1 });
    expect(m1).toMatchObject({
      partition: "2024-01-01",
      metadata: {
        row_count: { type: "row_count", value: 2 },
        table: { type: "text", value: '"shop"."by_day"' },
        schema: {
          type: "table_schema",
          value: [
            { name: "status", type: "VARCHAR" },
            { name: "orders", type: "BIGINT" },
          ],
        },
        preview: {
          type: "json",
          value: [
            { status: "paid", orders: 1 },
            { status: "refunded", orders: 1 },
          ],
        },
        file: { type: "path" },
      },
    });
    const v1 = (m1 as { dataVersion?: string }).dataVersion;
    expect(v1).toMatch(/^[0-9a-f]{16}$/);
    expect(
      (await instance.materialize(defs, { selection: "shop/by_day", partitions: { keys: ["2024-01-01"] } }))
        .status,
    ).toBe("SUCCESS");
    const [m2] = await instance.storage.getMaterializations("shop/by_day", { limit: 1 });
    expect((m2 as { dataVersion?: string }).dataVersion).toBe(v1);
    const [other] = await instance.storage.getMaterializations("shop/by_day", {
      limit: 1,
      partition: "2024-01-02",
    });
    expect((other as { dataVersion?: string }).dataVersion).not.toBe(v1);

    // The definition carries the SQL (shown on the asset page) and a code version hashed from it.
    const spec = defs.computationOf("shop/by_day").specs[0]!;
    expect(spec.metadata.sql).toEqual({ type: "text", value: byDay });
    expect(spec.metadata.file).toMatchObject({ type: "path" });
    expect(spec.codeVersion).toMatch(/^[0-9a-f]{12}$/);
    expect(spec.description).toBe("Orders per status of one day");
  });

  it("an upstream stored again with the same rows keeps the models fresh; other rows make them stale", async () => {
    const { instance, warehouse } = await setup();
    let orders = ORDERS;
    const defs = () => sqlModelsDefinitions(warehouse, orders);
    const all = "shop/raw_orders, shop/orders_clean, shop/revenue";
    expect((await instance.materialize(defs(), { selection: all })).status).toBe("SUCCESS");
    const status = async (key: string) => {
      const d = defs();
      const spaces = await loadKeySpaces(d, instance.storage, Date.now());
      const s = await createStalenessResolver(d, instance.storage, spaces).staleness(key, null);
      return [s.status, s.reasons.map((r) => r.message)];
    };
    expect(await status("shop/revenue")).toEqual(["fresh", []]);
    // The TS source again, same rows (another order): the models read the same version.
    orders = [...ORDERS].reverse();
    expect((await instance.materialize(defs(), { selection: "shop/raw_orders" })).status).toBe("SUCCESS");
    expect(await status("shop/orders_clean")).toEqual(["fresh", []]);
    expect(await status("shop/revenue")).toEqual(["fresh", []]);
    // Other rows: orders_clean is stale by data version, revenue through it.
    orders = ORDERS.slice(1);
    expect((await instance.materialize(defs(), { selection: "shop/raw_orders" })).status).toBe("SUCCESS");
    const [clean, reasons] = await status("shop/orders_clean");
    expect(clean).toBe("stale");
    expect(String(reasons)).toMatch(/shop\/raw_orders/);
    expect((await status("shop/revenue"))[0]).toBe("stale");
  });

  it("the code version follows the file's text; byKey names the models it has", async () => {
    const { root } = await partitionedSetup();
    const define = () =>
      sqlAssets({
        dir: root,
        warehouse: "warehouse",
        partitions: { daily: days },
        sources: ["shop/raw_orders"],
      });
    const before = define().byKey("shop/by_day").spec.codeVersion;
    expect(define().byKey("shop/by_day_copy").spec.codeVersion).not.toBe(before);
    await writeFile(
      path.join(root, "shop/by_day.sql"),
      "-- partitions: daily\nselect status, count(*)::BIGINT as orders from {{ ref('shop/raw_orders') }} where day::DATE = {{ partition.key }}::DATE group by all",
    );
    expect(define().byKey("shop/by_day").spec.codeVersion).not.toBe(before);
    expect(() => define().byKey("shop/nope")).toThrow(
      `sqlAssets(${root}): no model "shop/nope"; models are shop/by_day, shop/by_day_copy`,
    );
  });

  it("a partitioned model's table from before _partition gets the column, and no duplicates", async () => {
    const { instance, warehouse } = await setup();
    const defs = sqlModelsDefinitions(warehouse, ORDERS);
    expect(
      (await instance.materialize(defs, { selection: "shop/raw_orders, shop/orders_clean" })).status,
    ).toBe("SUCCESS");
    // What the first version of SQL models wrote: the rows, no _partition column.
    const db = await DuckDBInstance.fromCache(warehouse);
    const c = await db.connect();
    await c.run(
      "create table shop.daily_orders as select '2024-01-01'::DATE as day, 2::BIGINT as orders, 15::DOUBLE as revenue union all select '2024-01-02'::DATE, 1, 7.5",
    );
    c.closeSync();
    const s = await instance.materialize(defs, {
      selection: "shop/daily_orders",
      partitions: { keys: ["2024-01-01"] },
    });
    expect(s.status, s.runId).toBe("SUCCESS");
    expect(
      await rowsOf(
        warehouse,
        "select day::VARCHAR as day, orders, _partition from shop.daily_orders order by day",
      ),
    ).toEqual([
      { day: "2024-01-01", orders: "2", _partition: "2024-01-01" },
      { day: "2024-01-02", orders: "1", _partition: null },
    ]);
  });

  describe("errors at definition time", () => {
    const define = (root: string) => () =>
      sqlAssets({ dir: root, warehouse: "warehouse", sources: ["shop/raw_orders"] });

    it("an unknown ref, with did-you-mean and file:line", async () => {
      const { dir } = await setup();
      const root = await models(dir, {
        "a/orders.sql": "select 1 as x",
        "a/report.sql": "-- group: a\nselect *\nfrom {{ ref('ordres') }}",
      });
      expect(define(root)).toThrow(
        /models\/a\/report\.sql:3: unknown ref\('ordres'\) \(did you mean 'a\/orders'\?\)/,
      );
    });

    it("a ref cycle names the files", async () => {
      const { dir } = await setup();
      const root = await models(dir, {
        "a.sql": "select * from {{ ref('b') }}",
        "b.sql": "select * from {{ ref('c') }}",
        "c.sql": "select * from {{ ref('a') }}",
      });
      expect(define(root)).toThrow(
        /ref cycle: .*models\/a\.sql → .*models\/b\.sql → .*models\/c\.sql → .*models\/a\.sql/,
      );
    });

    it("a bad header line", async () => {
      const { dir } = await setup();
      const unknownField = await models(dir, { "x.sql": "-- group: a\n-- descripton: typo\nselect 1" });
      expect(define(unknownField)).toThrow(
        /models\/x\.sql:2: bad header line "-- descripton: typo": unknown field "descripton" \(did you mean "description"\?\)/,
      );
      const badCheck = await models(path.join(dir, "2"), { "y.sql": "-- check: positive(amount)\nselect 1" });
      expect(define(badCheck)).toThrow(/models\/y\.sql:1: unknown check "positive\(amount\)"/);
      const noPartitions = await models(path.join(dir, "3"), { "z.sql": "select {{ partition.key }} as k" });
      expect(define(noPartitions)).toThrow(/models\/z\.sql:1: \{\{ partition\.\* \}\} in a model without/);
      const badExpr = await models(path.join(dir, "4"), { "w.sql": "select 1\nfrom {{ source('x') }}" });
      expect(define(badExpr)).toThrow(
        /models\/w\.sql:2: unknown template expression "\{\{ source\('x'\) \}\}"/,
      );
    });
  });
});
