import { type AutomationCondition, describeCondition } from "../definitions/automation-condition.js";
import type { Definitions } from "../definitions/definitions.js";
import type { PartitionsDefinition } from "../definitions/partitions/partitions.js";
import { describeError } from "../errors.js";
import type { KeySpaces } from "../execution/run-partitions.js";
import type { BatonInstance } from "../instance/instance.js";
import { loadKeySpaces } from "../instance/run-partitions-request.js";
import { createStalenessResolver } from "../status/staleness.js";
import type { AutomationEvaluation } from "../storage/storage.js";
import { cronTicksBetween } from "./cron-ticks.js";

export interface AutomationOptions {
  readonly instance: BatonInstance;
  readonly definitions: () => Definitions;
  readonly log?: (line: string) => void;
  /** Partitions evaluated per asset at most (static/dynamic partitions: the first N). */
  readonly maxPartitions?: number;
}

export const AUTOMATION_OWNER = "automation";

/** Which partitions of an asset automation looks at: the latest time window, or every key. */
function partitionsToEvaluate(
  def: PartitionsDefinition | undefined,
  spaces: KeySpaces,
  max: number,
): (string | null)[] {
  if (!def) return [null];
  const space = spaces.of(def);
  const count = space.count();
  if (count === 0) return [];
  if (def.kind === "time") return [space.keyAt(count - 1)];
  if (def.kind === "multi") {
    const times = def.dimensionNames.filter((n) => def.dimensions[n]!.kind === "time");
    if (times.length === 1) {
      const multi = space as import("../definitions/partitions/partitions.js").MultiPartitionKeySpace;
      const timeSpace = multi.dimension(times[0]!);
      const latest = timeSpace.keyAt(timeSpace.count() - 1);
      const out: string[] = [];
      for (const key of space.keys()) {
        if (multi.split(key)?.[times[0]!] === latest) out.push(key);
        if (out.length >= max) break;
      }
      return out;
    }
  }
  return [...space.keys(0, Math.min(count, max))];
}

/**
 * Declarative automation (`eager()`, `onCron()`): each step decides, per asset (partition), whether
 * to launch a run, and stores the decision with its reason whenever it changes. A launch is keyed
 * by the asset's and its upstreams' latest materializations, so one upstream update launches once
 * (no relaunch while that run is in progress, nor after it failed, until something changes).
 */
export function createAutomationEvaluator(options: AutomationOptions) {
  const { instance } = options;
  const storage = instance.storage;
  const maxPartitions = options.maxPartitions ?? 1000;
  const lastReason = new Map<string, string>();

  async function step(now: number): Promise<AutomationEvaluation[]> {
    const definitions = options.definitions();
    const automated = definitions.graph.keys
      .map((k) => ({ key: k, condition: definitions.graph.asset(k)!.automation }))
      .filter((a): a is { key: string; condition: AutomationCondition } => a.condition !== undefined);
    if (automated.length === 0) return [];
    const spaces = await loadKeySpaces(definitions, storage, now);
    const resolver = createStalenessResolver(definitions, storage, spaces);
    const decisions: Omit<AutomationEvaluation, "id">[] = [];
    for (const { key, condition } of automated) {
      let tick: number | undefined;
      if (condition.kind === "on_cron") {
        const cursorKey = `automation/cron/${key}`;
        const stored = await storage.getValue(cursorKey);
        const since = stored === undefined ? undefined : Number(stored);
        if (since === undefined || !Number.isFinite(since)) {
          await storage.setValue(cursorKey, String(now), now);
          continue;
        }
        const { ticks } = cronTicksBetween(condition.cron, condition.timezone, since, now, 10_000);
        if (ticks.length === 0) continue;
        tick = ticks[ticks.length - 1]!;
        await storage.setValue(cursorKey, String(now), now);
      }
      const parents = definitions.graph.parents(key);
      const parentStatuses = await storage.getAssetStatuses(parents);
      const parentEvent = new Map(
        parentStatuses.map((s) => [s.assetKey, s.lastMaterialization?.eventId ?? null]),
      );
      const missingParent = parents.find((p) => (parentEvent.get(p) ?? null) === null);
      const watermark = Math.max(0, ...parentStatuses.map((s) => s.lastMaterialization?.eventId ?? 0));
      const def = definitions.computationOf(key).partitions;
      for (const partition of partitionsToEvaluate(def, spaces, maxPartitions)) {
        const st = await resolver.staleness(key, partition);
        let launch = false;
        let reason: string;
        if (st.status === "missing") {
          if (missingParent)
            reason = `missing, but waiting for upstream ${missingParent} (never materialized)`;
          else {
            launch = true;
            reason = "missing: never materialized";
          }
        } else {
          const direct = st.reasons.filter((r) => r.kind === "code_version" || r.kind === "upstream_newer");
          if (direct.length > 0) {
            launch = true;
            reason = direct.map((r) => r.message).join("; ");
          } else if (st.reasons.length > 0)
            reason = `waiting: ${st.reasons.map((r) => r.message).join("; ")}`;
          else reason = "up to date";
        }
        if (condition.kind === "on_cron") reason = `cron tick ${new Date(tick!).toISOString()}: ${reason}`;
        let runId: string | null = null;
        if (launch) {
          const runKey = [
            key,
            partition ?? "",
            st.lastMaterialization?.eventId ?? "missing",
            watermark,
            tick ?? "",
          ].join("|");
          try {
            const run = await instance.launchRun(definitions, {
              assetKeys: [key],
              ...(partition !== null ? { partitions: { keys: [partition] } } : {}),
              tags: { "baton/automation": describeCondition(condition) },
              runKey: { owner: AUTOMATION_OWNER, key: runKey },
              keySpaces: spaces,
              now,
            });
            runId = run.runId;
            if (!run.created) {
              launch = false;
              reason = `already requested (run ${run.runId}, ${run.status}) for this state: ${reason}`;
            } else
              options.log?.(
                `automation: ${key}${partition ? ` [${partition}]` : ""} → run ${run.runId} (${reason})`,
              );
          } catch (error) {
            launch = false;
            reason = `could not launch: ${describeError(error)}`;
          }
        }
        const memoKey = `${key}\u0000${partition ?? ""}`;
        if (launch || lastReason.get(memoKey) !== reason) {
          lastReason.set(memoKey, reason);
          decisions.push({
            assetKey: key,
            timestamp: now,
            condition: describeCondition(condition),
            launched: launch,
            reason,
            partitionKeys: partition === null ? null : [partition],
            runId: launch ? runId : null,
          });
        }
      }
    }
    await storage.addAutomationEvaluations(decisions);
    return decisions.map((d, i) => ({ ...d, id: i }));
  }

  return { step, reset: () => lastReason.clear() };
}
