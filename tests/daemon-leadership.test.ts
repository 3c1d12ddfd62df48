/**
 * The daemon's leadership terms: a leader that loses its lease (its renewal failed, e.g. through a
 * store outage) and wins it back before its service loops wake must not keep the old loops running
 * beside the new term's, or every service (schedules, sensors, backfills) runs twice at once.
 * A real SQLite store; only the lease answers are scripted (the fault injected).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, expect, test } from "vitest";
import {
  createDaemon,
  createInstance,
  defineDefinitions,
  type Storage,
  sensor,
} from "../packages/core/src/internal.js";
import { openStorage } from "../packages/core/src/storage/open-storage.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

test("a lease lost and won back within one loop sleep starts a new term: the old term's loops stop", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "baton-leadership-"));
  const storage = await openStorage({ sqlitePath: path.join(dir, "baton.db") });
  cleanups.push(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  // Lease answers: held, then one failed renewal, then held again for good.
  const answers: (boolean | "throw")[] = [true, "throw"];
  let inFlight = 0;
  let maxInFlight = 0;
  let reads = 0;
  const faulty: Storage = new Proxy(storage, {
    get(target, prop, receiver) {
      if (prop === "acquireLease")
        return async () => {
          const answer = answers.shift() ?? true;
          if (answer === "throw") throw new Error("connection terminated unexpectedly");
          return answer;
        };
      if (prop === "listInstigatorStates")
        // The sensors loop reads this once per pass: held 200 ms, two loops' passes overlap.
        return async () => {
          reads++;
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          try {
            await new Promise((r) => setTimeout(r, 200));
            return await target.listInstigatorStates();
          } finally {
            inFlight--;
          }
        };
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const instance = createInstance(faulty, dir);
  const idle = sensor({ name: "idle", selection: "*", evaluate: () => ({ skipReason: "nothing" }) });
  const definitions = defineDefinitions({ assets: [], sensors: [idle] });
  const lines: string[] = [];
  const daemon = createDaemon({
    instance,
    definitions: () => definitions,
    watch: false,
    intervalMs: 50,
    automationIntervalMs: 60_000,
    log: (line) => lines.push(line),
  });
  const stop = new AbortController();
  const running = daemon.run(stop.signal);
  // A body in flight when the term ended may still finish beside the new term's first pass;
  // after that (one body + one sleep) only the new term's loop may run.
  await new Promise((r) => setTimeout(r, 1_500));
  maxInFlight = inFlight;
  await new Promise((r) => setTimeout(r, 2_000));
  stop.abort();
  await running;

  expect(lines.filter((l) => l.includes("is the leader"))).toHaveLength(2); // two terms
  expect(reads).toBeGreaterThan(2); // the sensors loop did run
  // One sensors loop at a time: the first term's loop ended with its term (2 without terms).
  expect(maxInFlight).toBe(1);
});
