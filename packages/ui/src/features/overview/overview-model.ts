/**
 * The overview's model: pure functions that turn API answers into the short lists the landing page
 * shows (what needs attention first, each list capped) and the deployment's health in words.
 */
import type {
  Backfill,
  BackfillStatus,
  ChecksPage,
  GraphAssetStatus,
  Health,
  Run,
  RunDetail,
  RunStatus,
} from "@baton/webserver/api-types";

/** How many items a section lists before "View all". */
export const LIST_CAP = 10;
/** Failed runs are those created in this window. */
export const FAILED_RUNS_WINDOW_MS = 24 * 3_600_000;
/** How many runs or backfills one request reads (a count past it is shown as "100+"). */
export const FETCH_LIMIT = 100;
/** A daemon whose heartbeat is older than this is not running (the health banner's rule too). */
export const DAEMON_LATE_MS = 30_000;
/** Workers beat every second; one silent this long is probably gone. */
export const WORKER_LATE_MS = 10_000;

export const RUNNING_STATUSES: readonly RunStatus[] = ["STARTING", "STARTED", "CANCELING"];
export const QUEUED_STATUSES: readonly RunStatus[] = ["QUEUED"];
export const ACTIVE_BACKFILL_STATUSES: readonly BackfillStatus[] = ["REQUESTED", "RUNNING", "CANCELING"];

/** `createdAfter` for the failed-runs window ending `now`. */
export const windowStart = (now: number) => new Date(now - FAILED_RUNS_WINDOW_MS).toISOString();

/** A list cut to `cap` items, with how many there are (a lower bound when `more`). */
export interface Capped<T> {
  readonly shown: readonly T[];
  readonly total: number;
  /** The server had more than it sent: `total` is a lower bound. */
  readonly atLeast: boolean;
}

export function capList<T>(items: readonly T[], cap = LIST_CAP, more = false): Capped<T> {
  return { shown: items.slice(0, cap), total: items.length, atLeast: more };
}

const numberFormat = new Intl.NumberFormat("en");

/** "0", "7", "100+". */
export const countLabel = (c: Pick<Capped<unknown>, "total" | "atLeast">) =>
  `${numberFormat.format(c.total)}${c.atLeast ? "+" : ""}`;

/** "1 failed run", "3 failed runs", "100+ failed runs". */
export function plural(c: Pick<Capped<unknown>, "total" | "atLeast">, one: string, many: string): string {
  return `${countLabel(c)} ${c.total === 1 && !c.atLeast ? one : many}`;
}

// --- assets ---------------------------------------------------------------------------------------

export interface AssetItem {
  readonly key: string;
  readonly status: GraphAssetStatus;
}

export interface AssetAttention {
  /** Assets whose latest result of some check failed: most failed checks first. */
  readonly checkFailed: readonly AssetItem[];
  /** Freshness policy violated now: never materialized first, then the longest ago. */
  readonly overdue: readonly AssetItem[];
  /** Stale (upstream changed or code changed): the longest ago materialized first. */
  readonly stale: readonly AssetItem[];
}

const byKey = (a: AssetItem, b: AssetItem) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
/** Oldest materialization first; never materialized before any. */
const oldestFirst = (a: AssetItem, b: AssetItem) =>
  (a.status.lastMaterializedAt ?? Number.NEGATIVE_INFINITY) -
    (b.status.lastMaterializedAt ?? Number.NEGATIVE_INFINITY) || byKey(a, b);

/** Split every asset's live status into the lists that need attention. */
export function assetAttention(
  assets: Readonly<Record<string, GraphAssetStatus>> | undefined,
): AssetAttention {
  const checkFailed: AssetItem[] = [];
  const overdue: AssetItem[] = [];
  const stale: AssetItem[] = [];
  for (const [key, status] of Object.entries(assets ?? {})) {
    const item = { key, status };
    if (status.checks.failed > 0) checkFailed.push(item);
    if (status.overdue) overdue.push(item);
    if (status.stale) stale.push(item);
  }
  checkFailed.sort((a, b) => b.status.checks.failed - a.status.checks.failed || byKey(a, b));
  overdue.sort(oldestFirst);
  stale.sort(oldestFirst);
  return { checkFailed, overdue, stale };
}

/** The failed checks of an asset (latest result of each), blocking ones first, as short labels. */
export function failedChecks(
  page: ChecksPage | undefined,
): { name: string; blocking: boolean; severity: string; at: number }[] {
  return (page?.latest ?? [])
    .filter((c) => !c.passed)
    .map((c) => ({ name: c.checkName, blocking: c.blocking, severity: c.severity, at: c.timestamp }))
    .sort((a, b) => Number(b.blocking) - Number(a.blocking) || (a.name < b.name ? -1 : 1));
}

// --- runs and backfills ---------------------------------------------------------------------------

const endedOrCreated = (r: Run) => r.endedAt ?? r.createdAt;

/** Failed runs, the latest to end first. */
export function failedRunItems(runs: readonly Run[]): Run[] {
  return runs.filter((r) => r.status === "FAILURE").sort((a, b) => endedOrCreated(b) - endedOrCreated(a));
}

/**
 * Runs in progress: running ones first (newest start first), then queued ones (newest first). A run
 * read in both answers (it started between the two reads) is listed once, as running.
 */
export function activeRunItems(running: readonly Run[], queued: readonly Run[]): Run[] {
  const seen = new Set<string>();
  const out: Run[] = [];
  const run = running
    .filter((r) => RUNNING_STATUSES.includes(r.status))
    .sort((a, b) => (b.startedAt ?? b.createdAt) - (a.startedAt ?? a.createdAt));
  const wait = queued
    .filter((r) => QUEUED_STATUSES.includes(r.status))
    .sort((a, b) => b.createdAt - a.createdAt);
  for (const r of [...run, ...wait]) {
    if (seen.has(r.runId)) continue;
    seen.add(r.runId);
    out.push(r);
  }
  return out;
}

