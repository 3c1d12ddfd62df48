/**
 * Time-window partitions: hourly, daily, weekly, monthly and general-cron windows in an IANA time
 * zone, DST-correct and lazy. Fixed units answer count / keyAt / indexOf / indexContaining with O(1)
 * arithmetic (a 1,000,000-hour definition never allocates its key list); a general cron iterates
 * its ticks once into a cache grown on demand.
 *
 * - Hourly windows are real-time hours (exactly 3,600,000 ms) on a grid anchored at the first
 *   boundary (local :00 + minuteOffset at `start`). A skipped local hour has no key; the second
 *   occurrence of a repeated local hour gets its UTC offset appended: `2024-11-03-01:00-05:00`.
 *   (Where the offset moves by a non-whole hour, as in Australia/Lord_Howe's 30-minute DST, the
 *   grid stays real-time, so those local times read :30 for part of the year.)
 * - Daily / weekly / monthly windows are local calendar units: each starts at its local date's
 *   midnight (+hourOffset), converted with the zone's offset at that time (a midnight that does not
 *   exist resolves to the first valid instant after it; a repeated one to its first occurrence), so
 *   a daily window on a DST day lasts 23 or 25 hours. Their keys are the nominal local boundary.
 * - A general cron's windows are [tick i, tick i+1), keyed by the local time of tick i.
 */
import { CronExpressionParser } from "cron-parser";
import type {
  PartitionsContext,
  TimeUnit,
  TimeWindow,
  TimeWindowKeySpace,
  TimeWindowPartitionsDefinition,
} from "./partitions.js";
import { checkIndex, PARTITIONS_BRAND, rangeKeys } from "./partitions.js";
import {
  type CivilDate,
  canonicalTimeZone,
  civilFromDays,
  DAY_MS,
  daysFromCivil,
  daysInMonth,
  formatOffset,
  HOUR_MS,
  isValidLocalDateTime,
  type LocalDateTime,
  localFromMs,
  localMs,
  MINUTE_MS,
  mod,
  offsetAt,
  pad2,
  resolveLocal,
  toLocalMs,
  weekdayFromDays,
  zonedToEpoch,
} from "./zoned-time.js";

export interface TimeWindowOptions {
  /**
   * The first window starts at the first boundary at or after this. A string is a local time in
   * `timezone` ("2019-01-01", "2019-01", "2024-03-01T05:00", optionally with seconds) unless it ends
   * in `Z` or an offset ("2024-03-01T05:00Z", "2024-03-01T05:00+01:00").
   */
  readonly start: string | Date;
  /**
   * Exclusive bound: only windows ending at or before it (same forms as `start`). Without it the
   * windows run up to the clock (`ctx.now`) plus `endOffset`; with it `now` and `endOffset` play no part.
   */
  readonly end?: string | Date | undefined;
  /** IANA time zone name; default "UTC". */
  readonly timezone?: string | undefined;
  /**
   * Key format: tokens YYYY MM DD HH mm, anything else literal; other runs of two or more of the
   * letters Y M D H h m s (YY, ss, hh, MMM) are rejected as unsupported tokens.
   */
  readonly format?: string | undefined;
  /** Extra windows after the last complete one (1 = include the window in progress; may be negative). */
  readonly endOffset?: number | undefined;
}

/** Hourly windows; default format "YYYY-MM-DD-HH:mm". `minuteOffset` (0-59) moves the boundary. */
export function hourlyPartitions(
  options: TimeWindowOptions & { readonly minuteOffset?: number | undefined },
): TimeWindowPartitionsDefinition<"hour"> {
  const where = "hourlyPartitions";
  const common = validateCommon(where, options, "YYYY-MM-DD-HH:mm", ["YYYY", "MM", "DD", "HH"], true);
  const minuteOffset = intOption(where, "minuteOffset", options.minuteOffset, 0, 59);
  const engine = HourEngine.create(common, minuteOffset);
  return new TimeWindowPartitions(common, engine, "hour", "hour", `${minuteOffset} * * * *`, "hourly", [
    ["minuteOffset", minuteOffset],
  ]);
}

/** Daily windows from local midnight (+`hourOffset`, 0-23); default format "YYYY-MM-DD". */
export function dailyPartitions(
  options: TimeWindowOptions & { readonly hourOffset?: number | undefined },
): TimeWindowPartitionsDefinition<"day"> {
  const where = "dailyPartitions";
  const common = validateCommon(where, options, "YYYY-MM-DD", ["YYYY", "MM", "DD"], false);
  const hourOffset = intOption(where, "hourOffset", options.hourOffset, 0, 23);
  const engine = CalendarEngine.create(common, "day", hourOffset, 0);
  return new TimeWindowPartitions(common, engine, "day", "day", `0 ${hourOffset} * * *`, "daily", [
    ["hourOffset", hourOffset],
  ]);
}

/**
 * Weekly windows from local midnight of Sunday + `dayOffset` (0-6, 1 = Monday); the key is the
 * window's start date, default format "YYYY-MM-DD".
 */
