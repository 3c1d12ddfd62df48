import path from "node:path";
import { loadDefinitions } from "../cli/load-definitions.js";
import { currentGeneration, requestReload } from "../daemon/reload.js";
import { describeError, UsageError } from "../errors.js";
import type { BatonInstance } from "../instance/instance.js";
import type { RetentionPolicy } from "../retention/policy.js";
import type { TagLimit } from "../storage/storage.js";
import { type TypeCheckResult, typeCheck, typeErrorSummary } from "../typecheck/typecheck.js";
import { publishDefinitions, reloadableDefinitions, startDaemonService } from "./daemon-host.js";
import { createLocalLauncher } from "./local/local-launcher.js";
import { idleExitMsOf } from "./local/worker-child.js";
import { stopSignal } from "./signals.js";

type Env = Readonly<Record<string, string | undefined>>;

/** A webserver the dev host runs next to the daemon (started by the caller, which imports it). */
export interface DevWebserver {
  readonly url: string;
  /** How requests are authorized, for the start-up line: "no auth: loopback only", "2 API token(s)". */
  readonly note: string;
  close(): Promise<void>;
}

export interface DevHostOptions {
  /** The store, opened once a `--typecheck` gate passed. */
  instance(): Promise<BatonInstance>;
  /** Absolute path of the definitions file. */
  readonly definitionsPath: string;
  readonly cwd: string;
  readonly env: Env;
  log(line: string): void;
  /** Worker processes at most (default 2; one is kept while idle). */
  readonly workers?: number;
  readonly maxConcurrentRuns?: number;
  readonly tagLimits?: readonly TagLimit[];
  /** Reload when files next to the definitions change. */
  readonly watch: boolean;
  /** Start and reload only code that type-checks (else type errors are printed, the code runs). */
  readonly typecheck: boolean;
  /** Print a failed type check's errors (`file:line:col - error TS…`). */
  printTypeErrors(result: TypeCheckResult): void;
  /** Start the webserver (after the snapshot is published, before any worker starts). */
  readonly webserver?: () => Promise<DevWebserver>;
  /** Forked by a launcher: send it the URL over IPC, stop when its channel closes. */
  readonly reportToParent?: boolean;
  readonly intervalMs?: number;
  readonly heartbeatTimeoutMs?: number;
  /** baton.config.json `retention`: the daemon purges on a schedule, as `baton daemon` does. */
  readonly retention?: RetentionPolicy;
}

/**
 * `baton dev`'s type checks: one tsc at a time (a newer check cancels an older one), errors
 * printed, "types ok" when they are fixed. `check()` resolves to undefined when a newer check
 * superseded it, and throws when tsc could not run. In the background (`background()`), a tsc that
 * cannot run is said once and not tried again.
 */
function devTypeChecks(options: DevHostOptions) {
  const { log } = options;
  let current: AbortController | undefined;
  let lastOk: boolean | undefined;
  let noted = false;
  let broken = false;
  const check = async (): Promise<TypeCheckResult | undefined> => {
    current?.abort();
    const controller = new AbortController();
    current = controller;
    let result: TypeCheckResult;
    try {
      result = await typeCheck(options.definitionsPath, { env: options.env, signal: controller.signal });
    } catch (error) {
      if (controller.signal.aborted) return undefined;
      throw error;
    }
    if (controller.signal.aborted) return undefined;
    if (result.note && !noted) log(`baton dev: note: ${result.note}`);
    noted = true;
    if (!result.ok) options.printTypeErrors(result);
    else if (lastOk !== true) log(`baton dev: types ok (type-checked in ${result.seconds.toFixed(1)} s)`);
    lastOk = result.ok;
    return result;
  };
  return {
    check,
    background() {
      if (broken) return;
      check().then(
        (result) => {
          if (result && !result.ok)
            log(
              `baton dev: ${typeErrorSummary(result)} (the code runs anyway; baton dev --typecheck runs only code that type-checks)`,
            );
        },
        (error) => {
          broken = true;
          log(`baton dev: not type-checking: ${describeError(error)}`);
        },
      );
    },
    stop() {
      current?.abort();
    },
  };
}

/**
 * `baton dev` on one machine: the daemon, the local launcher (one worker kept while idle, up to
 * `workers` while busy), the webserver, a file watcher that reloads the definitions (validated
 * first: a broken edit keeps what runs) and type checks. Runs until SIGINT/SIGTERM (a second one
 * exits at once) or, with `reportToParent`, until the launching process is gone.
 */
