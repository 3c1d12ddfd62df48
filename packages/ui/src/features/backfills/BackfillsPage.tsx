import type { Backfill } from "@baton/webserver/api-types";
import { Fragment, useMemo } from "react";
import { Link } from "react-router";
import { ErrorBox } from "../../components/ErrorBox";
import { exactTime, RelativeTime } from "../../components/RelativeTime";
import { BACKFILL_STATUS, backfillProgress, describeKeys } from "../runs/run-format";
import { StatusPill } from "../runs/StatusPill";
import { useBackfillsList } from "./queries";
import "./backfills.css";

const ASSETS_SHOWN = 2;
const fmt = (n: number) => n.toLocaleString("en");

/** /backfills — every backfill, newest first, with its progress; pages of 30. */
export default function BackfillsPage() {
  const list = useBackfillsList();
  const backfills = useMemo(() => {
    const seen = new Set<string>();
    const out: Backfill[] = [];
    for (const p of list.data?.pages ?? [])
      for (const b of p.backfills) {
        if (seen.has(b.backfillId)) continue;
        seen.add(b.backfillId);
        out.push(b);
      }
    return out;
  }, [list.data]);
  return (
    <div className="page bf-page">
      <div className="page-header">
        <h1>Backfills</h1>
        <span className="muted" aria-live="polite" aria-atomic="true">
          {list.data ? `${fmt(backfills.length)}${list.hasNextPage ? "+" : ""} backfills` : ""}
        </span>
      </div>
      {list.isError ? (
        <ErrorBox error={list.error} title="Could not load the backfills" />
      ) : !list.data ? (
        <p className="empty" aria-busy="true">
          Loading backfills…
        </p>
      ) : backfills.length === 0 ? (
        <div className="card empty">
          <h2>No backfills yet</h2>
          <p>
            A backfill materializes many partitions of partitioned assets. Select partitioned assets in the{" "}
            <Link to="/graph">asset graph</Link>, choose <strong>Materialize</strong> and pick a range of
            partitions (or run <code>baton backfill</code>); it shows up here with its progress.
          </p>
        </div>
      ) : (
        <div className="bf-list-wrap">
          <table className="bf-list" aria-label="Backfills">
            <colgroup>
              <col className="col-id" />
              <col className="col-status" />
              <col className="col-what" />
              <col className="col-partitions" />
              <col className="col-progress" />
              <col className="col-created" />
              <col className="col-ended" />
            </colgroup>
            <thead>
              <tr>
                <th scope="col">Backfill</th>
                <th scope="col">Status</th>
                <th scope="col">What</th>
                <th scope="col">Partitions</th>
                <th scope="col">Progress</th>
                <th scope="col">Created</th>
                <th scope="col">Ended</th>
              </tr>
            </thead>
            <tbody>
              {backfills.map((b) => (
                <BackfillRow key={b.backfillId} b={b} />
              ))}
            </tbody>
          </table>
          <div className="bf-list-footer">
            {list.hasNextPage ? (
              <button
                type="button"
                onClick={() => void list.fetchNextPage()}
                disabled={list.isFetchingNextPage}
              >
                {list.isFetchingNextPage ? "Loading…" : "Show older backfills"}
              </button>
            ) : (
              <span className="muted small">All {fmt(backfills.length)} backfills.</span>
            )}
          </div>
        </div>
      )}
    </div>
  );
}

function BackfillRow({ b }: { b: Backfill }) {
  const st = BACKFILL_STATUS[b.status];
  const c = b.counts;
  const progress = backfillProgress(c);
  const done = c.materialized + c.failed + c.skipped + c.canceled;
  const words = [
    `${fmt(c.materialized)} succeeded`,
    c.failed > 0 ? `${fmt(c.failed)} failed` : "",
    c.skipped > 0 ? `${fmt(c.skipped)} skipped` : "",
    c.canceled > 0 ? `${fmt(c.canceled)} canceled` : "",
  ].filter(Boolean);
  const text = `${fmt(done)} of ${fmt(c.targeted)} done: ${words.join(", ")}`;
  const parentId = typeof b.options.parentBackfillId === "string" ? b.options.parentBackfillId : null;
  return (
    <tr>
      <td>
        <Link to={`/backfills/${b.backfillId}`} className="mono" title={b.backfillId}>
          {b.backfillId.slice(0, 8)}
        </Link>
        {parentId && (
          <div className="muted small" title={`Retry of backfill ${parentId}`}>
            retry of{" "}
            <Link to={`/backfills/${parentId}`} className="mono">
              {parentId.slice(0, 8)}
            </Link>
          </div>
        )}
      </td>
      <td>
        <StatusPill word={st.word} color={st.color} />
      </td>
      <td>
        <div className="bf-cell mono small" title={b.selection}>
          {b.selection}
        </div>
        <div className="bf-cell small" title={b.assetKeys.join("\n")}>
          {b.assetKeys.slice(0, ASSETS_SHOWN).map((k, i) => (
            <Fragment key={k}>
              {i > 0 && ", "}
              <Link to={`/assets/${k}`}>{k}</Link>
            </Fragment>
          ))}
          {b.assetKeys.length > ASSETS_SHOWN && (
            <span className="muted"> +{b.assetKeys.length - ASSETS_SHOWN} more</span>
          )}
        </div>
      </td>
      <td>
        <div>{fmt(b.partitionKeys.length)}</div>
        <div className="bf-keys mono small muted" title={describeKeys(b.partitionKeys)}>
          {keyRange(b.partitionKeys)}
        </div>
      </td>
      <td>
        <div
          className="bf-progress bf-progress-small"
          role="progressbar"
          aria-label={`Progress of backfill ${b.backfillId.slice(0, 8)}`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={progress}
          aria-valuetext={`${text} (${progress}%)`}
        >
          <Seg n={c.materialized} of={c.targeted} color="materialized" />
          <Seg n={c.failed} of={c.targeted} color="failed" />
          <Seg n={c.skipped} of={c.targeted} color="stale" />
          <Seg n={c.canceled} of={c.targeted} color="missing" />
        </div>
        <div className="small bf-progress-words">
          {fmt(done)}/{fmt(c.targeted)} · {words.join(", ")}
        </div>
      </td>
      <td>
        <RelativeTime ms={b.createdAt} />
      </td>
      <td>
        {b.endedAt ? (
          <span title={exactTime(b.endedAt)}>
            <RelativeTime ms={b.endedAt} />
          </span>
        ) : (
          <span className="muted">{b.status === "CANCELING" ? "canceling" : "in progress"}</span>
        )}
      </td>
    </tr>
  );
}

/** "2024-03-01 … 2024-03-08" (the count is shown above it). */
function keyRange(keys: readonly string[]): string {
  if (keys.length === 0) return "—";
  return keys.length === 1 ? keys[0]! : `${keys[0]} … ${keys[keys.length - 1]}`;
}

function Seg({ n, of, color }: { n: number; of: number; color: string }) {
  if (n <= 0 || of <= 0) return null;
  return (
    <span
      className="bf-progress-seg"
      style={{ width: `${(n / of) * 100}%`, background: `var(--st-${color})` }}
    />
  );
}
