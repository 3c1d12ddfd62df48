import type { SerializedError } from "@baton/webserver/api-types";
import { memo, type ReactNode } from "react";
import { StackFrames } from "../StackFrames";
import { errorFrames } from "../stack-frames";
import { clockTime, errorText, exactClock, LEVEL_WORDS, type LogLine, matchRanges } from "./log-model";

const LEVEL_CLASS = ["lv-debug", "lv-info", "lv-warn", "lv-error"] as const;

/** The message with each occurrence of `query` (lowercased) marked. */
function highlighted(line: LogLine, query: string): ReactNode {
  const ranges = matchRanges(line.lower, query);
  // lowercasing changed the length (rare scripts): offsets would be wrong, show it unmarked
  if (ranges.length === 0 || line.lower.length !== line.message.length) return line.message;
  const out: ReactNode[] = [];
  let at = 0;
  for (const [s, e] of ranges) {
    if (s > at) out.push(line.message.slice(at, s));
    out.push(<mark key={s}>{line.message.slice(s, e)}</mark>);
    at = e;
  }
  if (at < line.message.length) out.push(line.message.slice(at));
  return out;
}

/** An expanded error line: the user's frames first and the internal ones behind a button, else the text. */
function LineDetail({ line }: { line: LogLine }) {
  const frames = line.error ? errorFrames(line.error) : null;
  if (!frames || !line.error) return <pre className="log-detail">{line.detail}</pre>;
  const causes: SerializedError[] = [];
  for (let e = line.error.cause; e && causes.length < 6; e = e.cause) causes.push(e);
  return (
    <div className="log-detail">
      {causes.map((c, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a cause chain has only positions
        <div key={i}>Caused by: {errorText(c)}</div>
      ))}
      <StackFrames frames={frames} />
    </div>
  );
}

export interface LogRowProps {
  readonly line: LogLine;
  /** Position in the filtered list (0-based). */
  readonly pos: number;
  readonly query: string;
  readonly current: boolean;
  readonly expanded: boolean;
  /** The virtualizer's measuring ref, for rows whose height varies (wrapped or expanded). */
  readonly measure: ((el: HTMLElement | null) => void) | undefined;
  readonly onToggle: (id: number) => void;
}

/** One log line: time, level, step, message (and, for errors, the stack behind a toggle). */
export const LogRow = memo(function LogRow({
  line,
  pos,
  query,
  current,
  expanded,
  measure,
  onToggle,
}: LogRowProps) {
  const level = LEVEL_WORDS[line.level] ?? "INFO";
  const cls = `log-row ${LEVEL_CLASS[line.level] ?? ""}${current ? " is-current" : ""}`;
  return (
    <tr
      aria-rowindex={pos + 1}
      data-index={pos}
      data-line-id={line.id}
      data-expanded={expanded || undefined}
      ref={measure}
      tabIndex={-1}
      className={cls}
    >
      <td className="log-time" title={exactClock(line.ts)}>
        {clockTime(line.ts)}
      </td>
      <td className="log-level">{level}</td>
      <td className="log-step" title={line.step ?? "the run"}>
        {line.step ?? "—"}
      </td>
      <td className="log-msg">
        {line.source === "stdout" || line.source === "stderr" ? (
          <span className="log-source">{line.source}</span>
        ) : null}
        {line.detail !== null && (
          <button
            type="button"
            className="log-expand ghost small"
            aria-expanded={expanded}
            aria-label={expanded ? "Hide stack trace" : "Show stack trace"}
            onClick={() => onToggle(line.id)}
          >
            {expanded ? "hide stack" : "stack"}
          </button>
        )}
        <span className="log-text">{highlighted(line, query)}</span>
        {expanded && line.detail !== null && <LineDetail line={line} />}
      </td>
    </tr>
  );
});
