import type { BackfillDetail } from "@baton/webserver/api-types";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { isApiError } from "../../api/client";
import { useBackfill } from "../../api/queries";
import { usePermission } from "../../app/Auth";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ErrorBox } from "../../components/ErrorBox";
import { exactTime, RelativeTime } from "../../components/RelativeTime";
import { useToast } from "../../components/Toasts";
import {
  BACKFILL_STATUS,
  backfillProgress,
  describeKeys,
  formatDuration,
  RUN_STATUS,
  runCounts,
} from "../runs/run-format";
import { StatusPill } from "../runs/StatusPill";
import { useNow } from "../runs/use-now";
import { useCancelBackfill, useRetryBackfill } from "../runs/use-run-actions";
import "../runs/runs.css";

/** At most this many partition keys are listed on the page (the count is always shown). */
const KEYS_SHOWN = 500;

/** /backfills/:id — status, progress, counts, its partitions and runs; cancel and retry. */
export default function BackfillPage() {
  const id = useParams().id ?? "";
  const query = useBackfill(id);
  const short = id.slice(0, 8);
  if (query.isError) {
    if (isApiError(query.error) && query.error.status === 404)
      return (
        <div className="page run-page">
          <h1>No backfill {id}</h1>
          <p>
            There is no backfill with this id. <Link to="/graph">Back to the asset graph</Link>
          </p>
        </div>
      );
    return (
      <div className="page run-page">
        <h1>Backfill {short}</h1>
        <ErrorBox error={query.error} title="Could not load this backfill" />
      </div>
    );
  }
  if (!query.data)
    return (
      <div className="page run-page" aria-busy="true">
        <h1>Backfill {short}</h1>
        <p className="muted">Loading…</p>
      </div>
    );
  return <BackfillView detail={query.data} />;
}

