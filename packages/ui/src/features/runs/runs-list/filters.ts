/**
 * The runs list's filters, kept in the URL (shareable; back and forward work): parsed from the query
 * string with a message per bad value naming its filter, turned into GET /api/runs parameters, and
 * written back. Pure functions (unit-tested in filters.test.ts).
 */
import type { RunStatus } from "@baton/webserver/api-types";

export const STATUS_ORDER: readonly RunStatus[] = [
  "QUEUED",
  "STARTING",
  "STARTED",
  "SUCCESS",
  "FAILURE",
  "CANCELING",
  "CANCELED",
];

/** The word the UI uses for each status (also accepted in the URL, as are the API's names). */
export const STATUS_WORD: Record<RunStatus, string> = {
  QUEUED: "queued",
  STARTING: "starting",
  STARTED: "running",
  SUCCESS: "succeeded",
  FAILURE: "failed",
  CANCELING: "canceling",
  CANCELED: "canceled",
};

const STATUS_ALIASES: Record<string, RunStatus> = {
  started: "STARTED",
  success: "SUCCESS",
  failure: "FAILURE",
  cancelled: "CANCELED",
  cancelling: "CANCELING",
};
for (const s of STATUS_ORDER) {
  STATUS_ALIASES[s.toLowerCase()] = s;
  STATUS_ALIASES[STATUS_WORD[s]] = s;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1000;

/** The filters, as the URL spells them (`status` as the statuses it names). */
export interface RunsFilters {
  readonly status: readonly RunStatus[];
  readonly asset: string;
  readonly tag: string;
  readonly sensor: string;
  readonly schedule: string;
  readonly backfill: string;
  /** As given: `2024-03-01`, `2024-03-01T14:30` (local time) or ISO 8601 with an offset. */
  readonly createdAfter: string;
  readonly createdBefore: string;
  /** Page size (runs per request). */
  readonly limit: number;
}

export type FilterField = Exclude<keyof RunsFilters, never>;

export const FILTER_LABEL: Record<FilterField, string> = {
  status: "Status",
  asset: "Asset",
  tag: "Tag",
  sensor: "Sensor",
  schedule: "Schedule",
  backfill: "Backfill",
  createdAfter: "Created after",
  createdBefore: "Created before",
  limit: "Page size",
};

export const EMPTY_FILTERS: RunsFilters = {
  status: [],
  asset: "",
  tag: "",
  sensor: "",
  schedule: "",
  backfill: "",
  createdAfter: "",
  createdBefore: "",
  limit: DEFAULT_LIMIT,
};

export interface FilterProblem {
  readonly field: FilterField;
  readonly message: string;
}

export interface ParsedFilters {
  readonly filters: RunsFilters;
  /** Bad values, each naming its filter; the list is not read while there are any. */
  readonly problems: readonly FilterProblem[];
  /** GET /api/runs parameters (without cursor), when there are no problems. */
  readonly query: Readonly<Record<string, string | number>>;
}

/** A date as typed: ms since the epoch, or undefined when it is not a date. */
export function parseDate(text: string): number | undefined {
  const t = text.trim();
  let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  if (m) return localTime(Number(m[1]), Number(m[2]), Number(m[3]), 0, 0, 0);
  m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/.exec(t);
  if (m)
    return localTime(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(t)) {
    const ms = Date.parse(t);
    return Number.isFinite(ms) ? ms : undefined;
  }
  return undefined;
}

function localTime(y: number, mo: number, d: number, h: number, mi: number, s: number) {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const date = new Date(y, mo - 1, d, h, mi, s);
  // 2024-02-31 rolls over to March: not a date.
  if (date.getFullYear() !== y || date.getMonth() !== mo - 1 || date.getDate() !== d) return undefined;
  return date.getTime();
}

const DATE_HINT = "use a date like 2024-03-01 or 2024-03-01T14:30";

/** Read the filters from the query string; every bad value is a problem naming its filter. */
export function parseFilters(params: URLSearchParams): ParsedFilters {
  const problems: FilterProblem[] = [];
  const text = (name: string) => (params.get(name) ?? "").trim();

  const status: RunStatus[] = [];
  for (const part of text("status").split(",")) {
    const word = part.trim();
    if (!word) continue;
    const s = STATUS_ALIASES[word.toLowerCase()];
    if (!s) {
      problems.push({
        field: "status",
        message: `Status: "${word}" is not a run status (${STATUS_ORDER.map((x) => STATUS_WORD[x]).join(", ")}).`,
      });
      continue;
    }
    if (!status.includes(s)) status.push(s);
  }
  status.sort((a, b) => STATUS_ORDER.indexOf(a) - STATUS_ORDER.indexOf(b));

  const dates: Partial<Record<"createdAfter" | "createdBefore", number>> = {};
  for (const field of ["createdAfter", "createdBefore"] as const) {
    const value = text(field);
    if (!value) continue;
    const ms = parseDate(value);
    if (ms === undefined)
      problems.push({ field, message: `${FILTER_LABEL[field]}: "${value}" is not a date (${DATE_HINT}).` });
    else dates[field] = ms;
  }
  if (
    dates.createdAfter !== undefined &&
    dates.createdBefore !== undefined &&
    dates.createdAfter >= dates.createdBefore
  )
    problems.push({
      field: "createdBefore",
      message: "Created before: must be later than Created after (no run can match both).",
    });

  let limit = DEFAULT_LIMIT;
  const limitText = text("limit");
  if (limitText) {
    const n = Number(limitText);
    if (!/^\d+$/.test(limitText) || n < 1 || n > MAX_LIMIT)
      problems.push({
        field: "limit",
        message: `Page size: "${limitText}" is not a whole number from 1 to ${MAX_LIMIT}.`,
      });
    else limit = n;
  }

  const tag = text("tag");
  const sensor = text("sensor");
  const schedule = text("schedule");
  const given = [tag && "Tag", sensor && "Sensor", schedule && "Schedule"].filter(Boolean);
  if (given.length > 1)
    problems.push({
      field: tag ? "tag" : "sensor",
      message: `${given.join(" and ")}: give only one of Tag, Sensor and Schedule (they filter the same run tags).`,
    });
  if (tag.startsWith("="))
    problems.push({ field: "tag", message: `Tag: "${tag}" has no key (use key or key=value).` });

  const filters: RunsFilters = {
    status,
    asset: text("asset"),
    tag,
    sensor,
    schedule,
    backfill: text("backfill"),
    createdAfter: text("createdAfter"),
    createdBefore: text("createdBefore"),
    limit,
  };
  const query: Record<string, string | number> = { limit };
  if (status.length > 0) query.status = status.join(",");
  for (const f of ["asset", "tag", "sensor", "schedule", "backfill"] as const)
    if (filters[f]) query[f] = filters[f];
  if (dates.createdAfter !== undefined) query.createdAfter = new Date(dates.createdAfter).toISOString();
  if (dates.createdBefore !== undefined) query.createdBefore = new Date(dates.createdBefore).toISOString();
  return { filters, problems, query };
}

/** The query string with `change` applied (empty values removed; other parameters kept). */
export function paramsWith(params: URLSearchParams, change: Partial<RunsFilters>): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const [name, value] of Object.entries(change) as [FilterField, RunsFilters[FilterField]][]) {
    if (name === "status") {
      const list = value as readonly RunStatus[];
      if (list.length === 0) next.delete("status");
      else next.set("status", list.map((s) => STATUS_WORD[s]).join(","));
    } else if (name === "limit") {
      if (value === DEFAULT_LIMIT) next.delete("limit");
      else next.set("limit", String(value));
    } else {
      const text = String(value).trim();
      if (text) next.set(name, text);
      else next.delete(name);
    }
  }
  return next;
}

/** Whether any filter (not the page size) narrows the list. */
export function isFiltered(f: RunsFilters): boolean {
  return (
    f.status.length > 0 ||
    Boolean(f.asset || f.tag || f.sensor || f.schedule || f.backfill || f.createdAfter || f.createdBefore)
  );
}

/** Which filter an API 400's `field` names (`query.status`, `query.createdAfter`, …; else undefined). */
export function fieldOfApiError(field: string | undefined): FilterField | undefined {
  if (!field) return undefined;
  const name = field.replace(/^query\./, "").split(/[.[]/)[0]!;
  return Object.hasOwn(FILTER_LABEL, name) ? (name as FilterField) : undefined;
}

/** The API's message without its leading `query.tag: ` (the UI names the filter its own way). */
export function apiMessage(message: string, field: string | undefined): string {
  return field && message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;
}
