import type { AssetGraphNode, GraphAssetStatus } from "@baton/webserver/api-types";
import { describe, expect, it } from "vitest";
import { buildRows, distinct, paramsWith, viewFromParams, visibleRows } from "./catalog-model";

const node = (key: string, extra: Partial<AssetGraphNode> = {}): AssetGraphNode => ({
  key,
  group: "default",
  kinds: [],
  owners: [],
  tags: {},
  description: null,
  deps: [],
  computation: key,
  partitions: null,
  checks: [],
  automation: null,
  ...extra,
});

const status = (s: Partial<GraphAssetStatus>): GraphAssetStatus => ({
  status: "materialized",
  lastMaterializedAt: null,
  lastRunId: null,
  running: false,
  queued: false,
  failed: false,
  stale: false,
  overdue: false,
  checks: { passed: 0, failed: 0 },
  partitions: null,
  ...s,
});

const assets = [
  node("taxi/raw_trips", { group: "ingest", kinds: ["duckdb", "csv"], owners: ["ana@x.io"] }),
  node("taxi/clean_trips", { group: "transform", kinds: ["duckdb"], description: "No negative fares" }),
  node("taxi/zones", { group: "ingest", kinds: ["duckdb"] }),
];
const statuses = {
  "taxi/raw_trips": status({
    status: "failed",
    lastMaterializedAt: 100,
    partitions: { total: 64, materialized: 10, failed: 1, missing: 53, inProgress: 0 },
  }),
  "taxi/clean_trips": status({ status: "materialized", lastMaterializedAt: 300, overdue: true }),
  "taxi/zones": status({ status: "missing", checks: { passed: 1, failed: 2 } }),
};
const rows = buildRows(assets, statuses);
const keys = (view: string) => visibleRows(rows, viewFromParams(new URLSearchParams(view))).map((r) => r.key);

describe("catalog model", () => {
  it("joins definitions with live statuses, null while statuses load", () => {
    expect(rows[0]).toMatchObject({ status: "failed", partitionsMaterialized: 10, partitionsTotal: 64 });
    expect(buildRows(assets, undefined)[0]).toMatchObject({ status: null, lastMaterializedAt: null });
  });

  it("filters by words anywhere (key, description, owners), group, kind, owner and status", () => {
    expect(keys("q=negative")).toEqual(["taxi/clean_trips"]);
    expect(keys("q=TAXI ana")).toEqual(["taxi/raw_trips"]);
    expect(keys("group=ingest")).toEqual(["taxi/raw_trips", "taxi/zones"]);
    expect(keys("kind=csv")).toEqual(["taxi/raw_trips"]);
    expect(keys("owner=ana@x.io")).toEqual(["taxi/raw_trips"]);
    expect(keys("status=missing")).toEqual(["taxi/zones"]);
    expect(keys("status=overdue:any")).toEqual(["taxi/clean_trips"]);
    expect(keys("status=check_failed:any")).toEqual(["taxi/zones"]);
    expect(keys("group=ingest&kind=csv&q=zones")).toEqual([]);
  });

  it("sorts by any column both ways, ties by key; never-materialized last when ascending", () => {
    expect(keys("")).toEqual(["taxi/clean_trips", "taxi/raw_trips", "taxi/zones"]);
    expect(keys("sort=key&dir=desc")).toEqual(["taxi/zones", "taxi/raw_trips", "taxi/clean_trips"]);
    expect(keys("sort=lastMaterialized")).toEqual(["taxi/raw_trips", "taxi/clean_trips", "taxi/zones"]);
    expect(keys("sort=status")).toEqual(["taxi/raw_trips", "taxi/zones", "taxi/clean_trips"]);
    expect(keys("sort=freshness")[0]).toBe("taxi/clean_trips");
    expect(keys("sort=checks")[0]).toBe("taxi/zones");
    // partitioned assets by fraction materialized; unpartitioned after them
    expect(keys("sort=partitions")[0]).toBe("taxi/raw_trips");
    expect(keys("sort=bogus")).toEqual(keys(""));
  });

  it("keeps the view in the URL without defaults and keeps unrelated parameters", () => {
    const p = paramsWith(new URLSearchParams("x=1&q=old"), {
      text: "",
      group: "ingest",
      sort: "key",
      dir: "desc",
    });
    expect(p.toString()).toBe("x=1&group=ingest&dir=desc");
    expect(viewFromParams(p)).toMatchObject({ text: "", group: "ingest", sort: "key", dir: "desc" });
  });

  it("lists distinct filter values sorted", () => {
    expect(distinct(rows, (r) => r.kinds)).toEqual(["csv", "duckdb"]);
    expect(distinct(rows, (r) => [r.group])).toEqual(["ingest", "transform"]);
  });
});
