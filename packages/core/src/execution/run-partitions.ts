import { createHash } from "node:crypto";
import type { PartitionMapping } from "../definitions/partitions/mappings.js";
import {
  type MultiPartitionKeySpace,
  type PartitionKeySpace,
  type PartitionsContext,
  type PartitionsDefinition,
  rangeKeys,
  type TimeWindow,
  type TimeWindowKeySpace,
} from "../definitions/partitions/partitions.js";
import { BatonError } from "../errors.js";

/** The partitions a run covers, and key spaces of every definition it touches. */
export interface RunPartitions {
  readonly definition: PartitionsDefinition;
  readonly space: PartitionKeySpace;
  readonly keys: readonly string[];
  /** Indices of `keys` in `space`, ascending. */
  readonly indices: readonly number[];
}

/** Resolves key spaces (cached per definition) against one clock and the stored dynamic keys. */
export interface KeySpaces {
  readonly context: PartitionsContext;
  of(definition: PartitionsDefinition): PartitionKeySpace;
  /**
   * Identifies the resolved key order: the definition's fingerprint, plus the current keys of
   * dynamic partitions (adding or removing one shifts indices, so stored indices must re-sync).
   */
  fingerprintOf(definition: PartitionsDefinition): string;
}

export function createKeySpaces(context: PartitionsContext): KeySpaces {
  const cache = new Map<string, PartitionKeySpace>();
  const fingerprintOf = (definition: PartitionsDefinition): string => {
    if (definition.kind === "dynamic") {
      const keys = context.dynamicKeys(definition.name);
      return `${definition.fingerprint}:${keys.length}:${createHash("sha1").update(keys.join("\n")).digest("hex")}`;
    }
    if (definition.kind === "multi")
      return `multi:${definition.dimensionNames.map((n) => fingerprintOf(definition.dimensions[n]!)).join(";")}`;
    return definition.fingerprint;
  };
  return {
    context,
    fingerprintOf,
    of(definition) {
      let space = cache.get(definition.fingerprint);
      if (!space) {
        space = definition.resolve(context);
        cache.set(definition.fingerprint, space);
      }
      return space;
    },
  };
}

/** A one-key space standing for "not partitioned" on the downstream side of a mapping. */
export const UNPARTITIONED_SPACE: PartitionKeySpace = {
  count: () => 1,
  keyAt: () => "",
  indexOf: (key) => (key === "" ? 0 : -1),
  keys: (start, end) => rangeKeys(UNPARTITIONED_SPACE, start, end),
};

/** Upstream indices (sorted, unique) read by the given downstream indices through `mapping`. */
export function mappedUpstreamIndices(
  mapping: PartitionMapping,
  downIndices: readonly number[],
  down: PartitionKeySpace,
  up: PartitionKeySpace,
): number[] {
  const seen = new Set<number>();
  for (const i of downIndices)
    for (const [s, e] of mapping.upstreamOf(i, down, up)) for (let j = s; j < e; j++) seen.add(j);
  return [...seen].sort((a, b) => a - b);
}

function timeWindowOf(
  definition: PartitionsDefinition,
  space: PartitionKeySpace,
  indices: readonly number[],
) {
  if (indices.length === 0) return undefined;
  if (definition.kind === "time") {
    const s = space as TimeWindowKeySpace;
    return { start: s.windowAt(indices[0]!).start, end: s.windowAt(indices[indices.length - 1]!).end };
  }
  if (definition.kind === "multi" && indices.length === 1) {
    const m = space as MultiPartitionKeySpace;
    const parts = m.split(m.keyAt(indices[0]!))!;
    for (const name of definition.dimensionNames) {
      if (definition.dimensions[name]!.kind !== "time") continue;
      const dim = m.dimension(name) as TimeWindowKeySpace;
      return dim.windowAt(dim.indexOf(parts[name]!));
    }
  }
  return undefined;
}

/**
 * Property descriptors for a context's partition fields. `partitionKey` is a getter so a run over
 * several partitions fails clearly when a body asks for one key.
 */
export function partitionFieldDescriptors(run: RunPartitions | undefined): PropertyDescriptorMap {
  if (!run) {
    return {
      partitionKey: { value: undefined, enumerable: true },
      partitionKeys: { value: [], enumerable: true },
      partitionTimeWindow: { value: undefined, enumerable: true },
      partitionDimensions: { value: undefined, enumerable: true },
    };
  }
  const window: TimeWindow | undefined = timeWindowOf(run.definition, run.space, run.indices);
  const single = run.keys.length === 1 ? run.keys[0]! : undefined;
  const dimensions =
    single !== undefined && run.definition.kind === "multi"
      ? (run.space as MultiPartitionKeySpace).split(single)
      : undefined;
  return {
    partitionKey: {
      enumerable: true,
      get() {
        if (single === undefined)
          throw new BatonError(
            "USER_CODE_ERROR",
            `this run covers ${run.keys.length} partitions (${run.keys[0]} … ${run.keys[run.keys.length - 1]}): ` +
              "use ctx.partitionKeys or ctx.partitionTimeWindow instead of ctx.partitionKey",
          );
        return single;
      },
    },
    partitionKeys: { value: run.keys, enumerable: true },
    partitionTimeWindow: { value: window, enumerable: true },
    partitionDimensions: { value: dimensions, enumerable: true },
  };
}

export function valueKey(assetKey: string, partitionKey: string | undefined): string {
  return partitionKey === undefined ? assetKey : `${assetKey}\u0000${partitionKey}`;
}
