/**
 * The catalog's rows, filters and sort as pure functions: one row per asset (definition from
 * /api/assets joined with its live status from /api/graph/status), filtered and sorted from the URL.
 */
import type { AssetGraphNode, GraphAssetHeadline, GraphAssetStatus } from "@baton/webserver/api-types";

export interface CatalogRow {
  readonly key: string;
  readonly group: string;
  readonly kinds: readonly string[];
  readonly owners: readonly string[];
  readonly description: string | null;
  /** null while the statuses load. */
  readonly status: GraphAssetHeadline | null;
  readonly lastMaterializedAt: number | null;
  readonly overdue: boolean;
  readonly checksPassed: number;
  readonly checksFailed: number;
  readonly checksDefined: number;
  readonly partitionsMaterialized: number | null;
  readonly partitionsTotal: number | null;
  /** Lower-cased key, group, kinds, owners and description, for the text filter. */
  readonly haystack: string;
}

export function buildRows(
  assets: readonly AssetGraphNode[],
  statuses: Readonly<Record<string, GraphAssetStatus>> | undefined,
): CatalogRow[] {
  return assets.map((a) => {
    const s = statuses?.[a.key];
    return {
      key: a.key,
      group: a.group,
      kinds: a.kinds,
      owners: a.owners,
      description: a.description,
      status: s?.status ?? null,
      lastMaterializedAt: s?.lastMaterializedAt ?? null,
      overdue: s?.overdue ?? false,
      checksPassed: s?.checks.passed ?? 0,
      checksFailed: s?.checks.failed ?? 0,
      checksDefined: a.checks.length,
      partitionsMaterialized: s?.partitions?.materialized ?? null,
      partitionsTotal: s?.partitions?.total ?? null,
      haystack: [a.key, a.group, ...a.kinds, ...a.owners, a.description ?? ""].join("\n").toLowerCase(),
    };
  });
}

export const SORT_COLUMNS = [
  "key",
  "group",
  "kinds",
  "owners",
  "status",
  "lastMaterialized",
  "freshness",
  "checks",
  "partitions",
] as const;
export type SortColumn = (typeof SORT_COLUMNS)[number];
export type SortDirection = "asc" | "desc";

export interface CatalogFilters {
  readonly text: string;
  readonly group: string;
  readonly kind: string;
  readonly owner: string;
  readonly status: string;
}

export interface CatalogView extends CatalogFilters {
  readonly sort: SortColumn;
  readonly dir: SortDirection;
}

/** Read the view from the URL (`?q=&group=&kind=&owner=&status=&sort=&dir=`); unknown values fall back. */
export function viewFromParams(params: URLSearchParams): CatalogView {
  const sort = params.get("sort");
  return {
    text: params.get("q") ?? "",
    group: params.get("group") ?? "",
    kind: params.get("kind") ?? "",
    owner: params.get("owner") ?? "",
    status: params.get("status") ?? "",
    sort: (SORT_COLUMNS as readonly string[]).includes(sort ?? "") ? (sort as SortColumn) : "key",
    dir: params.get("dir") === "desc" ? "desc" : "asc",
  };
}

/** The URL parameters for a view change (empty and default values removed, other parameters kept). */
export function paramsWith(params: URLSearchParams, change: Partial<CatalogView>): URLSearchParams {
  const next = new URLSearchParams(params);
  const names: Record<keyof CatalogView, string> = {
    text: "q",
    group: "group",
    kind: "kind",
    owner: "owner",
    status: "status",
    sort: "sort",
    dir: "dir",
  };
  for (const [field, value] of Object.entries(change) as [keyof CatalogView, string][]) {
    const isDefault =
      value === "" || (field === "sort" && value === "key") || (field === "dir" && value === "asc");
    if (isDefault) next.delete(names[field]);
    else next.set(names[field], value);
  }
  return next;
}

/** Status filter values besides the headline statuses. */
export const STATUS_FILTER_EXTRA: readonly { value: string; label: string }[] = [
  { value: "overdue:any", label: "overdue (whatever the headline)" },
  { value: "check_failed:any", label: "a check failed (whatever the headline)" },
];

export function matches(row: CatalogRow, f: CatalogFilters): boolean {
  if (f.group && row.group !== f.group) return false;
  if (f.kind && !row.kinds.includes(f.kind)) return false;
  if (f.owner && !row.owners.includes(f.owner)) return false;
  if (f.status) {
    if (f.status === "overdue:any") {
      if (!row.overdue) return false;
    } else if (f.status === "check_failed:any") {
      if (row.checksFailed === 0) return false;
    } else if (row.status !== f.status) return false;
  }
  if (f.text) {
    const words = f.text.toLowerCase().split(/\s+/).filter(Boolean);
    for (const w of words) if (!row.haystack.includes(w)) return false;
  }
  return true;
}

/** Status order for sorting: what needs attention first. */
const STATUS_RANK: Record<GraphAssetHeadline, number> = {
  failed: 0,
  check_failed: 1,
  overdue: 2,
  running: 3,
  queued: 4,
  stale: 5,
  missing: 6,
  materialized: 7,
};

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

function compareBy(column: SortColumn): (a: CatalogRow, b: CatalogRow) => number {
  switch (column) {
    case "key":
      return (a, b) => collator.compare(a.key, b.key);
    case "group":
      return (a, b) => collator.compare(a.group, b.group);
    case "kinds":
      return (a, b) => collator.compare(a.kinds.join(","), b.kinds.join(","));
    case "owners":
      return (a, b) => collator.compare(a.owners.join(","), b.owners.join(","));
    case "status":
      return (a, b) => (a.status ? STATUS_RANK[a.status] : 99) - (b.status ? STATUS_RANK[b.status] : 99);
    case "lastMaterialized":
      // Most recent first when ascending reads oddly; ascending = oldest first, never last.
      return (a, b) => (a.lastMaterializedAt ?? Infinity) - (b.lastMaterializedAt ?? Infinity);
    case "freshness":
      return (a, b) => Number(b.overdue) - Number(a.overdue);
    case "checks":
      return (a, b) => b.checksFailed - a.checksFailed || b.checksPassed - a.checksPassed;
    case "partitions":
      return (a, b) => fraction(a) - fraction(b);
  }
}

const fraction = (r: CatalogRow) =>
  r.partitionsTotal === null
    ? 2
    : r.partitionsTotal === 0
      ? 1
      : (r.partitionsMaterialized ?? 0) / r.partitionsTotal;

/** Sorted by a column (ties by key). Sort once per column change; filtering keeps this order. */
export function sortRows(rows: readonly CatalogRow[], sort: SortColumn, dir: SortDirection): CatalogRow[] {
  const cmp = compareBy(sort);
  const byKey = compareBy("key");
  const sign = dir === "desc" ? -1 : 1;
  return [...rows].sort((a, b) => sign * cmp(a, b) || byKey(a, b));
}

export const filterRows = (sorted: readonly CatalogRow[], filters: CatalogFilters): CatalogRow[] =>
  sorted.filter((r) => matches(r, filters));

/** Sort then filter: the rows the table shows. */
export function visibleRows(rows: readonly CatalogRow[], view: CatalogView): CatalogRow[] {
  return filterRows(sortRows(rows, view.sort, view.dir), view);
}

/** The distinct values of a list-valued or single field, sorted, for the filter selects. */
export function distinct(rows: readonly CatalogRow[], pick: (r: CatalogRow) => readonly string[]): string[] {
  const set = new Set<string>();
  for (const r of rows) for (const v of pick(r)) set.add(v);
  return [...set].sort(collator.compare);
}
