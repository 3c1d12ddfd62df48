/**
 * startWorkerPool with real child processes (a small script speaking the pool's IPC protocol) and a
 * real SQLite store: a pool with `warm` below `size` starts with the warm children, grows by one
 * child each time every live child is busy, stops the extra children after `idleMs` without a run,
 * and a pool without `warm` keeps all of them.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openStorage } from "../../storage/open-storage.js";
import { startWorkerPool, type WorkerPool } from "./worker-pool.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, check: () => T | undefined | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * A worker child: "busy" children start a run at once and end it after BUSY_MS, then idle; "idle"
 * ones never run. It exits 0 when retired, like `baton worker --child`.
 */
const CHILD = `
const mode = process.argv[2];
const busyMs = Number(process.argv[3]);
process.on("message", (m) => { if (m && m.type === "retire") process.exit(0); });
process.on("SIGTERM", () => process.exit(0));
if (mode === "busy") {
  const runId = "run-" + process.pid;
  process.send({ type: "run-start", runId });
  setTimeout(() => process.send({ type: "run-end", runId }), busyMs);
}
setInterval(() => {}, 1000);
`;

describe("worker pool sizing", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function pool(options: {
    size: number;
    warm?: number;
    idleMs?: number | null;
    mode: "busy" | "idle";
  }) {
    const dir = await mkdtemp(path.join(os.tmpdir(), "baton-worker-pool-"));
    const script = path.join(dir, "child.cjs");
    await writeFile(script, CHILD);
    const storage = await openStorage({ sqlitePath: path.join(dir, "baton.db") });
    const spawned = new Set<number>();
    const p: WorkerPool = startWorkerPool({
      storage,
      size: options.size,
      ...(options.warm !== undefined ? { warm: options.warm } : {}),
      ...(options.idleMs !== undefined ? { idleMs: options.idleMs } : {}),
      script,
      args: [options.mode, "700"],
      log: () => {},
    });
    const live = () => {
      const children = p.children() as ChildProcess[];
      for (const c of children) if (c.pid) spawned.add(c.pid);
      return children.length;
    };
    cleanup.push(async () => {
      await p.stop();
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    });
    return { p, live, spawned };
  }

  it("grows from the warm child while every child is busy, up to size, and shrinks back after idleMs", async () => {
    const { live, spawned } = await pool({ size: 3, warm: 1, idleMs: 300, mode: "busy" });
    expect(live()).toBe(1);
    // Each child starts a run at once: the pool grows one child per busy moment, to size and no further.
    await until("the pool to grow to 3 children", () => live() === 3);
    await sleep(300);
    expect(live()).toBeLessThanOrEqual(3);
    // Runs end after 700 ms; 300 ms later the children beyond the warm one are retired, not replaced.
    await until("the pool to shrink back to its warm child", () => live() === 1, 10_000);
    await sleep(600);
    expect(live()).toBe(1);
    expect(spawned.size).toBe(3);
  });

  it("an idle warm pool does not grow; without warm every child is kept", async () => {
    const idle = await pool({ size: 3, warm: 1, idleMs: 200, mode: "idle" });
    await sleep(800);
    expect(idle.live()).toBe(1);
    expect(idle.spawned.size).toBe(1);

    const all = await pool({ size: 2, idleMs: 200, mode: "busy" });
    expect(all.live()).toBe(2);
    await sleep(1500);
    expect(all.live()).toBe(2);
    expect(all.spawned.size).toBe(2);
  });
});
