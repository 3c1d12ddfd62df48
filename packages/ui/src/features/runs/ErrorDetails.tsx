import type { SerializedError } from "@baton/webserver/api-types";

/** A serialized error in full: name, code, message, stack, and each cause below it. */
export function ErrorDetails({ error, title }: { error: SerializedError; title?: string }) {
  const chain: SerializedError[] = [];
  for (let e: SerializedError | undefined = error; e && chain.length < 6; e = e.cause) chain.push(e);
  return (
    <div className="run-error">
      {title && <strong className="run-error-title">{title}</strong>}
      {chain.map((e, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a cause chain has only positions
        <div key={i} className="run-error-part">
          {i > 0 && <div className="muted small">Caused by</div>}
          <div className="run-error-head">
            <span className="mono">{e.name}</span>
            {e.code && <span className="tag">{e.code}</span>}
          </div>
          <pre className="run-error-message">{e.message}</pre>
          {e.stack && (
            <details open={i === 0}>
              <summary>Stack trace</summary>
              <pre className="run-error-stack">{e.stack}</pre>
            </details>
          )}
        </div>
      ))}
    </div>
  );
}
