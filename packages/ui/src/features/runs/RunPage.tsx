import type { Run, RunDetail, StepSummary } from "@baton/webserver/api-types";
import {
  memo,
  type ReactNode,
  useCallback,
  useDeferredValue,
  useEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { isApiError } from "../../api/client";
import { useRun } from "../../api/queries";
import { usePermission } from "../../app/Auth";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ErrorBox } from "../../components/ErrorBox";
import { exactTime, RelativeTime } from "../../components/RelativeTime";
import { useToast } from "../../components/Toasts";
import { ErrorDetails } from "./ErrorDetails";
import { LogViewer, prefetchRunLogs } from "./logs/LogViewer";
import { describeKeys, formatDuration, RUN_STATUS } from "./run-format";
import { StatusPill } from "./StatusPill";
import { StepsTable } from "./timeline/StepsTable";
import { StepTimeline } from "./timeline/StepTimeline";
import { buildTimeline } from "./timeline/timeline-model";
import { useNow } from "./use-now";
import { useCancelRun, useReexecuteRun } from "./use-run-actions";
import "./runs.css";

/** Tags set by Baton itself (shown as "launched by", not among the user's tags). */
const TAG = {
  launchedBy: "baton/launched-by",
  schedule: "baton/schedule",
  scheduledTime: "baton/scheduled-time",
  sensor: "baton/sensor",
  automation: "baton/automation",
  file: "baton/file",
  backfill: "baton/backfill",
  retryNumber: "baton/retry-number",
} as const;
const LAUNCH_TAGS = new Set<string>(Object.values(TAG));
/** Links to the assets it materialized, at most (a 10,000-asset run says how many more). */
const MAX_ASSET_LINKS = 60;

const NO_KEYS: readonly string[] = [];
/** Re-rendered only when its props change (not on each tick of a running run's clock). */
const Logs = memo(LogViewer);
const Timeline = memo(StepTimeline);
const shortId = (id: string) => id.slice(0, 8);
const assetHref = (key: string) => `/assets/${key.split("/").map(encodeURIComponent).join("/")}`;

/**
 * Start reading what the run page at `pathname` shows, before the page mounts (the app calls it
 * while it checks who is signed in): the run's first page of log lines.
 */
export function preload(pathname: string): void {
  const id = /^\/runs\/([^/]+)$/.exec(pathname)?.[1];
  if (id) prefetchRunLogs(decodeURIComponent(id));
}

/** /runs/:id — a run's status (live), who launched it, its step timeline, logs, steps and errors; re-execute, cancel. */
export default function RunPage() {
  const id = useParams().id ?? "";
  const query = useRun(id);
  // The first page of log lines is read alongside the run (the viewer mounts once the run answered).
  useEffect(() => prefetchRunLogs(id), [id]);
  if (query.isError) {
    if (isApiError(query.error) && query.error.status === 404)
      return (
        <div className="page run-page">
          <h1>No run {id}</h1>
          <p>
            There is no run with this id (it may have been deleted, or the link is wrong).{" "}
            <Link to="/runs">See all runs</Link> or <Link to="/graph">Back to the asset graph</Link>
          </p>
        </div>
      );
    return (
      <div className="page run-page">
        <h1>Run {shortId(id)}</h1>
        <ErrorBox error={query.error} title="Could not load this run" />
      </div>
    );
  }
  if (!query.data)
    return (
      <div className="page run-page" aria-busy="true">
        <h1>Run {shortId(id)}</h1>
        <p className="muted">Loading…</p>
      </div>
    );
  return <RunView detail={query.data} />;
}