/** Backfills in progress, newest first. */
export function activeBackfills(backfills: readonly Backfill[]): Backfill[] {
  return backfills
    .filter((b) => ACTIVE_BACKFILL_STATUSES.includes(b.status))
    .sort((a, b) => b.createdAt - a.createdAt);
}

/** Why a run failed, in one line: the first failed step's error, else the run's own reason. */
export function failureReason(detail: RunDetail | undefined): string | null {
  if (!detail) return null;
  const step = detail.summary.steps.find((s) => s.status === "failed" && (s.error || s.reason));
  if (step) {
    const message = firstLine(step.error?.message ?? step.reason ?? "");
    // A user code error names its asset already ('Error in asset "x": …').
    return message.includes(step.stepKey) ? message : `${step.stepKey}: ${message}`;
  }
  const reason = detail.summary.reason;
  return reason ? firstLine(reason) : null;
}

const firstLine = (text: string) => {
  const line = text.split("\n", 1)[0]!.trim();
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
};

/** "taxi/raw_trips", "taxi/raw_trips, taxi/zones", "taxi/raw_trips and 4 more". */
export function assetsLabel(keys: readonly string[]): string {
  if (keys.length === 0) return "no assets";
  if (keys.length <= 2) return keys.join(", ");
  return `${keys[0]} and ${keys.length - 1} more`;
}

// --- health ---------------------------------------------------------------------------------------

export interface HealthProblem {
  readonly title: string;
  readonly detail: string;
}

export interface HealthView {
  readonly daemon: { readonly state: "running" | "late" | "absent"; readonly ageMs: number | null };
  readonly workers: readonly (Health["workers"][number] & { readonly late: boolean })[];
  readonly problems: readonly HealthProblem[];
}

/** The deployment's health in words: what is not running and what that means. */
export function healthView(health: Health): HealthView {
  const problems: HealthProblem[] = [];
  const d = health.daemon;
  const daemon: HealthView["daemon"] = !d
    ? { state: "absent", ageMs: null }
    : { state: d.heartbeatAgeMs > DAEMON_LATE_MS ? "late" : "running", ageMs: d.heartbeatAgeMs };
  if (daemon.state !== "running")
    problems.push({
      title: "The daemon is not running",
      detail:
        "Schedules, sensors, declarative automation and backfills will not advance, failed runs are not retried and runs whose worker died are not marked failed, until it runs again. Start `baton dev` or `baton daemon`.",
    });
  const workers = health.workers
    .map((w) => ({ ...w, late: w.heartbeatAgeMs > WORKER_LATE_MS }))
    .sort((a, b) => (a.workerId < b.workerId ? -1 : 1));
  if (workers.length === 0)
    problems.push({
      title: "No run worker is running",
      detail: "Launched runs wait in the queue until one starts. Start `baton dev` or `baton worker`.",
    });
  else if (workers.every((w) => w.late))
    problems.push({
      title: "No worker has reported recently",
      detail: "Runs may not start or progress. Check the worker processes (`baton worker`).",
    });
  if (!health.definitions)
    problems.push({
      title: "No definitions published yet",
      detail: "A worker or the daemon publishes them when it loads your definitions file.",
    });
  if (health.definitionsLoadError)
    problems.push({
      title: "The definitions failed to load",
      detail:
        "The latest reload failed (see the banner above); the previous definitions are still served until the file loads again.",
    });
  return { daemon, workers, problems };
}

// --- the page as a whole --------------------------------------------------------------------------

export interface AttentionCounts {
  readonly failedRuns: number;
  readonly failedChecks: number;
  readonly overdue: number;
  readonly stale: number;
  readonly healthProblems: number;
}

/** How many things need attention (0: all clear). */
export const attentionTotal = (c: AttentionCounts) =>
  c.failedRuns + c.failedChecks + c.overdue + c.stale + c.healthProblems;

/** The page's one-line verdict, for the live region. */
export function verdict(c: AttentionCounts): string {
  const parts: string[] = [];
  const add = (n: number, one: string, many: string) => {
    if (n > 0) parts.push(`${numberFormat.format(n)} ${n === 1 ? one : many}`);
  };
  add(c.failedRuns, "failed run", "failed runs");
  add(c.failedChecks, "asset with failed checks", "assets with failed checks");
  add(c.overdue, "overdue asset", "overdue assets");
  add(c.stale, "stale asset", "stale assets");
  add(c.healthProblems, "health problem", "health problems");
  return parts.length === 0 ? "All clear: nothing needs attention." : `Needs attention: ${parts.join(", ")}.`;
}

/** An asset's page (`/assets/taxi/raw_trips`), as the catalog links it. */
export const assetHref = (key: string) => `/assets/${key.split("/").map(encodeURIComponent).join("/")}`;
/** The runs list filtered to this page's failed runs (the window start rounded down to the minute). */
export function failedRunsHref(now: number): string {
  const after = new Date(Math.floor((now - FAILED_RUNS_WINDOW_MS) / 60_000) * 60_000).toISOString();
  return `/runs?${new URLSearchParams({ status: "FAILURE", createdAfter: after })}`;
}
export const runHref = (runId: string) => `/runs/${encodeURIComponent(runId)}`;
export const backfillHref = (id: string) => `/backfills/${encodeURIComponent(id)}`;
