import { describe, expect, it } from "vitest";
import { schemaRows, schemaType } from "./config-schema";

describe("config schema rows", () => {
  it("lists fields with type, default, requiredness and description, nested objects as dotted paths", () => {
    const schema = {
      type: "object",
      properties: {
        landing: { type: "string", default: "/data/landing", description: "Where files land" },
        limit: { type: "integer", minimum: 0 },
        mode: { enum: ["fast", "safe"] },
        nested: {
          type: "object",
          properties: { on: { type: "boolean", default: true } },
          required: ["on"],
        },
        tags: { type: "array", items: { type: "string" } },
        maybe: { anyOf: [{ type: "string" }, { type: "null" }] },
      },
      required: ["landing", "limit"],
    };
    expect(schemaRows(schema)).toEqual([
      {
        field: "landing",
        type: "string",
        required: false,
        default: '"/data/landing"',
        description: "Where files land",
      },
      { field: "limit", type: "integer ≥ 0", required: true, default: null, description: null },
      { field: "mode", type: '"fast" | "safe"', required: false, default: null, description: null },
      { field: "nested", type: "object", required: false, default: null, description: null },
      { field: "nested.on", type: "boolean", required: false, default: "true", description: null },
      { field: "tags", type: "array of string", required: false, default: null, description: null },
      { field: "maybe", type: "string | null", required: false, default: null, description: null },
    ]);
  });

  it("follows local $refs and answers nothing for a missing schema", () => {
    const schema = {
      $defs: { Size: { type: "number", exclusiveMaximum: 10 } },
      type: "object",
      properties: {
        size: { $ref: "#/$defs/Size" },
        map: { type: "object", additionalProperties: { type: "number" } },
      },
    };
    expect(schemaRows(schema).map((r) => r.type)).toEqual(["number < 10", "map of number"]);
    expect(schemaRows(null)).toEqual([]);
    expect(schemaType(true)).toBe("any");
  });
});
