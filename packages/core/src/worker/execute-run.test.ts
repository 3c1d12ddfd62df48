/**
 * executeRun on a real SQLite store: a run a launcher claimed is executed once in this process,
 * kept alive under the claiming worker's id, canceled through the store, and runs in no state to
 * execute are refused with a message saying why.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { asset } from "../definitions/asset.js";
import { defineDefinitions } from "../definitions/definitions.js";
import { type BatonInstance, openInstance } from "../instance/instance.js";
import { executeRun } from "./execute-run.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const definitions = defineDefinitions({
  assets: [
    asset({ key: "quick" }, () => 1),
    asset({ key: "slow" }, async () => {
      await sleep(800);
      return 2;
    }),
    asset(
      { key: "waits" },
      (ctx) =>
        new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))),
    ),
  ],
});
const LAUNCHER = { workerId: "launcher-1", pid: 4242, host: "launcher-host", startedAt: 1000 };

describe("executeRun", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function setup(): Promise<BatonInstance> {
    const home = await mkdtemp(path.join(os.tmpdir(), "baton-execute-run-"));
    const instance = await openInstance({ home, env: {} });
    cleanup.push(async () => {
      await instance.close();
      await rm(home, { recursive: true, force: true });
    });
    return instance;
  }

  /** Queue a run and claim it as the launcher would. */
  async function claimed(instance: BatonInstance, selection: string): Promise<string> {
    const run = await instance.launchRun(definitions, { selection });
    await instance.storage.heartbeat(LAUNCHER, [], Date.now());
    const [claim] = await instance.storage.claimRuns({
      workerId: LAUNCHER.workerId,
      limit: 1,
      now: Date.now(),
    });
    expect(claim?.runId).toBe(run.runId);
    return run.runId;
  }

  it("executes a claimed run once, heartbeating it as the claiming worker", async () => {
    const instance = await setup();
    const runId = await claimed(instance, "slow");
    const claimedAt = (await instance.storage.getRun(runId))!.heartbeatAt!;
    const done = executeRun({ instance, definitions, runId, heartbeatMs: 100 });
    await sleep(500);
    const during = (await instance.storage.getRun(runId))!;
    expect(during.status).toBe("STARTED");
    expect(during.heartbeatAt!).toBeGreaterThan(claimedAt);
    // Alive against a monitor with a 300 ms timeout, though the launcher itself beat only once.
    expect(await instance.storage.staleRuns(Date.now() - 300)).toEqual([]);
    expect(await done).toBe("SUCCESS");
    expect((await instance.storage.getRun(runId))!.status).toBe("SUCCESS");
    const worker = (await instance.storage.listWorkers()).find((w) => w.workerId === LAUNCHER.workerId)!;
    expect({ pid: worker.pid, host: worker.host }).toEqual({ pid: 4242, host: "launcher-host" });
    expect((await instance.storage.listWorkers()).length).toBe(1);

    await expect(executeRun({ instance, definitions, runId })).rejects.toThrow(
      `Run ${runId} already ended (SUCCESS); there is nothing to execute.`,
    );
  });

  it("ends CANCELED when its cancel is requested in the store, and when its signal aborts", async () => {
    const instance = await setup();
    const runId = await claimed(instance, "waits");
    const done = executeRun({ instance, definitions, runId, heartbeatMs: 100 });
    await sleep(300);
    await instance.cancelRun(runId);
    const started = Date.now();
    expect(await done).toBe("CANCELED");
    expect(Date.now() - started).toBeLessThan(2000);

    const second = await claimed(instance, "waits");
    const stop = new AbortController();
    const ended = executeRun({ instance, definitions, runId: second, signal: stop.signal });
    await sleep(300);
    stop.abort(new Error("SIGTERM: the pod is being deleted"));
    expect(await ended).toBe("CANCELED");
    const events = await instance.storage.getEvents(second, { types: ["run_canceled"] });
    expect(events.map((e) => (e as { reason?: string }).reason)).toEqual([
      "SIGTERM: the pod is being deleted",
    ]);
  });

  it("ends a run canceled before it started without executing it", async () => {
    const instance = await setup();
    const runId = await claimed(instance, "quick");
    expect((await instance.cancelRun(runId)).status).toBe("CANCELING");
    expect(await executeRun({ instance, definitions, runId })).toBe("CANCELED");
    const types = (await instance.storage.getEvents(runId)).map((e) => e.type);
    expect(types).not.toContain("run_started");
    expect((await instance.storage.getRun(runId))!.status).toBe("CANCELED");
  });

  it("refuses runs that are not in a state to execute, saying why", async () => {
    const instance = await setup();
    await expect(executeRun({ instance, definitions, runId: "nope" })).rejects.toThrow(
      "Run nope was not found",
    );
    const queued = await instance.launchRun(definitions, { selection: "quick" });
    await expect(executeRun({ instance, definitions, runId: queued.runId })).rejects.toThrow(
      `Run ${queued.runId} is QUEUED: no launcher has claimed it yet.`,
    );
    await instance.cancelRun(queued.runId);
    const local = await instance.materialize(definitions, { selection: "quick" });
    await expect(executeRun({ instance, definitions, runId: local.runId })).rejects.toThrow(
      "already ended (SUCCESS)",
    );

    const runId = await claimed(instance, "quick");
    await expect(executeRun({ instance, definitions, runId, workerId: "someone-else" })).rejects.toThrow(
      `Run ${runId} was claimed by worker launcher-1, not someone-else.`,
    );
    // Started by another process (a second pod of the same Job): executed once only.
    await instance.storage.appendEvents([{ type: "run_started", steps: [], runId, timestamp: Date.now() }]);
    await expect(executeRun({ instance, definitions, runId })).rejects.toThrow(
      `Run ${runId} already started (worker launcher-1); a run is executed once`,
    );
  });

  it("fails the run, saying why, when these definitions cannot execute it", async () => {
    const instance = await setup();
    const runId = await claimed(instance, "quick");
    const other = defineDefinitions({ assets: [asset({ key: "unrelated" }, () => 1)] });
    expect(await executeRun({ instance, definitions: other, runId })).toBe("FAILURE");
    const [failed] = await instance.storage.getEvents(runId, { types: ["run_failed"] });
    expect((failed as { reason: string }).reason).toMatch(/^the worker could not execute it: .*quick/);
  });
});
