/**
 * A partitions definition in words: "monthly from 2019-01 to 2021-07 × taxi: yellow, green".
 * Time bounds come from the real first/last keys when the caller knows them (the /partitions
 * answer), else from the spec's instants formatted with its key format in its time zone.
 */
import type { PartitionsSpec } from "@baton/webserver/api-types";

type Single = Exclude<PartitionsSpec, { kind: "multi" }>;
type TimeSpec = Extract<PartitionsSpec, { kind: "time" }>;

export interface KeyBounds {
  readonly first: string;
  readonly last: string;
}

const UNIT_WORDS = { hour: "hourly", day: "daily", week: "weekly", month: "monthly" } as const;
const MAX_LISTED = 8;

/** Wall-clock fields of an instant in a time zone. */
function wallFields(ms: number, timeZone: string) {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    }).formatToParts(ms);
  } catch {
    return null;
  }
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  return { YYYY: get("year"), MM: get("month"), DD: get("day"), HH: get("hour"), mm: get("minute") };
}

/** Format an instant with a key format (tokens YYYY MM DD HH mm; other characters literal). */
export function formatWithKeyFormat(iso: string, format: string, timeZone: string): string {
  const ms = Date.parse(iso);
  const f = Number.isNaN(ms) ? null : wallFields(ms, timeZone);
  if (!f) return iso;
  return format.replace(/YYYY|MM|DD|HH|mm/g, (t) => f[t as keyof typeof f]);
}

function timeWords(spec: TimeSpec, bounds?: KeyBounds): string {
  const cadence = spec.unit ? UNIT_WORDS[spec.unit] : `on cron “${spec.cron ?? "?"}”`;
  const tz = spec.timezone && spec.timezone !== "UTC" ? ` (${spec.timezone})` : "";
  const first = bounds?.first ?? formatWithKeyFormat(spec.start, spec.format, spec.timezone);
  let until: string;
  if (bounds) until = ` to ${bounds.last}`;
  else if (spec.end) until = ` until ${formatWithKeyFormat(spec.end, spec.format, spec.timezone)} (excluded)`;
  else until = " up to now";
  const ongoing = !spec.end ? (bounds ? ", growing with time" : "") : "";
  return `${cadence} from ${first}${until}${ongoing}${tz}`;
}

function listKeys(keys: readonly string[]): string {
  if (keys.length <= MAX_LISTED) return keys.join(", ");
  return `${keys.slice(0, MAX_LISTED - 2).join(", ")}, … ${keys.at(-1)} (${keys.length} keys)`;
}

function singleWords(spec: Single, bounds?: KeyBounds): string {
  switch (spec.kind) {
    case "static":
      return spec.keys.length === 0 ? "no keys" : listKeys(spec.keys);
    case "dynamic":
      return `dynamic “${spec.name}” (keys added at run time)`;
    case "time":
      return timeWords(spec, bounds);
  }
}

/**
 * `bounds`: for a single dimension, its first and last key; for multi, per dimension name.
 */
export function partitionsInWords(
  spec: PartitionsSpec,
  bounds?: KeyBounds | Readonly<Record<string, KeyBounds | undefined>>,
): string {
  if (spec.kind !== "multi")
    return singleWords(spec, bounds && "first" in bounds ? (bounds as KeyBounds) : undefined);
  const byName = bounds && !("first" in bounds) ? (bounds as Record<string, KeyBounds | undefined>) : {};
  return spec.dimensions
    .map((d) => {
      const words = singleWords(d.spec as Single, byName[d.name]);
      return d.spec.kind === "time" ? words : `${d.name}: ${words}`;
    })
    .join(" × ");
}
