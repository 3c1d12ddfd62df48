import { type ReactNode, useId, useMemo, useState } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { isApiError } from "../../api/client";
import {
  useAssetDetail,
  useAssetGraph,
  useChecks,
  useGraphStatus,
  useMaterializations,
  useWhy,
} from "../../api/queries";
import { usePermission } from "../../app/Auth";
import { ErrorBox } from "../../components/ErrorBox";
import { RelativeTime } from "../../components/RelativeTime";
import { StatusBadge } from "../../components/StatusBadge";
import { LaunchDialog } from "../launch/LaunchDialog";
import { ChecksCard } from "./ChecksCard";
import { DefinitionCard } from "./DefinitionCard";
import { LineageCard } from "./LineageCard";
import { lineageAround } from "./lineage";
import { MaterializationList } from "./MaterializationList";
import { MetadataPlot } from "./MetadataPlot";
import { MetadataList } from "./MetadataView";
import { PartitionHealth } from "./PartitionHealth";
import { PartitionPanel, PartitionPicker } from "./PartitionPanel";
import { numericSeriesNames } from "./series";
import { WhyView } from "./WhyTree";
import "./asset-detail.css";

function Card(props: { title: string; children: ReactNode; className?: string; actions?: ReactNode }) {
  const id = useId();
  return (
    <section className={`card ad-card ${props.className ?? ""}`} aria-labelledby={id}>
      <div className="ad-card-head">
        <h2 id={id}>{props.title}</h2>
        {props.actions}
      </div>
      {props.children}
    </section>
  );
}

export default function AssetDetailPage() {
  const assetKey = useParams()["*"] ?? "";
  // A new key is a new page: no state carries over from the previous asset.
  return <AssetPage key={assetKey} assetKey={assetKey} />;
}

