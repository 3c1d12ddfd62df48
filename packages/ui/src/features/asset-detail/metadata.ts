/**
 * How to show a metadata value: a pure choice from its type (packages/webserver/src/api/common.ts
 * MetadataValue), rendered by MetadataView. Unknown types (a newer server) fall back to JSON.
 */
import type { MetadataValue } from "@baton/webserver/api-types";

export type MetadataDisplay =
  | { readonly kind: "text"; readonly text: string; readonly mono?: boolean }
  | { readonly kind: "number"; readonly text: string; readonly title: string }
  | { readonly kind: "link"; readonly href: string; readonly text: string }
  | { readonly kind: "pre"; readonly text: string }
  | {
      readonly kind: "table";
      readonly columns: readonly string[];
      readonly rows: readonly (readonly string[])[];
    }
  | { readonly kind: "bool"; readonly value: boolean };

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });
export const formatNumber = (n: number) => numberFormat.format(n);

/** 850 ms, 12.3 s, 4 min 05 s, 2 h 03 min. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (Math.abs(ms) < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.round(s % 60)).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/** At most this many rows of a JSON array of records shown as a table. */
export const PREVIEW_ROWS = 50;

const cellText = (v: unknown) =>
  v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);

/** A JSON value that reads best as a table: an array of plain records (a preview of rows). */
export function asRecordsTable(value: unknown): MetadataDisplay | null {
  if (!Array.isArray(value) || value.length === 0) return null;
  if (!value.every((r) => r !== null && typeof r === "object" && !Array.isArray(r))) return null;
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const r of value.slice(0, PREVIEW_ROWS))
    for (const k of Object.keys(r as object))
      if (!seen.has(k)) {
        seen.add(k);
        columns.push(k);
      }
  if (columns.length === 0 || columns.length > 30) return null;
  const rows = value
    .slice(0, PREVIEW_ROWS)
    .map((r) => columns.map((c) => cellText((r as Record<string, unknown>)[c])));
  return { kind: "table", columns, rows };
}

const isSafeUrl = (s: string) => /^(https?:|mailto:)/i.test(s);

export function metadataDisplay(entry: MetadataValue | { type: string; value: unknown }): MetadataDisplay {
  const { value } = entry;
  switch (entry.type) {
    case "number":
      return { kind: "number", text: formatNumber(value as number), title: String(value) };
    case "row_count":
      return {
        kind: "number",
        text: `${formatNumber(value as number)} rows`,
        title: `${String(value)} rows`,
      };
    case "duration_ms":
      return { kind: "number", text: formatDuration(value as number), title: `${String(value)} ms` };
    case "bool":
      return { kind: "bool", value: Boolean(value) };
    case "url":
      return isSafeUrl(String(value))
        ? { kind: "link", href: String(value), text: String(value) }
        : { kind: "text", text: String(value), mono: true };
    case "path":
      return { kind: "text", text: String(value), mono: true };
    case "table_schema": {
      const cols = Array.isArray(value) ? (value as { name?: unknown; type?: unknown }[]) : [];
      return {
        kind: "table",
        columns: ["column", "type"],
        rows: cols.map((c) => [cellText(c?.name), cellText(c?.type)]),
      };
    }
    case "text":
    case "markdown": {
      const text = String(value);
      return text.includes("\n") ? { kind: "pre", text } : { kind: "text", text };
    }
    default:
      // json, table (records), and anything newer
      return (
        asRecordsTable(value) ?? asRecordsTable((value as { rows?: unknown } | null)?.rows) ?? pretty(value)
      );
  }
}

function pretty(value: unknown): MetadataDisplay {
  if (value === null || typeof value !== "object")
    return { kind: "text", text: JSON.stringify(value), mono: true };
  return { kind: "pre", text: JSON.stringify(value, null, 2) };
}

/** A definition's metadata is free-form: typed entries ({type, value}) or plain JSON values. */
export function definitionMetadataDisplay(value: unknown): MetadataDisplay {
  if (value !== null && typeof value === "object" && "type" in value && "value" in value) {
    const t = (value as { type: unknown }).type;
    if (typeof t === "string") return metadataDisplay(value as { type: string; value: unknown });
  }
  if (typeof value === "string") return metadataDisplay({ type: "text", value });
  if (typeof value === "number") return metadataDisplay({ type: "number", value });
  if (typeof value === "boolean") return metadataDisplay({ type: "bool", value });
  return metadataDisplay({ type: "json", value });
}

/** Metadata types plotted over time. */
export const NUMERIC_TYPES = new Set(["number", "row_count", "duration_ms"]);
