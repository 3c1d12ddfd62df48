/**
 * Merging a fresh first page of runs into the pages already loaded (the runs list re-reads its first
 * page every few seconds: a queued run makes no event). Pure, unit-tested in merge-head.test.ts.
 */
import type { Run, RunsPage } from "@baton/webserver/api-types";

export interface Pages {
  readonly pages: readonly RunsPage[];
  readonly pageParams: readonly unknown[];
}

const same = (a: Run, b: Run) =>
  a.status === b.status &&
  a.startedAt === b.startedAt &&
  a.endedAt === b.endedAt &&
  a.cancelRequested === b.cancelRequested;

/**
 * The loaded pages with `fresh` (a new read of the first page) in front: new runs are prepended,
 * changed runs replaced, runs that left the filter dropped, later pages and their cursors kept.
 * `"unchanged"` when nothing differs (no re-render); `"refetch"` when the fresh page does not reach
 * back to a run already loaded on the first page (a gap could hide runs: read everything again).
 */
export function mergeHead(old: Pages | undefined, fresh: RunsPage): Pages | "unchanged" | "refetch" {
  if (!old || old.pages.length === 0) return "refetch";
  const first = old.pages[0]!;
  if (fresh.nextCursor === null) {
    // The fresh page holds every matching run.
    if (old.pages.length === 1 && first.nextCursor === null && sameList(first.runs, fresh.runs))
      return "unchanged";
    return { pages: [fresh], pageParams: [old.pageParams[0]] };
  }
  const oldest = fresh.runs[fresh.runs.length - 1];
  const at = oldest ? first.runs.findIndex((r) => r.runId === oldest.runId) : -1;
  if (at < 0) return "refetch";
  const head = first.runs.slice(0, at + 1);
  if (sameList(head, fresh.runs)) return "unchanged";
  const merged: RunsPage = {
    runs: [...fresh.runs, ...first.runs.slice(at + 1)],
    nextCursor: first.nextCursor,
  };
  return { pages: [merged, ...old.pages.slice(1)], pageParams: old.pageParams };
}

function sameList(a: readonly Run[], b: readonly Run[]) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.runId !== b[i]!.runId || !same(a[i]!, b[i]!)) return false;
  return true;
}

/** Every loaded run once (a run can move between pages while they are re-read). */
export function flattenRuns(pages: readonly RunsPage[] | undefined): Run[] {
  if (!pages) return [];
  if (pages.length === 1) return pages[0]!.runs as Run[];
  const seen = new Set<string>();
  const out: Run[] = [];
  for (const p of pages)
    for (const r of p.runs) {
      if (seen.has(r.runId)) continue;
      seen.add(r.runId);
      out.push(r);
    }
  return out;
}
