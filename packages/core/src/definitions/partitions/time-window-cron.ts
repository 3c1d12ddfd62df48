/** General cron windows: parsing (validated with cron-parser) and a DST-aware tick generator. */
import { CronExpressionParser } from "cron-parser";
import type { CommonOptions, WindowEngine } from "./time-window-engines.js";
import { formatKey, parseKey } from "./time-window-format.js";
import { fail, iso } from "./time-window-util.js";
import {
  civilFromDays,
  DAY_MS,
  daysInMonth,
  formatOffset,
  HOUR_MS,
  isValidLocalDateTime,
  localMs,
  MINUTE_MS,
  offsetAt,
  resolveLocal,
  toLocalMs,
  weekdayFromDays,
} from "./zoned-time.js";

export interface CronSpec {
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

export function parseCron(where: string, cron: string): CronSpec {
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

export function dayMatches(spec: CronSpec, days: number): boolean {
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
export const MAX_SCAN_DAYS = 366 * 29;

/** The first matching local wall time strictly after `after` (both in local minutes). */
export function nextWall(spec: CronSpec, after: number, where?: string, cron?: string): number {
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

export interface Tick {
  readonly instant: number;
  /** Local ms of the tick. */
  readonly wall: number;
  /** The second occurrence of a repeated local time. */
  readonly repeated: boolean;
}

/** Largest |offset change| across a DST overlap the fast path assumes (real ones are 30 min - 2 h). */
export const OVERLAP_MARGIN = 3 * HOUR_MS;

/** Generates a cron's ticks in instant order, starting after the local minute `cursor`. */
export class CronTicker {
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
export class CronEngine implements WindowEngine {
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

  instantOf(key: string): number | undefined {
    const parsed = parseKey(this.common.format, key);
    if (parsed === undefined) return undefined;
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
    if (parsed.offset !== undefined) return wall - parsed.offset;
    const r = resolveLocal(wall, this.common.zone);
    return r.kind === "unique" ? r.instant : r.kind === "overlap" ? r.earlier : r.shifted;
  }

  candidateIndex(key: string, count: number): number | undefined {
    if (count === 0) return undefined;
    const instant = this.instantOf(key);
    if (instant === undefined) return undefined;
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
