/**
 * The log viewer's data, kept out of React: every run event becomes one `LogLine` (plain objects in
 * one array, lowercased text and level number computed once), a `LogStore` keeps them in event-id
 * order without duplicates, and a `LogView` is the filtered list (positions into the store) with its
 * search matches and errors, extended in place as lines arrive.
 */
import type { MetadataValue, RunEvent, SerializedError } from "@baton/webserver/api-types";
import { formatDuration } from "../run-format";
import { errorFrames, framesText } from "../stack-frames";

export const LEVELS = ["debug", "info", "warn", "error"] as const;
export type LevelName = (typeof LEVELS)[number];
export const DEBUG = 0;
export const INFO = 1;
export const WARN = 2;
export const ERROR = 3;

export const LEVEL_WORDS = ["DEBUG", "INFO", "WARN", "ERROR"] as const;

export type LineSource = "event" | "logger" | "stdout" | "stderr";

/** One row of the log viewer. */
export interface LogLine {
  /** The event's log id (ascending). */
  readonly id: number;
  readonly ts: number;
  /** 0 debug, 1 info, 2 warn, 3 error. */
  readonly level: number;
  readonly step: string | null;
  readonly source: LineSource;
  /** The event type (`log`, `step_started`, …). */
  readonly type: string;
  readonly message: string;
  /** `message` lowercased, for search. */
  readonly lower: string;
  /** Stack traces and causes of an error, shown when the row is expanded (and in downloads). */
  readonly detail: string | null;
  /** The error of an error line, for its frames (the user's first) when the row is expanded. */
  readonly error: SerializedError | null;
}

export const levelOf = (name: string): number => {
  const i = LEVELS.indexOf(name as LevelName);
  return i < 0 ? INFO : i;
};

const nf = new Intl.NumberFormat("en");
const plural = (n: number, one: string, many = `${one}s`) => `${nf.format(n)} ${n === 1 ? one : many}`;

/** "Error: message" of an error (its name left out when it is the plain `Error`). */
export function errorText(error: SerializedError): string {
  const name = error.name && error.name !== "Error" ? `${error.name}: ` : "";
  const code = error.code ? ` [${error.code}]` : "";
  return `${name}${error.message}${code}`;
}

/** An error's stack and its causes, one after the other ("Caused by: …"), or null if it has neither. */
export function errorDetail(error: SerializedError | undefined): string | null {
  if (!error) return null;
  const frames = errorFrames(error);
  if (frames) {
    // The causes' messages, then the frames: the user's first, the internal ones after.
    const causes: string[] = [];
    for (let e = error.cause, depth = 1; e && depth < 10; e = e.cause, depth++)
      causes.push(`Caused by: ${errorText(e)}`);
    const text = [...causes, framesText(frames)].filter((t) => t !== "").join("\n");
    return text === "" ? null : text;
  }
  const parts: string[] = [];
  let e: SerializedError | undefined = error;
  let depth = 0;
  while (e && depth < 10) {
    const head = depth === 0 ? "" : `Caused by: ${errorText(e)}\n`;
    const stack = e.stack
      ? e.stack
          .split("\n")
          // a stack starts with "Name: message", already shown
          .filter((l, i) => !(i === 0 && !/^\s+at /.test(l)))
          .join("\n")
      : "";
    if (depth > 0 || stack) parts.push(head + stack);
    e = e.cause;
    depth++;
  }
  const text = parts.join("\n").replace(/\n+$/, "");
  return text.trim() === "" ? null : text;
}

function metadataValue(v: MetadataValue): string {
  switch (v.type) {
    case "number":
    case "row_count":
      return nf.format(v.value);
    case "duration_ms":
      return formatDuration(v.value);
    case "bool":
      return v.value ? "true" : "false";
    case "table_schema":
      return plural(v.value.length, "column");
    case "json": {
      const s = JSON.stringify(v.value) ?? "null";
      return s.length > 60 ? `${s.slice(0, 57)}…` : s;
    }
    default:
      return String(v.value);
  }
}

/** "rows 1,234 · size 12 MB": a materialization's or check's metadata, row count first, at most 4. */
export function describeMetadata(metadata: Record<string, MetadataValue> | undefined): string {
  if (!metadata) return "";
  const entries = Object.entries(metadata);
  entries.sort(([, a], [, b]) => (a.type === "row_count" ? 0 : 1) - (b.type === "row_count" ? 0 : 1));
  const shown = entries
    .slice(0, 4)
    .map(([k, v]) => `${v.type === "row_count" ? "rows" : k} ${metadataValue(v)}`);
  if (entries.length > 4) shown.push(`+${entries.length - 4} more`);
  return shown.join(" · ");
}

const joined = (...parts: (string | false | undefined | null)[]) => parts.filter(Boolean).join(" · ");

