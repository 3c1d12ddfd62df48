import path from "node:path";
import type { Logger } from "../definitions/context.js";
import { DEFAULT_IO_MANAGER, type IOManager, isIOManager } from "../definitions/io-manager.js";
import { isResourceDefinition, type ResourceContext } from "../definitions/resource.js";
import { BatonError, UserCodeError } from "../errors.js";
import { createFsIOManager } from "./fs-io-manager.js";

/**
 * Sets up resources lazily, once per run, shared by concurrent steps; tears down in reverse
 * order of setup, even when the run failed.
 */
export interface RunResources {
  get(name: string): Promise<unknown>;
  ioManager(name: string): Promise<IOManager>;
  teardown(onError: (name: string, error: unknown) => void): Promise<void>;
}

export function createRunResources(
  definitions: Readonly<Record<string, unknown>>,
  context: { runId: string; home: string; log: Logger },
): RunResources {
  const setups = new Map<string, Promise<unknown>>();
  const order: { name: string; value: unknown }[] = [];
  const ctx: ResourceContext = context;

  const get = (name: string): Promise<unknown> => {
    let pending = setups.get(name);
    if (!pending) {
      pending = (async () => {
        if (!(name in definitions)) {
          if (name === DEFAULT_IO_MANAGER) return createFsIOManager(path.join(context.home, "storage"));
          throw new BatonError("INVALID_DEFINITION", `resource "${name}" is not defined`);
        }
        const def = definitions[name];
        if (!isResourceDefinition(def)) return def;
        try {
          const value = await def.setup(ctx);
          order.push({ name, value });
          return value;
        } catch (error) {
          throw new UserCodeError(name, "setup of resource", error);
        }
      })();
      setups.set(name, pending);
    }
    return pending;
  };

  return {
    get,
    async ioManager(name) {
      const value = await get(name);
      if (!isIOManager(value))
        throw new BatonError(
          "INVALID_DEFINITION",
          `resource "${name}" is used as an IO manager but has no handleOutput/loadInput methods`,
        );
      return value;
    },
    async teardown(onError) {
      await Promise.allSettled(setups.values());
      for (const { name, value } of order.reverse()) {
        const def = definitions[name];
        if (!isResourceDefinition(def) || !def.teardown) continue;
        try {
          await def.teardown(value, ctx);
        } catch (error) {
          onError(name, error);
        }
      }
    },
  };
}