export function weeklyPartitions(
  options: TimeWindowOptions & { readonly dayOffset?: number | undefined },
): TimeWindowPartitionsDefinition<"week"> {
  const where = "weeklyPartitions";
  const common = validateCommon(where, options, "YYYY-MM-DD", ["YYYY", "MM", "DD"], false);
  const dayOffset = intOption(where, "dayOffset", options.dayOffset, 0, 6);
  const engine = CalendarEngine.create(common, "week", 0, dayOffset);
  return new TimeWindowPartitions(common, engine, "week", "week", `0 0 * * ${dayOffset}`, "weekly", [
    ["dayOffset", dayOffset],
  ]);
}

/**
 * Monthly windows from local midnight of the 1st (+`dayOffset` days, 0-27); default format
 * "YYYY-MM".
 */
export function monthlyPartitions(
  options: TimeWindowOptions & { readonly dayOffset?: number | undefined },
): TimeWindowPartitionsDefinition<"month"> {
  const where = "monthlyPartitions";
  const common = validateCommon(where, options, "YYYY-MM", ["YYYY", "MM"], false);
  const dayOffset = intOption(where, "dayOffset", options.dayOffset, 0, 27);
  const engine = CalendarEngine.create(common, "month", 0, dayOffset);
  return new TimeWindowPartitions(common, engine, "month", "month", `0 0 ${1 + dayOffset} * *`, "monthly", [
    ["dayOffset", dayOffset],
  ]);
}

/**
 * Windows between consecutive ticks of a cron expression (5 fields, or 6 with seconds = 0) in
 * `timezone`; default format "YYYY-MM-DD-HH:mm". DST: a tick whose local time is skipped fires
 * at the same clock reading shifted past the gap (02:30 → 03:30), except for crons that run every
 * hour, which simply have no tick then; a repeated local time ticks once (its first occurrence),
 * except for crons that run every hour, which tick at both (the second key gets its UTC offset).
 */
export function timeWindowPartitions(
  options: TimeWindowOptions & { readonly cron: string },
): TimeWindowPartitionsDefinition<"cron"> {
  const where = "timeWindowPartitions";
  const cron = options.cron;
  if (typeof cron !== "string" || cron.trim() === "")
    fail(where, `cron ${show(cron)} is not valid: expected a cron expression such as "0 9 * * 1-5"`);
  const spec = parseCron(where, cron);
  const required: Token[] = ["YYYY"];
  if (spec.single.month === undefined) required.push("MM");
  if (spec.single.day === undefined) required.push("MM", "DD");
  if (spec.single.hour === undefined) required.push("HH");
  if (spec.single.minute === undefined) required.push("HH", "mm");
  const common = validateCommon(where, options, "YYYY-MM-DD-HH:mm", required, true);
  const engine = new CronEngine(common, spec);
  return new TimeWindowPartitions(
    common,
    engine,
    "cron",
    undefined,
    cron,
    `cron ${JSON.stringify(cron)}`,
    [],
  );
}

// ---------------------------------------------------------------------------------------------
// Definition and key space
// ---------------------------------------------------------------------------------------------

interface CommonOptions {
  readonly where: string;
  readonly timezone: string;
  /** Canonical zone id, for the fingerprint and for arithmetic. */
  readonly zone: string;
  readonly format: KeyFormat;
  readonly start: number;
  readonly end: number | undefined;
  readonly endOffset: number;
}

/** How one kind of time window maps indices, instants and keys. */
interface WindowEngine {
  /** Index of the window containing the instant, for any instant. */
  indexContaining(instant: number): number;
  /** Start instant of window `index` (any index >= 0). */
  windowStart(index: number): number;
  key(index: number): string;
  /** The only index `key` could be (verified by the caller), or undefined; `count` bounds any search. */
  candidateIndex(key: string, count: number): number | undefined;
  /** The part of the fingerprint that pins the windows (first window and bound). */
  fingerprintRange(end: number | undefined): string;
}

class TimeWindowPartitions<G extends TimeUnit | "cron"> implements TimeWindowPartitionsDefinition<G> {
  readonly [PARTITIONS_BRAND] = true as const;
  readonly kind = "time" as const;
  readonly timezone: string;
  readonly format: string;
  readonly start: number;
  readonly end: number | undefined;
  readonly endOffset: number;
  readonly fingerprint: string;
  readonly #engine: WindowEngine;
  readonly #label: string;

  constructor(
    common: CommonOptions,
    engine: WindowEngine,
    readonly grain: G,
    readonly unit: TimeUnit | undefined,
    readonly cron: string | undefined,
    label: string,
    extra: readonly (readonly [string, number])[],
  ) {
    this.timezone = common.timezone;
    this.format = common.format.pattern;
    this.start = common.start;
    this.end = common.end;
    this.endOffset = common.endOffset;
    this.#engine = engine;
    this.#label = label;
    const kind = unit ?? `cron(${cron})`;
    // With `end`, endOffset has no effect on the keys, so it does not split fingerprints.
    const offset = common.end === undefined ? common.endOffset : 0;
    this.fingerprint = [
      "time",
      kind,
      common.zone,
      common.format.pattern,
      engine.fingerprintRange(common.end),
      `offset=${offset}`,
      ...extra.map(([name, value]) => `${name}=${value}`),
    ].join(":");
  }

