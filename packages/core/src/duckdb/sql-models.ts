import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { type AssetDefinition, asset } from "../definitions/asset.js";
import { assetCheck, type CheckDefinition } from "../definitions/asset-check.js";
import type { AssetContext } from "../definitions/context.js";
import { editDistance } from "../definitions/definitions.js";
import { md } from "../definitions/metadata.js";
import type { PartitionsDefinition, TimeWindow } from "../definitions/partitions/partitions.js";
import { input } from "../definitions/refs.js";
import { BatonError } from "../errors.js";
import { createKeyedQueue } from "../util/keyed-queue.js";
import { type DuckDBTable, PARTITION_COLUMN, tableNameOf } from "./duckdb-io-manager.js";
import { ident, literal } from "./sql.js";
import type { DuckDBWarehouse } from "./warehouse.js";

export interface SqlAssetsOptions {
  /** Folder of `.sql` models (searched recursively); relative to the working directory. */
  readonly dir: string;
  /** Name of the DuckDB resource (`duckdb({ path })`) the models run on. */
  readonly warehouse: string;
  /** Partitions definitions a model may name in its header (`-- partitions: daily`). */
  readonly partitions?: Readonly<Record<string, PartitionsDefinition>>;
  /** Assets defined in TypeScript that models may `ref()` by key (their DuckDB table). */
  readonly sources?: readonly (string | { readonly key: string })[];
  /** Group of models without a `group:` header (default "sql"). */
  readonly group?: string;
  /**
   * Resource key of the models' IO manager (default "io_manager"): TypeScript assets downstream
   * of a model read it through this, so it must be `duckdbIOManager` on the warehouse's file.
   */
  readonly ioManager?: string;
  /** Rows kept in each materialization's preview metadata (default 5; 0 for none). */
  readonly previewRows?: number;
}

/** A model as an upstream of TypeScript assets: the DuckDB IO manager hands them a table. */
export type SqlModelAsset = AssetDefinition<DuckDBTable, PartitionsDefinition | undefined>;

/**
 * A model as an `ins` entry: its partitions are unknown to the type system (`any` here makes the
 * input one `DuckDBTable`, instead of the record of partitions a union of definitions gave, which
 * was wrong for the common same-partitions read).
 */
export type SqlModelInput = AssetDefinition<DuckDBTable, any>;

export interface SqlAssets {
  readonly assets: readonly SqlModelAsset[];
  readonly checks: readonly CheckDefinition[];
  /**
   * The model of a key (for `ins` of TypeScript assets); throws naming the keys there are. A
   * model's partitions come from its SQL header, which TypeScript cannot see: the input is typed
   * as read partition to partition (or unpartitioned to unpartitioned), one `DuckDBTable`. An
   * asset reading several partitions of a model (an unpartitioned report over a daily model)
   * receives them keyed by partition at run time: pass the input to `union()`.
   */
  byKey(key: string): SqlModelInput;
}

type CheckSpec =
  | { kind: "not_null" | "unique"; column: string; line: number; blocking: boolean }
  | { kind: "accepted_values"; column: string; values: string[]; line: number; blocking: boolean }
  | { kind: "row_count"; op: string; value: number; line: number; blocking: boolean };

interface Model {
  key: string;
  /** Path relative to the working directory (for messages). */
  readonly file: string;
  readonly text: string;
  description?: string;
  group?: string;
  tags: Record<string, string>;
  partitionsName?: string;
  partitionsLine?: number;
  partitionColumn?: string;
  checks: CheckSpec[];
  refs: { name: string; line: number }[];
  usesPartition?: number;
}

const HEADER_FIELDS = [
  "key",
  "description",
  "group",
  "tags",
  "partitions",
  "partition_column",
  "check",
  "check_warn",
];
const TEMPLATE = /\{\{(.*?)\}\}/g;

function fail(where: string, message: string): never {
  throw new BatonError("INVALID_DEFINITION", `${where}: ${message}`);
}

function listSqlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listSqlFiles(full));
    else if (entry.isFile() && entry.name.endsWith(".sql")) out.push(full);
  }
  return out.sort();
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split("\n").length;
}

const IDENT = /^[A-Za-z_][\w]*$/;

