import { useHealth } from "../api/queries";
import { RelativeTime } from "../components/RelativeTime";

/** `definitions.ts:4:12` from an absolute path (the full path is in the title). */
function shortLocation(file: string, line: number | null, column: number | null): string {
  const name = file.split(/[\\/]/).pop() || file;
  return line === null ? name : column === null ? `${name}:${line}` : `${name}:${line}:${column}`;
}

/**
 * On every page while the latest reload of the definitions failed (a syntax error, a throwing
 * import): what failed and where, and that the previous definitions are still what runs. Gone once
 * a load succeeds (`/api/health` is re-read every 5 s).
 */
export function DefinitionsErrorBanner() {
  const failure = useHealth().data?.definitionsLoadError;
  if (!failure) return null;
  return (
    <div className="banner banner-danger" role="alert" aria-labelledby="definitions-error-title">
      <div className="banner-head">
        <strong id="definitions-error-title">The definitions failed to load.</strong>
        <span>
          The previous definitions are still served: the graph, launches and the daemon use them until the
          file loads again.
        </span>
      </div>
      <div className="banner-meta">
        {failure.file !== null && (
          <code title={failure.file}>{shortLocation(failure.file, failure.line, failure.column)}</code>
        )}
        <span className="muted">
          failing since <RelativeTime ms={failure.since} />
        </span>
      </div>
      <pre className="banner-message">{failure.message}</pre>
    </div>
  );
}
