import { createHash } from "node:crypto";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { IOManager } from "../definitions/io-manager.js";
import { stringifyJsonSafe } from "../definitions/metadata.js";
import { type ResourceDefinition, resource } from "../definitions/resource.js";
import { BatonError } from "../errors.js";

export class MissingAssetValueError extends BatonError {
  constructor(assetKey: string, partitionKey: string | undefined, file: string) {
    const what =
      partitionKey === undefined ? `asset "${assetKey}"` : `asset "${assetKey}" partition "${partitionKey}"`;
    super(
      "USER_CODE_ERROR",
      `No stored value for ${what} (looked for ${file}). Materialize it first, or select it in this run.`,
    );
  }
}

/**
 * Values up to this size are written synchronously: a small write costs less than the thread
 * pool round trips of the async API (mkdir, open, write, close, rename: 5 per value), which
 * dominated a 10,000-asset run. Larger values go through the async API.
 */
const SYNC_WRITE_LIMIT = 256 * 1024;

/** Stores each asset's value as JSON at `<dir>/<asset key>.json`, atomically (temp file + rename). */
export function createFsIOManager(dir: string): IOManager {
  // Partitioned values live in a folder per asset, one file per partition (key URI-encoded).
  const fileFor = (assetKey: string, partitionKey: string | undefined) =>
    partitionKey === undefined
      ? path.join(dir, ...assetKey.split("/")) + ".json"
      : path.join(dir, ...assetKey.split("/"), `${encodeURIComponent(partitionKey)}.json`);
  const madeDirs = new Set<string>();
  return {
    async handleOutput(ctx, value) {
      const file = fileFor(ctx.assetKey, ctx.partitionKey);
      if (value === undefined) {
        rmSync(file, { force: true });
        return undefined;
      }
      const folder = path.dirname(file);
      const text = stringifyJsonSafe(value);
      const tmp = `${file}.${ctx.runId}.tmp`;
      if (text.length <= SYNC_WRITE_LIMIT) {
        if (!madeDirs.has(folder)) mkdirSync(folder, { recursive: true });
        writeFileSync(tmp, text);
        renameSync(tmp, file);
      } else {
        if (!madeDirs.has(folder)) await mkdir(folder, { recursive: true });
        await writeFile(tmp, text);
        await rename(tmp, file);
      }
      madeDirs.add(folder);
      // The data version: a content hash of exactly what was written (same value, same version).
      return { dataVersion: createHash("sha256").update(text).digest("hex").slice(0, 16) };
    },
    async loadInput(ctx) {
      const file = fileFor(ctx.assetKey, ctx.partitionKey);
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT")
          throw new MissingAssetValueError(ctx.assetKey, ctx.partitionKey, file);
        throw error;
      }
      return JSON.parse(text);
    },
  };
}

/**
 * The default IO manager: JSON files under `<dir>` (default `$BATON_HOME/storage`).
 * Register it under another name or directory with `resources: { io_manager: fsIOManager({ dir }) }`.
 */
export function fsIOManager(options: { dir?: string } = {}): ResourceDefinition<IOManager> {
  return resource({
    description: "JSON files per asset key",
    setup: (ctx) => createFsIOManager(options.dir ?? path.join(ctx.home, "storage")),
  });
}
