import type { SerializedError } from "@baton/webserver/api-types";
import { errorFrames, frameFunction, frameLocation } from "./stack-frames";

/** "at part.ts:13:51 in totalFare": where in the user's code an error was thrown, on one line. */
export function UserFrameLine({ error }: { error: SerializedError }) {
  const frames = errorFrames(error);
  const top = frames?.user[0];
  if (!frames || !top) return null;
  const fn = frameFunction(top);
  return (
    <div className="step-error-where small">
      at <code title={top.file}>{frameLocation(top, frames.base)}</code>
      {fn && (
        <>
          {" "}
          in <code>{fn}</code>
        </>
      )}
    </div>
  );
}
