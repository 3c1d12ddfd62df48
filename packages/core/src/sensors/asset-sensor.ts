import { normalizeAssetKey } from "../definitions/asset-key.js";
import type { AssetJobDefinition } from "../definitions/job.js";
import {
  builtinSensor,
  type RunRequest,
  type SensorContext,
  type SensorDefinition,
} from "../definitions/sensor.js";
import type { StoredRunEvent } from "../execution/events.js";
import { resolveSelection } from "../graph/selection.js";

export type MaterializationEvent = Extract<StoredRunEvent, { type: "materialization" }>;

export interface AssetSensorOptions {
  readonly name: string;
  /** Asset keys to watch. */
  readonly assets: readonly string[];
  readonly job?: AssetJobDefinition | string;
  readonly selection?: string;
  /**
   * What to launch for new materializations (oldest first). Default: one run of the target per
   * materialization, for the same partition when the target is partitioned.
   */
  readonly onMaterialization?: (
    ctx: SensorContext,
    event: MaterializationEvent,
  ) => RunRequest | readonly RunRequest[] | null | undefined;
  readonly minimumIntervalSeconds?: number;
  readonly timeoutSeconds?: number;
  readonly defaultStatus?: "RUNNING" | "STOPPED";
  readonly description?: string;
}

/** The cursor: last materialization event id seen per asset. */
type Cursor = Record<string, number>;

/**
 * When any of `assets` is materialized, launch the target. Starts from "now" (history before the
 * sensor's first evaluation does not launch anything).
 */
export function assetSensor(options: AssetSensorOptions): SensorDefinition {
  const assets = options.assets.map(normalizeAssetKey);
  return builtinSensor(
    "asset",
    options,
    { minimumIntervalSeconds: 5, description: `materializations of ${assets.join(", ")}` },
    async (ctx) => {
      const first = ctx.cursor === null;
      const cursor: Cursor = first ? {} : (JSON.parse(ctx.cursor!) as Cursor);
      const requests: RunRequest[] = [];
      for (const asset of assets) {
        if (first || cursor[asset] === undefined) {
          const [latest] = await ctx.store.getMaterializations(asset, { limit: 1 });
          cursor[asset] = latest?.id ?? 0;
          if (first) continue;
        }
        const events = (await ctx.store.getMaterializations(asset, {
          afterId: cursor[asset]!,
          limit: 1000,
        })) as MaterializationEvent[];
        for (const event of events) {
          cursor[asset] = event.id;
          const out = options.onMaterialization
            ? options.onMaterialization(ctx, event)
            : defaultRequest(ctx, event);
          for (const r of out === null || out === undefined
            ? []
            : Array.isArray(out)
              ? out
              : [out as RunRequest])
            requests.push({ runKey: `${asset}:${event.id}`, ...r });
        }
      }
      return {
        runRequests: requests,
        cursor: JSON.stringify(cursor),
        ...(requests.length === 0
          ? { skipReason: first ? "first evaluation: watching from now on" : "no new materializations" }
          : {}),
      };
    },
  );

  function defaultRequest(ctx: SensorContext, event: MaterializationEvent): RunRequest {
    if (event.partition === undefined) return {};
    // Pass the partition on when the target is partitioned (a mismatch is reported at launch).
    const jobName = typeof options.job === "string" ? options.job : options.job?.name;
    const selection = options.selection ?? (jobName ? ctx.definitions.job(jobName)?.selection : undefined);
    if (!selection) return {};
    const targets = resolveSelection(selection, ctx.definitions.graph);
    const partitioned = [...targets].some((k) => ctx.definitions.computationOf(k).partitions);
    return partitioned ? { partitionKey: event.partition } : {};
  }
}
