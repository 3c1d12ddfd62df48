import type { AssetGraphNode, AutomationEvaluation, Schedule, Sensor } from "@baton/webserver/api-types";
import { describe, expect, test } from "vitest";
import {
  countWords,
  describeCondition,
  describeInterval,
  describeTarget,
  filterDecisions,
  type Instigators,
  lastLaunches,
  latestDecisions,
  nameProblem,
  namesToSwitch,
  resolveLaunched,
  targetAssets,
  tickWord,
  withStatus,
  withStatuses,
} from "./automation-model";

const schedule = (name: string, status: "RUNNING" | "STOPPED"): Schedule => ({
  name,
  cron: "0 6 2 * *",
  timezone: "UTC",
  target: { job: "monthly" },
  defaultStatus: "STOPPED",
  catchUp: 0,
  description: null,
  nextTickAt: null,
  status,
  cursor: null,
  lastTickAt: null,
  lastTick: null,
});
const sensor = (name: string, status: "RUNNING" | "STOPPED"): Sensor => ({
  name,
  type: "file",
  target: { selection: "taxi/raw_trips*" },
  minimumIntervalSeconds: 30,
  defaultStatus: "RUNNING",
  description: null,
  status,
  cursor: null,
  lastTickAt: null,
  lastTick: null,
});
const all: Instigators = {
  schedules: [schedule("monthly_refresh", "STOPPED")],
  sensors: [sensor("taxi_landing", "RUNNING"), sensor("failure_alerts", "STOPPED")],
};

const decision = (
  id: number,
  assetKey: string,
  timestamp: number,
  launched = false,
): AutomationEvaluation => ({
  id,
  assetKey,
  timestamp,
  condition: "eager",
  launched,
  reason: launched ? "missing: never materialized" : "up to date",
  partitionKeys: null,
  runId: launched ? `run-${id}` : null,
});

describe("automation model", () => {
  test("tick outcomes in words", () => {
    expect(tickWord({ status: "SUCCESS" })).toBe("launched");
    expect(tickWord({ status: "SKIPPED" })).toBe("skipped");
    expect(tickWord({ status: "FAILURE" })).toBe("failed");
  });

  test("intervals, targets and conditions in words", () => {
    expect(describeInterval(30)).toBe("every 30 s");
    expect(describeInterval(0.5)).toBe("every 0.5 s");
    expect(describeInterval(90)).toBe("every 1 min 30 s");
    expect(describeInterval(300)).toBe("every 5 min");
    expect(describeInterval(3600)).toBe("every 1 h");
    expect(describeInterval(5400)).toBe("every 1 h 30 min");
    expect(describeInterval(0)).toBe("—");
    expect(describeTarget({ job: "monthly" })).toBe("job monthly");
    expect(describeTarget({ selection: "a*" })).toBe("selection a*");
    expect(describeTarget({})).toBe("—");
    expect(describeCondition("eager")).toBe("eager");
    expect(describeCondition("on_cron(0 6 * * *, America/New_York)")).toBe(
      "on cron 0 6 * * * (America/New_York)",
    );
  });

  test("start all / stop all: the names that would change, of one kind or both", () => {
    expect(namesToSwitch(all, "RUNNING")).toEqual(["monthly_refresh", "failure_alerts"]);
    expect(namesToSwitch(all, "STOPPED")).toEqual(["taxi_landing"]);
    expect(namesToSwitch(all, "RUNNING", "sensor")).toEqual(["failure_alerts"]);
    expect(namesToSwitch(all, "RUNNING", "schedule")).toEqual(["monthly_refresh"]);
    expect(namesToSwitch(undefined, "RUNNING")).toEqual([]);
    expect(countWords(1)).toBe("1 schedule or sensor");
    expect(countWords(3)).toBe("3 schedules and sensors");
  });

  test("optimistic status changes leave the rest as they were", () => {
    const one = withStatus(all, "taxi_landing", "STOPPED");
    expect(one.sensors.map((s) => s.status)).toEqual(["STOPPED", "STOPPED"]);
    expect(one.schedules[0]).toBe(all.schedules[0]);
    const many = withStatuses(all, ["monthly_refresh", "failure_alerts"], "RUNNING");
    expect([...many.schedules, ...many.sensors].every((x) => x.status === "RUNNING")).toBe(true);
  });

  test("the latest decision per asset, newest first, filtered by asset", () => {
    const evaluations = [
      decision(5, "b", 500, true),
      decision(4, "a", 400),
      decision(3, "b", 300),
      decision(2, "c/d", 200),
      decision(1, "a", 100, true),
    ];
    const latest = latestDecisions(evaluations);
    expect(latest.map((d) => d.id)).toEqual([5, 4, 2]);
    expect(filterDecisions(latest, "C/").map((d) => d.assetKey)).toEqual(["c/d"]);
    expect(filterDecisions(latest, "  ")).toHaveLength(3);
    expect(filterDecisions(latest, "zzz")).toEqual([]);
    const launches = lastLaunches(evaluations);
    expect([...launches].map(([k, d]) => [k, d.id])).toEqual([
      ["b", 5],
      ["a", 1],
    ]);
  });

  test("launched ids resolve to runs and backfills from the launcher's runs", () => {
    const runs = [
      { runId: "r1", backfillId: null },
      { runId: "r2", backfillId: "bf-123" },
      { runId: "r3", backfillId: "bf-123" },
      { runId: "r4", backfillId: "0c5e-uuid" },
    ];
    expect(resolveLaunched(["r1", "bf-123", "0c5e-uuid", "bf-new", "mystery"], runs)).toEqual([
      { kind: "run", id: "r1" },
      { kind: "backfill", id: "bf-123", runIds: ["r2", "r3"] },
      { kind: "backfill", id: "0c5e-uuid", runIds: ["r4"] },
      { kind: "backfill", id: "bf-new", runIds: [] },
      { kind: "unknown", id: "mystery" },
    ]);
  });

  test("a target's assets from the selection language; a bad selection says what is wrong", () => {
    const node = (key: string, deps: string[] = [], automation: string | null = null): AssetGraphNode => ({
      key,
      group: "g",
      kinds: [],
      owners: [],
      tags: {},
      description: null,
      deps,
      computation: key,
      partitions: null,
      checks: [],
      automation,
    });
    const assets = [
      node("taxi/raw"),
      node("taxi/clean", ["taxi/raw"]),
      node("report", ["taxi/clean"], "eager"),
    ];
    expect(targetAssets(assets, "taxi/raw*")).toEqual({
      keys: ["taxi/raw", "taxi/clean", "report"],
      error: null,
    });
    expect(targetAssets(assets, "report")).toEqual({ keys: ["report"], error: null });
    const bad = targetAssets(assets, "taxi/raw and (");
    expect(bad.keys).toEqual([]);
    expect(bad.error).toBeTruthy();
  });

  test("names from the URL", () => {
    expect(nameProblem("taxi_landing")).toBeNull();
    expect(nameProblem(" ")).toMatch(/names no schedule/);
    expect(nameProblem("x".repeat(201))).toMatch(/201 characters/);
  });
});
