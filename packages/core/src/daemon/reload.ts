import type { Storage } from "../storage/storage.js";

/** Bumped by `baton reload` (and `baton dev` on a file change); workers and the daemon reload. */
export const CODE_GENERATION_KEY = "code/generation";

export async function requestReload(storage: Storage, now: number): Promise<string> {
  const generation = `${now}-${Math.random().toString(36).slice(2, 8)}`;
  await storage.setValue(CODE_GENERATION_KEY, generation, now);
  return generation;
}

/** The code generation now ("" before any reload). Read it before loading the definitions, so no reload is missed. */
export async function currentGeneration(storage: Storage): Promise<string> {
  return (await storage.getValue(CODE_GENERATION_KEY)) ?? "";
}

export interface ReloadFollowerOptions {
  readonly storage: Storage;
  /** The generation of the code this process loaded (read before loading it). */
  readonly generation: string;
  /** How often the store is polled (default 1,000 ms). */
  readonly intervalMs?: number;
  /** Called once per new generation seen (calls do not overlap). */
  onReload(generation: string): void | Promise<void>;
}

export interface ReloadFollower {
  /**
   * Read the store's generation now: true when it is still the one this process follows; false
   * (after `onReload` ran) when it changed. Calls made while a read is in flight share it.
   */
  current(): Promise<boolean>;
  /** This process reloaded already and published `generation` itself: do not call `onReload` for it. */
  acknowledge(generation: string): void;
  stop(): void;
}

/**
 * Follows `baton reload` from any machine (the generation is in the store): polls it and calls
 * `onReload` when it changed. The daemon loads the definitions again; a worker child finishes its
 * runs and exits, and its supervisor starts one with the new code.
 */
export function followReloads(options: ReloadFollowerOptions): ReloadFollower {
  let known = options.generation;
  let inFlight: Promise<boolean> | undefined;
  const current = (): Promise<boolean> => {
    inFlight ??= (async () => {
      const generation = await currentGeneration(options.storage);
      if (generation === known) return true;
      known = generation;
      await options.onReload(generation);
      return false;
    })().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
  const poll = setInterval(() => void current().catch(() => undefined), options.intervalMs ?? 1000);
  return {
    current,
    acknowledge(generation) {
      known = generation;
    },
    stop() {
      clearInterval(poll);
    },
  };
}
