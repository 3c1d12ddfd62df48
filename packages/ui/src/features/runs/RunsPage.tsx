import { useCallback, useMemo } from "react";
import { Link, useSearchParams } from "react-router";
import { isApiError } from "../../api/client";
import { ErrorBox } from "../../components/ErrorBox";
import {
  apiMessage,
  EMPTY_FILTERS,
  FILTER_LABEL,
  type FilterField,
  fieldOfApiError,
  isFiltered,
  paramsWith,
  parseFilters,
  type RunsFilters,
} from "./runs-list/filters";
import { flattenRuns } from "./runs-list/merge-head";
import { useRunsList } from "./runs-list/queries";
import { RunsFilterBar } from "./runs-list/RunsFilterBar";
import { RunsTable } from "./runs-list/RunsTable";
import "./runs-list/runs-list.css";

const numberFormat = new Intl.NumberFormat("en");

/** /runs — every run, newest first, filtered by what the URL says; pages load as you scroll. */
export default function RunsPage() {
  const [params, setParams] = useSearchParams();
  const search = params.toString();
  // biome-ignore lint/correctness/useExhaustiveDependencies: the query string is the filters' identity
  const parsed = useMemo(() => parseFilters(params), [search]);
  const { filters, problems, query } = parsed;
  const list = useRunsList(query, problems.length === 0);
  const runs = useMemo(() => flattenRuns(list.data?.pages), [list.data]);
  const filtered = isFiltered(filters);

  // Each filter change is one history entry: back undoes it.
  const update = (change: Partial<RunsFilters>) => setParams((p) => paramsWith(p, change));
  const clear = () => setParams((p) => paramsWith(p, EMPTY_FILTERS));
  const { fetchNextPage, hasNextPage, isFetchingNextPage } = list;
  const loadMore = useCallback(() => void fetchNextPage(), [fetchNextPage]);

  const errors: Partial<Record<FilterField, string>> = {};
  for (const p of problems) errors[p.field] = errors[p.field] ? `${errors[p.field]} ${p.message}` : p.message;
  const apiError = list.isError ? list.error : null;
  const apiField =
    isApiError(apiError) && apiError.status === 400 ? fieldOfApiError(apiError.field) : undefined;
  if (apiField && isApiError(apiError))
    errors[apiField] ??= `${FILTER_LABEL[apiField]}: ${apiMessage(apiError.message, apiError.field)}`;

  const busy = problems.length === 0 && !list.isError && !list.data;
  const count = numberFormat.format(runs.length);
  const footer =
    runs.length === 0 ? null : isFetchingNextPage ? (
      <span>Loading more runs…</span>
    ) : hasNextPage ? (
      <button type="button" className="small" onClick={loadMore}>
        Load more runs
      </button>
    ) : (
      <span>
        {runs.length === 1 ? "The only run" : `All ${count} runs`}
        {filtered ? " matching these filters" : ""}.
      </span>
    );

  return (
    <div className="runs-page">
      <div className="page-header">
        <h1>Runs</h1>
        <span className="muted" aria-live="polite" aria-atomic="true">
          {list.data
            ? `${count}${hasNextPage ? "+" : ""} run${runs.length === 1 ? "" : "s"}${filtered ? " matching" : ""}`
            : ""}
        </span>
        <span className="spacer" />
        {(filtered || problems.length > 0) && (
          <button type="button" onClick={clear}>
            Clear filters
          </button>
        )}
      </div>
      <RunsFilterBar filters={filters} errors={errors} onChange={update} />
      {problems.length > 0 && (
        <div className="error-box" role="alert">
          <strong>
            {problems.length === 1
              ? "A filter has a bad value"
              : `${problems.length} filters have bad values`}
          </strong>
          <ul className="runs-problems">
            {problems.map((p) => (
              <li key={`${p.field}:${p.message}`}>{p.message}</li>
            ))}
          </ul>
          <div>
            Fix it above, or{" "}
            <button type="button" className="small" onClick={clear}>
              clear all filters
            </button>
            .
          </div>
        </div>
      )}
      {apiError && !apiField && <ErrorBox error={apiError} title="Could not load the runs" />}
      {apiError && apiField && (
        <ErrorBox error={apiError} title={`The server refused the ${FILTER_LABEL[apiField]} filter`} />
      )}
      {problems.length === 0 && !apiError && (
        <RunsTable
          runs={runs}
          busy={busy}
          hasMore={hasNextPage}
          loadingMore={isFetchingNextPage}
          onLoadMore={loadMore}
          footer={footer}
          empty={
            busy ? (
              <p className="empty">Loading runs…</p>
            ) : filtered ? (
              <div className="empty">
                <h2>No runs match these filters</h2>
                <p>
                  Widen them above (a status, the dates), or{" "}
                  <button type="button" className="small" onClick={clear}>
                    clear all filters
                  </button>
                  .
                </p>
              </div>
            ) : (
              <div className="empty">
                <h2>No runs yet</h2>
                <p>
                  Materialize assets from the <Link to="/graph">asset graph</Link> or the{" "}
                  <Link to="/catalog">catalog</Link> (or <code>baton materialize</code> on the command line).
                  Runs that sensors, schedules and backfills launch show up here too, live.
                </p>
              </div>
            )
          }
        />
      )}
    </div>
  );
}
