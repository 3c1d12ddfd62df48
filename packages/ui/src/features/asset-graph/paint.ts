/** Canvas painting of the asset graph: group boxes, edges and (zoomed out / many nodes) the nodes. */
import type { GraphStatus } from "@baton/webserver/api-types";
import { STATUS_ORDER } from "../../components/status";
import { getOrInsert } from "../../util/maps";
import type { Box, GraphLayout } from "./layout/types";

export interface Palette {
  readonly graphBg: string;
  readonly surface: string;
  readonly border: string;
  readonly groupBg: string;
  readonly groupBorder: string;
  readonly edge: string;
  readonly edgeStrong: string;
  readonly text: string;
  readonly text3: string;
  readonly accent: string;
  readonly status: Readonly<Record<string, string>>;
  readonly font: string;
}

/** The theme's colours, read from the CSS variables (light or dark, following the system). */
export function readPalette(el: Element): Palette {
  const css = getComputedStyle(el);
  const v = (name: string) => css.getPropertyValue(name).trim();
  return {
    graphBg: v("--graph-bg"),
    surface: v("--surface"),
    border: v("--border-strong"),
    groupBg: v("--group-bg"),
    groupBorder: v("--group-border"),
    edge: v("--edge"),
    edgeStrong: v("--edge-strong"),
    text: v("--text"),
    text3: v("--text-3"),
    accent: v("--accent"),
    status: Object.fromEntries(STATUS_ORDER.map((s) => [s, v(`--st-${s}`)])),
    font: css.fontFamily,
  };
}

export interface PaintInput {
  readonly layout: GraphLayout;
  readonly view: { x: number; y: number; k: number };
  readonly dpr: number;
  readonly width: number;
  readonly height: number;
  readonly palette: Palette;
  readonly statuses: GraphStatus["assets"] | undefined;
  readonly highlighted: ReadonlySet<string> | null;
  readonly selected: ReadonlySet<string>;
  /** Paint the nodes too (when there are too many in view for DOM elements). */
  readonly drawNodes: boolean;
}

/** Below this zoom, nodes show only their key, and group names are painted large. */
export const SIMPLE_ZOOM = 0.55;
/** Below this zoom, lineage is drawn between groups rather than between assets. */
export const FAR_ZOOM = 0.12;

const visible = (b: Box, x0: number, y0: number, x1: number, y1: number) =>
  b.x < x1 && b.x + b.width > x0 && b.y < y1 && b.y + b.height > y0;

export function drawGraph(ctx: CanvasRenderingContext2D, input: PaintInput) {
  const { layout, view, dpr, width, height, palette: pal, statuses, highlighted, selected } = input;
  const { x, y, k } = view;
  const x0 = -x / k;
  const y0 = -y / k;
  const x1 = (width - x) / k;
  const y1 = (height - y) / k;
  ctx.setTransform(dpr * k, 0, 0, dpr * k, dpr * x, dpr * y);

  // Group boxes (expanded ones; collapsed groups are DOM elements).
  ctx.lineWidth = 1 / k;
  for (const g of layout.groups.values()) {
    if (g.collapsed || !visible(g, x0, y0, x1, y1)) continue;
    ctx.fillStyle = pal.groupBg;
    ctx.strokeStyle = pal.groupBorder;
    ctx.beginPath();
    ctx.roundRect(g.x, g.y, g.width, g.height, 12);
    ctx.fill();
    ctx.stroke();
  }

  // Edges: one path for the normal ones, one for those touching a selected or matched asset.
  const strong = (key: string) => selected.has(key);
  const plain = new Path2D();
  const marked = new Path2D();
  const curves = k > 0.25;
  // Far out, node-to-node lineage is a hairball: draw it between group boxes instead.
  const edges = k < FAR_ZOOM ? layout.groupEdges : layout.edges;
  for (const e of edges) {
    const a = e.from;
    const b = e.to;
    const ax = a.x + a.width;
    const ay = a.y + a.height / 2;
    const bx = b.x;
    const by = b.y + b.height / 2;
    if (Math.max(ax, bx) < x0 || Math.min(ax, bx) > x1 || Math.max(ay, by) < y0 || Math.min(ay, by) > y1)
      continue;
    const path = strong(e.fromKey) || strong(e.toKey) ? marked : plain;
    path.moveTo(ax, ay);
    if (curves) {
      const dx = Math.max(30, Math.abs(bx - ax) / 2);
      path.bezierCurveTo(ax + dx, ay, bx - dx, by, bx, by);
    } else path.lineTo(bx, by);
  }
  ctx.globalAlpha = highlighted ? 0.35 : 1;
  ctx.strokeStyle = pal.edge;
  ctx.lineWidth = Math.max(1, 1.25 / k);
  if (k < 0.25) ctx.lineWidth = 1 / k;
  ctx.stroke(plain);
  ctx.globalAlpha = 1;
  ctx.strokeStyle = pal.edgeStrong;
  ctx.lineWidth = 2 / k;
  ctx.stroke(marked);

  // Group names, large and readable when zoomed out.
  if (k < SIMPLE_ZOOM) {
    ctx.fillStyle = pal.text;
    ctx.font = `600 ${14 / k}px ${pal.font}`;
    ctx.textBaseline = "top";
    for (const g of layout.groups.values()) {
      if (g.collapsed || !visible(g, x0, y0, x1, y1)) continue;
      ctx.fillText(g.name, g.x + 10 / k, g.y + 8 / k, g.width - 20 / k);
    }
  }

  if (!input.drawNodes) return;
  // Nodes: background, then a status-coloured stripe (one path per colour), then keys when legible.
  const inView = [];
  for (const n of layout.nodes.values()) if (visible(n, x0, y0, x1, y1)) inView.push(n);
  const dimmed = (key: string) => highlighted !== null && !highlighted.has(key);
  const bg = new Path2D();
  const bgDim = new Path2D();
  const stripes = new Map<string, Path2D>();
  const tiny = k < 0.12;
  for (const n of inView) {
    const status = statuses?.[n.key]?.status ?? "missing";
    if (tiny) {
      getOrInsert(stripes, status, () => new Path2D()).rect(n.x, n.y, n.width, n.height);
      continue;
    }
    (dimmed(n.key) ? bgDim : bg).rect(n.x, n.y, n.width, n.height);
    getOrInsert(stripes, status, () => new Path2D()).rect(n.x, n.y, 8, n.height);
  }
  if (!tiny) {
    ctx.fillStyle = pal.surface;
    ctx.fill(bg);
    ctx.strokeStyle = pal.border;
    ctx.lineWidth = 1 / k;
    ctx.stroke(bg);
    ctx.globalAlpha = 0.35;
    ctx.fill(bgDim);
    ctx.globalAlpha = 1;
  }
  for (const [status, p] of stripes) {
    ctx.fillStyle = pal.status[status] ?? pal.text3;
    ctx.fill(p);
  }
  if (selected.size > 0) {
    ctx.strokeStyle = pal.accent;
    ctx.lineWidth = 3 / k;
    for (const n of inView) if (selected.has(n.key)) ctx.strokeRect(n.x, n.y, n.width, n.height);
  }
  if (k >= 0.3 && inView.length < 3000) {
    ctx.fillStyle = pal.text;
    ctx.font = `500 15px ${pal.font}`;
    ctx.textBaseline = "middle";
    for (const n of inView) ctx.fillText(n.key, n.x + 16, n.y + n.height / 2, n.width - 24);
  }
}
