import type { Storage } from "../storage/storage.js";

/** Bumped by `baton reload` (and `baton dev` on a file change); workers and the daemon reload. */
export const CODE_GENERATION_KEY = "code/generation";

export async function requestReload(storage: Storage, now: number): Promise<string> {
  const generation = `${now}-${Math.random().toString(36).slice(2, 8)}`;
  await storage.setValue(CODE_GENERATION_KEY, generation, now);
  return generation;
}
