import type { BackfillDetail, RunDetail } from "@baton/webserver/api-types";
import { useQueries } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, isApiError } from "../../api/client";
import { queryKeys } from "../../api/queries";
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
  runCounts,
} from "../runs/run-format";
import { StatusPill } from "../runs/StatusPill";
import { useNow } from "../runs/use-now";
import { useCancelBackfill, useRetryBackfill } from "../runs/use-run-actions";
import { BackfillRuns } from "./BackfillRuns";
import { PartitionBar, swatch } from "./PartitionBar";
import {
  KEY_STATE_INFO,
  type KeyState,
  keyStates,
  keysIn,
  SUMMARY_ORDER,
  stateCounts,
  summarize,
} from "./partition-states";
import { isActive, useBackfillDetail } from "./queries";
import "../runs/runs.css";
import "./backfills.css";

/** Failed runs whose steps are read to say which steps were skipped and why. */
const FAILED_RUNS_EXPLAINED = 5;
const FAILED_KEYS_NAMED = 20;

/** /backfills/:id — live partition bar, counts, skip reasons, its runs; cancel and retry failed. */
export default function BackfillPage() {
  const id = useParams().id ?? "";
  const query = useBackfillDetail(id);
  const short = id.slice(0, 8);
  if (query.isError) {
    if (isApiError(query.error) && query.error.status === 404)
      return (
        <div className="page bf-page">
          <h1>No backfill {id}</h1>
          <p>
            There is no backfill with this id. <Link to="/backfills">See all backfills</Link>
          </p>
        </div>
      );
    return (
      <div className="page bf-page">
        <h1>Backfill {short}</h1>
        <ErrorBox error={query.error} title="Could not load this backfill" />
      </div>
    );
  }
  if (!query.data)
    return (
      <div className="page bf-page" aria-busy="true">
        <h1>Backfill {short}</h1>
        <p className="muted">Loading…</p>
      </div>
    );
  return <BackfillView detail={query.data} />;
}