  describeFormat(): string {
    return `${this.format} (${this.#label}, ${this.timezone})`;
  }

  resolve(ctx: PartitionsContext): TimeWindowKeySpace {
    return new TimeWindowSpace(this.#engine, this.end, this.endOffset, ctx.now);
  }
}

class TimeWindowSpace implements TimeWindowKeySpace {
  #count: number | undefined;

  constructor(
    private readonly engine: WindowEngine,
    private readonly end: number | undefined,
    private readonly endOffset: number,
    private readonly now: number,
  ) {}

  count(): number {
    if (this.#count === undefined) {
      // Windows 0..i-1 end at or before the start of window i, the one containing the bound.
      const n =
        this.end !== undefined
          ? this.engine.indexContaining(this.end)
          : this.engine.indexContaining(this.now) + this.endOffset;
      this.#count = Math.max(0, n);
    }
    return this.#count;
  }

  keyAt(index: number): string {
    checkIndex(this, index);
    return this.engine.key(index);
  }

  indexOf(key: string): number {
    if (typeof key !== "string") return -1;
    const count = this.count();
    const index = this.engine.candidateIndex(key, count);
    if (index === undefined || !Number.isInteger(index) || index < 0 || index >= count) return -1;
    return this.engine.key(index) === key ? index : -1;
  }

  keys(start?: number, end?: number): Iterable<string> {
    return rangeKeys(this, start, end);
  }

  windowAt(index: number): TimeWindow {
    checkIndex(this, index);
    return {
      start: new Date(this.engine.windowStart(index)),
      end: new Date(this.engine.windowStart(index + 1)),
    };
  }

  indexContaining(instant: number): number {
    if (typeof instant !== "number" || !Number.isFinite(instant))
      throw new RangeError(`indexContaining: instant ${String(instant)} is not a finite epoch-ms number`);
    return this.engine.indexContaining(instant);
  }
}

// ---------------------------------------------------------------------------------------------
// Hourly: real-time hours, O(1)
// ---------------------------------------------------------------------------------------------

class HourEngine implements WindowEngine {
  private constructor(
    private readonly common: CommonOptions,
    private readonly first: number,
    private readonly minuteOffset: number,
  ) {}

  static create(common: CommonOptions, minuteOffset: number): HourEngine {
    // First instant at or after start whose local time reads :minuteOffset:00.
    let t = common.start;
    for (let attempt = 0; attempt < 3; attempt++) {
      const delta = mod(minuteOffset * MINUTE_MS - toLocalMs(t, common.zone), HOUR_MS);
      if (delta === 0) break;
      t += delta;
    }
    return new HourEngine(common, t, minuteOffset);
  }

  indexContaining(instant: number): number {
    return Math.floor((instant - this.first) / HOUR_MS);
  }

  windowStart(index: number): number {
    return this.first + index * HOUR_MS;
  }

  key(index: number): string {
    const zone = this.common.zone;
    const t = this.windowStart(index);
    const offset = offsetAt(t, zone);
    const base = formatKey(this.common.format, t + offset);
    // The second occurrence of a repeated local time: an earlier instant had the same wall clock.
    const before = offsetAt(t - DAY_MS, zone);
    if (before > offset && offsetAt(t - (before - offset), zone) === before)
      return base + formatOffset(offset);
    return base;
  }

  candidateIndex(key: string): number | undefined {
    const parsed = parseKey(this.common.format, key);
    if (parsed === undefined) return undefined;
    const local = {
      year: parsed.year ?? Number.NaN,
      month: parsed.month ?? Number.NaN,
      day: parsed.day ?? Number.NaN,
      hour: parsed.hour ?? Number.NaN,
      minute: parsed.minute ?? this.minuteOffset,
    };
    if (!isValidLocalDateTime(local)) return undefined;
    const wall = localMs(local);
    let instant: number;
    if (parsed.offset !== undefined) instant = wall - parsed.offset;
    else {
      const r = resolveLocal(wall, this.common.zone);
      if (r.kind === "gap") return undefined;
      instant = r.kind === "unique" ? r.instant : r.earlier;
    }
    const delta = instant - this.first;
    return delta % HOUR_MS === 0 ? delta / HOUR_MS : undefined;
  }

