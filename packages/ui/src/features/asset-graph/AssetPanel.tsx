import type { GraphAssetStatus } from "@baton/webserver/api-types";
import { Link } from "react-router";
import { useAssetDetail } from "../../api/queries";
import { usePermission } from "../../app/Auth";
import { ErrorBox } from "../../components/ErrorBox";
import { RelativeTime } from "../../components/RelativeTime";
import { StatusBadge } from "../../components/StatusBadge";

/** The side panel for the clicked asset: status, latest materialization, checks, partitions. */
export function AssetPanel(props: {
  assetKey: string;
  status: GraphAssetStatus | undefined;
  onClose(): void;
  onMaterialize(): void;
}) {
  const { assetKey, status } = props;
  const detail = useAssetDetail(assetKey);
  const launch = usePermission("launcher");
  const def = detail.data?.definition;
  const p = status?.partitions;
  return (
    <aside className="asset-panel" aria-labelledby="asset-panel-title">
      <div className="panel-head">
        <h2 id="asset-panel-title" className="panel-title">
          {assetKey}
        </h2>
        <button type="button" className="ghost small" onClick={props.onClose} aria-label="Close panel">
          ✕
        </button>
      </div>
      <div className="row">
        {status && <StatusBadge status={status.status} />}
        {status?.stale && status.status !== "stale" && <StatusBadge status="stale" />}
        {status?.overdue && status.status !== "overdue" && <StatusBadge status="overdue" />}
      </div>
      {detail.isError && <ErrorBox error={detail.error} title="Could not load this asset" />}
      {def?.description && <p className="panel-desc">{def.description}</p>}
      <dl className="props">
        <dt>Group</dt>
        <dd>{def?.group ?? "…"}</dd>
        {def && def.kinds.length > 0 && (
          <>
            <dt>Kinds</dt>
            <dd>{def.kinds.join(", ")}</dd>
          </>
        )}
        <dt>Last materialized</dt>
        <dd>
          <RelativeTime ms={status?.lastMaterializedAt ?? null} />
          {status?.lastRunId && (
            <>
              {" · "}
              <Link to={`/runs/${status.lastRunId}`}>run {status.lastRunId.slice(0, 8)}</Link>
            </>
          )}
        </dd>
        {p && (
          <>
            <dt>Partitions</dt>
            <dd>
              {p.materialized} of {p.total} materialized
              {p.failed > 0 && `, ${p.failed} failed`}
              {p.inProgress > 0 && `, ${p.inProgress} in progress`}
            </dd>
          </>
        )}
        {def && def.checks.length > 0 && (
          <>
            <dt>Checks</dt>
            <dd>
              {status ? `${status.checks.passed} passed, ${status.checks.failed} failed` : ""} of{" "}
              {def.checks.length}
            </dd>
          </>
        )}
        {def?.automation && (
          <>
            <dt>Automation</dt>
            <dd>{def.automation}</dd>
          </>
        )}
      </dl>
      {detail.data && detail.data.checks.length > 0 && (
        <ul className="panel-checks" aria-label="Latest check results">
          {detail.data.checks.map((c) => (
            <li key={c.checkName}>
              <span
                style={{ color: c.passed ? "var(--st-materialized)" : "var(--st-failed)" }}
                aria-hidden="true"
              >
                {c.passed ? "✓" : "✕"}
              </span>{" "}
              {c.checkName} <span className="muted small">{c.passed ? "passed" : "failed"}</span>
            </li>
          ))}
        </ul>
      )}
      <div className="row panel-actions">
        <button
          type="button"
          className="primary"
          onClick={props.onMaterialize}
          disabled={!launch.allowed}
          title={launch.reason}
        >
          Materialize
        </button>
        <Link className="button" to={`/assets/${assetKey}`}>
          Open asset page
        </Link>
      </div>
    </aside>
  );
}
