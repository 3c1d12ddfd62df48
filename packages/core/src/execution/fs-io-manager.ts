import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { IOManager } from "../definitions/io-manager.js";
import { toJsonSafe } from "../definitions/metadata.js";
import { type ResourceDefinition, resource } from "../definitions/resource.js";
import { BatonError } from "../errors.js";

export class MissingAssetValueError extends BatonError {
  constructor(assetKey: string, file: string) {
    super(
      "USER_CODE_ERROR",
      `No stored value for asset "${assetKey}" (looked for ${file}). Materialize it first, or select it in this run.`,
    );
  }
}

/** Stores each asset's value as JSON at `<dir>/<asset key>.json`. */
export function createFsIOManager(dir: string): IOManager {
  const fileFor = (assetKey: string) => path.join(dir, ...assetKey.split("/")) + ".json";
  return {
    async handleOutput(ctx, value) {
      const file = fileFor(ctx.assetKey);
      if (value === undefined) {
        await rm(file, { force: true });
        return undefined;
      }
      await mkdir(path.dirname(file), { recursive: true });
      const text = JSON.stringify(toJsonSafe(value));
      const tmp = `${file}.${ctx.runId}.tmp`;
      await writeFile(tmp, text);
      await rename(tmp, file);
      return undefined;
    },
    async loadInput(ctx) {
      const file = fileFor(ctx.assetKey);
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT")
          throw new MissingAssetValueError(ctx.assetKey, file);
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