function BackfillView({ detail }: { detail: BackfillDetail }) {
  const { backfill: b, runs } = detail;
  const status = BACKFILL_STATUS[b.status];
  const active = isActive(b.status);
  const c = b.counts;
  const progress = backfillProgress(c);
  const done = c.materialized + c.failed + c.skipped + c.canceled;
  const notOk = c.failed + c.skipped + c.canceled;
  const rc = runCounts(runs);
  const tags = (b.options.tags ?? {}) as Record<string, string>;
  const config = b.options.config as Record<string, unknown> | undefined;
  const parentId = typeof b.options.parentBackfillId === "string" ? b.options.parentBackfillId : null;
  const parent = useBackfillDetail(parentId ?? "", parentId !== null);
  const now = useNow(active);

  const doneEarlier = useMemo(() => {
    if (!parent.data) return undefined;
    const set = new Set<string>();
    for (const r of parent.data.runs)
      if (r.status === "SUCCESS") for (const k of r.partitionKeys ?? []) set.add(k);
    return set;
  }, [parent.data]);
  const states = useMemo(
    () =>
      keyStates({
        partitionKeys: b.partitionKeys,
        runs,
        ended: !active,
        moreRuns: detail.moreRuns,
        ...(doneEarlier ? { doneEarlier } : {}),
      }),
    [b.partitionKeys, runs, active, detail.moreRuns, doneEarlier],
  );
  const counts = useMemo(() => stateCounts(states), [states]);
  const failedKeys = useMemo(
    () => keysIn(states, b.partitionKeys, "failed", FAILED_KEYS_NAMED),
    [states, b.partitionKeys],
  );
  const summary = summarize(counts, b.partitionKeys.length);
  const { reasons, planError } = splitError(b.error);

  return (
    <div className="page bf-page">
      <div className="page-header">
        <h1>Backfill {b.backfillId.slice(0, 8)}</h1>
        <span aria-live="polite">
          <StatusPill word={status.word} color={status.color} />
        </span>
        {parentId && (
          <span className="muted small">
            retry of{" "}
            <Link to={`/backfills/${parentId}`} className="mono" title={parentId}>
              {parentId.slice(0, 8)}
            </Link>
          </span>
        )}
        <span className="spacer" />
        <BackfillActions detail={detail} />
      </div>

      {planError && (
        <div className="error-box" role="alert">
          <strong>The backfill failed</strong>
          <pre className="bf-pre">{planError}</pre>
        </div>
      )}

      <section className="card" aria-labelledby="bf-progress">
        <h2 id="bf-progress">Progress</h2>
        <div
          className="bf-progress"
          role="progressbar"
          aria-label="Backfill progress"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={progress}
          aria-valuetext={`${done.toLocaleString("en")} of ${c.targeted.toLocaleString("en")} asset partitions finished (${progress}%)${notOk > 0 ? `, ${notOk.toLocaleString("en")} without success` : ""}`}
        >
          <Segment n={c.materialized} of={c.targeted} color="materialized" />
          <Segment n={c.failed} of={c.targeted} color="failed" />
          <Segment n={c.skipped} of={c.targeted} color="stale" />
          <Segment n={c.canceled} of={c.targeted} color="missing" />
        </div>
        <p className="small muted bf-progress-text">
          {done.toLocaleString("en")} of {c.targeted.toLocaleString("en")} asset partitions finished (
          {progress}%)
          {notOk > 0 ? `, ${notOk.toLocaleString("en")} without success (failed, skipped or canceled)` : ""}
          {active ? ` · running for ${formatDuration(now - b.createdAt)}` : ""}
        </p>
        <ul className="bf-counts" aria-label="Counts">
          <Count label="Queued" n={rc.queued} color="queued" unit="runs waiting" />
          <Count label="Running" n={rc.running} color="running" unit="runs in progress" />
          <Count label="Succeeded" n={c.materialized} color="materialized" unit="asset partitions" />
          <Count label="Failed" n={c.failed} color="failed" unit="asset partitions" />
          <Count label="Skipped" n={c.skipped} color="stale" unit="asset partitions" />
          <Count label="Canceled" n={c.canceled} color="missing" unit="asset partitions" />
        </ul>
      </section>

      <section className="card" aria-labelledby="bf-partitions">
        <h2 id="bf-partitions">Partitions ({b.partitionKeys.length.toLocaleString("en")})</h2>
        <PartitionBar
          keys={b.partitionKeys}
          states={states}
          label="Partitions of this backfill"
          describedBy="bf-partition-summary"
        />
        {/* The legend says the same to the eye. */}
        <p className="sr-only" id="bf-partition-summary">
          {summary}
        </p>
        <ul className="bf-legend" aria-label="Partition states">
          {SUMMARY_ORDER.filter((s) => counts[s] > 0).map((s) => (
            <Legend key={s} state={s} n={counts[s]} />
          ))}
        </ul>
        {failedKeys.length > 0 && (
          <p className="small bf-failed-keys">
            <strong className="bf-failed-label">Failed:</strong>{" "}
            <span className="mono">{failedKeys.join(", ")}</span>
            {counts.failed > failedKeys.length &&
              ` and ${(counts.failed - failedKeys.length).toLocaleString("en")} more`}
          </p>
        )}
      </section>

      <Failures detail={detail} />

      <Reasons reasons={reasons} runs={runs} />

      <div className="bf-grid">
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
            <dd>{b.endedAt ? exactTime(b.endedAt) : <span className="muted">not yet</span>}</dd>
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
            <dt>Partition keys</dt>
            <dd className="mono small">{describeKeys(b.partitionKeys)}</dd>
            <dt>Runs</dt>
            <dd>
              {c.runs.toLocaleString("en")} launched ({rc.succeeded} succeeded, {rc.failed} failed
              {rc.canceled > 0 ? `, ${rc.canceled} canceled` : ""})
            </dd>
            {config && Object.keys(config).length > 0 && (
              <>
                <dt>Config</dt>
                <dd>
                  <pre className="bf-pre bf-json">{JSON.stringify(config, null, 2)}</pre>
                </dd>
              </>
            )}
          </dl>
        </section>
        <section className="card bf-runs-card" aria-labelledby="bf-runs">
          <div className="bf-card-head">
            <h2 id="bf-runs">Runs ({c.runs.toLocaleString("en")})</h2>
            <Link to={`/runs?backfill=${encodeURIComponent(b.backfillId)}`} className="small">
              Filter the runs list by this backfill
            </Link>
          </div>
          {runs.length === 0 ? (
            <p className="muted">
              {active
                ? "No runs yet: the daemon launches them in chunks."
                : "This backfill launched no runs."}
            </p>
          ) : (
            <BackfillRuns runs={runs} />
          )}
          {detail.moreRuns && (
            <p className="hint">
              The newest 1,000 runs are listed:{" "}
              <Link to={`/runs?backfill=${encodeURIComponent(b.backfillId)}`}>all its runs</Link>.
            </p>
          )}
        </section>
      </div>
    </div>
  );
}

