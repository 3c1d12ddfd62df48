/**
 * Run config forms generated from an asset's JSON Schema (what zod's `toJSONSchema` writes for the
 * input side): the schema becomes a tree of fields, the form keeps raw input strings by field path,
 * and `valuesToConfig` turns them back into the config object (or says which field is wrong).
 * Pure functions: the dialog renders the fields, the tests pin the mapping.
 */

export type Primitive = string | number | boolean | null;

interface FieldBase {
  /** Property names from the root (the config object itself is `[]`). */
  readonly path: readonly string[];
  readonly label: string;
  readonly description?: string;
  readonly required: boolean;
}

export type FormField =
  | (FieldBase & { readonly kind: "string"; readonly default?: string; readonly multiline?: boolean })
  | (FieldBase & {
      readonly kind: "number";
      readonly integer: boolean;
      readonly default?: number;
      readonly minimum?: number;
      readonly maximum?: number;
    })
  | (FieldBase & { readonly kind: "boolean"; readonly default?: boolean })
  | (FieldBase & {
      readonly kind: "enum";
      readonly options: readonly Primitive[];
      readonly default?: Primitive;
    })
  | (FieldBase & { readonly kind: "object"; readonly fields: readonly FormField[] })
  | (FieldBase & {
      readonly kind: "array";
      readonly items: "string" | "number" | "integer" | "boolean";
      readonly default?: readonly Primitive[];
    })
  /** Anything the form cannot express (unions, arrays of objects, maps): edited as JSON text. */
  | (FieldBase & { readonly kind: "json"; readonly default?: unknown });

/** Raw input by field path (`a.b`): text for inputs, booleans for checkboxes. */
export type FormValues = Readonly<Record<string, string | boolean>>;

type Schema = Record<string, unknown>;

const isObj = (v: unknown): v is Schema => typeof v === "object" && v !== null && !Array.isArray(v);
export const pathKey = (path: readonly string[]) => path.join(".");

/** `dropNegativeFares` → "Drop negative fares"; `max_rows` → "Max rows". */
export function labelOf(name: string): string {
  const words = name
    .replace(/[_-]+/g, " ")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .trim()
    .toLowerCase();
  return words ? words[0]!.toUpperCase() + words.slice(1) : name;
}

/** Follow a local `$ref` (`#/$defs/X`, `#/definitions/X`) against the root schema. */
function deref(schema: Schema, root: Schema): Schema {
  let s = schema;
  for (let i = 0; i < 10 && typeof s.$ref === "string"; i++) {
    const ref = s.$ref as string;
    if (!ref.startsWith("#/")) break;
    let target: unknown = root;
    for (const part of ref.slice(2).split("/")) target = isObj(target) ? target[part] : undefined;
    if (!isObj(target)) break;
    const { $ref: _, ...rest } = s;
    s = { ...target, ...rest };
  }
  return s;
}

/** A schema with a `null` alternative stripped (nullable fields are simply optional in the form). */
function withoutNull(schema: Schema): Schema {
  for (const key of ["anyOf", "oneOf"] as const) {
    const alts = schema[key];
    if (Array.isArray(alts)) {
      const rest = alts.filter((a) => !(isObj(a) && (a.type === "null" || a.const === null)));
      if (rest.length === 1 && isObj(rest[0])) {
        const { [key]: _, ...others } = schema;
        return { ...others, ...rest[0] };
      }
    }
  }
  if (Array.isArray(schema.type)) {
    const types = schema.type.filter((t) => t !== "null");
    if (types.length === 1) return { ...schema, type: types[0] };
  }
  return schema;
}

const MAX_DEPTH = 8;

