import type { Schedule, Sensor } from "@baton/webserver/api-types";
import { useId, useMemo, useState } from "react";
import { Link, useParams } from "react-router";
import { useAssetGraph } from "../../api/queries";
import { usePermission } from "../../app/Auth";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ErrorBox } from "../../components/ErrorBox";
import { exactTime, RelativeTime } from "../../components/RelativeTime";
import { useToast } from "../../components/Toasts";
import {
  describeCondition,
  describeInterval,
  describeTarget,
  type Kind,
  nameProblem,
  sensorTypeWord,
  targetAssets,
} from "./automation-model";
import { AssetLink, DecisionsTable } from "./DecisionsTable";
import { PreviewError, PreviewResult } from "./PreviewPanel";
import { StatusSwitch } from "./StatusSwitch";
import { TickHistory } from "./TickHistory";
import { LastTick } from "./TickOutcome";
import { useEvaluations, useInstigators, useJobs, usePreview, useResetCursor } from "./use-automation";
import "./automation.css";

type Found = { kind: "schedule"; item: Schedule } | { kind: "sensor"; item: Sensor };

/** /automation/:name — one schedule or sensor: state, tick history, cursor, preview, decisions. */
export default function InstigatorPage() {
  const name = useParams().name ?? "";
  const query = useInstigators();
  const problem = nameProblem(name);
  const found = useMemo((): Found | null => {
    const d = query.data;
    if (!d) return null;
    const s = d.schedules.find((x) => x.name === name);
    if (s) return { kind: "schedule", item: s };
    const n = d.sensors.find((x) => x.name === name);
    return n ? { kind: "sensor", item: n } : null;
  }, [query.data, name]);

  if (problem)
    return (
      <div className="page automation-page">
        <h1>Not a schedule or sensor name</h1>
        <p>
          {problem} <Link to="/automation">See every schedule and sensor</Link>
        </p>
      </div>
    );
  if (!query.data)
    return (
      <div className="page automation-page" aria-busy={!query.isError}>
        <h1>{name}</h1>
        {query.isError ? (
          <ErrorBox error={query.error} title="Could not load schedules and sensors" />
        ) : (
          <p className="muted">Loading…</p>
        )}
      </div>
    );
  if (!found) {
    const all = [...query.data.schedules, ...query.data.sensors].map((x) => x.name);
    return (
      <div className="page automation-page">
        <h1>No schedule or sensor named “{name}”</h1>
        <p>
          The published definitions have no schedule or sensor by this name (it may have been renamed or
          removed, or the link is wrong).{" "}
          {all.length > 0 ? (
            <>
              They have:{" "}
              {all.map((n, i) => (
                <span key={n}>
                  {i > 0 ? ", " : ""}
                  <Link to={`/automation/${encodeURIComponent(n)}`} className="mono">
                    {n}
                  </Link>
                </span>
              ))}
              .
            </>
          ) : (
            "They have no schedules or sensors at all."
          )}
        </p>
        <p>
          <Link to="/automation">Back to Automation</Link>
        </p>
      </div>
    );
  }
  return <InstigatorView found={found} />;
}

