import type {
  MultiPartitionKeySpace,
  PartitionKeySpace,
  PartitionsDefinition,
  TimeWindowKeySpace,
  TimeWindowPartitionsDefinition,
} from "./partitions.js";

/** Half-open index range [start, end) in a key space. */
export type IndexRange = readonly [start: number, end: number];

/**
 * How the partitions of a downstream asset map to partitions of an upstream asset.
 * `Card` says whether one downstream partition reads one upstream partition ("one": the body
 * gets the value) or several ("many": the body gets `{ [upstreamKey]: value }`).
 */
export interface PartitionMapping<Card extends "one" | "many" = "one" | "many"> {
  readonly kind: "identity" | "time_window" | "all" | "last" | "static" | "dimension" | "multi";
  readonly cardinality: Card;
  /** The cardinality between these two definitions (dimension mappings depend on direction). */
  cardinalityFor(downstream: PartitionsDefinition, upstream: PartitionsDefinition): "one" | "many";
  /** Why this mapping cannot connect these definitions, or undefined. */
  problem(downstream: PartitionsDefinition, upstream: PartitionsDefinition): string | undefined;
  /** Upstream key indices needed by one downstream key index. */
  upstreamOf(index: number, downstream: PartitionKeySpace, upstream: PartitionKeySpace): IndexRange[];
  /** Downstream key indices that read one upstream key index (for planning and staleness). */
  downstreamOf(index: number, downstream: PartitionKeySpace, upstream: PartitionKeySpace): IndexRange[];
  readonly description: string;
}

const clamp = (r: IndexRange, count: number): IndexRange[] => {
  const start = Math.max(0, r[0]);
  const end = Math.min(count, r[1]);
  return end > start ? [[start, end]] : [];
};

/** Same key upstream and downstream. */
export function identityMapping(): PartitionMapping<"one"> {
  return {
    kind: "identity",
    cardinalityFor() {
      return this.cardinality;
    },
    cardinality: "one",
    description: "identity",
    problem: (down, up) =>
      down.kind !== up.kind
        ? `identity mapping needs the same kind of partitions (${down.kind} vs ${up.kind})`
        : undefined,
    upstreamOf(index, down, up) {
      const i = up.indexOf(down.keyAt(index));
      return i < 0 ? [] : [[i, i + 1]];
    },
    downstreamOf(index, down, up) {
      const i = down.indexOf(up.keyAt(index));
      return i < 0 ? [] : [[i, i + 1]];
    },
  };
}

/**
 * Time windows: a downstream window reads every upstream window overlapping it (daily ← hourly
 * reads 24 hours), shifted by offsets counted in upstream windows: `startOffset: -1, endOffset: -1`
 * reads the previous window.
 */
export function timeWindowMapping(
  options: { startOffset?: number; endOffset?: number } = {},
): PartitionMapping<"many"> {
  const startOffset = options.startOffset ?? 0;
  const endOffset = options.endOffset ?? 0;
  if (!Number.isInteger(startOffset) || !Number.isInteger(endOffset))
    throw new Error("timeWindowMapping: startOffset and endOffset must be whole numbers");
  return {
    kind: "time_window",
    cardinalityFor() {
      return this.cardinality;
    },
    cardinality: "many",
    description: `time window (offsets ${startOffset}, ${endOffset})`,
    problem: (down, up) =>
      down.kind !== "time" || up.kind !== "time"
        ? `a time-window mapping needs time-window partitions on both assets (got ${down.kind} and ${up.kind})`
        : undefined,
    upstreamOf(index, down, up) {
      const w = (down as TimeWindowKeySpace).windowAt(index);
      const u = up as TimeWindowKeySpace;
      const first = u.indexContaining(w.start.getTime()) + startOffset;
      const last = u.indexContaining(w.end.getTime() - 1) + endOffset;
      return clamp([first, last + 1], u.count());
    },
    downstreamOf(index, down, up) {
      // Upstream window i is read by downstream windows overlapping it, shifted back by the offsets.
      const u = up as TimeWindowKeySpace;
      const d = down as TimeWindowKeySpace;
      const from = u.windowAt(Math.max(0, Math.min(u.count() - 1, index - endOffset)));
      const to = u.windowAt(Math.max(0, Math.min(u.count() - 1, index - startOffset)));
      const first = d.indexContaining(from.start.getTime());
      const last = d.indexContaining(to.end.getTime() - 1);
      return clamp([first, last + 1], d.count());
    },
  };
}

