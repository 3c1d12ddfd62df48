import type { MetadataSeries } from "@baton/webserver/api-types";
import { useEffect, useId, useLayoutEffect, useRef, useState } from "react";
import type uPlot from "uplot";
import { useMetadataSeries } from "../../api/queries";
import { ErrorBox } from "../../components/ErrorBox";
import { exactTime, RelativeTime } from "../../components/RelativeTime";
import { formatSeriesValue, type SeriesName, seriesColumns, seriesSummary } from "./series";
import { useCssVars } from "./theme";

const CHART_HEIGHT = 220;
const CHART_VARS = ["--text", "--text-3", "--border", "--accent"] as const;

/** uPlot and its CSS load only when a chart is first shown (out of the initial bundle). */
let uplotModule: Promise<typeof uPlot> | null = null;
const loadUplot = () => {
  uplotModule ??= Promise.all([import("uplot"), import("uplot/dist/uPlot.min.css")]).then(([m]) => m.default);
  return uplotModule;
};

/** Numeric metadata (row counts, durations…) over time, one series at a time. */
export function MetadataPlot(props: { assetKey: string; names: readonly SeriesName[] }) {
  const { assetKey, names } = props;
  const [picked, setPicked] = useState<string | null>(null);
  const current = picked && names.some((n) => n.name === picked) ? picked : (names[0]?.name ?? null);
  const type = names.find((n) => n.name === current)?.type;
  const series = useMetadataSeries(assetKey, current);
  const [table, setTable] = useState(false);
  // Fetch uPlot while the series loads, not after.
  useEffect(() => {
    if (names.length > 0) void loadUplot().catch(() => {});
  }, [names.length]);
  const selectId = useId();
  const tableId = useId();
  if (names.length === 0)
    return (
      <p className="muted">
        No numeric metadata in the recent materializations. Return a row count or a number in an asset&apos;s
        metadata to plot it here.
      </p>
    );
  const points = series.data?.name === current ? series.data.points : undefined;
  return (
    <div className="plot">
      <div className="row plot-controls">
        <label htmlFor={selectId}>Metadata series</label>
        <select id={selectId} value={current ?? ""} onChange={(e) => setPicked(e.target.value)}>
          {names.map((n) => (
            <option key={n.name} value={n.name}>
              {n.name}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="ghost small"
          aria-expanded={table}
          aria-controls={tableId}
          onClick={() => setTable((t) => !t)}
          disabled={!points}
        >
          {table ? "Hide data table" : "Show data table"}
        </button>
      </div>
      {series.isError ? (
        <ErrorBox error={series.error} title="Could not load the series" />
      ) : !points || !current ? (
        <div className="plot-chart plot-loading" style={{ height: CHART_HEIGHT }} aria-busy="true">
          <span className="muted">Loading…</span>
        </div>
      ) : points.length === 0 ? (
        <p className="muted">No points for {current} yet.</p>
      ) : (
        <Chart name={current} type={type} points={points} />
      )}
      {table && points && (
        <div id={tableId} className="plot-table-wrap">
          <table className="table">
            <caption className="sr-only">{current} by materialization</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">{current}</th>
                <th scope="col">Partition</th>
              </tr>
            </thead>
            <tbody>
              {[...points].reverse().map((p) => (
                <tr key={`${p.runId}-${p.timestamp}-${p.partition ?? ""}`}>
                  <td>
                    <RelativeTime ms={p.timestamp} />
                  </td>
                  <td className="num">{formatSeriesValue(p.value, type)}</td>
                  <td className="mono">{p.partition ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function Chart(props: { name: string; type: string | undefined; points: MetadataSeries["points"] }) {
  const { name, type, points } = props;
  const boxRef = useRef<HTMLDivElement>(null);
  const colors = useCssVars(CHART_VARS);
  const [width, setWidth] = useState(0);
  const [failed, setFailed] = useState<unknown>(null);
  const [ready, setReady] = useState(false);

  useLayoutEffect(() => {
    const el = boxRef.current;
    if (!el) return;
    setWidth(el.getBoundingClientRect().width);
    const ro = new ResizeObserver((entries) => setWidth(Math.floor(entries[0]!.contentRect.width)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const el = boxRef.current;
    if (!el || width <= 0) return;
    let plot: uPlot | null = null;
    let cancelled = false;
    const fmt = (v: number | null | undefined) =>
      v === null || v === undefined ? "—" : formatSeriesValue(v, type);
    const axis = {
      stroke: colors["--text-3"],
      grid: { stroke: colors["--border"], width: 1 },
      ticks: { stroke: colors["--border"], width: 1 },
    };
    loadUplot()
      .then((UPlot) => {
        if (cancelled) return;
        plot = new UPlot(
          {
            width: Math.floor(width),
            height: CHART_HEIGHT,
            scales: { x: { time: true } },
            axes: [axis, { ...axis, size: 72, values: (_u, vals) => vals.map((v) => fmt(v)) }],
            series: [
              { value: (_u, v) => (v === null ? "—" : exactTime(v * 1000)) },
              {
                label: name,
                stroke: colors["--accent"],
                width: 2,
                points: { show: points.length <= 60, size: 5, fill: colors["--accent"] },
                value: (_u, v) => fmt(v),
              },
            ],
            legend: { show: true },
          },
          seriesColumns(points),
          el,
        );
        setReady(true);
      })
      .catch(setFailed);
    return () => {
      cancelled = true;
      plot?.destroy();
    };
  }, [points, colors, width, name, type]);

  if (failed) return <ErrorBox error={failed} title="The chart could not load" />;
  return (
    <div
      ref={boxRef}
      className="plot-chart"
      role="img"
      aria-label={seriesSummary(name, points, type)}
      aria-busy={ready ? "false" : "true"}
      style={{ minHeight: CHART_HEIGHT }}
    />
  );
}
