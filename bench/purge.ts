// npm run bench:purge — event-log retention: a store with 1,000,000 events (many runs of 10–20
// events each: run and step events, a materialization, some check results, log lines with
// ~300-byte bodies; status rows pointing at the latest materialization per asset and partition),
// bulk-inserted with raw SQL, 90% of the runs ended before the cutoff. Then `Storage.purge` (the
// code `baton instance purge --execute` runs): seconds, events/s, the latency of event writes made
// by another connection meanwhile (the daemon's and workers' view), and the store's size before,
// after the purge and after vacuuming. One JSON line per case:
// - sqlite: the store as Baton creates it (auto_vacuum NONE), then VACUUM;
// - sqlite-incremental: auto_vacuum=INCREMENTAL set before the tables exist, then PRAGMA
//   incremental_vacuum (the alternative to VACUUM, for the README's choice);
// - postgres: pg_total_relation_size of the purged tables and the database before, after, and after
//   a plain VACUUM (ANALYZE) (what `--vacuum` runs: no exclusive lock).
// Each case also times the physical floor: one raw DELETE of the same runs' step events and logs in
// a single statement (unbatched, no status-row exclusions) on a second copy, and reports the ratio.
// Options: BENCH_EVENTS=1000000  BENCH_CASES=sqlite,sqlite-incremental,postgres  BENCH_FLOOR=1
import { statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import pg from "pg";
import { openStorage } from "../packages/core/dist/storage/open-storage.js";
import type { Storage } from "../packages/core/dist/storage/storage.js";
import { createTestDatabase, dropTestDatabase, startTestPostgres } from "../tests/support/postgres.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const CASES = (process.env.BENCH_CASES ?? "sqlite,sqlite-incremental,postgres").split(",");
const FLOOR = process.env.BENCH_FLOOR !== "0";
const DAY = 86_400_000;
const NOW = Date.now();
const CUTOFF = NOW - 30 * DAY;
const ASSETS = 50;
const PARTITIONED = 10; // asset_0 … asset_9 have 200 partitions each
const KEPT = [
  "run_started",
  "run_succeeded",
  "run_failed",
  "run_canceled",
  "step_succeeded",
  "step_failed",
  "step_skipped",
  "step_canceled",
];

interface EventRow {
  id: number;
  run_id: string;
  run_seq: number;
  type: string;
  step_key: string | null;
  asset_key: string | null;
  timestamp: number;
  body: string;
}
interface RunRow {
  id: number;
  run_id: string;
  created_at: number;
  ended_at: number;
  end_event_id: number;
  event_seq: number;
  asset_key: string;
}

interface Generated {
  latestMat: Map<string, { id: number; runId: string; at: number }>;
  latestPart: Map<string, { id: number; runId: string; at: number; index: number }>;
  latestCheck: Map<string, { id: number; runId: string; at: number }>;
  events: number;
}

/** The store's content, generated deterministically in batches of runs (~20,000 events each). */
function* generate(): Generator<{ runs: RunRow[]; events: EventRow[] }, Generated> {
  let rnd = 42;
  const rand = () => {
    rnd = (rnd * 1103515245 + 12345) & 0x7fffffff;
    return rnd / 0x7fffffff;
  };
  const filler = "x".repeat(240);
  let id = 0;
  let runs: RunRow[] = [];
  let events: EventRow[] = [];
  const latestMat = new Map<string, { id: number; runId: string; at: number }>();
  const latestPart = new Map<string, { id: number; runId: string; at: number; index: number }>();
  const latestCheck = new Map<string, { id: number; runId: string; at: number }>();
  // ~15.5 events per run on average: runs = EVENTS / 15.5; the oldest 90% ended before the cutoff.
  const runCount = Math.ceil(EVENTS / 15.5);
  const oldRuns = Math.floor(runCount * 0.9);
  for (let r = 0; id < EVENTS; r++) {
    const runId = `run-${r}`;
    const at = r < oldRuns ? CUTOFF - (oldRuns - r) * 60_000 : NOW - (runCount - r) * 1000;
    const assetKey = `asset_${r % ASSETS}`;
    const partIndex = Math.floor(r / ASSETS) % 200;
    const partition = r % ASSETS < PARTITIONED ? `p${partIndex}` : undefined;
    let seq = 0;
    let t = at;
    const push = (type: string, body: Record<string, unknown>, withAsset = false) => {
      id++;
      seq++;
      t += 10;
      events.push({
        id,
        run_id: runId,
        run_seq: seq,
        type,
        step_key: type.startsWith("run_") ? null : assetKey,
        asset_key: withAsset ? assetKey : null,
        timestamp: t,
        body: JSON.stringify({ type, runId, timestamp: t, ...body }),
      });
      return id;
    };
    push("run_started", { steps: [{ stepKey: assetKey, kind: "asset", assetKeys: [assetKey] }] });
    push("step_started", { stepKey: assetKey, kind: "asset", assetKeys: [assetKey], attempt: 1 });
    const logs = 6 + Math.floor(rand() * 9);
    for (let i = 0; i < logs; i++)
      push("log", { stepKey: assetKey, level: "info", message: `line ${i} ${filler}`, source: "logger" });
    const matId = push(
      "materialization",
      {
        stepKey: assetKey,
        assetKey,
        metadata: { rows: { type: "row_count", value: r } },
        dataVersion: `v${r}`,
        ...(partition ? { partition, partitionIndex: partIndex } : {}),
      },
      true,
    );
    latestMat.set(assetKey, { id: matId, runId, at: t });
    if (partition)
      latestPart.set(`${assetKey}\u0000${partition}`, { id: matId, runId, at: t, index: partIndex });
    if (r % 3 === 0) {
      const checkId = push(
        "check_evaluation",
        {
          stepKey: `${assetKey}:fresh`,
          assetKey,
          checkName: "fresh",
          passed: true,
          blocking: false,
          severity: "ERROR",
          metadata: {},
        },
        true,
      );
      latestCheck.set(assetKey, { id: checkId, runId, at: t });
    }
    push("step_succeeded", { stepKey: assetKey, durationMs: 100 });
    const endId = push("run_succeeded", {});
    runs.push({
      id: r + 1,
      run_id: runId,
      created_at: at,
      ended_at: t,
      end_event_id: endId,
      event_seq: seq,
      asset_key: assetKey,
    });
    if (events.length >= 20_000) {
      yield { runs, events };
      runs = [];
      events = [];
    }
  }
  if (events.length > 0) yield { runs, events };
  return { latestMat, latestPart, latestCheck, events: id };
}

const runValues = (r: RunRow) => [
  r.id,
  r.run_id,
  "SUCCESS",
  r.asset_key,
  JSON.stringify([r.asset_key]),
  "{}",
  "{}",
  r.created_at,
  r.created_at,
  r.ended_at,
  r.ended_at,
  r.end_event_id,
  r.event_seq,
];
const RUN_COLUMNS =
  "id, run_id, status, selection, asset_keys, config, tags, created_at, started_at, ended_at, updated_at, end_event_id, event_seq";

/** Feed every batch to `onBatch`; the generator's totals. */
async function feed(onBatch: (runs: RunRow[], events: EventRow[]) => unknown): Promise<Generated> {
  const gen = generate();
  for (;;) {
    const next = gen.next();
    if (next.done) return next.value;
    await onBatch(next.value.runs, next.value.events);
  }
}

function statusRows(g: Generated) {
  return {
    status: [...g.latestMat].map(([k, m]) => [k, m.id, m.runId, m.at, "{}", m.at]),
    partitions: [...g.latestPart].map(([k, m]) => {
      const [asset, partition] = k.split("\u0000");
      return [asset, partition, m.index, "materialized", m.runId, m.id, m.at, m.at];
    }),
    checks: [...g.latestCheck].map(([k, c]) => [k, "fresh", c.runId, c.id, 1, 0, "ERROR", "{}", c.at]),
  };
}

// ---- SQLite ----

async function sqliteStore(file: string, incremental: boolean) {
  if (incremental) {
    // auto_vacuum must be set before the first table exists (or a VACUUM converts the file).
    const raw = new Database(file);
    raw.pragma("auto_vacuum = INCREMENTAL");
    raw.exec("create table _init(x); drop table _init;");
    raw.close();
  }
  const storage = await openStorage({ sqlitePath: file });
  await storage.close();
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  const insEvent = db.prepare(
    "insert into event_logs (id, run_id, run_seq, type, step_key, asset_key, timestamp, body) values (?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const insRun = db.prepare(
    `insert into runs (${RUN_COLUMNS}) values (${RUN_COLUMNS.split(",")
      .map(() => "?")
      .join(", ")})`,
  );
  const batch = db.transaction((runs: RunRow[], events: EventRow[]) => {
    for (const r of runs) insRun.run(...runValues(r));
    for (const e of events)
      insEvent.run(e.id, e.run_id, e.run_seq, e.type, e.step_key, e.asset_key, e.timestamp, e.body);
  });
  const g = await feed((runs, events) => batch(runs, events));
  const s = statusRows(g);
  db.transaction(() => {
    const a = db.prepare(
      "insert into asset_status (asset_key, last_materialization_event_id, last_materialization_run_id, last_materialized_at, last_materialization_metadata, updated_at) values (?, ?, ?, ?, ?, ?)",
    );
    for (const row of s.status) a.run(...row);
    const p = db.prepare(
      "insert into asset_partitions (asset_key, partition_key, partition_index, status, last_run_id, last_materialization_event_id, last_materialized_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    for (const row of s.partitions) p.run(...row);
    const c = db.prepare(
      "insert into asset_check_latest (asset_key, check_name, run_id, event_id, passed, blocking, severity, metadata, timestamp) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    for (const row of s.checks) c.run(...row);
  })();
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  return g.events;
}

function sqliteSize(file: string) {
  const db = new Database(file);
  try {
    db.pragma("wal_checkpoint(TRUNCATE)");
    const pageSize = Number(db.pragma("page_size", { simple: true }));
    const pages = Number(db.pragma("page_count", { simple: true }));
    const free = Number(db.pragma("freelist_count", { simple: true }));
    return { fileMb: mb(statSync(file).size), pages, freePages: free, usedMb: mb((pages - free) * pageSize) };
  } finally {
    db.close();
  }
}

// ---- Postgres ----

async function pgStore(url: string) {
  const storage = await openStorage({ databaseUrl: url, sqlitePath: "unused" });
  await storage.close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const g = await feed(async (runs, events) => {
    const col = <K extends keyof EventRow>(k: K) => events.map((e) => e[k]);
    await client.query(
      `insert into runs (${RUN_COLUMNS}) select * from unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::int[])`,
      RUN_COLUMNS.split(",").map((_, i) => runs.map((r) => runValues(r)[i])),
    );
    await client.query(
      "insert into event_logs (id, run_id, run_seq, type, step_key, asset_key, timestamp, body) select * from unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[])",
      [
        col("id"),
        col("run_id"),
        col("run_seq"),
        col("type"),
        col("step_key"),
        col("asset_key"),
        col("timestamp"),
        col("body"),
      ],
    );
  });
  const s = statusRows(g);
  const insertAll = async (sqlText: string, rows: unknown[][]) => {
    for (const row of rows) await client.query(sqlText, row);
  };
  await client.query("begin");
  await insertAll(
    "insert into asset_status (asset_key, last_materialization_event_id, last_materialization_run_id, last_materialized_at, last_materialization_metadata, updated_at) values ($1, $2, $3, $4, $5, $6)",
    s.status,
  );
  await insertAll(
    "insert into asset_partitions (asset_key, partition_key, partition_index, status, last_run_id, last_materialization_event_id, last_materialized_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8)",
    s.partitions,
  );
  await insertAll(
    "insert into asset_check_latest (asset_key, check_name, run_id, event_id, passed, blocking, severity, metadata, timestamp) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    s.checks,
  );
  await client.query("commit");
  await client.query(
    "select setval(pg_get_serial_sequence('event_logs', 'id'), (select max(id) from event_logs))",
  );
  await client.query("select setval(pg_get_serial_sequence('runs', 'id'), (select max(id) from runs))");
  await client.query("vacuum analyze");
  await client.end();
  return g.events;
}

async function pgSize(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ ev: string; db: string }>(
      "select pg_total_relation_size('event_logs') as ev, pg_database_size(current_database()) as db",
    );
    return { eventLogsMb: mb(Number(rows[0]!.ev)), databaseMb: mb(Number(rows[0]!.db)) };
  } finally {
    await client.end();
  }
}

// ---- Measuring ----

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const secs = (ms: number) => Math.round(ms) / 1000;

function percentile(values: number[], p: number) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
}

