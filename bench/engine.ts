// npm run bench:engine — N no-op assets (issue #2's DAG) in one run, on SQLite and Postgres,
// against the physical floor: the same number of event rows inserted by raw SQL in one
// transaction. Each case runs in its own process so peak RSS is per case.
// Options: BENCH_SIZES=1000,10000  BENCH_STORES=sqlite,postgres  BATON_TEST_DATABASE_URL=…
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineDefinitions, openInstance } from "@baton/core";
import Database from "better-sqlite3";
import pg from "pg";
import { createTestDatabase, dropTestDatabase, startTestPostgres } from "../tests/support/postgres.js";
import { benchDag } from "./dag.js";

const self = fileURLToPath(import.meta.url);

async function runCase(store: "sqlite" | "postgres", n: number, databaseUrl: string | undefined) {
  const home = mkdtempSync(path.join(os.tmpdir(), "baton-bench-"));
  try {
    const defs = defineDefinitions({ assets: benchDag(n) });
    const instance = await openInstance({ home, ...(databaseUrl ? { databaseUrl } : {}), env: {} });
    const t0 = performance.now();
    const summary = await instance.materialize(defs, { selection: "*" });
    const seconds = (performance.now() - t0) / 1000;
    if (summary.status !== "SUCCESS") throw new Error(`run ended ${summary.status}: ${summary.reason}`);
    const events = (await instance.storage.getEvents(summary.runId)).length;
    await instance.close();
    const floorSeconds =
      store === "sqlite" ? sqliteFloor(home, events) : await postgresFloor(databaseUrl!, events);
    const fileFloorSeconds = fileFloor(home, n);
    console.log(
      JSON.stringify({
        bench: "engine",
        case: `${store}-${n}`,
        assets: n,
        store,
        seconds: +seconds.toFixed(3),
        msPerAsset: +((seconds * 1000) / n).toFixed(4),
        events,
        rssMb: Math.round(process.resourceUsage().maxRSS / 1024),
        floorSeconds: +floorSeconds.toFixed(3),
        ratio: +(seconds / floorSeconds).toFixed(1),
        fileFloorSeconds: +fileFloorSeconds.toFixed(3),
        ratioToBothFloors: +(seconds / (floorSeconds + fileFloorSeconds)).toFixed(1),
        dagsterSqliteMsPerAsset: 158,
        speedupVsDagsterSqlite: +(158 / ((seconds * 1000) / n)).toFixed(0),
      }),
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

const row = (i: number) => ({
  run_id: "floor",
  run_seq: i,
  type: "step_succeeded",
  step_key: `asset_${i}`,
  asset_key: null,
  timestamp: Date.now(),
  body: JSON.stringify({ type: "step_succeeded", stepKey: `asset_${i}`, durationMs: 1, runId: "floor" }),
});

/**
 * The default IO manager stores each value as a small JSON file written atomically (temp file +
 * rename). This is the same number of such writes with nothing else: on this shared disk it
 * swings between ~0.2 s and several seconds for 10,000 files, so it is reported next to the run.
 */
function fileFloor(home: string, n: number): number {
  const dir = path.join(home, "file-floor");
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const file = path.join(dir, `asset_${i}.json`);
    writeFileSync(`${file}.tmp`, String(i % 1000));
    renameSync(`${file}.tmp`, file);
  }
  return (performance.now() - t0) / 1000;
}

/** Raw better-sqlite3: the same number of event rows in one transaction, WAL, same schema shape. */
function sqliteFloor(home: string, events: number): number {
  const db = new Database(path.join(home, "floor.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(
    "create table e (id integer primary key autoincrement, run_id text, run_seq integer, type text, step_key text, asset_key text, timestamp integer, body text)",
  );
  const insert = db.prepare(
    "insert into e (run_id, run_seq, type, step_key, asset_key, timestamp, body) values (@run_id, @run_seq, @type, @step_key, @asset_key, @timestamp, @body)",
  );
  const t0 = performance.now();
  db.transaction(() => {
    for (let i = 0; i < events; i++) insert.run(row(i));
  })();
  const s = (performance.now() - t0) / 1000;
  db.close();
  return s;
}

/** Raw pg: the same rows, multi-row INSERTs of 1,000 in one transaction. */
async function postgresFloor(url: string, events: number): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(
    "create table e (id bigserial primary key, run_id text, run_seq int, type text, step_key text, asset_key text, timestamp bigint, body text)",
  );
  const t0 = performance.now();
  await client.query("begin");
  for (let start = 0; start < events; start += 1000) {
    const values: unknown[] = [];
    const tuples: string[] = [];
    for (let i = start; i < Math.min(events, start + 1000); i++) {
      const r = row(i);
      const b = values.length;
      tuples.push(`($${b + 1},$${b + 2},$${b + 3},$${b + 4},$${b + 5},$${b + 6},$${b + 7})`);
      values.push(r.run_id, r.run_seq, r.type, r.step_key, r.asset_key, r.timestamp, r.body);
    }
    await client.query(
      `insert into e (run_id, run_seq, type, step_key, asset_key, timestamp, body) values ${tuples.join(",")}`,
      values,
    );
  }
  await client.query("commit");
  const s = (performance.now() - t0) / 1000;
  await client.end();
  return s;
}

async function parent() {
  const sizes = (process.env.BENCH_SIZES ?? "1000,10000").split(",").map(Number);
  const stores = (process.env.BENCH_STORES ?? "sqlite,postgres").split(",") as ("sqlite" | "postgres")[];
  let server: Awaited<ReturnType<typeof startTestPostgres>> = null;
  if (stores.includes("postgres")) {
    server = await startTestPostgres();
    if (!server)
      console.error(
        "bench:engine: no Postgres available (install postgresql or set BATON_TEST_DATABASE_URL); skipping it",
      );
  }
  try {
    for (const store of stores) {
      for (const n of sizes) {
        let url: string | undefined;
        if (store === "postgres") {
          if (!server) continue;
          url = await createTestDatabase(server.url);
        }
        const child = spawnSync(
          process.execPath,
          [...process.execArgv, self, "--case", store, String(n), url ?? ""],
          {
            stdio: "inherit",
          },
        );
        if (url) await dropTestDatabase(url);
        if (child.status !== 0) process.exitCode = 1;
      }
    }
  } finally {
    await server?.stop();
  }
}

const caseIndex = process.argv.indexOf("--case");
if (caseIndex >= 0) {
  const [store, n, url] = process.argv.slice(caseIndex + 1);
  await runCase(store as "sqlite" | "postgres", Number(n), url || undefined);
} else {
  await parent();
}
