import {
  checkIndex,
  MULTI_KEY_SEPARATOR,
  type MultiPartitionKeySpace,
  type MultiPartitionsDefinition,
  PARTITIONS_BRAND,
  type PartitionKeySpace,
  rangeKeys,
  type SingleDimensionPartitions,
} from "./partitions.js";

/**
 * The cartesian product of two or more dimensions, e.g. month × taxi type. Keys join the
 * dimension keys with "|" in declaration order (`2019-01|yellow`); index is row-major, so the
 * last dimension varies fastest. Lazy like its dimensions.
 */
export function multiPartitions<const D extends Readonly<Record<string, SingleDimensionPartitions>>>(
  dimensions: D,
): MultiPartitionsDefinition<D> {
  const names = Object.keys(dimensions) as (keyof D & string)[];
  if (names.length < 2) throw new Error("multiPartitions needs at least two dimensions");
  for (const name of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new Error(`multiPartitions: invalid dimension name "${name}" (letters, digits, "_")`);
    const def = dimensions[name] as unknown;
    if (
      typeof def !== "object" ||
      def === null ||
      (def as { kind?: string }).kind === "multi" ||
      !(def as object)
    )
      throw new Error(
        `multiPartitions: dimension "${name}" must be a static, time-window or dynamic partitions definition`,
      );
  }
  return {
    [PARTITIONS_BRAND]: true,
    kind: "multi",
    dimensions,
    dimensionNames: names,
    fingerprint: `multi:${names.map((n) => `${n}=${dimensions[n]!.fingerprint}`).join(";")}`,
    describeFormat: (surface) =>
      `${names.join(MULTI_KEY_SEPARATOR)} where ${names.map((n) => `${n} is ${dimensions[n]!.describeFormat(surface)}`).join(" and ")}`,
    resolve(ctx): MultiPartitionKeySpace {
      const spaces = names.map((n) => dimensions[n]!.resolve(ctx) as PartitionKeySpace);
      const counts = spaces.map((s) => s.count());
      const strides: number[] = new Array(spaces.length);
      let total = 1;
      for (let d = spaces.length - 1; d >= 0; d--) {
        strides[d] = total;
        total *= counts[d]!;
      }
      const space: MultiPartitionKeySpace = {
        count: () => total,
        keyAt(index) {
          checkIndex(space, index);
          const parts: string[] = [];
          for (let d = 0; d < spaces.length; d++) {
            const i = Math.floor(index / strides[d]!) % counts[d]!;
            parts.push(spaces[d]!.keyAt(i));
          }
          return parts.join(MULTI_KEY_SEPARATOR);
        },
        indexOf(key) {
          const parts = key.split(MULTI_KEY_SEPARATOR);
          if (parts.length !== spaces.length) return -1;
          let index = 0;
          for (let d = 0; d < spaces.length; d++) {
            const i = spaces[d]!.indexOf(parts[d]!);
            if (i < 0) return -1;
            index += i * strides[d]!;
          }
          return index;
        },
        keys: (start, end) => rangeKeys(space, start, end),
        dimension(name) {
          const d = names.indexOf(name as keyof D & string);
          if (d < 0)
            throw new Error(`unknown partition dimension "${name}" (dimensions: ${names.join(", ")})`);
          return spaces[d]!;
        },
        split(key) {
          const parts = key.split(MULTI_KEY_SEPARATOR);
          if (parts.length !== names.length) return undefined;
          const out: Record<string, string> = {};
          names.forEach((n, d) => {
            out[n] = parts[d]!;
          });
          return out;
        },
        join: (parts) => names.map((n) => parts[n] ?? "").join(MULTI_KEY_SEPARATOR),
      };
      return space;
    },
  };
}
