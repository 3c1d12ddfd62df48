import { loadDefinitions } from "../cli/load-definitions.js";
import { createDaemon, type Daemon } from "../daemon/daemon.js";
import { currentGeneration, followReloads, requestReload } from "../daemon/reload.js";
import type { Definitions } from "../definitions/definitions.js";
import { describeError } from "../errors.js";
import type { BatonInstance } from "../instance/instance.js";
import { publishSnapshot } from "../snapshot/snapshot.js";
import { onHangup, stopSignal } from "./signals.js";

/** Definitions that can be swapped for a freshly imported version (a reload). */
export interface ReloadableDefinitions {
  get(): Definitions;
  /** Import the file again; a broken edit keeps the previous definitions (and says why). */
  reload(): Promise<boolean>;
}

export function reloadableDefinitions(
  file: string,
  initial: Definitions,
  log: (line: string) => void,
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
        return false;
      }
    },
  };
}

export interface DaemonServiceOptions {
  readonly instance: BatonInstance;
  readonly definitions: ReloadableDefinitions;
  /** The code generation read before the definitions were loaded. */
  readonly generation: string;
  readonly intervalMs?: number;
  readonly heartbeatTimeoutMs?: number;
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
  });
  const reloads = followReloads({
    storage: instance.storage,
    generation: options.generation,
    onReload: async () => {
      if (!(await defs.reload())) return;
      daemon.reloaded();
      await publishSnapshot(instance.storage, defs.get()).catch(() => undefined);
      log("daemon: definitions reloaded");
    },
  });
  void publishSnapshot(instance.storage, defs.get()).catch(() => undefined);
  const done = daemon.run(options.signal).finally(() => reloads.stop());
  return { daemon, done, acknowledge: reloads.acknowledge };
}

export interface DaemonHostOptions {
  readonly instance: BatonInstance;
  /** Absolute path of the definitions file. */
  readonly definitionsPath: string;
  readonly intervalMs?: number;
  readonly heartbeatTimeoutMs?: number;
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
    }).done;
  } finally {
    offHup();
    stop.dispose();
  }
}
