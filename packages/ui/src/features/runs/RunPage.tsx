import type { Run, StepSummary } from "@baton/webserver/api-types";
import { useState } from "react";
import { Link, useParams } from "react-router";
import { isApiError } from "../../api/client";
import { useRun } from "../../api/queries";
import { usePermission } from "../../app/Auth";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ErrorBox } from "../../components/ErrorBox";
import { exactTime, RelativeTime } from "../../components/RelativeTime";
import { ErrorDetails } from "./ErrorDetails";
import { describeKeys, formatDuration, RUN_STATUS, STEP_STATUS } from "./run-format";
import { StatusPill } from "./StatusPill";
import { useNow } from "./use-now";
import { useCancelRun } from "./use-run-actions";
import "./runs.css";

const LAUNCHED_BY = "baton/launched-by";

function Time({ ms }: { ms: number | null }) {
  if (ms === null) return <span className="muted">—</span>;
  return (
    <>
      {exactTime(ms)}{" "}
      <span className="muted small">
        (<RelativeTime ms={ms} />)
      </span>
    </>
  );
}

/** /runs/:id — a run's status (live), timings, who launched it, partitions, assets, steps and errors. */
export default function RunPage() {
  const id = useParams().id ?? "";
  const query = useRun(id);
  const short = id.slice(0, 8);
  if (query.isError) {
    if (isApiError(query.error) && query.error.status === 404)
      return (
        <div className="page run-page">
          <h1>No run {id}</h1>
          <p>
            There is no run with this id (it may have been deleted, or the link is wrong).{" "}
            <Link to="/graph">Back to the asset graph</Link>
          </p>
        </div>
      );
    return (
      <div className="page run-page">
        <h1>Run {short}</h1>
        <ErrorBox error={query.error} title="Could not load this run" />
      </div>
    );
  }
  if (!query.data)
    return (
      <div className="page run-page" aria-busy="true">
        <h1>Run {short}</h1>
        <p className="muted">Loading…</p>
      </div>
    );
  return <RunView run={query.data.run} steps={query.data.summary.steps} reason={query.data.summary.reason} />;
}

