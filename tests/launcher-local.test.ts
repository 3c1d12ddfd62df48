/**
 * The run launcher module (packages/core/src/launcher): a local launcher started from code runs
 * queued runs in real child processes (this package's `baton worker --child`) on a real SQLite
 * store and stops cleanly; the launcher selection of baton.config.json; `baton worker` refusing a
 * bad configuration and `--run-id` executing exactly one claimed run.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, test } from "vitest";
import { main } from "../packages/core/src/cli/main.js";
import type { Definitions } from "../packages/core/src/definitions/definitions.js";
import { openInstance } from "../packages/core/src/instance/instance.js";
import {
  createConfiguredLauncher,
  parseLauncherConfig,
  readLauncherConfig,
} from "../packages/core/src/launcher/config.js";
import type { LauncherContext } from "../packages/core/src/launcher/launcher.js";
import { createLocalLauncher } from "../packages/core/src/launcher/local/local-launcher.js";
import builtFixtureDefinitions, { type Marker } from "./fixtures/worker/definitions.js";
import { cliHarness, describeResult, expectUsageError, ROOT } from "./support/cli.js";

// The fixture is compiled against the built package; the instance here is the source one (same
// shapes, different nominal types), as in worker.test.ts.
const fixtureDefinitions = builtFixtureDefinitions as unknown as Definitions;

const FIXTURE = path.join(ROOT, "tests/fixtures/worker");
const DEFS = path.join(FIXTURE, "definitions.ts");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The CLI in this process, for errors raised before anything starts (no child process needed). */
async function cli(argv: readonly string[], cwd: string, env: Record<string, string | undefined>) {
  const out = { stdout: "", stderr: "" };
  const stdout = new PassThrough().on("data", (d) => (out.stdout += String(d)));
  const stderr = new PassThrough().on("data", (d) => (out.stderr += String(d)));
  const code = await main(argv, { stdout, stderr: stderr as unknown as NodeJS.WriteStream, cwd, env });
  return { code, signal: null, ...out };
}

const { baton } = cliHarness({ defaultCwd: FIXTURE, tempPrefix: "baton-launcher-cli-" });

