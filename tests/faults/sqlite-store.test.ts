/**
 * Fault scenario 6 (issue 14): the SQLite store on a full disk and on a read-only file.
 *
 * Real `baton materialize` children and a real `baton worker` pool against a real store file;
 * everything asserted is read back from that file (runs, event_logs, asset_status, workers) or
 * from what the CLI printed.
 *
 * Full disk: mounting a small tmpfs/loopback needs privileges CI containers do not give, so the
 * file is capped instead: BATON_TEST_SQLITE_PRAGMAS=max_page_count=N (sqlite-dialect.ts, for
 * fault tests only) makes SQLite answer SQLITE_FULL ("database or disk is full") exactly as it
 * does when the disk has no room, from the same code path (the pager cannot add a page). The
 * cap is the file's size after a first run plus a few pages: the next run's record fits, its
 * 400 KB materialization does not.
 *
 * Read-only: a real `chmod 0444` of the store file. Root ignores file modes, and CI runs as
 * root, so as root the children run as the unprivileged user `nobody` (spawn's uid/gid), for
 * whom the mode holds; otherwise as the current user. (As root with a checkout `nobody` cannot
 * read, it falls back to `query_only=1` through the hook: see `readOnlyPlan`.) (Opening with better-sqlite3's
 * `readonly` or `PRAGMA query_only` would also give SQLITE_READONLY, but would not show what a
 * user hits: SQLite silently opening the file read-only, and creating -wal/-shm files that
 * inherit the 0444 mode, so making only baton.db writable again is not enough.)
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, test } from "vitest";
import { BIN, ROOT, STACK_LINE } from "../support/cli.js";
import { describeProc, exitOf, forget, killGroup, spawnBaton, waitFor } from "../support/processes.js";

const FIXTURE = path.join(ROOT, "tests/fixtures/faults-sqlite");
const PRAGMAS_ENV = "BATON_TEST_SQLITE_PRAGMAS";
const CHILD_TIMEOUT_MS = 60_000;
const UUID = /run ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}) started/;

interface Identity {
  readonly uid: number;
  readonly gid: number;
  readonly name: string;
}
interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * How the read-only test makes the store read-only for its children:
 * - not root: a real chmod 0444 binds us;
 * - root: a real chmod 0444, the children running as `nobody` — if `nobody` can read this
 *   checkout (the CLI, node_modules, the fixture; a clone under /root cannot be);
 * - else (root, checkout unreadable to others): `PRAGMA query_only=1` through the fault-test hook
 *   (same SQLITE_READONLY and message; no -wal/-shm leftovers to show), said in the figures.
 */
interface ReadOnlyPlan {
  readonly as: Identity | undefined;
  readonly method: string;
  /** Extra environment of the refused commands. */
  readonly refuse: Record<string, string>;
  /**
   * A real file mode (not the pragma): SQLite's -wal/-shm leftovers (created 0444 by a read-only
   * opener) can be shown, and reads still work (query_only also refuses the BEGIN IMMEDIATE every
   * open takes to check migrations; a read-only file does not).
   */
  readonly realFileMode: boolean;
}

function readOnlyPlan(): ReadOnlyPlan {
  const chmod = { refuse: {}, realFileMode: true };
  if (process.getuid?.() !== 0) return { ...chmod, as: undefined, method: "chmod 0444 baton.db (not root)" };
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("nobody:"));
  const [, , uid, gid] = line?.split(":") ?? [];
  const as = line ? { uid: Number(uid), gid: Number(gid), name: "nobody" } : undefined;
  const probe = as
    ? spawnSync(
        process.execPath,
        [
          "-e",
          `require("fs").readFileSync(${JSON.stringify(path.join(FIXTURE, "definitions.ts"))}); require(${JSON.stringify(path.join(ROOT, "node_modules/better-sqlite3"))})`,
        ],
        { cwd: FIXTURE, uid: as.uid, gid: as.gid, timeout: 30_000, stdio: "ignore" },
      )
    : undefined;
  if (as && probe?.status === 0)
    return {
      ...chmod,
      as,
      method: `chmod 0444 baton.db, children as nobody (uid ${as.uid}; the test runs as root)`,
    };
  return {
    as: undefined,
    method: `PRAGMA query_only=1 (root ignores file modes, and ${as ? "nobody cannot read this checkout" : "there is no user nobody"})`,
    refuse: { [PRAGMAS_ENV]: "query_only=1" },
    realFileMode: false,
  };
}

