import type {
  PartitionsContext,
  TimeUnit,
  TimeWindow,
  TimeWindowKeySpace,
  TimeWindowPartitionsDefinition,
} from "./partitions.js";
import { checkIndex, PARTITIONS_BRAND, rangeKeys } from "./partitions.js";
import { CronEngine, parseCron } from "./time-window-cron.js";
import { CalendarEngine, type CommonOptions, HourEngine, type WindowEngine } from "./time-window-engines.js";
import type { Token } from "./time-window-format.js";
import { fail, intOption, show, validateCommon } from "./time-window-util.js";

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

class TimeWindowPartitions<G extends TimeUnit | "cron"> implements TimeWindowPartitionsDefinition<G> {
  readonly [PARTITIONS_BRAND] = true as const;
  readonly kind = "time" as const;
  readonly timezone: string;
  readonly format: string;
  readonly start: number;
  readonly end: number | undefined;
  readonly endOffset: number;
  readonly fingerprint: string;
  /** The boundary offsets it was built with (`hourOffset`, `minuteOffset`, `dayOffset`). */
  readonly offsets: Readonly<Record<string, number>>;
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
    this.offsets = Object.fromEntries(extra);
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

  instantOf(key: string): number | undefined {
    return typeof key === "string" ? this.engine.instantOf(key) : undefined;
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