/** An event as a row: its level, step and readable message. */
export function toLine(e: RunEvent): LogLine {
  let level = INFO;
  let step: string | null = "stepKey" in e && typeof e.stepKey === "string" ? e.stepKey : null;
  let source: LineSource = "event";
  let message: string;
  let detail: string | null = null;
  switch (e.type) {
    case "log":
      level = levelOf(e.level);
      source = e.source;
      step = e.stepKey ?? null;
      message = e.message;
      if (e.fields && Object.keys(e.fields).length > 0) {
        let fields = "";
        try {
          fields = JSON.stringify(e.fields);
        } catch {
          fields = "";
        }
        if (fields) message = `${message} ${fields.length > 500 ? `${fields.slice(0, 499)}…` : fields}`;
      }
      break;
    case "run_started":
      message = `run started · ${plural(e.steps.length, "step")}`;
      break;
    case "run_succeeded":
      message = "run succeeded";
      break;
    case "run_failed":
      level = ERROR;
      message = `run failed: ${e.reason}${e.error ? ` — ${errorText(e.error)}` : ""}`;
      detail = errorDetail(e.error);
      break;
    case "run_canceled":
      level = WARN;
      message = `run canceled: ${e.reason}`;
      break;
    case "step_started":
      message = e.attempt > 1 ? `step started (attempt ${e.attempt})` : "step started";
      break;
    case "step_succeeded":
      message = `succeeded in ${formatDuration(e.durationMs)}`;
      break;
    case "step_failed":
      level = ERROR;
      message = `failed after ${formatDuration(e.durationMs)}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ""}: ${errorText(e.error)}`;
      detail = errorDetail(e.error);
      break;
    case "step_retrying":
      level = WARN;
      message = `attempt ${e.attempt} failed, retrying in ${formatDuration(e.delayMs)}: ${errorText(e.error)}`;
      detail = errorDetail(e.error);
      break;
    case "step_skipped":
      level = WARN;
      message = `skipped: ${e.reason}`;
      break;
    case "step_canceled":
      level = WARN;
      message = `canceled: ${e.reason}`;
      break;
    case "materialization":
      message = joined(
        `materialized ${e.assetKey}`,
        e.partition !== undefined && `partition ${e.partition}`,
        describeMetadata(e.metadata),
      );
      break;
    case "check_evaluation": {
      const how = e.passed
        ? "passed"
        : e.blocking
          ? "failed (blocking)"
          : `failed (${e.severity.toLowerCase()})`;
      level = e.passed ? INFO : e.blocking || e.severity === "ERROR" ? ERROR : WARN;
      message = joined(
        `check ${e.checkName} ${how}`,
        e.partition !== undefined && `partition ${e.partition}`,
        e.description,
        describeMetadata(e.metadata),
      );
      break;
    }
    case "op_started":
      level = DEBUG;
      message = `op ${e.op} started`;
      break;
    case "op_succeeded":
      level = DEBUG;
      message = `op ${e.op} succeeded in ${formatDuration(e.durationMs)}`;
      break;
    case "op_failed":
      level = ERROR;
      message = `op ${e.op} failed after ${formatDuration(e.durationMs)}: ${errorText(e.error)}`;
      detail = errorDetail(e.error);
      break;
    default: {
      // a type this UI does not know yet: its body as JSON
      const { id: _id, runId: _r, timestamp: _t, type, ...rest } = e as RunEvent & Record<string, unknown>;
      message = `${String(type).replace(/_/g, " ")} ${JSON.stringify(rest)}`;
    }
  }
  return {
    id: e.id,
    ts: e.timestamp,
    level,
    step,
    source,
    type: e.type,
    message,
    lower: message.toLowerCase(),
    detail,
    error: "error" in e && e.error && typeof e.error === "object" ? (e.error as SerializedError) : null,
  };
}

/**
 * A run's lines in event-id order, each event once. Events normally come in ascending order (pages,
 * then the live stream) and are appended; a repeat is dropped; an older one not seen yet is put in
 * its place (and `reorders` counts it, so views rebuild instead of extending).
 */
export class LogStore {
  readonly lines: LogLine[] = [];
  readonly steps = new Set<string>();
  /** Bumped whenever a line went anywhere but the end (views built before it are stale). */
  reorders = 0;
  private readonly seen = new Set<number>();

  get lastId(): number {
    return this.lines.length > 0 ? this.lines[this.lines.length - 1]!.id : 0;
  }

  /** Add events; returns how many were new. */
  add(events: readonly RunEvent[]): number {
    let added = 0;
    for (const e of events) {
      if (typeof e?.id !== "number" || this.seen.has(e.id)) continue;
      this.seen.add(e.id);
      const line = toLine(e);
      if (line.step !== null) this.steps.add(line.step);
      const last = this.lines[this.lines.length - 1];
      if (!last || last.id < line.id) this.lines.push(line);
      else {
        this.lines.splice(
          lowerBound(this.lines.length, (i) => this.lines[i]!.id < line.id),
          0,
          line,
        );
        this.reorders++;
      }
      added++;
    }
    return added;
  }

  /** The index of the line with this id, or -1. */
  indexOf(id: number): number {
    const i = lowerBound(this.lines.length, (k) => this.lines[k]!.id < id);
    return this.lines[i]?.id === id ? i : -1;
  }
}