function AssetPage({ assetKey }: { assetKey: string }) {
  const [params, setParams] = useSearchParams();
  const partition = params.get("partition");
  const setPartition = (p: string | null) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (p) next.set("partition", p);
        else next.delete("partition");
        return next;
      },
      { replace: true },
    );

  const detail = useAssetDetail(assetKey);
  const graph = useAssetGraph();
  const graphStatus = useGraphStatus();
  const launch = usePermission("launcher");
  const [launching, setLaunching] = useState(false);
  const def = detail.data?.definition;
  const partitioned = def ? def.partitions !== null : false;
  const mats = useMaterializations(assetKey);
  const why = useWhy(assetKey, null, def !== undefined && !partitioned);
  const checks = useChecks(assetKey);
  const lineage = useMemo(() => lineageAround(graph.data?.assets ?? [], assetKey), [graph.data, assetKey]);
  const loadedMats = useMemo(() => mats.data?.pages.flatMap((p) => p.materializations) ?? [], [mats.data]);
  const seriesNames = useMemo(() => numericSeriesNames(loadedMats), [loadedMats]);
  const reasonId = useId();

  if (detail.isError && isApiError(detail.error) && detail.error.status === 404)
    return (
      <div className="page">
        <Breadcrumbs assetKey={assetKey} group={null} />
        <h1>{assetKey || "No asset key"}</h1>
        <div className="card ad-notfound">
          <h2>No asset named “{assetKey}”</h2>
          <p>
            It is not in the published definitions: it may have been renamed or removed, or the link has a
            typo.
          </p>
          <p>
            <Link to={`/catalog?q=${encodeURIComponent(assetKey.split("/").at(-1) ?? "")}`}>
              Search the catalog for similar assets
            </Link>{" "}
            or <Link to="/catalog">browse every asset</Link>.
          </p>
        </div>
      </div>
    );
  if (detail.isError)
    return (
      <div className="page">
        <Breadcrumbs assetKey={assetKey} group={null} />
        <h1>{assetKey}</h1>
        <ErrorBox error={detail.error} title="Could not load this asset" />
        <p className="muted">Check that the Baton webserver is running, then reload the page.</p>
      </div>
    );
  if (!def)
    return (
      <div className="page">
        <Breadcrumbs assetKey={assetKey} group={null} />
        <h1>{assetKey}</h1>
        <p className="muted">Loading the asset…</p>
      </div>
    );

  const data = detail.data!;
  const live = graphStatus.data?.assets[assetKey];
  const last = data.status?.lastMaterialization ?? null;
  const lastFailure = data.status?.lastFailure ?? null;
  const newest = loadedMats[0];

  return (
    <div className="page asset-page">
      <Breadcrumbs assetKey={assetKey} group={def.group} />
      <div className="page-header ad-header">
        <h1 className="ad-title">{assetKey}</h1>
        <div className="row">
          {live && <StatusBadge status={live.status} />}
          {live?.stale && live.status !== "stale" && <StatusBadge status="stale" />}
          {live?.overdue && live.status !== "overdue" && <StatusBadge status="overdue" />}
        </div>
        <span className="spacer" />
        <Link
          className="button"
          to={`/graph?sel=${encodeURIComponent(assetKey)}&asset=${encodeURIComponent(assetKey)}`}
        >
          Show in graph
        </Link>
        <button
          type="button"
          className="primary"
          disabled={!launch.allowed}
          aria-describedby={launch.allowed ? undefined : reasonId}
          title={launch.reason}
          onClick={() => setLaunching(true)}
        >
          Materialize
        </button>
        {!launch.allowed && (
          <p id={reasonId} className="hint ad-reason">
            {launch.reason}
          </p>
        )}
      </div>

      {partitioned && (
        <Card title="Partitions" className="ad-partitions">
          <div className={`ad-partitions-body${def.partitions?.kind === "multi" ? " multi" : ""}`}>
            <PartitionHealth assetKey={assetKey} selected={partition} onSelect={setPartition} />
            <div className="ad-partition-side">
              <PartitionPicker assetKey={assetKey} selected={partition} onSelect={setPartition} />
              {partition ? (
                <PartitionPanel
                  assetKey={assetKey}
                  partition={partition}
                  checkHistory={checks.data?.history ?? []}
                  onClose={() => setPartition(null)}
                />
              ) : (
                <p className="muted small">
                  Pick a partition (here, or on the {def.partitions?.kind === "multi" ? "grid" : "bar"}) to
                  see why it is stale, its materializations and its checks.
                </p>
              )}
            </div>
          </div>
        </Card>
      )}

      <div className="ad-columns">
        <div className="stack">
          <Card title={partitioned ? "Freshness" : "Why stale / overdue"}>
            {partitioned ? (
              <>
                {data.freshness ? (
                  <WhyView
                    why={{ isError: false, error: null, isPending: false }}
                    freshness={data.freshness}
                  />
                ) : (
                  <p className="muted">No freshness policy: it is never overdue.</p>
                )}
                <p className="muted small">
                  Staleness is per partition: open a partition above to see why it is stale, with its upstream
                  chain.
                </p>
              </>
            ) : (
              <WhyView why={why} freshness={data.freshness} />
            )}
          </Card>
          <Card title="Latest materialization">
            {last ? (
              <>
                <p className="ad-last">
                  <RelativeTime ms={last.timestamp} /> ·{" "}
                  <Link to={`/runs/${last.runId}`} className="mono">
                    run {last.runId.slice(0, 8)}
                  </Link>
                  {newest?.id === last.eventId && newest.partition && (
                    <>
                      {" "}
                      · partition{" "}
                      <button
                        type="button"
                        className="ghost small mono"
                        onClick={() => setPartition(newest.partition!)}
                      >
                        {newest.partition}
                      </button>
                    </>
                  )}
                  {last.codeVersion && (
                    <span className="muted small">
                      {" "}
                      · code version <code>{last.codeVersion}</code>
                    </span>
                  )}
                </p>
                <MetadataList metadata={last.metadata} label="Latest metadata" />
              </>
            ) : (
              <p className="muted">
                Never materialized. {launch.allowed ? "Use Materialize above to run it." : ""}
              </p>
            )}
            {lastFailure && (!last || lastFailure.timestamp > last.timestamp) && (
              <p className="ad-failure">
                <StatusBadge status="failed" /> <RelativeTime ms={lastFailure.timestamp} /> in{" "}
                <Link to={`/runs/${lastFailure.runId}`}>run {lastFailure.runId.slice(0, 8)}</Link>
              </p>
            )}
          </Card>
          <Card title="Metadata over time">
            {mats.isPending ? (
              <p className="muted">Loading…</p>
            ) : (
              <MetadataPlot assetKey={assetKey} names={seriesNames} />
            )}
          </Card>
          <Card title="Materialization history">
            <MaterializationList
              query={mats}
              showPartition={partitioned}
              onPartition={setPartition}
              empty="No materializations yet."
            />
          </Card>
        </div>
        <div className="stack">
          <Card title="Definition">
            <DefinitionCard def={def} downstream={lineage.downstream1} />
          </Card>
          <Card title="Checks">
            <ChecksCard assetKey={assetKey} def={def} latest={data.checks} />
          </Card>
          <Card title="Lineage">
            <LineageCard assetKey={assetKey} lineage={lineage} />
          </Card>
        </div>
      </div>
      <LaunchDialog
        open={launching}
        onOpenChange={setLaunching}
        assetKeys={[assetKey]}
        afterLaunch="navigate"
      />
    </div>
  );
}

function Breadcrumbs({ assetKey, group }: { assetKey: string; group: string | null }) {
  return (
    <nav aria-label="Breadcrumbs" className="breadcrumbs">
      <ol>
        <li>
          <Link to="/catalog">Catalog</Link>
        </li>
        {group && (
          <li>
            <Link to={`/catalog?group=${encodeURIComponent(group)}`}>{group}</Link>
          </li>
        )}
        <li aria-current="page">{assetKey}</li>
      </ol>
    </nav>
  );
}
