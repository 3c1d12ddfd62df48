import type { SerializedError } from "@baton/webserver/api-types";
import { StackFrames } from "./StackFrames";
import { errorFrames } from "./stack-frames";

/**
 * A serialized error in full: name, code, message and each cause below it. The frames of the link
 * that ran the user's code show under it, the user's first, the internal ones behind a button; an
 * error stored without frames shows its stack instead (open unless `stackOpen` is false).
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
  const frames = errorFrames(error);
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
          {frames
            ? frames.depth === i && <StackFrames frames={frames} />
            : e.stack && (
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