function RunView({ detail }: { detail: RunDetail }) {
  const { run, summary } = detail;
  const steps = summary.steps;
  const status = RUN_STATUS[run.status];
  const ended = !status.active;
  const now = useNow(!ended);
  const [params, setParams] = useSearchParams();
  const step = params.get("step");
  const setStep = useCallback(
    (next: string | null) =>
      setParams(
        (p) => {
          const q = new URLSearchParams(p);
          if (next === null) q.delete("step");
          else q.set("step", next);
          return q;
        },
        { replace: true },
      ),
    [setParams],
  );
  // Once per response (the run query is refreshed at most every 250 ms while events arrive).
  const model = useMemo(
    () => buildTimeline(steps, summary.startedAt ?? run.startedAt),
    [steps, summary.startedAt, run.startedAt],
  );
  // The log viewer gets the keys in a low-priority render after the first paint: a 10,000-option
  // step filter does not hold back the timeline (which must paint within a second of the response).
  const stepKeys = useDeferredValue(useStableKeys(model.rows), NO_KEYS);
  // Before a worker starts the run, its steps are the assets (and checks) it asked for.
  const queued = steps.length === 0 && (run.status === "QUEUED" || run.status === "STARTING");
  const planned = useMemo(() => (queued ? plannedSteps(run) : steps), [queued, run, steps]);
  const failed = useMemo(() => steps.filter((s) => s.status === "failed" && s.error), [steps]);
  const unknownStep = step !== null && steps.length > 0 && !model.index.has(step);

  return (
    <div className="page run-page">
      <RunHeader run={run} steps={steps} />
      <RunFacts run={run} steps={steps} now={now} reason={summary.reason} />

      {failed.length > 0 && (
        <section className="error-box run-failure" aria-label="Errors">
          <ErrorDetails
            error={failed[0]!.error!}
            title={`Step ${failed[0]!.stepKey} failed`}
            stackOpen={false}
          />
          {failed.length > 1 && (
            <div className="small">
              <strong>
                {(failed.length - 1).toLocaleString("en")} more failed{" "}
                {failed.length === 2 ? "step" : "steps"}
              </strong>
              <ul className="run-failure-more">
                {failed.slice(1, 4).map((s) => (
                  <li key={s.stepKey}>
                    <button type="button" className="link-button mono" onClick={() => setStep(s.stepKey)}>
                      {s.stepKey}
                    </button>
                    : {s.error!.message}
                  </li>
                ))}
              </ul>
              {failed.length > 4 && <span className="muted">The Steps table below lists them all.</span>}
            </div>
          )}
        </section>
      )}
      {failed.length === 0 && run.status === "FAILURE" && summary.reason && (
        <div className="error-box" role="alert">
          <strong>The run failed</strong>
          <pre className="run-error-message">{summary.reason}</pre>
        </div>
      )}
      {unknownStep && (
        <p className="error-box" role="alert">
          This run has no step <span className="mono">{step}</span> (from the link’s <code>?step=</code>):
          showing every step.{" "}
          <button type="button" className="small" onClick={() => setStep(null)}>
            Clear it
          </button>
        </p>
      )}

      {steps.length > 0 ? (
        <Timeline model={model} live={!ended} selected={unknownStep ? null : step} onSelect={setStep} />
      ) : (
        <section className="card timeline-card" aria-label="Step timeline" aria-busy="false">
          <h2>Timeline</h2>
          <p className="muted">
            {run.status === "QUEUED"
              ? "Queued: the timeline starts when a worker picks the run up."
              : run.status === "STARTING"
                ? "Starting: a worker is preparing the run."
                : "This run has no steps."}
          </p>
        </section>
      )}

      <div className="run-logs">
        <Logs
          runId={run.runId}
          ended={ended}
          stepKeys={stepKeys}
          step={unknownStep ? null : step}
          onStepChange={setStep}
        />
      </div>

      <section className="card" aria-labelledby="run-steps">
        <h2 id="run-steps">
          Steps <span className="muted small">({planned.length.toLocaleString("en")})</span>
        </h2>
        {planned.length === 0 ? (
          <p className="muted">
            {ended ? "This run had no steps." : "Waiting for a worker to plan the run."}
          </p>
        ) : (
          <StepsTable steps={planned} queued={queued} selected={step} onSelect={setStep} now={now} />
        )}
      </section>

      <RunDetails run={run} steps={steps} />
    </div>
  );
}