function fieldOf(
  raw: Schema,
  root: Schema,
  path: readonly string[],
  required: boolean,
  depth: number,
): FormField {
  const schema = withoutNull(deref(raw, root));
  const name = path[path.length - 1] ?? "config";
  const base = {
    path,
    label: typeof schema.title === "string" ? schema.title : labelOf(name),
    required,
    ...(typeof schema.description === "string" ? { description: schema.description } : {}),
  };
  const def = schema.default;
  if (Array.isArray(schema.enum) || "const" in schema) {
    const options = (Array.isArray(schema.enum) ? schema.enum : [schema.const]).filter(
      (o): o is Primitive => o === null || ["string", "number", "boolean"].includes(typeof o),
    );
    return { ...base, kind: "enum", options, ...(def !== undefined ? { default: def as Primitive } : {}) };
  }
  // A union of constants (zod's z.union([z.literal("a"), z.literal("b")])) is an enum too.
  const alts = (schema.anyOf ?? schema.oneOf) as unknown;
  if (Array.isArray(alts) && alts.every((a) => isObj(a) && "const" in a)) {
    const options = alts.map((a) => (a as Schema).const as Primitive);
    return { ...base, kind: "enum", options, ...(def !== undefined ? { default: def as Primitive } : {}) };
  }
  const type = schema.type;
  if (type === "string")
    return {
      ...base,
      kind: "string",
      ...(typeof def === "string" ? { default: def } : {}),
      ...(typeof schema.maxLength === "number" && schema.maxLength > 200 ? { multiline: true } : {}),
    };
  if (type === "number" || type === "integer")
    return {
      ...base,
      kind: "number",
      integer: type === "integer",
      ...(typeof def === "number" ? { default: def } : {}),
      ...(typeof schema.minimum === "number" ? { minimum: schema.minimum } : {}),
      ...(typeof schema.maximum === "number" ? { maximum: schema.maximum } : {}),
    };
  if (type === "boolean")
    return { ...base, kind: "boolean", ...(typeof def === "boolean" ? { default: def } : {}) };
  if (type === "object" && isObj(schema.properties) && depth < MAX_DEPTH) {
    const req = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
    const fields = Object.entries(schema.properties)
      .filter(([, s]) => isObj(s))
      .map(([k, s]) => fieldOf(s as Schema, root, [...path, k], req.has(k), depth + 1));
    return { ...base, kind: "object", fields };
  }
  if (type === "array" && isObj(schema.items)) {
    const items = withoutNull(deref(schema.items, root)).type;
    if (items === "string" || items === "number" || items === "integer" || items === "boolean")
      return {
        ...base,
        kind: "array",
        items,
        ...(Array.isArray(def) ? { default: def as Primitive[] } : {}),
      };
  }
  return { ...base, kind: "json", ...(def !== undefined ? { default: def } : {}) };
}

/**
 * The form of a config JSON Schema: an object field (its `fields` are the form's top level), or a
 * single JSON field when the schema is not an object with properties. Null for no schema.
 */
export function schemaToForm(schema: unknown): FormField | null {
  if (!isObj(schema)) return null;
  return fieldOf(schema, schema, [], true, 0);
}

/** Each field with its children, depth first. */
export function* walkFields(field: FormField): Generator<FormField> {
  yield field;
  if (field.kind === "object") for (const f of field.fields) yield* walkFields(f);
}

function formatDefault(field: FormField): string | boolean | undefined {
  switch (field.kind) {
    case "string":
      return field.default;
    case "number":
      return field.default === undefined ? undefined : String(field.default);
    case "boolean":
      return field.default ?? false;
    case "enum":
      return field.default === undefined ? undefined : JSON.stringify(field.default);
    case "array":
      return field.default?.map(String).join(", ");
    case "json":
      return field.default === undefined ? undefined : JSON.stringify(field.default, null, 2);
    default:
      return undefined;
  }
}

/** The form's starting values: every default prefilled, checkboxes unticked otherwise. */
export function defaultValues(form: FormField | null): FormValues {
  const out: Record<string, string | boolean> = {};
  if (!form) return out;
  for (const f of walkFields(form)) {
    const v = formatDefault(f);
    if (v !== undefined) out[pathKey(f.path)] = v;
  }
  return out;
}

/** The enum option a select's value stands for (options are stored JSON-encoded: 1 ≠ "1"). */
export const enumValue = (text: string): Primitive => JSON.parse(text) as Primitive;

export interface ConfigResult {
  /** The config object (undefined when nothing was filled in and nothing is required). */
  readonly value: unknown;
  /** Problems by field path (`a.b`); empty when the value is usable. */
  readonly errors: Readonly<Record<string, string>>;
}

