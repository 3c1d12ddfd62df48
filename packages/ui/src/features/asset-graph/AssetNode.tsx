import type { AssetGraphNode, GraphAssetStatus } from "@baton/webserver/api-types";
import { memo } from "react";
import { STATUS_WORDS, statusVar } from "../../components/status";

export interface AssetNodeProps {
  readonly asset: AssetGraphNode;
  readonly status: GraphAssetStatus | undefined;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly selected: boolean;
  readonly dimmed: boolean;
  /** While a search is active: whether this asset matches it (null: no search). */
  readonly matched: boolean | null;
  /** Zoomed out: key and status only. */
  readonly simple: boolean;
  readonly descriptionId: string;
}

/** The accessible description of a node: its status in plain words first, then partitions and checks. */
export function describeAsset(
  asset: AssetGraphNode,
  status: GraphAssetStatus | undefined,
  matched: boolean | null = null,
): string {
  const search = matched === null ? "" : matched ? "; matches the search" : "; outside the search";
  if (!status) return `status loading${search}`;
  const parts = [STATUS_WORDS[status.status]];
  if (status.status !== "stale" && status.stale) parts.push("stale");
  if (status.status !== "overdue" && status.overdue) parts.push("overdue");
  const p = status.partitions;
  if (p) {
    let text = `partitions: ${p.materialized} of ${p.total} done`;
    if (p.failed) text += `, ${p.failed} failed`;
    if (p.inProgress) text += `, ${p.inProgress} in progress`;
    parts.push(text);
  }
  if (status.checks.failed)
    parts.push(`${status.checks.failed} check${status.checks.failed > 1 ? "s" : ""} failing`);
  if (asset.kinds.length) parts.push(`kinds: ${asset.kinds.join(", ")}`);
  return parts.join("; ") + search;
}

/** The key with line-break opportunities after "/" and "_" (for the two-line zoomed-out rendering). */
function withBreaks(key: string) {
  const parts = key.split(/(?<=[/_])/);
  return parts.map((p, i) => (
    // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one key never reorder.
    <span key={i}>
      {p}
      {i < parts.length - 1 && <wbr />}
    </span>
  ));
}

export const AssetNode = memo(function AssetNode(props: AssetNodeProps) {
  const { asset, status, selected, dimmed, simple, matched } = props;
  const headline = status?.status ?? "missing";
  const p = status?.partitions;
  return (
    <button
      type="button"
      className="asset-node"
      aria-label={asset.key}
      aria-describedby={props.descriptionId}
      aria-pressed={selected}
      data-key={asset.key}
      data-status={headline}
      data-dim={dimmed || undefined}
      data-simple={simple || undefined}
      style={{ left: props.x, top: props.y, width: props.width, height: props.height }}
    >
      <span className="node-stripe" style={{ background: statusVar(headline) }} aria-hidden="true" />
      <span className="node-body" aria-hidden="true">
        <span className="node-key" title={asset.key}>
          {simple ? withBreaks(asset.key) : asset.key}
        </span>
        {!simple && (
          <span className="node-sub">
            <span className="node-status" style={{ color: statusVar(headline) }}>
              {STATUS_WORDS[headline]}
            </span>
            {status && status.checks.failed > 0 && headline !== "check_failed" && (
              <span className="node-flag" style={{ color: statusVar("check_failed") }}>
                ✕ check
              </span>
            )}
            {status?.stale && headline !== "stale" && (
              <span className="node-flag" style={{ color: statusVar("stale") }}>
                stale
              </span>
            )}
            {p && p.total > 0 && (
              <span className="node-parts">
                {p.materialized}/{p.total}
              </span>
            )}
            {asset.kinds.length > 0 && <span className="node-kinds">{asset.kinds.join(" · ")}</span>}
          </span>
        )}
        {p && p.total > 0 && (
          <span
            className="mini-bar"
            title={`${p.materialized} materialized, ${p.failed} failed, ${p.inProgress} in progress, ${p.missing} missing of ${p.total}`}
          >
            <span style={{ flexGrow: p.materialized, background: statusVar("materialized") }} />
            <span style={{ flexGrow: p.failed, background: statusVar("failed") }} />
            <span style={{ flexGrow: p.inProgress, background: statusVar("running") }} />
            <span style={{ flexGrow: p.missing, background: "var(--surface-2)" }} />
          </span>
        )}
      </span>
      <span id={props.descriptionId} className="sr-only">
        {describeAsset(asset, status, matched)}
      </span>
    </button>
  );
});
