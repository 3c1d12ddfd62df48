import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, type ReactNode, useDeferredValue, useEffect, useMemo, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useAssetGraph, useGraphStatus } from "../../api/queries";
import { ErrorBox } from "../../components/ErrorBox";
import { RelativeTime } from "../../components/RelativeTime";
import { StatusBadge } from "../../components/StatusBadge";
import { STATUS_ORDER, STATUS_WORDS } from "../../components/status";
import {
  buildRows,
  type CatalogRow,
  type CatalogView,
  distinct,
  filterRows,
  paramsWith,
  type SortColumn,
  STATUS_FILTER_EXTRA,
  sortRows,
  viewFromParams,
} from "./catalog-model";
import "./catalog.css";

const ROW_HEIGHT = 40;

const COLUMNS: readonly { id: SortColumn; label: string; title?: string }[] = [
  { id: "key", label: "Asset" },
  { id: "group", label: "Group" },
  { id: "kinds", label: "Kinds" },
  { id: "owners", label: "Owners" },
  { id: "status", label: "Status" },
  { id: "lastMaterialized", label: "Last materialized" },
  { id: "freshness", label: "Freshness", title: "Whether its freshness policy is violated now" },
  { id: "checks", label: "Checks", title: "Latest result of each check" },
  { id: "partitions", label: "Partitions", title: "Materialized of all partitions" },
];

const numberFormat = new Intl.NumberFormat();