function BackfillView({ detail }: { detail: BackfillDetail }) {
  const { backfill: b, runs } = detail;
  const status = BACKFILL_STATUS[b.status];
  const c = b.counts;
  const progress = backfillProgress(c);
  const done = c.materialized + c.failed + c.skipped + c.canceled;
  const rc = runCounts(runs);
  const tags = (b.options.tags ?? {}) as Record<string, string>;
  const config = b.options.config as Record<string, unknown> | undefined;
  const now = useNow(status.active);
  return (
    <div className="page run-page">
      <div className="page-header">
        <h1>Backfill {b.backfillId.slice(0, 8)}</h1>
        <StatusPill word={status.word} color={status.color} />
        <span className="spacer" />
        <BackfillActions detail={detail} />
      </div>

      {b.error && (
        <div className="error-box" role="alert">
          <strong>The backfill failed</strong>
          <pre className="run-error-message">{b.error}</pre>
        </div>
      )}

      <section className="card" aria-labelledby="bf-progress">
        <h2 id="bf-progress">Progress</h2>
        <div
          className="progress"
          role="progressbar"
          aria-label="Backfill progress"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={progress}
          aria-valuetext={`${done.toLocaleString("en")} of ${c.targeted.toLocaleString("en")} asset partitions done (${progress}%)`}
        >
          <Segment n={c.materialized} of={c.targeted} color="materialized" />
          <Segment n={c.failed} of={c.targeted} color="failed" />
          <Segment n={c.skipped} of={c.targeted} color="stale" />
          <Segment n={c.canceled} of={c.targeted} color="missing" />
        </div>
        <p className="small muted">
          {done.toLocaleString("en")} of {c.targeted.toLocaleString("en")} asset partitions done ({progress}%)
        </p>
        <div className="counts">
          <Count label="Queued" n={rc.queued} color="queued" unit="runs" />
          <Count label="Running" n={rc.running} color="running" unit="runs" />
          <Count label="Succeeded" n={c.materialized} color="materialized" unit="asset partitions" />
          <Count label="Failed" n={c.failed} color="failed" unit="asset partitions" />
          <Count label="Skipped" n={c.skipped} color="stale" unit="asset partitions" />
          {c.canceled > 0 && (
            <Count label="Canceled" n={c.canceled} color="missing" unit="asset partitions" />
          )}
        </div>
      </section>

      <div className="run-grid">
        <section className="card" aria-labelledby="bf-facts">
          <h2 id="bf-facts">Details</h2>
          <dl className="props">
            <dt>Backfill id</dt>
            <dd className="mono">{b.backfillId}</dd>
            <dt>Created</dt>
            <dd>
              {exactTime(b.createdAt)}{" "}
              <span className="muted small">
                (<RelativeTime ms={b.createdAt} />)
              </span>
            </dd>
            <dt>Ended</dt>
            <dd>{b.endedAt ? exactTime(b.endedAt) : <span className="muted">—</span>}</dd>
            <dt>Duration</dt>
            <dd>
              {formatDuration((b.endedAt ?? now) - b.createdAt)}
              {b.endedAt === null ? " so far" : ""}
            </dd>
            <dt>Launched by</dt>
            <dd>{tags["baton/launched-by"] ?? <span className="muted">—</span>}</dd>
            <dt>Selection</dt>
            <dd className="mono">{b.selection}</dd>
            <dt>Assets</dt>
            <dd>
              {b.assetKeys.map((k, i) => (
                <span key={k}>
                  {i > 0 && ", "}
                  <Link to={`/assets/${k}`}>{k}</Link>
                </span>
              ))}
            </dd>
            <dt>Runs</dt>
            <dd>
              {c.runs.toLocaleString("en")} ({rc.succeeded} succeeded, {rc.failed} failed
              {rc.canceled > 0 ? `, ${rc.canceled} canceled` : ""})
            </dd>
            {config && Object.keys(config).length > 0 && (
              <>
                <dt>Config</dt>
                <dd>
                  <pre className="inline-json">{JSON.stringify(config, null, 2)}</pre>
                </dd>
              </>
            )}
          </dl>
        </section>
        <section className="card" aria-labelledby="bf-partitions">
          <h2 id="bf-partitions">Partitions ({b.partitionKeys.length.toLocaleString("en")})</h2>
          <p className="mono small">{describeKeys(b.partitionKeys)}</p>
          {b.partitionKeys.length > 1 && (
            <details>
              <summary>
                {b.partitionKeys.length > KEYS_SHOWN
                  ? `Show the first ${KEYS_SHOWN}`
                  : `Show all ${b.partitionKeys.length}`}
              </summary>
              <ul className="key-chips">
                {b.partitionKeys.slice(0, KEYS_SHOWN).map((k) => (
                  <li key={k} className="tag">
                    {k}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </section>
      </div>

      <section className="card" aria-labelledby="bf-runs">
        <h2 id="bf-runs">Runs</h2>
        {runs.length === 0 ? (
          <p className="muted">No runs yet: the daemon starts them.</p>
        ) : (
          <div className="table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Status</th>
                  <th scope="col">Partitions</th>
                  <th scope="col">Assets</th>
                </tr>
              </thead>
              <tbody>
                {runs.map((r) => {
                  const st = RUN_STATUS[r.status];
                  return (
                    <tr key={r.runId}>
                      <td>
                        <Link to={`/runs/${r.runId}`} className="mono">
                          {r.runId.slice(0, 8)}
                        </Link>
                      </td>
                      <td>
                        <StatusPill word={st.word} color={st.color} />
                      </td>
                      <td className="mono small">{describeKeys(r.partitionKeys)}</td>
                      <td className="small">{r.assetKeys.join(", ")}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        {detail.moreRuns && (
          <p className="hint">
            The first 1,000 runs are listed; the API lists the rest (/api/runs?backfill=…).
          </p>
        )}
      </section>
    </div>
  );
}

function Segment({ n, of, color }: { n: number; of: number; color: string }) {
  if (n <= 0 || of <= 0) return null;
  return (
    <span
      className="progress-seg"
      style={{ width: `${(n / of) * 100}%`, background: `var(--st-${color})` }}
    />
  );
}

function Count({ label, n, color, unit }: { label: string; n: number; color: string; unit: string }) {
  return (
    <div className="count" title={`${n.toLocaleString("en")} ${unit}`}>
      <span className="status-dot" style={{ background: `var(--st-${color})` }} aria-hidden="true" />
      <span className="count-n">{n.toLocaleString("en")}</span>
      <span className="muted small">
        {label} <span className="count-unit">{unit}</span>
      </span>
    </div>
  );
}

function BackfillActions({ detail }: { detail: BackfillDetail }) {
  const b = detail.backfill;
  const launcher = usePermission("launcher");
  const cancel = useCancelBackfill(b.backfillId);
  const retry = useRetryBackfill(b.backfillId);
  const navigate = useNavigate();
  const toast = useToast();
  const [confirm, setConfirm] = useState(false);
  const active = BACKFILL_STATUS[b.status].active;
  const retriable = !active && b.counts.failed + b.counts.skipped + b.counts.canceled > 0;
  const reason = launcher.allowed ? undefined : launcher.reason;
  return (
    <div className="row">
      {reason && <span className="muted small">{reason}</span>}
      {!active && (
        <>
          {!retriable && <span className="muted small">Nothing failed, was skipped or canceled.</span>}
          <button
            type="button"
            disabled={!launcher.allowed || !retriable || retry.isPending}
            title={reason ?? "A new backfill of what did not succeed"}
            onClick={() =>
              retry.mutate(undefined, {
                onSuccess: ({ backfill }) => {
                  toast(
                    `Backfill ${backfill.backfillId.slice(0, 8)} created to retry ${b.backfillId.slice(0, 8)}`,
                  );
                  navigate(`/backfills/${backfill.backfillId}`);
                },
              })
            }
          >
            Retry failed
          </button>
        </>
      )}
      {active && (
        <button
          type="button"
          className="danger-outline"
          disabled={!launcher.allowed || b.status === "CANCELING"}
          title={reason ?? (b.status === "CANCELING" ? "Cancel already requested" : undefined)}
          onClick={() => {
            cancel.reset();
            setConfirm(true);
          }}
        >
          Cancel backfill
        </button>
      )}
      {retry.error ? <ErrorBox error={retry.error} title="Could not retry" /> : null}
      <ConfirmDialog
        open={confirm}
        onOpenChange={setConfirm}
        title={`Cancel backfill ${b.backfillId.slice(0, 8)}?`}
        description="No new runs start, and the daemon cancels the runs already queued or running."
        confirmLabel="Cancel backfill"
        backOutLabel="Keep it"
        danger
        pending={cancel.isPending}
        error={cancel.error}
        onConfirm={() => cancel.mutate(undefined, { onSuccess: () => setConfirm(false) })}
      />
    </div>
  );
}
