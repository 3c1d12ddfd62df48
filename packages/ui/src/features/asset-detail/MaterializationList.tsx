import type { MaterializationsPage } from "@baton/webserver/api-types";
import type { InfiniteData, UseInfiniteQueryResult } from "@tanstack/react-query";
import { Link } from "react-router";
import { ErrorBox } from "../../components/ErrorBox";
import { RelativeTime } from "../../components/RelativeTime";
import { MetadataList } from "./MetadataView";
import { metadataDisplay } from "./metadata";

type Query = UseInfiniteQueryResult<InfiniteData<MaterializationsPage>, Error>;

/** Materializations newest first, paged with "Load more"; each opens to its metadata. */
export function MaterializationList(props: {
  query: Query;
  showPartition: boolean;
  onPartition?: ((partition: string) => void) | undefined;
  empty: string;
}) {
  const { query } = props;
  if (query.isError) return <ErrorBox error={query.error} title="Could not load materializations" />;
  if (query.isPending) return <p className="muted">Loading materializations…</p>;
  const items = query.data.pages.flatMap((p) => p.materializations);
  if (items.length === 0) return <p className="muted">{props.empty}</p>;
  return (
    <>
      <ul className="mat-list">
        {items.map((m) => {
          const rowCount = Object.values(m.metadata).find((v) => v.type === "row_count");
          const rows = rowCount ? metadataDisplay(rowCount) : null;
          return (
            <li key={m.id}>
              <details>
                <summary>
                  <span className="mat-time">
                    <RelativeTime ms={m.timestamp} />
                  </span>
                  <Link to={`/runs/${m.runId}`} className="mono" title={`Run ${m.runId}`}>
                    run {m.runId.slice(0, 8)}
                  </Link>
                  {props.showPartition && m.partition && (
                    <button
                      type="button"
                      className="ghost small mono mat-partition"
                      title="Open this partition"
                      onClick={(e) => {
                        e.preventDefault();
                        props.onPartition?.(m.partition!);
                      }}
                    >
                      {m.partition}
                    </button>
                  )}
                  {rows?.kind === "number" && <span className="muted small mat-rows">{rows.text}</span>}
                </summary>
                <div className="mat-details">
                  {m.codeVersion && (
                    <p className="small muted">
                      code version <code>{m.codeVersion}</code>
                      {m.dataVersion && (
                        <>
                          {" "}
                          · data version <code>{m.dataVersion.slice(0, 12)}</code>
                        </>
                      )}
                    </p>
                  )}
                  <MetadataList metadata={m.metadata} label="Metadata" />
                </div>
              </details>
            </li>
          );
        })}
      </ul>
      {query.hasNextPage && (
        <button
          type="button"
          className="load-more"
          onClick={() => void query.fetchNextPage()}
          disabled={query.isFetchingNextPage}
        >
          {query.isFetchingNextPage ? "Loading…" : "Load more"}
        </button>
      )}
    </>
  );
}
