/**
 * The Kubernetes run launcher against a fake API server on loopback (tests/support/fake-kubernetes.ts;
 * no cluster exists here) and a real SQLite store. The test plays the cluster: the Job controller
 * and kubelet through the fake (pods, Job conditions) and the Job's container by calling executeRun
 * in this process, as `baton worker --run-id` does in the pod.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { asset } from "../packages/core/src/definitions/asset.js";
import { type Definitions, defineDefinitions } from "../packages/core/src/definitions/definitions.js";
import type { RunStatus } from "../packages/core/src/execution/events.js";
import { type BatonInstance, openInstance } from "../packages/core/src/instance/instance.js";
import {
  buildJobManifest,
  createKubernetesLauncher,
  type KubernetesLauncherOptions,
  parseKubernetesLauncherConfig,
} from "../packages/core/src/launcher/kubernetes/index.js";
import { executeRun } from "../packages/core/src/worker/execute-run.js";
import fixtureDefinitions from "./fixtures/worker/definitions.js";
import { type FakeKubernetes, startFakeKubernetes } from "./support/fake-kubernetes.js";
import { createTestDatabase, dropTestDatabase, startTestPostgres } from "./support/postgres.js";
import { exitOf, killGroup, spawnBaton } from "./support/processes.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const NS = "data";
const WORKER_ID = `kubernetes:${NS}:baton-run`;
/** The worker fixture's assets (it imports the built @baton/core; the same definitions at run time). */
const workerDefinitions = fixtureDefinitions as unknown as Definitions;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const definitions = defineDefinitions({
  assets: [
    asset({ key: "quick" }, () => 1),
    asset(
      { key: "waits" },
      (ctx) =>
        new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))),
    ),
  ],
});
const COMPLETE = { succeeded: 1, conditions: [{ type: "Complete", status: "True" }] };
const FAILED = {
  failed: 1,
  conditions: [
    {
      type: "Failed",
      status: "True",
      reason: "BackoffLimitExceeded",
      message: "Job has reached the specified backoff limit",
    },
  ],
};

