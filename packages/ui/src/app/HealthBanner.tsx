import { useRef } from "react";
import { useHealth } from "../api/queries";

/**
 * Workers come and go: on a reload (`baton dev` after an edit, `baton reload`) the old worker exits
 * and its replacement registers a few seconds later. Say that none is running only when none was
 * seen on this page yet, or none for this long (else the warning flashes on every edit).
 */
export const WORKER_GAP_MS = 15_000;

export function workersMissing(running: number, lastSeenAt: number | undefined, now: number): boolean {
  if (running > 0) return false;
  return lastSeenAt === undefined || now - lastSeenAt > WORKER_GAP_MS;
}

/** Says why launched runs would wait: no daemon, no worker, no definitions published yet. */
export function HealthBanner() {
  const { data, error, dataUpdatedAt } = useHealth();
  const workerSeenAt = useRef<number | undefined>(undefined);
  // Kept across re-renders of the same answer (idempotent: the answer's own time).
  if (data && data.workers.length > 0) workerSeenAt.current = dataUpdatedAt;
  if (error)
    return (
      <div className="banner" role="alert">
        <strong>The Baton webserver is not answering.</strong>
        <span>{(error as Error).message}</span>
      </div>
    );
  if (!data) return null;
  const problems: { title: string; detail: string }[] = [];
  if (!data.definitions)
    problems.push({
      title: "No definitions published yet.",
      detail:
        "Start `baton dev`, `baton worker` or `baton daemon`: they load your definitions and publish them here.",
    });
  if (!data.daemon || data.daemon.heartbeatAgeMs > 30_000)
    problems.push({
      title: "No daemon is running:",
      detail: "schedules, sensors, automation and backfills are paused. Start `baton dev` or `baton daemon`.",
    });
  if (workersMissing(data.workers.length, workerSeenAt.current, dataUpdatedAt))
    problems.push({
      title: "No run worker is running:",
      detail: "launched runs wait in the queue until one starts. Start `baton dev` or `baton worker`.",
    });
  if (problems.length === 0) return null;
  return (
    <div className="banner-stack" role="status" aria-label="Deployment health">
      {problems.map((p) => (
        <div className="banner" key={p.title}>
          <strong>{p.title}</strong>
          <span>{p.detail}</span>
        </div>
      ))}
    </div>
  );
}
