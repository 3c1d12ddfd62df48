import { loadDefinitions } from "../cli/load-definitions.js";
import { createDaemon, type Daemon } from "../daemon/daemon.js";
import { currentGeneration, followReloads, requestReload } from "../daemon/reload.js";
import type { Definitions } from "../definitions/definitions.js";
import { describeError } from "../errors.js";
import type { BatonInstance } from "../instance/instance.js";
import type { RetentionPolicy } from "../retention/policy.js";
import { clearLoadError, loadFailureOf, recordLoadError } from "../snapshot/load-error.js";
import { publishSnapshot } from "../snapshot/snapshot.js";
import type { Storage } from "../storage/storage.js";
import { onHangup, stopSignal } from "./signals.js";

/** Definitions that can be swapped for a freshly imported version (a reload). */
export interface ReloadableDefinitions {
  get(): Definitions;
  /** Import the file again; a broken edit keeps the previous definitions (and says why). */
  reload(): Promise<boolean>;
}

/**
 * With `storage`, a failed reload is recorded next to the published snapshot (`/api/health` and the
 * UI show it, from any process); `publishDefinitions` clears it once a good load is published.
 */
export function reloadableDefinitions(
  file: string,
  initial: Definitions,
  log: (line: string) => void,
  storage?: Storage,
): ReloadableDefinitions {
  let current = initial;
  return {
    get: () => current,
    async reload() {
      try {
        current = await loadDefinitions(file, { fresh: true });
        return true;
      } catch (error) {
        log(`reload failed, keeping the previous definitions: ${describeError(error)}`);
        if (storage)
          await recordLoadError(storage, loadFailureOf(error, file, Date.now())).catch((e) =>
            log(`could not record the failed reload in the store: ${describeError(e)}`),
          );
        return false;
      }
    },
  };
}

/**
 * Publish loaded definitions' snapshot for the webserver, then clear a recorded load error (in this
 * order, so the API never shows "fine" next to the old snapshot). Store trouble is not fatal here:
 * the daemon reports it elsewhere, and the next reload publishes again.
 */
export async function publishDefinitions(storage: Storage, definitions: Definitions): Promise<void> {
  await publishSnapshot(storage, definitions).catch(() => undefined);
  await clearLoadError(storage).catch(() => undefined);
}

export interface DaemonServiceOptions {
  readonly instance: BatonInstance;
  readonly definitions: ReloadableDefinitions;
  /** The code generation read before the definitions were loaded. */
  readonly generation: string;
  readonly intervalMs?: number;
  readonly heartbeatTimeoutMs?: number;
  readonly retention?: RetentionPolicy;
  readonly signal: AbortSignal;
  log(line: string): void;
}

/**
 * The daemon with its definitions kept current: it follows `baton reload` (from any machine: the
 * generation is in the store), loading the definitions again and publishing their snapshot.
 */
export function startDaemonService(options: DaemonServiceOptions): {
  readonly daemon: Daemon;
  /** Resolves once the daemon stopped (`signal`). */
  readonly done: Promise<void>;
  /** This process reloaded already and published `generation`: do not reload again for it. */
  acknowledge(generation: string): void;
} {
  const { instance, definitions: defs, log } = options;
  const daemon = createDaemon({
    instance,
    definitions: defs.get,
    log,
    ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
    ...(options.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: options.heartbeatTimeoutMs } : {}),
    ...(options.retention ? { retention: options.retention } : {}),
  });
  const reloads = followReloads({
    storage: instance.storage,
    generation: options.generation,
    onReload: async () => {
      if (!(await defs.reload())) return;
      daemon.reloaded();
      await publishDefinitions(instance.storage, defs.get());
      log("daemon: definitions reloaded");
    },
  });
  // A good load: publish it, and clear an error a previous process recorded (fixed, then restarted).
  void publishDefinitions(instance.storage, defs.get());
  const done = daemon.run(options.signal).finally(() => reloads.stop());
  return { daemon, done, acknowledge: reloads.acknowledge };
}

export interface DaemonHostOptions {
  readonly instance: BatonInstance;
  /** Absolute path of the definitions file. */
  readonly definitionsPath: string;
  readonly intervalMs?: number;
  readonly heartbeatTimeoutMs?: number;
  /** baton.config.json `retention`: purge on a schedule. */
  readonly retention?: RetentionPolicy;
  /** Stops the daemon as SIGINT/SIGTERM do. */
  readonly signal?: AbortSignal;
  log(line: string): void;
}

/**
 * `baton daemon`: load the definitions (a broken file fails here), run the daemon until `signal`
 * aborts or SIGINT/SIGTERM arrives (a second one exits at once), reloading on `baton reload` and on
 * SIGHUP.
 */
export async function runDaemonHost(options: DaemonHostOptions): Promise<void> {
  const { instance, log } = options;
  const generation = await currentGeneration(instance.storage);
  const definitions = reloadableDefinitions(
    options.definitionsPath,
    await loadDefinitions(options.definitionsPath),
    log,
    instance.storage,
  );
  const stop = stopSignal("daemon", log);
  const offHup = onHangup(() => void requestReload(instance.storage, Date.now()).catch(() => undefined));
  try {
    await startDaemonService({
      instance,
      definitions,
      generation,
      signal: options.signal ? AbortSignal.any([stop.signal, options.signal]) : stop.signal,
      log,
      ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
      ...(options.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: options.heartbeatTimeoutMs } : {}),
      ...(options.retention ? { retention: options.retention } : {}),
    }).done;
  } finally {
    offHup();
    stop.dispose();
  }
}
