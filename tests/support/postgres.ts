/**
 * A throwaway Postgres server for tests.
 *
 * Usage in a test file (one server per file keeps it fast):
 *
 * ```ts
 * const skipReason = requirePostgresOrSkipReason();
 * if (skipReason !== null) handleMissingPostgres(skipReason); // throws under CI, warns otherwise
 * describe.skipIf(skipReason !== null)("...", () => {
 *   let server: TestPostgres;
 *   beforeAll(async () => { server = (await startTestPostgres())!; });
 *   afterAll(async () => { await server?.stop(); });
 *   it("...", async () => { const url = await createTestDatabase(server.url); ... await dropTestDatabase(url); });
 * });
 * ```
 *
 * `BATON_TEST_DATABASE_URL` (an existing server) wins; otherwise a cluster is created with the installed
 * `initdb`/`pg_ctl` in a fresh temp dir, on a free loopback port, as OS user `postgres` when running as root.
 */
import type { SpawnOptions } from "node:child_process";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  accessSync,
  constants as fsConstants,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
} from "node:fs";
import { chown, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";

export interface TestPostgres {
  readonly url: string;
  stop(): Promise<void>;
  /**
   * Stops the server (`pg_ctl stop -m fast`: open sessions are terminated, as in a real restart), keeps
   * it down `downMs` (default 0), and starts it again on the same data dir and port. Resolves once it
   * accepts connections, with when it went down and when it was back (epoch ms). Only a throwaway
   * cluster can be restarted: with BATON_TEST_DATABASE_URL it rejects, saying so.
   */
  restart(options?: { downMs?: number }): Promise<{ stoppedAt: number; readyAt: number }>;
}

const ENV_URL = "BATON_TEST_DATABASE_URL";
const DEBIAN_PG_ROOT = "/usr/lib/postgresql";
const TEST_DB_PREFIX = "baton_test_";
const TEST_DB_NAME = /^baton_test_[0-9a-f]+$/;
const START_ATTEMPTS = 3;

interface PgBinaries {
  readonly initdb: string;
  readonly pgCtl: string;
}

/** The OS identity the cluster runs as; null means "as this process". */
interface OsUser {
  readonly uid: number;
  readonly gid: number;
}

interface Cluster {
  readonly pgCtl: string;
  readonly dir: string;
  readonly dataDir: string;
  readonly runAs: OsUser | null;
}

type Plan = { readonly bins: PgBinaries; readonly runAs: OsUser | null } | { readonly reason: string };

// ---------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------

/**
 * Why Postgres tests would have to be skipped, or null when `startTestPostgres()` can provide a server
 * (BATON_TEST_DATABASE_URL is set, or initdb/pg_ctl are installed and usable).
 */
export function requirePostgresOrSkipReason(): string | null {
  if (envDatabaseUrl() !== undefined) return null;
  const plan = planThrowaway();
  return "reason" in plan ? plan.reason : null;
}

/**
 * Returns a running server: BATON_TEST_DATABASE_URL when set, else a throwaway cluster; null when neither is
 * possible (then the caller skips, and `requirePostgresOrSkipReason()` explains). Errors from initdb/pg_ctl
 * are thrown with their output and the server log in the message.
 */
export async function startTestPostgres(): Promise<TestPostgres | null> {
  const envUrl = envDatabaseUrl();
  if (envUrl !== undefined)
    return {
      url: envUrl,
      stop: async () => {},
      restart: () =>
        Promise.reject(
          new Error(
            `restart() needs a throwaway cluster: the server at ${ENV_URL} is not this test's to restart (unset ${ENV_URL})`,
          ),
        ),
    };
  const plan = planThrowaway();
  if ("reason" in plan) return null;
  return startThrowawayCluster(plan.bins, plan.runAs);
}

/**
 * Creates a fresh, uniquely named empty database (`baton_test_<random hex>`) on the server and returns its
 * URL (the server URL with the database path replaced).
 */
export async function createTestDatabase(serverUrl: string): Promise<string> {
  const name = TEST_DB_PREFIX + randomBytes(8).toString("hex");
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  return withDatabaseName(serverUrl, name);
}

/**
 * Drops a database made by `createTestDatabase` (WITH (FORCE): open connections to it are terminated, so
 * give long-lived clients an "error" listener). Refuses names that are not `baton_test_<hex>`. Idempotent.
 */
export async function dropTestDatabase(databaseUrl: string): Promise<void> {
  const name = databaseNameOf(databaseUrl);
  if (!TEST_DB_NAME.test(name)) {
    throw new Error(`dropTestDatabase: refusing to drop "${name}", which is not a baton_test_<hex> database`);
  }
  const sql = `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`;
  // Like dropdb: connect to the "postgres" maintenance database, falling back to template1.
  try {
    await withClient(withDatabaseName(databaseUrl, "postgres"), (client) => client.query(sql));
  } catch (error) {
    if (!isMissingDatabaseError(error)) throw error;
    await withClient(withDatabaseName(databaseUrl, "template1"), (client) => client.query(sql));
  }
}

/**
 * Call when Postgres is unavailable. Under CI (CI set, non-empty, not "false"/"0") it throws, failing the
 * suite; otherwise it prints a loud warning so the caller can skip.
 */
export function handleMissingPostgres(reason: string): void {
  const advice = "Set BATON_TEST_DATABASE_URL or install postgresql (initdb/pg_ctl)";
  if (isCi()) {
    throw new Error(`Postgres tests cannot be skipped under CI (CI=${process.env.CI}): ${reason}. ${advice}`);
  }
  const line = "!".repeat(100);
  console.warn(`\n${line}\n!!! Postgres tests SKIPPED: ${reason}. ${advice}\n${line}\n`);
}

// ---------------------------------------------------------------------------------------------------------
// Finding binaries and the OS user
// ---------------------------------------------------------------------------------------------------------

function envDatabaseUrl(): string | undefined {
  const value = process.env[ENV_URL]?.trim();
  return value ? value : undefined;
}

function isCi(): boolean {
  const value = process.env.CI?.trim().toLowerCase();
  return value !== undefined && value !== "" && value !== "false" && value !== "0";
}

function planThrowaway(): Plan {
  const bins = findPostgresBinaries();
  if (bins === null) {
    return {
      reason: `${ENV_URL} is not set and no initdb/pg_ctl was found under ${DEBIAN_PG_ROOT}/<version>/bin or on PATH`,
    };
  }
  if (process.getuid?.() !== 0) return { bins, runAs: null };
  const runAs = lookUpOsUser("postgres");
  if (runAs === null) {
    return {
      reason:
        "running as root, and there is no OS user 'postgres' in /etc/passwd to run the throwaway cluster as " +
        "(Postgres refuses to run as root)",
    };
  }
  return { bins, runAs };
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** initdb and pg_ctl: first under /usr/lib/postgresql/<highest version>/bin, then on PATH. */
function findPostgresBinaries(): PgBinaries | null {
  let versions: string[] = [];
  try {
    versions = readdirSync(DEBIAN_PG_ROOT).filter((name) => /^\d+(\.\d+)*$/.test(name));
  } catch {
    // no Debian-style installation
  }
  versions.sort((a, b) => compareVersions(b, a));
  for (const version of versions) {
    const bin = path.join(DEBIAN_PG_ROOT, version, "bin");
    const initdb = path.join(bin, "initdb");
    const pgCtl = path.join(bin, "pg_ctl");
    if (isExecutable(initdb) && isExecutable(pgCtl)) return { initdb, pgCtl };
  }

  const initdb = whichSync("initdb");
  if (initdb === null) return null;
  // Prefer the pg_ctl of the same installation (the real directory behind a symlinked initdb).
  for (const dir of new Set([path.dirname(safeRealpath(initdb)), path.dirname(initdb)])) {
    const pgCtl = path.join(dir, "pg_ctl");
    if (isExecutable(pgCtl)) return { initdb, pgCtl };
  }
  const pgCtl = whichSync("pg_ctl");
  return pgCtl === null ? null : { initdb, pgCtl };
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

function whichSync(command: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function safeRealpath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

function lookUpOsUser(name: string): OsUser | null {
  let passwd: string;
  try {
    passwd = readFileSync("/etc/passwd", "utf8");
  } catch {
    return null;
  }
  for (const line of passwd.split("\n")) {
    const fields = line.split(":");
    if (fields[0] !== name || fields.length < 4) continue;
    const uid = Number(fields[2]);
    const gid = Number(fields[3]);
    if (Number.isInteger(uid) && Number.isInteger(gid) && uid !== 0) return { uid, gid };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// The throwaway cluster
// ---------------------------------------------------------------------------------------------------------

async function startThrowawayCluster(bins: PgBinaries, runAs: OsUser | null): Promise<TestPostgres> {
  const dir = await mkdtemp(path.join(tmpdir(), "baton-pg-"));
  const dataDir = path.join(dir, "data");
  const logFile = path.join(dir, "log");
  const cluster: Cluster = { pgCtl: bins.pgCtl, dir, dataDir, runAs };
  try {
    if (dir.includes("'")) throw new Error(`temp dir ${dir} contains a quote, which pg_ctl -o can't take`);
    if (runAs !== null) await chown(dir, runAs.uid, runAs.gid);
    await run(
      bins.initdb,
      ["-D", dataDir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"],
      cluster,
    );

    for (let attempt = 1; ; attempt++) {
      const port = await freeLoopbackPort();
      const options = [
        `-p ${port}`,
        `-k '${dir}'`,
        "-c listen_addresses=127.0.0.1",
        "-c fsync=off",
        "-c full_page_writes=off",
        "-c synchronous_commit=off",
        "-c max_connections=200",
      ].join(" ");
      await rm(logFile, { force: true });
      clusterRegistry().add(cluster); // from here on a crashed run still stops the postmaster
      try {
        await run(bins.pgCtl, ["-D", dataDir, "-w", "-l", logFile, "start", "-o", options], cluster);
      } catch (error) {
        const log = await readFile(logFile, "utf8").catch(() => "");
        stopClusterSync(cluster); // in case pg_ctl gave up waiting on a postmaster that is still coming up
        clusterRegistry().delete(cluster);
        if (attempt < START_ATTEMPTS && /could not bind|address already in use/i.test(log)) continue;
        throw new Error(`${(error as Error).message}\n--- server log (${logFile}) ---\n${log}`, {
          cause: error,
        });
      }
      return clusterHandle(cluster, `postgres://postgres@127.0.0.1:${port}/postgres`, { logFile, options });
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    throw error;
  }
}

function clusterHandle(
  cluster: Cluster,
  url: string,
  start: { readonly logFile: string; readonly options: string },
): TestPostgres {
  let stopping: Promise<void> | undefined;
  const restart = async (options: { downMs?: number } = {}) => {
    if (stopping) throw new Error("restart(): the server was stopped");
    await run(cluster.pgCtl, ["-D", cluster.dataDir, "-w", "-m", "fast", "stop"], cluster);
    const stoppedAt = Date.now();
    if ((options.downMs ?? 0) > 0) await new Promise((resolve) => setTimeout(resolve, options.downMs));
    // The same port and options as the first start; -w returns once it accepts connections.
    await run(
      cluster.pgCtl,
      ["-D", cluster.dataDir, "-w", "-l", start.logFile, "start", "-o", start.options],
      cluster,
    );
    return { stoppedAt, readyAt: Date.now() };
  };
  const stop = async (): Promise<void> => {
    try {
      await run(cluster.pgCtl, ["-D", cluster.dataDir, "-m", "immediate", "stop"], cluster);
    } catch (error) {
      // Already gone (killed, or its data dir removed) is as good as stopped.
      if (!/does not exist|Is server running\?/.test((error as Error).message)) throw error;
    }
    clusterRegistry().delete(cluster);
    await rm(cluster.dir, { recursive: true, force: true });
  };
  return {
    url,
    restart,
    stop: () => {
      stopping ??= stop().catch((error: unknown) => {
        stopping = undefined; // let a later call (or the exit hook) try again
        throw error;
      });
      return stopping;
    },
  };
}

/** Asks the OS for a free port on 127.0.0.1 (listen on port 0, read it, close). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === "object") resolve(address.port);
        else reject(new Error(`could not read a free port (address: ${String(address)})`));
      });
    });
  });
}

function spawnIdentity(cluster: Cluster): Pick<SpawnOptions, "uid" | "gid" | "cwd" | "env"> {
  // cwd is the temp dir so the postgres user can always reach it; LC_ALL=C keeps messages in English.
  const env = { ...process.env, LC_ALL: "C", PGDATA: cluster.dataDir };
  if (cluster.runAs === null) return { cwd: cluster.dir, env };
  return {
    cwd: cluster.dir,
    env: { ...env, HOME: cluster.dir },
    uid: cluster.runAs.uid,
    gid: cluster.runAs.gid,
  };
}

/** Runs a command to completion; rejects with its exit status, stderr and stdout in the message. */
function run(command: string, args: readonly string[], cluster: Cluster): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...spawnIdentity(cluster), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", (error) =>
      reject(new Error(`could not run ${command}: ${error.message}`, { cause: error })),
    );
    child.on("close", (code, signal) => {
      if (code === 0) return resolve();
      const status = code !== null ? `exit code ${code}` : `signal ${signal}`;
      const as = cluster.runAs === null ? "" : ` (as uid ${cluster.runAs.uid})`;
      reject(
        new Error(
          `${command} ${args.map(shellQuote).join(" ")}${as} failed with ${status}\n` +
            `--- stderr ---\n${stderr.trimEnd()}\n--- stdout ---\n${stdout.trimEnd()}`,
        ),
      );
    });
  });
}

function shellQuote(arg: string): string {
  return /^[\w./=:,@+-]+$/.test(arg) ? arg : `"${arg.replaceAll('"', '\\"')}"`;
}

// ---------------------------------------------------------------------------------------------------------
// Exit hook: the only global state. Shared through globalThis so that re-evaluating this module (vitest
// without isolation) neither loses track of clusters nor stacks up exit listeners.
// ---------------------------------------------------------------------------------------------------------

const REGISTRY_KEY = Symbol.for("baton.tests.postgres.liveClusters");

function clusterRegistry(): Set<Cluster> {
  const holder = globalThis as { [REGISTRY_KEY]?: Set<Cluster> };
  let registry = holder[REGISTRY_KEY];
  if (registry === undefined) {
    const clusters = new Set<Cluster>();
    registry = clusters;
    holder[REGISTRY_KEY] = clusters;
    process.on("exit", () => {
      for (const cluster of clusters) {
        stopClusterSync(cluster);
        rmSync(cluster.dir, { recursive: true, force: true });
      }
      clusters.clear();
    });
  }
  return registry;
}

/** Best-effort synchronous immediate stop; never throws. */
function stopClusterSync(cluster: Cluster): void {
  try {
    spawnSync(cluster.pgCtl, ["-D", cluster.dataDir, "-m", "immediate", "stop"], {
      ...spawnIdentity(cluster),
      stdio: "ignore",
      timeout: 15_000,
    });
  } catch {
    // best effort
  }
}

// ---------------------------------------------------------------------------------------------------------
// pg helpers
// ---------------------------------------------------------------------------------------------------------

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 15_000 });
  client.on("error", () => {}); // errors of in-flight calls reject those calls; don't crash on stray ones
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

function withDatabaseName(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

function databaseNameOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ""));
}

function isMissingDatabaseError(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "3D000";
}
