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
import { sqlAssets } from "../packages/core/src/duckdb/index.js";
import { type BatonInstance, openInstance, type RunEvent } from "../packages/core/src/index.js";
import { type Order, sqlModelsDefinitions } from "./fixtures/sql-models/definitions.js";

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
    expect(clean.specs[0]!.deps).toEqual(["shop/raw_orders"]);
    expect(clean.specs[0]).toMatchObject({
      group: "shop",
      description: "Orders with a DATE day and a known status",
      tags: { tier: "silver", pii: "" },
      kinds: ["duckdb", "sql"],
    });
    expect(defs.computationOf("shop/revenue").specs[0]!.deps).toEqual(["shop/orders_clean"]);

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