function InstigatorView({ found }: { found: Found }) {
  const { kind, item } = found;
  const launcher = usePermission("launcher");
  const reasonId = useId();
  const [showPreview, setShowPreview] = useState(false);
  const preview = usePreview(item.name);
  return (
    <div className="page automation-page">
      <div className="page-header">
        <h1>{item.name}</h1>
        <span className="badge">
          {kind === "sensor" ? `${sensorTypeWord(found.item.type)} sensor` : "schedule"}
        </span>
        <StatusSwitch
          name={item.name}
          status={item.status}
          disabledReason={launcher.allowed ? undefined : launcher.reason}
          reasonId={reasonId}
        />
        <span className="spacer" />
        <Link to="/automation" className="small">
          All schedules and sensors
        </Link>
        <button
          type="button"
          className="primary"
          disabled={!launcher.allowed || preview.isPending}
          aria-describedby={launcher.allowed ? undefined : reasonId}
          title={launcher.reason ?? "Evaluate it now without launching anything"}
          onClick={() => {
            setShowPreview(true);
            preview.mutate();
          }}
        >
          {preview.isPending ? "Previewing…" : "Preview"}
        </button>
      </div>
      {!launcher.allowed && (
        <p className="permission-note" id={reasonId}>
          Read only: {launcher.reason}
        </p>
      )}
      {item.description && <p className="description-lead">{item.description}</p>}

      {showPreview && (
        <section className="card preview-card" aria-labelledby="preview-title" aria-busy={preview.isPending}>
          <div className="section-head">
            <h2 id="preview-title">Preview: what it would do now</h2>
            <span className="spacer" />
            <button type="button" className="ghost small" onClick={() => setShowPreview(false)}>
              Close preview
            </button>
          </div>
          <div aria-live="polite">
            {preview.isPending ? (
              <p className="muted">Asking the daemon to evaluate {item.name}…</p>
            ) : preview.isError ? (
              <PreviewError error={preview.error} />
            ) : preview.data ? (
              <PreviewResult preview={preview.data} />
            ) : null}
          </div>
        </section>
      )}

      <div className="instigator-grid">
        <section className="card" aria-labelledby="facts-title">
          <h2 id="facts-title">Details</h2>
          <dl className="props">
            <dt>Status</dt>
            <dd>
              {item.status === "RUNNING" ? "running" : "stopped"}
              <span className="muted small">
                {" "}
                (default {item.defaultStatus === "RUNNING" ? "running" : "stopped"})
              </span>
            </dd>
            <dt>Target</dt>
            <dd className="mono">{describeTarget(item.target)}</dd>
            {kind === "schedule" ? (
              <>
                <dt>Cron</dt>
                <dd>
                  <code>{found.item.cron}</code> <span className="muted">({found.item.timezone})</span>
                </dd>
                <dt>Next tick</dt>
                <dd>
                  {found.item.nextTickAt !== null ? (
                    <>
                      {exactTime(found.item.nextTickAt)}{" "}
                      <span className="muted small">
                        (<RelativeTime ms={found.item.nextTickAt} />)
                      </span>
                    </>
                  ) : (
                    <span className="muted">none while stopped</span>
                  )}
                </dd>
                <dt>Catch-up</dt>
                <dd>
                  {found.item.catchUp === 0
                    ? "missed ticks are not run"
                    : `up to ${found.item.catchUp} missed tick${found.item.catchUp === 1 ? "" : "s"}`}
                </dd>
              </>
            ) : (
              <>
                <dt>Interval</dt>
                <dd>{describeInterval(found.item.minimumIntervalSeconds)}</dd>
              </>
            )}
            <dt>Last tick</dt>
            <dd>
              <LastTick tick={item.lastTick} kind={kind} name={item.name} />
            </dd>
          </dl>
        </section>
        {kind === "sensor" ? (
          <CursorCard name={item.name} cursor={item.cursor} />
        ) : (
          <section className="card" aria-labelledby="cursor-title">
            <h2 id="cursor-title">Cursor</h2>
            <p className="small">
              A schedule remembers the last tick it evaluated:{" "}
              {item.cursor && /^\d+$/.test(item.cursor) ? (
                <strong>{exactTime(Number(item.cursor))}</strong>
              ) : (
                <span className="muted">{item.cursor ?? "none yet"}</span>
              )}
              . Starting it moves this to now, so missed ticks are not run.
            </p>
          </section>
        )}
      </div>

      <TickHistory name={item.name} kind={kind} />
      <TargetDecisions target={item.target} kind={kind} />
    </div>
  );
}

/** A sensor's cursor, and "Reset cursor" (admin only, after a confirmation). */
function CursorCard({ name, cursor }: { name: string; cursor: string | null }) {
  const admin = usePermission("admin");
  const reset = useResetCursor(name);
  const toast = useToast();
  const [open, setOpen] = useState(false);
  const reasonId = useId();
  return (
    <section className="card" aria-labelledby="cursor-title">
      <div className="section-head">
        <h2 id="cursor-title">Cursor</h2>
        <span className="spacer" />
        <button
          type="button"
          className="danger-outline small"
          disabled={!admin.allowed || cursor === null}
          aria-describedby={admin.allowed ? undefined : reasonId}
          title={
            admin.reason ??
            (cursor === null ? "The cursor is already empty." : "Start this sensor from scratch")
          }
          onClick={() => {
            reset.reset();
            setOpen(true);
          }}
        >
          Reset cursor
        </button>
      </div>
      {cursor === null ? (
        <p className="muted small">None: the next evaluation starts from scratch.</p>
      ) : (
        <pre className="cursor-value">{cursor}</pre>
      )}
      {!admin.allowed && (
        <p className="hint" id={reasonId}>
          Reset cursor: {admin.reason}
        </p>
      )}
      <ConfirmDialog
        open={open}
        onOpenChange={setOpen}
        title={`Reset the cursor of ${name}?`}
        description={
          <>
            The sensor forgets where it was: its next evaluation starts from scratch and may ask for runs
            again. Requests with a run key that was launched before are still not launched twice.
          </>
        }
        confirmLabel="Reset cursor"
        backOutLabel="Keep the cursor"
        danger
        pending={reset.isPending}
        error={reset.error}
        onConfirm={() =>
          reset.mutate(undefined, {
            onSuccess: () => {
              setOpen(false);
              toast(`The cursor of ${name} was reset.`);
            },
          })
        }
      />
    </section>
  );
}