/**
 * A writer in another thread (its own connection, as a worker process would have): appends a log
 * event to a run every 5 ms until told to stop, then posts the latencies.
 */
function startWriter(options: { sqlitePath: string; databaseUrl?: string }) {
  const moduleUrl = pathToFileURL(path.join(ROOT, "packages/core/dist/storage/open-storage.js")).href;
  const code = `
    const { parentPort, workerData } = require("node:worker_threads");
    (async () => {
      const { openStorage } = await import(workerData.moduleUrl);
      const store = await openStorage(workerData.options);
      await store.createRun({ runId: "writer", status: "QUEUED", selection: "w", assetKeys: ["w"], config: {}, tags: {}, createdAt: Date.now() });
      let stop = false;
      parentPort.on("message", () => { stop = true; });
      parentPort.postMessage("ready");
      const latencies = [];
      while (!stop) {
        const t = performance.now();
        await store.appendEvents([{ type: "log", runId: "writer", timestamp: Date.now(), level: "info", message: "during the purge", source: "logger" }]);
        latencies.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 5));
      }
      await store.close();
      parentPort.postMessage(latencies);
    })();`;
  const worker = new Worker(code, { eval: true, workerData: { moduleUrl, options } });
  const ready = new Promise<void>((resolve) => worker.once("message", () => resolve()));
  return {
    ready,
    async stop(): Promise<number[]> {
      const result = new Promise<number[]>((resolve) =>
        worker.once("message", (m) => resolve(m as number[])),
      );
      worker.postMessage("stop");
      const latencies = await result;
      await worker.terminate();
      return latencies;
    },
  };
}