function parseCheck(value: string, where: string, line: number, blocking: boolean): CheckSpec {
  let m = /^(not_null|unique)\(\s*([A-Za-z_]\w*)\s*\)$/.exec(value);
  if (m) return { kind: m[1] as "not_null" | "unique", column: m[2]!, line, blocking };
  m = /^accepted_values\(\s*([A-Za-z_]\w*)\s*,\s*\[(.*)\]\s*\)$/.exec(value);
  if (m) {
    const items = m[2]!.split(",").map((s) => s.trim());
    const values = items.map((s) => /^'((?:[^']|'')*)'$/.exec(s)?.[1]?.replaceAll("''", "'"));
    if (values.length === 0 || values.some((v) => v === undefined))
      fail(
        where,
        `accepted_values needs a list of quoted strings, e.g. accepted_values(col, ['a', 'b']); got ${value}`,
      );
    return { kind: "accepted_values", column: m[1]!, values: values as string[], line, blocking };
  }
  m = /^row_count\s*(>=|<=|!=|=|>|<)\s*(\d+)$/.exec(value);
  if (m) return { kind: "row_count", op: m[1]!, value: Number(m[2]), line, blocking };
  fail(
    where,
    `unknown check "${value}"; expected not_null(col), unique(col), accepted_values(col, ['a', 'b']) or row_count > N`,
  );
}

function parseModel(full: string, root: string): Model {
  const file = path.relative(process.cwd(), full) || full;
  const text = readFileSync(full, "utf8");
  const model: Model = {
    key: path
      .relative(root, full)
      .replace(/\.sql$/, "")
      .split(path.sep)
      .join("/"),
    file,
    text,
    tags: {},
    checks: [],
    refs: [],
  };
  const lines = text.split("\n");
  const seen = new Set<string>();
  // The header: the leading comment (and blank) lines; `-- name: value` lines are fields.
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === "") continue;
    if (!raw.startsWith("--")) break;
    const m = /^--\s*([A-Za-z_][\w-]*)\s*:(.*)$/.exec(raw);
    if (!m) continue; // a plain comment
    const where = `${file}:${i + 1}`;
    const [, name, rest] = m as unknown as [string, string, string];
    const value = rest.trim();
    if (!HEADER_FIELDS.includes(name)) {
      const near = HEADER_FIELDS.find((f) => editDistance(f, name) <= 2);
      fail(
        where,
        `bad header line "${raw}": unknown field "${name}"${near ? ` (did you mean "${near}"?)` : ""}; fields are ${HEADER_FIELDS.join(", ")}`,
      );
    }
    if (value === "") fail(where, `bad header line "${raw}": "${name}" has no value`);
    if (name !== "check" && name !== "check_warn") {
      if (seen.has(name)) fail(where, `bad header line "${raw}": "${name}" is given twice`);
      seen.add(name);
    }
    switch (name) {
      case "key":
        if (!/^[A-Za-z_][\w]*(\/[A-Za-z_][\w]*)*$/.test(value))
          fail(where, `bad header line "${raw}": a key is names separated by "/", e.g. taxi/daily`);
        model.key = value;
        break;
      case "description":
        model.description = value;
        break;
      case "group":
        model.group = value;
        break;
      case "tags":
        for (const t of value.split(",").map((s) => s.trim())) {
          const [k, v] = t.split("=", 2).map((s) => s.trim());
          if (!k)
            fail(where, `bad header line "${raw}": tags are "name" or "name=value", separated by commas`);
          model.tags[k] = v ?? "";
        }
        break;
      case "partitions":
        model.partitionsName = value;
        model.partitionsLine = i + 1;
        break;
      case "partition_column":
        if (!IDENT.test(value)) fail(where, `bad header line "${raw}": partition_column is one column name`);
        model.partitionColumn = value;
        break;
      default:
        model.checks.push(parseCheck(value, where, i + 1, name === "check"));
    }
  }
  for (const m of text.matchAll(TEMPLATE)) {
    const expr = m[1]!.trim();
    const line = lineOf(text, m.index);
    const ref = /^ref\(\s*(?:'([^']+)'|"([^"]+)")\s*\)$/.exec(expr);
    if (ref) model.refs.push({ name: (ref[1] ?? ref[2])!, line });
    else if (/^partition\.(start|end|key)$/.test(expr)) model.usesPartition ??= line;
    else
      fail(
        `${file}:${line}`,
        `unknown template expression "{{ ${expr} }}"; expected ref('model'), partition.start, partition.end or partition.key`,
      );
  }
  return model;
}

