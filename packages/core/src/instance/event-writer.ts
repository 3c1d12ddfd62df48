import type { RunEvent } from "../execution/events.js";
import type { Storage } from "../storage/storage.js";

/**
 * Batches a run's events into few write transactions: flushes when `maxBatch` events wait or
 * `intervalMs` after the first one, one flush in flight at a time, order preserved. A failed
 * write is reported by the next `flush()`.
 */
export interface EventWriter {
  push(event: RunEvent): void;
  flush(): Promise<void>;
}

export function createEventWriter(
  storage: Storage,
  options: { intervalMs?: number; maxBatch?: number } = {},
): EventWriter {
  const intervalMs = options.intervalMs ?? 50;
  const maxBatch = options.maxBatch ?? 5000;
  let buffer: RunEvent[] = [];
  let inFlight: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let failure: unknown;

  const drain = () => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (buffer.length === 0) return inFlight;
    const batch = buffer;
    buffer = [];
    inFlight = inFlight.then(async () => {
      if (failure !== undefined) return;
      try {
        await storage.appendEvents(batch);
      } catch (error) {
        failure = error;
      }
    });
    return inFlight;
  };

  return {
    push(event) {
      buffer.push(event);
      if (buffer.length >= maxBatch) void drain();
      else if (!timer) timer = setTimeout(() => void drain(), intervalMs);
    },
    async flush() {
      await drain();
      await inFlight;
      if (failure !== undefined) throw failure;
    },
  };
}