  fingerprintRange(end: number | undefined): string {
    const stop = end === undefined ? "none" : iso(this.windowStart(Math.max(0, this.indexContaining(end))));
    return `start=${iso(this.first)}:end=${stop}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Daily / weekly / monthly: local calendar arithmetic, O(1)
// ---------------------------------------------------------------------------------------------

type CalendarUnit = "day" | "week" | "month";

class CalendarEngine implements WindowEngine {
  /** Day number (day, week) or year*12 + month-1 (month) of window 0. */
  private first = 0;

  private constructor(
    private readonly common: CommonOptions,
    private readonly unit: CalendarUnit,
    private readonly hourOffset: number,
    private readonly dayOffset: number,
  ) {}

  static create(
    common: CommonOptions,
    unit: CalendarUnit,
    hourOffset: number,
    dayOffset: number,
  ): CalendarEngine {
    const engine = new CalendarEngine(common, unit, hourOffset, dayOffset);
    const days = Math.floor(toLocalMs(common.start, common.zone) / DAY_MS);
    if (unit === "day") engine.first = days;
    else if (unit === "week") engine.first = days + mod(dayOffset - weekdayFromDays(days), 7);
    else {
      const { year, month } = civilFromDays(days);
      engine.first = year * 12 + month - 1;
    }
    if (engine.windowStart(0) < common.start) engine.first += unit === "week" ? 7 : 1;
    return engine;
  }

  private date(index: number): CivilDate {
    if (this.unit === "day") return civilFromDays(this.first + index);
    if (this.unit === "week") return civilFromDays(this.first + 7 * index);
    const months = this.first + index;
    const year = Math.floor(months / 12);
    return { year, month: months - year * 12 + 1, day: 1 + this.dayOffset };
  }

  /** The window's nominal local start, as local ms. */
  private boundary(index: number): number {
    const { year, month, day } = this.date(index);
    return daysFromCivil(year, month, day) * DAY_MS + this.hourOffset * HOUR_MS;
  }

  windowStart(index: number): number {
    return zonedToEpoch(this.boundary(index), this.common.zone, "earlier");
  }

  indexContaining(instant: number): number {
    const local = toLocalMs(instant, this.common.zone);
    const days = Math.floor(local / DAY_MS);
    let index: number;
    if (this.unit === "day") index = days - this.first;
    else if (this.unit === "week") index = Math.floor((days - this.first) / 7);
    else {
      const { year, month } = civilFromDays(days);
      index = year * 12 + month - 1 - this.first;
    }
    // Far from the boundary, local times order like instants; near it (DST), compare instants.
    const distance = local - this.boundary(index);
    if (distance >= 3 * HOUR_MS) return index;
    if (distance <= -3 * HOUR_MS) return index - 1;
    return instant < this.windowStart(index) ? index - 1 : index;
  }

  key(index: number): string {
    return formatKey(this.common.format, this.boundary(index));
  }

  candidateIndex(key: string): number | undefined {
    const parsed = parseKey(this.common.format, key);
    if (parsed === undefined) return undefined;
    const local = {
      year: parsed.year ?? Number.NaN,
      month: parsed.month ?? Number.NaN,
      day: parsed.day ?? 1 + this.dayOffset,
      hour: parsed.hour ?? this.hourOffset,
      minute: parsed.minute ?? 0,
    };
    if (!isValidLocalDateTime(local)) return undefined;
    if (this.unit === "month") return local.year * 12 + local.month - 1 - this.first;
    const days = daysFromCivil(local.year, local.month, local.day) - this.first;
    if (this.unit === "day") return days;
    return days % 7 === 0 ? days / 7 : undefined;
  }

  fingerprintRange(end: number | undefined): string {
    const stop = end === undefined ? "none" : iso(this.windowStart(Math.max(0, this.indexContaining(end))));
    return `start=${iso(this.windowStart(0))}:end=${stop}`;
  }
}

// ---------------------------------------------------------------------------------------------
// General cron: ticks iterated once into a cache grown on demand
// ---------------------------------------------------------------------------------------------

interface CronSpec {
  /** Matching minutes since local midnight, ascending. */
  readonly minutesOfDay: readonly number[];
  /** The cron runs in every hour of the day (DST: repeated hours tick twice, skipped ones not at all). */
  readonly allHours: boolean;
  readonly months: readonly boolean[];
  readonly domWildcard: boolean;
  readonly dom: readonly boolean[];
  readonly domLast: boolean;
  readonly dowWildcard: boolean;
  readonly dow: readonly boolean[];
  /** Weekdays with `L` (last such weekday of the month). */
  readonly dowLast: readonly boolean[];
  /** `#n`: only the nth such weekday of the month (0 = any). */
  readonly nth: number;
  /** Fields with a single value: they may be left out of the key format. */
  readonly single: {
    readonly month?: number | undefined;
    readonly day?: number | undefined;
    readonly hour?: number | undefined;
    readonly minute?: number | undefined;
  };
}

function parseCron(where: string, cron: string): CronSpec {
  let fields: ReturnType<typeof CronExpressionParser.parse>["fields"];
  try {
    // A fixed hash seed keeps `H` fields deterministic (the same windows in every process).
    fields = CronExpressionParser.parse(cron, { hashSeed: cron }).fields;
  } catch (error) {
    fail(
      where,
      `cron ${JSON.stringify(cron)} is not valid: ${error instanceof Error ? error.message : error}`,
    );
  }
  const seconds = fields.second.values as readonly number[];
  if (seconds.length !== 1 || seconds[0] !== 0)
    fail(
      where,
      `cron ${JSON.stringify(cron)} is not valid: windows shorter than a minute (a seconds field) are not supported`,
    );
  const numbers = (values: readonly (number | string)[]): number[] =>
    values.filter((v): v is number => typeof v === "number");
  const hours = numbers(fields.hour.values);
  const minutes = numbers(fields.minute.values);
  const minutesOfDay = hours.flatMap((h) => minutes.map((m) => h * 60 + m)).sort((a, b) => a - b);
  const months = new Array<boolean>(13).fill(false);
  for (const m of numbers(fields.month.values)) months[m] = true;
  const dom = new Array<boolean>(32).fill(false);
  for (const d of numbers(fields.dayOfMonth.values)) dom[d] = true;
  const dow = new Array<boolean>(7).fill(false);
  const dowLast = new Array<boolean>(7).fill(false);
  for (const d of fields.dayOfWeek.values) {
    if (typeof d === "number") dow[d % 7] = true;
    else {
      const n = Number.parseInt(d, 10);
      if (Number.isInteger(n)) dowLast[n % 7] = true;
    }
  }
  const domValues = fields.dayOfMonth.values;
  const monthValues = numbers(fields.month.values);
  const spec: CronSpec = {
    minutesOfDay,
    allHours: hours.length === 24,
    months,
    domWildcard: fields.dayOfMonth.isWildcard,
    dom,
    domLast: fields.dayOfMonth.hasLastChar,
    dowWildcard: fields.dayOfWeek.isWildcard,
    dow,
    dowLast,
    nth: fields.dayOfWeek.nthDay,
    single: {
      month: monthValues.length === 1 ? monthValues[0] : undefined,
      day:
        domValues.length === 1 && typeof domValues[0] === "number" && fields.dayOfWeek.isWildcard
          ? domValues[0]
          : undefined,
      hour: hours.length === 1 ? hours[0] : undefined,
      minute: minutes.length === 1 ? minutes[0] : undefined,
    },
  };
  // An expression that parses but never fires (e.g. "0 0 31 2 *") fails here, not on first use.
  nextWall(spec, 0, where, cron);
  return spec;
}

function dayMatches(spec: CronSpec, days: number): boolean {
  const { year, month, day } = civilFromDays(days);
  if (!spec.months[month]) return false;
  const dim = daysInMonth(year, month);
  const weekday = weekdayFromDays(days);
  const matchedDom = spec.dom[day] === true || (spec.domLast && day === dim);
  const matchedDow =
    (spec.dow[weekday] === true && (spec.nth <= 0 || Math.ceil(day / 7) === spec.nth)) ||
    (spec.dowLast[weekday] === true && day + 7 > dim);
  // Standard cron: with both day fields restricted either may match.
  if (!spec.domWildcard && !spec.dowWildcard) return matchedDom || matchedDow;
  if (!spec.dowWildcard) return matchedDow;
  return matchedDom;
}

/** Days scanned before concluding a cron never fires (covers Feb 29 on a given weekday). */
const MAX_SCAN_DAYS = 366 * 29;

/** The first matching local wall time strictly after `after` (both in local minutes). */
function nextWall(spec: CronSpec, after: number, where?: string, cron?: string): number {
  let day = Math.floor(after / 1440);
  let from = after - day * 1440; // minutes of day must be > from on the first day
  for (let scanned = 0; scanned < MAX_SCAN_DAYS; scanned++, day++, from = -1) {
    if (!dayMatches(spec, day)) continue;
    const list = spec.minutesOfDay;
    // First entry > from (binary search).
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((list[mid] ?? 0) > from) hi = mid;
      else lo = mid + 1;
    }
    const m = list[lo];
    if (m !== undefined) return day * 1440 + m;
  }
  const message = `cron ${JSON.stringify(cron ?? "")} is not valid: it never fires`;
  if (where !== undefined) fail(where, message);
  throw new Error(message);
}

interface Tick {
  readonly instant: number;
  /** Local ms of the tick. */
  readonly wall: number;
  /** The second occurrence of a repeated local time. */
  readonly repeated: boolean;
}

/** Largest |offset change| across a DST overlap the fast path assumes (real ones are 30 min - 2 h). */
const OVERLAP_MARGIN = 3 * HOUR_MS;

/** Generates a cron's ticks in instant order, starting after the local minute `cursor`. */
class CronTicker {
  private cursor: number;
  private primary: Tick | undefined;
  /** Second occurrences and gap-shifted ticks, ascending: they can come after later primaries. */
  private readonly pending: Tick[] = [];
  private last = Number.NEGATIVE_INFINITY;
  /** Instants in [segFrom, segTo] map from their wall time with segOffset, uniquely. */
  private segFrom = 1;
  private segTo = 0;
  private segOffset = 0;