/** `'YYYY-MM-DD'` at midnight UTC, else `'YYYY-MM-DD HH:MM:SS'`. */
function instant(d: Date): string {
  const iso = d.toISOString();
  return iso.slice(11, 19) === "00:00:00" ? iso.slice(0, 10) : iso.slice(0, 19).replace("T", " ");
}

interface PartitionView {
  readonly partitionKey?: string;
  readonly partitionTimeWindow?: TimeWindow;
}

/**
 * SQL condition true for values of the model's `partition_column` inside the partition (its
 * time window, or equal to its key).
 */
function partitionFilter(model: Model, ctx: PartitionView): string {
  const col = ident(model.partitionColumn!);
  const w = ctx.partitionTimeWindow;
  if (w) return `${col} >= ${literal(instant(w.start))} and ${col} < ${literal(instant(w.end))}`;
  return `${col}::VARCHAR = ${literal(ctx.partitionKey!)}`;
}

/**
 * DuckDB's error as one naming the model file (and line, when DuckDB gives one). Lines of the
 * rendered SQL are the file's lines: templates never span or add lines.
 */
function describeModelError(model: Model, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  const line = /LINE (\d+):/.exec(message)?.[1];
  const first = message.split("\n")[0]!;
  return new BatonError(
    "USER_CODE_ERROR",
    `SQL model ${model.key} (${model.file}${line ? `:${line}` : ""}): ${first}`,
    { cause: error },
  );
}

/** Inputs named after their keys (`taxi/zones` → `taxi_zones`; a clash gets a number). */
function insOf(keys: readonly string[]) {
  const ins: Record<string, ReturnType<typeof input>> = {};
  for (const key of keys) {
    let name = key.replace(/\W/g, "_");
    for (let i = 2; name in ins; i++) name = `${key.replace(/\W/g, "_")}_${i}`;
    ins[name] = input(key);
  }
  return ins;
}

/**
 * Writes of SQL models to one database file, serialized within the process (as the DuckDB IO
 * manager does for its own): two partitions of one model stored at once would otherwise race to
 * create the table and fail with DuckDB's write-write conflict.
 */
const writeQueue = createKeyedQueue();

/** The partition key of a run of a partitioned model (one partition per run). */
function partitionKeyOf(model: Model, ctx: { readonly partitionKeys: readonly string[] }): string {
  if (ctx.partitionKeys.length === 1) return ctx.partitionKeys[0]!;
  throw new BatonError(
    "USER_CODE_ERROR",
    `SQL model ${model.key} (${model.file}) is partitioned and runs one partition at a time; this run has ${ctx.partitionKeys.length === 0 ? "none" : `${ctx.partitionKeys.length} (${ctx.partitionKeys.slice(0, 3).join(", ")}${ctx.partitionKeys.length > 3 ? ", …" : ""})`}`,
  );
}

function checkQuery(check: CheckSpec, table: string, where: string): { sql: string; name: string } {
  const w = where ? ` where ${where}` : "";
  const and = where ? ` and (${where})` : "";
  switch (check.kind) {
    case "not_null":
      return {
        name: `not_null_${check.column}`,
        sql: `select count(*)::BIGINT as bad from ${table} where ${ident(check.column)} is null${and}`,
      };
    case "unique":
      return {
        name: `unique_${check.column}`,
        sql: `select count(*)::BIGINT as bad from (select ${ident(check.column)} from ${table}${w} group by all having count(*) > 1)`,
      };
    case "accepted_values":
      return {
        name: `accepted_values_${check.column}`,
        sql: `select count(*)::BIGINT as bad from ${table} where ${ident(check.column)} is not null and ${ident(check.column)}::VARCHAR not in (${check.values.map(literal).join(", ")})${and}`,
      };
    default:
      return {
        name: "row_count",
        sql: `select case when count(*) ${check.op} ${check.value} then 0 else 1 end as bad, count(*)::BIGINT as row_count from ${table}${w}`,
      };
  }
}

