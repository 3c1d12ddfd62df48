import type { SerializedError } from "@baton/webserver/api-types";

/**
 * A serialized error in full: name, code, message, stack, and each cause below it. The first stack
 * is shown open unless `stackOpen` is false (the others are one click away).
 */
export function ErrorDetails({
  error,
  title,
  stackOpen = true,
}: {
  error: SerializedError;
  title?: string;
  stackOpen?: boolean;
}) {
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
            <details open={stackOpen && i === 0}>
              <summary>Stack trace</summary>
              <pre className="run-error-stack">{e.stack}</pre>
            </details>
          )}
        </div>
      ))}
    </div>
  );
}
