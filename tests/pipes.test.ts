/**
 * Pipes: asset bodies that are external processes (python3 and bash, run for real), talking back
 * through the shipped helpers (packages/core/pipes/baton_pipes.py and baton_pipes.sh) over fd 3.
 * Driven in-process through the instance API; definitions and scripts in tests/fixtures/pipes/.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  type BatonInstance,
  openInstance,
  pipesHelperPath,
  type RunEvent,
} from "../packages/core/src/index.js";
import { pipesCheckDefinitions, pipesDefinitions } from "./fixtures/pipes/definitions.js";

const opened: { dir: string; instance: BatonInstance }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.instance.close();
    await rm(o.dir, { recursive: true, force: true });
  }
});

async function setup() {
  const dir = await mkdtemp(path.join(tmpdir(), "baton-pipes-"));
  const instance = await openInstance({ home: path.join(dir, "home"), env: {} });
  opened.push({ dir, instance });
  return { dir, instance, defs: pipesDefinitions(dir) };
}

async function logsOf(instance: BatonInstance, runId: string) {
  const events = await instance.storage.getEvents(runId);
  return events
    .map((e) => e as RunEvent)
    .filter((e): e is Extract<RunEvent, { type: "log" }> => e.type === "log");
}

/** The newest materialization event of an asset. */
async function lastMaterialization(instance: BatonInstance, key: string) {
  const [event] = await instance.storage.getMaterializations(key, { limit: 1 });
  if (event?.type !== "materialization") throw new Error(`no materialization of ${key}`);
  return event;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("runPipes", () => {
  it("stores metadata, check results, data version and value reported by a Python child; logs its lines", async () => {
    const { instance, defs } = await setup();
    const s = await instance.materialize(defs, { selection: "report" });
    expect(s.status, s.runId).toBe("SUCCESS");
    const m = await lastMaterialization(instance, "report");
    expect(m.dataVersion).toBe("v-42");
    expect(m.metadata).toMatchObject({
      rows: { type: "number", value: 3 },
      note: { type: "text", value: "three rows" },
      stats: { type: "json", value: { min: 1, max: 3 } },
      sample: {
        type: "json",
        value: {
          columns: ["id", "name"],
          rows: [
            [1, "a"],
            [2, "b"],
          ],
        },
      },
      source: { type: "text", value: "report.py" },
      "check:no_nulls": { type: "json", value: { passed: true, metadata: { null_count: 0 } } },
      "check:positive": { type: "json", value: { passed: false, metadata: { bad_rows: 1 } } },
    });
    const logs = await logsOf(instance, s.runId);
    const line = (text: string) => logs.find((l) => l.message.includes(text));
    expect(line("plain stdout from report")).toMatchObject({ level: "info", stepKey: "report" });
    expect(line("a line on stderr")).toMatchObject({ level: "warn" });
    expect(line("helper log line")).toMatchObject({ level: "warn" });
    expect(line("pipes check positive: FAILED")).toMatchObject({ level: "warn" });
    // A bad protocol line is a warning naming the line, not a failure.
    expect(line("ignored a bad protocol line")!.message).toContain("this is not json");
    // The check names in its context, and the value it sent, stored by the default IO manager.
    expect(m.metadata).toMatchObject({ checks_seen: { type: "json", value: ["no_nulls"] } });
    const stored = JSON.parse(await readFile(path.join(instance.home, "storage", "report.json"), "utf8"));
    expect(JSON.stringify(stored)).toContain('{"total":6}');
  });

  it("a stdout line reaches the step log while the process is still running", async () => {
    const { dir, instance, defs } = await setup();
    let sawLineWhileRunning = false;
    const s = await instance.materialize(defs, {
      selection: "live",
      onEvent: (e) => {
        if (e.type === "log" && e.message === "live: waiting for the go file") {
          // The child blocks until this file exists: seeing the line first proves it was live.
          sawLineWhileRunning = !existsSync(path.join(dir, "go"));
          void writeFile(path.join(dir, "go"), "");
        }
      },
    });
    expect(s.status, s.runId).toBe("SUCCESS");
    expect(sawLineWhileRunning).toBe(true);
    expect((await logsOf(instance, s.runId)).map((l) => l.message)).toContain("live: done");
  });

  it("a non-zero exit fails the step with the exit code and the last 20 lines of stderr", async () => {
    const { instance, defs } = await setup();
    const s = await instance.materialize(defs, { selection: "fails" });
    expect(s.status).toBe("FAILURE");
    const events = (await instance.storage.getEvents(s.runId)).map((e) => e as RunEvent);
    const failed = events.find((e) => e.type === "step_failed") as Extract<RunEvent, { type: "step_failed" }>;
    const text = JSON.stringify(failed.error);
    expect(text).toContain('pipes process \\"bash\\" exited with code 3');
    expect(text).toContain("err line 30");
    expect(text).toContain("err line 11");
    expect(text).not.toContain("err line 10\\n");
    expect((await logsOf(instance, s.runId)).map((l) => l.message)).toContain("about to fail");
  });

  it("a command that does not exist fails the step naming it", async () => {
    const { instance, defs } = await setup();
    const s = await instance.materialize(defs, { selection: "missing" });
    expect(s.status).toBe("FAILURE");
    const events = (await instance.storage.getEvents(s.runId)).map((e) => e as RunEvent);
    expect(JSON.stringify(events.find((e) => e.type === "step_failed"))).toContain(
      'could not start \\"baton-no-such-command-xyz\\"',
    );
  });

  it("cancel kills the process and its own child (the whole process group)", async () => {
    const { dir, instance, defs } = await setup();
    const controller = new AbortController();
    const pidFile = path.join(dir, "pids");
    const run = instance.materialize(defs, {
      selection: "sleeper",
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === "log" && e.message === "sleeper: started") controller.abort();
      },
    });
    const s = await run;
    expect(s.status).toBe("CANCELED");
    const [shell, sleep] = (await readFile(pidFile, "utf8")).trim().split(" ").map(Number);
    expect(shell).toBeGreaterThan(1);
    expect(sleep).toBeGreaterThan(1);
    // SIGTERM to the group: both are gone (poll briefly: the kernel reaps asynchronously).
    const deadline = Date.now() + 5000;
    while ((alive(shell!) || alive(sleep!)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(alive(shell!)).toBe(false);
    expect(alive(sleep!)).toBe(false);
    const messages = (await logsOf(instance, s.runId)).map((l) => l.message);
    expect(messages.some((m) => m.includes("run canceled, stopping sleeper"))).toBe(true);
    expect(messages.filter((m) => m.includes("SIGKILL"))).toEqual([]); // SIGTERM was enough
  });

  it("a partitioned run gives the child its key (bash helper: metadata, check, data version)", async () => {
    const { instance, defs } = await setup();
    const s = await instance.materialize(defs, { selection: "daily", partitions: { keys: ["2024-01-03"] } });
    expect(s.status, s.runId).toBe("SUCCESS");
    const [p] = await instance.storage.getPartitions("daily", { keys: ["2024-01-03"] });
    const m = p!.lastMaterialization!;
    expect(m.dataVersion).toBe("p-2024-01-03");
    const event = await lastMaterialization(instance, "daily");
    expect(event.metadata).toMatchObject({
      partition: { type: "text", value: "2024-01-03" },
      attempt: { type: "number", value: 1 },
      quoted: { type: "text", value: 'say "hi"\\ back' },
      rows: { type: "number", value: 7 },
      "check:has_partition": { type: "json", value: { passed: true } },
    });
    expect((await logsOf(instance, s.runId)).map((l) => l.message)).toContain(
      "partition 2024-01-03 attempt 1",
    );
  });

  it("a Python child reads partition keys and the time window of a range run, and the run id", async () => {
    const { instance, defs } = await setup();
    const s = await instance.materialize(defs, {
      selection: "window",
      partitions: { range: { from: "2024-01-02", to: "2024-01-03" } },
    });
    expect(s.status, JSON.stringify(await instance.storage.getEvents(s.runId))).toBe("SUCCESS");
    const event = await lastMaterialization(instance, "window");
    expect(event.metadata).toMatchObject({
      partition_keys: { type: "json", value: ["2024-01-02", "2024-01-03"] },
      window: { type: "json", value: { start: "2024-01-02T00:00:00.000Z", end: "2024-01-04T00:00:00.000Z" } },
      run_id: { type: "text", value: s.runId },
    });
    // partitionKey is undefined for a run over several partitions: the child gets null.
    expect(event.metadata).not.toHaveProperty("partition_key.value", expect.any(String));
  });

  it("a retry re-runs the process (attempt 1 fails, attempt 2 succeeds)", async () => {
    const { instance, defs } = await setup();
    const s = await instance.materialize(defs, { selection: "flaky", partitions: { keys: ["2024-01-02"] } });
    expect(s.status, s.runId).toBe("SUCCESS");
    const messages = (await logsOf(instance, s.runId)).map((l) => l.message);
    expect(messages).toContain("partition 2024-01-02 attempt 1");
    expect(messages).toContain("flaky: failing attempt 1");
    expect(messages).toContain("partition 2024-01-02 attempt 2");
    const event = await lastMaterialization(instance, "flaky");
    expect(event.metadata).toMatchObject({ attempt: { type: "number", value: 2 } });
  });

  it("outside Baton's fd 3 the helpers write ::baton:: lines on stdout", () => {
    const env = {
      PATH: process.env.PATH ?? "",
      PYTHONPATH: path.dirname(pipesHelperPath("python")),
      PYTHONDONTWRITEBYTECODE: "1",
    };
    const py = execFileSync(
      "python3",
      [
        "-c",
        'import baton_pipes as bp; bp.log("info", "hi \\"there\\""); print(bp.context()["partition_key"])',
      ],
      { env, encoding: "utf8" },
    );
    expect(py.split("\n")).toEqual([
      '::baton::{"type":"log","level":"info","message":"hi \\"there\\""}',
      "None",
      "",
    ]);
    const sh = execFileSync(
      "bash",
      ["-c", 'source "$1"; baton_metadata n=1.5 t="a b"', "x", pipesHelperPath("bash")],
      { env, encoding: "utf8" },
    );
    expect(JSON.parse(sh.trim().slice("::baton::".length))).toEqual({
      type: "metadata",
      metadata: { n: 1.5, t: "a b" },
    });
  });
});

describe("pipesCheck", () => {
  async function run(mode: "pass" | "fail") {
    const { instance } = await setup();
    const summary = await instance.materialize(pipesCheckDefinitions(mode));
    const checks = await instance.storage.getLatestCheckResults("graded");
    const byName = Object.fromEntries(checks.map((c) => [c.checkName, c]));
    const [after] = await instance.storage.getAssetStatuses(["after_graded"]);
    return { summary, byName, after };
  }

  it("turns the checks a Python child reported into the asset's check results; an unreported one fails", async () => {
    const { summary, byName, after } = await run("pass");
    expect(summary.status, summary.runId).toBe("SUCCESS");
    expect(Object.keys(byName).sort()).toEqual(["in_range", "non_empty", "unreported"]);
    expect(byName.in_range).toMatchObject({
      runId: summary.runId,
      passed: true,
      blocking: true,
      severity: "ERROR",
      metadata: { bad_values: { type: "number", value: 0 } },
    });
    expect(byName.non_empty).toMatchObject({
      passed: true,
      blocking: false,
      metadata: { rows: { type: "number", value: 3 } },
    });
    expect(byName.unreported).toMatchObject({ passed: false, blocking: false, severity: "WARN" });
    expect(byName.unreported!.metadata).toEqual({
      reason: { type: "text", value: 'check "unreported" of "graded" was not reported by the pipes process' },
    });
    // The non-blocking failure lets downstream run.
    expect(after!.lastMaterialization?.runId).toBe(summary.runId);
  });

  it("a blocking check the child reported as failed skips downstream and fails the run", async () => {
    const { summary, byName, after } = await run("fail");
    expect(summary.status).toBe("FAILURE");
    expect(byName.in_range).toMatchObject({
      passed: false,
      blocking: true,
      metadata: { bad_values: { type: "number", value: 1 } },
    });
    expect(byName.non_empty).toMatchObject({ passed: true });
    expect(after?.lastMaterialization ?? null).toBeNull();
    const skipped = summary.steps.find((s) => s.stepKey === "after_graded");
    expect(skipped).toMatchObject({ status: "skipped", reason: 'blocking check "graded:in_range" failed' });
  });
});