/**
 * Every `.sql` file under `dir` as an asset on DuckDB, materialized by the `warehouse` resource.
 *
 * - key from the path (`taxi/daily.sql` → `taxi/daily`) or a `-- key:` header line; the table is
 *   the one the DuckDB IO manager uses for that key (`"taxi"."daily"`);
 * - `{{ ref('model') }}` (a model, by key or file name, or a TypeScript asset listed in `sources`)
 *   declares the dependency and becomes the upstream's table;
 * - `{{ partition.start }}`, `{{ partition.end }}`, `{{ partition.key }}`: quoted SQL literals;
 * - header (leading `-- name: value` lines): description, group, tags, partitions (a name in
 *   `options.partitions`), partition_column, and `check:` (blocking) / `check_warn:` lines:
 *   `not_null(col)`, `unique(col)`, `accepted_values(col, ['a','b'])`, `row_count > 0`.
 *
 * Unpartitioned models are `create or replace table`; partitioned ones replace the rows of their
 * partition, tagged in the `_partition` column as the DuckDB IO manager does (so TypeScript assets
 * downstream read a model's partition like any other asset's); with `partition_column`, a query
 * returning rows outside the partition (its time window, or its key) fails and writes nothing.
 * A materialization records row count, table, schema, a preview and a data version (the IO
 * manager's), the definition carries the model's SQL and a code version hashed from it. Unknown
 * refs, cycles and bad headers throw here, naming file and line.
 */
