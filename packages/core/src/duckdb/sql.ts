/**
 * SQL for DuckDB with bound parameters: `sql\`select * from read_csv(${file}) where fare > ${min}\``
 * turns interpolated values into `?` parameters (no injection), while table handles (what
 * downstream `ins` receive from the DuckDB IO manager), nested `sql` fragments and `raw(…)`
 * are inlined as SQL text.
 */
import type { LoadsAs } from "../definitions/refs.js";
import type { DuckDBTable } from "./duckdb-io-manager.js";

export const SQL_BRAND = Symbol.for("baton.duckdb.sql");
const INLINE = Symbol.for("baton.duckdb.inline");

export type SqlParam = string | number | boolean | null | bigint;

export interface SqlQuery extends LoadsAs<DuckDBTable> {
  readonly [SQL_BRAND]: true;
  readonly text: string;
  readonly params: readonly SqlParam[];
}

/** Something inlined into SQL text as is (a relation, an identifier). */
export interface SqlInline {
  readonly [INLINE]: string;
}

export function isSqlQuery(value: unknown): value is SqlQuery {
  return (
    typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[SQL_BRAND] === true
  );
}

export function isSqlInline(value: unknown): value is SqlInline {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Record<symbol, unknown>)[INLINE] === "string"
  );
}

/** Inline trusted SQL text (identifiers you built, not user input). */
export function raw(text: string): SqlInline {
  return { [INLINE]: text };
}

/** Make `target` inline as `text` in `sql\`…\``. */
export function inlineAs<T extends object>(text: string, target: T): T & SqlInline {
  return Object.assign(target, { [INLINE]: text }) as T & SqlInline;
}

export function inline(value: SqlInline): string {
  return value[INLINE];
}

/** A double-quoted SQL identifier. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A single-quoted SQL string literal. */
export function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export function sql(strings: TemplateStringsArray, ...values: unknown[]): SqlQuery {
  let text = strings[0] ?? "";
  const params: SqlParam[] = [];
  values.forEach((value, i) => {
    if (isSqlInline(value)) text += inline(value);
    else if (isSqlQuery(value)) {
      text += value.text;
      params.push(...value.params);
    } else if (value === undefined) {
      throw new TypeError(`sql\`…\`: value ${i + 1} is undefined (use null for SQL NULL)`);
    } else if (typeof value === "object" && value !== null && !(value instanceof Date)) {
      throw new TypeError(
        `sql\`…\`: value ${i + 1} is an object; pass a table handle, sql\`…\`, raw(…) or a scalar`,
      );
    } else {
      text += "?";
      params.push(value instanceof Date ? value.toISOString() : (value as SqlParam));
    }
    text += strings[i + 1] ?? "";
  });
  return { [SQL_BRAND]: true, text, params };
}

/** A query from text and positional parameters (when a template literal does not fit). */
export function query(text: string, params: readonly SqlParam[] = []): SqlQuery {
  return { [SQL_BRAND]: true, text, params: [...params] };
}
