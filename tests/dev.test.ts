/**
 * `baton dev` and `npm start` end to end, as real processes: API tokens on the dev webserver, and
 * the first experience (`npm start -- --port 0`: data generated, URL printed, API up, Ctrl-C stops
 * every process). Both need the BUILT packages (the root `npm test` builds first).
 */
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { ROOT } from "./support/cli.js";
import {
  completion,
  describeProc,
  exitOf,
  expectExit,
  forget,
  isAlive,
  killGroup,
  outputShows,
  type Proc,
  spawnBaton,
  spawnCommand,
  stderrShows,
  waitFor,
} from "./support/processes.js";

const BASIC = path.join(ROOT, "tests/fixtures/basic");
const VIEWER = "viewer-token-0123456789";
const ADMIN = "admin-token-0123456789";

const procs: Proc[] = [];
const dirs: string[] = [];

/** Our environment without BATON_*, TAXI_* and CI, plus `extra`. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(BATON_|TAXI_|FIXTURE_)/.test(k) && k !== "CI" && v !== undefined) env[k] = v;
  return { ...env, ...extra };
}

async function tempDir(prefix: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const p of procs.splice(0)) {
    killGroup(p, "SIGKILL");
    await exitOf(p, 5_000).catch(() => undefined);
    forget(p);
  }
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const get = (url: string, token?: string) =>
  fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});

describe("baton dev", () => {
  test("honours BATON_API_TOKENS and BATON_API_TOKENS_FILE like baton webserver", async () => {
    const home = await tempDir("baton-dev-auth-");
    const file = path.join(home, "tokens.json");
    await writeFile(file, JSON.stringify([{ name: "ops", role: "admin", token: ADMIN }]));
    const dev = spawnBaton(["dev", "--workers", "1", "--port", "0", "--no-watch"], {
      cwd: BASIC,
      env: childEnv({ BATON_HOME: home, BATON_API_TOKENS: `viewer:${VIEWER}`, BATON_API_TOKENS_FILE: file }),
    });
    procs.push(dev);
    await stderrShows(dev, "baton dev: daemon + 1 worker", 20_000);
    const url = /baton dev: webserver on (http:\/\/127\.0\.0\.1:\d+) \(2 API token\(s\)\)/.exec(
      dev.stderr(),
    )?.[1];
    expect(url, describeProc(dev)).toBeDefined();

    expect((await get(`${url}/api/health`)).status).toBe(401);
    expect((await get(`${url}/api/health`, "not-a-token-0123456789")).status).toBe(401);
    expect((await get(`${url}/api/health`, VIEWER)).status).toBe(200);
    expect((await get(`${url}/api/health`, ADMIN)).status).toBe(200);
    // The viewer may read but not launch; the admin from the file may.
    const launch = (token: string) =>
      fetch(`${url}/api/runs`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ selection: "taxi/raw_trips" }),
      });
    expect((await launch(VIEWER)).status).toBe(403);
    expect((await launch(ADMIN)).status).toBe(201);

    dev.child.kill("SIGINT");
    expect(await exitOf(dev, 20_000)).toEqual({ code: 0, signal: null });
  });

  test("a malformed BATON_API_TOKENS is a usage error before anything starts", async () => {
    const home = await tempDir("baton-dev-auth-");
    const r = await completion(
      spawnBaton(["dev", "--workers", "1", "--port", "0", "--no-watch"], {
        cwd: BASIC,
        env: childEnv({ BATON_HOME: home, BATON_API_TOKENS: "viewer:short" }),
      }),
    );
    expectExit(r, 2);
    expect(r.stderr).toMatch(/^error: token "token1": at least 16 characters/);
    expect(r.stderr).not.toContain("looks like a bug");
    expect(r.stderr).not.toContain("worker");
  });

  test("a non-loopback --host without tokens is refused (a usage error naming BATON_API_TOKENS)", async () => {
    const home = await tempDir("baton-dev-auth-");
    const r = await completion(
      spawnBaton(["dev", "--workers", "1", "--port", "0", "--no-watch", "--host", "0.0.0.0"], {
        cwd: BASIC,
        env: childEnv({ BATON_HOME: home }),
      }),
    );
    expectExit(r, 2);
    expect(r.stderr).toMatch(/^error: Refusing to listen on 0\.0\.0\.0 without auth: set BATON_API_TOKENS/);
    expect(r.stderr).not.toContain("looks like a bug");
  });
});

describe("npm start", () => {
  test("generates a data set, starts baton dev on the example, prints the URL; Ctrl-C stops every process", async () => {
    const home = await tempDir("baton-start-home-");
    const landing = await tempDir("baton-start-landing-");
    const warehouse = path.join(await tempDir("baton-start-wh-"), "warehouse.duckdb");
    const start = spawnCommand(
      "npm start",
      "npm",
      ["start", "--silent", "--"],
      ["--port", "0", "--no-open", "--workers", "1"],
      {
        cwd: ROOT,
        env: childEnv({ BATON_HOME: home, TAXI_LANDING: landing, TAXI_WAREHOUSE: warehouse }),
      },
    );
    procs.push(start);
    // Building the UI once (when packages/ui/dist is missing) may come first.
    await outputShows(start, "stdout", "Baton is running:", 90_000);
    const url = /Baton is running: (http:\/\/127\.0\.0\.1:(\d+))\//.exec(start.stdout());
    expect(url, describeProc(start)).not.toBeNull();
    expect(Number(url![2])).toBeGreaterThan(0);
    expect(start.stdout()).toContain("No trip files in");
    expect((await readdir(landing)).sort()).toEqual([
      "green_tripdata_2019-01.csv.gz",
      "green_tripdata_2019-02.csv.gz",
      "green_tripdata_2019-03.csv.gz",
      "yellow_tripdata_2019-01.csv.gz",
      "yellow_tripdata_2019-02.csv.gz",
      "yellow_tripdata_2019-03.csv.gz",
    ]);
    expect(start.stdout()).toContain(`Store        ${path.join(home, "baton.db")}`);

    // The API sees the example's definitions, the daemon and the worker.
    const health = await waitFor(
      () => `the API at ${url![1]} to see the definitions, the daemon and a worker: ${describeProc(start)}`,
      async () => {
        const h = (await (await get(`${url![1]}/api/health`)).json()) as {
          daemon: { id: string } | null;
          workers: { pid: number }[];
          definitions: { assets: number } | null;
        };
        return h.daemon !== null && h.workers.length === 1 && h.definitions !== null && h;
      },
      30_000,
    );
    expect(health.definitions!.assets).toBeGreaterThanOrEqual(8);
    const devPid = Number(/daemon-(\d+)-/.exec(health.daemon!.id)?.[1]);
    expect(isAlive(devPid)).toBe(true);

    // Ctrl-C: the terminal sends SIGINT to the whole foreground group (npm and the start script).
    // The script exits 0; the shell npm runs it in then re-raises the SIGINT it got, as in a terminal.
    killGroup(start, "SIGINT");
    expect([0, "SIGINT"], describeProc(start)).toContain(
      await exitOf(start, 40_000).then((e) => e.signal ?? e.code),
    );
    await start.closed;
    expect(start.stdout(), describeProc(start)).toContain("Baton stopped.");
    // Exactly one SIGINT reached baton dev: npm's forwarded copy is not taken for a second
    // Ctrl-C (which would stop at once, exit 130).
    expect(start.stderr().match(/baton dev: received SIGINT, stopping/g), describeProc(start)).toHaveLength(
      1,
    );
    expect(start.stderr()).not.toContain("stopping at once");
    expect(isAlive(devPid)).toBe(false);
    for (const w of health.workers) expect(isAlive(w.pid)).toBe(false);
    await expect(fetch(`${url![1]}/api/health`)).rejects.toThrow();
  }, 150_000);

  test("baton dev stops by itself when the process that started it dies", async () => {
    const home = await tempDir("baton-start-home-");
    const landing = await tempDir("baton-start-landing-");
    const warehouse = path.join(await tempDir("baton-start-wh-"), "warehouse.duckdb");
    const start = spawnCommand(
      "npm start",
      "npm",
      ["start", "--silent", "--"],
      ["--port", "0", "--no-open", "--workers", "1"],
      {
        cwd: ROOT,
        env: childEnv({ BATON_HOME: home, TAXI_LANDING: landing, TAXI_WAREHOUSE: warehouse }),
      },
    );
    procs.push(start);
    await outputShows(start, "stdout", "Baton is running:", 90_000);
    const url = /Baton is running: (http:\/\/127\.0\.0\.1:\d+)\//.exec(start.stdout())![1]!;
    const health = await waitFor(
      "the daemon and a worker",
      async () => {
        const h = (await (await get(`${url}/api/health`)).json()) as {
          daemon: { id: string } | null;
          workers: { pid: number }[];
        };
        return h.daemon !== null && h.workers.length === 1 && h;
      },
      30_000,
    );
    const devPid = Number(/daemon-(\d+)-/.exec(health.daemon!.id)?.[1]);
    killGroup(start, "SIGKILL"); // npm and the start script, not baton dev's own group
    await exitOf(start, 5_000);
    await waitFor(
      () => `baton dev (pid ${devPid}) to stop: ${describeProc(start)}`,
      () => !isAlive(devPid),
      40_000,
    );
    for (const w of health.workers) await waitFor(`worker ${w.pid} to stop`, () => !isAlive(w.pid), 10_000);
  }, 150_000);
});
