/**
 * Time zone arithmetic on top of `Intl.DateTimeFormat` (no date library): the local wall-clock
 * parts of an instant in an IANA zone, and the instant(s) of a local wall-clock time, handling DST
 * gaps (a local time that does not exist) and overlaps (a local time that happens twice).
 *
 * "Local ms" below is a wall-clock time encoded as if it were UTC: the epoch ms of the same
 * Y-M-D h:m:s in UTC. `instant + offset = local ms`.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** The largest |epoch ms| a Date can hold. */
export const MAX_INSTANT = 8.64e15;

export interface CivilDate {
  readonly year: number;
  /** 1-12. */
  readonly month: number;
  /** 1-31. */
  readonly day: number;
}

export interface LocalDateTime extends CivilDate {
  readonly hour?: number | undefined;
  readonly minute?: number | undefined;
  readonly second?: number | undefined;
}

export interface ZonedParts extends CivilDate {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** UTC offset in minutes (east positive); fractional for historical local-mean-time offsets. */
  readonly offsetMinutes: number;
}

/** How a local wall-clock time maps to instants in a zone. */
export type LocalResolution =
  | { readonly kind: "unique"; readonly instant: number }
  /** The local time happens twice (clocks turned back): `earlier` < `later`. */
  | { readonly kind: "overlap"; readonly earlier: number; readonly later: number }
  /**
   * The local time does not exist (clocks jumped forward). `transition` is the first valid instant
   * after it (the moment the clocks jumped); `shifted` reads the local time with the offset in force
   * before the jump (02:30 in a 02:00→03:00 gap becomes 03:30), like cron schedulers do.
   */
  | { readonly kind: "gap"; readonly transition: number; readonly shifted: number };

// ---- civil calendar arithmetic (proleptic Gregorian, pure integers) ----

/** Days since 1970-01-01 of a civil date (valid for any year, unlike `Date.UTC` for years < 100). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(days: number): CivilDate {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** 0 = Sunday … 6 = Saturday. */
export function weekdayFromDays(days: number): number {
  return mod(days + 4, 7);
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

export function isValidLocalDateTime(t: LocalDateTime): boolean {
  const { year, month, day, hour = 0, minute = 0, second = 0 } = t;
  return (
    Number.isInteger(year) &&
    Number.isInteger(month) &&
    month >= 1 &&
    month <= 12 &&
    Number.isInteger(day) &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    Number.isInteger(hour) &&
    hour >= 0 &&
    hour <= 23 &&
    Number.isInteger(minute) &&
    minute >= 0 &&
    minute <= 59 &&
    Number.isInteger(second) &&
    second >= 0 &&
    second <= 59
  );
}

/** The wall-clock time encoded as local ms (see the module comment). */
export function localMs(t: LocalDateTime): number {
  return (
    daysFromCivil(t.year, t.month, t.day) * DAY_MS +
    (t.hour ?? 0) * HOUR_MS +
    (t.minute ?? 0) * MINUTE_MS +
    (t.second ?? 0) * 1000
  );
}

/** Inverse of `localMs` (milliseconds below a second are dropped). */
export function localFromMs(ms: number): Required<LocalDateTime> {
  const days = Math.floor(ms / DAY_MS);
  const { year, month, day } = civilFromDays(days);
  const rest = ms - days * DAY_MS;
  return {
    year,
    month,
    day,
    hour: Math.floor(rest / HOUR_MS),
    minute: Math.floor((rest % HOUR_MS) / MINUTE_MS),
    second: Math.floor((rest % MINUTE_MS) / 1000),
  };
}

export function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

// ---- zones ----

const formatters = new Map<string, Intl.DateTimeFormat>();
const canonicalNames = new Map<string, string | null>();

function formatterFor(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      era: "short",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(tz, f);
  }
  return f;
}

/** The zone's canonical IANA id as the runtime knows it (`US/Eastern` → `America/New_York`), or undefined. */
export function canonicalTimeZone(tz: string): string | undefined {
  const cached = canonicalNames.get(tz);
  if (cached !== undefined) return cached ?? undefined;
  let name: string | null = null;
  if (typeof tz === "string" && tz.trim() !== "") {
    try {
      name = new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone;
    } catch {
      name = null;
    }
  }
  canonicalNames.set(tz, name);
  return name ?? undefined;
}

export function isValidTimeZone(tz: string): boolean {
  return canonicalTimeZone(tz) !== undefined;
}

function isUtc(tz: string): boolean {
  return tz === "UTC" || tz === "Etc/UTC" || tz === "Etc/GMT" || tz === "GMT";
}

// "11/3/2024 AD, 01:00:00"
const FORMATTED = /^(\d+)\/(\d+)\/(\d+) (AD|BC), (\d+):(\d+):(\d+)$/;

