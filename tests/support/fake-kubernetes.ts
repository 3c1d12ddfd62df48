/**
 * A fake Kubernetes API server on loopback for the Kubernetes launcher's tests: the few endpoints
 * the launcher calls, answering as the real one does (status codes, Status objects, JobList /
 * PodList with resourceVersion, chunked watch streams of `{"type":…,"object":…}` lines resuming
 * from a resourceVersion, 410 Expired for one that was compacted away), and every request recorded.
 * No controllers run: the test plays the Job controller and the kubelet through `updateJob`,
 * `addPod`, `updatePod`, `removePod`, and deletes Jobs as another user would with `deleteJob`.
 */
import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

/** Kubernetes objects are loose JSON here. */
type Obj = Record<string, any>;

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body: Obj | undefined;
  readonly authorization: string | undefined;
}

interface WatchEvent {
  readonly rv: number;
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly kind: "jobs" | "pods";
  readonly object: Obj;
}

export interface FakeKubernetes {
  readonly url: string;
  /** A kubeconfig file pointing at this server (a bearer token user). */
  readonly kubeconfig: string;
  readonly token: string;
  readonly requests: RecordedRequest[];
  job(namespace: string, name: string): Obj | undefined;
  jobs(namespace?: string): Obj[];
  pods(namespace?: string): Obj[];
  /** Merge into a Job's status (a MODIFIED event), as the Job controller does. */
  updateJob(namespace: string, name: string, status: Obj): Obj;
  /** The Job's pod, as the Job controller creates it (Pending); `status` merged in. */
  addPod(namespace: string, jobName: string, status?: Obj): Obj;
  updatePod(namespace: string, name: string, status: Obj): Obj;
  removePod(namespace: string, name: string): void;
  /** Delete a Job as someone else would (kubectl delete job): DELETED, pods terminate. */
  deleteJob(namespace: string, name: string): void;
  /** Forget watch history before now: watches from an older resourceVersion get 410 Expired. */
  compact(): void;
  /** Close every open watch stream (the API server restarted, a load balancer cut it). */
  dropWatches(): void;
  /** End every open watch with an ERROR event 410 Expired, as the API server does after compaction. */
  expireWatches(): void;
  /** Answer the next requests matching `method path-regex` with this status instead. */
  failNext(method: string, pathPattern: RegExp, status: number, times?: number): void;
  openWatches(): number;
  close(): Promise<void>;
}

function status(code: number, reason: string, message: string, details?: Obj): Obj {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    details,
    code,
  };
}

function matches(labels: Obj | undefined, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector
    .split(",")
    .filter(Boolean)
    .every((term) => {
      const [key, value] = term.split("=") as [string, string | undefined];
      if (value === undefined) return labels?.[key] !== undefined;
      return labels?.[key] === value;
    });
}