async function until<T>(what: string, check: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** An instance on a fresh SQLite home, and a launcher context whose workers open the same store. */
async function setup(): Promise<{ ctx: LauncherContext; lines: string[]; markers: string }> {
  const home = await tempDir("baton-launcher-");
  const markers = path.join(home, "markers");
  const env = { BATON_HOME: home, BATON_DATABASE_URL: undefined, FIXTURE_MARKER_DIR: markers };
  const instance = await openInstance({ env });
  cleanup.push(() => instance.storage.close());
  const lines: string[] = [];
  return { ctx: { instance, definitionsPath: DEFS, env, log: (line) => lines.push(line) }, lines, markers };
}

async function readMarkers(dir: string): Promise<Marker[]> {
  const files = await readdir(dir).catch(() => [] as string[]);
  return Promise.all(
    files
      .filter((f) => f.endsWith(".json"))
      .map(async (f) => JSON.parse(await readFile(path.join(dir, f), "utf8"))),
  );
}

describe("local launcher", () => {
  test("started from code: runs queued before and after it starts succeed in its child processes; aborting stops them", async () => {
    const { ctx, lines, markers } = await setup();
    const { instance } = ctx;
    const queue = (ms: number) =>
      instance.launchRun(fixtureDefinitions, { selection: "work/sleep", config: { "work/sleep": { ms } } });
    const before = [await queue(300), await queue(300)];
    let pids: readonly number[] = [];
    const launcher = createLocalLauncher(ctx, { size: 2, heartbeatMs: 300, onStarted: (p) => (pids = p) });
    expect(launcher.describe()).toBe("2 local worker processes");
    const stop = new AbortController();
    const running = launcher.run(stop.signal);
    expect(pids).toHaveLength(2);
    expect(pids).not.toContain(process.pid);
    const after = [await queue(100), await queue(100)];
    const ids = [...before, ...after].map((r) => r.runId);
    const runs = await until("the 4 runs to succeed", async () => {
      const all = await Promise.all(ids.map((id) => instance.storage.getRun(id)));
      return all.every((r) => r?.status === "SUCCESS") ? all : undefined;
    });
    // Each run was executed by one of the launcher's children (the asset wrote its pid).
    const ran = await readMarkers(markers);
    expect(ran.map((m) => m.runId).sort()).toEqual([...ids].sort());
    for (const m of ran) {
      expect(pids).toContain(m.pid);
      expect(m.outcome).toBe("done");
    }
    const workers = await instance.storage.listWorkers();
    for (const run of runs) expect(pids).toContain(workers.find((w) => w.workerId === run!.workerId)?.pid);

    stop.abort();
    await running;
    // Stopped cleanly: the children exited, their worker rows are closed, nothing was left running.
    for (const pid of pids) expect(isAlive(pid), `worker ${pid}`).toBe(false);
    const open = (await instance.storage.listWorkers()).filter(
      (w) => pids.includes(w.pid) && w.status !== "stopped",
    );
    expect(open).toEqual([]);
    expect(lines.filter((l) => /exited|failed/.test(l))).toEqual([]);
  }, 60_000);

  test("a run in flight when the launcher is stopped finishes SUCCESS; a forced stop kills the worker and fails its run", async () => {
    const { ctx, markers } = await setup();
    const { instance } = ctx;
    const launcher = createLocalLauncher(ctx, { size: 1 });
    expect(launcher.describe()).toBe("1 local worker process");
    const stop = new AbortController();
    const running = launcher.run(stop.signal);
    const slow = await instance.launchRun(fixtureDefinitions, {
      selection: "work/sleep",
      config: { "work/sleep": { ms: 1500 } },
    });
    await until("the run to start", async () => (await readMarkers(markers)).length > 0);
    stop.abort();
    await running;
    expect((await instance.storage.getRun(slow.runId))?.status).toBe("SUCCESS");

    const again = createLocalLauncher(ctx, { size: 1 });
    const stop2 = new AbortController();
    const force = new AbortController();
    const running2 = again.run(stop2.signal, force.signal);
    const forever = await instance.launchRun(fixtureDefinitions, { selection: "work/forever" });
    const marker = await until("the forever run to start", async () =>
      (await readMarkers(markers)).find((m) => m.runId === forever.runId),
    );
    stop2.abort();
    force.abort();
    await running2;
    expect(isAlive(marker.pid)).toBe(false);
    const run = await instance.storage.getRun(forever.runId);
    expect(run?.status).toBe("FAILURE");
  }, 60_000);
});

describe("launcher selection (baton.config.json)", () => {
  test("local by default: no config file, a config without launcher, or kind local", async () => {
    const dir = await tempDir("baton-launcher-config-");
    expect(readLauncherConfig(dir)).toEqual({ kind: "local" });
    await writeFile(path.join(dir, "baton.config.json"), JSON.stringify({ defs: "definitions.ts" }));
    expect(readLauncherConfig(dir)).toEqual({ kind: "local" });
    await writeFile(
      path.join(dir, "baton.config.json"),
      JSON.stringify({ defs: "definitions.ts", launcher: { kind: "local" } }),
    );
    expect(readLauncherConfig(dir)).toEqual({ kind: "local" });
    const kube = { kind: "kubernetes", image: "registry/app:1", namespace: "data" };
    expect(parseLauncherConfig(kube)).toEqual({
      kind: "kubernetes",
      raw: kube,
      where: "baton.config.json: launcher",
    });
  });

  test("a bad launcher value is an error naming baton.config.json: launcher.kind (or the field)", () => {
    expect(() => parseLauncherConfig({ kind: "docker" })).toThrow(
      'baton.config.json: launcher.kind must be "local" or "kubernetes" (got "docker")',
    );
    expect(() => parseLauncherConfig({})).toThrow(
      'baton.config.json: launcher.kind must be "local" or "kubernetes" (got nothing)',
    );
    expect(() => parseLauncherConfig("local")).toThrow(
      'baton.config.json: launcher must be an object such as { "kind": "local" }',
    );
    expect(() => parseLauncherConfig({ kind: "local", concurrency: 4 })).toThrow(
      "baton.config.json: launcher.concurrency is not a setting of the local launcher",
    );
  });

  test("kubernetes: its settings are checked by the Kubernetes launcher; a valid block gives a launcher without starting it", async () => {
    const { ctx } = await setup();
    await expect(
      createConfiguredLauncher(ctx, parseLauncherConfig({ kind: "kubernetes", namespace: "data" })),
    ).rejects.toThrow("baton.config.json: launcher.image: required");
    const launcher = await createConfiguredLauncher(
      ctx,
      parseLauncherConfig({ kind: "kubernetes", image: "registry.example/app:1", namespace: "data" }),
    );
    expect(launcher.describe()).toContain("Kubernetes Jobs in namespace data");
    const local = await createConfiguredLauncher(ctx, { kind: "local" }, { size: 3, warm: 1 });
    expect(local.describe()).toBe("up to 3 local worker processes");
  });
});

describe("baton worker with a launcher configuration, and --run-id", () => {
  async function project(config: unknown): Promise<{ cwd: string; home: string }> {
    const cwd = await tempDir("baton-launcher-project-");
    const home = path.join(cwd, ".baton");
    await mkdir(home);
    await writeFile(
      path.join(cwd, "baton.config.json"),
      JSON.stringify({ defs: DEFS, ...(config as object) }),
    );
    return { cwd, home };
  }

  test("a bad launcher.kind and --concurrency with a Kubernetes launcher are usage errors", async () => {
    const bad = await project({ launcher: { kind: "docker" } });
    const r = await cli(["worker"], bad.cwd, { BATON_HOME: bad.home });
    expectUsageError(r);
    expect(r.stderr).toContain(
      'baton.config.json: launcher.kind must be "local" or "kubernetes" (got "docker")',
    );

    const kube = await project({ launcher: { kind: "kubernetes", image: "app:1" } });
    const c = await cli(["worker", "--concurrency", "3"], kube.cwd, { BATON_HOME: kube.home });
    expectUsageError(c);
    expect(c.stderr).toContain(
      '--concurrency sizes the local launcher, but baton.config.json configures launcher.kind "kubernetes"',
    );
  });

  test("--run-id executes exactly that claimed run (exit 0 on SUCCESS, 1 otherwise); wrong flags and unknown ids are usage errors", async () => {
    const { ctx } = await setup();
    const { instance } = ctx;
    const home = ctx.env.BATON_HOME!;
    const env = { FIXTURE_MARKER_DIR: path.join(home, "markers") };
    const ok = await instance.launchRun(fixtureDefinitions, { selection: "work/quick" });
    const other = await instance.launchRun(fixtureDefinitions, { selection: "work/quick" });
    const failing = await instance.launchRun(fixtureDefinitions, { selection: "work/forever" });
    // A launcher claims them (as the Kubernetes launcher does before creating a Job).
    const claimed = await instance.storage.claimRuns({
      workerId: "test-launcher",
      limit: 3,
      now: Date.now(),
    });
    expect(claimed.map((r) => r.runId).sort()).toEqual([ok.runId, other.runId, failing.runId].sort());

    const r = await baton(["worker", "--run-id", ok.runId], { home, env });
    expect(r.code, describeResult(r)).toBe(0);
    expect((await instance.storage.getRun(ok.runId))?.status).toBe("SUCCESS");
    // Exactly that run: the other claimed run was not touched.
    expect((await instance.storage.getRun(other.runId))?.status).toBe("STARTING");

    // Canceled while its Job was pending: it ends CANCELED without executing, exit 1.
    await instance.cancelRun(failing.runId);
    const f = await baton(["worker", "--run-id", failing.runId], { home, env });
    expect(f.code, describeResult(f)).toBe(1);
    expect((await instance.storage.getRun(failing.runId))?.status).toBe("CANCELED");

    const inProcess = (args: string[]) => cli(args, FIXTURE, { BATON_HOME: home });
    const conflict = await inProcess(["worker", "--run-id", other.runId, "--concurrency", "2"]);
    expectUsageError(conflict);
    expect(conflict.stderr).toContain(
      "--run-id executes one run in this process: it does not go with --concurrency",
    );
    const child = await inProcess(["worker", "--run-id", other.runId, "--child"]);
    expectUsageError(child);
    expect(child.stderr).toContain("does not go with --child");
    const unknown = await inProcess(["worker", "--run-id", "no-such-run"]);
    expectExit2(unknown);
    expect(unknown.stderr).toContain("Run no-such-run was not found");
    expect((await instance.storage.getRun(other.runId))?.status).toBe("STARTING");
  }, 60_000);
});

function expectExit2(r: {
  code: number | null;
  stderr: string;
  stdout: string;
  signal: NodeJS.Signals | null;
}) {
  expect(r.code, describeResult(r)).toBe(2);
}