/** The first index in [0, n) for which `before(i)` is false (`before` true then false). */
export function lowerBound(n: number, before: (i: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface LogFilter {
  /** Lines below this level are hidden. */
  readonly minLevel: number;
  /** Only this step's lines (null: all). */
  readonly step: string | null;
  /** Search text (matched case-insensitively; "" for none). */
  readonly query: string;
  /** Hide the lines that do not match the search. */
  readonly onlyMatches: boolean;
}

/** The visible list: `rows` are indices into the store's lines; `matches`/`errors` are positions in `rows`. */
export interface LogView {
  readonly store: LogStore;
  readonly filter: LogFilter;
  readonly rows: number[];
  readonly matches: number[];
  readonly errors: number[];
  /** Store lines looked at so far, and the store's `reorders` when built. */
  scanned: number;
  readonly reorders: number;
}

/** Only the filter's own fields, normalized (the query lowercased). */
export function normalizeFilter(f: LogFilter): LogFilter {
  return {
    minLevel: f.minLevel,
    step: f.step,
    query: f.query.trim().toLowerCase(),
    onlyMatches: f.onlyMatches,
  };
}

export const sameFilter = (a: LogFilter, b: LogFilter) =>
  a.minLevel === b.minLevel && a.step === b.step && a.query === b.query && a.onlyMatches === b.onlyMatches;

/**
 * The view of `store` under `filter`: extends `previous` with the lines added since when it was
 * built with the same filter and nothing was reordered (appending 16 lines to 100,000 costs 16 tests),
 * else builds it over every line.
 */
export function viewOf(store: LogStore, filter: LogFilter, previous?: LogView): LogView {
  const f = normalizeFilter(filter);
  const reuse =
    previous &&
    previous.store === store &&
    previous.reorders === store.reorders &&
    sameFilter(previous.filter, f);
  const view: LogView = reuse
    ? previous
    : { store, filter: f, rows: [], matches: [], errors: [], scanned: 0, reorders: store.reorders };
  const { lines } = store;
  const { minLevel, step, query, onlyMatches } = f;
  const { rows, matches, errors } = view;
  for (let i = view.scanned; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.level < minLevel) continue;
    if (step !== null && line.step !== step) continue;
    const match = query !== "" && line.lower.includes(query);
    if (onlyMatches && query !== "" && !match) continue;
    if (match) matches.push(rows.length);
    if (line.level === ERROR) errors.push(rows.length);
    rows.push(i);
  }
  view.scanned = lines.length;
  return view;
}

/**
 * The next (`dir` 1) or previous (-1) position among sorted `positions` after/before `from`,
 * wrapping around; -1 when there is none. `from` -1 means "before the first row".
 */
export function nextPosition(positions: readonly number[], from: number, dir: 1 | -1): number {
  if (positions.length === 0) return -1;
  if (dir === 1) {
    const i = lowerBound(positions.length, (k) => positions[k]! <= from);
    return positions[i < positions.length ? i : 0]!;
  }
  const i = lowerBound(positions.length, (k) => positions[k]! < from) - 1;
  return positions[i >= 0 ? i : positions.length - 1]!;
}

/** Which of `positions` `pos` is (1-based), or 0 if it is none of them. */
export function ordinalOf(positions: readonly number[], pos: number): number {
  const i = lowerBound(positions.length, (k) => positions[k]! < pos);
  return positions[i] === pos ? i + 1 : 0;
}

/** The row position showing store line `lineIndex`, or the nearest row after it if it is filtered out. */
export function positionOfLine(view: LogView, lineIndex: number): number {
  return lowerBound(view.rows.length, (k) => view.rows[k]! < lineIndex);
}

/** [start, end) ranges of `query` (already lowercased) in `lower`, for highlighting. */
export function matchRanges(lower: string, query: string): [number, number][] {
  const out: [number, number][] = [];
  if (query === "") return out;
  let at = lower.indexOf(query);
  while (at >= 0 && out.length < 100) {
    out.push([at, at + query.length]);
    at = lower.indexOf(query, at + query.length);
  }
  return out;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** "14:03:07.042" in local time. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** "2026-12-05 14:03:07.042 (UTC+01:00)": the exact local time, for a tooltip. */
export function exactClock(ms: number): string {
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  const zone = `UTC${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clockTime(ms)} (${zone})`;
}

/** One line of the downloaded file: ISO time, level, step, source, message; the detail indented below. */
export function lineText(line: LogLine): string {
  const source = line.source === "stdout" || line.source === "stderr" ? ` [${line.source}]` : "";
  const head = `${new Date(line.ts).toISOString()} ${LEVEL_WORDS[line.level]!.padEnd(5)} ${line.step ?? "-"}${source} ${line.message}`;
  if (!line.detail) return head;
  return `${head}\n${line.detail
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n")}`;
}

/** The text of a .log file of these lines (of `store`, by index). */
export function logFileText(lines: readonly LogLine[], rows?: readonly number[]): string {
  const out: string[] = [];
  if (rows) for (const i of rows) out.push(lineText(lines[i]!));
  else for (const line of lines) out.push(lineText(line));
  return out.length > 0 ? `${out.join("\n")}\n` : "";
}