/** The stored error: skip/launch lines (one per unit) or why the whole backfill failed. */
function splitError(error: string | null): { reasons: string[]; planError: string | null } {
  if (!error) return { reasons: [], planError: null };
  const lines = error.split("\n").filter((l) => l.trim());
  const isReason = (l: string) => / skipped: | could not be launched: |^… and \d+ more/.test(l);
  if (lines.every(isReason)) return { reasons: lines, planError: null };
  return { reasons: lines.filter(isReason), planError: lines.filter((l) => !isReason(l)).join("\n") };
}

type BackfillFailure = BackfillDetail["failures"][number];

/** What failed first in a failed run, in words: `step "bf/source" failed`. */
function failedWhat(f: BackfillFailure): string {
  if (f.kind === "check") return `blocking check "${f.stepKey}" failed`;
  if (f.kind === "step") return `step "${f.stepKey}" failed`;
  return "the run failed";
}

/** Why each failed unit failed (from the API: the first error of each failed run), partition → reason. */
function Failures({ detail }: { detail: BackfillDetail }) {
  const { failures, failedRuns } = detail;
  if (failedRuns === 0) return null;
  return (
    <section className="card" aria-labelledby="bf-failures">
      <h2 id="bf-failures">
        Failures ({failedRuns.toLocaleString("en")} failed run{failedRuns === 1 ? "" : "s"})
      </h2>
      <ul className="bf-failures" aria-label="Failures">
        {failures.map((f) => (
          <li key={f.runId}>
            <span className="status-dot" style={{ background: "var(--st-failed)" }} aria-hidden="true" />
            <span className="mono bf-failure-key">
              {f.partitionKeys.length > 0 ? describeKeys(f.partitionKeys) : f.assetKeys.join(", ")}
            </span>
            <span className="bf-failure-reason">
              <span className="sr-only">: </span>
              <span className="bf-failure-what">{failedWhat(f)}:</span> {f.message}
            </span>
            <Link to={`/runs/${f.runId}`} className="mono small bf-failure-run" title={f.runId}>
              run {f.runId.slice(0, 8)}
            </Link>
          </li>
        ))}
      </ul>
      {failedRuns > failures.length && (
        <p className="hint">
          The first {failures.length.toLocaleString("en")} failed runs are listed; open the others from the
          runs below.
        </p>
      )}
    </section>
  );
}

/**
 * Why partitions were skipped: units the daemon skipped (stored when the backfill ends) and steps
 * skipped inside the failed runs (read from the first few failed runs' steps). Why runs failed is
 * listed by `Failures`.
 */
