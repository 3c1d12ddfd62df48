import { evaluateSelection, parseSelection } from "@baton/core/selection";
import { lazy, Suspense, useDeferredValue, useMemo, useRef, useState } from "react";
import { useSearchParams } from "react-router";
import { useAssetGraph, useGraphStatus } from "../../api/queries";
import { usePermission } from "../../app/Auth";
import { ErrorBox } from "../../components/ErrorBox";
import { STATUS_ORDER, STATUS_WORDS, statusVar } from "../../components/status";
import { useToast } from "../../components/Toasts";
import type { InitialPartitions } from "../launch/LaunchDialog";
import { AssetPanel } from "./AssetPanel";
import { GraphView, type GraphViewHandle } from "./GraphView";
import { buildModel } from "./model";
import { useGraphLayout } from "./useGraphLayout";
import "./asset-graph.css";

// The dialog (forms, Radix) loads when first opened, keeping the graph's first paint lean.
const LaunchDialog = lazy(() => import("../launch/LaunchDialog").then((m) => ({ default: m.LaunchDialog })));

/** Graphs up to this size open with every group expanded; larger ones open collapsed. */
export const EXPAND_ALL_UP_TO = 300;

const splitList = (v: string | null) => (v ? v.split(",").filter(Boolean) : []);

export function AssetGraphPage() {
  const [params, setParams] = useSearchParams();
  const graph = useAssetGraph();
  const status = useGraphStatus();
  const toast = useToast();
  const launch = usePermission("launcher");
  const viewRef = useRef<GraphViewHandle>(null);

  const query = params.get("q") ?? "";
  const [draft, setDraft] = useState(query);
  const deferredQuery = useDeferredValue(query);
  const onlyMatches = params.get("only") === "1";
  const panelKey = params.get("asset");
  const selected = useMemo(() => new Set(splitList(params.get("sel"))), [params]);
  const update = (changes: Record<string, string | null>) =>
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        for (const [k, v] of Object.entries(changes)) {
          if (v === null || v === "") next.delete(k);
          else next.set(k, v);
        }
        return next;
      },
      { replace: true },
    );

  const fullModel = useMemo(() => (graph.data ? buildModel(graph.data) : null), [graph.data]);
  const search = useMemo(() => {
    if (!fullModel || deferredQuery.trim() === "") return { matches: null, error: null };
    try {
      const matches = evaluateSelection(parseSelection(deferredQuery), fullModel.selectable, deferredQuery);
      return { matches: matches as ReadonlySet<string>, error: null };
    } catch (error) {
      return { matches: null, error: (error as Error).message };
    }
  }, [fullModel, deferredQuery]);
  const model = useMemo(
    () => (graph.data && onlyMatches && search.matches ? buildModel(graph.data, search.matches) : fullModel),
    [graph.data, onlyMatches, search.matches, fullModel],
  );

  // Groups: expanded by default for small graphs; the URL keeps the base and the exceptions.
  const base =
    params.get("groups") ?? ((fullModel?.keys.length ?? 0) <= EXPAND_ALL_UP_TO ? "expanded" : "collapsed");
  const toggled = params.get("toggle");
  const collapsed = useMemo(() => {
    const names = [...(model?.groups.keys() ?? [])];
    const exceptions = new Set(splitList(toggled));
    return new Set(names.filter((n) => (base === "collapsed") !== exceptions.has(n)));
  }, [model, base, toggled]);
  // The view draws a layout with the model it was made from (a filter's new model is laid out meanwhile).
  const { layout, model: layoutModel, busy, error: layoutError } = useGraphLayout(model, collapsed);

  const toggleGroup = (name: string) => {
    const exceptions = new Set(splitList(params.get("toggle")));
    if (exceptions.has(name)) exceptions.delete(name);
    else exceptions.add(name);
    update({ groups: base, toggle: [...exceptions].join(",") });
  };
  const selectKeys = (keys: Iterable<string>) => update({ sel: [...keys].join(",") });
  const onNodeClick = (key: string, additive: boolean) => {
    if (additive) {
      const next = new Set(selected);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      selectKeys(next);
    } else update({ sel: key, asset: key });
  };

  const [dialog, setDialog] = useState<{ keys: string[]; partitions?: InitialPartitions } | null>(null);
  const statuses = status.data?.assets;
  const staleOrMissing = () => {
    const scope = search.matches ?? new Set(fullModel?.keys ?? []);
    return [...scope].filter((k) => {
      const s = statuses?.[k];
      return !s || s.status === "missing" || s.stale || (s.partitions?.missing ?? 0) > 0;
    });
  };

  if (graph.isError)
    return (
      <div className="page">
        <h1>Asset graph</h1>
        <ErrorBox error={graph.error} title="Could not load the asset graph" />
      </div>
    );

  const scopeLabel = search.matches ? "in the search" : "";
  return (
    <div className="graph-page">
      <div className="graph-toolbar">
        <h1>Asset graph</h1>
        {/* biome-ignore lint/a11y/useSemanticElements: <search> is not yet in every browser we support. */}
        <form
          className="graph-search"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            update({ q: draft.trim() || null });
          }}
        >
          <label htmlFor="graph-selection" className="sr-only">
            Asset selection
          </label>
          <input
            id="graph-selection"
            type="search"
            placeholder="Select assets: group:ingest*, +taxi/clean_trips, kind:duckdb and not tag:x"
            value={draft}
            spellCheck={false}
            onChange={(e) => {
              setDraft(e.target.value);
              update({ q: e.target.value.trim() || null });
            }}
            aria-invalid={search.error ? true : undefined}
            aria-describedby="graph-selection-status"
          />
          <label className="check">
            <input
              type="checkbox"
              checked={onlyMatches}
              onChange={(e) => update({ only: e.target.checked ? "1" : null })}
              disabled={!search.matches}
            />
            Only matches
          </label>
          <div id="graph-selection-status" className="selection-status" aria-live="polite">
            {search.error ? (
              <pre className="selection-error" role="alert">
                {search.error}
              </pre>
            ) : search.matches ? (
              <span className="muted small">
                {search.matches.size} of {fullModel?.keys.length ?? 0} assets match
                {search.matches.size > 0 && (
                  <button type="button" className="ghost small" onClick={() => selectKeys(search.matches!)}>
                    Select matches
                  </button>
                )}
              </span>
            ) : null}
          </div>
        </form>
        <div className="toolbar-actions">
          <button
            type="button"
            className="primary"
            disabled={selected.size === 0 || !launch.allowed}
            title={
              !launch.allowed
                ? launch.reason
                : selected.size === 0
                  ? "Click assets (shift-click for several) to select them"
                  : undefined
            }
            onClick={() => setDialog({ keys: [...selected] })}
          >
            Materialize selected{selected.size > 0 ? ` (${selected.size})` : ""}
          </button>
          <button
            type="button"
            disabled={!launch.allowed || !statuses}
            title={
              launch.allowed
                ? `Materialize what is stale or missing ${scopeLabel || "in the graph"}`
                : launch.reason
            }
            onClick={() => {
              const keys = staleOrMissing();
              if (keys.length === 0) toast(`Nothing is stale or missing ${scopeLabel || "in the graph"}.`);
              else setDialog({ keys, partitions: { which: "missing" } });
            }}
          >
            Materialize stale/missing
          </button>
        </div>
      </div>
      <div className="graph-body">
        <div className="graph-stage">
          <div className="graph-statusbar">
            <Legend />
            {graph.data && graph.data.assets.length > 0 && (
              <p className="graph-hint">
                Click an asset to open it; shift-click or shift-drag selects several.
              </p>
            )}
          </div>
          <div className="graph-area">
            {!graph.data ? (
              <div className="graph-viewport" role="application" aria-label="Asset graph" aria-busy="true">
                <p className="empty">Loading the asset graph…</p>
              </div>
            ) : model && model.keys.length === 0 ? (
              <div className="empty">
                <h2>No assets{onlyMatches ? " match this selection" : ""}</h2>
                <p>
                  {onlyMatches
                    ? "Change the selection or untick “Only matches”."
                    : "Define assets in your definitions file; they appear here once a worker publishes them."}
                </p>
              </div>
            ) : (
              model && (
                <GraphView
                  handleRef={viewRef}
                  model={layoutModel ?? model}
                  layout={layout}
                  statuses={statuses}
                  highlighted={onlyMatches ? null : search.matches}
                  selected={selected}
                  layingOut={busy}
                  onNodeClick={onNodeClick}
                  onBoxSelect={(keys, additive) =>
                    selectKeys(additive ? new Set([...selected, ...keys]) : keys)
                  }
                  onToggleGroup={toggleGroup}
                  onBackgroundClick={() => update({ sel: null, asset: null })}
                />
              )
            )}
            {layoutError && (
              <div className="graph-overlay">
                <ErrorBox error={layoutError} title="The layout failed" />
              </div>
            )}
            <div className="graph-controls" role="toolbar" aria-label="Graph view">
              <button type="button" onClick={() => viewRef.current?.zoomBy(1.25)} aria-label="Zoom in">
                +
              </button>
              <button type="button" onClick={() => viewRef.current?.zoomBy(0.8)} aria-label="Zoom out">
                −
              </button>
              <button type="button" onClick={() => viewRef.current?.fit()}>
                Fit to screen
              </button>
              <button type="button" onClick={() => update({ groups: "expanded", toggle: null })}>
                Expand all groups
              </button>
              <button type="button" onClick={() => update({ groups: "collapsed", toggle: null })}>
                Collapse all groups
              </button>
            </div>
          </div>
        </div>
        {panelKey && graph.data && (
          <AssetPanel
            assetKey={panelKey}
            status={statuses?.[panelKey]}
            onClose={() => update({ asset: null })}
            onMaterialize={() => setDialog({ keys: [panelKey] })}
          />
        )}
      </div>
      {dialog && (
        <Suspense fallback={null}>
          <LaunchDialog
            open={dialog !== null}
            onOpenChange={(open) => !open && setDialog(null)}
            assetKeys={dialog?.keys ?? []}
            {...(dialog?.partitions ? { initialPartitions: dialog.partitions } : {})}
            afterLaunch="stay"
          />
        </Suspense>
      )}
    </div>
  );
}

function Legend() {
  return (
    <ul className="graph-legend" aria-label="Status colours">
      {STATUS_ORDER.map((s) => (
        <li key={s}>
          <span className="status-dot" style={{ background: statusVar(s) }} aria-hidden="true" />
          {STATUS_WORDS[s]}
        </li>
      ))}
    </ul>
  );
}
