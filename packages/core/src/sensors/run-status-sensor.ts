import type { AssetJobDefinition } from "../definitions/job.js";
import {
  builtinSensor,
  type RunRequest,
  type SensorContext,
  type SensorDefinition,
} from "../definitions/sensor.js";
import type { RunStatus } from "../execution/events.js";
import { resolveSelection } from "../graph/selection.js";
import type { RunRecord } from "../storage/storage.js";
import { type Alert, type AlertPayload, runLink } from "./alerts.js";
import { withPartialProgress } from "./partial-progress.js";

export type EndStatus = "SUCCESS" | "FAILURE" | "CANCELED";

export interface RunStatusSensorOptions {
  readonly name: string;
  /** Which endings to react to (default FAILURE). */
  readonly status?: EndStatus | readonly EndStatus[];
  /** Only runs touching these assets (a selection string, or a job); default: every run. */
  readonly monitorSelection?: string;
  readonly monitorJob?: AssetJobDefinition | string;
  /**
   * Alerts to deliver for each matching run: 3 attempts per tick (0.2 s, then 0.8 s apart), within
   * the sensor's time limit; an undelivered alert fails the tick and keeps the cursor, so the next
   * tick tries again (at least once).
   */
  readonly alerts?: readonly Alert[];
  /** Runs to launch in reaction (their default target is `job`/`selection`). */
  readonly onRun?: (
    ctx: SensorContext,
    run: RunRecord,
  ) => RunRequest | readonly RunRequest[] | null | undefined;
  readonly job?: AssetJobDefinition | string;
  readonly selection?: string;
  /** Base URL of the UI for links in alerts. */
  readonly baseUrl?: string;
  readonly minimumIntervalSeconds?: number;
  readonly timeoutSeconds?: number;
  readonly defaultStatus?: "RUNNING" | "STOPPED";
  readonly description?: string;
}

const EVENT: Record<EndStatus, AlertPayload["event"]> = {
  SUCCESS: "run_succeeded",
  FAILURE: "run_failed",
  CANCELED: "run_canceled",
};

async function firstError(ctx: SensorContext, run: RunRecord): Promise<string | null> {
  const events = await ctx.store.getEvents(run.runId, { types: ["step_failed", "run_failed"], limit: 20 });
  for (const e of events) {
    if (e.type === "step_failed") return `${e.stepKey}: ${e.error.message}`;
  }
  const failed = events.find((e) => e.type === "run_failed");
  return failed && failed.type === "run_failed" ? (failed.error?.message ?? failed.reason ?? null) : null;
}

/**
 * React to runs ending (failure by default): deliver alerts and/or launch runs. Starts from the
 * moment of its first evaluation; the cursor is the last run seen (in the order runs ended).
 */
export function runStatusSensor(options: RunStatusSensorOptions): SensorDefinition {
  const statuses: EndStatus[] = options.status
    ? Array.isArray(options.status)
      ? [...(options.status as EndStatus[])]
      : [options.status as EndStatus]
    : ["FAILURE"];
  const alerts = options.alerts ?? [];
  return builtinSensor(
    "run_status",
    options,
    { minimumIntervalSeconds: 5, description: `runs ending ${statuses.join("/")}` },
    async (ctx) => {
      if (ctx.cursor === null) {
        // Skip history: find where the ended runs are now.
        let cursor: string | null = null;
        for (;;) {
          const page = await ctx.store.listEndedRuns({ ...(cursor ? { after: cursor } : {}), limit: 1000 });
          if (page.runs.length === 0) break;
          cursor = page.cursor;
        }
        return { cursor: cursor ?? "0", skipReason: "first evaluation: watching runs from now on" };
      }
      const monitored = monitoredAssets(ctx);
      const page = await ctx.store.listEndedRuns({
        after: ctx.cursor,
        statuses: statuses as RunStatus[],
        limit: 100,
      });
      const requests: RunRequest[] = [];
      let delivered = 0;
      let matched = 0;
      for (const [index, run] of page.runs.entries()) {
        if (ctx.signal.aborted) break;
        if (!monitored || run.assetKeys.some((k) => monitored.has(k))) {
          matched++;
          if (alerts.length > 0) {
            const payload: AlertPayload = {
              event: EVENT[run.status as EndStatus],
              runId: run.runId,
              status: run.status,
              assetKeys: run.assetKeys,
              partitionKeys: run.partitionKeys,
              error: run.status === "FAILURE" ? await firstError(ctx, run) : null,
              url: runLink(run.runId, options.baseUrl),
              startedAt: run.startedAt === null ? null : new Date(run.startedAt).toISOString(),
              endedAt: run.endedAt === null ? null : new Date(run.endedAt).toISOString(),
              tags: run.tags,
              sensor: ctx.sensorName,
            };
            try {
              for (const alert of alerts)
                if ((await deliver(alert, payload, ctx.signal)) === "sent") delivered++;
            } catch (error) {
              if (index === 0) throw error;
              // The runs before this one are done: their alerts are not sent again, their requests
              // launch now; the cursor stops just before this run.
              const done = await ctx.store.listEndedRuns({
                after: ctx.cursor,
                statuses: statuses as RunStatus[],
                limit: index,
              });
              throw withPartialProgress(error as Error, {
                runRequests: requests,
                cursor: done.cursor ?? ctx.cursor,
              });
            }
          }
          const out = options.onRun?.(ctx, run);
          for (const r of out === null || out === undefined
            ? []
            : Array.isArray(out)
              ? out
              : [out as RunRequest])
            requests.push({ runKey: `run:${run.runId}`, ...r });
        }
      }
      // Delivery is at least once: a failed alert fails the tick before the cursor passes its run.
      return {
        runRequests: requests,
        cursor: page.cursor ?? ctx.cursor,
        ...(requests.length === 0
          ? {
              skipReason:
                matched === 0
                  ? "no matching runs ended"
                  : `${matched} run(s) matched; ${delivered} alert(s) delivered`,
            }
          : {}),
      };
    },
  );

  function monitoredAssets(ctx: SensorContext): Set<string> | undefined {
    const job = typeof options.monitorJob === "string" ? options.monitorJob : options.monitorJob?.name;
    const selection = options.monitorSelection ?? (job ? ctx.definitions.job(job)?.selection : undefined);
    return selection ? resolveSelection(selection, ctx.definitions.graph) : undefined;
  }
}

/** Deliver with 3 attempts (0.2 s, 0.8 s backoff; an abort stops at once); throws the last error. */
async function deliver(
  alert: Alert,
  payload: AlertPayload,
  signal: AbortSignal,
): Promise<"sent" | "skipped"> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 200 * 4 ** (attempt - 1)));
    try {
      return await alert.send(payload, signal);
    } catch (error) {
      last = error;
      if (signal.aborted) break;
    }
  }
  throw new Error(
    `${alert.name} alert for run ${payload.runId} was not delivered: ${(last as Error).message}`,
  );
}