function RunView({ run, steps, reason }: { run: Run; steps: StepSummary[]; reason: string | null }) {
  const status = RUN_STATUS[run.status];
  const now = useNow(status.active && run.startedAt !== null);
  const duration = run.startedAt === null ? null : (run.endedAt ?? now) - run.startedAt;
  const launchedBy = run.tags[LAUNCHED_BY];
  const otherTags = Object.entries(run.tags).filter(([k]) => k !== LAUNCHED_BY);
  const failedSteps = steps.filter((s) => s.error);
  return (
    <div className="page run-page">
      <div className="page-header">
        <h1>Run {run.runId.slice(0, 8)}</h1>
        <StatusPill word={status.word} color={status.color} />
        {run.cancelRequested && run.status !== "CANCELED" && <span className="badge">cancel requested</span>}
        <span className="spacer" />
        {status.active && !run.cancelRequested && run.status !== "CANCELING" && <CancelRun run={run} />}
      </div>

      {run.status === "FAILURE" && reason && failedSteps.length === 0 && (
        <div className="error-box" role="alert">
          <strong>The run failed</strong>
          <pre className="run-error-message">{reason}</pre>
        </div>
      )}
      {run.status === "CANCELED" && reason && <p className="muted">{reason}</p>}

      <div className="run-grid">
        <section className="card" aria-labelledby="run-facts">
          <h2 id="run-facts">Details</h2>
          <dl className="props">
            <dt>Run id</dt>
            <dd className="mono">{run.runId}</dd>
            <dt>Created</dt>
            <dd>
              <Time ms={run.createdAt} />
            </dd>
            <dt>Started</dt>
            <dd>
              <Time ms={run.startedAt} />
            </dd>
            <dt>Ended</dt>
            <dd>
              <Time ms={run.endedAt} />
            </dd>
            <dt>Duration</dt>
            <dd>
              {formatDuration(duration)}
              {run.endedAt === null && duration !== null ? " so far" : ""}
            </dd>
            <dt>Launched by</dt>
            <dd>{launchedBy ?? <span className="muted">—</span>}</dd>
            <dt>Partition{run.partitionKeys && run.partitionKeys.length > 1 ? "s" : ""}</dt>
            <dd className="mono">
              {run.partitionKeys ? describeKeys(run.partitionKeys) : "not partitioned"}
            </dd>
            {run.backfillId && (
              <>
                <dt>Backfill</dt>
                <dd>
                  <Link to={`/backfills/${run.backfillId}`}>{run.backfillId.slice(0, 8)}</Link>
                </dd>
              </>
            )}
            {run.parentRunId && (
              <>
                <dt>Re-execution of</dt>
                <dd>
                  <Link to={`/runs/${run.parentRunId}`}>{run.parentRunId.slice(0, 8)}</Link>
                </dd>
              </>
            )}
            <dt>Selection</dt>
            <dd className="mono">{run.selection}</dd>
            {otherTags.length > 0 && (
              <>
                <dt>Tags</dt>
                <dd className="row">
                  {otherTags.map(([k, v]) => (
                    <span key={k} className="tag">
                      {k}={v}
                    </span>
                  ))}
                </dd>
              </>
            )}
          </dl>
        </section>
        <section className="card" aria-labelledby="run-assets">
          <h2 id="run-assets">Assets ({run.assetKeys.length})</h2>
          <ul className="run-assets">
            {run.assetKeys.map((k) => (
              <li key={k}>
                <Link to={`/assets/${k}`} className="mono">
                  {k}
                </Link>
              </li>
            ))}
          </ul>
        </section>
      </div>

      <section className="card" aria-labelledby="run-steps">
        <h2 id="run-steps">Steps</h2>
        {steps.length === 0 ? (
          <p className="muted">
            {run.status === "QUEUED" ? "Waiting for a worker to start the run." : "No steps."}
          </p>
        ) : (
          <div className="table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Step</th>
                  <th scope="col">Status</th>
                  <th scope="col">Started</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Assets</th>
                </tr>
              </thead>
              <tbody>
                {steps.map((s) => {
                  const st = STEP_STATUS[s.status] ?? { word: s.status, color: "missing" };
                  return (
                    <tr key={s.stepKey}>
                      <td className="mono">
                        {s.stepKey}
                        {s.reason && !s.error && <div className="muted small step-reason">{s.reason}</div>}
                        {s.error && (
                          <div className="small step-reason check-failed">
                            {s.error.name}: see the error below
                          </div>
                        )}
                      </td>
                      <td>
                        <StatusPill word={st.word} color={st.color} />
                      </td>
                      <td>{s.startedAt ? new Date(s.startedAt).toLocaleTimeString() : "—"}</td>
                      <td>
                        {formatDuration(
                          s.durationMs ??
                            (s.startedAt && s.status === "running" ? Date.now() - s.startedAt : null),
                        )}
                      </td>
                      <td>{s.attempts}</td>
                      <td className="small">
                        {s.assetKeys.map((k) => (
                          <div key={k}>
                            <Link to={`/assets/${k}`}>{k}</Link>
                          </div>
                        ))}
                        {s.checks.map((c) => (
                          <div
                            key={`${c.assetKey}:${c.checkName}`}
                            className={c.passed ? "muted" : "check-failed"}
                          >
                            {c.passed ? "✓" : "✕"} {c.checkName} {c.passed ? "passed" : "failed"}
                          </div>
                        ))}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>

      {failedSteps.map((s) => (
        <section key={s.stepKey} className="card error-card" aria-label={`Error in step ${s.stepKey}`}>
          <ErrorDetails error={s.error!} title={`Step ${s.stepKey} failed`} />
        </section>
      ))}
    </div>
  );
}

function CancelRun({ run }: { run: Run }) {
  const launcher = usePermission("launcher");
  const cancel = useCancelRun(run.runId);
  const [open, setOpen] = useState(false);
  return (
    <>
      <button
        type="button"
        className="danger-outline"
        disabled={!launcher.allowed}
        title={launcher.reason}
        onClick={() => {
          cancel.reset();
          setOpen(true);
        }}
      >
        Cancel run
      </button>
      {!launcher.allowed && <span className="muted small">{launcher.reason}</span>}
      <ConfirmDialog
        open={open}
        onOpenChange={setOpen}
        title={`Cancel run ${run.runId.slice(0, 8)}?`}
        description={
          run.status === "QUEUED"
            ? "The run has not started: it is canceled at once."
            : "The run is asked to stop: steps already running finish or are interrupted, the rest do not start."
        }
        confirmLabel="Cancel run"
        backOutLabel="Keep it"
        danger
        pending={cancel.isPending}
        error={cancel.error}
        onConfirm={() => cancel.mutate(undefined, { onSuccess: () => setOpen(false) })}
      />
    </>
  );
}
