/**
 * The landing page: what needs attention now (failed runs of the last 24 h, failed checks, overdue
 * and stale assets, the daemon and workers), then what is in progress (runs, backfills). Summary
 * tiles count each list in words and link to it; each list is capped with "View all". Live: run
 * events re-read the lists, asset events the statuses, and health is polled.
 */

import { useMemo } from "react";
import { Link } from "react-router";
import { useGraphStatus, useHealth } from "../../api/queries";
import { ErrorBox } from "../../components/ErrorBox";
import { HealthSection } from "./HealthSection";
import {
  ActiveRunList,
  BackfillList,
  FailedCheckList,
  FailedRunList,
  OverdueList,
  Section,
  StaleList,
} from "./OverviewSections";
import {
  activeBackfills,
  activeRunItems,
  assetAttention,
  attentionTotal,
  type Capped,
  capList,
  countLabel,
  failedRunItems,
  failedRunsHref,
  healthView,
  verdict,
} from "./overview-model";
import {
  useAssetChecks,
  useAssetDetails,
  useFailedRuns,
  useGraphStatusClock,
  useQueuedRuns,
  useRecentBackfills,
  useRunDetails,
  useRunningRuns,
} from "./use-overview";
import "./overview.css";

const ACTIVE_RUNS_URL = "/runs?status=QUEUED,STARTING,STARTED,CANCELING";

