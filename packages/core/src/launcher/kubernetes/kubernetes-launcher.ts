import os from "node:os";
import path from "node:path";
import type { BatchV1Api, CoreV1Api, V1Job, V1Pod, Watch } from "@kubernetes/client-node";
import { describeError } from "../../errors.js";
import { TERMINAL_RUN_STATUSES } from "../../execution/events.js";
import { allRuns } from "../../storage/all-runs.js";
import type { TagLimit } from "../../storage/storage.js";
import type { LauncherContext, RunLauncher } from "../launcher.js";
import { DEFAULT_PASS_ENV, type KubernetesLauncherConfig } from "./config.js";
import { buildJobManifest, jobNameFor, RUN_ID_LABEL, selectorFor } from "./job-manifest.js";
import { describeJobFailure, fatalPendingProblem, jobCondition } from "./pod-reason.js";

export interface KubernetesLauncherOptions {
  /** Runs in progress across every worker and launcher of the store. */
  readonly maxConcurrentRuns?: number;
  readonly tagLimits?: readonly TagLimit[];
  /** How often to look for queued runs and act on what changed (default 500 ms). */
  readonly pollMs?: number;
  /** How often to keep the launched runs alive and pick up cancel requests (default 1,000 ms). */
  readonly heartbeatMs?: number;
  /** How often to look at pending pods for a bad image or missing Secret (default 2,000 ms). */
  readonly podCheckMs?: number;
}

/** A run this launcher claimed, and where its Job is. */
interface Launched {
  readonly runId: string;
  readonly jobName: string;
  /**
   * creating: claimed, its Job not created yet (or creation failed for a reason that may pass);
   * active: the Job exists; ending: the Job was deleted (a cancel, or someone else) and its pod
   * has `terminationGraceSeconds` to end the run itself before the launcher does.
   */
  state: "creating" | "adopting" | "active" | "ending";
  endingBecause?: "cancel" | "gone";
  endingSince?: number;
  retryAt?: number;
}

type Api = { batch: BatchV1Api; core: CoreV1Api; watch: Watch };

/** An HTTP status of a failed Kubernetes API call (undefined: no answer, e.g. connection refused). */
function statusOf(error: unknown): number | undefined {
  const code =
    (error as { code?: unknown; statusCode?: unknown }).code ??
    (error as { statusCode?: unknown }).statusCode;
  return typeof code === "number" ? code : undefined;
}

/** The API server's own message (its Status object) for a failed call. */
function apiMessage(error: unknown): string {
  const code = statusOf(error);
  let body = (error as { body?: unknown }).body;
  if (typeof body === "string") {
    try {
      body = JSON.parse(body);
    } catch {
      // not JSON: use the text
    }
  }
  const message =
    typeof body === "object" && body !== null && typeof (body as { message?: unknown }).message === "string"
      ? (body as { message: string }).message
      : typeof body === "string" && body
        ? body
        : describeError(error);
  return code !== undefined ? `${code}: ${message}` : message;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });

/** Load the kubeconfig (a file, else `KUBECONFIG` of the launcher's env, else in-cluster or ~/.kube/config). */
async function connect(ctx: LauncherContext, config: KubernetesLauncherConfig): Promise<Api> {
  const k8s = await import("@kubernetes/client-node");
  const kc = new k8s.KubeConfig();
  const file = config.kubeconfig ?? ctx.env.KUBECONFIG;
  try {
    if (file && !file.includes(path.delimiter)) kc.loadFromFile(path.resolve(file));
    else kc.loadFromDefault();
    if (config.context) kc.setCurrentContext(config.context);
  } catch (error) {
    throw new Error(
      `Kubernetes launcher: cannot load the kubeconfig ${file ? `file ${file}` : "(in-cluster or ~/.kube/config)"}: ${describeError(error)}`,
    );
  }
  if (!kc.getCurrentCluster())
    throw new Error(
      `Kubernetes launcher: the kubeconfig ${file ?? "(default)"} names no current cluster${config.context ? ` for context ${config.context}` : ""}`,
    );
  return {
    batch: kc.makeApiClient(k8s.BatchV1Api),
    core: kc.makeApiClient(k8s.CoreV1Api),
    watch: new k8s.Watch(kc),
  };
}

