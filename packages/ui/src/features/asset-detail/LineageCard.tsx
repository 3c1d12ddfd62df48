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

/** Two levels up and down as columns of links: upstream2 → upstream1 → this → downstream1 → downstream2. */
export function LineageCard({ assetKey, lineage }: { assetKey: string; lineage: Lineage }) {
  return (
    <div className="lineage">
      {COLUMNS.map((c, i) => {
        const keys = c.id === "self" ? [assetKey] : lineage[c.id];
        return (
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
                        {k}
                      </span>
                    ) : (
                      <Link className="lineage-node" to={`/assets/${k}`} title={k}>
                        {k}
                      </Link>
                    )}
                  </li>
                ))}
                {keys.length > MAX_PER_COLUMN && (
                  <li className="muted small">and {keys.length - MAX_PER_COLUMN} more</li>
                )}
              </ul>
            )}
            {i < COLUMNS.length - 1 && (
              <span className="lineage-arrow" aria-hidden="true">
                →
              </span>
            )}
          </div>
        );
      })}
    </div>
  );
}