/** Every upstream partition (the default for an unpartitioned asset reading a partitioned one). */
export function allPartitionsMapping(): PartitionMapping<"many"> {
  return {
    kind: "all",
    cardinalityFor() {
      return this.cardinality;
    },
    cardinality: "many",
    description: "all partitions",
    problem: () => undefined,
    upstreamOf: (_i, _down, up) => clamp([0, up.count()], up.count()),
    downstreamOf: (_i, down) => clamp([0, down.count()], down.count()),
  };
}

/** Only the last upstream partition (e.g. the latest complete day). */
export function lastPartitionMapping(): PartitionMapping<"one"> {
  return {
    kind: "last",
    cardinalityFor() {
      return this.cardinality;
    },
    cardinality: "one",
    description: "last partition",
    problem: () => undefined,
    upstreamOf: (_i, _down, up) => clamp([up.count() - 1, up.count()], up.count()),
    downstreamOf: (index, down, up) =>
      index === up.count() - 1 ? clamp([0, down.count()], down.count()) : [],
  };
}

/** Explicit map from upstream key to downstream key(s), as in Dagster's StaticPartitionMapping. */
export function staticMapping(
  map: Readonly<Record<string, string | readonly string[]>>,
): PartitionMapping<"many"> {
  const downToUp = new Map<string, string[]>();
  for (const [up, downs] of Object.entries(map)) {
    for (const d of typeof downs === "string" ? [downs] : downs) {
      const list = downToUp.get(d) ?? [];
      list.push(up);
      downToUp.set(d, list);
    }
  }
  const ranges = (indices: number[]): IndexRange[] =>
    indices
      .filter((i) => i >= 0)
      .sort((a, b) => a - b)
      .map((i) => [i, i + 1] as const);
  return {
    kind: "static",
    cardinalityFor() {
      return this.cardinality;
    },
    cardinality: "many",
    description: "static map",
    problem: (down, up) => {
      if (down.kind !== "static" || up.kind !== "static")
        return `a static mapping needs static partitions on both assets (got ${down.kind} and ${up.kind})`;
      const upKeys = new Set(up.keyList);
      const downKeys = new Set(down.keyList);
      for (const [u, ds] of Object.entries(map)) {
        if (!upKeys.has(u))
          return `static mapping names upstream key "${u}", which the upstream does not have`;
        for (const d of typeof ds === "string" ? [ds] : ds)
          if (!downKeys.has(d))
            return `static mapping names downstream key "${d}", which the downstream does not have`;
      }
      return undefined;
    },
    upstreamOf: (index, down, up) =>
      ranges((downToUp.get(down.keyAt(index)) ?? []).map((k) => up.indexOf(k))),
    downstreamOf(index, down, up) {
      const mapped = map[up.keyAt(index)];
      const downs = mapped === undefined ? [] : typeof mapped === "string" ? [mapped] : mapped;
      return ranges(downs.map((k) => down.indexOf(k)));
    },
  };
}

function findDimension(def: PartitionsDefinition, name: string) {
  return def.kind === "multi" ? (def.dimensions as Record<string, PartitionsDefinition>)[name] : undefined;
}

/**
 * Between a multi-partitioned asset and a single-dimension one: map through dimension `dimension`
 * (with `mapping` for that dimension, identity by default) and keep/cover the others.
 * Downstream multi ← upstream single: each downstream key reads its dimension's upstream key.
 * Downstream single ← upstream multi: each downstream key reads every upstream key with that
 * dimension value (all values of the other dimensions).
 */
export function dimensionMapping<Card extends "one" | "many" = "one" | "many">(options: {
  dimension: string;
  mapping?: PartitionMapping;
}): PartitionMapping<Card> {
  const inner = options.mapping ?? identityMapping();
  const dim = options.dimension;
  return {
    kind: "dimension",
    cardinality: "many" as Card,
    cardinalityFor: (down, up) =>
      down.kind === "multi" && up.kind !== "multi"
        ? inner.cardinalityFor(findDimension(down, dim) ?? down, up)
        : "many",
    description: `dimension ${dim} (${inner.description})`,
    problem(down, up) {
      const downDim = findDimension(down, dim);
      const upDim = findDimension(up, dim);
      if (down.kind === "multi" && up.kind !== "multi") {
        if (!downDim) return `the downstream has no partition dimension "${dim}"`;
        return inner.problem(downDim, up);
      }
      if (up.kind === "multi" && down.kind !== "multi") {
        if (!upDim) return `the upstream has no partition dimension "${dim}"`;
        return inner.problem(down, upDim);
      }
      return "a dimension mapping connects a multi-partitioned asset with a single-dimension one";
    },
    upstreamOf(index, down, up) {
      if ("split" in down && !("split" in up)) {
        const m = down as MultiPartitionKeySpace;
        const parts = m.split(m.keyAt(index))!;
        const dSpace = m.dimension(dim);
        return inner.upstreamOf(dSpace.indexOf(parts[dim]!), dSpace, up);
      }
      const m = up as MultiPartitionKeySpace;
      const uSpace = m.dimension(dim);
      const out: IndexRange[] = [];
      for (const [s, e] of inner.upstreamOf(index, down, uSpace))
        for (let i = s; i < e; i++) out.push(...indicesWithDimension(m, dim, uSpace.keyAt(i)));
      return out;
    },
    downstreamOf(index, down, up) {
      if ("split" in down && !("split" in up)) {
        const m = down as MultiPartitionKeySpace;
        const dSpace = m.dimension(dim);
        const out: IndexRange[] = [];
        for (const [s, e] of inner.downstreamOf(index, dSpace, up))
          for (let i = s; i < e; i++) out.push(...indicesWithDimension(m, dim, dSpace.keyAt(i)));
        return out;
      }
      const m = up as MultiPartitionKeySpace;
      const parts = m.split(m.keyAt(index))!;
      const uSpace = m.dimension(dim);
      return inner.downstreamOf(uSpace.indexOf(parts[dim]!), down, uSpace);
    },
  };
}

