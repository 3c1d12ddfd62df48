import type { StackFrame } from "@baton/webserver/api-types";
import { useId, useState } from "react";
import { type ErrorFrames, frameFunction, frameLocation, ORIGIN_WORDS, toggleLabel } from "./stack-frames";

function Frame({ frame, base }: { frame: StackFrame; base: string }) {
  const fn = frameFunction(frame);
  const full =
    frame.line === null
      ? frame.file
      : `${frame.file}:${frame.line}${frame.column === null ? "" : `:${frame.column}`}`;
  return (
    <li className={frame.inUserCode ? "frame frame-user" : "frame"}>
      <code className="frame-loc" title={full}>
        {frameLocation(frame, base)}
      </code>
      {fn && <span className="frame-fn">{fn}</span>}
      {!frame.inUserCode && <span className="frame-origin">{ORIGIN_WORDS[frame.origin]}</span>}
    </li>
  );
}

/**
 * An error's frames: the user's code first (file:line:col and function), then a button that shows
 * the frames in Baton, node_modules and Node ("Show 4 internal frames").
 */
export function StackFrames({ frames }: { frames: ErrorFrames }) {
  const [open, setOpen] = useState(false);
  const internalId = useId();
  const n = frames.internal.length;
  return (
    <div className="stack-frames">
      {frames.user.length > 0 && (
        <ol className="frame-list" aria-label="Frames in your code">
          {frames.user.map((f, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: frames have only positions
            <Frame key={i} frame={f} base={frames.base} />
          ))}
        </ol>
      )}
      {n > 0 && (
        <>
          <button
            type="button"
            className="ghost small frames-toggle"
            aria-expanded={open}
            aria-controls={internalId}
            onClick={() => setOpen((o) => !o)}
          >
            {toggleLabel(n, open)}
          </button>
          <ol
            id={internalId}
            className="frame-list frame-list-internal"
            aria-label="Internal frames"
            hidden={!open}
          >
            {frames.internal.map((f, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: frames have only positions
              <Frame key={i} frame={f} base={frames.base} />
            ))}
          </ol>
        </>
      )}
    </div>
  );
}
