import { readBatonConfig } from "../cli/load-definitions.js";
import { UsageError } from "../errors.js";
import type { LauncherContext, RunLauncher } from "./launcher.js";
import { createLocalLauncher, type LocalLauncherOptions } from "./local/local-launcher.js";

/**
 * The run launcher `baton worker` uses, from `launcher` in baton.config.json:
 * `{ "kind": "local" }` (the default, also without a `launcher` block) or
 * `{ "kind": "kubernetes", … }` (its other fields are read by the Kubernetes launcher).
 */
export type LauncherConfig =
  | { readonly kind: "local" }
  | {
      readonly kind: "kubernetes";
      /** The `launcher` block as written. */
      readonly raw: Readonly<Record<string, unknown>>;
      /** Where it was written, for error messages: "baton.config.json: launcher". */
      readonly where: string;
    };

export const LAUNCHER_KINDS = ["local", "kubernetes"] as const;

/** Check a `launcher` value; `where` names the file it came from ("baton.config.json"). */
export function parseLauncherConfig(raw: unknown, where = "baton.config.json"): LauncherConfig {
  if (raw === undefined) return { kind: "local" };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new UsageError(
      `${where}: launcher must be an object such as { "kind": "local" } or { "kind": "kubernetes", … } (got ${JSON.stringify(raw)})`,
    );
  const kind = (raw as { kind?: unknown }).kind;
  if (kind === "local") {
    const extra = Object.keys(raw).filter((k) => k !== "kind");
    if (extra.length > 0)
      throw new UsageError(
        `${where}: launcher.${extra[0]} is not a setting of the local launcher (it takes only "kind"; size it with baton worker --concurrency N)`,
      );
    return { kind: "local" };
  }
  if (kind === "kubernetes")
    return { kind: "kubernetes", raw: raw as Record<string, unknown>, where: `${where}: launcher` };
  throw new UsageError(
    `${where}: launcher.kind must be ${LAUNCHER_KINDS.map((k) => `"${k}"`).join(" or ")} (got ${kind === undefined ? "nothing" : JSON.stringify(kind)})`,
  );
}

/** The launcher configured in `cwd`'s baton.config.json (local without one). */
export function readLauncherConfig(cwd: string): LauncherConfig {
  const config = readBatonConfig(cwd);
  if (!config) return { kind: "local" };
  return parseLauncherConfig((config.value as { launcher?: unknown }).launcher, "baton.config.json");
}

/**
 * The configured launcher. `options` size the local launcher; its limits (`maxConcurrentRuns`,
 * `tagLimits`) and `heartbeatMs` apply to the Kubernetes one too. The Kubernetes launcher's module
 * is imported only when it is configured (and it loads its client library only when it starts).
 */
export async function createConfiguredLauncher(
  ctx: LauncherContext,
  config: LauncherConfig,
  options: LocalLauncherOptions = {},
): Promise<RunLauncher> {
  if (config.kind === "local") return createLocalLauncher(ctx, options);
  const kubernetes = await import("./kubernetes/index.js");
  return kubernetes.createKubernetesLauncher(
    ctx,
    kubernetes.parseKubernetesLauncherConfig(config.raw, config.where),
    {
      ...(options.maxConcurrentRuns !== undefined ? { maxConcurrentRuns: options.maxConcurrentRuns } : {}),
      ...(options.tagLimits !== undefined ? { tagLimits: options.tagLimits } : {}),
      ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
    },
  );
}
