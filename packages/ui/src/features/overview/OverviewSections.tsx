/** The overview's sections: each a short list (capped) of things with links to their pages. */
import type { AssetDetail, Backfill, ChecksPage, Run, RunDetail } from "@baton/webserver/api-types";
import type { UseQueryResult } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { Link } from "react-router";
import { ErrorBox } from "../../components/ErrorBox";
import { RelativeTime } from "../../components/RelativeTime";
import { BACKFILL_STATUS, backfillProgress, describeKeys, RUN_STATUS } from "../runs/run-format";
import { StatusPill } from "../runs/StatusPill";
import {
  type AssetItem,
  assetHref,
  assetsLabel,
  backfillHref,
  type Capped,
  countLabel,
  failedChecks,
  failureReason,
  runHref,
} from "./overview-model";

export interface SectionProps {
  readonly id: string;
  readonly title: string;
  readonly note?: string;
  readonly list?: Capped<unknown>;
  /** "View all" link and what it lists (its accessible name: "View all failed runs"). */
  readonly viewAll?: { readonly to: string; readonly what: string };
  readonly error?: unknown;
  readonly children: ReactNode;
}

export function Section({ id, title, note, list, viewAll, error, children }: SectionProps) {
  const capped = list && !error && list.shown.length < list.total + (list.atLeast ? 1 : 0);
  return (
    <section className="card ov-section" id={id} aria-labelledby={`${id}-title`}>
      <div className="ov-section-head">
        <h2 id={`${id}-title`}>{title}</h2>
        {list && !error && <span className="badge">{countLabel(list)}</span>}
        {note && <span className="muted small">{note}</span>}
        <span className="spacer" />
        {capped && (
          <span className="muted small">
            showing {list.shown.length} of {countLabel(list)}
          </span>
        )}
        {viewAll && (
          <Link to={viewAll.to} aria-label={`View all ${viewAll.what}`} className="small">
            View all
          </Link>
        )}
      </div>
      {error ? <ErrorBox error={error} title={`Could not load ${title.toLowerCase()}`} /> : children}
    </section>
  );
}

export function RunLink({ runId }: { runId: string }) {
  return (
    <Link to={runHref(runId)} title={runId} className="mono">
      {runId.slice(0, 8)}
    </Link>
  );
}

export function AssetLink({ assetKey }: { assetKey: string }) {
  return (
    <Link to={assetHref(assetKey)} className="ov-asset">
      {assetKey}
    </Link>
  );
}

/** "taxi/raw_trips and 3 more", with every key on hover. */
function Assets({ keys, partitions }: { keys: readonly string[]; partitions?: readonly string[] | null }) {
  const part = partitions && partitions.length > 0 ? describeKeys(partitions) : null;
  return (
    <span className="ov-assets" title={[...keys, ...(part ? [`partitions: ${part}`] : [])].join("\n")}>
      {assetsLabel(keys)}
      {part && <span className="muted"> · {part}</span>}
    </span>
  );
}

export function FailedRunList({
  runs,
  details,
}: {
  runs: readonly Run[];
  details: readonly UseQueryResult<RunDetail>[];
}) {
  return (
    <ul className="ov-list" aria-label="Failed runs">
      {runs.map((run, i) => {
        const detail = details[i];
        const reason = failureReason(detail?.data);
        return (
          <li key={run.runId} className="ov-item">
            <RunLink runId={run.runId} />
            <div className="ov-main">
              <div className="ov-line">
                <Assets keys={run.assetKeys} partitions={run.partitionKeys} />
              </div>
              <div className="ov-detail ov-reason" title={reason ?? undefined}>
                {reason ?? (detail?.isPending ? "Reading why it failed…" : "No error recorded")}
              </div>
            </div>
            <span className="ov-when">
              <span className="muted">failed </span>
              <RelativeTime ms={run.endedAt ?? run.createdAt} />
            </span>
          </li>
        );
      })}
    </ul>
  );
}

export function FailedCheckList({
  items,
  checks,
}: {
  items: readonly AssetItem[];
  checks: readonly UseQueryResult<ChecksPage>[];
}) {
  return (
    <ul className="ov-list" aria-label="Assets with failed checks">
      {items.map((item, i) => {
        const failed = failedChecks(checks[i]?.data);
        const latest = failed.reduce<number | null>((m, c) => (m === null || c.at > m ? c.at : m), null);
        return (
          <li key={item.key} className="ov-item ov-item-asset">
            <AssetLink assetKey={item.key} />
            <div className="ov-main">
              <div className="ov-line">
                {failed.length > 0 ? (
                  failed.map((c) => (
                    <span key={c.name} className="ov-check">
                      <span className="mono">{c.name}</span>
                      <span className="muted">
                        {" "}
                        ({c.blocking ? "blocking, " : ""}
                        {c.severity === "WARN" ? "warning" : "error"})
                      </span>
                    </span>
                  ))
                ) : (
                  <span className="muted">
                    {item.status.checks.failed} of {item.status.checks.failed + item.status.checks.passed}{" "}
                    checks failed
                  </span>
                )}
              </div>
            </div>
            <span className="ov-when">
              {latest !== null && (
                <>
                  <span className="muted">checked </span>
                  <RelativeTime ms={latest} />
                </>
              )}
            </span>
          </li>
        );
      })}
    </ul>
  );
}

