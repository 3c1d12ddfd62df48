/**
 * The run's step timeline (Gantt) on one canvas: a row per step, a bar per attempt coloured by its
 * outcome, running bars growing to a "now" line. Only the rows in view are drawn (a 10,000-step run
 * paints ~15 rows a frame); vertical scrolling is the browser's own (a tall spacer under a sticky
 * canvas), so the scrollbar, keyboard and touch work as anywhere else. Zoom: ctrl/⌘ + wheel, the
 * buttons, + and −; pan: drag, shift + wheel or a horizontal wheel, ← and →; Fit (F) shows it all
 * and follows the run while it runs. Hover for an attempt's timings; click a step to pick it.
 */
import { useCallback, useEffect, useId, useLayoutEffect, useMemo, useRef, useState } from "react";
import { formatDuration } from "../run-format";
import {
  describeTimeline,
  fitView,
  formatOffset,
  hitSpan,
  OUTCOMES,
  type Outcome,
  panBy,
  type Span,
  spanX,
  type TimelineModel,
  type TimeView,
  ticks,
  timeToX,
  truncateStart,
  visibleRows,
  zoomAt,
} from "./timeline-model";
import "./timeline.css";

export const ROW_HEIGHT = 22;
const AXIS_HEIGHT = 26;
const MAX_HEIGHT = 250;
const BAR_INSET = 5;

interface Palette {
  readonly surface: string;
  readonly surface2: string;
  readonly border: string;
  readonly text: string;
  readonly text3: string;
  readonly accent: string;
  readonly accentSoft: string;
  readonly danger: string;
  readonly outcome: Readonly<Record<Outcome, string>>;
  readonly font: string;
  readonly mono: string;
}

function readPalette(el: Element): Palette {
  const css = getComputedStyle(el);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    surface: v("--surface", "#fff"),
    surface2: v("--surface-2", "#f0f2f5"),
    border: v("--border", "#d9dde3"),
    text: v("--text", "#1b1f24"),
    text3: v("--text-3", "#6b7280"),
    accent: v("--accent", "#4f46e5"),
    accentSoft: v("--accent-soft", "#e0e7ff"),
    danger: v("--danger", "#c62828"),
    outcome: Object.fromEntries(OUTCOMES.map((o) => [o.outcome, v(o.cssVar, "#888")])) as Record<
      Outcome,
      string
    >,
    font: v("--font", "sans-serif"),
    mono: v("--mono", "monospace"),
  };
}

const OUTCOME_WORD = Object.fromEntries(OUTCOMES.map((o) => [o.outcome, o.word])) as Record<Outcome, string>;
/** What a row without attempts says in the plot. */
function rowNote(status: string, reason: string | null): string {
  if (status === "not_started") return "not started";
  if (status === "running") return "waiting to start";
  return reason ? `${status}: ${reason}` : status === "canceled" ? "canceled before it started" : status;
}

interface Hover {
  readonly row: number;
  readonly span: number;
  readonly x: number;
  readonly y: number;
}

export interface StepTimelineProps {
  readonly model: TimelineModel;
  /** The run is still going: the axis extends to now and a now line is drawn. */
  readonly live: boolean;
  readonly selected: string | null;
  onSelect(stepKey: string | null): void;
}

