import { Link } from "react-router";
import { type Kind, type Launched, resolveLaunched } from "./automation-model";
import { useLaunchedRuns, useLookup } from "./use-automation";

/** A run as a link named by its id's first 8 characters (the full id on hover). */
export function RunLink({ id }: { id: string }) {
  return (
    <Link to={`/runs/${encodeURIComponent(id)}`} title={id} className="mono">
      {id.slice(0, 8)}
    </Link>
  );
}

function BackfillLink({ id }: { id: string }) {
  return (
    <Link to={`/backfills/${encodeURIComponent(id)}`} title={id} className="mono">
      {id.slice(0, 8)}
    </Link>
  );
}

function RunLinks({ ids }: { ids: readonly string[] }) {
  if (ids.length === 0) return <span className="muted">no runs yet</span>;
  return (
    <>
      {ids.map((id, i) => (
        <span key={id}>
          {i > 0 ? ", " : ""}
          <RunLink id={id} />
        </span>
      ))}
    </>
  );
}

/** A backfill and the runs it has started so far. */
function BackfillItem({ id, runIds }: { id: string; runIds: readonly string[] }) {
  // Runs not (yet) tagged with the launcher's name: read them from the backfill itself.
  const lookup = useLookup(id, runIds.length === 0, true);
  const runs = runIds.length > 0 ? runIds : lookup.data?.kind === "backfill" ? lookup.data.runIds : [];
  return (
    <span className="launched-backfill">
      backfill <BackfillLink id={id} />
      <span className="muted"> → </span>
      runs <RunLinks ids={runs} />
    </span>
  );
}

function UnknownItem({ id }: { id: string }) {
  const lookup = useLookup(id, true);
  const found = lookup.data;
  if (found?.kind === "backfill") return <BackfillItem id={id} runIds={found.runIds} />;
  if (found?.kind === "gone")
    return (
      <span className="muted" title={id}>
        {id.slice(0, 8)} (deleted)
      </span>
    );
  // A run, or not looked up yet: a run link is the right guess (the run page says otherwise).
  return (
    <span>
      run <RunLink id={id} />
    </span>
  );
}

function Item({ item }: { item: Launched }) {
  if (item.kind === "run")
    return (
      <span>
        run <RunLink id={item.id} />
      </span>
    );
  if (item.kind === "backfill") return <BackfillItem id={item.id} runIds={item.runIds} />;
  return <UnknownItem id={item.id} />;
}

/**
 * What a tick launched: runs (links named by their first 8 characters) and daemon backfills (a
 * target spanning partitions definitions becomes one) with the runs they started.
 */
export function LaunchedList({ ids, kind, name }: { ids: readonly string[]; kind: Kind; name: string }) {
  const runs = useLaunchedRuns(kind, name, ids.length > 0);
  if (ids.length === 0) return null;
  if (runs.isPending)
    return <span className="muted small">{ids.length === 1 ? "1 launch" : `${ids.length} launches`}…</span>;
  const items = resolveLaunched(ids, runs.data?.runs ?? []);
  return (
    <ul className="launched">
      {items.map((item) => (
        <li key={item.id}>
          <Item item={item} />
        </li>
      ))}
    </ul>
  );
}