const homes: string[] = [];
async function makeHome(owner?: Identity): Promise<string> {
  const home = await mkdtemp(path.join(tmpdir(), "baton-faults-sqlite-"));
  homes.push(home);
  if (owner) {
    chmodSync(home, 0o755);
    chownSync(home, owner.uid, owner.gid);
  }
  return home;
}
afterAll(async () => {
  for (const home of homes) await rm(home, { recursive: true, force: true });
});

/** Our environment without BATON_*, FIXTURE_* and CI, plus BATON_HOME and `extra`. */
function childEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(BATON_|FIXTURE_)/.test(k) && k !== "CI" && v !== undefined) env[k] = v;
  return Object.assign(env, { BATON_HOME: home, ...extra });
}

function baton(
  args: readonly string[],
  home: string,
  extra: Record<string, string> = {},
  as?: Identity,
): Promise<CliResult> {
  const env = childEnv(home, extra);
  if (as) env.HOME = home; // nobody's home (/nonexistent) is not writable: tsx caches under TMPDIR anyway
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], {
    cwd: FIXTURE,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    ...(as ? { uid: as.uid, gid: as.gid } : {}),
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (c: string) => {
    stdout += c;
  });
  child.stderr!.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(`baton ${args.join(" ")} did not exit in ${CHILD_TIMEOUT_MS} ms\n${stdout}\n${stderr}`),
      );
    }, CHILD_TIMEOUT_MS);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const describeResult = (r: CliResult) =>
  `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;

/** A refused command: exit 2, ONE `error:` line naming the store and `cause`, no stack trace. */
function expectStoreError(r: CliResult, store: string, cause: RegExp): string {
  expect(r.code, describeResult(r)).toBe(2);
  const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
  expect(errors, describeResult(r)).toHaveLength(1);
  expect(errors[0]).toContain(store);
  expect(errors[0]).toMatch(cause);
  expect(r.stderr).not.toMatch(STACK_LINE);
  expect(r.stderr).not.toContain("looks like a bug");
  return errors[0]!;
}

/** Read the store through a raw read-only connection (then hand its files back to `owner`). */
function readStore<T>(file: string, fn: (db: Database.Database) => T, owner?: Identity): T {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
    // As root, a -shm this connection created is root's: the children could not open it.
    if (owner)
      for (const name of readdirSync(path.dirname(file)))
        if (name.startsWith(path.basename(file)))
          chownSync(path.join(path.dirname(file), name), owner.uid, owner.gid);
  }
}

const integrity = (db: Database.Database) =>
  (db.pragma("integrity_check") as { integrity_check: string }[]).map((r) => r.integrity_check).join("; ");

interface Snapshot {
  readonly runs: { run_id: string; status: string }[];
  readonly events: { id: number; run_id: string; run_seq: number; type: string; body: string }[];
  readonly assets: { asset_key: string; last_materialization_run_id: string | null }[];
  readonly checks: { asset_key: string; check_name: string; run_id: string; passed: number }[];
}
function snapshot(db: Database.Database): Snapshot {
  return {
    runs: db.prepare("select run_id, status from runs order by id").all() as Snapshot["runs"],
    events: db
      .prepare("select id, run_id, run_seq, type, body from event_logs order by id")
      .all() as Snapshot["events"],
    assets: db
      .prepare("select asset_key, last_materialization_run_id from asset_status order by asset_key")
      .all() as Snapshot["assets"],
    checks: db
      .prepare("select asset_key, check_name, run_id, passed from asset_check_latest order by 1, 2")
      .all() as Snapshot["checks"],
  };
}

function runIdOf(r: CliResult): string {
  const match = UUID.exec(r.stderr);
  expect(match, describeResult(r)).not.toBeNull();
  return match![1]!;
}

describe("fault 6: the SQLite store on a full disk and on a read-only file", () => {
  test("a full store refuses writes with one clear error, stays intact, and works once space returns", async () => {
    const home = await makeHome();
    const store = path.join(home, "baton.db");
    const first = await baton(["materialize", "--select", "*"], home);
    expect(first.code, describeResult(first)).toBe(0);
    const firstRun = runIdOf(first);
    const before = readStore(store, snapshot);
    expect(before.runs).toEqual([{ run_id: firstRun, status: "SUCCESS" }]);
    const pages = readStore(store, (db) => db.pragma("page_count", { simple: true }) as number);

    // Room for a run's record and first events, not for a 400 KB materialization (~100 pages).
    const full = { [PRAGMAS_ENV]: `max_page_count=${pages + 10}`, FIXTURE_BIG_METADATA: "400000" };
    // A run executed by `baton materialize` in its own process.
    const refused = await baton(["materialize", "--select", "*"], home, full);
    const message = expectStoreError(refused, store, /is full \(database or disk is full\)/);
    const refusedRuns = [runIdOf(refused)];

    // A queued run executed by a worker (its pool's child process writes the events): the worker
    // records it as FAILURE with the store's reason, and keeps working (heartbeats still land).
    const worker = spawnBaton(["worker", "--concurrency", "1", "--heartbeat-ms", "300"], {
      cwd: FIXTURE,
      env: childEnv(home, full),
    });
    let workerRun: { status: string; reason: string | undefined; heartbeatAt: number } | undefined;
    try {
      const launched = await baton(["launch", "--select", "*"], home);
      expect(launched.code, describeResult(launched)).toBe(0);
      const queuedRun = /[0-9a-f]{8}-[0-9a-f-]{27}/.exec(launched.stdout)?.[0];
      expect(queuedRun, describeResult(launched)).toBeDefined();
      refusedRuns.push(queuedRun!);
      const readRun = () =>
        readStore(store, (db) => {
          const run = db.prepare("select status from runs where run_id = ?").get(queuedRun) as {
            status: string;
          };
          const failed = db
            .prepare("select body from event_logs where run_id = ? and type = 'run_failed'")
            .get(queuedRun) as { body: string } | undefined;
          const beat = db
            .prepare("select max(heartbeat_at) as at from workers where status = 'running'")
            .get() as {
            at: number | null;
          };
          return {
            status: run.status,
            reason: failed ? (JSON.parse(failed.body) as { reason: string }).reason : undefined,
            heartbeatAt: beat.at ?? 0,
          };
        });
      workerRun = await waitFor(
        () => `the worker's run ${queuedRun} to end\n${describeProc(worker)}`,
        () => {
          const r = readRun();
          return r.status === "FAILURE" || r.status === "SUCCESS" ? r : undefined;
        },
        60_000,
      );
      expect(workerRun.status).toBe("FAILURE");
      expect(workerRun.reason).toContain(`The SQLite store at ${store} is full (database or disk is full)`);
      const beatAfterFailure = workerRun.heartbeatAt;
      await waitFor(
        "a worker heartbeat after the refused run",
        () => readRun().heartbeatAt > beatAfterFailure,
        30_000,
      );
      expect(worker.exitInfo(), describeProc(worker)).toBeUndefined();
    } finally {
      killGroup(worker, "SIGTERM");
      await exitOf(worker, 30_000).catch(() => killGroup(worker, "SIGKILL"));
      forget(worker);
    }

    const during = readStore(store, (db) => ({ integrity: integrity(db), ...snapshot(db) }));
    expect(during.integrity).toBe("ok");
    // Nothing stored before the fault changed: the first run's events byte for byte, its status rows.
    expect(during.events.filter((e) => e.run_id === firstRun)).toEqual(before.events);
    expect(during.assets).toEqual(before.assets);
    expect(during.checks).toEqual(before.checks);
    // Each refused run is in the store under the id the CLI printed (so it can be found), never
    // reported as a success, and nothing of its refused batch was half-written: no
    // materialization of it is stored, and its per-run sequence numbers have no gap.
    const refusedStatus: string[] = [];
    for (const runId of refusedRuns) {
      const run = during.runs.find((r) => r.run_id === runId);
      expect(run, `refused run ${runId} is in the store`).toBeDefined();
      refusedStatus.push(run!.status);
      const events = during.events.filter((e) => e.run_id === runId);
      // Ended as FAILURE with the store's reason: the CLI's in-process run and the worker's run
      // both record a refused write (storage/record-run-failure.ts, worker/run-worker.ts), so
      // nothing is left QUEUED or STARTED for ever.
      expect(run!.status).toBe("FAILURE");
      expect(events.find((e) => e.type === "run_failed")?.body).toMatch(
        /is full \(database or disk is full\)/,
      );
      expect(events.filter((e) => e.type === "materialization")).toEqual([]);
      expect(events.map((e) => e.run_seq)).toEqual(events.map((_e, i) => i + 1));
    }

    // Space returns (the cap is lifted): the same command on the same store succeeds.
    const started = Date.now();
    const again = await baton(["materialize", "--select", "*"], home, { FIXTURE_BIG_METADATA: "400000" });
    const recoveryMs = Date.now() - started;
    expect(again.code, describeResult(again)).toBe(0);
    const lastRun = runIdOf(again);
    const after = readStore(store, (db) => ({ integrity: integrity(db), ...snapshot(db) }));
    expect(after.integrity).toBe("ok");
    expect(after.runs.find((r) => r.run_id === lastRun)?.status).toBe("SUCCESS");
    expect(after.events.filter((e) => e.run_id === firstRun)).toEqual(before.events);
    expect(after.assets.map((a) => a.last_materialization_run_id)).toEqual([lastRun, lastRun]);
    const blob = after.events.find(
      (e) => e.run_id === lastRun && e.type === "materialization" && e.body.length > 400_000,
    );
    expect(blob, "the 400 KB materialization refused before is stored now").toBeDefined();

    console.log(
      `FAULT_FIGURES ${JSON.stringify({
        scenario: "sqlite-full-disk",
        backend: "sqlite",
        method: "PRAGMA max_page_count (file capped 10 pages above its size)",
        writesRefused: refusedRuns.length,
        refusedBy: ["baton materialize", "baton worker"],
        refusedRunStatus: refusedStatus,
        integrity: after.integrity,
        earlierDataIntact: true,
        recovered: true,
        recoveryCommandMs: recoveryMs,
        message,
      })}`,
    );
  }, 150_000);

  test("a read-only store refuses writes with one clear error, stays intact, and works once writable", async () => {
    const plan = readOnlyPlan();
    const as = plan.as;
    const home = await makeHome(as);
    const store = path.join(home, "baton.db");
    const storeFiles = () =>
      readdirSync(home)
        .filter((n) => n.startsWith("baton.db"))
        .map((n) => path.join(home, n));
    const first = await baton(["materialize", "--select", "*"], home, {}, as);
    expect(first.code, describeResult(first)).toBe(0);
    const firstRun = runIdOf(first);
    const before = readStore(store, snapshot, as);

    for (const file of storeFiles()) chmodSync(file, 0o444);
    // Writes are refused; reading still works.
    const commands = [["materialize", "--select", "*"]];
    let message = "";
    for (const args of commands) {
      const r = await baton(args, home, plan.refuse, as);
      message = expectStoreError(r, store, /is read-only/);
    }
    if (plan.realFileMode) {
      const list = await baton(["runs", "list"], home, plan.refuse, as);
      expect(list.code, describeResult(list)).toBe(0);
      expect(list.stdout).toContain(firstRun);
    }
    const during = readStore(store, (db) => ({ integrity: integrity(db), ...snapshot(db) }), as);
    expect(during.integrity).toBe("ok");
    expect(during).toEqual({ integrity: "ok", ...before });

    // SQLite created -wal/-shm files meanwhile, with the store's 0444 mode: making only
    // baton.db writable again is not enough, which is why the message names those files.
    if (plan.realFileMode) {
      const leftovers = storeFiles().filter((f) => f !== store);
      expect(leftovers.map((f) => path.basename(f)).sort()).toEqual(["baton.db-shm", "baton.db-wal"]);
      chmodSync(store, 0o644);
      const half = await baton(["materialize", "--select", "*"], home, {}, as);
      expectStoreError(half, store, /is read-only .*-wal and -shm files/);
    }
    // Writable again: the file and its -wal/-shm files, as the message says.
    for (const file of storeFiles()) chmodSync(file, 0o644);
    const again = await baton(["materialize", "--select", "*"], home, {}, as);
    expect(again.code, describeResult(again)).toBe(0);
    const lastRun = runIdOf(again);
    const after = readStore(store, (db) => ({ integrity: integrity(db), ...snapshot(db) }), as);
    expect(after.integrity).toBe("ok");
    expect(after.runs).toEqual([
      { run_id: firstRun, status: "SUCCESS" },
      { run_id: lastRun, status: "SUCCESS" },
    ]);
    expect(after.events.filter((e) => e.run_id === firstRun)).toEqual(before.events);

    console.log(
      `FAULT_FIGURES ${JSON.stringify({
        scenario: "sqlite-read-only",
        backend: "sqlite",
        method: plan.method,
        commandsRefused: commands.length + (plan.realFileMode ? 1 : 0),
        refusedWithOnlyDbFileWritable: plan.realFileMode,
        readsStillWork: plan.realFileMode,
        runsCreatedWhileReadOnly: during.runs.length - before.runs.length,
        integrity: after.integrity,
        earlierDataIntact: true,
        recovered: true,
        message,
      })}`,
    );
  }, 120_000);
});
