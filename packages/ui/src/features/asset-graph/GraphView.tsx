/**
 * The asset graph's viewport: edges, group boxes and (when many nodes are in view) the nodes are
 * drawn on one canvas; the nodes in view are also DOM elements (focusable, labelled with their key,
 * described by their status) when there are few enough of them. Pan and zoom move a CSS transform
 * and redraw the canvas in the same animation frame; React re-renders only when the set of boxes
 * in (a margin around) the view changes.
 */
import type { GraphStatus } from "@baton/webserver/api-types";
import {
  type KeyboardEvent,
  type MouseEvent,
  type PointerEvent,
  useCallback,
  useEffect,
  useImperativeHandle,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import { STATUS_WORDS } from "../../components/status";
import { getOrInsert } from "../../util/maps";
import { AssetNode } from "./AssetNode";
import type { Box, GraphLayout, GroupBox } from "./layout/types";
import type { GraphModel } from "./model";
import { drawGraph, type Palette, readPalette, SIMPLE_ZOOM } from "./paint";

/** More nodes than this in view: they are painted on the canvas instead of being DOM elements. */
export const DOM_NODE_LIMIT = 400;
const MAX_ZOOM = 2;

export interface Viewport {
  x: number;
  y: number;
  k: number;
}

export interface GraphViewHandle {
  fit(): void;
  zoomBy(factor: number): void;
  /** Pan so `key`'s node is in view (and centred if it was not). */
  reveal(key: string): void;
}

export interface GraphViewProps {
  readonly model: GraphModel;
  readonly layout: GraphLayout | null;
  readonly statuses: GraphStatus["assets"] | undefined;
  /** Search matches (others dimmed), or null for no search. */
  readonly highlighted: ReadonlySet<string> | null;
  readonly selected: ReadonlySet<string>;
  readonly layingOut: boolean;
  onNodeClick(key: string, additive: boolean): void;
  onBoxSelect(keys: string[], additive: boolean): void;
  onToggleGroup(name: string): void;
  onBackgroundClick(): void;
  readonly handleRef?: React.Ref<GraphViewHandle>;
}

/** Zoomed out at most to half the fit of the whole graph (and never further in than 0.2). */
function minZoom(layout: GraphLayout | null, size: { width: number; height: number }) {
  if (!layout) return 0.05;
  return Math.min(
    0.2,
    (size.width / Math.max(1, layout.width)) * 0.5,
    (size.height / Math.max(1, layout.height)) * 0.5,
  );
}

const intersects = (a: Box, b: { x0: number; y0: number; x1: number; y1: number }) =>
  a.x < b.x1 && a.x + a.width > b.x0 && a.y < b.y1 && a.y + a.height > b.y0;

interface Window {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  simple: boolean;
}

export function GraphView(props: GraphViewProps) {
  const { layout, model, statuses, highlighted, selected } = props;
  const viewportRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const layerRef = useRef<HTMLDivElement>(null);
  const view = useRef<Viewport>({ x: 0, y: 0, k: 1 });
  const size = useRef({ width: 0, height: 0 });
  const palette = useRef<Palette | null>(null);
  const frame = useRef(0);
  /** The user panned or zoomed since the last fit (then resizing keeps their view). */
  const userMoved = useRef(false);
  const [win, setWin] = useState<Window | null>(null);
  const [paintedLayout, setPaintedLayout] = useState<GraphLayout | null>(null);
  const [box, setBox] = useState<{ x0: number; y0: number; x1: number; y1: number } | null>(null);

  // What is in (a margin around) the view: recomputed when the view leaves the last window.
  const inWindow = useMemo(() => {
    if (!layout || !win) return { nodes: [], groups: [], domNodes: false };
    const nodes = [...layout.nodes.values()].filter((n) => intersects(n, win));
    const groups = [...layout.groups.values()].filter((g) => intersects(g, win));
    return { nodes, groups, domNodes: nodes.length <= DOM_NODE_LIMIT };
  }, [layout, win]);
  const domNodes = inWindow.domNodes;

  const latest = useRef({ props, domNodes, inWindow });
  latest.current = { props, domNodes, inWindow };

  const paint = useCallback(() => {
    frame.current = 0;
    const canvas = canvasRef.current;
    const l = latest.current.props.layout;
    if (!canvas || !palette.current) return;
    const { x, y, k } = view.current;
    if (layerRef.current) layerRef.current.style.transform = `translate(${x}px, ${y}px) scale(${k})`;
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    const dpr = window.devicePixelRatio || 1;
    const { width, height } = size.current;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    if (!l) return;
    const p = latest.current.props;
    drawGraph(ctx, {
      layout: l,
      view: view.current,
      dpr,
      width,
      height,
      palette: palette.current,
      statuses: p.statuses,
      highlighted: p.highlighted,
      selected: p.selected,
      drawNodes: !latest.current.domNodes,
    });
    // A new window when the view nears the edge of the current one (or the detail level changes).
    const vx0 = -x / k;
    const vy0 = -y / k;
    const vx1 = (width - x) / k;
    const vy1 = (height - y) / k;
    const simple = k < SIMPLE_ZOOM;
    setWin((w) => {
      if (w && w.simple === simple && vx0 >= w.x0 && vy0 >= w.y0 && vx1 <= w.x1 && vy1 <= w.y1) return w;
      const mx = (vx1 - vx0) * 0.5;
      const my = (vy1 - vy0) * 0.5;
      return { x0: vx0 - mx, y0: vy0 - my, x1: vx1 + mx, y1: vy1 + my, simple };
    });
  }, []);

  const schedule = useCallback(() => {
    if (!frame.current) frame.current = requestAnimationFrame(paint);
  }, [paint]);

  const fit = useCallback(() => {
    const l = latest.current.props.layout;
    const { width, height } = size.current;
    if (!l || width === 0) return;
    const pad = 40;
    const k = Math.min(
      MAX_ZOOM,
      1,
      (width - pad * 2) / Math.max(1, l.width),
      (height - pad * 2) / Math.max(1, l.height),
    );
    view.current = { k, x: (width - l.width * k) / 2, y: Math.max(pad, (height - l.height * k) / 2) };
    userMoved.current = false;
    schedule();
  }, [schedule]);

  const zoomAt = useCallback(
    (factor: number, sx: number, sy: number) => {
      const v = view.current;
      const k = Math.min(
        MAX_ZOOM,
        Math.max(minZoom(latest.current.props.layout, size.current), v.k * factor),
      );
      const gx = (sx - v.x) / v.k;
      const gy = (sy - v.y) / v.k;
      view.current = { k, x: sx - gx * k, y: sy - gy * k };
      userMoved.current = true;
      schedule();
    },
    [schedule],
  );

  useImperativeHandle(
    props.handleRef,
    () => ({
      fit,
      zoomBy: (f) => zoomAt(f, size.current.width / 2, size.current.height / 2),
      reveal(key) {
        const n = latest.current.props.layout?.nodes.get(key);
        if (!n) return;
        const v = view.current;
        const { width, height } = size.current;
        const sx = n.x * v.k + v.x;
        const sy = n.y * v.k + v.y;
        if (sx >= 0 && sy >= 0 && sx + n.width * v.k <= width && sy + n.height * v.k <= height) return;
        const k = Math.max(v.k, 0.6);
        view.current = {
          k,
          x: width / 2 - (n.x + n.width / 2) * k,
          y: height / 2 - (n.y + n.height / 2) * k,
        };
        schedule();
      },
    }),
    [fit, zoomAt, schedule],
  );

  // Size the canvas to the viewport (and on resize), and read the theme's colours.
  useLayoutEffect(() => {
    const el = viewportRef.current;
    const canvas = canvasRef.current;
    if (!el || !canvas) return;
    const resize = () => {
      const rect = el.getBoundingClientRect();
      const dpr = window.devicePixelRatio || 1;
      size.current = { width: rect.width, height: rect.height };
      canvas.width = Math.round(rect.width * dpr);
      canvas.height = Math.round(rect.height * dpr);
      canvas.style.width = `${rect.width}px`;
      canvas.style.height = `${rect.height}px`;
      // A panel opening or the window resizing: keep the whole graph in view unless the user moved it.
      if (!userMoved.current) fit();
      else schedule();
    };
    palette.current = readPalette(el);
    resize();
    const observer = new ResizeObserver(resize);
    observer.observe(el);
    const media = window.matchMedia("(prefers-color-scheme: dark)");
    const onTheme = () => {
      palette.current = readPalette(el);
      schedule();
    };
    media.addEventListener("change", onTheme);
    return () => {
      observer.disconnect();
      media.removeEventListener("change", onTheme);
    };
  }, [schedule, fit]);

  // A new layout: fit it to the screen once (a layout of the same graph keeps the view).
  const fittedFor = useRef<string | null>(null);
  useLayoutEffect(() => {
    if (!layout) return;
    const id = `${layout.nodes.size}:${layout.groups.size}:${[...layout.groups.values()].map((g) => (g.collapsed ? 0 : 1)).join("")}`;
    if (fittedFor.current !== id) {
      fittedFor.current = id;
      fit();
    }
    // Draw now, before the browser paints this frame (the DOM nodes in view follow in the same frame).
    if (frame.current) cancelAnimationFrame(frame.current);
    paint();
  }, [layout, fit, paint]);

  // Statuses, search or selection changed: repaint (the layout stays).
  // biome-ignore lint/correctness/useExhaustiveDependencies: these are what the canvas paints (read through a ref).
  useEffect(() => {
    schedule();
  }, [statuses, highlighted, selected, domNodes, schedule]);

  // Painted: the canvas of this layout is drawn and its DOM nodes are committed, in the frame the
  // browser is about to paint.
  useLayoutEffect(() => {
    if (!layout || !win || paintedLayout === layout) return;
    performance.mark("baton:graph-painted");
    setPaintedLayout(layout);
  }, [layout, win, paintedLayout]);

  // Wheel: mouse wheel and pinch zoom around the pointer; trackpad scrolling pans.
  useEffect(() => {
    const el = viewportRef.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const rect = el.getBoundingClientRect();
      const sx = e.clientX - rect.left;
      const sy = e.clientY - rect.top;
      const mouseWheel =
        e.deltaMode !== 0 || (e.deltaX === 0 && Number.isInteger(e.deltaY) && Math.abs(e.deltaY) >= 50);
      if (e.ctrlKey || e.metaKey) zoomAt(Math.exp(-e.deltaY * 0.01), sx, sy);
      else if (mouseWheel) zoomAt(Math.exp(-Math.sign(e.deltaY) * 0.18), sx, sy);
      else {
        view.current = { ...view.current, x: view.current.x - e.deltaX, y: view.current.y - e.deltaY };
        userMoved.current = true;
        schedule();
      }
    };
    el.addEventListener("wheel", onWheel, { passive: false });
    return () => el.removeEventListener("wheel", onWheel);
  }, [zoomAt, schedule]);

  const drag = useRef<{
    sx: number;
    sy: number;
    vx: number;
    vy: number;
    moved: boolean;
    boxSelect: boolean;
    additive: boolean;
  } | null>(null);

  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    if (e.button !== 0) return;
    const target = e.target as HTMLElement;
    if (target.closest(".asset-node, button, .group-collapsed")) return;
    const rect = viewportRef.current!.getBoundingClientRect();
    drag.current = {
      sx: e.clientX - rect.left,
      sy: e.clientY - rect.top,
      vx: view.current.x,
      vy: view.current.y,
      moved: false,
      boxSelect: e.shiftKey,
      additive: e.metaKey || e.ctrlKey || e.shiftKey,
    };
    viewportRef.current!.setPointerCapture(e.pointerId);
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    const d = drag.current;
    if (!d) return;
    const rect = viewportRef.current!.getBoundingClientRect();
    const sx = e.clientX - rect.left;
    const sy = e.clientY - rect.top;
    if (!d.moved && Math.hypot(sx - d.sx, sy - d.sy) < 4) return;
    d.moved = true;
    if (d.boxSelect)
      setBox({
        x0: Math.min(d.sx, sx),
        y0: Math.min(d.sy, sy),
        x1: Math.max(d.sx, sx),
        y1: Math.max(d.sy, sy),
      });
    else {
      view.current = { ...view.current, x: d.vx + sx - d.sx, y: d.vy + sy - d.sy };
      userMoved.current = true;
      schedule();
    }
  };
  const onPointerUp = (e: PointerEvent<HTMLDivElement>) => {
    const d = drag.current;
    drag.current = null;
    if (!d) return;
    const v = view.current;
    const rect = viewportRef.current!.getBoundingClientRect();
    const sx = e.clientX - rect.left;
    const sy = e.clientY - rect.top;
    if (d.boxSelect && d.moved && box) {
      const g = {
        x0: (box.x0 - v.x) / v.k,
        y0: (box.y0 - v.y) / v.k,
        x1: (box.x1 - v.x) / v.k,
        y1: (box.y1 - v.y) / v.k,
      };
      const keys = [...(latest.current.props.layout?.nodes.values() ?? [])]
        .filter((n) => intersects(n, g))
        .map((n) => n.key);
      setBox(null);
      props.onBoxSelect(keys, d.additive);
      return;
    }
    setBox(null);
    if (d.moved) return;
    // A click on the background; with nodes painted on the canvas, hit-test them.
    if (!latest.current.domNodes && layout) {
      const gx = (sx - v.x) / v.k;
      const gy = (sy - v.y) / v.k;
      for (const n of latest.current.inWindow.nodes)
        if (gx >= n.x && gx <= n.x + n.width && gy >= n.y && gy <= n.y + n.height) {
          props.onNodeClick(n.key, d.additive);
          return;
        }
    }
    props.onBackgroundClick();
  };

  // Nodes are buttons: a click, or Enter/Space on a focused one, opens (shift/ctrl/cmd: adds) it.
  const onClick = (e: MouseEvent<HTMLDivElement>) => {
    const node = (e.target as HTMLElement).closest<HTMLElement>(".asset-node");
    if (node?.dataset.key) props.onNodeClick(node.dataset.key, e.shiftKey || e.metaKey || e.ctrlKey);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if ((e.target as HTMLElement).closest(".asset-node") && (e.key === "Enter" || e.key === " ")) return;
    const step = 60;
    const pan = (dx: number, dy: number) => {
      view.current = { ...view.current, x: view.current.x + dx, y: view.current.y + dy };
      userMoved.current = true;
      schedule();
    };
    const { width, height } = size.current;
    switch (e.key) {
      case "ArrowLeft":
        pan(step, 0);
        break;
      case "ArrowRight":
        pan(-step, 0);
        break;
      case "ArrowUp":
        pan(0, step);
        break;
      case "ArrowDown":
        pan(0, -step);
        break;
      case "+":
      case "=":
        zoomAt(1.25, width / 2, height / 2);
        break;
      case "-":
      case "_":
        zoomAt(0.8, width / 2, height / 2);
        break;
      case "0":
        fit();
        break;
      case "Escape":
        props.onBackgroundClick();
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  const busy = props.layingOut || !layout || paintedLayout !== layout;
  const simple = win?.simple ?? false;
  const nodesByGroup = useMemo(() => {
    const m = new Map<string, typeof inWindow.nodes>();
    if (!domNodes) return m;
    for (const n of inWindow.nodes) {
      getOrInsert(m, n.group, () => []).push(n);
    }
    return m;
  }, [inWindow, domNodes]);

  return (
    <div
      ref={viewportRef}
      className="graph-viewport"
      role="application"
      aria-label="Asset graph"
      aria-roledescription="asset lineage graph"
      aria-describedby="graph-help"
      aria-busy={busy}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: role="application" takes the keyboard (pan, zoom, fit).
      tabIndex={0}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={() => {
        drag.current = null;
        setBox(null);
      }}
      onKeyDown={onKeyDown}
      onClick={onClick}
    >
      <span id="graph-help" className="sr-only">
        Drag or use the arrow keys to pan, the mouse wheel or plus and minus to zoom, 0 to fit. Click an asset
        to open it; shift-click or shift-drag to select several.
      </span>
      {/* biome-ignore lint/a11y/noAriaHiddenOnFocusable: the canvas is not focusable; the DOM nodes carry the semantics. */}
      <canvas ref={canvasRef} className="graph-canvas" aria-hidden="true" />
      <div ref={layerRef} className="graph-layer">
        {inWindow.groups.map((g) =>
          g.collapsed ? (
            <CollapsedGroup
              key={g.name}
              group={g}
              model={model}
              statuses={statuses}
              onToggle={props.onToggleGroup}
            />
          ) : (
            <ExpandedGroup key={g.name} group={g} simple={simple} onToggle={props.onToggleGroup}>
              {(nodesByGroup.get(g.name) ?? []).map((n) => (
                <AssetNode
                  key={n.key}
                  asset={model.assets.get(n.key)!}
                  status={statuses?.[n.key]}
                  x={n.x - g.x}
                  y={n.y - g.y}
                  width={n.width}
                  height={n.height}
                  selected={selected.has(n.key)}
                  dimmed={highlighted !== null && !highlighted.has(n.key)}
                  matched={highlighted === null ? null : highlighted.has(n.key)}
                  simple={simple}
                  descriptionId={`node-desc-${model.index.get(n.key)}`}
                />
              ))}
            </ExpandedGroup>
          ),
        )}
      </div>
      {box && (
        <div
          className="box-select"
          style={{ left: box.x0, top: box.y0, width: box.x1 - box.x0, height: box.y1 - box.y0 }}
          aria-hidden="true"
        />
      )}
    </div>
  );
}

function ExpandedGroup(props: {
  group: GroupBox;
  simple: boolean;
  onToggle(name: string): void;
  children: React.ReactNode;
}) {
  const g = props.group;
  return (
    // biome-ignore lint/a11y/useSemanticElements: a fieldset is for forms; this is a group of graph nodes.
    <section
      className="group-box"
      role="group"
      aria-label={g.name}
      style={{ left: g.x, top: g.y, width: g.width, height: g.height }}
    >
      <div className="group-header" data-simple={props.simple || undefined}>
        <span className="group-name">{g.name}</span>
        <span className="group-count">
          {g.count} {g.count === 1 ? "asset" : "assets"}
        </span>
        <button
          type="button"
          className="ghost small"
          aria-label={`Collapse group ${g.name}`}
          onClick={() => props.onToggle(g.name)}
        >
          Collapse
        </button>
      </div>
      {props.children}
    </section>
  );
}

function CollapsedGroup(props: {
  group: GroupBox;
  model: GraphModel;
  statuses: GraphStatus["assets"] | undefined;
  onToggle(name: string): void;
}) {
  const g = props.group;
  const counts = new Map<string, number>();
  for (const key of props.model.groups.get(g.name) ?? []) {
    const s = props.statuses?.[key]?.status ?? "missing";
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  const summary = [...counts.entries()].map(
    ([s, n]) => `${n} ${STATUS_WORDS[s as keyof typeof STATUS_WORDS] ?? s}`,
  );
  return (
    <button
      type="button"
      className="group-collapsed"
      aria-label={g.name}
      aria-describedby={`group-desc-${g.name}`}
      style={{ left: g.x, top: g.y, width: g.width, height: g.height }}
      onClick={() => props.onToggle(g.name)}
      onKeyDown={(e) => e.stopPropagation()}
    >
      <span id={`group-desc-${g.name}`} className="sr-only">
        {`collapsed group of ${g.count} assets: ${summary.join(", ")}; press Enter to expand`}
      </span>
      <span className="group-name" aria-hidden="true">
        {g.name}
      </span>
      <span className="group-count" aria-hidden="true">
        {g.count} {g.count === 1 ? "asset" : "assets"}
      </span>
      <span className="group-summary" aria-hidden="true">
        {[...counts.entries()].map(([s, n]) => (
          <span key={s} className="group-pill" style={{ color: `var(--st-${s})` }}>
            ● {n}
          </span>
        ))}
      </span>
    </button>
  );
}
