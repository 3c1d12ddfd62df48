import type { Preview } from "@baton/webserver/api-types";
import { isApiError } from "../../api/client";
import { ErrorBox } from "../../components/ErrorBox";
import { exactTime, RelativeTime } from "../../components/RelativeTime";
import { describeKeys } from "../runs/run-format";

/** Why a preview could not run: the daemon is not answering (503), or the server's message. */
export function PreviewError({ error }: { error: unknown }) {
  if (isApiError(error) && error.status === 503)
    return (
      <div className="error-box" role="alert">
        <strong>The daemon is not running</strong>
        <div>
          A preview is evaluated by the daemon (the webserver never runs your code), and no daemon answered.
          Start one with <code>baton daemon</code> (or run <code>baton dev</code>, which includes it), then
          preview again.
        </div>
        <div className="muted small">{error.message}</div>
      </div>
    );
  return <ErrorBox error={error} title="Could not preview" />;
}

/** What the schedule or sensor would do now (nothing was launched). */
export function PreviewResult({ preview }: { preview: Preview }) {
  const requests = preview.runRequests ?? [];
  return (
    <div className="preview-result">
      <p className="muted small">
        Evaluated {exactTime(preview.evaluatedAt)}; nothing was launched and no tick was recorded.
      </p>
      {preview.error && (
        <div className="error-box" role="alert">
          <strong>The evaluation failed</strong>
          <pre className="tick-error-full">{preview.error}</pre>
        </div>
      )}
      {preview.kind === "sensor" && !preview.error && (
        <>
          {requests.length === 0 ? (
            <p>
              <strong>It would launch nothing</strong>
              {preview.skipReason ? `: ${preview.skipReason}` : "."}
            </p>
          ) : (
            <>
              <p>
                <strong>
                  It would launch {requests.length} run request{requests.length === 1 ? "" : "s"}
                </strong>
                {" (a request whose run key was used before is not launched again)"}:
              </p>
              <div className="table-scroll">
                <table className="table" aria-label="Run requests">
                  <thead>
                    <tr>
                      <th scope="col">Run key</th>
                      <th scope="col">Partitions</th>
                      <th scope="col">Target</th>
                      <th scope="col">Tags</th>
                    </tr>
                  </thead>
                  <tbody>
                    {requests.map((r, i) => (
                      <tr key={r.runKey ?? i}>
                        <td className="mono small cursor-cell" title={r.runKey}>
                          {r.runKey ?? <span className="muted">none</span>}
                        </td>
                        <td className="mono small">
                          {r.partitionKeys
                            ? describeKeys(r.partitionKeys)
                            : (r.partitionKey ?? <span className="muted">—</span>)}
                        </td>
                        <td className="mono small">
                          {r.job
                            ? `job ${r.job}`
                            : (r.selection ?? <span className="muted">its target</span>)}
                        </td>
                        <td className="small">
                          {Object.entries(r.tags ?? {}).map(([k, v]) => (
                            <span key={k} className="tag">
                              {k}={v}
                            </span>
                          ))}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
          {preview.cursor !== undefined && (
            <p className="small">
              Cursor after this evaluation:{" "}
              {preview.cursor === null ? (
                <span className="muted">none</span>
              ) : (
                <code className="cursor-inline">{preview.cursor}</code>
              )}
            </p>
          )}
        </>
      )}
      {preview.kind === "schedule" && !preview.error && (
        <>
          <p>
            <strong>Its next {preview.ticks?.length ?? 0} ticks</strong>
            {" (it ticks only while it is running)"}
          </p>
          <ul className="preview-ticks">
            {(preview.ticks ?? []).map((t) => (
              <li key={t.tick}>
                <time dateTime={t.tick} title={t.tick}>
                  {Number.isNaN(Date.parse(t.tick)) ? t.tick : exactTime(Date.parse(t.tick))}
                </time>{" "}
                {!Number.isNaN(Date.parse(t.tick)) && (
                  <span className="muted small">
                    (<RelativeTime ms={Date.parse(t.tick)} />)
                  </span>
                )}
                {t.partitionKeys ? (
                  <span className="muted"> — partitions {describeKeys(t.partitionKeys)}</span>
                ) : null}
                {t.error ? <span className="field-error"> — {t.error}</span> : null}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