/** The step keys, the same array while they do not change (the log viewer's step filter is not rebuilt per refresh). */
function useStableKeys(rows: readonly { stepKey: string }[]): readonly string[] {
  const ref = useRef<readonly string[]>([]);
  const old = ref.current;
  if (old.length !== rows.length || rows.some((r, i) => r.stepKey !== old[i]))
    ref.current = rows.map((r) => r.stepKey);
  return ref.current;
}

/** A queued run's steps: one per asset and check it asked for (a worker plans the real ones). */
function plannedSteps(run: Run): StepSummary[] {
  const keys = [...(run.request?.assetKeys ?? run.assetKeys), ...(run.request?.checkKeys ?? [])];
  return keys.map((k) => ({
    stepKey: k,
    assetKeys: [k],
    status: "not_started",
    startedAt: null,
    endedAt: null,
    durationMs: null,
    attempts: 0,
    attemptSpans: [],
    reason: null,
    error: null,
    materializations: [],
    checks: [],
  }));
}

// ---------------------------------------------------------------------------------------------
// Header and actions

function RunHeader({ run, steps }: { run: Run; steps: readonly StepSummary[] }) {
  const status = RUN_STATUS[run.status];
  const launcher = usePermission("launcher");
  const ended = !status.active;
  const somethingFailed =
    run.status === "FAILURE" ||
    run.status === "CANCELED" ||
    steps.some((s) => s.status === "failed" || s.status === "skipped" || s.status === "canceled");
  const canCancel = status.active && !run.cancelRequested && run.status !== "CANCELING";
  return (
    <>
      <div className="page-header">
        <h1>Run {shortId(run.runId)}</h1>
        <StatusPill word={status.word} color={status.color} />
        {run.cancelRequested && run.status !== "CANCELED" && <span className="badge">cancel requested</span>}
        <span className="spacer" />
        {ended && (
          <Reexecute run={run} fromFailure={false} allowed={launcher.allowed} reason={launcher.reason} />
        )}
        {ended && somethingFailed && (
          <Reexecute run={run} fromFailure allowed={launcher.allowed} reason={launcher.reason} />
        )}
        {canCancel && <CancelRun run={run} allowed={launcher.allowed} reason={launcher.reason} />}
      </div>
      {!launcher.allowed && (ended || canCancel) && (
        <p className="muted small run-permission">
          {launcher.reason} Re-executing and canceling are turned off.
        </p>
      )}
    </>
  );
}

function Reexecute(props: { run: Run; fromFailure: boolean; allowed: boolean; reason: string | undefined }) {
  const reexecute = useReexecuteRun(props.run.runId);
  const navigate = useNavigate();
  const toast = useToast();
  const label = props.fromFailure ? "Re-execute from failure" : "Re-execute all";
  return (
    <>
      <button
        type="button"
        className={props.fromFailure ? "primary" : undefined}
        disabled={!props.allowed || reexecute.isPending}
        title={
          props.allowed
            ? props.fromFailure
              ? "A new run of only the steps that failed, were skipped or canceled"
              : "A new run of every step of this run"
            : props.reason
        }
        onClick={() =>
          reexecute.mutate(props.fromFailure, {
            onSuccess: ({ run }) => {
              toast(
                <span>
                  Run <Link to={`/runs/${run.runId}`}>{shortId(run.runId)}</Link> queued (
                  {props.fromFailure ? "re-execution from failure" : "re-execution"} of{" "}
                  {shortId(props.run.runId)})
                </span>,
              );
              navigate(`/runs/${run.runId}`);
            },
          })
        }
      >
        {reexecute.isPending ? `${label}…` : label}
      </button>
      {reexecute.error && (
        <div className="run-action-error">
          <ErrorBox error={reexecute.error} title={`Could not ${label.toLowerCase()}`} />
        </div>
      )}
    </>
  );
}

