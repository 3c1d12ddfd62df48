import { formatKey, type KeyFormat, parseKey } from "./time-window-format.js";
import { iso } from "./time-window-util.js";
import {
  type CivilDate,
  civilFromDays,
  DAY_MS,
  daysFromCivil,
  formatOffset,
  HOUR_MS,
  isValidLocalDateTime,
  localMs,
  MINUTE_MS,
  mod,
  offsetAt,
  resolveLocal,
  toLocalMs,
  weekdayFromDays,
  zonedToEpoch,
} from "./zoned-time.js";

export interface CommonOptions {
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
export interface WindowEngine {
  /** Index of the window containing the instant, for any instant. */
  indexContaining(instant: number): number;
  /** Start instant of window `index` (any index >= 0). */
  windowStart(index: number): number;
  key(index: number): string;
  /** The only index `key` could be (verified by the caller), or undefined; `count` bounds any search. */
  candidateIndex(key: string, count: number): number | undefined;
  /**
   * The instant a key in this format names (where its window would start), whether or not a window
   * starts there; undefined when it does not parse as a valid local time. For error messages.
   */
  instantOf(key: string): number | undefined;
  /** The part of the fingerprint that pins the windows (first window and bound). */
  fingerprintRange(end: number | undefined): string;
}

export class HourEngine implements WindowEngine {
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
    const instant = this.#instant(key, false);
    if (instant === undefined) return undefined;
    const delta = instant - this.first;
    return delta % HOUR_MS === 0 ? delta / HOUR_MS : undefined;
  }

  instantOf(key: string): number | undefined {
    return this.#instant(key, true);
  }

  /** A skipped local time (DST gap) names no instant, unless `shiftGap` (then the one past the gap). */
  #instant(key: string, shiftGap: boolean): number | undefined {
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
    if (parsed.offset !== undefined) return wall - parsed.offset;
    const r = resolveLocal(wall, this.common.zone);
    if (r.kind === "gap") return shiftGap ? r.shifted : undefined;
    return r.kind === "unique" ? r.instant : r.earlier;
  }

  fingerprintRange(end: number | undefined): string {
    const stop = end === undefined ? "none" : iso(this.windowStart(Math.max(0, this.indexContaining(end))));
    return `start=${iso(this.first)}:end=${stop}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Daily / weekly / monthly: local calendar arithmetic, O(1)
// ---------------------------------------------------------------------------------------------

export type CalendarUnit = "day" | "week" | "month";

export class CalendarEngine implements WindowEngine {
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

  #local(key: string) {
    const parsed = parseKey(this.common.format, key);
    if (parsed === undefined) return undefined;
    const local = {
      year: parsed.year ?? Number.NaN,
      month: parsed.month ?? Number.NaN,
      day: parsed.day ?? 1 + this.dayOffset,
      hour: parsed.hour ?? this.hourOffset,
      minute: parsed.minute ?? 0,
    };
    return isValidLocalDateTime(local) ? local : undefined;
  }

  candidateIndex(key: string): number | undefined {
    const local = this.#local(key);
    if (local === undefined) return undefined;
    if (this.unit === "month") return local.year * 12 + local.month - 1 - this.first;
    const days = daysFromCivil(local.year, local.month, local.day) - this.first;
    if (this.unit === "day") return days;
    return days % 7 === 0 ? days / 7 : undefined;
  }

  instantOf(key: string): number | undefined {
    const local = this.#local(key);
    if (local === undefined) return undefined;
    return zonedToEpoch(localMs(local), this.common.zone, "earlier");
  }

  fingerprintRange(end: number | undefined): string {
    const stop = end === undefined ? "none" : iso(this.windowStart(Math.max(0, this.indexContaining(end))));
    return `start=${iso(this.windowStart(0))}:end=${stop}`;
  }
}

// ---------------------------------------------------------------------------------------------
// General cron: ticks iterated once into a cache grown on demand
// ---------------------------------------------------------------------------------------------
