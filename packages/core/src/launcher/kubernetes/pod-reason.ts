import type { V1Job, V1Pod } from "@kubernetes/client-node";

/**
 * Container waiting reasons that never fix themselves: the pod stays Pending and the Job never
 * fails on its own, so the launcher fails the run and deletes the Job.
 */
export const FATAL_WAITING_REASONS: ReadonlySet<string> = new Set([
  "ImagePullBackOff",
  "InvalidImageName",
  "ErrImageNeverPull",
  "CreateContainerConfigError",
  "CreateContainerError",
]);

type Condition = { type?: string; status?: string; reason?: string; message?: string };

/** The Job's condition of `type` when it is True. */
export function jobCondition(job: V1Job, type: "Complete" | "Failed"): Condition | undefined {
  return (job.status?.conditions as Condition[] | undefined)?.find(
    (c) => c.type === type && c.status === "True",
  );
}

function time(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "string") return Date.parse(value) || 0;
  return 0;
}

/**
 * Why a pod did not run to success, e.g. `pod baton-run-1-x7k: OOMKilled (exit 137)`,
 * `pod …: Evicted (The node was low on resource: memory.)`, `pod …: ImagePullBackOff (Back-off
 * pulling image "x")`; undefined when it shows nothing wrong (yet).
 */
export function podProblem(pod: V1Pod): string | undefined {
  const name = pod.metadata?.name ?? "(unnamed)";
  const detail = (reason: string, extra: string | undefined) =>
    `pod ${name}: ${reason}${extra ? ` (${extra})` : ""}`;
  if (pod.status?.reason) return detail(pod.status.reason, pod.status.message);
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const status of statuses) {
    const terminated = status.state?.terminated ?? status.lastState?.terminated;
    if (terminated && (terminated.exitCode !== 0 || terminated.reason === "OOMKilled")) {
      const parts = [`exit ${terminated.exitCode}`, terminated.message?.trim()].filter(Boolean);
      return detail(terminated.reason ?? "terminated", parts.join(": "));
    }
    const waiting = status.state?.waiting;
    if (waiting?.reason && waiting.reason !== "ContainerCreating" && waiting.reason !== "PodInitializing")
      return detail(waiting.reason, waiting.message);
  }
  if (pod.status?.phase === "Failed") return detail("Failed", pod.status.message);
  const unschedulable = pod.status?.conditions?.find(
    (c) => c.type === "PodScheduled" && c.status === "False",
  );
  if (unschedulable?.reason === "Unschedulable") return detail("Unschedulable", unschedulable.message);
  return undefined;
}

/** A pod stuck in a way that never fixes itself (bad image, missing Secret), or undefined. */
export function fatalPendingProblem(pod: V1Pod): string | undefined {
  for (const status of [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ]) {
    const reason = status.state?.waiting?.reason;
    if (reason && FATAL_WAITING_REASONS.has(reason)) return podProblem(pod);
  }
  return undefined;
}

/**
 * Why a Job failed, from its pods (oldest first: with backoffLimit 0 the one pod; with retries the
 * first failure is the run's own, later pods find the run already started) and else its condition.
 */
export function describeJobFailure(job: V1Job, pods: readonly V1Pod[]): string {
  const sorted = [...pods].sort(
    (a, b) => time(a.metadata?.creationTimestamp) - time(b.metadata?.creationTimestamp),
  );
  const problems = sorted.map(podProblem).filter((p): p is string => p !== undefined);
  const failed = jobCondition(job, "Failed");
  const condition = failed ? [failed.reason, failed.message].filter(Boolean).join(": ") : undefined;
  if (problems.length > 0) return problems[0]!;
  if (pods.length === 0) return `no pod ran${condition ? ` (${condition})` : ""}`;
  return condition ?? "its pod failed";
}
