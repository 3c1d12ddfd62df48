import type { BackfillStatus, RunStatus } from "@baton/webserver/api-types";

/** "850 ms", "12.4 s", "3 min 05 s", "2 h 07 min". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const totalS = Math.round(s);
  const m = Math.floor(totalS / 60);
  if (m < 60) return `${m} min ${String(totalS % 60).padStart(2, "0")} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${String(m % 60).padStart(2, "0")} min`;
}

/** A run's status in words and the status colour it takes (the asset status palette). */
export const RUN_STATUS: Record<RunStatus, { word: string; color: string; active: boolean }> = {
  QUEUED: { word: "queued", color: "queued", active: true },
  STARTING: { word: "starting", color: "running", active: true },
  STARTED: { word: "running", color: "running", active: true },
  SUCCESS: { word: "succeeded", color: "materialized", active: false },
  FAILURE: { word: "failed", color: "failed", active: false },
  CANCELING: { word: "canceling", color: "stale", active: true },
  CANCELED: { word: "canceled", color: "missing", active: false },
};

export const BACKFILL_STATUS: Record<BackfillStatus, { word: string; color: string; active: boolean }> = {
  REQUESTED: { word: "requested", color: "queued", active: true },
  RUNNING: { word: "running", color: "running", active: true },
  COMPLETED: { word: "completed", color: "materialized", active: false },
  FAILED: { word: "failed", color: "failed", active: false },
  CANCELING: { word: "canceling", color: "stale", active: true },
  CANCELED: { word: "canceled", color: "missing", active: false },
};

export const STEP_STATUS: Record<string, { word: string; color: string }> = {
  not_started: { word: "not started", color: "missing" },
  running: { word: "running", color: "running" },
  succeeded: { word: "succeeded", color: "materialized" },
  failed: { word: "failed", color: "failed" },
  skipped: { word: "skipped", color: "stale" },
  canceled: { word: "canceled", color: "missing" },
};

/** "2019-01", "2019-01 … 2019-12 (12)", "—". */
export function describeKeys(keys: readonly string[] | null | undefined): string {
  if (!keys || keys.length === 0) return "—";
  if (keys.length === 1) return keys[0]!;
  return `${keys[0]} … ${keys[keys.length - 1]} (${keys.length.toLocaleString("en")})`;
}

/** Run counts of a backfill's runs by what a reader cares about. */
export function runCounts(runs: readonly { status: RunStatus }[]) {
  const out = { queued: 0, running: 0, succeeded: 0, failed: 0, canceled: 0 };
  for (const r of runs) {
    if (r.status === "QUEUED") out.queued++;
    else if (r.status === "STARTING" || r.status === "STARTED" || r.status === "CANCELING") out.running++;
    else if (r.status === "SUCCESS") out.succeeded++;
    else if (r.status === "FAILURE") out.failed++;
    else out.canceled++;
  }
  return out;
}

/** Share of a backfill's targeted asset partitions that are done (materialized, failed, skipped or canceled), 0–100. */
export function backfillProgress(counts: {
  targeted: number;
  materialized: number;
  failed: number;
  skipped: number;
  canceled: number;
}): number {
  if (counts.targeted <= 0) return 0;
  const done = counts.materialized + counts.failed + counts.skipped + counts.canceled;
  return Math.min(100, Math.round((done / counts.targeted) * 100));
}
