/**
 * failStaleRuns on a real SQLite store: a claimed run whose worker went silent longer than the
 * timeout ends FAILURE with a reason that starts "the worker died" (the fault suite's worker-kill
 * scenario reads it); a run heartbeating within the timeout is left alone.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { asset } from "../definitions/asset.js";
import { defineDefinitions } from "../definitions/definitions.js";
import { type BatonInstance, openInstance } from "../instance/instance.js";
import { failStaleRuns, workerDiedReason } from "./run-monitor.js";

const definitions = defineDefinitions({ assets: [asset({ key: "x" }, () => 1)] });
const worker = (workerId: string) => ({ workerId, pid: 4242, host: "h", startedAt: 1000 });

describe("failStaleRuns", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function setup(): Promise<BatonInstance> {
    const home = await mkdtemp(path.join(os.tmpdir(), "baton-run-monitor-"));
    const instance = await openInstance({ home, env: {} });
    cleanup.push(async () => {
      await instance.close();
      await rm(home, { recursive: true, force: true });
    });
    return instance;
  }

  async function claimedBy(instance: BatonInstance, workerId: string, now: number): Promise<string> {
    const run = await instance.launchRun(definitions, { selection: "x" });
    await instance.storage.heartbeat(worker(workerId), [], now);
    const [claim] = await instance.storage.claimRuns({ workerId, limit: 1, now });
    expect(claim?.runId).toBe(run.runId);
    return run.runId;
  }

  it("fails a run whose worker is silent past the timeout, saying the worker died; keeps a live one", async () => {
    const instance = await setup();
    const t0 = 1_000_000;
    const dead = await claimedBy(instance, "worker-dead", t0);
    const live = await claimedBy(instance, "worker-live", t0);
    // The live worker beats at t0 + 1,500; the dead one never again.
    await instance.storage.heartbeat(worker("worker-live"), [live], t0 + 1500);

    expect(await failStaleRuns(instance.storage, t0 + 1999, 2000)).toEqual([]);
    expect(await failStaleRuns(instance.storage, t0 + 2700, 2000)).toEqual([dead]);

    expect((await instance.storage.getRun(dead))?.status).toBe("FAILURE");
    expect((await instance.storage.getRun(live))?.status).toBe("STARTING");
    const ends = (await instance.storage.getEvents(dead)).filter((e) => e.type === "run_failed");
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({
      timestamp: t0 + 2700,
      reason:
        "the worker died: worker-dead stopped heartbeating (nothing for 2.7 s); it was probably killed, ran out of memory or lost its machine",
    });
    // Ended runs are not failed again.
    expect(await failStaleRuns(instance.storage, t0 + 10_000, 2000)).toEqual([live]);
    expect(await failStaleRuns(instance.storage, t0 + 20_000, 2000)).toEqual([]);
  });

  it("re-reads a listed run before failing it: a late worker that heartbeated or ended it since is left alone", async () => {
    const instance = await setup();
    const t0 = 1_000_000;
    const late = await claimedBy(instance, "worker-late", t0);
    const ended = await claimedBy(instance, "worker-ended", t0);
    const real = instance.storage;
    // The real store, except that between the monitor's list and its writes the late worker's
    // heartbeat lands and the other run ends (what a busy tick lets happen).
    const racing = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop !== "staleRuns") return Reflect.get(target, prop, receiver);
        return async (before: number) => {
          const listed = await target.staleRuns(before);
          await target.heartbeat(worker("worker-late"), [late], t0 + 2600);
          await target.appendEvents([{ type: "run_succeeded", runId: ended, timestamp: t0 + 2650 }]);
          return listed;
        };
      },
    });
    const listed = (await real.staleRuns(t0 + 2700 - 2000)).map((r) => r.runId);
    expect(listed.sort()).toEqual([late, ended].sort());
    expect(await failStaleRuns(racing, t0 + 2700, 2000)).toEqual([]);
    expect((await real.getRun(late))?.status).toBe("STARTING");
    expect((await real.getRun(ended))?.status).toBe("SUCCESS");
    expect((await real.getEvents(ended)).map((e) => e.type)).toEqual(["run_succeeded"]);
  });

  it("words the silence in tenths of a second below 10 s, whole seconds above", () => {
    expect(workerDiedReason("w", 640)).toContain("(nothing for 0.6 s)");
    expect(workerDiedReason("w", 42_400)).toContain("(nothing for 42 s)");
    expect(workerDiedReason(null, 1000)).toMatch(/^the worker died: its worker \(unknown\) stopped/);
  });
});
