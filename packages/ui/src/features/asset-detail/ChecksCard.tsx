import type { AssetDefinition, CheckResult } from "@baton/webserver/api-types";
import { Link } from "react-router";
import { useChecks } from "../../api/queries";
import { ErrorBox } from "../../components/ErrorBox";
import { RelativeTime } from "../../components/RelativeTime";
import { MetadataList } from "./MetadataView";
import { Pill } from "./Pill";

const resultPill = (passed: boolean) => (
  <Pill color={passed ? "var(--st-materialized)" : "var(--st-failed)"}>{passed ? "passed" : "failed"}</Pill>
);

/** Each check's latest result (with severity, blocking and metadata), then the recent history. */
export function ChecksCard(props: {
  assetKey: string;
  def: AssetDefinition;
  latest: readonly CheckResult[];
}) {
  const { def } = props;
  const checks = useChecks(props.assetKey);
  if (def.checks.length === 0)
    return (
      <p className="muted">No checks on this asset. Define one with assetCheck() to see results here.</p>
    );
  const latest = new Map(props.latest.map((c) => [c.checkName, c]));
  const history = checks.data?.history ?? [];
  return (
    <>
      <ul className="check-list">
        {def.checks.map((c) => {
          const r = latest.get(c.name);
          return (
            <li key={c.name}>
              <div className="check-head">
                <strong className="mono">{c.name}</strong>
                {r ? resultPill(r.passed) : <Pill color="var(--st-missing)">not evaluated</Pill>}
                <span className="tag">{(r?.severity ?? c.severity).toLowerCase()}</span>
                {(r?.blocking ?? c.blocking) && (
                  <span className="tag" title="A failure stops downstream assets in the same run">
                    blocking
                  </span>
                )}
                {r && (
                  <span className="muted small">
                    <RelativeTime ms={r.timestamp} /> ·{" "}
                    <Link to={`/runs/${r.runId}`}>run {r.runId.slice(0, 8)}</Link>
                  </span>
                )}
              </div>
              {c.description && <p className="small muted check-desc">{c.description}</p>}
              {r && Object.keys(r.metadata).length > 0 && <MetadataList metadata={r.metadata} />}
            </li>
          );
        })}
      </ul>
      <h3 className="sub">History</h3>
      {checks.isError ? (
        <ErrorBox error={checks.error} title="Could not load the check history" />
      ) : checks.isPending ? (
        <p className="muted">Loading…</p>
      ) : history.length === 0 ? (
        <p className="muted small">No evaluations yet.</p>
      ) : (
        <div className="md-table-wrap history-scroll">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Check</th>
                <th scope="col">Result</th>
                <th scope="col">Partition</th>
                <th scope="col">Run</th>
              </tr>
            </thead>
            <tbody>
              {history.map((h) => (
                <tr key={h.id}>
                  <td>
                    <RelativeTime ms={h.timestamp} />
                  </td>
                  <td className="mono">{h.checkName}</td>
                  <td>{resultPill(h.passed)}</td>
                  <td className="mono">{h.partition ?? "—"}</td>
                  <td>
                    <Link to={`/runs/${h.runId}`} className="mono">
                      {h.runId.slice(0, 8)}
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