export async function startFakeKubernetes(dir: string): Promise<FakeKubernetes> {
  const token = `token-${randomUUID()}`;
  const requests: RecordedRequest[] = [];
  const jobs = new Map<string, Obj>(); // ns/name
  const pods = new Map<string, Obj>();
  const history: WatchEvent[] = [];
  let compactedBefore = 0;
  let rv = 100;
  const watches = new Set<{
    kind: "jobs" | "pods";
    namespace: string;
    selector: string | undefined;
    res: http.ServerResponse;
  }>();
  const failures: { method: string; pattern: RegExp; status: number; times: number }[] = [];

  const emit = (kind: "jobs" | "pods", type: WatchEvent["type"], object: Obj) => {
    const event = {
      rv: Number(object.metadata.resourceVersion),
      type,
      kind,
      object: structuredClone(object),
    };
    history.push(event);
    for (const w of watches)
      if (
        w.kind === kind &&
        w.namespace === object.metadata.namespace &&
        matches(object.metadata.labels, w.selector)
      )
        w.res.write(`${JSON.stringify({ type, object: event.object })}\n`);
  };
  const bump = (object: Obj) => {
    object.metadata.resourceVersion = String(++rv);
    return object;
  };

  const removePodNow = (key: string) => {
    const pod = pods.get(key);
    if (!pod) return;
    pods.delete(key);
    emit("pods", "DELETED", bump(pod));
  };
  /** Background propagation: the Job goes at once; its pods terminate (pending ones at once, running ones when the test removes them). */
  const deleteJobNow = (namespace: string, name: string) => {
    const job = jobs.get(`${namespace}/${name}`)!;
    jobs.delete(`${namespace}/${name}`);
    emit("jobs", "DELETED", bump(job));
    for (const [key, pod] of [...pods])
      if (pod.metadata.namespace === namespace && pod.metadata.labels?.["job-name"] === name) {
        if (pod.status?.phase === "Running") {
          pod.metadata.deletionTimestamp = new Date().toISOString();
          emit("pods", "MODIFIED", bump(pod));
        } else removePodNow(key);
      }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const query = Object.fromEntries(url.searchParams);
      const text = Buffer.concat(chunks).toString("utf8");
      const body = text ? (JSON.parse(text) as Obj) : undefined;
      const method = req.method ?? "GET";
      requests.push({ method, path: url.pathname, query, body, authorization: req.headers.authorization });
      const send = (code: number, payload: Obj) => {
        res.writeHead(code, { "content-type": "application/json" });
        res.end(JSON.stringify(payload));
      };
      if (req.headers.authorization !== `Bearer ${token}`)
        return send(401, status(401, "Unauthorized", "Unauthorized"));
      const failure = failures.find((f) => f.method === method && f.pattern.test(url.pathname));
      if (failure) {
        if (--failure.times <= 0) failures.splice(failures.indexOf(failure), 1);
        return send(
          failure.status,
          status(failure.status, "InternalError", `injected failure ${failure.status}`),
        );
      }

      const jobPath = url.pathname.match(/^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs(?:\/([^/]+))?$/);
      const podPath = url.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)\/pods$/);
      if (!jobPath && !podPath)
        return send(404, status(404, "NotFound", `the server could not find ${url.pathname}`));
      const namespace = (jobPath ?? podPath)![1]!;
      const name = jobPath?.[2];
      const kind = jobPath ? "jobs" : "pods";
      const store = jobPath ? jobs : pods;

      if (method === "GET" && !name && query.watch === "true") {
        const from = query.resourceVersion ? Number(query.resourceVersion) : rv;
        res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
        if (from < compactedBefore) {
          res.write(
            `${JSON.stringify({ type: "ERROR", object: status(410, "Expired", `too old resource version: ${from} (${compactedBefore})`) })}\n`,
          );
          return res.end();
        }
        const watch = { kind, namespace, selector: query.labelSelector, res } as const;
        for (const e of history)
          if (
            e.rv > from &&
            e.kind === kind &&
            e.object.metadata.namespace === namespace &&
            matches(e.object.metadata.labels, watch.selector)
          )
            res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
        watches.add(watch);
        res.on("close", () => watches.delete(watch));
        return;
      }
      if (method === "GET" && !name) {
        const items = [...store.values()].filter(
          (o) => o.metadata.namespace === namespace && matches(o.metadata.labels, query.labelSelector),
        );
        return send(200, {
          apiVersion: jobPath ? "batch/v1" : "v1",
          kind: jobPath ? "JobList" : "PodList",
          metadata: { resourceVersion: String(rv) },
          items,
        });
      }
      if (!jobPath) return send(405, status(405, "MethodNotAllowed", "not supported by the fake"));
      if (method === "POST" && !name) {
        const jobName = body?.metadata?.name as string | undefined;
        if (!jobName)
          return send(422, status(422, "Invalid", "Job.batch is invalid: metadata.name: Required value"));
        if (jobs.has(`${namespace}/${jobName}`))
          return send(
            409,
            status(409, "AlreadyExists", `jobs.batch "${jobName}" already exists`, {
              name: jobName,
              group: "batch",
              kind: "jobs",
            }),
          );
        const uid = randomUUID();
        const job = structuredClone(body!);
        job.metadata = {
          ...job.metadata,
          namespace,
          uid,
          creationTimestamp: new Date().toISOString(),
          generation: 1,
        };
        const selector = {
          "batch.kubernetes.io/controller-uid": uid,
          "batch.kubernetes.io/job-name": jobName,
          "controller-uid": uid,
          "job-name": jobName,
        };
        job.spec.template.metadata = {
          ...job.spec.template.metadata,
          labels: { ...(job.spec.template.metadata?.labels ?? {}), ...selector },
        };
        job.status = {};
        jobs.set(`${namespace}/${jobName}`, bump(job));
        emit("jobs", "ADDED", job);
        return send(201, job);
      }
      const key = `${namespace}/${name}`;
      const job = jobs.get(key);
      if (!job)
        return send(
          404,
          status(404, "NotFound", `jobs.batch "${name}" not found`, { name, group: "batch", kind: "jobs" }),
        );
      if (method === "GET") return send(200, job);
      if (method === "DELETE") {
        deleteJobNow(namespace, name!);
        return send(200, {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Success",
          details: { name, group: "batch", kind: "jobs", uid: job.metadata.uid },
        });
      }
      return send(405, status(405, "MethodNotAllowed", `${method} is not supported by the fake`));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = path.join(dir, "kubeconfig.yaml");
  await writeFile(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "  - name: fake",
      "    cluster:",
      `      server: ${url}`,
      "      insecure-skip-tls-verify: true",
      "users:",
      "  - name: launcher",
      "    user:",
      `      token: ${token}`,
      "contexts:",
      "  - name: fake",
      "    context: { cluster: fake, user: launcher }",
      "current-context: fake",
      "",
    ].join("\n"),
  );

  const get = (map: Map<string, Obj>, what: string, namespace: string, name: string) => {
    const object = map.get(`${namespace}/${name}`);
    if (!object) throw new Error(`fake kubernetes: no ${what} ${namespace}/${name}`);
    return object;
  };
  return {
    url,
    kubeconfig,
    token,
    requests,
    job: (namespace, name) => jobs.get(`${namespace}/${name}`),
    jobs: (namespace) => [...jobs.values()].filter((j) => !namespace || j.metadata.namespace === namespace),
    pods: (namespace) => [...pods.values()].filter((p) => !namespace || p.metadata.namespace === namespace),
    updateJob(namespace, name, patch) {
      const job = get(jobs, "Job", namespace, name);
      job.status = { ...job.status, ...patch };
      emit("jobs", "MODIFIED", bump(job));
      return job;
    },
    addPod(namespace, jobName, patch = {}) {
      const job = get(jobs, "Job", namespace, jobName);
      const name = `${jobName}-${randomUUID().slice(0, 5)}`;
      const pod: Obj = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name,
          namespace,
          uid: randomUUID(),
          creationTimestamp: new Date().toISOString(),
          labels: { ...job.spec.template.metadata.labels },
          ownerReferences: [
            { apiVersion: "batch/v1", kind: "Job", name: jobName, uid: job.metadata.uid, controller: true },
          ],
        },
        spec: structuredClone(job.spec.template.spec),
        status: { phase: "Pending", ...patch },
      };
      pods.set(`${namespace}/${name}`, bump(pod));
      emit("pods", "ADDED", pod);
      return pod;
    },
    updatePod(namespace, name, patch) {
      const pod = get(pods, "pod", namespace, name);
      pod.status = { ...pod.status, ...patch };
      emit("pods", "MODIFIED", bump(pod));
      return pod;
    },
    removePod: (namespace, name) => removePodNow(`${namespace}/${name}`),
    deleteJob(namespace, name) {
      get(jobs, "Job", namespace, name);
      deleteJobNow(namespace, name);
    },
    compact() {
      compactedBefore = rv;
      history.length = 0;
    },
    dropWatches() {
      for (const w of watches) w.res.end();
      watches.clear();
    },
    expireWatches() {
      compactedBefore = rv;
      history.length = 0;
      for (const w of watches)
        w.res.end(
          `${JSON.stringify({ type: "ERROR", object: status(410, "Expired", "too old resource version") })}\n`,
        );
      watches.clear();
    },
    failNext(method, pathPattern, code, times = 1) {
      failures.push({ method, pattern: pathPattern, status: code, times });
    },
    openWatches: () => watches.size,
    async close() {
      for (const w of watches) w.res.destroy();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
