import type { PartitionKeys, PartitionStatus } from "@baton/webserver/api-types";
import { type QueryClient, useQuery, useQueryClient } from "@tanstack/react-query";
import {
  type KeyboardEvent,
  type MouseEvent,
  useEffect,
  useId,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import { api, keySegment } from "../../api/client";
import { usePartitionStatus } from "../../api/queries";
import { ErrorBox } from "../../components/ErrorBox";
import {
  indexAtX,
  multiKeyAt,
  PARTITION_STATES,
  type PartitionState,
  rangeAt,
  rangesToGridRects,
  rangesToSegments,
  STATE_WORDS,
} from "./partition-segments";
import { useCssVars } from "./theme";

const BAR_HEIGHT = 32;
const MAX_GRID_HEIGHT = 420;
const MAX_ROW_HEIGHT = 14;
const MAX_CELL_WIDTH = 96;
const ROW_LABEL_WIDTH = 84;

const COLOR_VARS = [
  "--st-materialized",
  "--st-failed",
  "--st-running",
  "--st-missing",
  "--surface",
  "--text",
  "--accent",
] as const;
const STATE_VAR: Record<PartitionState, (typeof COLOR_VARS)[number]> = {
  materialized: "--st-materialized",
  failed: "--st-failed",
  in_progress: "--st-running",
  missing: "--st-missing",
};
const numberFormat = new Intl.NumberFormat();

/** The key of the partition at `index` (one key of /partition-keys, cached like the other asset queries). */
const keyAtQuery = (assetKey: string, index: number) => ({
  queryKey: ["asset", assetKey, "partition-key-at", index] as const,
  queryFn: ({ signal }: { signal: AbortSignal }) =>
    api<PartitionKeys>(`/api/assets/${keySegment(assetKey)}/partition-keys`, {
      signal,
      query: { offset: index, limit: 1 },
    }).then((p) => p.keys[0] ?? null),
  staleTime: 60_000,
});

/** The key at `index` when the answer already says it (a range's first/last key, or multi dimension keys). */
function knownKeyAt(data: PartitionStatus, index: number): string | null {
  if (data.dimensions) {
    const key = multiKeyAt(index, data.dimensions);
    if (key !== null) return key;
  }
  const r = rangeAt(data.ranges, index);
  if (r?.start === index) return r.startKey;
  if (r?.end === index) return r.endKey;
  return null;
}

async function keyAt(client: QueryClient, assetKey: string, data: PartitionStatus, index: number) {
  return knownKeyAt(data, index) ?? (await client.fetchQuery(keyAtQuery(assetKey, index)));
}

/** The index of a key when the answer can tell (multi dimension keys, or a range boundary). */
export function indexOfKey(data: PartitionStatus, key: string): number | null {
  if (data.dimensions?.every((d) => d.keys)) {
    const parts = key.split("|");
    if (parts.length !== data.dimensions.length) return null;
    let index = 0;
    for (let d = 0; d < parts.length; d++) {
      const i = data.dimensions[d]!.keys!.indexOf(parts[d]!);
      if (i < 0) return null;
      index = index * data.dimensions[d]!.size + i;
    }
    return index;
  }
  for (const r of data.ranges) {
    if (r.startKey === key) return r.start;
    if (r.endKey === key) return r.end;
  }
  return null;
}

/** Look a key's index up by listing keys (up to this many partitions; larger spaces show no mark). */
const LOOKUP_UP_TO = 5000;

/** The index of `key`: from the answer when it can tell, else by listing the keys of a small space. */
function useIndexOfKey(assetKey: string, data: PartitionStatus, key: string | null): number | null {
  const known = key === null ? null : indexOfKey(data, key);
  const lookup = useQuery({
    queryKey: ["asset", assetKey, "partition-index", key] as const,
    queryFn: async ({ signal }) => {
      for (let offset = 0; offset < Math.min(data.total, LOOKUP_UP_TO); offset += 1000) {
        const page = await api<PartitionKeys>(`/api/assets/${keySegment(assetKey)}/partition-keys`, {
          signal,
          query: { offset, limit: 1000 },
        });
        const i = page.keys.indexOf(key!);
        if (i >= 0) return offset + i;
        if (page.keys.length < 1000) break;
      }
      return -1;
    },
    enabled: key !== null && known === null && data.total <= LOOKUP_UP_TO,
    staleTime: 60_000,
  });
  if (known !== null) return known;
  return lookup.data !== undefined && lookup.data >= 0 ? lookup.data : null;
}

interface Geometry {
  readonly grid: boolean;
  readonly rows: number;
  readonly cols: number;
  readonly cellW: number;
  readonly rowH: number;
  readonly width: number;
  readonly height: number;
}

function geometry(data: PartitionStatus, available: number): Geometry {
  const dims = data.dimensions;
  if (!dims || dims.length < 2 || data.total === 0) {
    return {
      grid: false,
      rows: 1,
      cols: data.total,
      cellW: 0,
      rowH: BAR_HEIGHT,
      width: available,
      height: BAR_HEIGHT,
    };
  }
  const rows = dims[0]!.size;
  const cols = Math.max(1, Math.round(data.total / Math.max(1, rows)));
  const usable = Math.max(40, available - ROW_LABEL_WIDTH);
  const cellW = Math.min(MAX_CELL_WIDTH, usable / cols);
  const rowH = Math.min(MAX_ROW_HEIGHT, MAX_GRID_HEIGHT / Math.max(1, rows));
  return { grid: true, rows, cols, cellW, rowH, width: cellW * cols, height: rowH * rows };
}

function paint(
  canvas: HTMLCanvasElement,
  data: PartitionStatus,
  g: Geometry,
  colors: Record<(typeof COLOR_VARS)[number], string>,
  marks: { index: number; color: string }[],
) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(g.width * dpr));
  const h = Math.max(1, Math.round(g.height * dpr));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, w, h);
  if (!g.grid) {
    // Device pixels: one rectangle per run of pixels of one status.
    for (const s of rangesToSegments(data.ranges, data.total, w)) {
      ctx.fillStyle = colors[STATE_VAR[s.status]];
      ctx.fillRect(s.x, 0, s.width, h);
    }
    ctx.scale(dpr, dpr);
    for (const m of marks) {
      const x = Math.min(g.width - 2, (m.index / data.total) * g.width);
      const wMark = Math.max(2, g.width / data.total);
      ctx.strokeStyle = m.color;
      ctx.lineWidth = 2;
      ctx.strokeRect(x, 1, Math.min(wMark, g.width - x - 1), g.height - 2);
    }
    return;
  }
  ctx.scale(dpr, dpr);
  for (const r of rangesToGridRects(data.ranges, g.cols)) {
    ctx.fillStyle = colors[STATE_VAR[r.status]];
    ctx.fillRect(r.col * g.cellW, r.row * g.rowH, r.cols * g.cellW, r.rows * g.rowH);
  }
  // Cell borders in the card's colour when cells are big enough to tell apart.
  ctx.fillStyle = colors["--surface"];
  if (g.cellW >= 6) for (let c = 1; c < g.cols; c++) ctx.fillRect(c * g.cellW - 1, 0, 2, g.height);
  if (g.rowH >= 6) for (let r = 1; r < g.rows; r++) ctx.fillRect(0, r * g.rowH - 0.5, g.width, 1);
  for (const m of marks) {
    const row = Math.floor(m.index / g.cols);
    const col = m.index % g.cols;
    ctx.strokeStyle = m.color;
    ctx.lineWidth = 2;
    ctx.strokeRect(col * g.cellW + 1, row * g.rowH + 1, Math.max(2, g.cellW - 2), Math.max(2, g.rowH - 2));
  }
}

