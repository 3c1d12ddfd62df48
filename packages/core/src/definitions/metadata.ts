/**
 * Typed metadata attached to materializations and check results. Users may pass plain values
 * (numbers, strings, booleans, plain objects) or explicit typed entries built with `md.*`.
 */
export type MetadataValue =
  | { readonly type: "number"; readonly value: number }
  | { readonly type: "text"; readonly value: string }
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "json"; readonly value: unknown }
  | { readonly type: "url"; readonly value: string }
  | { readonly type: "path"; readonly value: string }
  | { readonly type: "row_count"; readonly value: number }
  | { readonly type: "duration_ms"; readonly value: number }
  | {
      readonly type: "table_schema";
      readonly value: readonly { readonly name: string; readonly type: string }[];
    };

export type MetadataType = MetadataValue["type"];

const METADATA_BRAND = Symbol.for("baton.metadata");

type Branded = MetadataValue & { readonly [METADATA_BRAND]: true };

function entry<T extends MetadataValue>(value: T): T {
  return Object.defineProperty({ ...value }, METADATA_BRAND, { value: true, enumerable: false }) as T;
}

/** Builders for explicitly typed metadata values. */
export const md = {
  number: (value: number) => entry({ type: "number", value }),
  text: (value: string) => entry({ type: "text", value }),
  bool: (value: boolean) => entry({ type: "bool", value }),
  json: (value: unknown) => entry({ type: "json", value }),
  url: (value: string) => entry({ type: "url", value }),
  path: (value: string) => entry({ type: "path", value }),
  rowCount: (value: number) => entry({ type: "row_count", value }),
  durationMs: (value: number) => entry({ type: "duration_ms", value }),
  tableSchema: (columns: readonly { name: string; type: string }[]) =>
    entry({ type: "table_schema", value: columns.map((c) => ({ name: c.name, type: c.type })) }),
} as const;

/** What users may write as a metadata value. */
export type MetadataInput = number | string | boolean | null | MetadataValue | readonly unknown[] | object;
/** `undefined` values are skipped (handy with conditional metadata). */
export type MetadataInputMap = Readonly<Record<string, MetadataInput | undefined>>;
export type MetadataMap = Readonly<Record<string, MetadataValue>>;

function isBranded(value: unknown): value is Branded {
  return (
    typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[METADATA_BRAND] === true
  );
}

export function normalizeMetadataValue(value: MetadataInput): MetadataValue {
  if (isBranded(value)) {
    const { type, value: v } = value;
    return { type, value: v } as MetadataValue;
  }
  switch (typeof value) {
    case "number":
      return { type: "number", value };
    case "string":
      return { type: "text", value };
    case "boolean":
      return { type: "bool", value };
    default:
      return { type: "json", value: toJsonSafe(value) };
  }
}

export function normalizeMetadata(input: MetadataInputMap | undefined): Record<string, MetadataValue> {
  const out: Record<string, MetadataValue> = {};
  if (!input) return out;
  for (const [k, v] of Object.entries(input)) if (v !== undefined) out[k] = normalizeMetadataValue(v);
  return out;
}

/** JSON text of a value: bigint becomes a number when safe (else a string), Dates ISO strings. */
export function stringifyJsonSafe(value: unknown): string {
  return JSON.stringify(value ?? null, (_k, v) => {
    if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    return v;
  });
}

/** JSON-safe copy of a value (see stringifyJsonSafe). */
export function toJsonSafe(value: unknown): unknown {
  return JSON.parse(stringifyJsonSafe(value));
}
