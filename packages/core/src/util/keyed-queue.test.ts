import { describe, expect, it } from "vitest";
import { createKeyedQueue } from "./keyed-queue.js";

const tick = () => new Promise((r) => setImmediate(r));

describe("createKeyedQueue", () => {
  it("runs tasks of one key one at a time, in order; other keys run alongside", async () => {
    const queue = createKeyedQueue();
    const log: string[] = [];
    let inFlightA = 0;
    let maxA = 0;
    const task = (key: string, name: string) => async () => {
      if (key === "a") maxA = Math.max(maxA, ++inFlightA);
      log.push(`start ${name}`);
      await tick();
      await tick();
      log.push(`end ${name}`);
      if (key === "a") inFlightA--;
      return name;
    };
    const results = await Promise.all([
      queue.run("a", task("a", "a1")),
      queue.run("a", task("a", "a2")),
      queue.run("b", task("b", "b1")),
      queue.run("a", task("a", "a3")),
    ]);
    expect(results).toEqual(["a1", "a2", "b1", "a3"]);
    expect(maxA).toBe(1);
    const a = log.filter((l) => l.includes(" a"));
    expect(a).toEqual(["start a1", "end a1", "start a2", "end a2", "start a3", "end a3"]);
    // b1 started before a1 finished: keys do not wait for each other.
    expect(log.indexOf("start b1")).toBeLessThan(log.indexOf("end a1"));
  });

  it("a failing task rejects its own promise and does not stop the next one", async () => {
    const queue = createKeyedQueue();
    const failed = queue.run("k", async () => {
      throw new Error("boom");
    });
    const next = queue.run("k", async () => "ok");
    await expect(failed).rejects.toThrow("boom");
    await expect(next).resolves.toBe("ok");
  });
});