  constructor(
    private readonly spec: CronSpec,
    private readonly zone: string,
    cursor: number,
  ) {
    this.cursor = cursor;
  }

  next(): Tick {
    for (;;) {
      if (this.primary === undefined) this.primary = this.nextPrimary();
      const head = this.pending[0];
      let tick: Tick;
      if (head !== undefined && head.instant <= this.primary.instant) {
        tick = head;
        this.pending.shift();
      } else {
        tick = this.primary;
        this.primary = undefined;
      }
      if (tick.instant > this.last) {
        this.last = tick.instant;
        return tick;
      }
    }
  }

  /** The next wall time's unique or first instant (queueing second occurrences and shifted ticks). */
  private nextPrimary(): Tick {
    for (;;) {
      const minutes = nextWall(this.spec, this.cursor);
      this.cursor = minutes;
      const wall = minutes * MINUTE_MS;
      const fast = wall - this.segOffset;
      if (fast >= this.segFrom && fast <= this.segTo) return { instant: fast, wall, repeated: false };
      const r = resolveLocal(wall, this.zone);
      if (r.kind === "unique") {
        this.refreshSegment(r.instant);
        return { instant: r.instant, wall, repeated: false };
      }
      if (r.kind === "overlap") {
        if (this.spec.allHours) this.enqueue({ instant: r.later, wall, repeated: true });
        return { instant: r.earlier, wall, repeated: false };
      }
      if (!this.spec.allHours)
        this.enqueue({ instant: r.shifted, wall: toLocalMs(r.shifted, this.zone), repeated: false });
    }
  }

