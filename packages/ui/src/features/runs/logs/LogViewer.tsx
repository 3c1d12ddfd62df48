/**
 * The run's log viewer: every structured event and captured stdout/stderr line in one virtualized
 * list, read page by page and then followed live; filters by step and minimum level (kept between
 * visits), search with highlighting and next/previous match, jump to next/previous error, download
 * as a .log file, and it follows the tail while the run runs unless the user scrolled up.
 */
import { type ReactNode, useCallback, useDeferredValue, useId, useMemo, useRef, useState } from "react";
import { isApiError } from "../../../api/client";
import { ErrorBox } from "../../../components/ErrorBox";
import { LogTable, type LogTableApi } from "./LogTable";
import {
  LEVELS,
  type LevelName,
  type LogView,
  levelOf,
  logFileText,
  nextPosition,
  ordinalOf,
  positionOfLine,
  viewOf,
} from "./log-model";
import { useLogFeed, usePersistent } from "./use-log-feed";

export { prefetchRunLogs } from "./use-log-feed";

import "./logs.css";

export interface LogViewerProps {
  readonly runId: string;
  /** True once the run ended (no more events will come). */
  readonly ended: boolean;
  /** The run's step keys, for the step filter. */
  readonly stepKeys: readonly string[];
  /** Controlled step filter (null: every step); uncontrolled when undefined. */
  readonly step?: string | null;
  readonly onStepChange?: (step: string | null) => void;
}

const nf = new Intl.NumberFormat("en");
const count = (n: number, one: string, many = `${one}s`) => `${nf.format(n)} ${n === 1 ? one : many}`;

const parseLevel = (raw: string) => (LEVELS.includes(raw as LevelName) ? (raw as LevelName) : undefined);
const parseBool = (raw: string) => (raw === "true" ? true : raw === "false" ? false : undefined);