export function sqlAssets(options: SqlAssetsOptions): SqlAssets {
  const root = path.resolve(options.dir);
  let files: string[];
  try {
    files = listSqlFiles(root);
  } catch (error) {
    throw new BatonError(
      "INVALID_DEFINITION",
      `sqlAssets: cannot read folder ${options.dir}: ${(error as Error).message}`,
    );
  }
  if (files.length === 0)
    throw new BatonError("INVALID_DEFINITION", `sqlAssets: no .sql files under ${options.dir}`);
  const models = files.map((f) => parseModel(f, root));
  const byKey = new Map<string, Model>();
  for (const m of models) {
    const other = byKey.get(m.key);
    if (other) fail(m.file, `model key "${m.key}" is also the key of ${other.file}`);
    byKey.set(m.key, m);
  }
  const sources = new Set((options.sources ?? []).map((s) => (typeof s === "string" ? s : s.key)));
  for (const s of sources)
    if (byKey.has(s)) fail(byKey.get(s)!.file, `model key "${s}" is also a source asset`);

  const resolve = (model: Model, ref: { name: string; line: number }): string => {
    if (byKey.has(ref.name) || sources.has(ref.name)) return ref.name;
    const byName = models.filter((m) => m.key.split("/").at(-1) === ref.name);
    if (byName.length === 1) return byName[0]!.key;
    const where = `${model.file}:${ref.line}`;
    if (byName.length > 1)
      fail(
        where,
        `ref('${ref.name}') is ambiguous: ${byName.map((m) => m.key).join(", ")}; use the full key`,
      );
    const candidates = [...byKey.keys(), ...sources];
    let best: string | undefined;
    let bestD = Number.POSITIVE_INFINITY;
    for (const c of candidates) {
      const d = Math.min(editDistance(ref.name, c), editDistance(ref.name, c.split("/").at(-1)!));
      if (d < bestD) [best, bestD] = [c, d];
    }
    fail(
      where,
      `unknown ref('${ref.name}')${best && bestD <= Math.max(2, ref.name.length / 3) ? ` (did you mean '${best}'?)` : ""}; refs name a SQL model or an asset listed in sources`,
    );
  };
  const upstream = new Map<string, string[]>();
  for (const m of models) upstream.set(m.key, [...new Set(m.refs.map((r) => resolve(m, r)))]);

  // Cycles among models.
  const state = new Map<string, "visiting" | "done">();
  const visit = (key: string, trail: string[]) => {
    if (state.get(key) === "done") return;
    if (state.get(key) === "visiting") {
      const cycle = [...trail.slice(trail.indexOf(key)), key].map((k) => byKey.get(k)!.file);
      fail(byKey.get(key)!.file, `ref cycle: ${cycle.join(" → ")}`);
    }
    state.set(key, "visiting");
    for (const up of upstream.get(key) ?? []) if (byKey.has(up)) visit(up, [...trail, key]);
    state.set(key, "done");
  };
  for (const m of models) visit(m.key, []);

  const assets: SqlModelAsset[] = [];
  const checks: CheckDefinition[] = [];
  for (const model of models) {
    let partitions: PartitionsDefinition | undefined;
    if (model.partitionsName !== undefined) {
      partitions = options.partitions?.[model.partitionsName];
      if (!partitions) {
        const names = Object.keys(options.partitions ?? {});
        fail(
          `${model.file}:${model.partitionsLine}`,
          `unknown partitions "${model.partitionsName}"; ${names.length ? `sqlAssets({ partitions }) has ${names.join(", ")}` : "pass it in sqlAssets({ partitions: { name } })"}`,
        );
      }
    } else if (model.partitionColumn !== undefined) fail(model.file, "partition_column without partitions");
    if (model.usesPartition !== undefined && !partitions)
      fail(`${model.file}:${model.usesPartition}`, "{{ partition.* }} in a model without `-- partitions:`");

    const table = tableNameOf(model.key);
    const refTables = new Map(model.refs.map((r) => [r.name, tableNameOf(resolve(model, r)).qualified]));
    const render = (ctx: PartitionView): string =>
      model.text
        .replace(TEMPLATE, (_all, expr: string) => {
          const e = expr.trim();
          if (e.startsWith("ref")) {
            const name = /['"]([^'"]+)['"]/.exec(e)![1]!;
            return refTables.get(name)!;
          }
          const w = ctx.partitionTimeWindow;
          if (e === "partition.key") return literal(ctx.partitionKey!);
          if (!w)
            throw new BatonError("USER_CODE_ERROR", `${model.file}: {{ ${e} }} needs time-window partitions`);
          return literal(instant(e === "partition.start" ? w.start : w.end));
        })
        .replace(/[\s;]+$/, "");
    const warehouse = options.warehouse;
    const previewRows = options.previewRows ?? 5;
    const body = async (ctx: AssetContext<undefined, string, PartitionsDefinition | undefined>) => {
      const wh = (ctx.resources as unknown as Record<string, DuckDBWarehouse>)[warehouse];
      if (!wh || typeof wh.transaction !== "function")
        throw new BatonError(
          "USER_CODE_ERROR",
          `SQL model ${model.key}: resource "${warehouse}" is not a DuckDB warehouse`,
        );
      const view = ctx as PartitionView;
      const key = partitions ? partitionKeyOf(model, ctx) : undefined;
      const query = render(view);
      const P = ident(PARTITION_COLUMN);
      const stored = await writeQueue
        .run(wh.path, () =>
          wh.transaction(async (tx) => {
            await tx.run(`create schema if not exists ${ident(table.schema)}`);
            let where = "";
            if (key === undefined) {
              await tx.run(`create or replace table ${table.qualified} as ${query}`);
            } else {
              where = ` where ${P} = ${literal(key)}`;
              await tx.run(`create or replace temp table baton_sql_stage as ${query}`);
              if (model.partitionColumn) {
                const [outside] = await tx.query(
                  `select count(*)::BIGINT as n from baton_sql_stage where not coalesce(${partitionFilter(model, view)}, false)`,
                );
                if (Number(outside?.n ?? 0) > 0)
                  throw new BatonError(
                    "USER_CODE_ERROR",
                    `SQL model ${model.key} (${model.file}): ${outside!.n} row(s) have ${model.partitionColumn} outside partition ${key}; filter with {{ partition.start }} / {{ partition.end }}`,
                  );
              }
              // `select *` of a partitioned upstream brings its `_partition`: the model's replaces it.
              const staged = (await tx.query("describe baton_sql_stage")).map((c) => String(c.column_name));
              const rows = staged.includes(PARTITION_COLUMN)
                ? `select * exclude (${P}), ${literal(key)} as ${P} from baton_sql_stage`
                : `select *, ${literal(key)} as ${P} from baton_sql_stage`;
              await tx.run(`create table if not exists ${table.qualified} as ${rows} limit 0`);
              // A table written before models had `_partition`: add it (its old rows match by column).
              await tx.run(`alter table ${table.qualified} add column if not exists ${P} VARCHAR`);
              const legacy = model.partitionColumn
                ? ` or (${P} is null and coalesce(${partitionFilter(model, view)}, false))`
                : "";
              await tx.run(`delete from ${table.qualified}${where}${legacy}`);
              await tx.run(`insert into ${table.qualified} by name ${rows}`);
              await tx.run("drop table baton_sql_stage");
            }
            const columnsSql = key === undefined ? "*" : `* exclude (${P})`;
            const [count] = await tx.query(
              `select count(*)::BIGINT as n, coalesce(sum(hash(r)), 0)::VARCHAR as h from (select ${columnsSql} from ${table.qualified}${where}) r`,
            );
            const columns = (await tx.query(`describe ${table.qualified}`))
              .map((c) => ({ name: String(c.column_name), type: String(c.column_type) }))
              .filter((c) => key === undefined || c.name !== PARTITION_COLUMN);
            const preview =
              previewRows > 0
                ? await tx.query(`select ${columnsSql} from ${table.qualified}${where} limit ${previewRows}`)
                : [];
            return { n: String(count?.n ?? 0), h: String(count?.h ?? ""), columns, preview };
          }),
        )
        .catch((error) => {
          throw error instanceof BatonError ? error : describeModelError(model, error);
        });
      return {
        metadata: {
          row_count: md.rowCount(Number(stored.n)),
          table: md.text(table.qualified),
          schema: md.tableSchema(stored.columns),
          ...(previewRows > 0 ? { preview: md.json(stored.preview) } : {}),
          file: md.path(model.file),
        },
        // The DuckDB IO manager's data version: same columns and rows (in any order), same version.
        dataVersion: createHash("sha256")
          .update(JSON.stringify([stored.columns, stored.n, stored.h]))
          .digest("hex")
          .slice(0, 16),
      };
    };
    assets.push(
      asset(
        {
          key: model.key,
          description: model.description ?? `SQL model ${model.file}`,
          group: model.group ?? options.group ?? "sql",
          tags: model.tags,
          kinds: ["duckdb", "sql"],
          // Refs are `ins`, not `deps`: the engine records the data versions a step reads for its
          // inputs only, and they keep staleness exact (an upstream stored again with the same rows
          // does not make the model stale). The inputs are DuckDB table handles (cheap), unused:
          // the SQL names the tables itself.
          ins: insOf(upstream.get(model.key)!),
          // The model's SQL on its asset page; a changed file makes the model (and what reads it) stale.
          metadata: { sql: md.text(model.text.trimEnd()), file: md.path(model.file) },
          codeVersion: createHash("sha256").update(model.text).digest("hex").slice(0, 12),
          partitions,
          resources: [warehouse],
          ioManager: options.ioManager ?? "io_manager",
        },
        body,
      ) as unknown as SqlModelAsset,
    );
    for (const check of model.checks) {
      const built = checkQuery(check, table.qualified, "");
      checks.push(
        assetCheck(
          {
            asset: model.key,
            name: built.name,
            blocking: check.blocking,
            severity: check.blocking ? "ERROR" : "WARN",
            description: `${model.file}:${check.line}`,
            resources: [warehouse],
          },
          async (ctx) => {
            const wh = (ctx.resources as unknown as Record<string, DuckDBWarehouse>)[warehouse]!;
            const where = partitions
              ? `${ident(PARTITION_COLUMN)} = ${literal(partitionKeyOf(model, ctx))}`
              : "";
            const [r] = await wh.query(checkQuery(check, table.qualified, where).sql);
            const bad = Number(r?.bad ?? 0);
            return {
              passed: bad === 0,
              metadata:
                check.kind === "row_count" ? { row_count: Number(r?.row_count ?? 0) } : { failing_rows: bad },
            };
          },
        ),
      );
    }
  }
  return {
    assets,
    checks,
    byKey(key) {
      const found = assets.find((a) => a.key === key);
      if (!found)
        throw new BatonError(
          "INVALID_DEFINITION",
          `sqlAssets(${options.dir}): no model "${key}"; models are ${assets.map((a) => a.key).join(", ")}`,
        );
      return found;
    },
  };
}
