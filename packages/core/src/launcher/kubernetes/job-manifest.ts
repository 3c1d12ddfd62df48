import type { V1Job } from "@kubernetes/client-node";
import { DEFAULT_PASS_ENV, type KubernetesLauncherConfig } from "./config.js";

/** Labels every Job (and its pod) of this launcher carries; the launcher watches by them. */
export const MANAGED_BY = "app.kubernetes.io/managed-by";
export const RUN_ID_LABEL = "baton/run-id";
export const PREFIX_LABEL = "baton/job-name-prefix";
export const CONTAINER_NAME = "baton";

/**
 * The Job's name for a run: deterministic (a launcher restarted after creating it finds it again,
 * 409 AlreadyExists), a DNS-1123 label ≤ 63 characters (the prefix is ≤ 26, a run id is a UUID).
 * Other run ids are lowercased, with anything else replaced by '-'.
 */
export function jobNameFor(prefix: string, runId: string): string {
  const id = runId
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .replace(/^-+|-+$/g, "");
  return `${prefix}-${id}`.slice(0, 63).replace(/-+$/, "");
}

/** The label selector that finds this launcher's Jobs and pods. */
export function selectorFor(config: KubernetesLauncherConfig): string {
  return `${MANAGED_BY}=baton,${PREFIX_LABEL}=${config.jobNamePrefix}`;
}

/**
 * The Job that executes one run: `command… RUN_ID args…` in the configured image, one pod, no
 * Kubernetes retries by default (`backoffLimit` 0: Baton's own retry policy re-queues a failed
 * run), restartPolicy Never, the environment `passEnv` names taken from the launcher's env, then
 * `env` (which wins), then `envFromSecrets`.
 */
export function buildJobManifest(
  config: KubernetesLauncherConfig,
  runId: string,
  launcherEnv: Readonly<Record<string, string | undefined>>,
): V1Job {
  const name = jobNameFor(config.jobNamePrefix, runId);
  const labels = {
    ...(config.labels ?? {}),
    [MANAGED_BY]: "baton",
    [PREFIX_LABEL]: config.jobNamePrefix,
    [RUN_ID_LABEL]: runId.slice(0, 63),
  };
  const env = new Map<string, string>();
  for (const key of config.passEnv ?? DEFAULT_PASS_ENV) {
    const value = launcherEnv[key];
    if (value !== undefined && value !== "") env.set(key, value);
  }
  for (const [key, value] of Object.entries(config.env ?? {})) env.set(key, value);
  const resources =
    config.resources && (config.resources.requests || config.resources.limits)
      ? {
          ...(config.resources.requests ? { requests: stringQuantities(config.resources.requests) } : {}),
          ...(config.resources.limits ? { limits: stringQuantities(config.resources.limits) } : {}),
        }
      : undefined;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name,
      namespace: config.namespace,
      labels,
      annotations: { ...(config.annotations ?? {}), "baton/run-id": runId },
    },
    spec: {
      backoffLimit: config.backoffLimit,
      ...(config.ttlSecondsAfterFinished !== undefined
        ? { ttlSecondsAfterFinished: config.ttlSecondsAfterFinished }
        : {}),
      ...(config.activeDeadlineSeconds !== undefined
        ? { activeDeadlineSeconds: config.activeDeadlineSeconds }
        : {}),
      template: {
        metadata: { labels, annotations: { "baton/run-id": runId } },
        spec: {
          restartPolicy: "Never",
          ...(config.serviceAccountName ? { serviceAccountName: config.serviceAccountName } : {}),
          ...(config.imagePullSecrets
            ? { imagePullSecrets: config.imagePullSecrets.map((n) => ({ name: n })) }
            : {}),
          ...(config.nodeSelector ? { nodeSelector: config.nodeSelector } : {}),
          containers: [
            {
              name: CONTAINER_NAME,
              image: config.image,
              ...(config.imagePullPolicy ? { imagePullPolicy: config.imagePullPolicy } : {}),
              command: [...config.command, runId, ...config.args],
              env: [...env].map(([key, value]) => ({ name: key, value })),
              ...(config.envFromSecrets?.length
                ? { envFrom: config.envFromSecrets.map((secret) => ({ secretRef: { name: secret } })) }
                : {}),
              ...(resources ? { resources } : {}),
            },
          ],
        },
      },
    },
  };
}

function stringQuantities(list: Readonly<Record<string, string | number>>): Record<string, string> {
  return Object.fromEntries(Object.entries(list).map(([k, v]) => [k, String(v)]));
}
