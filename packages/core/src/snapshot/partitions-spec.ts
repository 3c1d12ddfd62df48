import { multiPartitions } from "../definitions/partitions/multi-partitions.js";
import type {
  PartitionsDefinition,
  SingleDimensionPartitions,
  TimeUnit,
} from "../definitions/partitions/partitions.js";
import { dynamicPartitions, staticPartitions } from "../definitions/partitions/static-partitions.js";
import {
  dailyPartitions,
  hourlyPartitions,
  monthlyPartitions,
  timeWindowPartitions,
  weeklyPartitions,
} from "../definitions/partitions/time-window.js";

/** A partitions definition as plain JSON: enough to rebuild it (same fingerprint) without user code. */
export type PartitionsSpec =
  | { readonly kind: "static"; readonly keys: readonly string[] }
  | { readonly kind: "dynamic"; readonly name: string }
  | {
      readonly kind: "time";
      readonly unit: TimeUnit | null;
      readonly cron: string | null;
      readonly timezone: string;
      readonly format: string;
      /** ISO instants. */
      readonly start: string;
      readonly end: string | null;
      readonly endOffset: number;
      readonly offsets: Readonly<Record<string, number>>;
    }
  | {
      readonly kind: "multi";
      readonly dimensions: readonly { readonly name: string; readonly spec: PartitionsSpec }[];
    };

export function partitionsSpec(def: PartitionsDefinition): PartitionsSpec {
  switch (def.kind) {
    case "static":
      return { kind: "static", keys: [...def.keyList] };
    case "dynamic":
      return { kind: "dynamic", name: def.name };
    case "time":
      return {
        kind: "time",
        unit: def.unit ?? null,
        cron: def.unit ? null : (def.cron ?? null),
        timezone: def.timezone,
        format: def.format,
        start: new Date(def.start).toISOString(),
        end: def.end === undefined ? null : new Date(def.end).toISOString(),
        endOffset: def.endOffset,
        offsets: { ...def.offsets },
      };
    case "multi":
      return {
        kind: "multi",
        dimensions: def.dimensionNames.map((name) => ({ name, spec: partitionsSpec(def.dimensions[name]!) })),
      };
  }
}

/** Rebuild a partitions definition from its spec (the webserver does this; it never loads user code). */
export function partitionsFromSpec(spec: PartitionsSpec): PartitionsDefinition {
  switch (spec.kind) {
    case "static":
      return staticPartitions(spec.keys);
    case "dynamic":
      return dynamicPartitions({ name: spec.name });
    case "multi":
      return multiPartitions(
        Object.fromEntries(
          spec.dimensions.map((d) => [d.name, partitionsFromSpec(d.spec) as SingleDimensionPartitions]),
        ),
      );
    case "time": {
      const common = {
        start: new Date(spec.start),
        ...(spec.end !== null ? { end: new Date(spec.end) } : {}),
        timezone: spec.timezone,
        format: spec.format,
        endOffset: spec.endOffset,
      };
      const o = spec.offsets;
      switch (spec.unit) {
        case "hour":
          return hourlyPartitions({ ...common, minuteOffset: o.minuteOffset });
        case "day":
          return dailyPartitions({ ...common, hourOffset: o.hourOffset });
        case "week":
          return weeklyPartitions({ ...common, dayOffset: o.dayOffset });
        case "month":
          return monthlyPartitions({ ...common, dayOffset: o.dayOffset });
        default:
          return timeWindowPartitions({ ...common, cron: spec.cron ?? "" });
      }
    }
  }
}
