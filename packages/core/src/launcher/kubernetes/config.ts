import { z } from "zod";
import { UsageError } from "../../errors.js";

/** A DNS-1123 label: what Kubernetes accepts as a namespace or (≤ 63) a Job name. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A label value: empty, or alphanumerics with `-_.` inside, ≤ 63 characters. */
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
/** A label key: an optional DNS subdomain prefix and `/`, then a name like a label value. */
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** A run id (a UUID, 36 characters) follows the prefix and a dash; Job names are ≤ 63. */
const MAX_PREFIX = 63 - 37;

/** Environment variables of the launcher passed to every Job's container unless `passEnv` says otherwise. */
export const DEFAULT_PASS_ENV = ["BATON_DATABASE_URL", "BATON_DEFS"] as const;

const QUANTITY = "must be a Kubernetes quantity such as 500m, 1, 512Mi or 2Gi";
const quantity = z.union(
  [z.string().regex(/^[+-]?[0-9.]+([eE][+-]?[0-9]+|[A-Za-z]{1,2})?$/, QUANTITY), z.number()],
  {
    error: QUANTITY,
  },
);
const resourceList = z.record(z.string().min(1), quantity);

const schema = z.strictObject({
  kind: z.literal("kubernetes"),
  image: z.string({ error: "must be a string" }).min(1, "must not be empty"),
  namespace: z
    .string()
    .regex(DNS_LABEL, "must be a DNS-1123 label (lowercase letters, digits and '-')")
    .max(63)
    .default("default"),
  serviceAccountName: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be a DNS-1123 subdomain")
    .optional(),
  imagePullPolicy: z.enum(["Always", "IfNotPresent", "Never"]).optional(),
  imagePullSecrets: z.array(z.string().min(1)).optional(),
  resources: z
    .strictObject({ requests: resourceList.optional(), limits: resourceList.optional() })
    .optional(),
  env: z
    .record(z.string().regex(ENV_NAME, "is not a valid environment variable name"), z.string())
    .optional(),
  passEnv: z.array(z.string().regex(ENV_NAME, "is not a valid environment variable name")).optional(),
  envFromSecrets: z
    .array(z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be a Secret name"))
    .optional(),
  labels: z
    .record(
      z.string().regex(LABEL_KEY, "is not a valid label key"),
      z.string().max(63).regex(LABEL_VALUE, "is not a valid label value"),
    )
    .optional(),
  annotations: z.record(z.string().regex(LABEL_KEY, "is not a valid annotation key"), z.string()).optional(),
  nodeSelector: z.record(z.string(), z.string()).optional(),
  ttlSecondsAfterFinished: z.number().int().min(0).optional(),
  backoffLimit: z.number().int().min(0).default(0),
  activeDeadlineSeconds: z.number().int().min(1).optional(),
  maxConcurrentJobs: z.number().int().min(1).optional(),
  kubeconfig: z.string().min(1).optional(),
  context: z.string().min(1).optional(),
  command: z.array(z.string().min(1)).min(1).default(["baton", "worker", "--run-id"]),
  args: z.array(z.string()).default([]),
  jobNamePrefix: z
    .string()
    .max(
      MAX_PREFIX,
      `must be at most ${MAX_PREFIX} characters (the run id follows it in a 63-character name)`,
    )
    .regex(DNS_LABEL, "must be lowercase letters, digits and '-', starting and ending with a letter or digit")
    .default("baton-run"),
  /** After the Job of a canceled or vanished run is deleted, how long its pod may take to end the run itself. */
  terminationGraceSeconds: z.number().int().min(0).default(30),
});

export type KubernetesLauncherConfig = z.output<typeof schema>;

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const key of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * Check the `launcher` block of baton.config.json for the Kubernetes launcher; every problem is
 * reported at once, each naming its field: `baton.config.json: launcher.image: required …`.
 * `where` names the block ("baton.config.json: launcher").
 */
export function parseKubernetesLauncherConfig(raw: unknown, where: string): KubernetesLauncherConfig {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys")
      return issue.keys
        .map(
          (key) =>
            `${[where, ...issue.path.map(String), key].join(".")}: is not a setting of the Kubernetes launcher`,
        )
        .join("\n");
    const field = [where, ...issue.path.map(String)].join(".");
    if (issue.code === "invalid_type" && valueAt(raw, issue.path) === undefined)
      return `${field}: required${issue.path.join(".") === "image" ? ": the container image with baton and your definitions" : ""}`;
    if (issue.code === "invalid_key") return `${field}: ${issue.issues[0]?.message ?? issue.message}`;
    const got = valueAt(raw, issue.path);
    return `${field}: ${issue.message} (got ${JSON.stringify(got)})`;
  });
  throw new UsageError(lines.join("\n"));
}
