/**
 * Layouts cached in memory and in IndexedDB, keyed by the hash of what was laid out (a group's
 * nodes and edges, or the group boxes), so a reload, or another page showing the same graph,
 * skips elk entirely. IndexedDB failures (private mode, quota) only cost the cache.
 */
const DB_NAME = "baton-layouts";
const STORE = "layouts";
const MEMORY_LIMIT = 2000;

const memory = new Map<string, unknown>();
let dbPromise: Promise<IDBDatabase | null> | undefined;

function openDb(): Promise<IDBDatabase | null> {
  dbPromise ??= new Promise((resolve) => {
    try {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => resolve(null);
      request.onblocked = () => resolve(null);
    } catch {
      resolve(null);
    }
  });
  return dbPromise;
}

function remember(key: string, value: unknown) {
  memory.set(key, value);
  if (memory.size > MEMORY_LIMIT) memory.delete(memory.keys().next().value!);
}

/** Cached values for `keys` (absent ones left out), from memory, then IndexedDB in one transaction. */
export async function getCached<T>(keys: readonly string[]): Promise<Map<string, T>> {
  const found = new Map<string, T>();
  const missing: string[] = [];
  for (const k of keys) {
    if (memory.has(k)) found.set(k, memory.get(k) as T);
    else missing.push(k);
  }
  if (missing.length === 0) return found;
  const db = await openDb();
  if (!db) return found;
  await new Promise<void>((resolve) => {
    try {
      const tx = db.transaction(STORE, "readonly");
      const store = tx.objectStore(STORE);
      for (const k of missing) {
        const r = store.get(k);
        r.onsuccess = () => {
          if (r.result !== undefined) {
            found.set(k, r.result as T);
            remember(k, r.result);
          }
        };
      }
      tx.oncomplete = () => resolve();
      tx.onerror = () => resolve();
      tx.onabort = () => resolve();
    } catch {
      resolve();
    }
  });
  return found;
}

export async function putCached(entries: ReadonlyMap<string, unknown>): Promise<void> {
  for (const [k, v] of entries) remember(k, v);
  const db = await openDb();
  if (!db || entries.size === 0) return;
  await new Promise<void>((resolve) => {
    try {
      const tx = db.transaction(STORE, "readwrite");
      const store = tx.objectStore(STORE);
      for (const [k, v] of entries) store.put(v, k);
      tx.oncomplete = () => resolve();
      tx.onerror = () => resolve();
      tx.onabort = () => resolve();
    } catch {
      resolve();
    }
  });
}