export function PartitionHealth(props: {
  assetKey: string;
  selected: string | null;
  onSelect(key: string): void;
}) {
  const { assetKey } = props;
  const status = usePartitionStatus(assetKey);
  const data = status.data?.assetKey === assetKey ? status.data : undefined;
  if (status.isError)
    return (
      <figure className="partition-health" aria-label="Partition health" aria-busy="false">
        <ErrorBox error={status.error} title="Could not load the partition status" />
      </figure>
    );
  if (!data)
    return (
      <figure className="partition-health" aria-label="Partition health" aria-busy="true">
        <div className="ph-placeholder muted">Loading partitions…</div>
      </figure>
    );
  return <PartitionCanvas key={assetKey} {...props} data={data} />;
}

function PartitionCanvas(props: {
  assetKey: string;
  data: PartitionStatus;
  selected: string | null;
  onSelect(key: string): void;
}) {
  const { assetKey, data } = props;
  const client = useQueryClient();
  const colors = useCssVars(COLOR_VARS);
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  const [painted, setPainted] = useState<PartitionStatus | null>(null);
  const [hover, setHover] = useState<{ index: number; x: number; y: number } | null>(null);
  const [cursor, setCursor] = useState<number | null>(null);
  const [pickedIndex, setPickedIndex] = useState<{ key: string; index: number } | null>(null);
  const summaryId = useId();
  const g = useMemo(() => geometry(data, width), [data, width]);
  const looked = useIndexOfKey(assetKey, data, pickedIndex?.key === props.selected ? null : props.selected);
  const selectedIndex =
    props.selected === null ? null : pickedIndex?.key === props.selected ? pickedIndex.index : looked;

  // Measure before the first paint, then follow the container's width.
  useLayoutEffect(() => {
    const el = wrapRef.current;
    if (!el) return;
    setWidth(el.getBoundingClientRect().width);
    const ro = new ResizeObserver((entries) => setWidth(entries[0]!.contentRect.width));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useLayoutEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || width <= 0) return;
    const marks: { index: number; color: string }[] = [];
    if (selectedIndex !== null) marks.push({ index: selectedIndex, color: colors["--text"] });
    if (cursor !== null && cursor !== selectedIndex) marks.push({ index: cursor, color: colors["--accent"] });
    paint(canvas, data, g, colors, marks);
    setPainted(data);
  }, [data, g, colors, width, selectedIndex, cursor]);

  const pointIndex = (e: MouseEvent<HTMLCanvasElement>): number | null => {
    const rect = e.currentTarget.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    if (!g.grid) return indexAtX(x, data.total, rect.width);
    const row = Math.floor(y / g.rowH);
    const col = Math.floor(x / g.cellW);
    if (row < 0 || col < 0 || row >= g.rows || col >= g.cols) return null;
    const index = row * g.cols + col;
    return index < data.total ? index : null;
  };

  const select = async (index: number) => {
    const key = await keyAt(client, assetKey, data, index);
    if (key !== null) {
      setPickedIndex({ key, index });
      props.onSelect(key);
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLCanvasElement>) => {
    const at = cursor ?? selectedIndex ?? 0;
    const last = data.total - 1;
    const range = rangeAt(data.ranges, at);
    const step = g.grid ? g.cols : Math.max(1, Math.round(data.total / 100));
    const moves: Record<string, number> = {
      ArrowRight: at + 1,
      ArrowLeft: at - 1,
      ArrowDown: at + step,
      ArrowUp: at - step,
      Home: 0,
      End: last,
      PageDown: range ? range.end + 1 : at,
      PageUp: range && range.start > 0 ? (rangeAt(data.ranges, range.start - 1)?.start ?? 0) : 0,
    };
    if (e.key in moves) {
      e.preventDefault();
      setCursor(Math.max(0, Math.min(last, moves[e.key]!)));
    } else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      void select(at);
    }
  };

  const shown = hover?.index ?? cursor;
  const c = data.counts;
  const summary = `${numberFormat.format(data.total)} partitions: ${numberFormat.format(c.materialized)} materialized, ${numberFormat.format(c.failed)} failed, ${numberFormat.format(c.in_progress)} in progress, ${numberFormat.format(c.missing)} missing.`;
  const rowLabelEvery = g.grid ? Math.ceil(13 / g.rowH) : 1;
  const dims = data.dimensions;
  const colKeys = g.grid && dims?.length === 2 && g.cellW >= 28 ? dims[1]!.keys : undefined;

  return (
    <div className="partition-health-wrap">
      <ul className="ph-legend" aria-label="Partition counts">
        {PARTITION_STATES.map((s) => (
          <li key={s}>
            <span className="ph-swatch" style={{ background: `var(${STATE_VAR[s]})` }} aria-hidden="true" />
            {STATE_WORDS[s]} <strong>{numberFormat.format(data.counts[s])}</strong>
          </li>
        ))}
        <li className="muted">of {numberFormat.format(data.total)}</li>
      </ul>
      <figure
        className="partition-health"
        aria-label="Partition health"
        aria-busy={painted === data || data.total === 0 ? "false" : "true"}
        aria-describedby={summaryId}
        ref={wrapRef}
      >
        {data.total === 0 ? (
          <p className="muted">
            This asset has no partitions yet{dims ? "" : " (add keys to its dynamic partitions)"}.
          </p>
        ) : (
          <div
            className={g.grid ? "ph-grid" : "ph-bar"}
            style={g.grid ? { paddingLeft: ROW_LABEL_WIDTH } : undefined}
          >
            {colKeys && (
              <div className="ph-col-labels" style={{ width: g.width }} aria-hidden="true">
                {colKeys.map((k) => (
                  <span key={k} style={{ width: g.cellW }} title={k}>
                    {k}
                  </span>
                ))}
              </div>
            )}
            <div className="ph-canvas-box" style={{ width: g.width, height: g.height }}>
              {g.grid && (
                <div className="ph-row-labels" aria-hidden="true" style={{ width: ROW_LABEL_WIDTH }}>
                  {dims![0]!.keys?.map((k, i) =>
                    i % rowLabelEvery === 0 ? (
                      <span key={k} style={{ top: i * g.rowH + g.rowH / 2 }}>
                        {k}
                      </span>
                    ) : null,
                  )}
                </div>
              )}
              <canvas
                ref={canvasRef}
                style={{ width: g.width, height: g.height }}
                tabIndex={0}
                role="slider"
                aria-label="Partitions (arrow keys move, Enter opens the partition)"
                aria-valuemin={0}
                aria-valuemax={Math.max(0, data.total - 1)}
                aria-valuenow={cursor ?? selectedIndex ?? 0}
                aria-valuetext={describeIndex(data, cursor ?? selectedIndex ?? 0, knownKeyAt)}
                onMouseMove={(e) => {
                  const index = pointIndex(e);
                  const rect = e.currentTarget.getBoundingClientRect();
                  setHover(
                    index === null ? null : { index, x: e.clientX - rect.left, y: e.clientY - rect.top },
                  );
                }}
                onMouseLeave={() => setHover(null)}
                onClick={(e) => {
                  const index = pointIndex(e);
                  if (index !== null) {
                    setCursor(index);
                    void select(index);
                  }
                }}
                onKeyDown={onKeyDown}
                onFocus={() => setCursor((c) => c ?? selectedIndex ?? 0)}
                onBlur={() => setCursor(null)}
              />
              {hover && (
                <div
                  className="ph-tooltip"
                  style={{
                    left: Math.min(hover.x + 12, Math.max(0, g.width - 220)),
                    top: hover.y + 16,
                  }}
                >
                  <Readout assetKey={assetKey} data={data} index={hover.index} />
                </div>
              )}
            </div>
            {!g.grid && (
              <div className="ph-ends muted small" aria-hidden="true">
                <span>{data.ranges[0]?.startKey}</span>
                <span>{data.ranges.at(-1)?.endKey}</span>
              </div>
            )}
          </div>
        )}
        <p id={summaryId} className="sr-only">
          {summary}
        </p>
      </figure>
      <div className="ph-readout small" aria-live="polite">
        {shown !== null && shown !== undefined ? (
          <Readout assetKey={assetKey} data={data} index={shown} />
        ) : (
          <span className="muted">
            Hover a partition to see it; click it (or focus the {g.grid ? "grid" : "bar"} and use the arrow
            keys and Enter) to open it.
          </span>
        )}
      </div>
    </div>
  );
}

