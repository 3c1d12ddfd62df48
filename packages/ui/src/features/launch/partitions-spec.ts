import type { PartitionsSpec } from "@baton/webserver/api-types";

type Single = Exclude<PartitionsSpec, { kind: "multi" }>;

/** Whether two assets share one partitions definition (same serialized spec). */
export const sameSpec = (a: PartitionsSpec | null, b: PartitionsSpec | null) =>
  JSON.stringify(a) === JSON.stringify(b);

function describeSingle(spec: Single): string {
  switch (spec.kind) {
    case "static":
      return spec.keys.length <= 4
        ? `static: ${spec.keys.join(", ")}`
        : `static: ${spec.keys.slice(0, 3).join(", ")} … (${spec.keys.length})`;
    case "dynamic":
      return `dynamic "${spec.name}"`;
    case "time": {
      const every = spec.unit ? `${spec.unit}ly`.replace("dayly", "daily") : `cron ${spec.cron}`;
      return `${every} from ${spec.start.slice(0, spec.unit === "hour" ? 16 : 10)}${spec.end ? ` to ${spec.end.slice(0, 10)}` : ""}`;
    }
  }
}

/** "monthly from 2019-01-01 to 2021-08-01", "month × taxi (multi)", "static: a, b". */
export function describeSpec(spec: PartitionsSpec | null): string {
  if (!spec) return "not partitioned";
  if (spec.kind === "multi") return spec.dimensions.map((d) => d.name).join(" × ");
  return describeSingle(spec);
}