export default function OverviewPage() {
  const status = useGraphStatus();
  useGraphStatusClock();
  const health = useHealth();
  const failed = useFailedRuns();
  const running = useRunningRuns();
  const queued = useQueuedRuns();
  const backfills = useRecentBackfills();

  const attention = useMemo(() => assetAttention(status.data?.assets), [status.data]);
  const failedRuns = capList(failedRunItems(failed.data?.runs ?? []), undefined, !!failed.data?.nextCursor);
  const checkFailed = capList(attention.checkFailed);
  const overdue = capList(attention.overdue);
  const stale = capList(attention.stale);
  const activeRuns = capList(
    activeRunItems(running.data?.runs ?? [], queued.data?.runs ?? []),
    undefined,
    !!running.data?.nextCursor || !!queued.data?.nextCursor,
  );
  const runningCount = (running.data?.runs ?? []).length;
  const queuedCount = (queued.data?.runs ?? []).length;
  const activeBackfillList = capList(activeBackfills(backfills.data?.backfills ?? []));
  const hv = useMemo(() => (health.data ? healthView(health.data) : undefined), [health.data]);

  const runDetails = useRunDetails(failedRuns.shown.map((r) => r.runId));
  const checks = useAssetChecks(checkFailed.shown.map((a) => a.key));
  const overdueDetails = useAssetDetails(overdue.shown.map((a) => a.key));

  // Settled: answered or failed (a failed read shows its error in place; the page never waits forever).
  const settled = (q: { data: unknown; isError: boolean }) => q.data !== undefined || q.isError;
  const ready = settled(status) && settled(failed) && settled(health);
  const unreadable = status.isError || failed.isError || health.isError;
  const counts = {
    failedRuns: failedRuns.total,
    failedChecks: checkFailed.total,
    overdue: overdue.total,
    stale: stale.total,
    healthProblems: hv?.problems.length ?? 0,
  };
  const allClear = ready && !unreadable && attentionTotal(counts) === 0;

  return (
    <div className="page ov-page">
      <div className="page-header">
        <h1>Overview</h1>
        <span className="muted" role="status" aria-live="polite" aria-atomic="true">
          {!ready
            ? "Reading the latest state…"
            : unreadable
              ? "Some of the state could not be read: see the errors below."
              : verdict(counts)}
        </span>
      </div>

      <nav aria-label="Summary" aria-busy={!ready}>
        <ul className="ov-tiles">
          <Tile
            label="Failed runs"
            note="last 24 h"
            list={failed.data ? failedRuns : undefined}
            error={failed.isError}
            tone="bad"
            href={failedRuns.total > 0 ? "#failed-runs" : "/runs?status=FAILURE"}
          />
          <Tile
            label="Failed checks"
            note={checkFailed.total === 1 ? "asset" : "assets"}
            list={status.data ? checkFailed : undefined}
            error={status.isError}
            tone="bad"
            href={checkFailed.total > 0 ? "#failed-checks" : "/catalog?status=check_failed:any"}
          />
          <Tile
            label="Overdue"
            note={overdue.total === 1 ? "asset" : "assets"}
            list={status.data ? overdue : undefined}
            error={status.isError}
            tone="warn"
            href={overdue.total > 0 ? "#overdue" : "/catalog?status=overdue:any"}
          />
          <Tile
            label="Stale"
            note={stale.total === 1 ? "asset" : "assets"}
            list={status.data ? stale : undefined}
            error={status.isError}
            tone="warn"
            href={stale.total > 0 ? "#stale" : "/catalog?status=stale"}
          />
          <Tile
            label="In progress"
            note={
              running.data && queued.data
                ? `${countLabel({ total: runningCount, atLeast: !!running.data.nextCursor })} running, ${countLabel({ total: queuedCount, atLeast: !!queued.data.nextCursor })} queued`
                : "runs"
            }
            list={running.data && queued.data ? activeRuns : undefined}
            error={running.isError || queued.isError}
            tone="info"
            href="#in-progress"
          />
          <Tile
            label="Backfills"
            note="in progress"
            list={backfills.data ? activeBackfillList : undefined}
            error={backfills.isError}
            tone="info"
            href="#backfills"
          />
          <li className="ov-tile" data-tone={hv ? (hv.problems.length > 0 ? "bad" : "ok") : "info"}>
            <a href="#health">
              <span className="ov-tile-count">
                {health.isError ? "?" : !hv ? "…" : hv.problems.length > 0 ? "Problem" : "OK"}
              </span>
              <span className="ov-tile-label">Health</span>
              <span className="ov-tile-note">
                {!hv
                  ? "daemon, workers"
                  : hv.daemon.state !== "running"
                    ? "daemon not running"
                    : `daemon, ${hv.workers.length} worker${hv.workers.length === 1 ? "" : "s"}`}
              </span>
            </a>
          </li>
        </ul>
      </nav>

      {status.isError && <ErrorBox error={status.error} title="Could not read the assets' statuses" />}

      {allClear && (
        <section className="card ov-clear" aria-labelledby="all-clear-title">
          <span className="ov-clear-mark" aria-hidden="true">
            ✓
          </span>
          <div>
            <h2 id="all-clear-title">All clear</h2>
            <p>
              No failed runs in the last 24 hours, no failed checks, no overdue or stale assets, and the
              daemon and {hv?.workers.length === 1 ? "worker are" : "workers are"} running.
            </p>
          </div>
        </section>
      )}

      {ready && !allClear && (
        <div className="ov-grid">
          {(failedRuns.total > 0 || failed.isError) && (
            <Section
              id="failed-runs"
              title="Failed runs"
              note="last 24 hours"
              list={failedRuns}
              viewAll={{ to: failedRunsHref(Date.now()), what: "failed runs" }}
              error={failed.error}
            >
              <FailedRunList runs={failedRuns.shown} details={runDetails} />
            </Section>
          )}
          {checkFailed.total > 0 && (
            <Section
              id="failed-checks"
              title="Failed checks"
              note="latest result of each check"
              list={checkFailed}
              viewAll={{ to: "/catalog?status=check_failed:any", what: "assets with failed checks" }}
            >
              <FailedCheckList items={checkFailed.shown} checks={checks} />
            </Section>
          )}
          {overdue.total > 0 && (
            <Section
              id="overdue"
              title="Overdue assets"
              note="freshness policy violated now"
              list={overdue}
              viewAll={{ to: "/catalog?status=overdue:any", what: "overdue assets" }}
            >
              <OverdueList items={overdue.shown} details={overdueDetails} />
            </Section>
          )}
          {stale.total > 0 && (
            <Section
              id="stale"
              title="Stale assets"
              list={stale}
              viewAll={{ to: "/catalog?status=stale", what: "stale assets" }}
            >
              <StaleList items={stale.shown} />
            </Section>
          )}
        </div>
      )}

      <div className="ov-grid">
        <Section
          id="in-progress"
          title="Runs in progress"
          list={running.data && queued.data ? activeRuns : undefined}
          viewAll={{ to: ACTIVE_RUNS_URL, what: "runs in progress" }}
          error={running.error ?? queued.error}
        >
          {!running.data || !queued.data ? (
            <p className="muted">Reading…</p>
          ) : activeRuns.total === 0 ? (
            <p className="ov-empty">
              No run is running or queued. Launch one from the <Link to="/graph">asset graph</Link>.
            </p>
          ) : (
            <ActiveRunList runs={activeRuns.shown} />
          )}
        </Section>
        <Section
          id="backfills"
          title="Backfills in progress"
          list={backfills.data ? activeBackfillList : undefined}
          viewAll={{ to: "/backfills", what: "backfills" }}
          error={backfills.error}
        >
          {!backfills.data ? (
            <p className="muted">Reading…</p>
          ) : activeBackfillList.total === 0 ? (
            <p className="ov-empty">No backfill is in progress.</p>
          ) : (
            <BackfillList backfills={activeBackfillList.shown} />
          )}
        </Section>
      </div>

      <HealthSection health={health.data} view={hv} error={health.error} />
    </div>
  );
}

function Tile({
  label,
  note,
  list,
  error,
  tone,
  href,
}: {
  label: string;
  note: string;
  list: Capped<unknown> | undefined;
  error: boolean;
  tone: "bad" | "warn" | "info";
  href: string;
}) {
  const count = error ? "?" : list ? countLabel(list) : "…";
  const shownTone = error ? "bad" : !list ? "info" : list.total === 0 && tone !== "info" ? "ok" : tone;
  const inner = (
    <>
      <span className="ov-tile-count">{count}</span>
      <span className="ov-tile-label">{label}</span>
      <span className="ov-tile-note">{error ? "could not load" : note}</span>
    </>
  );
  return (
    <li className="ov-tile" data-tone={shownTone}>
      {href.startsWith("#") ? <a href={href}>{inner}</a> : <Link to={href}>{inner}</Link>}
    </li>
  );
}
