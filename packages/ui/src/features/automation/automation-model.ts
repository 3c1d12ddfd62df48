/**
 * Pure helpers of the automation pages: words for tick outcomes, intervals and targets, what
 * "start all" / "stop all" would change, the latest declarative-automation decision per asset, and
 * how an id a tick launched resolves to a run or a backfill.
 */
import { evaluateSelection, parseSelection, type SelectableGraph } from "@baton/core/selection";
import type {
  AssetGraphNode,
  AutomationEvaluation,
  Schedule,
  Sensor,
  Tick,
} from "@baton/webserver/api-types";

export type InstigatorStatus = "RUNNING" | "STOPPED";
export type TickStatus = Tick["status"];
export type Kind = "schedule" | "sensor";

/** Both lists, as the automation page reads them (one query). */
export interface Instigators {
  readonly schedules: readonly Schedule[];
  readonly sensors: readonly Sensor[];
}

/** A tick's outcome in words and the status colour it takes (never colour alone). */
export const TICK_STATUS: Record<TickStatus, { word: string; color: string }> = {
  SUCCESS: { word: "launched", color: "materialized" },
  SKIPPED: { word: "skipped", color: "missing" },
  FAILURE: { word: "failed", color: "failed" },
};

/**
 * "launched", "skipped", "failed" (what it launched, runs or daemon backfills, is listed beside it:
 * one id per launch, and a backfill is one id for many runs).
 */
export function tickWord(tick: { status: TickStatus }): string {
  return TICK_STATUS[tick.status].word;
}

