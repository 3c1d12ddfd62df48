import {
  checkIndex,
  type DynamicPartitionsDefinition,
  PARTITIONS_BRAND,
  type PartitionKeySpace,
  rangeKeys,
  type StaticPartitionsDefinition,
} from "./partitions.js";

/** Keys must be usable in paths, URLs and multi-partition keys. */
const KEY = /^[^|/\\\s][^|/\\]*$/;

export function partitionKeyProblem(key: string): string | undefined {
  if (typeof key !== "string" || key.length === 0) return "partition keys must be non-empty strings";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is rejected.
  if (/[\u0000-\u001f]/.test(key))
    return `invalid partition key ${JSON.stringify(key)}: control characters are not allowed`;
  if (!KEY.test(key) || key.trim() !== key)
    return `invalid partition key "${key}": keys may not contain "|", "/" or "\\" nor start or end with spaces`;
  return undefined;
}

function listSpace(keys: readonly string[]): PartitionKeySpace {
  const index = new Map<string, number>();
  keys.forEach((k, i) => {
    if (!index.has(k)) index.set(k, i);
  });
  const space: PartitionKeySpace = {
    count: () => keys.length,
    keyAt(i) {
      checkIndex(space, i);
      return keys[i]!;
    },
    indexOf: (key) => index.get(key) ?? -1,
    keys: (start, end) => rangeKeys(space, start, end),
  };
  return space;
}

/** A fixed list of keys, e.g. taxi types: `staticPartitions(["yellow", "green"])`. */
export function staticPartitions<const K extends string>(keys: readonly K[]): StaticPartitionsDefinition<K> {
  const problems = keys.map(partitionKeyProblem).filter((p): p is string => p !== undefined);
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k)) problems.push(`duplicate partition key "${k}"`);
    seen.add(k);
  }
  if (keys.length === 0) problems.push("staticPartitions needs at least one key");
  if (problems.length > 0) throw new Error(`staticPartitions: ${problems.join("; ")}`);
  const space = listSpace(keys);
  return {
    [PARTITIONS_BRAND]: true,
    kind: "static",
    keyList: [...keys],
    fingerprint: `static:${JSON.stringify(keys)}`,
    describeFormat: () =>
      `one of ${keys.slice(0, 10).join(", ")}${keys.length > 10 ? `, … (${keys.length} keys)` : ""}`,
    resolve: () => space,
  };
}

/**
 * Keys added and removed at runtime (by sensors, the CLI `baton partitions add NAME KEY…`, or
 * the API), stored in the instance under `name`, in insertion order.
 */
export function dynamicPartitions(options: { name: string }): DynamicPartitionsDefinition {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(options.name))
    throw new Error(`dynamicPartitions: invalid name "${options.name}" (letters, digits, "_", "-", ".")`);
  return {
    [PARTITIONS_BRAND]: true,
    kind: "dynamic",
    name: options.name,
    fingerprint: `dynamic:${options.name}`,
    describeFormat: (surface) =>
      `a key added to dynamic partitions "${options.name}" (${
        surface === "api"
          ? `POST /api/partitions/${encodeURIComponent(options.name)}/add`
          : `baton partitions add ${options.name} KEY`
      })`,
    resolve: (ctx) => listSpace(ctx.dynamicKeys(options.name)),
  };
}