export default function CatalogPage() {
  const [params, setParams] = useSearchParams();
  const graph = useAssetGraph();
  const status = useGraphStatus();
  const search = params.toString();
  // biome-ignore lint/correctness/useExhaustiveDependencies: the query string is the view's identity
  const view = useMemo(() => viewFromParams(params), [search]);
  const [draft, setDraft] = useState(view.text);
  // Back/forward (or a link) changed the text in the URL: show it.
  useEffect(() => {
    setDraft((d) => (d.trim() === view.text ? d : view.text));
  }, [view.text]);
  const update = (change: Partial<CatalogView>) => setParams((p) => paramsWith(p, change), { replace: true });

  const rows = useMemo(
    () => (graph.data ? buildRows(graph.data.assets, status.data?.assets) : []),
    [graph.data, status.data],
  );
  const options = useMemo(
    () => ({
      groups: distinct(rows, (r) => [r.group]),
      kinds: distinct(rows, (r) => r.kinds),
      owners: distinct(rows, (r) => r.owners),
    }),
    [rows],
  );
  // Typing stays responsive on 10,000 assets: the filter follows the input a frame later.
  const deferredView = useDeferredValue(view);
  // Sorting 10,000 rows happens when the sort changes; typing only filters the sorted list.
  const sorted = useMemo(
    () => sortRows(rows, deferredView.sort, deferredView.dir),
    [rows, deferredView.sort, deferredView.dir],
  );
  const shown = useMemo(() => filterRows(sorted, deferredView), [sorted, deferredView]);
  const filtered = view.text || view.group || view.kind || view.owner || view.status;

  if (graph.isError)
    return (
      <div className="page">
        <h1>Catalog</h1>
        <ErrorBox error={graph.error} title="Could not load the assets" />
        <p className="muted">Check that the Baton webserver (baton dev) is running, then reload this page.</p>
      </div>
    );

  return (
    <div className="catalog-page">
      <div className="catalog-top">
        <div className="page-header">
          <h1>Catalog</h1>
          <span className="muted" aria-live="polite" aria-atomic="true">
            {graph.data
              ? filtered
                ? `${numberFormat.format(shown.length)} of ${numberFormat.format(rows.length)} ${rows.length === 1 ? "asset" : "assets"}`
                : `${numberFormat.format(rows.length)} ${rows.length === 1 ? "asset" : "assets"}`
              : ""}
          </span>
        </div>
        {/* biome-ignore lint/a11y/useSemanticElements: <search> is not yet in every browser we support. */}
        <div className="catalog-filters" role="search" aria-label="Filter the catalog">
          <div className="field">
            <label htmlFor="catalog-text">Filter assets</label>
            <input
              id="catalog-text"
              type="search"
              placeholder="Key, group, kind, owner or description"
              value={draft}
              spellCheck={false}
              onChange={(e) => {
                setDraft(e.target.value);
                update({ text: e.target.value.trim() });
              }}
            />
          </div>
          <FilterSelect
            id="catalog-group"
            label="Group"
            value={view.group}
            onChange={(group) => update({ group })}
          >
            {options.groups.map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </FilterSelect>
          <FilterSelect
            id="catalog-kind"
            label="Kind"
            value={view.kind}
            onChange={(kind) => update({ kind })}
          >
            {options.kinds.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </FilterSelect>
          <FilterSelect
            id="catalog-owner"
            label="Owner"
            value={view.owner}
            onChange={(owner) => update({ owner })}
          >
            {options.owners.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </FilterSelect>
          <FilterSelect
            id="catalog-status"
            label="Status"
            value={view.status}
            onChange={(s) => update({ status: s })}
          >
            {STATUS_ORDER.map((s) => (
              <option key={s} value={s}>
                {STATUS_WORDS[s]}
              </option>
            ))}
            {STATUS_FILTER_EXTRA.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </FilterSelect>
          {filtered && (
            <button
              type="button"
              className="ghost catalog-clear"
              onClick={() => {
                setDraft("");
                update({ text: "", group: "", kind: "", owner: "", status: "" });
              }}
            >
              Clear filters
            </button>
          )}
        </div>
        {status.isError && (
          <ErrorBox
            error={status.error}
            title="Statuses are unavailable; definitions are shown without them"
          />
        )}
      </div>
      {!graph.data ? (
        <p className="empty">Loading assets…</p>
      ) : rows.length === 0 ? (
        <div className="empty">
          <h2>No assets yet</h2>
          <p>
            Define assets in your definitions file (see the README) and start <code>baton dev</code>; they
            appear here once a worker publishes them.
          </p>
        </div>
      ) : (
        <CatalogTable
          rows={shown}
          total={rows.length}
          view={view}
          onSort={(id) => update({ sort: id, dir: view.sort === id && view.dir === "asc" ? "desc" : "asc" })}
          empty={
            <div className="empty">
              <h2>No assets match these filters</h2>
              <p>
                Change the text or the selects above, or{" "}
                <button
                  type="button"
                  className="small"
                  onClick={() => {
                    setDraft("");
                    update({ text: "", group: "", kind: "", owner: "", status: "" });
                  }}
                >
                  clear all filters
                </button>
                .
              </p>
            </div>
          }
        />
      )}
    </div>
  );
}

function FilterSelect(props: {
  id: string;
  label: string;
  value: string;
  onChange(value: string): void;
  children: ReactNode;
}) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <select id={props.id} value={props.value} onChange={(e) => props.onChange(e.target.value)}>
        <option value="">All</option>
        {props.children}
      </select>
    </div>
  );
}

function CatalogTable(props: {
  rows: readonly CatalogRow[];
  total: number;
  view: CatalogView;
  onSort(column: SortColumn): void;
  empty: ReactNode;
}) {
  const { rows, view } = props;
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const padTop = items[0]?.start ?? 0;
  const padBottom = items.length ? virtualizer.getTotalSize() - items[items.length - 1]!.end : 0;
  return (
    // A real table whose body only holds the rows in view, between two spacer rows.
    <div className="catalog-table-wrap" ref={scrollRef}>
      <table className="catalog-table" aria-label="Assets" aria-rowcount={rows.length + 1}>
        <colgroup>
          {COLUMNS.map((c) => (
            <col key={c.id} className={`col-${c.id}`} />
          ))}
        </colgroup>
        <thead>
          <tr aria-rowindex={1}>
            {COLUMNS.map((c) => (
              <th
                key={c.id}
                scope="col"
                aria-sort={view.sort === c.id ? (view.dir === "asc" ? "ascending" : "descending") : "none"}
              >
                <button
                  type="button"
                  className="sort-button"
                  onClick={() => props.onSort(c.id)}
                  title={c.title}
                >
                  {c.label}
                  <span className="sort-arrow" aria-hidden="true">
                    {view.sort === c.id ? (view.dir === "asc" ? "▲" : "▼") : ""}
                  </span>
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={COLUMNS.length}>{props.empty}</td>
            </tr>
          ) : (
            <>
              {padTop > 0 && (
                // biome-ignore lint/a11y/noAriaHiddenOnFocusable: a spacer row holds nothing focusable
                <tr aria-hidden="true" className="spacer" style={{ height: padTop }}>
                  <td colSpan={COLUMNS.length} />
                </tr>
              )}
              {items.map((item) => {
                const row = rows[item.index]!;
                return <Row key={row.key} row={row} rowIndex={item.index + 2} />;
              })}
              {padBottom > 0 && (
                // biome-ignore lint/a11y/noAriaHiddenOnFocusable: a spacer row holds nothing focusable
                <tr aria-hidden="true" className="spacer" style={{ height: padBottom }}>
                  <td colSpan={COLUMNS.length} />
                </tr>
              )}
            </>
          )}
        </tbody>
      </table>
    </div>
  );
}

/** Memoized: scrolling renders only the rows that come into view. */
const Row = memo(function Row({ row, rowIndex }: { row: CatalogRow; rowIndex: number }) {
  return (
    <tr aria-rowindex={rowIndex} style={{ height: ROW_HEIGHT }}>
      <Cells row={row} />
    </tr>
  );
});

function Cell({ children, title }: { children: ReactNode; title?: string | undefined }) {
  return (
    <td title={title}>
      <div className="catalog-cell">{children}</div>
    </td>
  );
}

function Cells({ row }: { row: CatalogRow }) {
  const p = row.partitionsTotal;
  return (
    <>
      <Cell title={row.description ?? row.key}>
        <Link to={`/assets/${row.key}`} className="catalog-key">
          {row.key}
        </Link>
      </Cell>
      <Cell title={row.group}>{row.group}</Cell>
      <Cell title={row.kinds.join(", ")}>
        {row.kinds.map((k) => (
          <span key={k} className="tag">
            {k}
          </span>
        ))}
      </Cell>
      <Cell title={row.owners.join(", ")}>
        {row.owners.length ? row.owners.join(", ") : <span className="muted">—</span>}
      </Cell>
      <Cell>{row.status ? <StatusBadge status={row.status} /> : <span className="muted">…</span>}</Cell>
      <Cell>
        <RelativeTime ms={row.lastMaterializedAt} />
      </Cell>
      <Cell>
        {row.overdue ? (
          <StatusBadge status="overdue" />
        ) : (
          <span className="muted" title="Not overdue (or no freshness policy)">
            on time
          </span>
        )}
      </Cell>
      <Cell>
        {row.checksDefined === 0 ? (
          <span className="muted" title="No checks defined">
            —
          </span>
        ) : (
          <span className="catalog-checks">
            <span className="ok">{row.checksPassed} passed</span>
            {row.checksFailed > 0 && <span className="bad">{row.checksFailed} failed</span>}
          </span>
        )}
      </Cell>
      <Cell
        title={
          p === null
            ? "Not partitioned"
            : `${row.partitionsMaterialized ?? 0} of ${p} partitions materialized`
        }
      >
        {p === null ? (
          <span className="muted">—</span>
        ) : (
          <span className="catalog-partitions">
            <span className="mono">
              {numberFormat.format(row.partitionsMaterialized ?? 0)}/{numberFormat.format(p)}
            </span>
            <span className="mini-bar" aria-hidden="true">
              <span style={{ width: `${p ? ((row.partitionsMaterialized ?? 0) / p) * 100 : 0}%` }} />
            </span>
          </span>
        )}
      </Cell>
    </>
  );
}
