import { ErrorBox } from "../../components/ErrorBox";
import { exactTime, RelativeTime } from "../../components/RelativeTime";
import { formatDuration } from "../runs/run-format";
import type { Kind } from "./automation-model";
import { LaunchedList } from "./LaunchedList";
import { TickPill } from "./TickOutcome";
import { LIVE_TICK_PAGES, useTicks } from "./use-automation";

/** A schedule's or sensor's ticks, newest first, a page at a time; re-read every few seconds. */
export function TickHistory({ name, kind }: { name: string; kind: Kind }) {
  const query = useTicks(name);
  const ticks = query.data?.pages.flatMap((p) => p.ticks) ?? [];
  // A sensor that keeps no cursor (e.g. one keyed by run keys): no column of "none".
  const cursors = kind === "sensor" && ticks.some((t) => t.cursor !== null);
  return (
    <section className="card" aria-labelledby="ticks-title" aria-busy={query.isPending}>
      <div className="section-head">
        <h2 id="ticks-title">Tick history</h2>
        <span className="muted small">
          newest first
          {(query.data?.pages.length ?? 1) <= LIVE_TICK_PAGES
            ? ", refreshed every few seconds"
            : "; not refreshed while this many older ticks are open (reload the page for new ones)"}
        </span>
      </div>
      {query.isError && <ErrorBox error={query.error} title="Could not load the ticks" />}
      {query.isPending ? (
        <p className="muted">Loading ticks…</p>
      ) : ticks.length === 0 && !query.isError ? (
        <p className="empty-hint">
          No ticks yet.{" "}
          {kind === "sensor"
            ? "A running sensor ticks at its interval (and at once when a watched file changes); a stopped one does not tick."
            : "A running schedule ticks at its cron times; a stopped one does not tick."}
        </p>
      ) : (
        <>
          <div className="table-scroll">
            <table className="table ticks-table" aria-label="Ticks">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Launched</th>
                  <th scope="col">Skip reason or error</th>
                  {cursors && <th scope="col">Cursor after</th>}
                  <th scope="col">Duration</th>
                </tr>
              </thead>
              <tbody>
                {ticks.map((t) => (
                  <tr key={t.id}>
                    <td className="small nowrap">
                      {exactTime(t.timestamp)}
                      <div className="muted">
                        <RelativeTime ms={t.timestamp} />
                      </div>
                    </td>
                    <td>
                      <TickPill tick={t} />
                    </td>
                    <td>
                      {t.runIds.length > 0 ? (
                        <LaunchedList ids={t.runIds} kind={kind} name={name} />
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td className="tick-detail">
                      {t.error ? (
                        <pre className="tick-error-full">{t.error}</pre>
                      ) : t.skipReason ? (
                        <span>{t.skipReason}</span>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    {cursors && (
                      <td className="mono small cursor-cell" title={t.cursor ?? undefined}>
                        {t.cursor ?? <span className="muted">none</span>}
                      </td>
                    )}
                    <td className="small nowrap">{formatDuration(t.durationMs)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="row tick-more">
            <span className="muted small" role="status">
              {ticks.length.toLocaleString("en")} tick{ticks.length === 1 ? "" : "s"} shown
            </span>
            {query.hasNextPage && (
              <button
                type="button"
                disabled={query.isFetchingNextPage}
                onClick={() => void query.fetchNextPage()}
              >
                {query.isFetchingNextPage ? "Loading older ticks…" : "Load older ticks"}
              </button>
            )}
          </div>
        </>
      )}
    </section>
  );
}
