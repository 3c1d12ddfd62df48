// npm run bench:graph-status — GET /api/graph/status over a 5,000-asset synthetic graph (SQLite):
// 4,500 unpartitioned assets in layers of 10 (each reading 1–2 assets of the layer above; every
// 10th with a freshness policy, every 20th with a check), 500 daily-partitioned assets (365 days,
// half materialized), every unpartitioned asset materialized and then the first layer again (so
// everything downstream is stale: the staleness resolver's worst case), 100 runs in progress.
// Prints one JSON line per case: cold (first answer), warm (cached), after one new event, after a
// run state change; with the floor (one bulk read of asset statuses) and the ratio to it.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  type AssetDefinition,
  asset,
  assetCheck,
  dailyPartitions,
  defineDefinitions,
  type NewRun,
  openInstance,
  type PartitionsDefinition,
  publishSnapshot,
  type RunEvent,
} from "@baton/core/internal";
import { createApp } from "@baton/webserver";

const UNPARTITIONED = 4_500;
const PARTITIONED = 500;
const DAYS = dailyPartitions({ start: "2023-01-01", end: "2024-01-01" });

const assets: AssetDefinition<number, PartitionsDefinition | undefined>[] = [];
for (let i = 0; i < UNPARTITIONED; i++) {
  const layer = Math.floor(i / 10);
  const j = i % 10;
  const deps =
    layer > 0
      ? [`a${(layer - 1) * 10 + j}`, ...(j % 2 === 0 ? [`a${(layer - 1) * 10 + ((j + 1) % 10)}`] : [])]
      : [];
  assets.push(
    asset(
      { key: `a${i}`, deps, ...(i % 10 === 0 ? { freshness: { maxLagMinutes: 60 } } : {}) },
      async () => 1,
    ),
  );
}
for (let i = 0; i < PARTITIONED; i++) assets.push(asset({ key: `p${i}`, partitions: DAYS }, async () => 1));
const checks = assets
  .filter((_, i) => i < UNPARTITIONED && i % 20 === 0)
  .map((a) => assetCheck({ asset: a, name: "ok" }, () => ({ passed: true })));
const definitions = defineDefinitions({ assets, checks });

const home = mkdtempSync(path.join(os.tmpdir(), "baton-bench-graph-status-"));
const instance = await openInstance({ home, env: {} });
const storage = instance.storage;
try {
  await publishSnapshot(storage, definitions);
  const now = Date.now();
  const run = (runId: string, status: "QUEUED" | "SUCCESS", keys: string[]): NewRun => ({
    runId,
    status,
    selection: "*",
    assetKeys: keys,
    config: {},
    tags: {},
    createdAt: now,
  });
  await storage.createRun(run("seed", "SUCCESS", []));
  const mat = (key: string, t: number, partition?: { key: string; index: number }): RunEvent => ({
    type: "materialization",
    runId: "seed",
    timestamp: t,
    stepKey: key,
    assetKey: key,
    metadata: {},
    ...(partition ? { partition: partition.key, partitionIndex: partition.index } : {}),
  });
  const events: RunEvent[] = [];
  for (let i = 0; i < UNPARTITIONED; i++) events.push(mat(`a${i}`, now - 10_000));
  for (let i = 0; i < 10; i++) events.push(mat(`a${i}`, now - 5_000));
  const space = DAYS.resolve({ now, dynamicKeys: () => [] });
  for (let i = 0; i < PARTITIONED; i++)
    for (let d = 0; d < 365; d += 2)
      events.push(mat(`p${i}`, now - 10_000, { key: space.keyAt(d), index: d }));
  for (const c of checks)
    events.push({
      type: "check_evaluation",
      runId: "seed",
      timestamp: now,
      stepKey: c.name,
      assetKey: (c as unknown as { assetKey: string }).assetKey ?? "a0",
      checkName: "ok",
      passed: true,
      blocking: false,
      severity: "WARN",
      metadata: {},
    });
  for (let i = 0; i < events.length; i += 5_000) await storage.appendEvents(events.slice(i, i + 5_000));
  await storage.createRuns(
    Array.from({ length: 100 }, (_, i) => ({
      ...run(`q${i}`, "QUEUED", [`a${i * 40}`]),
      request: { assetKeys: [`a${i * 40}`] },
    })),
  );

  const app = createApp({ instance });
  const time = async () => {
    const t = performance.now();
    const res = await app.request("/api/graph/status");
    const body = (await res.json()) as { assets: Record<string, { status: string }> };
    if (res.status !== 200 || Object.keys(body.assets).length !== UNPARTITIONED + PARTITIONED)
      throw new Error(`unexpected answer ${res.status}`);
    return { ms: performance.now() - t, body };
  };
  const floorStart = performance.now();
  await storage.getAssetStatuses();
  const floorMs = performance.now() - floorStart;
  const print = (name: string, ms: number, extra: Record<string, unknown> = {}) =>
    console.log(
      JSON.stringify({
        bench: "graph-status",
        case: `sqlite-5000-${name}`,
        assets: UNPARTITIONED + PARTITIONED,
        store: "sqlite",
        ms: Math.round(ms),
        floorMs: Math.round(floorMs),
        ratio: Math.round((ms / floorMs) * 10) / 10,
        ...extra,
      }),
    );
  const cold = await time();
  const counts: Record<string, number> = {};
  for (const a of Object.values(cold.body.assets)) counts[a.status] = (counts[a.status] ?? 0) + 1;
  print("cold", cold.ms, { statuses: counts });
  const warm: number[] = [];
  for (let i = 0; i < 20; i++) warm.push((await time()).ms);
  print("warm-p50", warm.sort((a, b) => a - b)[10]!);
  await storage.appendEvents([mat("a4499", Date.now())]);
  print("after-event", (await time()).ms);
  await storage.claimRuns({ workerId: "w", limit: 1, now: Date.now() });
  print("after-claim", (await time()).ms);
  // A new webserver process on the same store (partition indices already synced).
  const fresh = createApp({ instance });
  const t = performance.now();
  await (await fresh.request("/api/graph/status")).json();
  print("cold-restart", performance.now() - t);
} finally {
  await instance.close();
  rmSync(home, { recursive: true, force: true });
}
