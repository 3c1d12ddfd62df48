import { type KeyboardEvent, type PointerEvent, useEffect, useMemo, useRef, useState } from "react";
import { KEY_STATE_INFO, KEY_STATES, type KeyState, keyRanges } from "./partition-states";

const HEIGHT = 28;

/**
 * A backfill's partitions as one bar on a canvas, one rectangle per contiguous range of a state
 * (failures drawn last and at least a pixel wide, so a single failed key among a million shows).
 * Hover, or focus and the arrow keys, tell the key under the pointer and its state; it is a slider
 * for assistive technology (the key and state as its value text).
 */
export function PartitionBar(props: {
  keys: readonly string[];
  states: Uint8Array;
  label: string;
  /** Id of the element summarizing the bar in words. */
  describedBy?: string;
}) {
  const { keys, states } = props;
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  const [dark, setDark] = useState(() => matchMedia("(prefers-color-scheme: dark)").matches);
  const [cursor, setCursor] = useState(0);
  const [hover, setHover] = useState<number | null>(null);
  const [focused, setFocused] = useState(false);
  const ranges = useMemo(() => keyRanges(states), [states]);
  const n = keys.length;

  useEffect(() => {
    const el = wrapRef.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    setWidth(el.clientWidth);
    const mq = matchMedia("(prefers-color-scheme: dark)");
    const onTheme = () => setDark(mq.matches);
    mq.addEventListener("change", onTheme);
    return () => {
      ro.disconnect();
      mq.removeEventListener("change", onTheme);
    };
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `dark` changes the CSS variables read
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || width === 0 || n === 0) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(HEIGHT * dpr);
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const css = getComputedStyle(canvas);
    const color = (s: KeyState) => {
      const name = KEY_STATE_INFO[s].color;
      return css.getPropertyValue(name ? `--st-${name}` : "--surface-2").trim() || "#999";
    };
    ctx.clearRect(0, 0, width, HEIGHT);
    // Drawing order: KEY_STATES order (failed last).
    for (const state of KEY_STATES) {
      ctx.fillStyle = color(state);
      ctx.globalAlpha = state === "earlier" ? 0.45 : 1;
      for (const r of ranges) {
        if (r.state !== state) continue;
        const x0 = (r.start / n) * width;
        const x1 = ((r.end + 1) / n) * width;
        const w = Math.max(x1 - x0, state === "failed" || n > width ? 1 : 0);
        ctx.fillRect(x0, 0, w, HEIGHT);
      }
    }
    ctx.globalAlpha = 1;
    // Separators between keys when each is wide enough to tell apart.
    if (n > 1 && width / n >= 6) {
      ctx.fillStyle = css.getPropertyValue("--surface").trim() || "#fff";
      for (let i = 1; i < n; i++) ctx.fillRect(Math.round((i / n) * width) - 0.5, 0, 1, HEIGHT);
    }
  }, [ranges, width, n, dark]);

  const clamp = (i: number) => Math.max(0, Math.min(n - 1, i));
  const at = (e: PointerEvent) => {
    const rect = e.currentTarget.getBoundingClientRect();
    return clamp(Math.floor(((e.clientX - rect.left) / rect.width) * n));
  };
  const onKey = (e: KeyboardEvent) => {
    const step = Math.max(1, Math.round(n / 20));
    const next =
      e.key === "ArrowRight" || e.key === "ArrowUp"
        ? cursor + 1
        : e.key === "ArrowLeft" || e.key === "ArrowDown"
          ? cursor - 1
          : e.key === "PageUp"
            ? cursor + step
            : e.key === "PageDown"
              ? cursor - step
              : e.key === "Home"
                ? 0
                : e.key === "End"
                  ? n - 1
                  : null;
    if (next === null) return;
    e.preventDefault();
    setCursor(clamp(next));
    setHover(null);
  };
  const describe = (i: number) => `${keys[i]}: ${KEY_STATE_INFO[KEY_STATES[states[i]!]!].word}`;
  const shown = hover ?? (focused ? cursor : null);
  if (n === 0) return <p className="muted">No partitions.</p>;
  const safeCursor = clamp(cursor);
  return (
    <div className="bf-bar-wrap" ref={wrapRef}>
      <div
        className="bf-bar"
        role="slider"
        tabIndex={0}
        aria-label={props.label}
        aria-describedby={props.describedBy}
        aria-valuemin={1}
        aria-valuemax={n}
        aria-valuenow={safeCursor + 1}
        aria-valuetext={`${describe(safeCursor)} (partition ${(safeCursor + 1).toLocaleString("en")} of ${n.toLocaleString("en")})`}
        onKeyDown={onKey}
        onFocus={() => setFocused(true)}
        onBlur={() => setFocused(false)}
        onPointerMove={(e) => setHover(at(e))}
        onPointerLeave={() => setHover(null)}
        onPointerDown={(e) => setCursor(at(e))}
      >
        <canvas ref={canvasRef} style={{ width: "100%", height: HEIGHT }} />
        {focused && hover === null && (
          <span
            className="bf-bar-cursor"
            style={{ left: `${((safeCursor + 0.5) / n) * 100}%` }}
            aria-hidden="true"
          />
        )}
      </div>
      {shown !== null && shown < n && (
        <div
          className="bf-bar-tip"
          role="tooltip"
          style={{ left: `clamp(0px, calc(${((shown + 0.5) / n) * 100}% - 110px), calc(100% - 220px))` }}
        >
          <span className="mono">{keys[shown]}</span>
          <span>
            <span
              className="status-dot"
              style={{ background: swatch(KEY_STATES[states[shown]!]!) }}
              aria-hidden="true"
            />{" "}
            {KEY_STATE_INFO[KEY_STATES[states[shown]!]!].word}
          </span>
        </div>
      )}
    </div>
  );
}

export function swatch(state: KeyState): string {
  const name = KEY_STATE_INFO[state].color;
  return name ? `var(--st-${name})` : "var(--surface-2)";
}