async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 8000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe("Kubernetes launcher (fake API server on loopback)", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  interface Setup {
    instance: BatonInstance;
    fake: FakeKubernetes;
    logs: string[];
    home: string;
  }

  async function setup(databaseUrl?: string): Promise<Setup> {
    const home = await mkdtemp(path.join(os.tmpdir(), "baton-k8s-"));
    const instance = await openInstance({ home, env: {}, ...(databaseUrl ? { databaseUrl } : {}) });
    const fake = await startFakeKubernetes(home);
    cleanup.push(async () => {
      await fake.close();
      await instance.close();
      await rm(home, { recursive: true, force: true });
    });
    return { instance, fake, logs: [], home };
  }

  function start(
    s: Setup,
    extra: Record<string, unknown> = {},
    options: KubernetesLauncherOptions = {},
    env: Record<string, string> = { BATON_DATABASE_URL: "postgres://baton:secret@db:5432/baton" },
  ) {
    const config = parseKubernetesLauncherConfig(
      {
        kind: "kubernetes",
        image: "registry.example/baton:1.2",
        namespace: NS,
        kubeconfig: s.fake.kubeconfig,
        terminationGraceSeconds: 5,
        ...extra,
      },
      "baton.config.json: launcher",
    );
    const launcher = createKubernetesLauncher(
      {
        instance: s.instance,
        definitionsPath: "/app/definitions.ts",
        env: { ...env, UNRELATED: "not passed" },
        log: (line) => s.logs.push(line),
      },
      config,
      { pollMs: 30, heartbeatMs: 150, podCheckMs: 100, ...options },
    );
    const stop = new AbortController();
    const done = launcher.run(stop.signal);
    cleanup.push(async () => {
      stop.abort();
      await done;
    });
    return { launcher, stop, done };
  }

  const jobName = (runId: string) => `baton-run-${runId}`;
  const created = (s: Setup, runId: string) =>
    until(`the Job of ${runId}`, () => s.fake.job(NS, jobName(runId)));
  const status = async (s: Setup, runId: string) => (await s.instance.storage.getRun(runId))?.status;
  const ended = (s: Setup, runId: string, expected: RunStatus) =>
    until(`run ${runId} to be ${expected}`, async () => (await status(s, runId)) === expected);
  const reasons = async (s: Setup, runId: string, type: "run_failed" | "run_canceled") =>
    (await s.instance.storage.getEvents(runId, { types: [type] })).map(
      (e) => (e as { reason?: string }).reason,
    );

  it("creates one Job per queued run with the configured manifest, and a pod that succeeds ends the run", async () => {
    const s = await setup();
    start(s, {
      serviceAccountName: "baton-runs",
      imagePullPolicy: "IfNotPresent",
      resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { memory: "1Gi" } },
      env: { LOG_FORMAT: "json" },
      labels: { team: "data" },
      ttlSecondsAfterFinished: 600,
      args: ["--heartbeat-ms", "1000"],
    });
    const run = await s.instance.launchRun(definitions, { selection: "quick" });
    const job = await created(s, run.runId);
    const post = s.fake.requests.find((r) => r.method === "POST")!;
    expect(post.path).toBe(`/apis/batch/v1/namespaces/${NS}/jobs`);
    expect(post.authorization).toBe(`Bearer ${s.fake.token}`);
    const body = post.body!;
    expect(body.metadata.name).toBe(jobName(run.runId));
    expect(body.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(body.metadata.name.length).toBeLessThanOrEqual(63);
    expect(body.metadata.namespace).toBe(NS);
    expect(body.metadata.labels).toEqual({
      team: "data",
      "app.kubernetes.io/managed-by": "baton",
      "baton/job-name-prefix": "baton-run",
      "baton/run-id": run.runId,
    });
    expect(body.spec.backoffLimit).toBe(0);
    expect(body.spec.ttlSecondsAfterFinished).toBe(600);
    const pod = body.spec.template.spec;
    expect(pod.restartPolicy).toBe("Never");
    expect(pod.serviceAccountName).toBe("baton-runs");
    expect(pod.containers).toHaveLength(1);
    const container = pod.containers[0];
    expect(container.image).toBe("registry.example/baton:1.2");
    expect(container.imagePullPolicy).toBe("IfNotPresent");
    expect(container.command).toEqual(["baton", "worker", "--run-id", run.runId, "--heartbeat-ms", "1000"]);
    expect(container.env).toEqual([
      { name: "BATON_DATABASE_URL", value: "postgres://baton:secret@db:5432/baton" },
      { name: "LOG_FORMAT", value: "json" },
    ]);
    expect(container.resources).toEqual({
      requests: { cpu: "500m", memory: "512Mi" },
      limits: { memory: "1Gi" },
    });
    expect(body.spec.template.metadata.labels["baton/run-id"]).toBe(run.runId);

    // Claimed by the launcher: STARTING under its worker id, kept alive while the pod is pending.
    const claimed = (await s.instance.storage.getRun(run.runId))!;
    expect(claimed.status).toBe("STARTING");
    expect(claimed.workerId).toBe(WORKER_ID);
    await sleep(400);
    expect(await s.instance.storage.staleRuns(Date.now() - 300)).toEqual([]);

    // The pod runs and succeeds; the Job completes.
    const p = s.fake.addPod(NS, job.metadata.name, { phase: "Running" });
    expect(await executeRun({ instance: s.instance, definitions, runId: run.runId })).toBe("SUCCESS");
    s.fake.updatePod(NS, p.metadata.name, { phase: "Succeeded" });
    s.fake.updateJob(NS, job.metadata.name, COMPLETE);
    await sleep(300);
    expect(await status(s, run.runId)).toBe("SUCCESS");
    expect(await reasons(s, run.runId, "run_failed")).toEqual([]);
    expect(s.fake.jobs()).toHaveLength(1);
    expect(s.fake.requests.filter((r) => r.method === "DELETE")).toEqual([]);
    expect(s.logs).toContain(`kubernetes: created Job ${jobName(run.runId)} for run ${run.runId}`);
  });

  it("fails the run with the pod's reason when its Job fails: OOMKilled, Evicted", async () => {
    const s = await setup();
    start(s);
    const oom = await s.instance.launchRun(definitions, { selection: "quick" });
    const evicted = await s.instance.launchRun(definitions, { selection: "quick" });
    const oomJob = await created(s, oom.runId);
    const evictedJob = await created(s, evicted.runId);
    // Both pods started their runs, then died without a word (the kernel, the kubelet).
    for (const runId of [oom.runId, evicted.runId])
      await s.instance.storage.appendEvents([
        { type: "run_started", steps: [], runId, timestamp: Date.now() },
      ]);
    const oomPod = s.fake.addPod(NS, oomJob.metadata.name, {
      phase: "Failed",
      containerStatuses: [
        {
          name: "baton",
          ready: false,
          restartCount: 0,
          image: "x",
          imageID: "",
          state: { terminated: { exitCode: 137, reason: "OOMKilled" } },
        },
      ],
    });
    const evictedPod = s.fake.addPod(NS, evictedJob.metadata.name, {
      phase: "Failed",
      reason: "Evicted",
      message: "The node was low on resource: memory.",
    });
    await sleep(500);
    expect(await status(s, oom.runId)).toBe("STARTED"); // the Job has not failed yet (and the run is kept alive)
    s.fake.updateJob(NS, oomJob.metadata.name, FAILED);
    s.fake.updateJob(NS, evictedJob.metadata.name, FAILED);
    await ended(s, oom.runId, "FAILURE");
    await ended(s, evicted.runId, "FAILURE");
    expect(await reasons(s, oom.runId, "run_failed")).toEqual([
      `Kubernetes Job ${oomJob.metadata.name} failed: pod ${oomPod.metadata.name}: OOMKilled (exit 137)`,
    ]);
    expect(await reasons(s, evicted.runId, "run_failed")).toEqual([
      `Kubernetes Job ${evictedJob.metadata.name} failed: pod ${evictedPod.metadata.name}: Evicted (The node was low on resource: memory.)`,
    ]);
  });

  it("leaves a run its pod already ended alone when the Job fails (baton worker --run-id exits 1 on FAILURE)", async () => {
    const s = await setup();
    start(s);
    const failing = defineDefinitions({
      assets: [
        asset({ key: "quick" }, () => {
          throw new Error("bad data");
        }),
      ],
    });
    const run = await s.instance.launchRun(definitions, { selection: "quick" });
    const job = await created(s, run.runId);
    s.fake.addPod(NS, job.metadata.name, {
      phase: "Failed",
      containerStatuses: [
        {
          name: "baton",
          ready: false,
          restartCount: 0,
          image: "x",
          imageID: "",
          state: { terminated: { exitCode: 1, reason: "Error" } },
        },
      ],
    });
    expect(await executeRun({ instance: s.instance, definitions: failing, runId: run.runId })).toBe(
      "FAILURE",
    );
    s.fake.updateJob(NS, job.metadata.name, FAILED);
    await sleep(400);
    const failures = await reasons(s, run.runId, "run_failed");
    expect(failures).toHaveLength(1);
    expect(failures[0]).not.toMatch(/Kubernetes/);
  });

  it("fails a run whose pod cannot pull its image, and deletes the Job", async () => {
    const s = await setup();
    start(s);
    const run = await s.instance.launchRun(definitions, { selection: "quick" });
    const job = await created(s, run.runId);
    const pod = s.fake.addPod(NS, job.metadata.name, {
      phase: "Pending",
      containerStatuses: [
        {
          name: "baton",
          ready: false,
          restartCount: 0,
          image: "registry.example/baton:1.2",
          imageID: "",
          state: {
            waiting: {
              reason: "ImagePullBackOff",
              message: 'Back-off pulling image "registry.example/baton:1.2"',
            },
          },
        },
      ],
    });
    await ended(s, run.runId, "FAILURE");
    expect(await reasons(s, run.runId, "run_failed")).toEqual([
      `Kubernetes Job ${job.metadata.name} failed: pod ${pod.metadata.name}: ImagePullBackOff (Back-off pulling image "registry.example/baton:1.2")`,
    ]);
    const deletion = await until("the DELETE", () => s.fake.requests.find((r) => r.method === "DELETE"));
    expect(deletion.path).toBe(`/apis/batch/v1/namespaces/${NS}/jobs/${job.metadata.name}`);
    expect(deletion.query.propagationPolicy).toBe("Background");
    expect(s.fake.job(NS, job.metadata.name)).toBeUndefined();
  });

  it("fails a run whose Job disappears (deleted by someone else) before it ended", async () => {
    const s = await setup();
    start(s);
    const run = await s.instance.launchRun(definitions, { selection: "quick" });
    const job = await created(s, run.runId);
    s.fake.addPod(NS, job.metadata.name); // Pending: removed with the Job
    s.fake.deleteJob(NS, job.metadata.name);
    await ended(s, run.runId, "FAILURE");
    expect(await reasons(s, run.runId, "run_failed")).toEqual([
      `Kubernetes Job ${job.metadata.name} was deleted before its run ended`,
    ]);
  });

  it("deletes the Job on cancel: a pending pod's run ends CANCELED at once, a running pod ends its run itself", async () => {
    const s = await setup();
    start(s);
    const pending = await s.instance.launchRun(definitions, { selection: "quick" });
    const pendingJob = await created(s, pending.runId);
    s.fake.addPod(NS, pendingJob.metadata.name);
    await s.instance.cancelRun(pending.runId);
    await ended(s, pending.runId, "CANCELED");
    const deletion = s.fake.requests.find(
      (r) => r.method === "DELETE" && r.path.endsWith(pendingJob.metadata.name),
    )!;
    expect(deletion.query.propagationPolicy).toBe("Background");
    expect(s.fake.job(NS, pendingJob.metadata.name)).toBeUndefined();
    expect(await reasons(s, pending.runId, "run_canceled")).toEqual([
      `canceled: its Kubernetes Job ${pendingJob.metadata.name} was deleted`,
    ]);

    const running = await s.instance.launchRun(definitions, { selection: "waits" });
    const runningJob = await created(s, running.runId);
    const pod = s.fake.addPod(NS, runningJob.metadata.name, { phase: "Running" });
    const executing = executeRun({
      instance: s.instance,
      definitions,
      runId: running.runId,
      heartbeatMs: 100,
    });
    await until("the run to start", async () => (await status(s, running.runId)) === "STARTED");
    await s.instance.cancelRun(running.runId);
    await until("the Job's deletion", () => !s.fake.job(NS, runningJob.metadata.name));
    expect(await executing).toBe("CANCELED");
    s.fake.removePod(NS, pod.metadata.name); // the container exited
    await sleep(300);
    expect(await status(s, running.runId)).toBe("CANCELED");
    expect(await reasons(s, running.runId, "run_canceled")).toEqual(["the run was canceled"]);
  });

  it("adopts an existing Job (409 AlreadyExists) of a run a previous launcher claimed", async () => {
    const s = await setup();
    const config = parseKubernetesLauncherConfig(
      { kind: "kubernetes", image: "registry.example/baton:1.2", namespace: NS },
      "baton.config.json: launcher",
    );
    // The previous launcher claimed the run and created its Job, then stopped.
    const run = await s.instance.launchRun(definitions, { selection: "quick" });
    const [claim] = await s.instance.storage.claimRuns({ workerId: WORKER_ID, limit: 1, now: Date.now() });
    expect(claim?.runId).toBe(run.runId);
    const response = await fetch(`${s.fake.url}/apis/batch/v1/namespaces/${NS}/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${s.fake.token}`, "content-type": "application/json" },
      body: JSON.stringify(buildJobManifest(config, run.runId, {})),
    });
    expect(response.status).toBe(201);

    // And a run it had started whose Job is gone (deleted while no launcher watched).
    const orphan = await s.instance.launchRun(definitions, { selection: "quick" });
    await s.instance.storage.claimRuns({ workerId: WORKER_ID, limit: 1, now: Date.now() });
    await s.instance.storage.appendEvents([
      { type: "run_started", steps: [], runId: orphan.runId, timestamp: Date.now() },
    ]);

    start(s);
    await until("the adoption", () => s.logs.some((l) => l.includes("already exists: adopting")));
    await ended(s, orphan.runId, "FAILURE");
    expect(await reasons(s, orphan.runId, "run_failed")).toEqual([
      `Kubernetes Job ${jobName(orphan.runId)} was deleted before its run ended`,
    ]);
    expect(s.fake.job(NS, jobName(orphan.runId))).toBeUndefined(); // not created again for a started run
    await until("the adopted Job's read", () =>
      s.fake.requests.some((r) => r.method === "GET" && r.path.endsWith(`/jobs/${jobName(run.runId)}`)),
    );
    const posts = s.fake.requests.filter((r) => r.method === "POST");
    expect(posts).toHaveLength(2); // ours (201) and the launcher's (409)
    expect(s.fake.jobs()).toHaveLength(1);
    expect(
      s.fake.requests.some((r) => r.method === "GET" && r.path.endsWith(`/jobs/${jobName(run.runId)}`)),
    ).toBe(true);
    // Still watched: its failure is reported.
    s.fake.addPod(NS, jobName(run.runId), {
      phase: "Failed",
      containerStatuses: [
        {
          name: "baton",
          ready: false,
          restartCount: 0,
          image: "x",
          imageID: "",
          state: { terminated: { exitCode: 2, reason: "Error", message: "cannot connect to the store" } },
        },
      ],
    });
    s.fake.updateJob(NS, jobName(run.runId), FAILED);
    await ended(s, run.runId, "FAILURE");
    expect((await reasons(s, run.runId, "run_failed"))[0]).toMatch(
      new RegExp(
        `^Kubernetes Job ${jobName(run.runId)} failed: pod ${jobName(run.runId)}-\\w+: Error \\(exit 2: cannot connect to the store\\)$`,
      ),
    );
  });

  it("lists and watches again after the watch breaks and the API server errs, and misses no Job change", async () => {
    const s = await setup();
    start(s);
    await until("the first watch", () => s.fake.openWatches() === 1);
    const lists = () =>
      s.fake.requests.filter(
        (r) => r.method === "GET" && r.path.endsWith("/jobs") && r.query.watch !== "true",
      ).length;
    expect(lists()).toBe(1);
    const run = await s.instance.launchRun(definitions, { selection: "quick" });
    const job = await created(s, run.runId);
    s.fake.failNext("GET", /\/jobs$/, 500, 2);
    s.fake.dropWatches();
    // While nobody watches, the Job fails.
    s.fake.updateJob(NS, job.metadata.name, FAILED);
    await ended(s, run.runId, "FAILURE");
    expect(lists()).toBeGreaterThanOrEqual(4); // the first, two 500s, the one that worked
    await until("the watch again", () => s.fake.openWatches() === 1);
    const watch = s.fake.requests.filter((r) => r.query.watch === "true").at(-1)!;
    expect(watch.query.labelSelector).toBe(
      "app.kubernetes.io/managed-by=baton,baton/job-name-prefix=baton-run",
    );
    expect(watch.query.resourceVersion).toMatch(/^\d+$/);
    expect(s.logs.some((l) => l.includes("cannot list Jobs in namespace data: 500"))).toBe(true);
    expect((await reasons(s, run.runId, "run_failed"))[0]).toBe(
      `Kubernetes Job ${job.metadata.name} failed: no pod ran (BackoffLimitExceeded: Job has reached the specified backoff limit)`,
    );

    // An ERROR event (410 Expired) ends the watch: list again, and keep following the Jobs.
    const second = await s.instance.launchRun(definitions, { selection: "quick" });
    const secondJob = await created(s, second.runId);
    const before = lists();
    s.fake.expireWatches();
    await until("a new list after the 410", () => lists() > before);
    await until("the watch again", () => s.fake.openWatches() === 1);
    expect(s.logs.some((l) => l.includes("watch error 410"))).toBe(true);
    s.fake.updateJob(NS, secondJob.metadata.name, FAILED);
    await ended(s, second.runId, "FAILURE");
  });

  it("launches at most maxConcurrentJobs at once", async () => {
    const s = await setup();
    start(s, { maxConcurrentJobs: 2 });
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await s.instance.launchRun(definitions, { selection: "quick" }));
    await until("two Jobs", () => s.fake.jobs().length === 2);
    await sleep(300);
    expect(s.fake.jobs()).toHaveLength(2);
    const [first] = s.fake.jobs();
    const runId = first!.metadata.labels["baton/run-id"] as string;
    expect(await executeRun({ instance: s.instance, definitions, runId })).toBe("SUCCESS");
    s.fake.updateJob(NS, first!.metadata.name, COMPLETE);
    await until("the third Job", () => s.fake.jobs().length === 3);
  });

  it("fails a run whose Job the API server refuses, with its message", async () => {
    const s = await setup();
    start(s);
    s.fake.failNext("POST", /\/jobs$/, 403);
    const run = await s.instance.launchRun(definitions, { selection: "quick" });
    await ended(s, run.runId, "FAILURE");
    expect(await reasons(s, run.runId, "run_failed")).toEqual([
      `could not create Kubernetes Job ${jobName(run.runId)}: 403: injected failure 403`,
    ]);
  });

  it("the Job's own command and env execute the run: baton worker --run-id on Postgres, SIGTERM on cancel", async () => {
    const server = await startTestPostgres();
    if (!server) throw new Error("no Postgres for this test (see tests/support/postgres.ts)");
    const databaseUrl = await createTestDatabase(server.url);
    cleanup.push(async () => {
      await dropTestDatabase(databaseUrl).catch(() => undefined);
      await server.stop();
    });
    const s = await setup(databaseUrl);
    const defs = path.join(ROOT, "tests/fixtures/worker/definitions.ts");
    start(s, {}, {}, { BATON_DATABASE_URL: databaseUrl, BATON_DEFS: defs });

    /** Run the pod's container as the kubelet would: the Job's command, the Job's env only. */
    const runPod = (job: Record<string, any>) => {
      const container = job.spec.template.spec.containers[0];
      expect(container.command[0]).toBe("baton");
      const env = Object.fromEntries(
        container.env.map((e: { name: string; value: string }) => [e.name, e.value]),
      );
      expect(Object.keys(env).sort()).toEqual(["BATON_DATABASE_URL", "BATON_DEFS"]);
      const pod = s.fake.addPod(NS, job.metadata.name, { phase: "Running" });
      const proc = spawnBaton(container.command.slice(1), {
        cwd: s.home,
        env: { PATH: process.env.PATH ?? "", HOME: s.home, ...env },
      });
      return { pod, proc };
    };

    const ok = await s.instance.launchRun(workerDefinitions, { selection: "work/quick" });
    const okJob = await created(s, ok.runId);
    const first = runPod(okJob);
    const exit = await exitOf(first.proc, 30_000);
    expect(exit.code, first.proc.stderr()).toBe(0);
    s.fake.updatePod(NS, first.pod.metadata.name, { phase: "Succeeded" });
    s.fake.updateJob(NS, okJob.metadata.name, COMPLETE);
    await sleep(300);
    expect(await status(s, ok.runId)).toBe("SUCCESS");

    const long = await s.instance.launchRun(workerDefinitions, { selection: "work/forever" });
    const longJob = await created(s, long.runId);
    const second = runPod(longJob);
    await until("the pod to start the run", async () => (await status(s, long.runId)) === "STARTED", 30_000);
    await s.instance.cancelRun(long.runId);
    await until("the Job's deletion", () => !s.fake.job(NS, longJob.metadata.name));
    killGroup(second.proc, "SIGTERM"); // the kubelet stops the deleted Job's pod
    const stopped = await exitOf(second.proc, 30_000);
    expect(stopped.code, second.proc.stderr()).toBe(1);
    s.fake.removePod(NS, second.pod.metadata.name);
    await ended(s, long.runId, "CANCELED");
    await sleep(300);
    expect(await reasons(s, long.runId, "run_canceled")).toHaveLength(1);
  }, 90_000);

  it("reports every config error at once, naming the field", () => {
    const where = "baton.config.json: launcher";
    expect(() => parseKubernetesLauncherConfig({ kind: "kubernetes" }, where)).toThrow(
      "baton.config.json: launcher.image: required: the container image with baton and your definitions",
    );
    let message = "";
    try {
      parseKubernetesLauncherConfig(
        {
          kind: "kubernetes",
          image: "x",
          namespace: "Data_Team",
          backoffLimit: -1,
          resources: { limits: { memory: "lots" } },
          jobNamePrefix: "a-very-long-prefix-for-job-names",
          imagePullPolicy: "Sometimes",
          replicas: 3,
        },
        where,
      );
    } catch (error) {
      message = (error as Error).message;
    }
    const lines = message.split("\n");
    expect(lines).toContain(
      "baton.config.json: launcher.replicas: is not a setting of the Kubernetes launcher",
    );
    expect(
      lines.some(
        (l) =>
          l.startsWith("baton.config.json: launcher.namespace: must be a DNS-1123 label") &&
          l.endsWith('(got "Data_Team")'),
      ),
    ).toBe(true);
    expect(lines.some((l) => l.startsWith("baton.config.json: launcher.backoffLimit: "))).toBe(true);
    expect(
      lines.some((l) =>
        l.startsWith("baton.config.json: launcher.resources.limits.memory: must be a Kubernetes quantity"),
      ),
    ).toBe(true);
    expect(
      lines.some((l) =>
        l.startsWith("baton.config.json: launcher.jobNamePrefix: must be at most 26 characters"),
      ),
    ).toBe(true);
    expect(lines.some((l) => l.startsWith("baton.config.json: launcher.imagePullPolicy: "))).toBe(true);
    expect(lines).toHaveLength(6);

    const defaults = parseKubernetesLauncherConfig({ kind: "kubernetes", image: "x" }, where);
    expect(defaults).toMatchObject({
      namespace: "default",
      backoffLimit: 0,
      command: ["baton", "worker", "--run-id"],
      args: [],
      jobNamePrefix: "baton-run",
    });
  });

  it("says which kubeconfig it cannot load", async () => {
    const s = await setup();
    const config = parseKubernetesLauncherConfig(
      { kind: "kubernetes", image: "x", kubeconfig: path.join(s.home, "missing.yaml") },
      "baton.config.json: launcher",
    );
    const launcher = createKubernetesLauncher(
      { instance: s.instance, definitionsPath: "/d.ts", env: {}, log: () => {} },
      config,
    );
    await expect(launcher.run(new AbortController().signal)).rejects.toThrow(
      `Kubernetes launcher: cannot load the kubeconfig file ${path.join(s.home, "missing.yaml")}`,
    );
  });

  it("does not load @kubernetes/client-node when core or the launcher's module is imported, only when it runs", () => {
    // A resolve hook that refuses the client: importing succeeds only if nothing asks for it.
    const hook = `data:text/javascript,${encodeURIComponent(
      "export async function resolve(s, c, next) { if (s.startsWith('@kubernetes/client-node')) throw new Error('LOADED ' + s); return next(s, c); }",
    )}`;
    const script = `
      import { register } from "node:module";
      register(${JSON.stringify(hook)});
      const core = await import(${JSON.stringify(path.join(ROOT, "packages/core/src/index.ts"))});
      const k8s = await import(${JSON.stringify(path.join(ROOT, "packages/core/src/launcher/kubernetes/index.ts"))});
      console.log("imported", typeof core.asset, typeof k8s.createKubernetesLauncher);
      const config = k8s.parseKubernetesLauncherConfig({ kind: "kubernetes", image: "x" }, "launcher");
      const launcher = k8s.createKubernetesLauncher({ instance: {}, definitionsPath: "", env: {}, log() {} }, config);
      await launcher.run(new AbortController().signal).catch((e) => console.log("run:", e.message));
    `;
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(child.stderr).toBe("");
    expect(child.stdout).toContain("imported function function");
    expect(child.stdout).toContain("run: LOADED @kubernetes/client-node");
  }, 40_000);
});