export function StepTimeline({ model, live, selected, onSelect }: StepTimelineProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  const [painted, setPainted] = useState(false);
  const [hover, setHover] = useState<Hover | null>(null);
  const [following, setFollowing] = useState(true);
  const summaryId = useId();
  const height = Math.min(MAX_HEIGHT, AXIS_HEIGHT + Math.max(model.rows.length, 2) * ROW_HEIGHT + 4);
  const labelWidth = Math.round(Math.min(280, Math.max(120, width * 0.24)));

  // Everything the painter reads lives in refs: a scroll, a hover or a tick repaints without a render.
  const s = useRef({
    model,
    live,
    selected,
    width,
    height,
    labelWidth,
    view: null as TimeView | null,
    follow: true,
    hover: null as Hover | null,
    palette: null as Palette | null,
    charWidth: 7,
    frame: 0,
  });
  Object.assign(s.current, { model, live, selected, width, height, labelWidth, hover });

  const draw = useCallback(() => {
    const st = s.current;
    const canvas = canvasRef.current;
    const scroller = scrollRef.current;
    if (!canvas || !scroller || st.width <= 0) return false;
    const ctx = canvas.getContext("2d");
    if (!ctx) return false;
    if (!st.palette) {
      st.palette = readPalette(canvas);
      ctx.font = `12px ${st.palette.mono}`;
      st.charWidth = ctx.measureText("M").width || 7;
    }
    const pal = st.palette;
    const { model: m, width: w, height: h, labelWidth: lw } = st;
    const plotW = Math.max(1, w - lw);
    const now = Date.now();
    if (st.follow || !st.view) st.view = fitView(m, now, st.live, plotW - 8);
    const view = st.view;
    const dpr = window.devicePixelRatio || 1;
    const pw = Math.round(w * dpr);
    const ph = Math.round(h * dpr);
    if (canvas.width !== pw || canvas.height !== ph) {
      canvas.width = pw;
      canvas.height = ph;
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = pal.surface;
    ctx.fillRect(0, 0, w, h);

    const scrollTop = scroller.scrollTop;
    const { first, last } = visibleRows(scrollTop, h - AXIS_HEIGHT, ROW_HEIGHT, m.rows.length);
    const axis = m.origin !== null ? ticks(view, plotW, m.origin) : null;

    // Grid lines under the rows.
    ctx.fillStyle = pal.border;
    if (axis) for (const t of axis.ticks) ctx.fillRect(lw + Math.round(t.x), AXIS_HEIGHT, 1, h - AXIS_HEIGHT);

    const selectedRow = st.selected !== null ? (m.index.get(st.selected) ?? -1) : -1;
    const maxChars = Math.max(4, Math.floor((lw - 26) / st.charWidth));
    ctx.textBaseline = "middle";
    for (let i = first; i < last; i++) {
      const row = m.rows[i]!;
      const y = AXIS_HEIGHT + i * ROW_HEIGHT - scrollTop;
      if (i === selectedRow) {
        ctx.fillStyle = pal.accentSoft;
        ctx.fillRect(0, y, w, ROW_HEIGHT);
      } else if (st.hover?.row === i) {
        ctx.fillStyle = pal.surface2;
        ctx.fillRect(0, y, w, ROW_HEIGHT);
      }
      // Label: a status dot and the step key (its tail when long).
      const last = row.spans[row.spans.length - 1];
      ctx.fillStyle = last ? pal.outcome[last.outcome] : pal.text3;
      ctx.beginPath();
      ctx.arc(12, y + ROW_HEIGHT / 2, 3.5, 0, Math.PI * 2);
      ctx.fill();
      ctx.font = `12px ${pal.mono}`;
      ctx.fillStyle = row.spans.length > 0 ? pal.text : pal.text3;
      ctx.fillText(truncateStart(row.stepKey, maxChars), 22, y + ROW_HEIGHT / 2 + 0.5);
      // Bars, culled to the plot.
      ctx.save();
      ctx.beginPath();
      ctx.rect(lw, y, plotW, ROW_HEIGHT);
      ctx.clip();
      if (row.spans.length === 0) {
        const x = lw + Math.max(4, m.origin !== null ? timeToX(m.origin, view) + 4 : 4);
        ctx.font = `italic 11.5px ${pal.font}`;
        ctx.fillStyle = pal.text3;
        ctx.fillText(rowNote(row.status, row.reason), x, y + ROW_HEIGHT / 2);
      }
      for (let j = 0; j < row.spans.length; j++) {
        const span = row.spans[j]!;
        const [x0, x1] = spanX(span, view, now);
        if (x1 < 0 || x0 > plotW) continue;
        const a = Math.max(x0, -2);
        const b = Math.min(x1, plotW + 2);
        ctx.fillStyle = pal.outcome[span.outcome];
        ctx.fillRect(lw + a, y + BAR_INSET, Math.max(1, b - a), ROW_HEIGHT - 2 * BAR_INSET);
        if (st.hover?.row === i && st.hover.span === j) {
          ctx.strokeStyle = pal.text;
          ctx.lineWidth = 1.5;
          ctx.strokeRect(
            lw + a - 0.5,
            y + BAR_INSET - 0.5,
            Math.max(1, b - a) + 1,
            ROW_HEIGHT - 2 * BAR_INSET + 1,
          );
        }
      }
      ctx.restore();
    }

    // The now line while the run goes on.
    if (st.live) {
      const x = lw + timeToX(now, view);
      if (x >= lw && x <= w) {
        ctx.fillStyle = pal.danger;
        ctx.fillRect(Math.round(x), AXIS_HEIGHT, 1.5, h - AXIS_HEIGHT);
      }
    }

    // The axis on top (it stays put while the rows scroll under it).
    ctx.fillStyle = pal.surface;
    ctx.fillRect(0, 0, w, AXIS_HEIGHT);
    ctx.fillStyle = pal.border;
    ctx.fillRect(0, AXIS_HEIGHT - 1, w, 1);
    ctx.fillRect(lw - 1, 0, 1, h);
    ctx.font = `11px ${pal.font}`;
    ctx.fillStyle = pal.text3;
    ctx.fillText("Step", 8, AXIS_HEIGHT / 2);
    if (axis) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(lw, 0, plotW, AXIS_HEIGHT);
      ctx.clip();
      const nowX = st.live ? lw + timeToX(now, view) : Number.NaN;
      for (const t of axis.ticks) {
        ctx.fillStyle = pal.border;
        ctx.fillRect(lw + Math.round(t.x), AXIS_HEIGHT - 6, 1, 6);
        // The now label wins over a tick label under it.
        const x = lw + t.x + 4;
        if ((x + 48 > nowX - 2 && x < nowX + 30) || x + 44 > w) continue;
        ctx.fillStyle = pal.text3;
        ctx.fillText(formatOffset(t.offset, axis.step), x, AXIS_HEIGHT / 2);
      }
      if (nowX >= lw && nowX <= w - 30) {
        ctx.fillStyle = pal.danger;
        ctx.fillText("now", nowX + 4, AXIS_HEIGHT / 2);
      }
      ctx.restore();
    }
    return true;
  }, []);

  const requestDraw = useCallback(() => {
    const st = s.current;
    if (st.frame) return;
    st.frame = requestAnimationFrame(() => {
      st.frame = 0;
      draw();
    });
  }, [draw]);

  useEffect(() => () => cancelAnimationFrame(s.current.frame), []);

  // Width from the scroller (its scrollbar excluded).
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    setWidth(el.clientWidth);
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // A new response, size or selection: paint in this commit (the first paint ends aria-busy).
  // biome-ignore lint/correctness/useExhaustiveDependencies: these are what the painter reads from refs
  useLayoutEffect(() => {
    if (draw() && !painted) setPainted(true);
  }, [model, width, height, labelWidth, selected, hover, live, draw, painted]);

  // Running bars grow and the now line moves: 5 repaints a second while something runs.
  useEffect(() => {
    if (!live && model.open === 0) return;
    const t = setInterval(requestDraw, 200);
    return () => clearInterval(t);
  }, [live, model.open, requestDraw]);

  // Light/dark: re-read the colours.
  useEffect(() => {
    const media = window.matchMedia("(prefers-color-scheme: dark)");
    const onChange = () => {
      s.current.palette = null;
      requestDraw();
    };
    media.addEventListener("change", onChange);
    return () => media.removeEventListener("change", onChange);
  }, [requestDraw]);

  // A step picked elsewhere (the steps table) is scrolled into view.
  // biome-ignore lint/correctness/useExhaustiveDependencies: only when the selection changes
  useEffect(() => {
    const el = scrollRef.current;
    if (!el || selected === null) return;
    const i = model.index.get(selected);
    if (i === undefined) return;
    const top = i * ROW_HEIGHT;
    const bodyH = el.clientHeight - AXIS_HEIGHT;
    if (top < el.scrollTop || top + ROW_HEIGHT > el.scrollTop + bodyH)
      el.scrollTop = Math.max(0, top - bodyH / 2);
  }, [selected]);

  const setView = useCallback(
    (next: (v: TimeView) => TimeView, follow = false) => {
      const st = s.current;
      if (!st.view) return;
      st.view = next(st.view);
      st.follow = follow;
      setFollowing(follow);
      requestDraw();
    },
    [requestDraw],
  );
  const fit = useCallback(() => {
    s.current.follow = true;
    s.current.view = null;
    setFollowing(true);
    requestDraw();
  }, [requestDraw]);
  const zoom = useCallback(
    (factor: number) => setView((v) => zoomAt(v, factor, (s.current.width - s.current.labelWidth) / 2)),
    [setView],
  );

  // Wheel: ctrl/⌘ zooms at the pointer, shift or a sideways wheel pans; the rest scrolls the rows.
  useEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? el.clientHeight : 1;
      const rect = el.getBoundingClientRect();
      const x = e.clientX - rect.left - s.current.labelWidth;
      if (e.ctrlKey || e.metaKey) {
        e.preventDefault();
        setView((v) => zoomAt(v, Math.exp(-e.deltaY * unit * 0.002), Math.max(0, x)));
      } else if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
        e.preventDefault();
        const d = (e.shiftKey && e.deltaX === 0 ? e.deltaY : e.deltaX) * unit;
        setView((v) => panBy(v, -d));
      }
    };
    el.addEventListener("wheel", onWheel, { passive: false });
    return () => el.removeEventListener("wheel", onWheel);
  }, [setView]);

  const hitAt = (clientX: number, clientY: number): Hover | null => {
    const el = scrollRef.current;
    const st = s.current;
    if (!el || !st.view) return null;
    const rect = el.getBoundingClientRect();
    const x = clientX - rect.left;
    const y = clientY - rect.top;
    if (y < AXIS_HEIGHT) return null;
    const row = Math.floor((y - AXIS_HEIGHT + el.scrollTop) / ROW_HEIGHT);
    if (row < 0 || row >= st.model.rows.length) return null;
    const span =
      x >= st.labelWidth ? hitSpan(st.model.rows[row]!, x - st.labelWidth, st.view, Date.now()) : -1;
    return { row, span, x, y };
  };

  const drag = useRef<{ x: number; y: number; top: number; view: TimeView; moved: boolean } | null>(null);
  const onPointerDown = (e: React.PointerEvent<HTMLDivElement>) => {
    if (e.button !== 0 || !s.current.view) return;
    // Not on the scrollbar.
    if (e.clientX - e.currentTarget.getBoundingClientRect().left >= e.currentTarget.clientWidth) return;
    drag.current = {
      x: e.clientX,
      y: e.clientY,
      top: e.currentTarget.scrollTop,
      view: s.current.view,
      moved: false,
    };
  };
  const onPointerMove = (e: React.PointerEvent<HTMLDivElement>) => {
    const d = drag.current;
    if (d) {
      const dx = e.clientX - d.x;
      const dy = e.clientY - d.y;
      if (!d.moved && Math.hypot(dx, dy) > 4) {
        d.moved = true;
        e.currentTarget.setPointerCapture(e.pointerId);
        setHover(null);
      }
      if (d.moved) {
        e.currentTarget.scrollTop = d.top - dy;
        setView(() => panBy(d.view, dx));
        return;
      }
    }
    const h = hitAt(e.clientX, e.clientY);
    setHover((old) => (old?.row === h?.row && old?.span === h?.span && (h?.span ?? -1) < 0 ? old : h));
  };
  const onPointerUp = (e: React.PointerEvent<HTMLDivElement>) => {
    const d = drag.current;
    drag.current = null;
    if (!d || d.moved) return;
    const h = hitAt(e.clientX, e.clientY);
    if (!h) return;
    const key = s.current.model.rows[h.row]!.stepKey;
    onSelect(key === s.current.selected ? null : key);
  };
  const onKeyDown = (e: React.KeyboardEvent<HTMLDivElement>) => {
    const pan = (s.current.width - s.current.labelWidth) * 0.15;
    if (e.key === "+" || e.key === "=") zoom(1.5);
    else if (e.key === "-" || e.key === "_") zoom(1 / 1.5);
    else if (e.key === "ArrowLeft") setView((v) => panBy(v, pan));
    else if (e.key === "ArrowRight") setView((v) => panBy(v, -pan));
    else if (e.key === "f" || e.key === "F" || e.key === "0") fit();
    else return;
    e.preventDefault();
  };

  const rows = model.rows.length;
  const summary = useMemo(() => describeTimeline(model), [model]);
  const hovered = hover && hover.span >= 0 ? model.rows[hover.row]?.spans[hover.span] : undefined;
  return (
    <section className="card timeline-card" aria-label="Step timeline" aria-busy={!painted}>
      <div className="timeline-toolbar">
        <h2>Timeline</h2>
        <p className="muted small timeline-summary" id={summaryId}>
          {summary}
        </p>
        <ul className="timeline-legend" aria-label="Legend">
          {OUTCOMES.map((o) => (
            <li key={o.outcome}>
              <span
                className="timeline-swatch"
                style={{ background: `var(${o.cssVar})` }}
                aria-hidden="true"
              />
              {o.word}
            </li>
          ))}
        </ul>
        <fieldset className="timeline-zoom">
          <legend className="sr-only">Zoom</legend>
          <button
            type="button"
            className="small"
            onClick={() => zoom(1 / 1.5)}
            aria-label="Zoom out"
            title="Zoom out (−, ctrl/⌘ + wheel)"
          >
            −
          </button>
          <button
            type="button"
            className="small"
            onClick={() => zoom(1.5)}
            aria-label="Zoom in"
            title="Zoom in (+, ctrl/⌘ + wheel)"
          >
            +
          </button>
          <button
            type="button"
            className="small"
            onClick={fit}
            aria-pressed={following}
            title={live ? "Show the whole run and follow it as it runs (F)" : "Show the whole run (F)"}
          >
            Fit
          </button>
        </fieldset>
      </div>
      <div className="timeline-frame">
        <div
          ref={scrollRef}
          className="timeline-scroll"
          style={{ height }}
          role="application"
          aria-roledescription="timeline chart"
          aria-label="Timeline chart: drag or ← → to pan, + − or ctrl/⌘ + wheel to zoom, F to fit, click a step to show its logs"
          aria-describedby={summaryId}
          // biome-ignore lint/a11y/noNoninteractiveTabindex: the chart takes keys (zoom, pan) and scrolls
          tabIndex={0}
          onScroll={requestDraw}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onPointerCancel={() => {
            drag.current = null;
          }}
          onPointerLeave={() => setHover(null)}
          onKeyDown={onKeyDown}
          data-dragging={drag.current?.moved ? "true" : undefined}
        >
          <div style={{ height: Math.max(height, AXIS_HEIGHT + rows * ROW_HEIGHT + 4) }}>
            <canvas ref={canvasRef} className="timeline-canvas" style={{ height }} />
          </div>
        </div>
        {hovered && hover && (
          <Tooltip
            stepKey={model.rows[hover.row]!.stepKey}
            span={hovered}
            attempts={model.rows[hover.row]!.spans.length}
            x={hover.x}
            y={hover.y}
            width={width}
          />
        )}
      </div>
    </section>
  );
}

function Tooltip(props: {
  stepKey: string;
  span: Span;
  attempts: number;
  x: number;
  y: number;
  width: number;
}) {
  const { span } = props;
  const end = span.endedAt;
  const time = (ms: number) =>
    new Date(ms).toLocaleTimeString(undefined, {
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      fractionalSecondDigits: 3,
      hour12: false,
    });
  const left = props.x + 260 > props.width ? Math.max(0, props.x - 262) : props.x + 14;
  return (
    <div className="timeline-tooltip" style={{ left, top: props.y + 14 }} aria-hidden="true">
      <div className="mono timeline-tooltip-key">{props.stepKey}</div>
      <div>
        Attempt {span.attempt}
        {props.attempts > 1 ? ` of ${props.attempts}` : ""}: {OUTCOME_WORD[span.outcome]}
      </div>
      <div>Start {time(span.startedAt)}</div>
      <div>End {end === null ? "— (running)" : time(end)}</div>
      <div>Duration {formatDuration((end ?? Date.now()) - span.startedAt)}</div>
    </div>
  );
}