/**
 * Launches every queued run as a Kubernetes Job running `baton worker --run-id ID` (see
 * buildJobManifest). The launcher claims runs from the store within its limits (so it shares the
 * queue with other launchers and workers), creates their Jobs, keeps the runs alive while their
 * pods are pending or being replaced (the pod heartbeats too, under the same worker id, once it
 * runs), and watches the Jobs: a Job that fails, vanishes, or whose pod cannot start (bad image,
 * missing Secret) fails its run with the pod's reason, unless the pod already ended the run; a
 * cancel request deletes the Job. Its worker id is derived from namespace and Job name prefix, so
 * a restarted launcher adopts the runs (and Jobs) of the one before.
 */
export function createKubernetesLauncher(
  ctx: LauncherContext,
  config: KubernetesLauncherConfig,
  options: KubernetesLauncherOptions = {},
): RunLauncher {
  const { namespace } = config;
  const storage = ctx.instance.storage;
  const workerId = `kubernetes:${namespace}:${config.jobNamePrefix}`;
  const pollMs = options.pollMs ?? 500;
  const heartbeatMs = options.heartbeatMs ?? 1000;
  const podCheckMs = options.podCheckMs ?? 2000;
  const graceMs = config.terminationGraceSeconds * 1000;
  const labelSelector = selectorFor(config);

  return {
    describe: () =>
      `Kubernetes Jobs in namespace ${namespace} (image ${config.image}${config.maxConcurrentJobs ? `, at most ${config.maxConcurrentJobs} at once` : ""})`,

    async run(signal: AbortSignal): Promise<void> {
      const api = await connect(ctx, config);
      const worker = { workerId, pid: process.pid, host: os.hostname(), startedAt: Date.now() };
      const launched = new Map<string, Launched>();
      /** Jobs of this launcher as the API server last told (list, then watch events). */
      const jobs = new Map<string, V1Job>();
      const dirty = new Set<string>();
      let wake: () => void = () => {};
      const log = (line: string) => ctx.log(`kubernetes: ${line}`);

      const passed =
        (config.passEnv ?? DEFAULT_PASS_ENV).includes("BATON_DATABASE_URL") &&
        Boolean(ctx.env.BATON_DATABASE_URL);
      if (!passed && !config.env?.BATON_DATABASE_URL && !config.envFromSecrets?.length)
        log(
          "warning: no BATON_DATABASE_URL is passed to the Jobs (not in this process's environment, launcher.env or launcher.envFromSecrets); their pods need the store this launcher uses",
        );

      const track = (runId: string, state: Launched["state"]) => {
        const entry: Launched = { runId, jobName: jobNameFor(config.jobNamePrefix, runId), state };
        launched.set(runId, entry);
        dirty.add(runId);
        return entry;
      };
      const runIdOf = (job: V1Job) =>
        job.metadata?.annotations?.[RUN_ID_LABEL] ?? job.metadata?.labels?.[RUN_ID_LABEL];
      const notTerminal = async (runId: string) => {
        const run = await storage.getRun(runId);
        return run !== undefined && !TERMINAL_RUN_STATUSES.has(run.status);
      };
      const failRun = async (runId: string, reason: string) => {
        if (!(await notTerminal(runId))) return;
        await storage.appendEvents([{ type: "run_failed", reason, runId, timestamp: Date.now() }]);
        log(`run ${runId} failed: ${reason}`);
      };
      const podsOf = async (jobName: string): Promise<V1Pod[]> =>
        (await api.core.listNamespacedPod({ namespace, labelSelector: `job-name=${jobName}` })).items;
      const deleteJob = async (jobName: string) => {
        try {
          await api.batch.deleteNamespacedJob({ name: jobName, namespace, propagationPolicy: "Background" });
        } catch (error) {
          if (statusOf(error) !== 404) throw error;
        }
      };

      // Runs a launcher with this worker id claimed before (it was restarted): adopt them.
      for await (const run of allRuns(storage, { statuses: ["STARTING", "STARTED", "CANCELING"] }))
        if (run.workerId === workerId) track(run.runId, run.status === "STARTING" ? "creating" : "adopting");
      if (launched.size > 0) log(`adopting ${launched.size} run(s) a previous launcher started`);

      /** Create the Job (409: it exists, from before a restart: adopt it). */
      async function create(entry: Launched) {
        try {
          const job = await api.batch.createNamespacedJob({
            namespace,
            body: buildJobManifest(config, entry.runId, ctx.env),
          });
          jobs.set(entry.jobName, job);
          entry.state = "active";
          log(`created Job ${entry.jobName} for run ${entry.runId}`);
        } catch (error) {
          const status = statusOf(error);
          if (status === 409) {
            entry.state = "adopting";
            log(`Job ${entry.jobName} already exists: adopting it for run ${entry.runId}`);
            return adopt(entry);
          }
          if (status !== undefined && status >= 400 && status < 500 && status !== 429) {
            launched.delete(entry.runId);
            await failRun(
              entry.runId,
              `could not create Kubernetes Job ${entry.jobName}: ${apiMessage(error)}`,
            );
            return;
          }
          entry.retryAt = Date.now() + 2000;
          log(`could not create Job ${entry.jobName} (will retry): ${apiMessage(error)}`);
        }
      }

      async function adopt(entry: Launched) {
        try {
          const job = await api.batch.readNamespacedJob({ name: entry.jobName, namespace });
          jobs.set(entry.jobName, job);
          entry.state = "active";
        } catch (error) {
          if (statusOf(error) === 404) {
            entry.state = "active";
            jobs.delete(entry.jobName);
            return gone(entry);
          }
          entry.retryAt = Date.now() + 2000;
          log(`could not read Job ${entry.jobName} (will retry): ${apiMessage(error)}`);
        }
      }

      /** The Job is not in the cache: confirm with the API server, then give its pod time to end the run. */
      async function gone(entry: Launched) {
        try {
          const job = await api.batch.readNamespacedJob({ name: entry.jobName, namespace });
          jobs.set(entry.jobName, job);
          return;
        } catch (error) {
          if (statusOf(error) !== 404) throw error;
        }
        entry.state = "ending";
        entry.endingBecause = "gone";
        entry.endingSince = Date.now();
        dirty.add(entry.runId);
      }

      /** After its Job was deleted: once its pods are gone (or the grace ran out), end the run if its pod did not. */
      async function ending(entry: Launched) {
        if (!(await notTerminal(entry.runId))) {
          launched.delete(entry.runId);
          return;
        }
        const pods = await podsOf(entry.jobName);
        const alive = pods.filter((p) => p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed");
        if (alive.length > 0 && Date.now() - (entry.endingSince ?? 0) < graceMs) return;
        launched.delete(entry.runId);
        if (entry.endingBecause === "cancel") {
          if (!(await notTerminal(entry.runId))) return;
          await storage.appendEvents([
            {
              type: "run_canceled",
              reason: `canceled: its Kubernetes Job ${entry.jobName} was deleted`,
              runId: entry.runId,
              timestamp: Date.now(),
            },
          ]);
          log(`run ${entry.runId} canceled (Job ${entry.jobName} deleted)`);
        } else {
          const problem = pods.map((p) => describeJobFailure({}, [p])).find((p) => !p.startsWith("its pod"));
          await failRun(
            entry.runId,
            `Kubernetes Job ${entry.jobName} was deleted before its run ended${problem ? ` (${problem})` : ""}`,
          );
        }
      }

      /** React to the Job's state. */
      async function evaluate(entry: Launched) {
        if (entry.retryAt !== undefined && Date.now() < entry.retryAt) return;
        delete entry.retryAt;
        if (entry.state === "creating") return create(entry);
        if (entry.state === "adopting") return adopt(entry);
        if (entry.state === "ending") return ending(entry);
        const job = jobs.get(entry.jobName);
        if (!job) return gone(entry);
        if (job.metadata?.deletionTimestamp) return;
        if (jobCondition(job, "Complete")) {
          launched.delete(entry.runId);
          await failRun(
            entry.runId,
            `Kubernetes Job ${entry.jobName} completed but its run had not ended (did the container run baton worker --run-id?)`,
          );
          return;
        }
        if (jobCondition(job, "Failed")) {
          launched.delete(entry.runId);
          if (!(await notTerminal(entry.runId))) return;
          const pods = await podsOf(entry.jobName).catch(() => [] as V1Pod[]);
          await failRun(
            entry.runId,
            `Kubernetes Job ${entry.jobName} failed: ${describeJobFailure(job, pods)}`,
          );
        }
      }

      async function cancel(entry: Launched) {
        if (entry.state === "ending" && entry.endingBecause === "cancel") return;
        if (entry.state !== "creating") await deleteJob(entry.jobName);
        log(`run ${entry.runId}: cancel requested, deleted Job ${entry.jobName}`);
        entry.state = "ending";
        entry.endingBecause = "cancel";
        entry.endingSince = Date.now();
        dirty.add(entry.runId);
      }

      /** Pods stuck for good (bad image, missing Secret) never fail their Job: fail the run, delete the Job. */
      async function checkPendingPods() {
        if (launched.size === 0) return;
        const pods = (await api.core.listNamespacedPod({ namespace, labelSelector })).items;
        for (const pod of pods) {
          const runId = pod.metadata?.labels?.[RUN_ID_LABEL];
          const entry = runId ? launched.get(runId) : undefined;
          if (entry?.state !== "active") continue;
          const problem = fatalPendingProblem(pod);
          if (!problem) continue;
          launched.delete(entry.runId);
          await failRun(entry.runId, `Kubernetes Job ${entry.jobName} failed: ${problem}`);
          await deleteJob(entry.jobName).catch(() => undefined);
        }
      }

      /** List this launcher's Jobs, then watch them from that resourceVersion; again (with backoff) when the watch ends. */
      async function watchJobs() {
        let delay = 250;
        let failures = 0;
        const jobsPath = `/apis/batch/v1/namespaces/${namespace}/jobs`;
        while (!live.aborted) {
          try {
            const list = await api.batch.listNamespacedJob({ namespace, labelSelector });
            jobs.clear();
            for (const job of list.items) if (job.metadata?.name) jobs.set(job.metadata.name, job);
            for (const runId of launched.keys()) dirty.add(runId);
            wake();
            if (failures > 0) log("watching Jobs again");
            failures = 0;
            delay = 250;
            let resourceVersion = list.metadata?.resourceVersion;
            let stopWatch: AbortController | undefined;
            let finish: (error: unknown) => void = () => {};
            const onAbort = () => finish(undefined);
            live.addEventListener("abort", onAbort, { once: true });
            const ended = await new Promise<unknown>((resolve) => {
              finish = resolve;
              if (live.aborted) resolve(undefined);
              void api.watch
                .watch(
                  jobsPath,
                  { labelSelector, resourceVersion, allowWatchBookmarks: true },
                  (phase: string, object: V1Job & { code?: number; message?: string }) => {
                    if (phase === "ERROR") {
                      // 410 Gone (resourceVersion too old) and the like: list again.
                      resolve(new Error(`watch error ${object.code ?? ""} ${object.message ?? ""}`.trim()));
                      return;
                    }
                    resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
                    if (phase === "BOOKMARK") return;
                    const name = object.metadata?.name;
                    if (!name) return;
                    if (phase === "DELETED") jobs.delete(name);
                    else jobs.set(name, object);
                    const runId = runIdOf(object);
                    if (runId && launched.has(runId)) {
                      dirty.add(runId);
                      wake();
                    }
                  },
                  (error: unknown) => resolve(error ?? new Error("the API server closed the watch")),
                )
                .then(
                  (controller) => {
                    stopWatch = controller;
                    if (live.aborted) controller.abort();
                  },
                  (error: unknown) => resolve(error),
                );
            });
            live.removeEventListener("abort", onAbort);
            stopWatch?.abort();
            if (live.aborted) break;
            log(`watch of Jobs ended (${describeError(ended)}); listing again`);
          } catch (error) {
            failures++;
            if (failures === 1 || failures % 10 === 0)
              log(
                `cannot list Jobs in namespace ${namespace}: ${apiMessage(error)} (retrying in ${delay} ms)`,
              );
          }
          await sleep(delay, live);
          delay = Math.min(delay * 2, 10_000);
        }
      }

      // The watch stops with the launcher, and also when its loop fails.
      const halt = new AbortController();
      const live = AbortSignal.any([signal, halt.signal]);
      const watching = watchJobs();
      let lastBeat = 0;
      let lastPodCheck = Date.now();
      try {
        while (!signal.aborted) {
          const now = Date.now();
          if (now - lastBeat >= heartbeatMs) {
            lastBeat = now;
            const cancels = await storage.heartbeat(worker, [...launched.keys()], now).catch((error) => {
              log(`heartbeat failed: ${describeError(error)}`);
              return [] as string[];
            });
            for (const runId of cancels) {
              const entry = launched.get(runId);
              if (entry)
                await cancel(entry).catch((error) => log(`cancel of run ${runId}: ${apiMessage(error)}`));
            }
          }
          const room = config.maxConcurrentJobs !== undefined ? config.maxConcurrentJobs - launched.size : 50;
          if (room > 0) {
            const claimed = await storage
              .claimRuns({
                workerId,
                limit: room,
                now,
                ...(options.maxConcurrentRuns !== undefined
                  ? { maxConcurrentRuns: options.maxConcurrentRuns }
                  : {}),
                ...(options.tagLimits ? { tagLimits: options.tagLimits } : {}),
              })
              .catch((error) => {
                log(`claiming runs failed: ${describeError(error)}`);
                return [];
              });
            for (const run of claimed) track(run.runId, "creating");
          }
          for (const entry of launched.values())
            if (entry.state !== "active" || entry.retryAt !== undefined) dirty.add(entry.runId);
          for (const runId of [...dirty]) {
            dirty.delete(runId);
            const entry = launched.get(runId);
            if (entry)
              await evaluate(entry).catch((error) => {
                entry.retryAt = Date.now() + 2000;
                log(`run ${runId} (Job ${entry.jobName}): ${apiMessage(error)}`);
              });
          }
          if (Date.now() - lastPodCheck >= podCheckMs) {
            lastPodCheck = Date.now();
            await checkPendingPods().catch((error) => log(`cannot list pods: ${apiMessage(error)}`));
          }
          if (dirty.size > 0) continue;
          await new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              signal.removeEventListener("abort", done);
              wake = () => {};
              resolve();
            };
            wake = done;
            const timer = setTimeout(done, pollMs);
            signal.addEventListener("abort", done, { once: true });
          });
        }
      } finally {
        halt.abort();
        await watching;
        // The Jobs keep running: their pods heartbeat the runs (and mark this worker id running
        // again); a restarted launcher adopts them.
        await storage.stopWorker(workerId, Date.now()).catch(() => undefined);
      }
    },
  };
}
