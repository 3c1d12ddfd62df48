import {
  type BatonInstance,
  type Definitions,
  type DefinitionsLoadFailure,
  type DefinitionsSnapshot,
  definitionsFromSnapshot,
  readLoadError,
  readSnapshot,
  readSnapshotHash,
} from "@baton/core/internal";
import { ApiError } from "./errors.js";

/** The failed reload recorded in the store (null when the latest load was good). */
export async function readDefinitionsLoadError(
  instance: Pick<BatonInstance, "storage">,
): Promise<DefinitionsLoadFailure | null> {
  return (await readLoadError(instance.storage)) ?? null;
}

export interface Catalog {
  readonly snapshot: DefinitionsSnapshot;
  /** Rebuilt from the snapshot: what launches and backfills are validated against. */
  readonly definitions: Definitions;
  /** Serialized answers that only depend on the snapshot (the asset graph), built once. */
  readonly memo: Map<string, Uint8Array>;
}

/**
 * The definitions as the webserver knows them: the snapshot run workers and the daemon publish
 * (the webserver never loads user code). Re-read from the store at most every `ttlMs`, rebuilt only
 * when its hash changes.
 */
export function createCatalog(instance: BatonInstance, ttlMs = 1000) {
  let cached: Catalog | undefined;
  let checkedAt = 0;
  let loading: Promise<Catalog | undefined> | undefined;
  const load = async () => {
    // Poll the small hash; read and rebuild the (large) snapshot only when it changed.
    const hash = await readSnapshotHash(instance.storage);
    checkedAt = Date.now();
    if (hash !== undefined && cached?.snapshot.hash === hash) return cached;
    const snapshot = await readSnapshot(instance.storage);
    if (!snapshot) {
      cached = undefined;
      return undefined;
    }
    if (cached?.snapshot.hash !== snapshot.hash)
      cached = { snapshot, definitions: definitionsFromSnapshot(snapshot), memo: new Map() };
    return cached;
  };
  return {
    /** The current catalog, or undefined before any worker or daemon published one. */
    async current(): Promise<Catalog | undefined> {
      if (cached && Date.now() - checkedAt < ttlMs) return cached;
      loading ??= load().finally(() => {
        loading = undefined;
      });
      return loading;
    },
    async require(): Promise<Catalog> {
      const c = await this.current();
      if (!c)
        throw new ApiError(
          503,
          "no_definitions",
          "No definitions published yet: start `baton worker`, `baton daemon` or `baton dev` (they publish them for the webserver).",
        );
      return c;
    },
  };
}

export type CatalogSource = ReturnType<typeof createCatalog>;
