/**
 * Partitions: how an asset is split into independently materialized slices. A definition is
 * inert; resolving it against a context (the clock, the instance's dynamic keys) gives a
 * `PartitionKeySpace` that answers count / key-at-index / index-of-key lazily, so a
 * 1,000,000-partition definition never allocates its key list.
 */
export const PARTITIONS_BRAND = Symbol.for("baton.partitions");

/** A resolved, ordered set of partition keys. Indices are 0-based and dense. */
export interface PartitionKeySpace {
  count(): number;
  /** Throws RangeError outside [0, count). */
  keyAt(index: number): string;
  /** -1 when `key` is not a key of this space. */
  indexOf(key: string): number;
  /** Keys with index in [start, end), lazily. */
  keys(start?: number, end?: number): Iterable<string>;
}

export interface PartitionsContext {
  /** The current time: time-window partitions end at the last complete window before it. */
  readonly now: number;
  /** Keys currently registered for a dynamic partitions definition, in insertion order. */
  dynamicKeys(name: string): readonly string[];
}

export interface TimeWindow {
  /** Inclusive. */
  readonly start: Date;
  /** Exclusive. */
  readonly end: Date;
}

/** A key space of time windows: also maps indices to windows and instants to indices. */
export interface TimeWindowKeySpace extends PartitionKeySpace {
  windowAt(index: number): TimeWindow;
  /**
   * Index of the window containing `instant` (epoch ms), even outside [0, count):
   * may be negative or >= count. Used by time-window partition mappings.
   */
  indexContaining(instant: number): number;
  /**
   * The instant a key in this space's format names (where its window would start), whether or not
   * it is a key of the space; undefined when it does not parse as a valid time. For error messages.
   */
  instantOf(key: string): number | undefined;
}

interface PartitionsBase {
  readonly [PARTITIONS_BRAND]: true;
  /** Identical for definitions that produce the same keys (used for default identity mappings). */
  readonly fingerprint: string;
  /**
   * The expected key format, for error messages (e.g. `YYYY-MM-DD`, `one of yellow, green`). Dynamic
   * partitions say how keys are added: with the CLI command, or (`"api"`) the API's route.
   */
  describeFormat(surface?: "cli" | "api"): string;
}

export interface StaticPartitionsDefinition<K extends string = string> extends PartitionsBase {
  readonly kind: "static";
  readonly keyList: readonly K[];
  resolve(ctx: PartitionsContext): PartitionKeySpace;
}

export type TimeUnit = "hour" | "day" | "week" | "month";

export interface TimeWindowPartitionsDefinition<G extends TimeUnit | "cron" = TimeUnit | "cron">
  extends PartitionsBase {
  readonly kind: "time";
  /** The window grain, for typing (hourly vs daily inputs) and default mappings. */
  readonly grain: G;
  /** Fixed units are O(1) per lookup; a general cron is iterated (cached) with cron-parser. */
  readonly unit: TimeUnit | undefined;
  readonly cron: string | undefined;
  readonly timezone: string;
  readonly format: string;
  /** First window starts at the first boundary at or after this (epoch ms). */
  readonly start: number;
  /** Windows must end at or before this (epoch ms); undefined: up to `now` (plus endOffset). */
  readonly end: number | undefined;
  /** Extra windows after the last complete one (1 = include the window in progress). */
  readonly endOffset: number;
  /** The boundary offsets it was built with (`hourOffset`, `minuteOffset`, `dayOffset`). */
  readonly offsets: Readonly<Record<string, number>>;
  resolve(ctx: PartitionsContext): TimeWindowKeySpace;
}

export interface DynamicPartitionsDefinition extends PartitionsBase {
  readonly kind: "dynamic";
  readonly name: string;
  resolve(ctx: PartitionsContext): PartitionKeySpace;
}

export type SingleDimensionPartitions =
  | StaticPartitionsDefinition<string>
  | TimeWindowPartitionsDefinition
  | DynamicPartitionsDefinition;

export interface MultiPartitionsDefinition<
  D extends Readonly<Record<string, SingleDimensionPartitions>> = Readonly<
    Record<string, SingleDimensionPartitions>
  >,
> extends PartitionsBase {
  readonly kind: "multi";
  readonly dimensions: D;
  /** Dimension names in declaration order (the order of the `|`-separated key parts). */
  readonly dimensionNames: readonly (keyof D & string)[];
  resolve(ctx: PartitionsContext): MultiPartitionKeySpace;
}

export interface MultiPartitionKeySpace extends PartitionKeySpace {
  /** Resolved key space of each dimension. */
  dimension(name: string): PartitionKeySpace;
  /** `{ month: "2019-01", taxi: "yellow" }` for `2019-01|yellow`; undefined for an invalid key. */
  split(key: string): Record<string, string> | undefined;
  join(parts: Readonly<Record<string, string>>): string;
}

export type PartitionsDefinition = SingleDimensionPartitions | MultiPartitionsDefinition;

export const MULTI_KEY_SEPARATOR = "|";

export function isPartitionsDefinition(value: unknown): value is PartitionsDefinition {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<symbol, unknown>)[PARTITIONS_BRAND] === true
  );
}

export function* rangeKeys(space: PartitionKeySpace, start = 0, end = space.count()): Iterable<string> {
  const to = Math.min(end, space.count());
  for (let i = Math.max(0, start); i < to; i++) yield space.keyAt(i);
}

export function checkIndex(space: PartitionKeySpace, index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= space.count())
    throw new RangeError(`partition index ${index} is out of range [0, ${space.count()})`);
}
