import { describe, expect, it } from "vitest";
import {
  configToValues,
  defaultValues,
  type FormField,
  labelOf,
  schemaToForm,
  valuesToConfig,
} from "./config-form";

/** What zod 4's toJSONSchema(…, { io: "input" }) writes for a config object. */
const schema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: {
    landing: { type: "string", default: "/data/landing", description: "Where the files land" },
    maxRows: { type: "integer", minimum: 1 },
    ratio: { type: "number", default: 0.5 },
    dropNegativeFares: { type: "boolean", default: true },
    dryRun: { type: "boolean" },
    mode: { type: "string", enum: ["fast", "full"], default: "full" },
    level: { anyOf: [{ const: 1 }, { const: 2 }] },
    taxiTypes: { type: "array", items: { type: "string" }, default: ["yellow", "green"] },
    months: { type: "array", items: { type: "integer" } },
    target: {
      type: "object",
      properties: { table: { type: "string" }, schema: { type: "string", default: "main" } },
      required: ["table"],
      additionalProperties: false,
    },
    note: { anyOf: [{ type: "string" }, { type: "null" }] },
    extra: { type: "object", additionalProperties: { type: "number" } },
    ref: { $ref: "#/$defs/Window" },
  },
  required: ["maxRows", "target"],
  additionalProperties: false,
  $defs: { Window: { type: "object", properties: { days: { type: "integer", default: 7 } } } },
};

const byName = (form: FormField, name: string): FormField => {
  if (form.kind !== "object") throw new Error("not an object");
  const f = form.fields.find((x) => x.path[x.path.length - 1] === name);
  if (!f) throw new Error(`no field ${name}`);
  return f;
};

describe("schemaToForm", () => {
  const form = schemaToForm(schema)!;

  it("maps each JSON Schema type to its field kind, with defaults, required and descriptions", () => {
    expect(form.kind).toBe("object");
    expect(byName(form, "landing")).toMatchObject({
      kind: "string",
      default: "/data/landing",
      description: "Where the files land",
      required: false,
      label: "Landing",
    });
    expect(byName(form, "maxRows")).toMatchObject({
      kind: "number",
      integer: true,
      required: true,
      minimum: 1,
    });
    expect(byName(form, "ratio")).toMatchObject({ kind: "number", integer: false, default: 0.5 });
    expect(byName(form, "dropNegativeFares")).toMatchObject({
      kind: "boolean",
      default: true,
      label: "Drop negative fares",
    });
    expect(byName(form, "mode")).toMatchObject({ kind: "enum", options: ["fast", "full"], default: "full" });
    expect(byName(form, "level")).toMatchObject({ kind: "enum", options: [1, 2] });
    expect(byName(form, "taxiTypes")).toMatchObject({
      kind: "array",
      items: "string",
      default: ["yellow", "green"],
    });
    expect(byName(form, "months")).toMatchObject({ kind: "array", items: "integer" });
    expect(byName(form, "note")).toMatchObject({ kind: "string", required: false });
    expect(byName(form, "extra")).toMatchObject({ kind: "json" });
  });

  it("nests objects (with their own required list) and follows local $refs", () => {
    const target = byName(form, "target");
    expect(target.kind).toBe("object");
    expect(target.required).toBe(true);
    expect(byName(target, "table")).toMatchObject({
      kind: "string",
      required: true,
      path: ["target", "table"],
    });
    expect(byName(target, "schema")).toMatchObject({ default: "main", required: false });
    expect(byName(byName(form, "ref"), "days")).toMatchObject({
      kind: "number",
      default: 7,
      path: ["ref", "days"],
    });
  });

  it("has no form without a schema, and a JSON field for a schema that is not an object", () => {
    expect(schemaToForm(null)).toBeNull();
    expect(schemaToForm({ type: "array", items: { type: "object" } })).toMatchObject({
      kind: "json",
      path: [],
    });
  });

  it("labels camelCase and snake_case names as words", () => {
    expect(labelOf("dropDropoffBeforePickup")).toBe("Drop dropoff before pickup");
    expect(labelOf("max_rows")).toBe("Max rows");
  });
});

describe("defaultValues and valuesToConfig", () => {
  const form = schemaToForm(schema)!;

  it("prefills defaults", () => {
    expect(defaultValues(form)).toMatchObject({
      landing: "/data/landing",
      ratio: "0.5",
      dropNegativeFares: true,
      dryRun: false,
      mode: '"full"',
      taxiTypes: "yellow, green",
      "target.schema": "main",
      "ref.days": "7",
    });
  });

  it("turns the form's values into the config object", () => {
    const values = {
      ...defaultValues(form),
      maxRows: "1000",
      "target.table": "trips",
      level: "2",
      months: "1, 2,3",
      extra: '{"a": 1}',
    };
    const { value, errors } = valuesToConfig(form, values);
    expect(errors).toEqual({});
    expect(value).toEqual({
      landing: "/data/landing",
      maxRows: 1000,
      ratio: 0.5,
      dropNegativeFares: true,
      dryRun: false,
      mode: "full",
      level: 2,
      taxiTypes: ["yellow", "green"],
      months: [1, 2, 3],
      target: { table: "trips", schema: "main" },
      extra: { a: 1 },
      ref: { days: 7 },
    });
  });

  it("names each wrong field: required, not a number, not whole, below the minimum, bad JSON", () => {
    const base = defaultValues(form);
    expect(valuesToConfig(form, base).errors).toEqual({ maxRows: "Required", "target.table": "Required" });
    expect(valuesToConfig(form, { ...base, maxRows: "abc" }).errors.maxRows).toMatch(/not a number/);
    expect(valuesToConfig(form, { ...base, maxRows: "1.5" }).errors.maxRows).toMatch(/whole number/);
    expect(valuesToConfig(form, { ...base, maxRows: "0" }).errors.maxRows).toBe("At least 1");
    expect(valuesToConfig(form, { ...base, months: "1, x" }).errors.months).toMatch(/"x" is not a number/);
    expect(valuesToConfig(form, { ...base, extra: "{" }).errors.extra).toMatch(/Not valid JSON/);
  });

  it("leaves out optional fields left empty", () => {
    const small = schemaToForm({
      type: "object",
      properties: {
        a: { type: "string" },
        b: { type: "number" },
        c: { type: "object", properties: { d: { type: "string" } } },
      },
    });
    expect(valuesToConfig(small, {})).toEqual({ value: {}, errors: {} });
    expect(valuesToConfig(small, { a: "x", "c.d": "y" }).value).toEqual({ a: "x", c: { d: "y" } });
  });

  it("round-trips a config through configToValues (JSON → form)", () => {
    const config = {
      landing: "/x",
      maxRows: 5,
      ratio: 1,
      dropNegativeFares: false,
      dryRun: true,
      mode: "fast",
      level: 1,
      taxiTypes: ["green"],
      months: [3],
      target: { table: "t", schema: "s" },
      extra: { b: 2 },
      ref: { days: 1 },
    };
    expect(valuesToConfig(form, configToValues(form, config))).toEqual({ value: config, errors: {} });
  });
});
