import type { Freshness, Staleness, StaleReason } from "@baton/webserver/api-types";
import { Link } from "react-router";
import { ErrorBox } from "../../components/ErrorBox";
import { RelativeTime } from "../../components/RelativeTime";
import { StatusBadge } from "../../components/StatusBadge";
import { Pill } from "./Pill";

const KIND_WORDS: Record<StaleReason["kind"], string> = {
  missing: "missing",
  code_version: "code changed",
  upstream_newer: "upstream changed",
  upstream_stale: "upstream is stale",
};

const assetLink = (key: string, partition: string | null | undefined) =>
  `/assets/${key}${partition ? `?partition=${encodeURIComponent(partition)}` : ""}`;

/** The reasons as an indented tree: each upstream_stale reason nests the causes upstream of it. */
export function ReasonTree({ reasons, depth = 0 }: { reasons: readonly StaleReason[]; depth?: number }) {
  return (
    <ul className={depth === 0 ? "why-tree" : "why-subtree"}>
      {reasons.map((r, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: reasons have no id; their order is the server's
        <li key={i}>
          <span className="why-kind">{KIND_WORDS[r.kind]}</span> <span>{r.message}</span>
          {r.kind === "upstream_newer" || r.kind === "upstream_stale" ? (
            <div className="small">
              <Link to={assetLink(r.upstream, r.kind === "upstream_stale" ? r.upstreamPartition : null)}>
                {r.upstream}
              </Link>
              {r.kind === "upstream_stale" && r.upstreamPartition && (
                <span className="muted mono"> [{r.upstreamPartition}]</span>
              )}
              {r.kind === "upstream_newer" && r.upstreamPartitions.length > 0 && (
                <span className="muted mono">
                  {" "}
                  [{r.upstreamPartitions.slice(0, 5).join(", ")}
                  {r.upstreamPartitions.length > 5 ? `, … ${r.upstreamPartitions.length - 5} more` : ""}]
                </span>
              )}
            </div>
          ) : r.kind === "code_version" ? (
            <div className="small muted">
              code version <code>{r.from ?? "none"}</code> → <code>{r.to}</code>
            </div>
          ) : null}
          {r.kind === "upstream_stale" && r.causes.length > 0 && (
            <ReasonTree reasons={r.causes} depth={depth + 1} />
          )}
        </li>
      ))}
    </ul>
  );
}

/** Why the asset (or one partition) is stale or missing, and whether it is overdue. */
export function WhyView(props: {
  why: { data?: Staleness | undefined; isError: boolean; error: unknown; isPending: boolean };
  freshness?: Freshness | null | undefined;
}) {
  const { why, freshness } = props;
  return (
    <div className="why">
      {freshness && (
        <div className={`why-freshness ${freshness.status}`}>
          {freshness.status === "overdue" ? (
            <StatusBadge status="overdue" />
          ) : (
            <Pill color="var(--st-materialized)">fresh</Pill>
          )}
          <span>
            {freshness.status === "overdue" ? "Overdue: " : "Fresh: "}
            {freshness.message}
          </span>
          <span className="muted small">
            deadline <RelativeTime ms={freshness.deadline} />
          </span>
        </div>
      )}
      {why.isError ? (
        <ErrorBox error={why.error} title="Could not tell why" />
      ) : why.isPending ? (
        <p className="muted">Working out staleness…</p>
      ) : why.data ? (
        <>
          <p className="why-status">
            {why.data.status === "fresh" ? (
              <Pill color="var(--st-materialized)">up to date</Pill>
            ) : (
              <StatusBadge status={why.data.status} />
            )}{" "}
            {why.data.status === "fresh"
              ? "Up to date with its upstream assets and code."
              : why.data.status === "missing"
                ? "Never materialized."
                : "Stale:"}
            {why.data.lastMaterialization && (
              <span className="muted small">
                {" "}
                last materialized <RelativeTime ms={why.data.lastMaterialization.timestamp} />
                {why.data.lastMaterialization.codeVersion && (
                  <>
                    {" "}
                    with code version <code>{why.data.lastMaterialization.codeVersion}</code>
                  </>
                )}
              </span>
            )}
          </p>
          {why.data.reasons.length > 0 && <ReasonTree reasons={why.data.reasons} />}
        </>
      ) : null}
    </div>
  );
}