function Reasons({ reasons, runs }: { reasons: readonly string[]; runs: BackfillDetail["runs"] }) {
  const failed = useMemo(
    () => runs.filter((r) => r.status === "FAILURE").slice(0, FAILED_RUNS_EXPLAINED),
    [runs],
  );
  const details = useQueries({
    queries: failed.map((r) => ({
      queryKey: queryKeys.run(r.runId),
      queryFn: ({ signal }: { signal: AbortSignal }) =>
        api<RunDetail>(`/api/runs/${encodeURIComponent(r.runId)}`, { signal }),
      staleTime: 60_000,
    })),
  });
  const steps: { key: string; runId: string; text: string; failed: boolean }[] = [];
  for (const d of details) {
    if (!d.data) continue;
    const run = d.data.run;
    const where = run.partitionKeys?.length ? ` [${describeKeys(run.partitionKeys)}]` : "";
    for (const s of d.data.summary.steps) {
      if (s.status === "skipped")
        steps.push({
          key: `${run.runId}:${s.stepKey}`,
          runId: run.runId,
          failed: false,
          text: `${s.assetKeys.join(", ") || s.stepKey}${where} skipped: ${s.reason ?? "no reason recorded"}`,
        });
    }
  }
  if (reasons.length === 0 && steps.length === 0) return null;
  return (
    <section className="card" aria-labelledby="bf-reasons">
      <h2 id="bf-reasons">
        {reasons.some((r) => r.includes(" could not be launched: ")) ? "Skipped or not launched" : "Skipped"}
      </h2>
      <ul className="bf-reasons">
        {steps.map((s) => (
          <li key={s.key}>
            <span
              className="status-dot"
              style={{ background: `var(--st-${s.failed ? "failed" : "stale"})` }}
            />
            <span>
              {s.text}{" "}
              <Link to={`/runs/${s.runId}`} className="mono small" title={s.runId}>
                run {s.runId.slice(0, 8)}
              </Link>
            </span>
          </li>
        ))}
        {reasons.map((r) => (
          <li key={r}>
            <span className="status-dot" style={{ background: "var(--st-stale)" }} />
            <span>{r}</span>
          </li>
        ))}
      </ul>
      {runs.filter((r) => r.status === "FAILURE").length > FAILED_RUNS_EXPLAINED && (
        <p className="hint">
          The steps of the first {FAILED_RUNS_EXPLAINED} failed runs are shown; open the others from the runs
          below.
        </p>
      )}
    </section>
  );
}

function Segment({ n, of, color }: { n: number; of: number; color: string }) {
  if (n <= 0 || of <= 0) return null;
  return (
    <span
      className="bf-progress-seg"
      style={{ width: `${(n / of) * 100}%`, background: `var(--st-${color})` }}
    />
  );
}

function Count({ label, n, color, unit }: { label: string; n: number; color: string; unit: string }) {
  return (
    <li className="bf-count" title={`${n.toLocaleString("en")} ${unit}`}>
      <span className="bf-count-n">{n.toLocaleString("en")}</span>
      <span className="bf-count-label">
        <span className="status-dot" style={{ background: `var(--st-${color})` }} aria-hidden="true" />
        {label}
      </span>
      <span className="bf-count-unit">{unit}</span>
    </li>
  );
}

function Legend({ state, n }: { state: KeyState; n: number }) {
  const info = KEY_STATE_INFO[state];
  return (
    <li title={info.hint}>
      <span
        className="bf-swatch"
        style={{ background: swatch(state), opacity: state === "earlier" ? 0.45 : 1 }}
        aria-hidden="true"
      />
      {n.toLocaleString("en")} {info.word}
    </li>
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
  const active = isActive(b.status);
  const retriable = !active && b.counts.failed + b.counts.skipped + b.counts.canceled > 0;
  const reason = launcher.allowed ? undefined : launcher.reason;
  return (
    <div className="bf-actions">
      {reason && (active || retriable) && <span className="muted small">{reason}</span>}
      {retriable && (
        <button
          type="button"
          disabled={!launcher.allowed || retry.isPending}
          title={reason ?? "A new backfill of what did not succeed (what succeeded is not run again)"}
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
          {retry.isPending ? "Retrying…" : "Retry failed"}
        </button>
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
          {b.status === "CANCELING" ? "Canceling…" : "Cancel backfill"}
        </button>
      )}
      {retry.error ? <ErrorBox error={retry.error} title="Could not retry" /> : null}
      <ConfirmDialog
        open={confirm}
        onOpenChange={setConfirm}
        title={`Cancel backfill ${b.backfillId.slice(0, 8)}?`}
        description="No new runs start, and the daemon cancels the runs already queued or running. What succeeded stays; retry it later to finish the rest."
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
