/**
 * A small pool of layout workers kept warm (elk is parsed before the first layout is asked for).
 * Jobs are spread over the workers; a job whose caller gave up (a newer layout was asked for) is
 * dropped from the queue, or its worker terminated and replaced by a fresh spare.
 */
import type { GroupJob, GroupResult } from "./types";

export type WorkerRequest = { readonly id: number; readonly request: { kind: "group"; job: GroupJob } };
export type WorkerResponse =
  | { readonly id: number; readonly result: GroupResult }
  | { readonly id: number; readonly error: string }
  | { readonly id: -1; readonly ready: true };

interface Pending {
  readonly id: number;
  readonly message: WorkerRequest;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly signal: AbortSignal | undefined;
}

interface Slot {
  worker: Worker;
  job: Pending | undefined;
}

const createWorker = () => new Worker(new URL("./layout.worker.ts", import.meta.url), { type: "module" });

export class LayoutPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;

  constructor(
    size: number,
    private readonly make: () => Worker = createWorker,
  ) {
    for (let i = 0; i < size; i++) {
      const slot = { job: undefined } as unknown as Slot;
      this.start(slot);
      this.slots.push(slot);
    }
  }

  /** Give `slot` a fresh worker whose answers settle the slot's job. */
  private start(slot: Slot) {
    slot.worker = this.make();
    slot.job = undefined;
    slot.worker.onmessage = (event: MessageEvent<WorkerResponse>) => {
      const data = event.data;
      if ("ready" in data) return;
      const job = slot.job;
      if (!job || job.id !== data.id) return;
      slot.job = undefined;
      if ("error" in data) job.reject(new Error(`layout failed: ${data.error}`));
      else job.resolve(data.result);
      this.pump();
    };
    slot.worker.onerror = (event) => {
      event.preventDefault();
      const job = slot.job;
      this.replace(slot);
      job?.reject(new Error(`layout worker crashed: ${event.message}`));
      this.pump();
    };
  }

  private replace(slot: Slot) {
    slot.worker.terminate();
    this.start(slot);
  }

  private pump() {
    for (const slot of this.slots) {
      if (slot.job) continue;
      const next = this.queue.shift();
      if (!next) return;
      slot.job = next;
      slot.worker.postMessage(next.message);
    }
  }

  private run<T>(request: WorkerRequest["request"], signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const id = this.nextId++;
      const pending: Pending = {
        id,
        message: { id, request } as WorkerRequest,
        resolve: resolve as (v: unknown) => void,
        reject,
        signal,
      };
      signal?.addEventListener(
        "abort",
        () => {
          const queued = this.queue.indexOf(pending);
          if (queued >= 0) this.queue.splice(queued, 1);
          const slot = this.slots.find((s) => s.job === pending);
          if (slot) {
            // The worker is busy with an answer nobody wants: replace it with a fresh one.
            this.replace(slot);
            this.pump();
          }
          reject(signal.reason);
        },
        { once: true },
      );
      this.queue.push(pending);
      this.pump();
    });
  }

  group(job: GroupJob, signal?: AbortSignal) {
    return this.run<GroupResult>({ kind: "group", job }, signal);
  }

  terminate() {
    for (const s of this.slots) s.worker.terminate();
    this.slots.length = 0;
  }
}

let shared: LayoutPool | undefined;
/** The app's pool: as many workers as cores (2–4), created on first use and kept warm. */
export function layoutPool(): LayoutPool {
  shared ??= new LayoutPool(Math.max(2, Math.min(4, navigator.hardwareConcurrency || 2)));
  return shared;
}