  private enqueue(tick: Tick): void {
    let i = this.pending.length;
    while (i > 0 && (this.pending[i - 1]?.instant ?? 0) > tick.instant) i--;
    this.pending.splice(i, 0, tick);
  }

  /** If the offset is the same a day either side of `instant`, nearby wall times map directly. */
  private refreshSegment(instant: number): void {
    const offset = offsetAt(instant, this.zone);
    if (
      offsetAt(instant - DAY_MS, this.zone) === offset &&
      offsetAt(instant + DAY_MS, this.zone) === offset
    ) {
      this.segFrom = instant - DAY_MS + OVERLAP_MARGIN;
      this.segTo = instant + DAY_MS - OVERLAP_MARGIN;
      this.segOffset = offset;
    } else {
      this.segFrom = 1;
      this.segTo = 0;
    }
  }
}

/**
 * Tick i >= 0 comes from a cache grown forward on demand (count, keyAt, windowAt and
 * indexContaining of a later instant extend it; lookups inside it are binary searches). Instants
 * before tick 0 get negative indices from a second cache of earlier ticks, generated backwards a
 * chunk of days at a time. Memory grows with the furthest tick asked for, in either direction.
 */
class CronEngine implements WindowEngine {
  /** Ticks 0, 1, 2, …: instants and local walls. */
  private readonly fwd: number[] = [];
  private readonly fwdWall: number[] = [];
  /** Ticks -1, -2, …: instants and local walls (descending instants). */
  private readonly back: number[] = [];
  private readonly backWall: number[] = [];
  /** Instants of ticks that are the second occurrence of a repeated local time. */
  private readonly repeated = new Set<number>();
  private readonly ticker: CronTicker;
  private backChunkDays = 32;

  constructor(
    private readonly common: CommonOptions,
    private readonly spec: CronSpec,
  ) {
    const cursor = Math.floor(toLocalMs(common.start, common.zone) / MINUTE_MS) - 1440;
    this.ticker = new CronTicker(spec, common.zone, cursor);
    let tick = this.ticker.next();
    while (tick.instant < common.start) tick = this.ticker.next();
    this.push(tick);
  }

  private push(tick: Tick): void {
    this.fwd.push(tick.instant);
    this.fwdWall.push(tick.wall);
    if (tick.repeated) this.repeated.add(tick.instant);
  }

  private ensureForward(index: number): void {
    while (this.fwd.length <= index) this.push(this.ticker.next());
  }

  /** Ticks before tick 0, generated a chunk at a time from an earlier local time. */
  private extendBackward(): void {
    const earliest = this.back[this.back.length - 1] ?? this.fwd[0] ?? 0;
    const earliestMinutes = Math.floor(toLocalMs(earliest, this.common.zone) / MINUTE_MS);
    for (let days = this.backChunkDays; ; days *= 2) {
      if (days > MAX_SCAN_DAYS * 2) throw new RangeError("cron has no ticks before the requested instant");
      const cursor = earliestMinutes - days * 1440;
      // Ticks a day past the cursor are complete (DST repeats near the cursor could be missed).
      const low = cursor * MINUTE_MS + DAY_MS;
      const ticker = new CronTicker(this.spec, this.common.zone, cursor);
      const found: Tick[] = [];
      for (let tick = ticker.next(); tick.instant < earliest; tick = ticker.next())
        if (tick.instant >= low) found.push(tick);
      if (found.length > 0) {
        for (let i = found.length - 1; i >= 0; i--) {
          const tick = found[i] as Tick;
          this.back.push(tick.instant);
          this.backWall.push(tick.wall);
          if (tick.repeated) this.repeated.add(tick.instant);
        }
        this.backChunkDays = Math.min(days * 2, 366 * 4);
        return;
      }
    }
  }

  private instant(index: number): number {
    if (index >= 0) {
      this.ensureForward(index);
      return this.fwd[index] as number;
    }
    while (this.back.length < -index) this.extendBackward();
    return this.back[-index - 1] as number;
  }

  private wall(index: number): number {
    this.instant(index);
    return (index >= 0 ? this.fwdWall[index] : this.backWall[-index - 1]) as number;
  }

  windowStart(index: number): number {
    return this.instant(index);
  }

