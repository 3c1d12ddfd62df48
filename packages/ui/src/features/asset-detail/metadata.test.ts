import { describe, expect, it } from "vitest";
import { definitionMetadataDisplay, formatDuration, metadataDisplay } from "./metadata";

describe("metadataDisplay", () => {
  it("formats numbers, row counts and durations", () => {
    expect(metadataDisplay({ type: "row_count", value: 12345 })).toMatchObject({
      kind: "number",
      title: "12345 rows",
    });
    expect(metadataDisplay({ type: "row_count", value: 12345 }).kind === "number").toBe(true);
    expect(metadataDisplay({ type: "duration_ms", value: 850 })).toMatchObject({ text: "850 ms" });
    expect(formatDuration(12_300)).toBe("12.3 s");
    expect(formatDuration(245_000)).toBe("4 min 05 s");
    expect(formatDuration(7_380_000)).toBe("2 h 03 min");
  });

  it("links http(s) URLs only; paths are monospace text", () => {
    expect(metadataDisplay({ type: "url", value: "https://x.io/a" })).toEqual({
      kind: "link",
      href: "https://x.io/a",
      text: "https://x.io/a",
    });
    expect(metadataDisplay({ type: "url", value: "javascript:alert(1)" }).kind).toBe("text");
    expect(metadataDisplay({ type: "path", value: "/data/x.csv" })).toEqual({
      kind: "text",
      text: "/data/x.csv",
      mono: true,
    });
  });

  it("shows a table schema and a JSON array of records as tables", () => {
    expect(
      metadataDisplay({
        type: "table_schema",
        value: [
          { name: "id", type: "BIGINT" },
          { name: "fare", type: "DOUBLE" },
        ],
      }),
    ).toEqual({
      kind: "table",
      columns: ["column", "type"],
      rows: [
        ["id", "BIGINT"],
        ["fare", "DOUBLE"],
      ],
    });
    expect(
      metadataDisplay({
        type: "json",
        value: [
          { a: 1, b: null },
          { a: 2, c: { x: 1 } },
        ],
      }),
    ).toEqual({
      kind: "table",
      columns: ["a", "b", "c"],
      rows: [
        ["1", "", ""],
        ["2", "", '{"x":1}'],
      ],
    });
  });

  it("pretty-prints other JSON, keeps multi-line text preformatted, and survives unknown types", () => {
    expect(metadataDisplay({ type: "json", value: { a: [1, 2] } })).toEqual({
      kind: "pre",
      text: '{\n  "a": [\n    1,\n    2\n  ]\n}',
    });
    expect(metadataDisplay({ type: "text", value: "# Title\nbody" }).kind).toBe("pre");
    expect(metadataDisplay({ type: "text", value: "one line" })).toEqual({ kind: "text", text: "one line" });
    expect(metadataDisplay({ type: "table", value: { rows: [{ x: 1 }] } }).kind).toBe("table");
    expect(metadataDisplay({ type: "something_new", value: 3 })).toEqual({
      kind: "text",
      text: "3",
      mono: true,
    });
  });

  it("reads a definition's free-form metadata: typed entries or plain values", () => {
    expect(definitionMetadataDisplay({ type: "url", value: "https://a.b" }).kind).toBe("link");
    expect(definitionMetadataDisplay("owner team")).toEqual({ kind: "text", text: "owner team" });
    expect(definitionMetadataDisplay(true)).toEqual({ kind: "bool", value: true });
    expect(definitionMetadataDisplay({ nested: 1 }).kind).toBe("pre");
  });
});
