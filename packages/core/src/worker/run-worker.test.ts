/**
 * runWorker with lazily loaded definitions, on a real SQLite store: nothing is loaded while no run
 * is queued, the definitions load once when one is, a worker whose definitions fail to load claims
 * nothing, and an idle worker with its code loaded returns after `idleExitMs`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { asset } from "../definitions/asset.js";
import { type Definitions, defineDefinitions } from "../definitions/definitions.js";
import { type BatonInstance, openInstance } from "../instance/instance.js";
import { runWorker } from "./run-worker.js";

const definitions = defineDefinitions({ assets: [asset({ key: "a" }, () => 1)] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, check: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe("runWorker with lazy definitions", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function setup(): Promise<BatonInstance> {
    const home = await mkdtemp(path.join(os.tmpdir(), "baton-run-worker-"));
    const instance = await openInstance({ home, env: {} });
    cleanup.push(async () => {
      await instance.close();
      await rm(home, { recursive: true, force: true });
    });
    return instance;
  }

  function start(
    instance: BatonInstance,
    load: () => Promise<Definitions>,
    extra: { idleExitMs?: number } = {},
  ) {
    const stop = new AbortController();
    const failures: unknown[] = [];
    const done = runWorker({
      instance,
      definitions: load,
      signal: stop.signal,
      pollMs: 20,
      heartbeatMs: 200,
      onLoadFailed: (error) => failures.push(error),
      ...extra,
    });
    cleanup.push(async () => {
      stop.abort();
      await done;
    });
    return { stop, done, failures };
  }

  it("loads nothing while idle, then once when a run is queued, and runs it", async () => {
    const instance = await setup();
    let loads = 0;
    start(instance, async () => {
      loads++;
      return definitions;
    });
    await until("the worker to register", async () => (await instance.storage.listWorkers()).length === 1);
    await sleep(300);
    expect(loads).toBe(0);

    const first = await instance.launchRun(definitions, { selection: "a" });
    await until(
      "the first run to succeed",
      async () => (await instance.storage.getRun(first.runId))?.status === "SUCCESS",
    );
    const second = await instance.launchRun(definitions, { selection: "a" });
    await until(
      "the second run to succeed",
      async () => (await instance.storage.getRun(second.runId))?.status === "SUCCESS",
    );
    expect(loads).toBe(1);
  });

  it("claims nothing when the definitions do not load, and says why once", async () => {
    const instance = await setup();
    const worker = start(instance, async () => {
      throw new Error("definitions.ts:3:1 broken");
    });
    const run = await instance.launchRun(definitions, { selection: "a" });
    await until("the load failure", async () => worker.failures.length > 0);
    await sleep(300);
    expect(worker.failures).toHaveLength(1);
    expect((worker.failures[0] as Error).message).toBe("definitions.ts:3:1 broken");
    expect((await instance.storage.getRun(run.runId))?.status).toBe("QUEUED");
  });

  it("returns after idleExitMs without a run once its code is loaded (not before it was loaded)", async () => {
    const instance = await setup();
    const worker = start(instance, async () => definitions, { idleExitMs: 300 });
    let returned = false;
    void worker.done.then(() => {
      returned = true;
    });
    await sleep(700);
    expect(returned).toBe(false); // nothing loaded yet: nothing to give back
    const run = await instance.launchRun(definitions, { selection: "a" });
    await until(
      "the run to succeed",
      async () => (await instance.storage.getRun(run.runId))?.status === "SUCCESS",
    );
    const endedAt = Date.now();
    await until("the worker to return", async () => returned);
    expect(Date.now() - endedAt).toBeGreaterThanOrEqual(200);
    expect((await instance.storage.listWorkers())[0]?.status).toBe("stopped");
  });
});
