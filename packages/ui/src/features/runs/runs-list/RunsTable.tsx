import type { Run } from "@baton/webserver/api-types";
import { useVirtualizer } from "@tanstack/react-virtual";
import { Fragment, memo, type ReactNode, useEffect, useRef } from "react";
import { Link } from "react-router";
import { RelativeTime } from "../../../components/RelativeTime";
import { describeKeys, formatDuration, RUN_STATUS } from "../run-format";
import { StatusPill } from "../StatusPill";
import { useNow } from "../use-now";
import { describeLaunchedBy, type LaunchedBy, launchedBy } from "./launched-by";

const ROW_HEIGHT = 40;
/** Start reading the next page when the last rows in view are this close to the end. */
const PREFETCH_ROWS = 15;
const ASSETS_SHOWN = 2;

const COLUMNS = ["Run", "Status", "Assets", "Partitions", "Launched by", "Created", "Duration"] as const;

/**
 * The runs as a real table whose body holds only the rows in view (TanStack Virtual) between two
 * spacer rows; near the end of what is loaded it asks for the next page.
 */
export function RunsTable(props: {
  runs: readonly Run[];
  busy: boolean;
  hasMore: boolean;
  loadingMore: boolean;
  onLoadMore(): void;
  /** Shown in the body when there are no runs (and nothing is loading). */
  empty: ReactNode;
  footer: ReactNode;
}) {
  const { runs, hasMore, loadingMore, onLoadMore } = props;
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: runs.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.length ? items[items.length - 1]!.index : -1;
  useEffect(() => {
    if (hasMore && !loadingMore && runs.length > 0 && lastIndex >= runs.length - PREFETCH_ROWS) onLoadMore();
  }, [hasMore, loadingMore, lastIndex, runs.length, onLoadMore]);
  const anyActive = runs.some((r) => RUN_STATUS[r.status].active && r.startedAt !== null);
  const now = useNow(anyActive);
  const padTop = items[0]?.start ?? 0;
  const padBottom = items.length ? virtualizer.getTotalSize() - items[items.length - 1]!.end : 0;
  return (
    <div className="runs-table-wrap" ref={scrollRef}>
      <table
        className="runs-table"
        aria-label="Runs"
        aria-busy={props.busy}
        aria-rowcount={hasMore ? -1 : runs.length + 1}
      >
        <colgroup>
          {COLUMNS.map((c) => (
            <col key={c} className={`col-${c.toLowerCase().replace(/ /g, "-")}`} />
          ))}
        </colgroup>
        <thead>
          <tr aria-rowindex={1}>
            {COLUMNS.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {runs.length === 0 ? (
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
                const run = runs[item.index]!;
                const active = RUN_STATUS[run.status].active;
                return <RunRow key={run.runId} run={run} rowIndex={item.index + 2} now={active ? now : 0} />;
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
      <div className="runs-table-footer">{props.footer}</div>
    </div>
  );
}

/** Memoized: scrolling renders only the rows that come into view; `now` is 0 for ended runs. */
const RunRow = memo(function RunRow({ run, rowIndex, now }: { run: Run; rowIndex: number; now: number }) {
  const st = RUN_STATUS[run.status];
  const by = launchedBy(run);
  const partitions = run.partitionKeys;
  const duration = run.startedAt === null ? null : (run.endedAt ?? (now || run.startedAt)) - run.startedAt;
  return (
    <tr aria-rowindex={rowIndex} style={{ height: ROW_HEIGHT }}>
      <td>
        <Link to={`/runs/${run.runId}`} className="mono" title={run.runId}>
          {run.runId.slice(0, 8)}
        </Link>
      </td>
      <td>
        <StatusPill word={st.word} color={st.color} />
      </td>
      <td title={run.assetKeys.join("\n")}>
        <div className="runs-assets">
          <span className="runs-cell">
            {run.assetKeys.slice(0, ASSETS_SHOWN).map((k, i) => (
              <Fragment key={k}>
                {i > 0 && ", "}
                <Link to={`/assets/${k}`}>{k}</Link>
              </Fragment>
            ))}
            {run.assetKeys.length === 0 && <span className="muted">—</span>}
          </span>
          {run.assetKeys.length > ASSETS_SHOWN && (
            <span className="muted runs-more">+{run.assetKeys.length - ASSETS_SHOWN} more</span>
          )}
        </div>
      </td>
      <td title={partitions && partitions.length <= 50 ? partitions.join("\n") : undefined}>
        <div className="runs-cell mono small">
          {partitions === null ? <span className="muted">—</span> : describeKeys(partitions)}
        </div>
      </td>
      <td title={describeLaunchedBy(by)}>
        <div className="runs-cell">
          <LaunchedByCell parts={by} />
        </div>
      </td>
      <td>
        <RelativeTime ms={run.createdAt} />
      </td>
      <td className="runs-duration" title={run.endedAt === null && duration !== null ? "so far" : undefined}>
        {duration === null ? <span className="muted">—</span> : formatDuration(duration)}
      </td>
    </tr>
  );
});

const short = (id: string) => id.slice(0, 8);

function LaunchedByCell({ parts }: { parts: readonly LaunchedBy[] }) {
  if (parts.length === 0) return <span className="muted">—</span>;
  return (
    <>
      {parts.map((p, i) => (
        <Fragment key={p.kind}>
          {i > 0 && <span className="muted"> · </span>}
          <LaunchedByPart part={p} />
        </Fragment>
      ))}
    </>
  );
}

function LaunchedByPart({ part: p }: { part: LaunchedBy }) {
  switch (p.kind) {
    case "backfill":
      return (
        <>
          backfill{" "}
          <Link to={`/backfills/${p.backfillId}`} className="mono" title={p.backfillId}>
            {short(p.backfillId)}
          </Link>
        </>
      );
    case "retry":
      return (
        <>
          retry {p.attempt} of{" "}
          <Link to={`/runs/${p.parentRunId}`} className="mono" title={p.parentRunId}>
            {short(p.parentRunId)}
          </Link>
        </>
      );
    case "reexecution":
      return (
        <>
          re-execution of{" "}
          <Link to={`/runs/${p.parentRunId}`} className="mono" title={p.parentRunId}>
            {short(p.parentRunId)}
          </Link>
        </>
      );
    case "sensor":
      return (
        <>
          sensor <Link to={`/automation/${encodeURIComponent(p.name)}`}>{p.name}</Link>
        </>
      );
    case "schedule":
      return (
        <>
          schedule <Link to={`/automation/${encodeURIComponent(p.name)}`}>{p.name}</Link>
        </>
      );
    case "automation":
      return <>automation ({p.condition})</>;
    case "user":
      return <>{p.name}</>;
  }
}
