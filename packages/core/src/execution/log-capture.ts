import { AsyncLocalStorage } from "node:async_hooks";
import { format } from "node:util";
import type { LogLevel } from "../definitions/context.js";

/** Where a step's console output goes. */
export type ConsoleSink = (line: { level: LogLevel; source: "stdout" | "stderr"; message: string }) => void;

const METHODS = [
  ["log", "info", "stdout"],
  ["info", "info", "stdout"],
  ["debug", "debug", "stdout"],
  ["trace", "debug", "stdout"],
  ["warn", "warn", "stderr"],
  ["error", "error", "stderr"],
] as const;

/**
 * Routes console.* calls made inside a step to that step's sink, using AsyncLocalStorage so
 * concurrent steps never mix. Calls outside any step pass through untouched. The console is
 * patched while at least one capture is installed (ref-counted across concurrent runs).
 */
export interface ConsoleCapture {
  run<T>(sink: ConsoleSink, fn: () => T): T;
  release(): void;
}

const storage = new AsyncLocalStorage<ConsoleSink>();
let installed = 0;
let originals: Partial<Record<(typeof METHODS)[number][0], (...args: unknown[]) => void>> = {};

/**
 * Run `fn` outside any step's capture: its console output goes to the real console. For code
 * that reacts to events emitted from inside a step (progress reporters, `onEvent` callbacks).
 */
export function outsideCapture<T>(fn: () => T): T {
  return storage.exit(fn);
}

export function captureConsole(): ConsoleCapture {
  if (installed++ === 0) {
    originals = {};
    for (const [method, level, source] of METHODS) {
      const original = console[method] as (...args: unknown[]) => void;
      originals[method] = original;
      console[method] = (...args: unknown[]) => {
        const sink = storage.getStore();
        if (sink) sink({ level, source, message: format(...args) });
        else original.apply(console, args);
      };
    }
  }
  let released = false;
  return {
    run: (sink, fn) => storage.run(sink, fn),
    release() {
      if (released) return;
      released = true;
      if (--installed === 0) {
        for (const [method] of METHODS) {
          const original = originals[method];
          if (original) (console as unknown as Record<string, unknown>)[method] = original;
        }
      }
    },
  };
}