function parseScalar(
  text: string,
  type: "string" | "number" | "integer" | "boolean",
): { ok: true; value: Primitive } | { ok: false; message: string } {
  if (type === "string") return { ok: true, value: text };
  if (type === "boolean") {
    if (/^(true|yes|1)$/i.test(text)) return { ok: true, value: true };
    if (/^(false|no|0)$/i.test(text)) return { ok: true, value: false };
    return { ok: false, message: `"${text}" is not true or false` };
  }
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n)) return { ok: false, message: `"${text}" is not a number` };
  if (type === "integer" && !Number.isInteger(n))
    return { ok: false, message: `"${text}" is not a whole number` };
  return { ok: true, value: n };
}

/** The config object the form's values describe, with a message for every field that is wrong. */
export function valuesToConfig(form: FormField | null, values: FormValues): ConfigResult {
  const errors: Record<string, string> = {};
  if (!form) return { value: undefined, errors };
  const read = (field: FormField): { set: boolean; value?: unknown } => {
    const key = pathKey(field.path);
    const raw = values[key];
    const text = typeof raw === "string" ? raw : "";
    const missing = () => {
      if (field.required) errors[key] = "Required";
      return { set: false };
    };
    switch (field.kind) {
      case "object": {
        const obj: Record<string, unknown> = {};
        for (const f of field.fields) {
          const r = read(f);
          if (r.set) obj[f.path[f.path.length - 1]!] = r.value;
        }
        return Object.keys(obj).length > 0 || field.required ? { set: true, value: obj } : { set: false };
      }
      case "boolean":
        return raw === undefined && !field.required ? { set: false } : { set: true, value: raw === true };
      case "string":
        // A required string left empty is most likely forgotten (the JSON editor can send "").
        if (text === "") return missing();
        return { set: true, value: text };
      case "number": {
        if (text.trim() === "") return missing();
        const r = parseScalar(text.trim(), field.integer ? "integer" : "number");
        if (!r.ok) {
          errors[key] = r.message;
          return { set: false };
        }
        const n = r.value as number;
        if (field.minimum !== undefined && n < field.minimum) errors[key] = `At least ${field.minimum}`;
        else if (field.maximum !== undefined && n > field.maximum) errors[key] = `At most ${field.maximum}`;
        return { set: true, value: n };
      }
      case "enum":
        if (text === "") return missing();
        return { set: true, value: enumValue(text) };
      case "array": {
        if (text.trim() === "") return field.required ? { set: true, value: [] } : { set: false };
        const items: Primitive[] = [];
        for (const part of text.split(",").map((p) => p.trim())) {
          if (part === "") continue;
          const r = parseScalar(part, field.items);
          if (!r.ok) {
            errors[key] = r.message;
            return { set: false };
          }
          items.push(r.value);
        }
        return { set: true, value: items };
      }
      case "json": {
        if (text.trim() === "") return missing();
        try {
          return { set: true, value: JSON.parse(text) };
        } catch (error) {
          errors[key] = `Not valid JSON: ${(error as Error).message}`;
          return { set: false };
        }
      }
    }
  };
  const r = read(form);
  return { value: r.set ? r.value : undefined, errors };
}

/** Form values showing `config` (for switching from "Edit as JSON" back to the form). */
export function configToValues(form: FormField | null, config: unknown): FormValues {
  const out: Record<string, string | boolean> = {};
  if (!form) return out;
  const write = (field: FormField, value: unknown) => {
    const key = pathKey(field.path);
    if (value === undefined) return;
    switch (field.kind) {
      case "object":
        if (isObj(value)) for (const f of field.fields) write(f, value[f.path[f.path.length - 1]!]);
        return;
      case "boolean":
        out[key] = value === true;
        return;
      case "enum":
        out[key] = JSON.stringify(value);
        return;
      case "array":
        out[key] = Array.isArray(value) ? value.map(String).join(", ") : JSON.stringify(value);
        return;
      case "json":
        out[key] = JSON.stringify(value, null, 2);
        return;
      default:
        out[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  };
  write(form, config);
  return out;
}