function describeIndex(
  data: PartitionStatus,
  index: number,
  known: (d: PartitionStatus, i: number) => string | null,
): string {
  const r = rangeAt(data.ranges, index);
  const key =
    known(data, index) ?? `partition ${numberFormat.format(index + 1)} of ${numberFormat.format(data.total)}`;
  return `${key}: ${r ? STATE_WORDS[r.status] : "unknown"}`;
}

/** Key and status of one partition, with the run of partitions of that status it belongs to. */
function Readout(props: { assetKey: string; data: PartitionStatus; index: number }) {
  const { data, index } = props;
  const known = knownKeyAt(data, index);
  // Ask for a key only once the pointer rests on it (sweeping a bar is not a request per pixel).
  const [resting, setResting] = useState<number | null>(null);
  useEffect(() => {
    if (known !== null) return;
    const t = setTimeout(() => setResting(index), 150);
    return () => clearTimeout(t);
  }, [index, known]);
  const fetched = useQuery({
    ...keyAtQuery(props.assetKey, index),
    enabled: known === null && resting === index,
  });
  const key = known ?? fetched.data ?? "…";
  const r = rangeAt(data.ranges, index);
  const size = r ? r.end - r.start + 1 : 0;
  return (
    <span className="ph-readout-line">
      <strong className="mono">{key}</strong>
      {r && (
        <>
          <span
            className="ph-swatch"
            style={{ background: `var(${STATE_VAR[r.status]})` }}
            aria-hidden="true"
          />
          {STATE_WORDS[r.status]}
          {size > 1 && (
            <span className="muted ph-run">
              one of {numberFormat.format(size)} {STATE_WORDS[r.status]} in a row ({r.startKey} … {r.endKey})
            </span>
          )}
        </>
      )}
    </span>
  );
}
