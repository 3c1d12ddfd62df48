import { CronExpressionParser } from "cron-parser";
import type { FreshnessPolicy } from "../definitions/asset.js";
import type { Definitions } from "../definitions/definitions.js";
import type { TimeWindowKeySpace } from "../definitions/partitions/partitions.js";
import type { KeySpaces } from "../execution/run-partitions.js";
import type { Storage } from "../storage/storage.js";

export interface Freshness {
  readonly assetKey: string;
  readonly policy: FreshnessPolicy;
  readonly status: "fresh" | "overdue";
  /** The partition the policy applies to (the latest window of time-partitioned assets). */
  readonly partition: string | null;
  readonly lastMaterializedAt: number | null;
  /** When data had to exist by (epoch ms). */
  readonly deadline: number;
  readonly message: string;
}

const minutes = (ms: number) => Math.round(ms / 60_000);

/**
 * Evaluate an asset's freshness policy at `now`. Unpartitioned (and non-time partitioned):
 * the latest materialization must be at most `maxLagMinutes` old — at `now`, or with `cron` at
 * the latest cron tick. Time-partitioned: the latest complete window must be materialized by
 * `maxLagMinutes` after it closed.
 */
export async function evaluateFreshness(
  definitions: Definitions,
  storage: Storage,
  spaces: KeySpaces,
  assetKey: string,
  now: number,
): Promise<Freshness | undefined> {
  const node = definitions.graph.asset(assetKey);
  const policy = node?.freshness;
  if (!node || !policy) return undefined;
  const lag = policy.maxLagMinutes * 60_000;
  const def = definitions.computationOf(assetKey).partitions;
  if (def?.kind === "time") {
    const space = spaces.of(def) as TimeWindowKeySpace;
    const count = space.count();
    if (count === 0) {
      return {
        assetKey,
        policy,
        status: "fresh",
        partition: null,
        lastMaterializedAt: null,
        deadline: now,
        message: "no complete window yet",
      };
    }
    // The newest window that has closed (endOffset may add one still in progress).
    let index = count - 1;
    while (index > 0 && space.windowAt(index).end.getTime() > now) index--;
    const key = space.keyAt(index);
    const closed = space.windowAt(index).end.getTime();
    const deadline = closed + lag;
    const [row] = await storage.getPartitions(assetKey, { keys: [key] });
    const at = row?.lastMaterialization?.timestamp ?? null;
    const overdue = at === null && now > deadline;
    return {
      assetKey,
      policy,
      status: overdue ? "overdue" : "fresh",
      partition: key,
      lastMaterializedAt: at,
      deadline,
      message: overdue
        ? `partition ${key} closed at ${new Date(closed).toISOString()} and is not materialized ${minutes(now - closed)} min later (allowed: ${policy.maxLagMinutes} min)`
        : at === null
          ? `partition ${key} is due by ${new Date(deadline).toISOString()}`
          : `partition ${key} was materialized at ${new Date(at).toISOString()}`,
    };
  }
  const [status] = await storage.getAssetStatuses([assetKey]);
  const at = status?.lastMaterialization?.timestamp ?? null;
  let reference = now;
  if (policy.cron) {
    const tick = CronExpressionParser.parse(policy.cron, {
      tz: policy.timezone ?? "UTC",
      currentDate: new Date(now),
    }).prev();
    reference = tick.getTime();
  }
  const deadline = reference;
  const overdue = at === null || reference - at > lag;
  const when = policy.cron ? `at the ${new Date(reference).toISOString()} deadline (${policy.cron})` : "now";
  return {
    assetKey,
    policy,
    status: overdue ? "overdue" : "fresh",
    partition: null,
    lastMaterializedAt: at,
    deadline,
    message:
      at === null
        ? `never materialized; it must be at most ${policy.maxLagMinutes} min old ${when}`
        : `last materialized ${minutes(reference - at)} min before ${policy.cron ? "the deadline" : "now"} (allowed: ${policy.maxLagMinutes} min ${when})`,
  };
}