export function OverdueList({
  items,
  details,
}: {
  items: readonly AssetItem[];
  details: readonly UseQueryResult<AssetDetail>[];
}) {
  return (
    <ul className="ov-list" aria-label="Overdue assets">
      {items.map((item, i) => {
        const freshness = details[i]?.data?.freshness;
        const message = freshness?.status === "overdue" ? freshness.message : null;
        return (
          <li key={item.key} className="ov-item ov-item-asset">
            <AssetLink assetKey={item.key} />
            <div className="ov-main">
              <div className="ov-detail ov-reason" title={message ?? undefined}>
                {message ??
                  (item.status.lastMaterializedAt === null
                    ? "Never materialized"
                    : "Its freshness policy is violated")}
              </div>
            </div>
            <span className="ov-when">
              {item.status.lastMaterializedAt !== null && (
                <LastMaterialized ms={item.status.lastMaterializedAt} />
              )}
            </span>
          </li>
        );
      })}
    </ul>
  );
}

export function StaleList({ items }: { items: readonly AssetItem[] }) {
  return (
    <ul className="ov-list" aria-label="Stale assets">
      {items.map((item) => (
        <li key={item.key} className="ov-item ov-item-asset">
          <AssetLink assetKey={item.key} />
          <div className="ov-main">
            <div className="ov-detail ov-reason">
              Upstream data or its code changed since it was materialized
            </div>
          </div>
          <span className="ov-when">
            <LastMaterialized ms={item.status.lastMaterializedAt} />
          </span>
        </li>
      ))}
    </ul>
  );
}

function LastMaterialized({ ms }: { ms: number | null }) {
  if (ms === null) return <span className="muted">never materialized</span>;
  return (
    <>
      <span className="muted">materialized </span>
      <RelativeTime ms={ms} />
    </>
  );
}

export function ActiveRunList({ runs }: { runs: readonly Run[] }) {
  return (
    <ul className="ov-list" aria-label="Runs in progress">
      {runs.map((run) => {
        const queued = run.status === "QUEUED";
        return (
          <li key={run.runId} className="ov-item">
            <RunLink runId={run.runId} />
            <div className="ov-main">
              <div className="ov-line">
                <StatusPill {...RUN_STATUS[run.status]} />
                <Assets keys={run.assetKeys} partitions={run.partitionKeys} />
              </div>
            </div>
            <span className="ov-when">
              <span className="muted">{queued ? "queued " : "started "}</span>
              <RelativeTime ms={queued ? run.createdAt : (run.startedAt ?? run.createdAt)} />
            </span>
          </li>
        );
      })}
    </ul>
  );
}

export function BackfillList({ backfills }: { backfills: readonly Backfill[] }) {
  return (
    <ul className="ov-list" aria-label="Backfills in progress">
      {backfills.map((b) => {
        const c = b.counts;
        const progress = backfillProgress(c);
        const done = c.materialized + c.failed + c.skipped + c.canceled;
        const text = `${done.toLocaleString("en")} of ${c.targeted.toLocaleString("en")} asset partitions finished`;
        return (
          <li key={b.backfillId} className="ov-item">
            <Link to={backfillHref(b.backfillId)} title={b.backfillId} className="mono">
              {b.backfillId.slice(0, 8)}
            </Link>
            <div className="ov-main">
              <div className="ov-line">
                <StatusPill {...BACKFILL_STATUS[b.status]} />
                <Assets keys={b.assetKeys} />
              </div>
              <div className="ov-progress-row">
                <div
                  className="ov-progress"
                  role="progressbar"
                  aria-label={`Backfill ${b.backfillId.slice(0, 8)} progress`}
                  aria-valuemin={0}
                  aria-valuemax={100}
                  aria-valuenow={progress}
                  aria-valuetext={`${text} (${progress}%)`}
                >
                  <span style={{ width: `${progress}%` }} />
                </div>
                <span className="ov-detail">
                  {text}
                  {c.failed > 0 && `, ${c.failed.toLocaleString("en")} failed`}
                </span>
              </div>
            </div>
            <span className="ov-when">
              <span className="muted">started </span>
              <RelativeTime ms={b.createdAt} />
            </span>
          </li>
        );
      })}
    </ul>
  );
}
