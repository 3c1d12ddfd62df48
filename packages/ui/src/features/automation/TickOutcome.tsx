import type { Tick } from "@baton/webserver/api-types";
import { RelativeTime } from "../../components/RelativeTime";
import { StatusPill } from "../runs/StatusPill";
import { type Kind, TICK_STATUS, tickWord } from "./automation-model";
import { LaunchedList } from "./LaunchedList";

type TickLike = Pick<Tick, "status" | "runIds" | "skipReason" | "error" | "timestamp">;

/** A tick's outcome in words (launched N runs, skipped, failed) as a status pill. */
export function TickPill({ tick }: { tick: Pick<Tick, "status" | "runIds"> }) {
  return <StatusPill word={tickWord(tick)} color={TICK_STATUS[tick.status].color} />;
}

/**
 * The latest tick of a schedule or sensor in a table cell: outcome, when, what it launched, and why
 * it skipped or what failed (first line; the detail page shows the message in full).
 */
export function LastTick({ tick, kind, name }: { tick: TickLike | null; kind: Kind; name: string }) {
  if (!tick) return <span className="muted">no tick yet</span>;
  const firstLine = tick.error?.split("\n")[0] ?? "";
  return (
    <div className="last-tick">
      <div className="row">
        <TickPill tick={tick} />
        <span className="muted small">
          <RelativeTime ms={tick.timestamp} />
        </span>
      </div>
      {tick.runIds.length > 0 && <LaunchedList ids={tick.runIds} kind={kind} name={name} />}
      {tick.status === "SKIPPED" && tick.skipReason && <div className="tick-reason">{tick.skipReason}</div>}
      {tick.error && (
        <div className="tick-error" title={tick.error}>
          {firstLine}
          {tick.error.includes("\n") ? " …" : ""}
        </div>
      )}
    </div>
  );
}
