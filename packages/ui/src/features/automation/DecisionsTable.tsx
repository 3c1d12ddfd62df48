import type { AutomationEvaluation } from "@baton/webserver/api-types";
import { Link } from "react-router";
import { RelativeTime } from "../../components/RelativeTime";
import { describeKeys } from "../runs/run-format";
import { StatusPill } from "../runs/StatusPill";
import { describeCondition } from "./automation-model";
import { RunLink } from "./LaunchedList";

/** An asset as a link named by its key to its page (slash-separated key segments). */
export function AssetLink({ assetKey }: { assetKey: string }) {
  return (
    <Link to={`/assets/${assetKey.split("/").map(encodeURIComponent).join("/")}`} className="mono">
      {assetKey}
    </Link>
  );
}

/**
 * Declarative automation decisions (eager / onCron): the asset, its condition, whether the daemon
 * launched a run (with the run) or why not.
 */
export function DecisionsTable(props: {
  readonly decisions: readonly AutomationEvaluation[];
  readonly label: string;
  /** Leave out the asset and condition columns (one asset's history, under its name and condition). */
  readonly hideAsset?: boolean;
  /** Per asset, its newest launch: shown under a later decision that did not launch. */
  readonly lastLaunch?: ReadonlyMap<string, AutomationEvaluation>;
}) {
  return (
    <div className="table-scroll">
      <table className="table decisions-table" aria-label={props.label}>
        <thead>
          <tr>
            {!props.hideAsset && <th scope="col">Asset</th>}
            {!props.hideAsset && <th scope="col">Condition</th>}
            <th scope="col">Decision</th>
            <th scope="col">Reason</th>
            <th scope="col">Partitions</th>
            <th scope="col" title="When the daemon came to this decision (it is recorded when it changes)">
              Decided
            </th>
          </tr>
        </thead>
        <tbody>
          {props.decisions.map((d) => (
            <tr key={d.id}>
              {!props.hideAsset && (
                <td>
                  <AssetLink assetKey={d.assetKey} />
                </td>
              )}
              {!props.hideAsset && <td className="mono small">{describeCondition(d.condition)}</td>}
              <td>
                {d.launched ? (
                  <span className="row">
                    <StatusPill word="launched" color="materialized" />
                    {d.runId && (
                      <span>
                        run <RunLink id={d.runId} />
                      </span>
                    )}
                  </span>
                ) : (
                  <StatusPill word="not launched" color="missing" />
                )}
                {!d.launched && props.lastLaunch?.get(d.assetKey)?.runId && (
                  <div className="muted small last-launch">
                    last launched run <RunLink id={props.lastLaunch.get(d.assetKey)!.runId!} />{" "}
                    <RelativeTime ms={props.lastLaunch.get(d.assetKey)!.timestamp} />
                  </div>
                )}
              </td>
              <td className="decision-reason">{d.reason}</td>
              <td className="mono small">{d.partitionKeys ? describeKeys(d.partitionKeys) : "—"}</td>
              <td className="small">
                <RelativeTime ms={d.timestamp} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
