/**
 * The Kubernetes run launcher. Importing this module does not load the Kubernetes client: the
 * launcher imports it when it starts (`run`), so only a configured Kubernetes launcher pays for it.
 */
export { DEFAULT_PASS_ENV, type KubernetesLauncherConfig, parseKubernetesLauncherConfig } from "./config.js";
export { buildJobManifest, jobNameFor, selectorFor } from "./job-manifest.js";
export { createKubernetesLauncher, type KubernetesLauncherOptions } from "./kubernetes-launcher.js";
export { describeJobFailure, podProblem } from "./pod-reason.js";
