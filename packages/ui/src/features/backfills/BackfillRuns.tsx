import type { BackfillDetail } from "@baton/webserver/api-types";
import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useRef } from "react";
import { Link } from "react-router";
import { describeKeys, RUN_STATUS } from "../runs/run-format";
import { StatusPill } from "../runs/StatusPill";

type BackfillRun = BackfillDetail["runs"][number];

const ROW_HEIGHT = 38;
const COLUMNS = ["Run", "Status", "Partitions", "Assets"] as const;

/** A backfill's runs (up to the 1,000 the API lists) as a virtualized table; run ids are links. */
export function BackfillRuns({ runs }: { runs: readonly BackfillRun[] }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: runs.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  const items = virtualizer.getVirtualItems();
  const padTop = items[0]?.start ?? 0;
  const padBottom = items.length ? virtualizer.getTotalSize() - items[items.length - 1]!.end : 0;
  return (
    <div className="bf-runs-wrap" ref={scrollRef}>
      <table className="bf-runs" aria-label="Runs of this backfill" aria-rowcount={runs.length + 1}>
        <colgroup>
          {COLUMNS.map((c) => (
            <col key={c} className={`col-${c.toLowerCase()}`} />
          ))}
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
          {items.map((item) => (
            <RunRow key={runs[item.index]!.runId} run={runs[item.index]!} rowIndex={item.index + 2} />
          ))}
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

const RunRow = memo(function RunRow({ run, rowIndex }: { run: BackfillRun; rowIndex: number }) {
  const st = RUN_STATUS[run.status];
  return (
    <tr aria-rowindex={rowIndex} style={{ height: ROW_HEIGHT }}>
      <td>
        <Link to={`/runs/${run.runId}`} className="mono" title={run.runId}>
          {run.runId.slice(0, 8)}
        </Link>
      </td>
      <td>
        <StatusPill word={st.word} color={st.color} />
      </td>
      <td className="mono small" title={run.partitionKeys?.join("\n")}>
        {describeKeys(run.partitionKeys)}
      </td>
      <td className="small" title={run.assetKeys.join("\n")}>
        {run.assetKeys.join(", ")}
      </td>
    </tr>
  );
});
