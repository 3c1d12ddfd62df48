import { createHash } from "node:crypto";
import type { Definitions } from "../definitions/definitions.js";
import type { RunTarget } from "../definitions/schedule.js";
import type { RunRequest } from "../definitions/sensor.js";
import { planRun } from "../execution/plan.js";
import { resolveSelection } from "../graph/selection.js";
import type { BatonInstance } from "../instance/instance.js";

/** What a launch produced: a queued run, or a backfill when the target spans partitions definitions. */
export type Launched =
  | { readonly kind: "run"; readonly id: string; readonly created: boolean }
  | { readonly kind: "backfill"; readonly id: string; readonly created: boolean };

export interface LaunchOptions {
  /** Who launches (`sensor:NAME`, `schedule:NAME`): run keys are unique per owner. */
  readonly owner: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly now: number;
}

/**
 * Queue what a schedule tick or sensor run request asks for, at most once per run key. A target
 * whose assets have different partitions definitions (month × taxi type feeding monthly assets)
 * cannot be one run: it becomes a daemon-driven backfill, idempotent the same way.
 */
export async function launchRequest(
  instance: BatonInstance,
  definitions: Definitions,
  target: RunTarget,
  request: RunRequest,
  options: LaunchOptions,
): Promise<Launched> {
  const selection = definitions.selectionOf(
    request.job !== undefined || request.selection !== undefined
      ? {
          ...(request.job !== undefined ? { job: request.job } : {}),
          ...(request.selection !== undefined ? { selection: request.selection } : {}),
        }
      : target,
  );
  const keys =
    request.partitionKeys ?? (request.partitionKey !== undefined ? [request.partitionKey] : undefined);
  const tags = { ...options.tags, ...(request.tags ?? {}) };
  const config = request.config ?? {};
  const assetKeys = [...resolveSelection(selection, definitions.graph)];
  const plan = planRun(definitions, { assetKeys });
  const fingerprints = new Set<string>();
  let unpartitioned = false;
  for (const step of plan.steps) {
    const p = step.computation?.partitions;
    if (p) fingerprints.add(p.fingerprint);
    else if (step.computation) unpartitioned = true;
  }
  if (keys && (fingerprints.size > 1 || (fingerprints.size === 1 && unpartitioned))) {
    const backfillId = request.runKey
      ? `bf-${createHash("sha1").update(`${options.owner}\u0000${request.runKey}`).digest("hex").slice(0, 24)}`
      : undefined;
    const existing = backfillId ? await instance.storage.getBackfill(backfillId) : undefined;
    if (existing) return { kind: "backfill", id: existing.backfillId, created: false };
    const backfill = await instance.createBackfill(definitions, {
      selection,
      partitions: { keys },
      config,
      tags,
      daemon: true,
      now: options.now,
      ...(backfillId ? { backfillId } : {}),
    });
    return { kind: "backfill", id: backfill.backfillId, created: true };
  }
  const run = await instance.launchRun(definitions, {
    selection,
    ...(keys ? { partitions: { keys } } : {}),
    config,
    tags,
    now: options.now,
    ...(request.runKey !== undefined ? { runKey: { owner: options.owner, key: request.runKey } } : {}),
  });
  return { kind: "run", id: run.runId, created: run.created };
}
