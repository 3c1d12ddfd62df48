/** The deployment's health: daemon, run workers, store and published definitions, in words. */
import type { Health } from "@baton/webserver/api-types";
import { ErrorBox } from "../../components/ErrorBox";
import { RelativeTime } from "../../components/RelativeTime";
import { formatDuration } from "../runs/run-format";
import { StatusPill } from "../runs/StatusPill";
import type { HealthView } from "./overview-model";

const ago = (ms: number) => `${formatDuration(ms)} ago`;

export function HealthSection({
  health,
  view,
  error,
}: {
  health: Health | undefined;
  view: HealthView | undefined;
  error: unknown;
}) {
  return (
    <section className="card ov-section" id="health" aria-labelledby="health-title">
      <div className="ov-section-head">
        <h2 id="health-title">Daemon and workers</h2>
        <span className="muted small">re-read every 5 s</span>
      </div>
      {error ? (
        <ErrorBox error={error} title="Could not read the deployment's health" />
      ) : !health || !view ? (
        <p className="muted">Reading…</p>
      ) : (
        <div className="ov-health">
          {view.problems.length > 0 && (
            <ul className="ov-problems" aria-label="Health problems">
              {view.problems.map((p) => (
                <li key={p.title}>
                  <strong>{p.title}.</strong> {p.detail}
                </li>
              ))}
            </ul>
          )}
          <dl className="props">
            <dt>Daemon</dt>
            <dd className="ov-daemon">
              {view.daemon.state === "running" ? (
                <>
                  <StatusPill word="running" color="materialized" />{" "}
                  <span className="muted">heartbeat {ago(view.daemon.ageMs ?? 0)}</span>
                </>
              ) : view.daemon.state === "late" ? (
                <>
                  <StatusPill word="not running" color="failed" />{" "}
                  <span className="muted">last heartbeat {ago(view.daemon.ageMs ?? 0)}</span>
                </>
              ) : (
                <>
                  <StatusPill word="not running" color="failed" />{" "}
                  <span className="muted">it has never reported</span>
                </>
              )}
            </dd>
            <dt>Store</dt>
            <dd>
              {health.store.dialect === "sqlite" ? "SQLite" : "Postgres"},{" "}
              {health.store.reachable
                ? `answered in ${formatDuration(health.store.latencyMs)}`
                : "not reachable"}
            </dd>
            <dt>Definitions</dt>
            <dd>
              {health.definitions ? (
                <>
                  {health.definitions.assets.toLocaleString("en")}{" "}
                  {health.definitions.assets === 1 ? "asset" : "assets"}, published{" "}
                  <RelativeTime ms={health.definitions.publishedAt} />
                </>
              ) : (
                <span className="muted">none published yet</span>
              )}
            </dd>
          </dl>
          <table className="table ov-workers">
            <caption className="ov-caption">
              Run workers: {view.workers.length === 0 ? "none running" : view.workers.length}
            </caption>
            <thead>
              <tr>
                <th scope="col">Worker</th>
                <th scope="col">Host</th>
                <th scope="col">PID</th>
                <th scope="col">Last heartbeat</th>
              </tr>
            </thead>
            <tbody>
              {view.workers.length === 0 ? (
                <tr>
                  <td colSpan={4} className="muted">
                    No worker is running: launched runs wait in the queue.
                  </td>
                </tr>
              ) : (
                view.workers.map((w) => (
                  <tr key={w.workerId}>
                    <td className="mono" title={w.workerId}>
                      {w.workerId}
                    </td>
                    <td>{w.host}</td>
                    <td className="mono">{w.pid}</td>
                    <td>
                      {ago(w.heartbeatAgeMs)}
                      {w.late && <strong className="ov-late"> (late)</strong>}
                    </td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
