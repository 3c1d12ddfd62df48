/**
 * The scrolling table of log lines (TanStack Virtual: only the rows in view are in the DOM, between
 * two spacer rows). It owns the scroll: following the tail unless the user scrolled up ("Jump to
 * latest (n new)"), keeping the reader's place when the filter changes, and the keyboard (arrow keys,
 * Page Up/Down, Home/End between rows; Enter opens a stack). A scroll re-renders this component
 * only, and among its rows only those that came into view (rows are memoized).
 */
import { useVirtualizer } from "@tanstack/react-virtual";
import {
  type FocusEvent,
  type KeyboardEvent,
  type ReactNode,
  type Ref,
  useEffect,
  useImperativeHandle,
  useLayoutEffect,
  useRef,
  useState,
} from "react";
import { LogRow } from "./LogRow";
import type { LogLine } from "./log-model";

/** One unwrapped line (px; logs.css). */
export const ROW_HEIGHT = 22;
/** The table's sticky header row (px; logs.css). */
const HEAD_HEIGHT = 26;
const nf = new Intl.NumberFormat("en");

export interface LogTableApi {
  /** Scroll row `pos` into view (centered) and, with `focus`, focus it once it is rendered. */
  show(pos: number, focus: boolean): void;
  /** The rows in view (first, last), or null before the first layout. */
  range(): { start: number; end: number } | null;
}

export interface LogTableProps {
  readonly apiRef: Ref<LogTableApi>;
  readonly lines: readonly LogLine[];
  /** Indices into `lines` of the rows shown, in order. */
  readonly rows: readonly number[];
  /** Changes whenever `rows` grew (it grows in place). */
  readonly version: number;
  /** Changes whenever the filter changed (`rows` was rebuilt). */
  readonly filterKey: string;
  /** Lowercased search text (highlighted). */
  readonly query: string;
  /** Row position of the current line (-1: none), and that line's index in `lines` (-1: none). */
  readonly currentPos: number;
  readonly currentLine: number;
  readonly expanded: ReadonlySet<number>;
  readonly wrap: boolean;
  readonly busy: boolean;
  /** Shown over the empty table. */
  readonly empty: ReactNode;
  readonly describedBy: string | undefined;
  /** Follow the tail from the start (the run is running). */
  readonly live: boolean;
  readonly onGo: (pos: number, focus: boolean) => void;
  readonly onToggle: (id: number) => void;
  readonly onFocusLine: (id: number) => void;
  /** The user left the tail (scrolled up or jumped to a line), or came back to it. */
  readonly onFollowingChange?: (following: boolean) => void;
}