const MAX_DECISION_ASSETS = 20;

/** For the assets it targets that have an automation condition: their latest decisions. */
function TargetDecisions({ target, kind }: { target: { job?: string; selection?: string }; kind: Kind }) {
  const graph = useAssetGraph();
  const jobs = useJobs();
  const selection = target.job
    ? jobs.data?.jobs.find((j) => j.name === target.job)?.selection
    : target.selection;
  const resolved = useMemo(
    () => (graph.data && selection ? targetAssets(graph.data.assets, selection) : null),
    [graph.data, selection],
  );
  const conditioned = useMemo(() => {
    if (!graph.data || !resolved) return [];
    const by = new Map(graph.data.assets.map((a) => [a.key, a]));
    return resolved.keys.filter((k) => by.get(k)?.automation);
  }, [graph.data, resolved]);
  const automationOf = (key: string) => graph.data?.assets.find((a) => a.key === key)?.automation ?? null;
  return (
    <section className="card" aria-labelledby="target-decisions-title">
      <h2 id="target-decisions-title">Automation conditions of its assets</h2>
      {!target.job && !target.selection ? (
        <p className="muted small">
          This {kind} names its assets in each run request, so there is no fixed set of assets to show.
        </p>
      ) : !resolved ? (
        graph.isError || jobs.isError ? (
          <ErrorBox error={graph.error ?? jobs.error} title="Could not read the assets it targets" />
        ) : (
          <p className="muted">Loading…</p>
        )
      ) : resolved.error ? (
        <p className="field-error">Its target could not be resolved: {resolved.error}</p>
      ) : conditioned.length === 0 ? (
        <p className="muted small">
          {resolved.keys.length === 1 ? (
            <>
              The asset it targets (<AssetLink assetKey={resolved.keys[0]!} />) has no automation condition
            </>
          ) : (
            <>None of the {resolved.keys.length} assets it targets has an automation condition</>
          )}{" "}
          (<code>eager()</code> or <code>onCron()</code>): only this {kind} and manual launches materialize{" "}
          {resolved.keys.length === 1 ? "it" : "them"}.
        </p>
      ) : (
        <div className="stack">
          {conditioned.slice(0, MAX_DECISION_ASSETS).map((key) => (
            <AssetDecisions key={key} assetKey={key} condition={automationOf(key)} />
          ))}
          {conditioned.length > MAX_DECISION_ASSETS && (
            <p className="muted small">
              And {conditioned.length - MAX_DECISION_ASSETS} more: see{" "}
              <Link to="/automation">Declarative automation</Link>.
            </p>
          )}
        </div>
      )}
    </section>
  );
}

function AssetDecisions({ assetKey, condition }: { assetKey: string; condition: string | null }) {
  const query = useEvaluations(assetKey, 5);
  const decisions = query.data?.evaluations ?? [];
  return (
    <div className="asset-decisions">
      <h3 className="asset-decisions-title">
        <AssetLink assetKey={assetKey} />{" "}
        {condition && <span className="muted small">{describeCondition(condition)}</span>}
      </h3>
      {query.isError ? (
        <ErrorBox error={query.error} title={`Could not load the decisions about ${assetKey}`} />
      ) : decisions.length === 0 ? (
        <p className="muted small">{query.isPending ? "Loading…" : "No decision yet."}</p>
      ) : (
        <DecisionsTable decisions={decisions} label={`Decisions about ${assetKey}`} hideAsset />
      )}
    </div>
  );
}