  indexContaining(instant: number): number {
    const first = this.fwd[0] as number;
    if (instant >= first) {
      while ((this.fwd[this.fwd.length - 1] as number) <= instant) this.push(this.ticker.next());
      // Largest i with fwd[i] <= instant.
      let lo = 0;
      let hi = this.fwd.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if ((this.fwd[mid] as number) <= instant) lo = mid;
        else hi = mid - 1;
      }
      return lo;
    }
    while (this.back.length === 0 || (this.back[this.back.length - 1] as number) > instant)
      this.extendBackward();
    // Smallest k with back[k] <= instant (back is descending): window -(k+1).
    let lo = 0;
    let hi = this.back.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.back[mid] as number) <= instant) hi = mid;
      else lo = mid + 1;
    }
    return -(lo + 1);
  }

  key(index: number): string {
    const instant = this.instant(index);
    const wall = this.wall(index);
    const base = formatKey(this.common.format, wall);
    return this.repeated.has(instant) ? base + formatOffset(wall - instant) : base;
  }

  candidateIndex(key: string, count: number): number | undefined {
    const parsed = parseKey(this.common.format, key);
    if (parsed === undefined || count === 0) return undefined;
    const single = this.spec.single;
    const local = {
      year: parsed.year ?? Number.NaN,
      month: parsed.month ?? single.month ?? Number.NaN,
      day: parsed.day ?? single.day ?? Number.NaN,
      hour: parsed.hour ?? single.hour ?? 0,
      minute: parsed.minute ?? single.minute ?? 0,
    };
    if (!isValidLocalDateTime(local)) return undefined;
    const wall = localMs(local);
    let instant: number;
    if (parsed.offset !== undefined) instant = wall - parsed.offset;
    else {
      const r = resolveLocal(wall, this.common.zone);
      instant = r.kind === "unique" ? r.instant : r.kind === "overlap" ? r.earlier : r.shifted;
    }
    this.ensureForward(count - 1);
    let lo = 0;
    let hi = count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const t = this.fwd[mid] as number;
      if (t === instant) return mid;
      if (t < instant) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  fingerprintRange(end: number | undefined): string {
    return `start=${iso(this.fwd[0] as number)}:end=${end === undefined ? "none" : iso(end)}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Key formats
// ---------------------------------------------------------------------------------------------

type Token = "YYYY" | "MM" | "DD" | "HH" | "mm";

const TOKEN_NAMES: Readonly<Record<Token, string>> = {
  YYYY: "year",
  MM: "month",
  DD: "day",
  HH: "hour",
  mm: "minute",
};
const RESERVED_LETTERS = "YMDHhms";

type Segment = { readonly token: Token } | { readonly literal: string };

interface KeyFormat {
  readonly pattern: string;
  readonly segments: readonly Segment[];
  readonly tokens: ReadonlySet<Token>;
  readonly regex: RegExp;
  /** The token of each capture group of `regex`, in order. */
  readonly groups: readonly Token[];
  /** Keys may end with a UTC offset (`-05:00`) marking a repeated local time. */
  readonly offsetSuffix: boolean;
}

interface ParsedKey {
  year?: number;
  month?: number;
  day?: number;
  hour?: number;
  minute?: number;
  /** From the offset suffix, in ms. */
  offset?: number;
}

function compileFormat(
  where: string,
  pattern: string,
  required: readonly Token[],
  offsetSuffix: boolean,
): KeyFormat {
  const bad = (why: string): never =>
    fail(
      where,
      `format ${JSON.stringify(pattern)} is not valid: ${why} (tokens: YYYY MM DD HH mm; other characters are literal)`,
    );
  if (pattern === "") bad("it is empty");
  // The same rule as every partition key: usable in paths, URLs and multi-partition keys.
  if (/[|/\\]/.test(pattern)) bad('keys may not contain "|", "/" or "\\"');
  if (pattern.trim() !== pattern) bad("keys may not start or end with spaces");
  const segments: Segment[] = [];
  const tokens = new Set<Token>();
  let literal = "";
  for (let i = 0; i < pattern.length; ) {
    const ch = pattern[i] as string;
    if (!RESERVED_LETTERS.includes(ch)) {
      literal += ch;
      i++;
      continue;
    }
    let j = i;
    while (pattern[j] === ch) j++;
    const run = pattern.slice(i, j);
    if (run.length === 1) {
      // A lone letter is literal ("T", the "h" of "hour=HH"); runs are tokens.
      literal += ch;
      i = j;
      continue;
    }
    if (run !== "YYYY" && run !== "MM" && run !== "DD" && run !== "HH" && run !== "mm")
      bad(`unsupported token ${JSON.stringify(run)}`);
    const token = run as Token;
    if (tokens.has(token)) bad(`token ${token} appears twice`);
    if (literal !== "") segments.push({ literal });
    literal = "";
    segments.push({ token });
    tokens.add(token);
    i = j;
  }
  if (literal !== "") segments.push({ literal });
  const missing = [...new Set(required)].filter((t) => !tokens.has(t));
  if (missing.length > 0)
    bad(
      `keys must identify each window, so it needs ${missing.map((t) => `${t} (${TOKEN_NAMES[t]})`).join(", ")}`,
    );
  const groups: Token[] = [];
  let source = "^";
  for (const s of segments) {
    if ("token" in s) {
      groups.push(s.token);
      source += s.token === "YYYY" ? "(\\d{4})" : "(\\d{2})";
    } else source += s.literal.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
  }
  if (offsetSuffix) source += "(?:([+-])(\\d{2}):(\\d{2}))?";
  source += "$";
  return { pattern, segments, tokens, regex: new RegExp(source), groups, offsetSuffix };
}

function formatKey(format: KeyFormat, wall: number): string {
  const t = localFromMs(wall);
  let out = "";
  for (const s of format.segments) {
    if ("literal" in s) out += s.literal;
    else if (s.token === "YYYY")
      out += t.year < 0 ? `-${String(-t.year).padStart(4, "0")}` : String(t.year).padStart(4, "0");
    else if (s.token === "MM") out += pad2(t.month);
    else if (s.token === "DD") out += pad2(t.day);
    else if (s.token === "HH") out += pad2(t.hour);
    else out += pad2(t.minute);
  }
  return out;
}

function parseKey(format: KeyFormat, key: string): ParsedKey | undefined {
  const m = format.regex.exec(key);
  if (m === null) return undefined;
  const parsed: ParsedKey = {};
  format.groups.forEach((token, i) => {
    const value = Number(m[i + 1]);
    if (token === "YYYY") parsed.year = value;
    else if (token === "MM") parsed.month = value;
    else if (token === "DD") parsed.day = value;
    else if (token === "HH") parsed.hour = value;
    else parsed.minute = value;
  });
  const n = format.groups.length;
  const sign = m[n + 1];
  if (sign !== undefined) {
    const hours = Number(m[n + 2]);
    const minutes = Number(m[n + 3]);
    if (minutes > 59) return undefined;
    parsed.offset = (sign === "-" ? -1 : 1) * (hours * HOUR_MS + minutes * MINUTE_MS);
  }
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Option validation
// ---------------------------------------------------------------------------------------------

function fail(where: string, message: string): never {
  throw new Error(`${where}: ${message}`);
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function iso(instant: number): string {
  return new Date(instant).toISOString();
}

function intOption(where: string, name: string, value: unknown, min: number, max: number): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    fail(where, `${name} ${show(value)} is not valid: expected an integer from ${min} to ${max}`);
  return value;
}

function validateCommon(
  where: string,
  options: TimeWindowOptions,
  defaultFormat: string,
  required: readonly Token[],
  offsetSuffix: boolean,
): CommonOptions {
  if (typeof options !== "object" || options === null) fail(where, "expected an options object");
  const timezone = options.timezone ?? "UTC";
  const zone = typeof timezone === "string" ? canonicalTimeZone(timezone) : undefined;
  if (zone === undefined)
    fail(where, `timezone ${show(timezone)} is not a known IANA time zone (e.g. "UTC", "America/New_York")`);
  const endOffset = options.endOffset ?? 0;
  if (typeof endOffset !== "number" || !Number.isSafeInteger(endOffset))
    fail(where, `endOffset ${show(endOffset)} is not valid: expected an integer`);
  const formatText = options.format ?? defaultFormat;
  if (typeof formatText !== "string")
    fail(where, `format ${show(formatText)} is not valid: expected a string`);
  const format = compileFormat(where, formatText, required, offsetSuffix);
  if (options.start === undefined) fail(where, "start is required");
  const start = parseInstant(where, "start", options.start, zone);
  const end = options.end === undefined ? undefined : parseInstant(where, "end", options.end, zone);
  if (end !== undefined && end < start)
    fail(where, `end ${show(options.end)} is before start ${show(options.start)}`);
  return { where, timezone, zone, format, start, end, endOffset };
}

const TIME_INPUT =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:?\d{2})?)?)?)?$/;

/** A `start` / `end` option as epoch ms: a Date, or a local (or offset-qualified) ISO-like string. */
function parseInstant(where: string, name: string, value: unknown, zone: string): number {
  const bad = (): never =>
    fail(
      where,
      `${name} ${show(value)} is not valid: expected a Date or a string like "2024-01-01", "2024-01" or "2024-03-01T05:00" (local time in ${zone}; append Z or an offset for an absolute instant)`,
    );
  if (value instanceof Date) {
    const t = value.getTime();
    return Number.isNaN(t) ? bad() : t;
  }
  if (typeof value !== "string") return bad();
  const m = TIME_INPUT.exec(value.trim());
  if (m === null) return bad();
  const local: LocalDateTime = {
    year: Number(m[1]),
    month: m[2] === undefined ? 1 : Number(m[2]),
    day: m[3] === undefined ? 1 : Number(m[3]),
    hour: m[4] === undefined ? 0 : Number(m[4]),
    minute: m[5] === undefined ? 0 : Number(m[5]),
    second: m[6] === undefined ? 0 : Number(m[6]),
  };
  if (!isValidLocalDateTime(local)) return bad();
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, "0"));
  const designator = m[8];
  if (designator === undefined) return zonedToEpoch(local, zone, "earlier") + ms;
  if (designator === "Z") return localMs(local) + ms;
  const digits = designator.replace(":", "");
  const offsetMinutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5));
  if (Number(digits.slice(3, 5)) > 59) return bad();
  return localMs(local) + ms - (digits[0] === "-" ? -1 : 1) * offsetMinutes * MINUTE_MS;
}