export function LogTable(props: LogTableProps) {
  const { lines, rows, wrap, expanded } = props;
  const shown = rows.length;
  const bodyRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: shown,
    getScrollElement: () => bodyRef.current,
    estimateSize: () => ROW_HEIGHT,
    getItemKey: (pos) => lines[rows[pos]!]?.id ?? -pos - 1,
    overscan: 12,
    scrollMargin: HEAD_HEIGHT,
    scrollPaddingStart: HEAD_HEIGHT,
  });
  // Unwrapped rows are all ROW_HEIGHT: only wrapped or expanded rows are measured. Wrapping or a
  // stack opened or closed: sizes forgotten, and the rows in view that need it measured again.
  // biome-ignore lint/correctness/useExhaustiveDependencies: sizes change with these
  useLayoutEffect(() => {
    virtualizer.measure();
    for (const el of bodyRef.current?.querySelectorAll<HTMLElement>("tr[data-index]") ?? [])
      if (wrap || el.dataset.expanded) virtualizer.measureElement(el);
  }, [wrap, expanded]);

  // ---- following the tail ------------------------------------------------------------------------
  const [following, setFollowingState] = useState(props.live);
  const followingRef = useRef(following);
  followingRef.current = following;
  const [leftAt, setLeftAt] = useState(0);
  const setFollowing = (f: boolean) => {
    if (f === followingRef.current) return;
    followingRef.current = f;
    setFollowingState(f);
    if (!f) setLeftAt(rows.length);
    props.onFollowingChange?.(f);
  };
  const lastTop = useRef(0);
  const onScroll = () => {
    const el = bodyRef.current;
    if (!el) return;
    const top = el.scrollTop;
    if (el.scrollHeight - top - el.clientHeight < 8) {
      if (props.live) setFollowing(true);
    } else if (top < lastTop.current - 1) setFollowing(false);
    lastTop.current = top;
  };
  // New rows (or rows measured taller), or following resumed: to the bottom, directly (cheaper than
  // the virtualizer's scrollToIndex, which re-checks the offset over the next frames).
  const totalSize = virtualizer.getTotalSize();
  // biome-ignore lint/correctness/useExhaustiveDependencies: these are when the bottom moved
  useLayoutEffect(() => {
    const el = bodyRef.current;
    if (following && el && shown > 0) {
      el.scrollTop = el.scrollHeight;
      lastTop.current = el.scrollTop;
    }
  }, [following, shown, props.version, totalSize]);

  // ---- the reader's place across filter changes ---------------------------------------------------
  const lastFilterKey = useRef(props.filterKey);
  const anchorLine = useRef(-1);
  useLayoutEffect(() => {
    if (props.filterKey !== lastFilterKey.current) {
      lastFilterKey.current = props.filterKey;
      setLeftAt(rows.length);
      if (followingRef.current || rows.length === 0) return; // the tail effect scrolls
      const anchor = props.currentLine >= 0 ? props.currentLine : anchorLine.current;
      if (anchor < 0) return;
      let pos = rows.findIndex((i) => i >= anchor);
      if (pos < 0) pos = rows.length - 1;
      virtualizer.scrollToIndex(pos, { align: props.currentLine >= 0 ? "center" : "start" });
      return;
    }
    const start = virtualizer.range?.startIndex;
    if (start !== undefined && rows[start] !== undefined) anchorLine.current = rows[start]!;
  });

  // ---- navigation ----------------------------------------------------------------------------------
  const focusPos = useRef<number | null>(null);
  useEffect(() => {
    if (focusPos.current === null) return;
    const el = bodyRef.current?.querySelector<HTMLElement>(`tr[data-index="${focusPos.current}"]`);
    if (el) {
      el.focus({ preventScroll: true });
      focusPos.current = null;
    }
  });
  useImperativeHandle(props.apiRef, () => ({
    show(pos, focus) {
      if (pos < 0 || pos >= rows.length) return;
      if (pos < rows.length - 1) setFollowing(false);
      virtualizer.scrollToIndex(pos, { align: "center" });
      if (focus) focusPos.current = pos;
    },
    range() {
      const r = virtualizer.range;
      return r ? { start: r.startIndex, end: r.endIndex } : null;
    },
  }));

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const row = (e.target as HTMLElement).closest<HTMLElement>("tr[data-index]");
    if (!row) return;
    const pos = Number(row.dataset.index);
    const page = Math.max(1, Math.floor((bodyRef.current?.clientHeight ?? 220) / ROW_HEIGHT) - 2);
    const to: Record<string, number> = {
      ArrowDown: pos + 1,
      ArrowUp: pos - 1,
      PageDown: pos + page,
      PageUp: pos - page,
      Home: 0,
      End: shown - 1,
    };
    if (e.key in to) {
      e.preventDefault();
      props.onGo(Math.max(0, Math.min(shown - 1, to[e.key]!)), true);
    } else if ((e.key === "Enter" || e.key === " ") && e.target === row) {
      const line = lines[rows[pos]!];
      if (line?.detail) {
        e.preventDefault();
        props.onToggle(line.id);
      }
    }
  };
  const onFocus = (e: FocusEvent<HTMLDivElement>) => {
    const id = (e.target as HTMLElement).closest<HTMLElement>("tr[data-index]")?.dataset.lineId;
    if (id !== undefined) props.onFocusLine(Number(id));
  };

  const items = virtualizer.getVirtualItems();
  const padTop = items.length > 0 ? items[0]!.start - HEAD_HEIGHT : 0;
  const padBottom =
    items.length > 0 ? virtualizer.getTotalSize() - (items[items.length - 1]!.end - HEAD_HEIGHT) : 0;
  const newLines = following ? 0 : Math.max(0, shown - leftAt);
  return (
    <div className="log-frame">
      {/* biome-ignore lint/a11y/noStaticElementInteractions: keys and focus of the rows inside, delegated */}
      <div
        className={wrap ? "log-body log-wrap" : "log-body"}
        ref={bodyRef}
        // a scrolling region is reachable by keyboard (arrow keys then move between its rows)
        // biome-ignore lint/a11y/noNoninteractiveTabindex: see above
        tabIndex={0}
        onScroll={onScroll}
        onKeyDown={onKeyDown}
        onFocus={onFocus}
      >
        <table
          className="log-table"
          aria-label="Log lines"
          aria-rowcount={shown}
          aria-busy={props.busy}
          aria-describedby={props.describedBy}
        >
          <colgroup>
            <col className="col-time" />
            <col className="col-level" />
            <col className="col-step" />
            <col className="col-msg" />
          </colgroup>
          <thead>
            <tr className="log-head-row">
              <th scope="col">Time</th>
              <th scope="col">Level</th>
              <th scope="col">Step</th>
              <th scope="col">Message</th>
            </tr>
          </thead>
          <tbody>
            {padTop > 0 && (
              // biome-ignore lint/a11y/noAriaHiddenOnFocusable: a spacer row holds nothing focusable
              <tr aria-hidden="true" className="log-spacer" style={{ height: padTop }}>
                <td colSpan={4} />
              </tr>
            )}
            {items.map((item) => {
              const line = lines[rows[item.index]!];
              if (!line) return null;
              const open = expanded.has(line.id);
              return (
                <LogRow
                  key={line.id}
                  line={line}
                  pos={item.index}
                  query={props.query}
                  current={item.index === props.currentPos}
                  expanded={open}
                  measure={wrap || open ? virtualizer.measureElement : undefined}
                  onToggle={props.onToggle}
                />
              );
            })}
            {padBottom > 0 && (
              // biome-ignore lint/a11y/noAriaHiddenOnFocusable: a spacer row holds nothing focusable
              <tr aria-hidden="true" className="log-spacer" style={{ height: padBottom }}>
                <td colSpan={4} />
              </tr>
            )}
          </tbody>
        </table>
        {props.busy && <div className="log-empty">Loading logs…</div>}
        {props.empty}
      </div>
      {!following && props.live && (
        <button type="button" className="log-latest primary small" onClick={() => setFollowing(true)}>
          Jump to latest{newLines > 0 ? ` (${nf.format(newLines)} new)` : ""}
        </button>
      )}
    </div>
  );
}