/** Local ms of the wall-clock time at the whole second `secondMs` (a multiple of 1000). */
function wallAtSecond(secondMs: number, tz: string): number {
  if (isUtc(tz)) return secondMs;
  const f = formatterFor(tz);
  const text = f.format(secondMs);
  const m = FORMATTED.exec(text);
  let year: number;
  let month: number;
  let day: number;
  let hour: number;
  let minute: number;
  let second: number;
  let bc: boolean;
  if (m !== null) {
    month = Number(m[1]);
    day = Number(m[2]);
    year = Number(m[3]);
    bc = m[4] === "BC";
    hour = Number(m[5]);
    minute = Number(m[6]);
    second = Number(m[7]);
  } else {
    // Unexpected ICU output: fall back to the structured (slower) API.
    const parts: Record<string, string> = {};
    for (const p of f.formatToParts(secondMs)) parts[p.type] = p.value;
    year = Number(parts.year);
    month = Number(parts.month);
    day = Number(parts.day);
    hour = Number(parts.hour) % 24;
    minute = Number(parts.minute);
    second = Number(parts.second);
    bc = parts.era === "BC" || parts.era === "B";
  }
  if (bc) year = 1 - year;
  return daysFromCivil(year, month, day) * DAY_MS + hour * HOUR_MS + minute * MINUTE_MS + second * 1000;
}

/** UTC offset in ms of `tz` at the instant (`local ms = instant + offset`). */
export function offsetAt(epochMs: number, tz: string): number {
  if (isUtc(tz)) return 0;
  // Probes a day either side of the representable range read the offset at its edge.
  const secondMs = Math.floor(Math.min(MAX_INSTANT, Math.max(-MAX_INSTANT, epochMs)) / 1000) * 1000;
  return wallAtSecond(secondMs, tz) - secondMs;
}

/** Local ms of the instant in `tz`. */
export function toLocalMs(epochMs: number, tz: string): number {
  return epochMs + offsetAt(epochMs, tz);
}

export function zonedParts(epochMs: number, tz: string): ZonedParts {
  const offset = offsetAt(epochMs, tz);
  const local = localFromMs(epochMs + offset);
  return { ...local, offsetMinutes: offset / MINUTE_MS };
}

/**
 * The instant(s) of a local wall-clock time (a `LocalDateTime` or local ms) in `tz`. Assumes at
 * most one offset transition within a day of it, which holds for every real zone.
 */
export function resolveLocal(local: LocalDateTime | number, tz: string): LocalResolution {
  const wall = typeof local === "number" ? local : localMs(local);
  if (isUtc(tz)) return { kind: "unique", instant: wall };
  const before = offsetAt(wall - DAY_MS, tz);
  const after = offsetAt(wall + DAY_MS, tz);
  const found: number[] = [];
  const tryOffset = (o: number): void => {
    const t = wall - o;
    if (!found.includes(t) && toLocalMs(t, tz) === wall) found.push(t);
  };
  tryOffset(before);
  if (after !== before) tryOffset(after);
  if (found.length === 0) {
    // Offsets within the day differ from both ends (two transitions): try the offset nearby.
    tryOffset(offsetAt(wall - before, tz));
    tryOffset(offsetAt(wall - after, tz));
  }
  found.sort((a, b) => a - b);
  const [first, second] = found;
  if (first !== undefined && second !== undefined) return { kind: "overlap", earlier: first, later: second };
  if (first !== undefined) return { kind: "unique", instant: first };
  // A gap: the offset increased from `lo` to `hi` at an instant in (wall - hi, wall - lo].
  const lo = Math.min(before, after);
  const hi = Math.max(before, after);
  return { kind: "gap", transition: findTransition(wall - hi, wall - lo, tz), shifted: wall - lo };
}

/** The first whole second in (from, to] whose offset differs from the offset at `from`. */
function findTransition(from: number, to: number, tz: string): number {
  const base = offsetAt(from, tz);
  let lo = Math.floor(from / 1000); // offset at lo*1000 is `base`
  let hi = Math.ceil(to / 1000); // offset at hi*1000 differs (or hi is the end)
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(mid * 1000, tz) === base) lo = mid;
    else hi = mid;
  }
  return hi * 1000;
}

/**
 * The instant of a local wall-clock time in `tz`. A time that happens twice resolves to its
 * `earlier` (default) or `later` occurrence; a time that does not exist resolves to the first
 * valid instant after it (the moment the clocks jumped forward).
 */
export function zonedToEpoch(
  local: LocalDateTime | number,
  tz: string,
  disambiguation: "earlier" | "later" = "earlier",
): number {
  const r = resolveLocal(local, tz);
  if (r.kind === "unique") return r.instant;
  if (r.kind === "overlap") return disambiguation === "earlier" ? r.earlier : r.later;
  return r.transition;
}

/** `+05:30`, `-05:00`, `+00:00` (seconds of historical offsets are dropped). */
export function formatOffset(offsetMs: number): string {
  const sign = offsetMs < 0 ? "-" : "+";
  const total = Math.floor(Math.abs(offsetMs) / MINUTE_MS);
  return `${sign}${pad2(Math.floor(total / 60))}:${pad2(total % 60)}`;
}

export function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