/** "every 30 s", "every 5 min", "every 1 h 30 min", "every 1.5 s". */
export function describeInterval(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return "—";
  if (seconds < 60) return `every ${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
  if (seconds < 600) {
    const m = Math.floor(seconds / 60);
    const rest = Math.round(seconds - m * 60);
    return rest > 0 ? `every ${m} min ${rest} s` : `every ${m} min`;
  }
  const totalMin = Math.round(seconds / 60);
  if (totalMin < 60) return `every ${totalMin} min`;
  const h = Math.floor(totalMin / 60);
  const m = totalMin % 60;
  return m === 0 ? `every ${h} h` : `every ${h} h ${m} min`;
}

/** What a schedule or sensor launches: "job monthly", "selection taxi/raw_trips*", or "—". */
export function describeTarget(target: { job?: string | undefined; selection?: string | undefined }): string {
  if (target.job) return `job ${target.job}`;
  if (target.selection) return `selection ${target.selection}`;
  return "—";
}

/** Sensor types in words ("file", "run status", "custom" …). */
export function sensorTypeWord(type: string): string {
  return type.replace(/[_-]+/g, " ").toLowerCase();
}

/** The names start-all (RUNNING) or stop-all (STOPPED) would switch, optionally of one kind. */
export function namesToSwitch(all: Instigators | undefined, to: InstigatorStatus, kind?: Kind): string[] {
  if (!all) return [];
  return [...(kind === "sensor" ? [] : all.schedules), ...(kind === "schedule" ? [] : all.sensors)]
    .filter((x) => x.status !== to)
    .map((x) => x.name);
}

/** "1 schedule or sensor", "3 schedules and sensors". */
export function countWords(n: number): string {
  return n === 1 ? "1 schedule or sensor" : `${n.toLocaleString("en")} schedules and sensors`;
}

/** The lists with one instigator's status replaced (the optimistic toggle). */
export function withStatus(all: Instigators, name: string, status: InstigatorStatus): Instigators {
  const set = <T extends Schedule | Sensor>(x: T): T => (x.name === name ? { ...x, status } : x);
  return { schedules: all.schedules.map(set), sensors: all.sensors.map(set) };
}

/** The lists with several names switched (start all / stop all, optimistically). */
export function withStatuses(
  all: Instigators,
  names: readonly string[],
  status: InstigatorStatus,
): Instigators {
  const which = new Set(names);
  const set = <T extends Schedule | Sensor>(x: T): T => (which.has(x.name) ? { ...x, status } : x);
  return { schedules: all.schedules.map(set), sensors: all.sensors.map(set) };
}

/** The newest decision of each asset (the API answers newest first), newest first. */
export function latestDecisions(evaluations: readonly AutomationEvaluation[]): AutomationEvaluation[] {
  const seen = new Set<string>();
  const out: AutomationEvaluation[] = [];
  for (const e of evaluations) {
    if (seen.has(e.assetKey)) continue;
    seen.add(e.assetKey);
    out.push(e);
  }
  return out.sort((a, b) => b.timestamp - a.timestamp || a.assetKey.localeCompare(b.assetKey));
}

/** The newest decision that launched a run, per asset (shown beside a later "not launched"). */
export function lastLaunches(
  evaluations: readonly AutomationEvaluation[],
): Map<string, AutomationEvaluation> {
  const out = new Map<string, AutomationEvaluation>();
  for (const e of evaluations) if (e.launched && !out.has(e.assetKey)) out.set(e.assetKey, e);
  return out;
}

/** Decisions whose asset key contains the text (case-insensitive); all when the text is empty. */
export function filterDecisions(
  decisions: readonly AutomationEvaluation[],
  text: string,
): AutomationEvaluation[] {
  const t = text.trim().toLowerCase();
  if (!t) return [...decisions];
  return decisions.filter((d) => d.assetKey.toLowerCase().includes(t));
}

/** "eager", "on cron 0 6 * * * (UTC)" from the stored `eager` / `on_cron(0 6 * * *, UTC)`. */
export function describeCondition(condition: string): string {
  const m = /^on_cron\((.*),\s*([^,]+)\)$/.exec(condition);
  if (m) return `on cron ${m[1]!.trim()} (${m[2]!.trim()})`;
  return condition.replace(/_/g, " ");
}

/** What one id a tick launched is: a run, or a backfill (with its runs), from the launcher's runs. */
export type Launched =
  | { readonly kind: "run"; readonly id: string }
  | { readonly kind: "backfill"; readonly id: string; readonly runIds: readonly string[] }
  | { readonly kind: "unknown"; readonly id: string };

/**
 * Resolve ids from the runs a sensor or schedule launched (GET /api/runs?sensor=NAME): a run id is a
 * run; an id that runs name as their backfill is a backfill; a `bf-` id (a keyed daemon backfill)
 * is a backfill whose runs have not started yet; anything else is unknown (looked up one by one).
 */
export function resolveLaunched(
  ids: readonly string[],
  runs: readonly { runId: string; backfillId: string | null }[],
): Launched[] {
  const runIds = new Set(runs.map((r) => r.runId));
  const byBackfill = new Map<string, string[]>();
  for (const r of runs)
    if (r.backfillId) {
      const list = byBackfill.get(r.backfillId) ?? [];
      list.push(r.runId);
      byBackfill.set(r.backfillId, list);
    }
  return ids.map((id): Launched => {
    if (runIds.has(id)) return { kind: "run", id };
    const children = byBackfill.get(id);
    if (children) return { kind: "backfill", id, runIds: children };
    if (id.startsWith("bf-")) return { kind: "backfill", id, runIds: [] };
    return { kind: "unknown", id };
  });
}

/** A schedule's or sensor's name from the URL: a readable message when it cannot be one. */
export function nameProblem(name: string): string | null {
  if (name.trim() === "") return "The address names no schedule or sensor.";
  if (name.length > 200) return `That name is ${name.length} characters long; names are at most 200.`;
  return null;
}

/**
 * The assets a target selects (a job's selection, or the selection itself) in topological order;
 * an error message when the selection does not parse or names unknown assets.
 */
export function targetAssets(
  assets: readonly AssetGraphNode[],
  selection: string,
): { keys: string[]; error: string | null } {
  const byKey = new Map(assets.map((a) => [a.key, a]));
  const children = new Map<string, string[]>();
  for (const a of assets)
    for (const d of a.deps) {
      const list = children.get(d) ?? [];
      list.push(a.key);
      children.set(d, list);
    }
  const graph: SelectableGraph = {
    keys: assets.map((a) => a.key),
    asset: (key) => byKey.get(key),
    parents: (key) => byKey.get(key)?.deps ?? [],
    children: (key) => children.get(key) ?? [],
  };
  try {
    const set = evaluateSelection(parseSelection(selection), graph, selection);
    return { keys: assets.filter((a) => set.has(a.key)).map((a) => a.key), error: null };
  } catch (error) {
    return { keys: [], error: (error as Error).message };
  }
}
