/// <reference lib="webworker" />
/** Layout worker: runs elk (its bundled build, in this worker's own thread) and the fast layout. */
import ELK from "elkjs/lib/elk.bundled.js";
import { layoutGroup } from "./engine";
import type { WorkerRequest, WorkerResponse } from "./pool";

const elk = new ELK();
const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const { id, request } = event.data;
  let answer: WorkerResponse;
  try {
    answer = { id, result: await layoutGroup(request.job, elk) };
  } catch (error) {
    answer = { id, error: error instanceof Error ? error.message : String(error) };
  }
  scope.postMessage(answer);
};
// Warm up: elk's first layout pays for compiling its code; do that before anyone waits for it.
void layoutGroup(
  {
    hash: "warm-up",
    nodes: ["a", "b", "c", "d", "e"],
    edges: [
      [0, 1],
      [1, 2],
      [0, 3],
      [3, 4],
    ],
  },
  elk,
).finally(() => scope.postMessage({ id: -1, ready: true }));
