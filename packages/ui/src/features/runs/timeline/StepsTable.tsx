/**
 * The timeline in a table (its accessible alternative, and where the words are): every step with its
 * status in words, start, duration, attempts, why it was skipped or canceled, its error (the full
 * error on demand) and its checks. Virtualized: a 10,000-step run renders only the rows in view.
 */
import type { StepSummary } from "@baton/webserver/api-types";
import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useEffect, useRef } from "react";
import { Link } from "react-router";
import { ErrorDetails } from "../ErrorDetails";
import { formatDuration, STEP_STATUS } from "../run-format";
import { StatusPill } from "../StatusPill";
import { UserFrameLine } from "../UserFrameLine";

const COLUMNS = ["Step", "Status", "Started", "Duration", "Attempts", "Details"] as const;
const ESTIMATE = 38;
const MAX_LINKS = 20;

export interface StepsTableProps {
  readonly steps: readonly StepSummary[];
  /** Steps planned but not started by a worker yet (the run is queued): shown as "queued". */
  readonly queued: boolean;
  readonly selected: string | null;
  onSelect(stepKey: string | null): void;
  /** Now (ticks while the run goes on): the duration of running steps. */
  readonly now: number;
}

export function StepsTable({ steps, queued, selected, onSelect, now }: StepsTableProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: steps.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ESTIMATE,
    overscan: 10,
    getItemKey: (i) => steps[i]!.stepKey,
  });
  // A step picked on the timeline is scrolled into view here too.
  // biome-ignore lint/correctness/useExhaustiveDependencies: only when the selection changes
  useEffect(() => {
    if (selected === null) return;
    const i = steps.findIndex((s) => s.stepKey === selected);
    if (i >= 0) virtualizer.scrollToIndex(i, { align: "auto" });
  }, [selected]);
  const items = virtualizer.getVirtualItems();
  const padTop = items[0]?.start ?? 0;
  const padBottom = items.length ? virtualizer.getTotalSize() - items[items.length - 1]!.end : 0;
  return (
    <div className="steps-table-wrap" ref={scrollRef}>
      <table className="steps-table" aria-label="Steps" aria-rowcount={steps.length + 1}>
        <colgroup>
          <col className="col-step" />
          <col className="col-status" />
          <col className="col-started" />
          <col className="col-duration" />
          <col className="col-attempts" />
          <col className="col-details" />
        </colgroup>
        <thead>
          <tr aria-rowindex={1}>
            {COLUMNS.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {padTop > 0 && (
            // biome-ignore lint/a11y/noAriaHiddenOnFocusable: a spacer row holds nothing focusable
            <tr aria-hidden="true" className="spacer" style={{ height: padTop }}>
              <td colSpan={COLUMNS.length} />
            </tr>
          )}
          {items.map((item) => {
            const step = steps[item.index]!;
            return (
              <StepRow
                key={item.key as string}
                index={item.index}
                measure={virtualizer.measureElement}
                step={step}
                queued={queued}
                selected={step.stepKey === selected}
                onSelect={onSelect}
                now={step.status === "running" ? now : 0}
              />
            );
          })}
          {padBottom > 0 && (
            // biome-ignore lint/a11y/noAriaHiddenOnFocusable: a spacer row holds nothing focusable
            <tr aria-hidden="true" className="spacer" style={{ height: padBottom }}>
              <td colSpan={COLUMNS.length} />
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

const timeOf = (ms: number | null) =>
  ms === null ? "—" : new Date(ms).toLocaleTimeString(undefined, { hour12: false });

/** Memoized: a live refresh re-renders only the steps whose summary changed (and running ones as time passes). */
const StepRow = memo(function StepRow(props: {
  index: number;
  measure: (el: Element | null) => void;
  step: StepSummary;
  queued: boolean;
  selected: boolean;
  onSelect(stepKey: string | null): void;
  now: number;
}) {
  const { step: s, queued, selected } = props;
  const st =
    queued && s.status === "not_started"
      ? { word: "queued", color: "queued" }
      : (STEP_STATUS[s.status] ?? { word: s.status, color: "missing" });
  const running = s.status === "running" && s.startedAt !== null;
  const duration = s.durationMs ?? (running ? props.now - s.startedAt! : null);
  const materialized = [...new Set(s.materializations.map((m) => m.assetKey))];
  return (
    <tr
      ref={props.measure}
      data-index={props.index}
      aria-rowindex={props.index + 2}
      aria-selected={selected}
      className={selected ? "selected" : undefined}
    >
      <td>
        <button
          type="button"
          className="step-key"
          aria-pressed={selected}
          title={selected ? "Show the logs of every step" : `Show only the logs of ${s.stepKey}`}
          onClick={() => props.onSelect(selected ? null : s.stepKey)}
        >
          {s.stepKey}
        </button>
      </td>
      <td>
        <StatusPill word={st.word} color={st.color} />
      </td>
      <td className="num">{timeOf(s.startedAt)}</td>
      <td className="num">
        {formatDuration(duration)}
        {running ? " so far" : ""}
      </td>
      <td className="num">{s.attempts || "—"}</td>
      <td className="step-details">
        {s.status === "skipped" && (
          <div className="step-why">skipped: {s.reason ?? "an upstream step did not succeed"}</div>
        )}
        {s.status === "canceled" && s.reason && <div className="step-why">canceled: {s.reason}</div>}
        {s.error && (
          <div className="step-error">
            <span className="check-failed">
              {s.status === "failed" ? "" : `attempt ${s.attempts - 1} failed: `}
              {s.error.name}: {s.error.message}
            </span>
            <UserFrameLine error={s.error} />
            <details>
              <summary>Full error</summary>
              <ErrorDetails error={s.error} />
            </details>
          </div>
        )}
        {s.checks.map((c) => (
          <div key={`${c.assetKey}:${c.checkName}`} className={c.passed ? "muted" : "check-failed"}>
            {c.passed ? "✓" : "✕"} check {c.checkName}{" "}
            {c.passed ? "passed" : c.blocking ? "failed (blocking)" : "failed"}
          </div>
        ))}
        {materialized.length > 0 && (
          <div className="step-assets">
            <span className="muted">materialized </span>
            {materialized.slice(0, MAX_LINKS).map((k, i) => (
              <span key={k}>
                {i > 0 && ", "}
                <Link to={`/assets/${k}`} className="mono">
                  {k}
                </Link>
              </span>
            ))}
            {materialized.length > MAX_LINKS && (
              <span className="muted">
                {" "}
                and {(materialized.length - MAX_LINKS).toLocaleString("en")} more
              </span>
            )}
          </div>
        )}
      </td>
    </tr>
  );
});
