import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { normalizeAssetKey } from "../definitions/asset-key.js";
import type { AssetJobDefinition } from "../definitions/job.js";
import {
  builtinSensor,
  type RunRequest,
  type SensorContext,
  type SensorDefinition,
} from "../definitions/sensor.js";

/** A file the sensor saw. `key` (path + size + mtime) is the run key: a changed file runs again. */
export interface SensedFile {
  readonly path: string;
  /** Relative to the watched directory, with `/` separators. */
  readonly relativePath: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly key: string;
}

export interface FileSensorOptions {
  readonly name: string;
  /** The directory to watch (created files, changed files, renames; subdirectories when recursive). */
  readonly dir: string;
  /** Which files count (matched against the relative path); default: all but dotfiles. */
  readonly pattern?: RegExp | ((relativePath: string) => boolean);
  readonly recursive?: boolean;
  readonly job?: AssetJobDefinition | string;
  readonly selection?: string;
  /** The partition a file belongs to; `null`/`undefined` skips the file (e.g. an unknown name). */
  readonly partitionKey?: (file: SensedFile) => string | null | undefined;
  /** Full control over the run request (wins over `partitionKey`); null skips the file. */
  readonly runRequest?: (file: SensedFile) => RunRequest | null | undefined;
  /**
   * The asset a file is loaded into (e.g. `rawTrips` or `"taxi/raw_trips"`): a file whose partition
   * of it was materialized after the file last changed, by the asset's current code version, is
   * current and skipped (the tick says so), so files a backfill already loaded (before the sensor
   * first ran, or from another process) are not loaded again. A new or modified file, a partition
   * never materialized, or a changed `codeVersion` still runs. Needs requests with one partition key.
   */
  readonly skipIfMaterialized?: string | { readonly key: string };
  /** Dynamic partitions to register for a file before its run (`{ name: key }`). */
  readonly addDynamicPartition?: (file: SensedFile) => Readonly<Record<string, string>> | undefined;
  /** A file modified more recently than this is still being written: wait (default 200 ms). */
  readonly settleMs?: number;
  /** Periodic full scan, the safety net under file-system events (default 30 s). */
  readonly minimumIntervalSeconds?: number;
  readonly timeoutSeconds?: number;
  readonly defaultStatus?: "RUNNING" | "STOPPED";
  readonly description?: string;
}

async function listFiles(dir: string, recursive: boolean): Promise<string[]> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.join((e as { parentPath?: string; path?: string }).parentPath ?? e.path ?? dir, e.name));
}

/**
 * Files (by `key`) whose request's partition of `assetKey` was materialized after the file's mtime
 * by the asset's current code version (one read of the partitions' records).
 */
async function currentFiles(
  ctx: SensorContext,
  assetKey: string,
  candidates: readonly { request: RunRequest; file: SensedFile }[],
): Promise<Set<string>> {
  const keyed = candidates.filter((c) => c.request.partitionKey !== undefined);
  const current = new Set<string>();
  if (keyed.length === 0) return current;
  let codeVersion: string | undefined;
  try {
    codeVersion = ctx.definitions.computationOf(assetKey).specs.find((s) => s.key === assetKey)?.codeVersion;
  } catch {
    throw new Error(
      `fileSensor "${ctx.sensorName}": skipIfMaterialized names "${assetKey}", which is not an asset of these definitions`,
    );
  }
  const records = await ctx.store.getPartitions(assetKey, {
    keys: [...new Set(keyed.map((c) => c.request.partitionKey!))],
  });
  const byKey = new Map(records.map((r) => [r.partitionKey, r]));
  for (const { request, file } of keyed) {
    const last = byKey.get(request.partitionKey!)?.lastMaterialization;
    if (!last || last.timestamp <= file.mtimeMs) continue;
    if (codeVersion !== undefined && last.codeVersion !== codeVersion) continue;
    current.add(file.key);
  }
  return current;
}

/**
 * React to new or changed files in a directory. The daemon watches it (file-system events, for
 * sub-second reaction) and also scans it every `minimumIntervalSeconds`; each settled file whose
 * (path, size, mtime) was never seen becomes one run, keyed by that identity so it runs once.
 */
export function fileSensor(options: FileSensorOptions): SensorDefinition {
  const dir = path.resolve(options.dir);
  const recursive = options.recursive ?? true;
  const settleMs = options.settleMs ?? 200;
  const matches = (rel: string) => {
    const p = options.pattern;
    if (!p) return !rel.split("/").some((part) => part.startsWith("."));
    return typeof p === "function" ? p(rel) : p.test(rel);
  };
  const currentAsset =
    options.skipIfMaterialized === undefined
      ? undefined
      : normalizeAssetKey(
          typeof options.skipIfMaterialized === "string"
            ? options.skipIfMaterialized
            : options.skipIfMaterialized.key,
        );
  const evaluate = async (ctx: SensorContext) => {
    const files = await listFiles(dir, recursive);
    const candidates: { request: RunRequest; file: SensedFile }[] = [];
    const dynamic: Record<string, string[]> = {};
    let unsettled = 0;
    let ignored = 0;
    const wallNow = Date.now();
    for (const file of files) {
      if (ctx.signal.aborted) break;
      const rel = path.relative(dir, file).split(path.sep).join("/");
      if (!matches(rel)) continue;
      let info: import("node:fs").Stats;
      try {
        info = await stat(file);
      } catch {
        continue; // gone since the listing (renamed or deleted): the next scan sees its new name
      }
      if (wallNow - info.mtimeMs < settleMs) {
        unsettled++;
        continue;
      }
      const mtimeMs = Math.trunc(info.mtimeMs);
      const sensed: SensedFile = {
        path: file,
        relativePath: rel,
        size: info.size,
        mtimeMs,
        key: `${rel}:${info.size}:${mtimeMs}`,
      };
      let request: RunRequest | null | undefined;
      if (options.runRequest) request = options.runRequest(sensed);
      else if (options.partitionKey) {
        const key = options.partitionKey(sensed);
        request = key === null || key === undefined ? null : { partitionKey: key };
      } else request = {};
      if (!request) {
        ignored++;
        continue;
      }
      for (const [name, key] of Object.entries(options.addDynamicPartition?.(sensed) ?? {}))
        dynamic[name] = [...(dynamic[name] ?? []), key];
      candidates.push({
        file: sensed,
        request: {
          ...request,
          runKey: request.runKey ?? sensed.key,
          tags: { "baton/file": rel, ...(request.tags ?? {}) },
        },
      });
    }
    const current = currentAsset ? await currentFiles(ctx, currentAsset, candidates) : new Set<string>();
    const requests = candidates.filter((c) => !current.has(c.file.key)).map((c) => c.request);
    return {
      runRequests: requests,
      ...(Object.keys(dynamic).length > 0 ? { addDynamicPartitions: dynamic } : {}),
      ...(unsettled > 0 ? { retryAfterMs: settleMs } : {}),
      ...(requests.length === 0
        ? {
            skipReason:
              unsettled > 0
                ? `${unsettled} file(s) still being written`
                : current.size > 0
                  ? `${current.size} file(s) already loaded: their ${currentAsset} partitions were materialized after the files last changed`
                  : `no matching files in ${dir}${ignored > 0 ? ` (${ignored} ignored)` : ""}`,
          }
        : {}),
    };
  };
  return builtinSensor(
    "file",
    options,
    { minimumIntervalSeconds: 30, description: `new or changed files in ${dir}` },
    evaluate,
    [dir],
  );
}