/** Index ranges of every key of a multi space whose dimension `dim` equals `value`. */
function indicesWithDimension(space: MultiPartitionKeySpace, dim: string, value: string): IndexRange[] {
  const names = Object.keys(space.split(space.keyAt(0)) ?? {});
  const d = names.indexOf(dim);
  const counts = names.map((n) => space.dimension(n).count());
  const v = space.dimension(dim).indexOf(value);
  if (v < 0 || d < 0) return [];
  let stride = 1;
  for (let k = d + 1; k < counts.length; k++) stride *= counts[k]!;
  const block = stride * counts[d]!;
  const out: IndexRange[] = [];
  for (let base = 0; base < space.count(); base += block)
    out.push([base + v * stride, base + (v + 1) * stride]);
  return out;
}

/**
 * The mapping used when an asset names none. Unpartitioned downstream ← partitioned upstream:
 * all partitions. Same definitions: identity. Two time windows of different grain: time window.
 * Multi downstream ← single upstream: through the dimension with the same definition; single
 * downstream ← multi upstream likewise. Anything else has no default (a definitions error).
 */
export function defaultMapping(
  down: PartitionsDefinition | undefined,
  up: PartitionsDefinition,
): PartitionMapping | string {
  if (!down) return allPartitionsMapping();
  if (down.fingerprint === up.fingerprint) return identityMapping();
  if (down.kind === "time" && up.kind === "time")
    return sameGrain(down, up) ? identityMapping() : timeWindowMapping();
  if (down.kind === up.kind && down.kind !== "multi") return identityMapping();
  if (down.kind === "multi" && up.kind !== "multi") {
    const dim = matchingDimension(down, up);
    if (dim) return dimensionMapping({ dimension: dim });
  }
  if (up.kind === "multi" && down.kind !== "multi") {
    const dim = matchingDimension(up, down);
    if (dim) return dimensionMapping({ dimension: dim });
  }
  if (down.kind === "multi" && up.kind === "multi") {
    const same =
      down.dimensionNames.length === up.dimensionNames.length &&
      down.dimensionNames.every(
        (n, i) => up.dimensionNames[i] === n && down.dimensions[n]!.kind === up.dimensions[n]!.kind,
      );
    if (same) return identityMapping();
  }
  return `their partitions are incompatible (${describeDef(down)} vs ${describeDef(up)}); add a partition mapping`;
}

function sameGrain(a: TimeWindowPartitionsDefinition, b: TimeWindowPartitionsDefinition): boolean {
  return a.unit !== undefined && a.unit === b.unit && a.cron === b.cron && a.timezone === b.timezone;
}

function matchingDimension(
  multi: PartitionsDefinition & { kind: "multi" },
  single: PartitionsDefinition,
): string | undefined {
  const names = multi.dimensionNames;
  return (
    names.find((n) => multi.dimensions[n]!.fingerprint === single.fingerprint) ??
    names.find((n) => {
      const d = multi.dimensions[n]!;
      return (
        d.kind === single.kind &&
        (d.kind !== "time" || sameGrain(d, single as TimeWindowPartitionsDefinition))
      );
    })
  );
}

const GRAIN_NAMES = { hour: "hourly", day: "daily", week: "weekly", month: "monthly" } as const;

export function describeDef(def: PartitionsDefinition): string {
  switch (def.kind) {
    case "time":
      return def.unit ? `${GRAIN_NAMES[def.unit]} time windows` : `cron "${def.cron}" time windows`;
    case "multi":
      return `multi (${def.dimensionNames.join(" × ")})`;
    default:
      return def.kind;
  }
}
