import { Fragment } from "react";
import { Link } from "react-router";
import type { Lineage } from "./lineage";

const COLUMNS: readonly { id: keyof Lineage | "self"; label: string }[] = [
  { id: "upstream2", label: "2 up" },
  { id: "upstream1", label: "Upstream" },
  { id: "self", label: "This asset" },
  { id: "downstream1", label: "Downstream" },
  { id: "downstream2", label: "2 down" },
];
const MAX_PER_COLUMN = 12;

/** A key that may wrap after its separators ("taxi/" "clean_" "trips"), not mid-word. */
function Breakable({ text }: { text: string }) {
  const parts = text.split(/(?<=[/_.-])/);
  return (
    <>
      {parts.map((p, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: positional pieces of one string
        <Fragment key={i}>
          {p}
          {i < parts.length - 1 && <wbr />}
        </Fragment>
      ))}
    </>
  );
}

/** Two levels up and down as columns of links: upstream2 → upstream1 → this → downstream1 → downstream2. */
export function LineageCard({ assetKey, lineage }: { assetKey: string; lineage: Lineage }) {
  return (
    <div className="lineage">
      {COLUMNS.flatMap((c, i) => {
        const keys = c.id === "self" ? [assetKey] : lineage[c.id];
        const column = (
          <div key={c.id} className={`lineage-col${c.id === "self" ? " self" : ""}`}>
            <h4>{c.label}</h4>
            {keys.length === 0 ? (
              <span className="muted small">—</span>
            ) : (
              <ul className="plain-list">
                {keys.slice(0, MAX_PER_COLUMN).map((k) => (
                  <li key={k}>
                    {c.id === "self" ? (
                      <span className="lineage-node self" aria-current="page">
                        <Breakable text={k} />
                      </span>
                    ) : (
                      <Link className="lineage-node" to={`/assets/${k}`} title={k}>
                        <Breakable text={k} />
                      </Link>
                    )}
                  </li>
                ))}
                {keys.length > MAX_PER_COLUMN && (
                  <li className="muted small">and {keys.length - MAX_PER_COLUMN} more</li>
                )}
              </ul>
            )}
          </div>
        );
        return i === 0
          ? [column]
          : [
              <span key={`${c.id}-arrow`} className="lineage-arrow" aria-hidden="true">
                →
              </span>,
              column,
            ];
      })}
    </div>
  );
}
