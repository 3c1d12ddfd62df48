import type { MetadataMap } from "@baton/webserver/api-types";
import { type MetadataDisplay, metadataDisplay } from "./metadata";

/** One metadata value, rendered by its type (tables as tables, URLs as links, JSON pretty-printed). */
export function MetadataValueView({ display }: { display: MetadataDisplay }) {
  switch (display.kind) {
    case "number":
      return (
        <span className="md-number" title={display.title}>
          {display.text}
        </span>
      );
    case "bool":
      return <span>{display.value ? "true" : "false"}</span>;
    case "link":
      return (
        <a href={display.href} target="_blank" rel="noreferrer noopener" className="md-link">
          {display.text}
        </a>
      );
    case "text":
      return <span className={display.mono ? "mono" : undefined}>{display.text}</span>;
    case "pre":
      return <pre className="md-pre">{display.text}</pre>;
    case "table":
      return (
        <div className="md-table-wrap">
          <table className="table md-table">
            <thead>
              <tr>
                {display.columns.map((c) => (
                  <th key={c} scope="col">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {display.rows.map((row, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: rows of a preview have no identity
                <tr key={i}>
                  {row.map((cell, j) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: cells are positional
                    <td key={j}>{cell}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      );
  }
}

/** A materialization's or check's metadata as a definition list. */
export function MetadataList({ metadata, label }: { metadata: MetadataMap; label?: string }) {
  const entries = Object.entries(metadata);
  if (entries.length === 0) return <p className="muted small">No metadata.</p>;
  return (
    <dl className="props md-list" aria-label={label}>
      {entries.map(([name, value]) => (
        <MetadataEntry key={name} name={name} display={metadataDisplay(value)} />
      ))}
    </dl>
  );
}

export function MetadataEntry({ name, display }: { name: string; display: MetadataDisplay }) {
  return (
    <>
      <dt>{name}</dt>
      <dd>
        <MetadataValueView display={display} />
      </dd>
    </>
  );
}