export async function runDevHost(options: DevHostOptions): Promise<void> {
  const { log, definitionsPath: file } = options;
  // Type checks: with `typecheck`, before anything starts and before each reload; else in the
  // background (printed, never blocking), for TypeScript definitions.
  const types = options.typecheck || /\.[cm]?tsx?$/.test(file) ? devTypeChecks(options) : undefined;
  if (options.typecheck) {
    const result = (await types!.check())!;
    if (!result.ok)
      throw new UsageError(
        `${typeErrorSummary(result)}: baton dev --typecheck starts only code that type-checks (fix them, or run without --typecheck)`,
      );
  }
  const instance = await options.instance();
  const generation = await currentGeneration(instance.storage);
  const defs = reloadableDefinitions(file, await loadDefinitions(file), log, instance.storage);
  if (!options.typecheck) types?.background();
  const size = options.workers ?? 2;
  // The webserver first (a busy port fails before any process starts); it reads the snapshot, so
  // publish it now rather than when the first worker is up.
  await publishDefinitions(instance.storage, defs.get());
  const server = await options.webserver?.();
  const launcher = createLocalLauncher(
    { instance, definitionsPath: file, env: options.env, log },
    {
      size,
      // On a laptop, idle memory matters more than the second of start-up a burst waits for: one
      // worker is kept, the others start while it is busy (bench:rss).
      warm: 1,
      idleMs: idleExitMsOf(options.env) ?? null,
      ...(options.maxConcurrentRuns !== undefined ? { maxConcurrentRuns: options.maxConcurrentRuns } : {}),
      ...(options.tagLimits !== undefined ? { tagLimits: options.tagLimits } : {}),
    },
  );
  const stopWorkers = new AbortController();
  const workersDone = launcher.run(stopWorkers.signal);
  const stop = stopSignal("baton dev", log);
  // Forked by a launcher (`npm start`): its IPC channel closing means it is gone (even SIGKILLed),
  // so stop as on Ctrl-C rather than run on unsupervised.
  const parentGone = new AbortController();
  const supervised = options.reportToParent === true && typeof process.send === "function";
  const onDisconnect = () => {
    if (parentGone.signal.aborted || stop.signal.aborted) return;
    log("baton dev: the launching process is gone, stopping");
    parentGone.abort();
  };
  if (supervised) process.on("disconnect", onDisconnect);
  const { daemon, done, acknowledge } = startDaemonService({
    instance,
    definitions: defs,
    generation,
    signal: AbortSignal.any([stop.signal, parentGone.signal]),
    log,
    ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
    ...(options.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: options.heartbeatTimeoutMs } : {}),
    ...(options.retention ? { retention: options.retention } : {}),
  });
  const dir = path.dirname(file);
  let watcher: import("chokidar").FSWatcher | undefined;
  try {
    if (options.watch) {
      const { watch } = await import("chokidar");
      const source = /\.(?:[cm]?[jt]sx?|json)$/;
      watcher = watch(dir, {
        ignoreInitial: true,
        ignored: (p: string) => /(?:^|[/\\])(?:node_modules|\.baton|\.git|dist)(?:[/\\]|$)/.test(p),
      });
      let timer: NodeJS.Timeout | undefined;
      const reload = async (changed: string) => {
        log(`baton dev: ${path.relative(options.cwd, changed) || changed} changed, reloading`);
        if (options.typecheck) {
          // Opted in: code with type errors is not loaded (a newer change cancels this check).
          let result: TypeCheckResult | undefined;
          try {
            result = await types!.check();
          } catch (error) {
            log(
              `baton dev: could not type-check, keeping the previous definitions (--typecheck): ${describeError(error)}`,
            );
            return;
          }
          if (!result) return;
          if (!result.ok) {
            log(`baton dev: ${typeErrorSummary(result)}, keeping the previous definitions (--typecheck)`);
            return;
          }
        } else types?.background();
        // Validate first: broken code keeps the running daemon and workers as they are.
        if (!(await defs.reload())) return;
        daemon.reloaded();
        await publishDefinitions(instance.storage, defs.get());
        acknowledge(await requestReload(instance.storage, Date.now()));
        log("baton dev: reloaded (workers pick up the new code after their runs)");
      };
      const changed = (p: string) => {
        if (!source.test(p)) return;
        clearTimeout(timer);
        timer = setTimeout(
          () => void reload(p).catch((error) => log(`baton dev: reload failed: ${describeError(error)}`)),
          200,
        );
      };
      watcher.on("add", changed).on("change", changed);
      // "reloading on changes" (below) holds once chokidar has scanned the folder: an edit right
      // after the banner was missed before (at most 5 s, for a very large folder).
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000);
        watcher!.once("ready", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (server) log(`baton dev: webserver on ${server.url} (${server.note})`);
    if (supervised && process.connected)
      process.send!({
        type: "baton-dev-ready",
        url: server?.url ?? null,
        store: instance.storage.location,
        workers: size,
      });
    log(
      `baton dev: daemon + ${size === 1 ? "1 worker" : `up to ${size} workers`} on ${instance.storage.location}` +
        `${options.watch ? `, reloading on changes in ${dir}` : ""} (Ctrl-C to stop)`,
    );
    await done;
  } finally {
    types?.stop();
    await watcher?.close();
    await server?.close();
    stopWorkers.abort();
    await workersDone;
    stop.dispose();
    if (supervised) {
      process.off("disconnect", onDisconnect);
      if (process.connected) process.disconnect();
    }
  }
}
