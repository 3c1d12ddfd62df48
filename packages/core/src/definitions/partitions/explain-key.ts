import { nearestKey } from "./nearest-key.js";
import {
  MULTI_KEY_SEPARATOR,
  type MultiPartitionKeySpace,
  type PartitionKeySpace,
  type PartitionsDefinition,
  type SingleDimensionPartitions,
  type TimeWindowKeySpace,
  type TimeWindowPartitionsDefinition,
} from "./partitions.js";

/**
 * Why a key is not a key of a space, for `InvalidPartitionKeyError`:
 * - `format`: it does not have the expected form (or names no such static/dynamic key);
 * - `before` / `after`: a well-formed time outside the partitions (nearest: the first / last key);
 * - `inside`: a well-formed time inside a window but not at its start (nearest: that window).
 * `reason` is the text after "Invalid partition key … for …: ", without the nearest key.
 */
export interface KeyExplanation {
  readonly problem: "format" | "before" | "after" | "inside";
  readonly reason: string;
  /** The closest valid key (by time for well-formed times); undefined when there are no keys. */
  readonly nearest: string | undefined;
}

const GRAIN = {
  hour: ["hourly", "hour"],
  day: ["daily", "day"],
  week: ["weekly", "week"],
  month: ["monthly", "month"],
};

/** `daily, UTC; up to the latest complete day` — how the windows are cut and where they stop. */
function describeWindows(def: TimeWindowPartitionsDefinition): string {
  const [label, noun] =
    def.grain === "cron"
      ? [`cron ${JSON.stringify(def.cron)}`, "window"]
      : GRAIN[def.grain as keyof typeof GRAIN];
  const base = `${label}, ${def.timezone}`;
  if (def.end !== undefined) return base;
  const n = def.endOffset;
  if (n === 0) return `${base}; up to the latest complete ${noun}`;
  if (n === 1) return `${base}; up to the ${noun} in progress`;
  const plural = Math.abs(n) === 1 ? noun : `${noun}s`;
  return n > 0
    ? `${base}; up to ${n} ${plural} after the latest complete one`
    : `${base}; up to ${-n} ${plural} before the latest complete one`;
}

/** Where a well-formed time key falls relative to the windows (undefined: not a time, or no windows). */
function placeTime(
  def: TimeWindowPartitionsDefinition,
  space: TimeWindowKeySpace,
  key: string,
  subject: string,
  scope: string,
  nearestOf: (dimensionKey: string) => string,
): KeyExplanation | undefined {
  const instant = space.instantOf(key);
  const count = space.count();
  if (instant === undefined || count === 0) return undefined;
  const first = space.keyAt(0);
  const last = space.keyAt(count - 1);
  const range = `${scope} run from "${first}" to "${last}" (${describeWindows(def)})`;
  // Compared with the bounds first: a general cron would iterate ticks up to a far-away instant.
  if (instant < space.windowAt(0).start.getTime())
    return {
      problem: "before",
      reason: `${subject} is before the first partition; ${range}`,
      nearest: nearestOf(first),
    };
  if (instant >= space.windowAt(count - 1).end.getTime())
    return {
      problem: "after",
      reason: `${subject} is after the last partition; ${range}`,
      nearest: nearestOf(last),
    };
  const index = Math.min(count - 1, Math.max(0, space.indexContaining(instant)));
  const containing = space.keyAt(index);
  if (containing === key) return undefined;
  return {
    problem: "inside",
    reason: `${subject} is not the start of a partition; it falls in "${containing}" (${describeWindows(def)})`,
    nearest: nearestOf(containing),
  };
}

/** The nearest key of one dimension: by time for well-formed times, else by spelling. */
function nearestInDimension(def: SingleDimensionPartitions, space: PartitionKeySpace, key: string) {
  if (space.indexOf(key) >= 0) return key;
  if (def.kind === "time") {
    const placed = placeTime(def, space as TimeWindowKeySpace, key, "", "", (k) => k);
    if (placed) return placed.nearest;
  }
  return nearestKey(space, key);
}

/** Explain why `key` (not a key of `space`, which `def` resolved to) is invalid. */
export function explainKey(
  def: PartitionsDefinition,
  space: PartitionKeySpace,
  key: string,
  surface: "cli" | "api" = "cli",
): KeyExplanation {
  const formatProblem = (nearest: string | undefined): KeyExplanation => ({
    problem: "format",
    reason: `expected ${def.describeFormat(surface)}`,
    nearest,
  });
  if (typeof key !== "string") return formatProblem(undefined);
  if (def.kind === "time") {
    const placed = placeTime(def, space as TimeWindowKeySpace, key, "it", "the partitions", (k) => k);
    return placed ?? formatProblem(nearestKey(space, key));
  }
  if (def.kind === "multi") {
    const multi = space as MultiPartitionKeySpace;
    const parts = multi.split(key);
    if (parts === undefined || space.count() === 0) return formatProblem(nearestKey(space, key));
    const nearestParts = (override: Record<string, string>) => {
      const out: Record<string, string> = {};
      for (const name of def.dimensionNames) {
        const d = def.dimensions[name]!;
        out[name] = override[name] ?? nearestInDimension(d, multi.dimension(name), parts[name]!) ?? "";
      }
      return multi.join(out);
    };
    for (const name of def.dimensionNames) {
      const d = def.dimensions[name]!;
      if (d.kind !== "time") continue;
      const part = parts[name]!;
      const placed = placeTime(
        d,
        multi.dimension(name) as TimeWindowKeySpace,
        part,
        `its ${name} "${part}"`,
        `the ${name} partitions`,
        (k) => nearestParts({ [name]: k }),
      );
      if (placed) return placed;
    }
    if (key.split(MULTI_KEY_SEPARATOR).length === def.dimensionNames.length)
      return formatProblem(nearestParts({}));
    return formatProblem(nearestKey(space, key));
  }
  return formatProblem(nearestKey(space, key));
}