function saveFile(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

/** One viewer per run: another run's page starts afresh (its lines, search and place; the level is kept). */
export function LogViewer(props: LogViewerProps) {
  return <RunLogs key={props.runId} {...props} />;
}

function RunLogs({ runId, ended, stepKeys, step: stepProp, onStepChange }: LogViewerProps) {
  const { feed, version } = useLogFeed(runId, ended);
  const [levelName, setLevelName] = usePersistent<LevelName>("baton.logs.minLevel", "debug", parseLevel);
  const minLevel = levelOf(levelName);
  const [wrap, setWrap] = usePersistent("baton.logs.wrap", false, parseBool);
  const [ownStep, setOwnStep] = useState<string | null>(null);
  const step = stepProp !== undefined ? stepProp : ownStep;
  const setStep = (s: string | null) => {
    if (stepProp === undefined) setOwnStep(s);
    onStepChange?.(s);
  };
  const [queryInput, setQueryInput] = useState("");
  const query = useDeferredValue(queryInput);
  const [onlyMatches, setOnlyMatches] = useState(false);
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(() => new Set());
  /** The line (by id) navigation is at: the last error or match jumped to, or the focused row. */
  const [current, setCurrent] = useState<number | null>(null);
  const ids = useId();

  const filter = useMemo(
    () => ({ minLevel, step, query, onlyMatches }),
    [minLevel, step, query, onlyMatches],
  );
  const viewRef = useRef<LogView | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` is when the store's lines changed
  const view = useMemo(() => {
    if (!feed) return null;
    const v = viewOf(feed.store, filter, viewRef.current ?? undefined);
    viewRef.current = v;
    return v;
  }, [feed, filter, version]);
  const rows = view?.rows ?? [];
  const lines = feed?.store.lines ?? [];
  const total = lines.length;
  const shown = rows.length;
  const busy = !feed || feed.phase === "loading";
  const q = view?.filter.query ?? "";

  // ---- navigation (errors, matches, rows) ---------------------------------------------------------
  const table = useRef<LogTableApi>(null);
  const filterKey = view
    ? `${view.filter.minLevel}|${view.filter.step}|${view.filter.query}|${view.filter.onlyMatches}`
    : "";
  const endedAtMount = useRef(ended).current;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the view grows in place with `version`
  const [currentLine, currentPos] = useMemo(() => {
    if (current === null || !view || !feed) return [-1, -1];
    const i = feed.store.indexOf(current);
    if (i < 0) return [-1, -1];
    const pos = positionOfLine(view, i);
    return [i, view.rows[pos] === i ? pos : -1];
  }, [current, view, feed, version]);

  const goTo = (pos: number, focus: boolean) => {
    if (!view || pos < 0 || pos >= view.rows.length) return;
    setCurrent(lines[view.rows[pos]!]!.id);
    table.current?.show(pos, focus);
  };
  /** Where "next" starts from: the current line, else just above what is on screen. */
  const fromPos = (dir: 1 | -1) => {
    if (currentPos >= 0) return currentPos;
    const range = table.current?.range();
    if (!range) return -1;
    return dir === 1 ? range.start - 1 : range.end + 1;
  };
  const errors = view?.errors ?? [];
  const matches = view?.matches ?? [];
  const goError = (dir: 1 | -1) => goTo(nextPosition(errors, fromPos(dir), dir), true);
  const goMatch = (dir: 1 | -1) => goTo(nextPosition(matches, fromPos(dir), dir), false);
  const errorOrdinal = currentPos >= 0 ? ordinalOf(errors, currentPos) : 0;
  const matchOrdinal = currentPos >= 0 ? ordinalOf(matches, currentPos) : 0;

  const onFocusLine = useCallback((id: number) => setCurrent(id), []);
  const toggle = useCallback((id: number) => {
    setExpanded((prev) => {
      const next = new Set(prev);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  }, []);

  // ---- download ----------------------------------------------------------------------------------
  const filtered = minLevel > 0 || step !== null || (onlyMatches && q !== "");
  const download = (onlyShown: boolean) => {
    if (!feed || !view) return;
    const name = `run-${runId.slice(0, 8)}${onlyShown ? "-filtered" : ""}.log`;
    saveFile(name, logFileText(feed.store.lines, onlyShown ? view.rows : undefined));
  };

  // ---- steps -------------------------------------------------------------------------------------
  // biome-ignore lint/correctness/useExhaustiveDependencies: the store's steps grow with `version`
  const steps = useMemo(() => {
    const all = [...stepKeys];
    const known = new Set(all);
    for (const s of feed?.store.steps ?? []) if (!known.has(s)) all.push(s);
    return all;
  }, [stepKeys, feed, version]);
  const unknownStep = step !== null && !steps.includes(step) && feed?.phase === "ready";

  // ---- render ------------------------------------------------------------------------------------
  const searchStatus =
    q === ""
      ? ""
      : matches.length === 0
        ? `No line matches “${queryInput.trim()}”`
        : matchOrdinal > 0
          ? `${nf.format(matchOrdinal)} of ${count(matches.length, "matching line")}`
          : count(matches.length, "matching line");

  let empty: ReactNode = null;
  if (!busy && shown === 0 && !feed?.error) {
    if (total === 0)
      empty = (
        <div className="log-empty">
          <strong>No log lines yet.</strong>{" "}
          {ended ? "This run wrote no log lines." : "Lines appear here as the run writes them."}
        </div>
      );
    else {
      const what = [
        minLevel > 0 && `level ${levelName} or above`,
        step !== null && `step ${step}`,
        onlyMatches && q !== "" && `“${queryInput.trim()}”`,
      ]
        .filter(Boolean)
        .join(", ");
      empty = (
        <div className="log-empty">
          <strong>No line matches {what}.</strong> {count(total, "line")} in all.{" "}
          <button
            type="button"
            className="small"
            onClick={() => {
              setLevelName("debug");
              setStep(null);
              setOnlyMatches(false);
            }}
          >
            Clear filters
          </button>
        </div>
      );
    }
  }

  return (
    <section className="log-viewer card" aria-labelledby={`${ids}-title`} aria-busy={busy}>
      <div className="log-toolbar">
        <h2 id={`${ids}-title`} className="log-title">
          Logs
        </h2>
        <div className="log-search">
          <input
            type="search"
            aria-label="Search logs"
            placeholder="Search logs"
            value={queryInput}
            onChange={(e) => {
              setQueryInput(e.target.value);
              setCurrent(null);
            }}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                goMatch(e.shiftKey ? -1 : 1);
              }
            }}
          />
          <button
            type="button"
            className="small"
            aria-label="Previous match"
            title="Previous match (Shift+Enter)"
            disabled={matches.length === 0}
            onClick={() => goMatch(-1)}
          >
            ↑
          </button>
          <button
            type="button"
            className="small"
            aria-label="Next match"
            title="Next match (Enter)"
            disabled={matches.length === 0}
            onClick={() => goMatch(1)}
          >
            ↓
          </button>
          <label className="log-check">
            <input type="checkbox" checked={onlyMatches} onChange={(e) => setOnlyMatches(e.target.checked)} />
            Only matching
          </label>
        </div>
        <label className="log-field">
          <span>Level</span>
          <select
            aria-label="Minimum level"
            value={levelName}
            onChange={(e) => setLevelName(parseLevel(e.target.value) ?? "debug")}
          >
            <option value="debug">all levels</option>
            <option value="info">info and up</option>
            <option value="warn">warn and up</option>
            <option value="error">errors only</option>
          </select>
        </label>
        <label className="log-field">
          <span>Step</span>
          <select
            aria-label="Step"
            value={step ?? ""}
            onChange={(e) => setStep(e.target.value === "" ? null : e.target.value)}
          >
            <option value="">all steps</option>
            {steps.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
            {step !== null && !steps.includes(step) && <option value={step}>{step} (not in this run)</option>}
          </select>
        </label>
        <fieldset className="log-errors" aria-label="Errors">
          <span className={errors.length > 0 ? "log-error-count has-errors" : "log-error-count"}>
            {errorOrdinal > 0
              ? `error ${nf.format(errorOrdinal)} of ${nf.format(errors.length)}`
              : count(errors.length, "error")}
          </span>
          <button
            type="button"
            className="small"
            aria-label="Previous error"
            title="Previous error"
            disabled={errors.length === 0}
            onClick={() => goError(-1)}
          >
            ↑
          </button>
          <button
            type="button"
            className="small"
            aria-label="Next error"
            title="Next error"
            disabled={errors.length === 0}
            onClick={() => goError(1)}
          >
            ↓
          </button>
        </fieldset>
      </div>

      <div className="log-status">
        <span>
          {busy
            ? "Loading logs…"
            : shown === total
              ? count(total, "line")
              : `${nf.format(shown)} of ${count(total, "line")} shown`}
          {feed?.phase === "paging" && " · loading more…"}
        </span>
        {feed && feed.live !== "off" && (
          <span className="log-live" data-live={feed.live === "live"}>
            {feed.live === "live" ? "live" : feed.live === "connecting" ? "connecting…" : "reconnecting…"}
          </span>
        )}
        <output className="log-search-status" aria-live="polite" id={`${ids}-search`}>
          {searchStatus}
        </output>
        <span className="spacer" />
        <label className="log-check">
          <input type="checkbox" checked={wrap} onChange={(e) => setWrap(e.target.checked)} />
          Wrap lines
        </label>
        {filtered && (
          <button type="button" className="small" disabled={shown === 0} onClick={() => download(true)}>
            Download {count(shown, "shown line")}
          </button>
        )}
        <button type="button" className="small" disabled={total === 0} onClick={() => download(false)}>
          Download all {count(total, "line")}
        </button>
      </div>

      {unknownStep && (
        <div className="log-note" role="status">
          This run has no step “{step}”.{" "}
          <button type="button" className="small" onClick={() => setStep(null)}>
            Show all steps
          </button>
        </div>
      )}
      {feed?.error != null && (
        <div className="log-error-box">
          <ErrorBox
            error={feed.error}
            title={
              isApiError(feed.error) && feed.error.status === 404
                ? "This run's logs were not found (the run may have been deleted)"
                : isApiError(feed.error) && feed.error.status === 401
                  ? "Sign in again to read this run's logs"
                  : total > 0
                    ? "Some log lines could not be loaded"
                    : "Could not load the logs"
            }
          />
          <button type="button" className="small" onClick={() => feed.retry()}>
            Try again
          </button>
        </div>
      )}

      <LogTable
        apiRef={table}
        lines={lines}
        rows={rows}
        version={version}
        filterKey={filterKey}
        query={q}
        currentPos={currentPos}
        currentLine={currentLine}
        expanded={expanded}
        wrap={wrap}
        busy={busy}
        empty={empty}
        describedBy={q ? `${ids}-search` : undefined}
        live={!endedAtMount}
        onGo={goTo}
        onToggle={toggle}
        onFocusLine={onFocusLine}
      />
    </section>
  );
}
