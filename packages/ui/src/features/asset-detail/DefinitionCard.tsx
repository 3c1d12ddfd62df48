import type { AssetDefinition, PartitionStatus } from "@baton/webserver/api-types";
import { Link } from "react-router";
import { usePartitionStatus } from "../../api/queries";
import { schemaRows } from "./config-schema";
import { MetadataEntry } from "./MetadataView";
import { definitionMetadataDisplay } from "./metadata";
import { type KeyBounds, partitionsInWords } from "./partition-words";

/** First/last keys per dimension from the /partitions answer, for "monthly from 2019-01 to 2021-07". */
export function keyBounds(
  def: AssetDefinition,
  status: PartitionStatus | undefined,
): KeyBounds | Record<string, KeyBounds | undefined> | undefined {
  if (!status || status.total === 0) return undefined;
  if (def.partitions?.kind === "multi") {
    const out: Record<string, KeyBounds | undefined> = {};
    for (const d of status.dimensions ?? [])
      if (d.keys?.length) out[d.name] = { first: d.keys[0]!, last: d.keys.at(-1)! };
    return out;
  }
  const first = status.ranges[0]?.startKey;
  const last = status.ranges.at(-1)?.endKey;
  return first !== undefined && last !== undefined ? { first, last } : undefined;
}

const assetHref = (key: string) => `/assets/${key}`;

/** Its own subscriber to /partitions, so the answer re-renders this line and not the whole card. */
function PartitionsInWords({ def }: { def: AssetDefinition }) {
  const status = usePartitionStatus(def.key, def.partitions !== null);
  if (!def.partitions) return null;
  const data = status.data?.assetKey === def.key ? status.data : undefined;
  return <>{partitionsInWords(def.partitions, keyBounds(def, data))}</>;
}

/** What the asset is: description, ownership, lineage, partitions, policies and config schema. */
export function DefinitionCard(props: { def: AssetDefinition; downstream: readonly string[] }) {
  const { def } = props;
  const tags = Object.entries(def.tags);
  const metadata = Object.entries(def.metadata);
  const config = schemaRows(def.configSchema);
  const siblings = def.computation.assetKeys.filter((k) => k !== def.key);
  return (
    <>
      {def.description ? (
        <p className="def-desc">{def.description}</p>
      ) : (
        <p className="muted">No description.</p>
      )}
      <dl className="props">
        <dt>Group</dt>
        <dd>
          <Link to={`/catalog?group=${encodeURIComponent(def.group)}`}>{def.group}</Link>
        </dd>
        <dt>Kinds</dt>
        <dd>
          {def.kinds.length ? (
            <span className="row tight">
              {def.kinds.map((k) => (
                <span key={k} className="tag">
                  {k}
                </span>
              ))}
            </span>
          ) : (
            <span className="muted">—</span>
          )}
        </dd>
        <dt>Owners</dt>
        <dd>{def.owners.length ? def.owners.join(", ") : <span className="muted">none</span>}</dd>
        {tags.length > 0 && (
          <>
            <dt>Tags</dt>
            <dd>
              <span className="row tight">
                {tags.map(([k, v]) => (
                  <span key={k} className="tag mono">
                    {k}
                    {v ? `=${v}` : ""}
                  </span>
                ))}
              </span>
            </dd>
          </>
        )}
        <dt>Code version</dt>
        <dd>{def.codeVersion ? <code>{def.codeVersion}</code> : <span className="muted">not set</span>}</dd>
        <dt>Computed by</dt>
        <dd>
          <code>{def.computation.name}</code> <span className="muted small">({def.computation.kind})</span>
          {siblings.length > 0 && (
            <div className="small">
              with{" "}
              {siblings.map((k, i) => (
                <span key={k}>
                  {i > 0 && ", "}
                  <Link to={assetHref(k)}>{k}</Link>
                </span>
              ))}
              {def.computation.canSubset ? "" : " (always together)"}
            </div>
          )}
        </dd>
        <dt>Upstream</dt>
        <dd>
          {def.parents.length ? (
            <ul className="plain-list">
              {def.parents.map((p) => (
                <li key={p}>
                  <Link to={assetHref(p)}>{p}</Link>
                  {def.mappings[p] && <span className="muted small"> · {def.mappings[p]} mapping</span>}
                </li>
              ))}
            </ul>
          ) : (
            <span className="muted">none (a source)</span>
          )}
        </dd>
        <dt>Downstream</dt>
        <dd>
          {props.downstream.length ? (
            <ul className="plain-list">
              {props.downstream.map((d) => (
                <li key={d}>
                  <Link to={assetHref(d)}>{d}</Link>
                </li>
              ))}
            </ul>
          ) : (
            <span className="muted">none</span>
          )}
        </dd>
        <dt>Partitions</dt>
        <dd>
          {def.partitions ? <PartitionsInWords def={def} /> : <span className="muted">not partitioned</span>}
        </dd>
        <dt>Automation</dt>
        <dd>{def.automation ?? <span className="muted">none (materialized when launched)</span>}</dd>
        <dt>Freshness policy</dt>
        <dd>
          {def.freshness ? (
            <>
              at most {formatLag(def.freshness.maxLagMinutes)} old
              {def.freshness.cron && (
                <>
                  {" "}
                  by each tick of <code>{def.freshness.cron}</code>
                  {def.freshness.timezone ? ` (${def.freshness.timezone})` : ""}
                </>
              )}
            </>
          ) : (
            <span className="muted">none</span>
          )}
        </dd>
        {def.checks.length > 0 && (
          <>
            <dt>Checks</dt>
            <dd>{def.checks.map((c) => c.name).join(", ")}</dd>
          </>
        )}
      </dl>
      {metadata.length > 0 && (
        <>
          <h3 className="sub">Metadata</h3>
          <dl className="props md-list">
            {metadata.map(([name, value]) => (
              <MetadataEntry key={name} name={name} display={definitionMetadataDisplay(value)} />
            ))}
          </dl>
        </>
      )}
      <h3 className="sub">Run config</h3>
      {config.length === 0 ? (
        <p className="muted small">{def.configSchema ? "The config takes no fields." : "No run config."}</p>
      ) : (
        <div className="md-table-wrap">
          <table className="table config-table">
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">Type</th>
                <th scope="col">Default</th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {config.map((r) => (
                <tr key={r.field}>
                  <td className="mono">
                    {r.field}
                    {r.required && (
                      <span className="required" title="required">
                        {" "}
                        *
                      </span>
                    )}
                  </td>
                  <td className="mono">{r.type}</td>
                  <td className="mono">{r.default ?? <span className="muted">—</span>}</td>
                  <td>{r.description ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {config.some((r) => r.required) && <p className="hint">* required</p>}
        </div>
      )}
    </>
  );
}

function formatLag(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440} day${minutes === 1440 ? "" : "s"}`;
  if (minutes % 60 === 0) return `${minutes / 60} hour${minutes === 60 ? "" : "s"}`;
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}
