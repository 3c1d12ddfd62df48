/** A run config's JSON Schema as readable rows: field (dotted path), type, required, default, description. */

export interface SchemaRow {
  readonly field: string;
  readonly type: string;
  readonly required: boolean;
  /** JSON of the default, or null when there is none. */
  readonly default: string | null;
  readonly description: string | null;
}

type Schema = Record<string, unknown>;
const isSchema = (v: unknown): v is Schema => v !== null && typeof v === "object" && !Array.isArray(v);

/** A schema's type in words: `string`, `integer ≥ 0`, `"a" | "b"`, `array of string`, `string | null`. */
export function schemaType(schema: unknown, defs: Schema = {}): string {
  if (!isSchema(schema)) return schema === true ? "any" : "never";
  const ref = typeof schema.$ref === "string" ? resolveRef(schema.$ref, defs) : null;
  if (ref) return schemaType(ref, defs);
  if ("const" in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  const union = (schema.anyOf ?? schema.oneOf) as unknown;
  if (Array.isArray(union)) return [...new Set(union.map((s) => schemaType(s, defs)))].join(" | ");
  if (Array.isArray(schema.allOf)) return schema.allOf.map((s) => schemaType(s, defs)).join(" & ");
  const types = Array.isArray(schema.type)
    ? (schema.type as string[])
    : schema.type
      ? [String(schema.type)]
      : [];
  if (types.length === 0) return isSchema(schema.properties) ? "object" : "any";
  return types
    .map((t) => {
      if (t === "array") {
        const items = schema.items;
        return items ? `array of ${schemaType(items, defs)}` : "array";
      }
      if (t === "object" && isSchema(schema.additionalProperties))
        return `map of ${schemaType(schema.additionalProperties, defs)}`;
      const bounds: string[] = [];
      if (typeof schema.minimum === "number") bounds.push(`≥ ${schema.minimum}`);
      if (typeof schema.exclusiveMinimum === "number") bounds.push(`> ${schema.exclusiveMinimum}`);
      if (typeof schema.maximum === "number") bounds.push(`≤ ${schema.maximum}`);
      if (typeof schema.exclusiveMaximum === "number") bounds.push(`< ${schema.exclusiveMaximum}`);
      if (typeof schema.format === "string") bounds.push(`(${schema.format})`);
      return [t, ...bounds].join(" ");
    })
    .join(" | ");
}

function resolveRef(ref: string, root: Schema): Schema | null {
  if (!ref.startsWith("#/")) return null;
  let node: unknown = root;
  for (const part of ref.slice(2).split("/")) node = isSchema(node) ? node[part] : undefined;
  return isSchema(node) ? node : null;
}

/** Every field of an object schema, nested objects flattened to dotted paths (depth-limited). */
export function schemaRows(schema: unknown): SchemaRow[] {
  if (!isSchema(schema)) return [];
  const rows: SchemaRow[] = [];
  const walk = (node: Schema, prefix: string, depth: number) => {
    const resolved = typeof node.$ref === "string" ? (resolveRef(node.$ref, schema) ?? node) : node;
    const props = resolved.properties;
    if (!isSchema(props)) return;
    const required = new Set(Array.isArray(resolved.required) ? (resolved.required as string[]) : []);
    for (const [name, raw] of Object.entries(props)) {
      const field = prefix ? `${prefix}.${name}` : name;
      const p = isSchema(raw) && typeof raw.$ref === "string" ? (resolveRef(raw.$ref, schema) ?? raw) : raw;
      const ps = isSchema(p) ? p : {};
      const nested = isSchema(ps.properties) && depth < 5;
      rows.push({
        field,
        type: nested ? "object" : schemaType(p, schema),
        required: required.has(name) && !("default" in ps),
        default: "default" in ps ? JSON.stringify(ps.default) : null,
        description: typeof ps.description === "string" ? ps.description : null,
      });
      if (nested) walk(ps, field, depth + 1);
    }
  };
  walk(schema, "", 0);
  return rows;
}