/** BENCH_EXPLAIN=1: the plan of one purge statement (what kysely-retention.ts sends), rolled back. */
async function explainFirstStatement(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("begin");
    const kept = KEPT.map((k) => `'${k}'`).join(", ");
    const runIds = Array.from({ length: 500 }, (_, i) => `'run-${i}'`).join(", ");
    const { rows } =
      await client.query(`explain (analyze, buffers) delete from event_logs where id = any(array(
      select event_logs.id from event_logs where event_logs.run_id in (${runIds})
      and event_logs.type not in (${kept})
      and not (event_logs.type = 'materialization' and event_logs.id in (
        select last_materialization_event_id from asset_status where last_materialization_event_id is not null
        union all select last_materialization_event_id from asset_partitions where last_materialization_event_id is not null))
      and not (event_logs.type = 'check_evaluation' and event_logs.id in (select event_id from asset_check_latest))
      limit 5000)) returning run_id, type`);
    console.error(rows.map((r) => r["QUERY PLAN"]).join("\n"));
    await client.query("rollback");
  } finally {
    await client.end();
  }
}

async function runCase(name: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "baton-bench-purge-"));
  let server: Awaited<ReturnType<typeof startTestPostgres>> = null;
  const urls: string[] = [];
  try {
    const isPg = name === "postgres";
    let open: () => Promise<Storage>;
    let options: { sqlitePath: string; databaseUrl?: string };
    let size: () => Promise<Record<string, number>> | Record<string, number>;
    let build: () => Promise<number>;
    let floor: (() => Promise<number>) | undefined;
    const floorSql = `delete from event_logs where run_id in (select run_id from runs where ended_at < ${CUTOFF} and status in ('SUCCESS', 'FAILURE', 'CANCELED')) and type not in (${KEPT.map((k) => `'${k}'`).join(", ")})`;
    if (isPg) {
      server = await startTestPostgres();
      if (!server)
        throw new Error("no Postgres for the bench (set BATON_TEST_DATABASE_URL or install Postgres)");
      const url = await createTestDatabase(server.url);
      urls.push(url);
      options = { databaseUrl: url, sqlitePath: "unused" };
      open = () => openStorage(options);
      size = () => pgSize(url);
      build = () => pgStore(url);
      if (FLOOR)
        floor = async () => {
          const copy = await createTestDatabase(server!.url);
          urls.push(copy);
          await pgStore(copy);
          const client = new pg.Client({ connectionString: copy });
          await client.connect();
          const t = performance.now();
          await client.query(floorSql);
          const ms = performance.now() - t;
          await client.end();
          await dropTestDatabase(copy);
          urls.pop();
          return ms;
        };
    } else {
      const file = path.join(dir, "baton.db");
      options = { sqlitePath: file };
      open = () => openStorage(options);
      size = () => sqliteSize(file);
      build = () => sqliteStore(file, name === "sqlite-incremental");
      if (FLOOR)
        floor = async () => {
          const copy = path.join(dir, "floor.db");
          await sqliteStore(copy, false);
          const db = new Database(copy);
          const t = performance.now();
          db.exec(floorSql);
          const ms = performance.now() - t;
          db.close();
          return ms;
        };
    }
    let t = performance.now();
    const events = await build();
    const buildSeconds = secs(performance.now() - t);
    const before = await size();
    if (isPg && process.env.BENCH_EXPLAIN === "1") await explainFirstStatement(options.databaseUrl!);
    const storage = await open();
    t = performance.now();
    const dry = await storage.purge({ eventsBefore: CUTOFF, dryRun: true });
    const dryRunSeconds = secs(performance.now() - t);
    const writer = startWriter(options);
    await writer.ready;
    t = performance.now();
    const result = await storage.purge({ eventsBefore: CUTOFF });
    const ms = performance.now() - t;
    const latencies = await writer.stop();
    const afterPurge = await size();
    t = performance.now();
    if (name === "sqlite-incremental") {
      await storage.close();
      const db = new Database(path.join(dir, "baton.db"));
      db.pragma("incremental_vacuum");
      db.close();
    } else {
      await storage.vacuum();
      await storage.close();
    }
    const vacuumSeconds = secs(performance.now() - t);
    const afterVacuum = await size();
    const deleted = result.events + result.logs;
    const floorMs = floor ? await floor() : undefined;
    console.log(
      JSON.stringify({
        bench: "purge",
        case: `${name}-${events}`,
        store: isPg ? "postgres" : "sqlite",
        events,
        runsPurged: result.runs,
        eventsDeleted: deleted,
        logsDeleted: result.logs,
        dryRunCountMatches: dry.events === result.events && dry.logs === result.logs,
        buildSeconds,
        dryRunSeconds,
        seconds: secs(ms),
        eventsPerSecond: Math.round(deleted / (ms / 1000)),
        writesDuringPurge: latencies.length,
        writeP50Ms: percentile(latencies, 50),
        writeP99Ms: percentile(latencies, 99),
        writeMaxMs: percentile(latencies, 100),
        vacuum: name === "sqlite-incremental" ? "incremental_vacuum" : isPg ? "VACUUM (ANALYZE)" : "VACUUM",
        vacuumSeconds,
        before,
        afterPurge,
        afterVacuum,
        ...(floorMs !== undefined
          ? { floorSeconds: secs(floorMs), ratio: Math.round((ms / floorMs) * 100) / 100 }
          : {}),
      }),
    );
  } finally {
    for (const url of urls) await dropTestDatabase(url).catch(() => undefined);
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

for (const c of CASES) await runCase(c.trim());