function CancelRun({ run, allowed, reason }: { run: Run; allowed: boolean; reason: string | undefined }) {
  const cancel = useCancelRun(run.runId);
  const [open, setOpen] = useState(false);
  return (
    <>
      <button
        type="button"
        className="danger-outline"
        disabled={!allowed}
        title={reason}
        onClick={() => {
          cancel.reset();
          setOpen(true);
        }}
      >
        Cancel run
      </button>
      <ConfirmDialog
        open={open}
        onOpenChange={setOpen}
        title={`Cancel run ${shortId(run.runId)}?`}
        description={
          run.status === "QUEUED"
            ? "The run has not started: it is canceled at once."
            : "The run is asked to stop: the steps running now are interrupted and canceled, the rest do not start."
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

// ---------------------------------------------------------------------------------------------
// Facts: timings, who launched it, partitions

function Time({ ms, relative = false }: { ms: number | null; relative?: boolean }) {
  if (ms === null) return <span className="muted">—</span>;
  const d = new Date(ms);
  const today = d.toDateString() === new Date().toDateString();
  return (
    <>
      <time dateTime={d.toISOString()} title={exactTime(ms)}>
        {today
          ? d.toLocaleTimeString(undefined, { hour12: false })
          : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium", hour12: false })}
      </time>
      {relative && (
        <span className="muted small">
          {" "}
          (<RelativeTime ms={ms} />)
        </span>
      )}
    </>
  );
}

function Fact({ label, children, wide }: { label: string; children: ReactNode; wide?: boolean }) {
  return (
    <div className={wide ? "fact wide" : "fact"}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** Who or what launched the run, each part a link where it has a page. */
function launchedBy(run: Run): ReactNode[] {
  const t = run.tags;
  const out: ReactNode[] = [];
  const schedule = t[TAG.schedule];
  const sensor = t[TAG.sensor];
  if (schedule)
    out.push(
      <span key="schedule">
        schedule <Link to={`/automation/${encodeURIComponent(schedule)}`}>{schedule}</Link>
        {t[TAG.scheduledTime] && <span className="muted"> (tick {t[TAG.scheduledTime]})</span>}
      </span>,
    );
  if (sensor)
    out.push(
      <span key="sensor">
        sensor <Link to={`/automation/${encodeURIComponent(sensor)}`}>{sensor}</Link>
        {t[TAG.file] && (
          <>
            {" "}
            for <span className="mono">{t[TAG.file]}</span>
          </>
        )}
      </span>,
    );
  if (t[TAG.automation]) out.push(<span key="automation">automation: {t[TAG.automation]}</span>);
  const backfillId = run.backfillId ?? t[TAG.backfill];
  if (backfillId)
    out.push(
      <span key="backfill">
        backfill{" "}
        <Link to={`/backfills/${backfillId}`} title={backfillId}>
          {shortId(backfillId)}
        </Link>
      </span>,
    );
  if (run.parentRunId)
    out.push(
      <span key="parent">
        re-execution of{" "}
        <Link to={`/runs/${run.parentRunId}`} title={run.parentRunId}>
          {shortId(run.parentRunId)}
        </Link>
        {run.rootRunId && run.rootRunId !== run.parentRunId && (
          <>
            {" "}
            (first run{" "}
            <Link to={`/runs/${run.rootRunId}`} title={run.rootRunId}>
              {shortId(run.rootRunId)}
            </Link>
            )
          </>
        )}
      </span>,
    );
  if (t[TAG.retryNumber]) out.push(<span key="retry">automatic retry #{t[TAG.retryNumber]}</span>);
  const token = t[TAG.launchedBy];
  if (token)
    out.push(
      <span key="token">
        {token === "local" ? (
          <span title="The API has no tokens configured">local user</span>
        ) : (
          <>
            token <strong>{token}</strong>
          </>
        )}
      </span>,
    );
  return out;
}

function RunFacts(props: { run: Run; steps: readonly StepSummary[]; now: number; reason: string | null }) {
  const { run, steps, now, reason } = props;
  const duration = run.startedAt === null ? null : (run.endedAt ?? now) - run.startedAt;
  const by = launchedBy(run);
  const running = steps.filter((s) => s.status === "running").length;
  return (
    <section className="card run-facts" aria-label="Run details">
      <dl className="facts">
        <Fact label="Created">
          <Time ms={run.createdAt} relative />
        </Fact>
        <Fact label="Started">
          <Time ms={run.startedAt} />
        </Fact>
        <Fact label="Ended">
          <Time ms={run.endedAt} />
        </Fact>
        <Fact label="Duration">
          <span className="num">{formatDuration(duration)}</span>
          {run.endedAt === null && duration !== null && <span className="muted"> so far</span>}
          {running > 0 && <span className="muted small"> · {running} running</span>}
        </Fact>
        <Fact label={`Partition${run.partitionKeys && run.partitionKeys.length > 1 ? "s" : ""}`}>
          <span
            className={run.partitionKeys ? "mono" : "muted"}
            title={run.partitionKeys?.slice(0, 50).join(", ")}
          >
            {run.partitionKeys ? describeKeys(run.partitionKeys) : "not partitioned"}
          </span>
        </Fact>
        {run.status === "CANCELED" && reason && <Fact label="Why it ended">{reason}</Fact>}
        <Fact label="Launched by" wide>
          {by.length === 0 ? (
            <span className="muted">—</span>
          ) : (
            by.map((b, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a fixed order of parts
              <span key={i}>
                {i > 0 && <span className="muted"> · </span>}
                {b}
              </span>
            ))
          )}
        </Fact>
      </dl>
    </section>
  );
}

// ---------------------------------------------------------------------------------------------
// Details: selection, tags, config, assets

function RunDetails({ run, steps }: { run: Run; steps: readonly StepSummary[] }) {
  const tags = Object.entries(run.tags).filter(([k]) => !LAUNCH_TAGS.has(k));
  const materialized = useMemo(() => {
    const keys = new Set<string>();
    for (const s of steps) for (const m of s.materializations) keys.add(m.assetKey);
    return [...keys];
  }, [steps]);
  const config = run.config && typeof run.config === "object" ? Object.keys(run.config) : [];
  const configText = useMemo(() => JSON.stringify(run.config ?? {}, null, 2), [run.config]);
  return (
    <section className="card" aria-labelledby="run-more">
      <h2 id="run-more">Details</h2>
      <dl className="props">
        <dt>Run id</dt>
        <dd className="mono">{run.runId}</dd>
        <dt>Selection</dt>
        <dd className="mono">{run.selection}</dd>
        <dt>Tags</dt>
        <dd className="row">
          {tags.length === 0 ? (
            <span className="muted">none</span>
          ) : (
            tags.map(([k, v]) => (
              <span key={k} className="tag">
                {k}={v}
              </span>
            ))
          )}
        </dd>
        <dt>Run config</dt>
        <dd>
          {config.length === 0 ? (
            <span className="muted">none (defaults)</span>
          ) : (
            <details>
              <summary>
                JSON for {config.length} {config.length === 1 ? "step" : "steps"}
              </summary>
              <pre className="inline-json run-config">{configText}</pre>
            </details>
          )}
        </dd>
        <dt>Materialized</dt>
        <dd>
          <AssetLinks keys={materialized} empty={run.endedAt === null ? "nothing yet" : "nothing"} />
          <span className="muted small">
            {" "}
            ({materialized.length.toLocaleString("en")} of {run.assetKeys.length.toLocaleString("en")}{" "}
            targeted {run.assetKeys.length === 1 ? "asset" : "assets"})
          </span>
        </dd>
      </dl>
    </section>
  );
}

function AssetLinks({ keys, empty }: { keys: readonly string[]; empty: string }) {
  if (keys.length === 0) return <span className="muted">{empty}</span>;
  return (
    <span className="asset-links">
      {keys.slice(0, MAX_ASSET_LINKS).map((k) => (
        <Link key={k} to={assetHref(k)} className="mono">
          {k}
        </Link>
      ))}
      {keys.length > MAX_ASSET_LINKS && (
        <span className="muted">and {(keys.length - MAX_ASSET_LINKS).toLocaleString("en")} more</span>
      )}
    </span>
  );
}
