import type { GraphModel } from "../model";
import { getCached, putCached } from "./cache";
import { composeLayout, groupJobs, groupLevelJob, layoutGroupLevel } from "./engine";
import type { LayoutPool } from "./pool";
import type { GraphLayout, GroupResult } from "./types";

export interface LayoutStats {
  readonly groupsLaidOut: number;
  readonly groupsFromCache: number;
  readonly ms: number;
}

/**
 * Lay out `model` with `collapsed` groups shown as boxes: each expanded group from the cache or a
 * worker (in parallel), then the group boxes, then composed. Abort to drop an outdated request.
 */
export async function computeLayout(
  model: GraphModel,
  collapsed: ReadonlySet<string>,
  pool: LayoutPool,
  signal: AbortSignal,
): Promise<{ layout: GraphLayout; stats: LayoutStats }> {
  const started = performance.now();
  performance.mark("baton:layout-start");
  const jobs = groupJobs(model);
  const wanted = [...jobs.entries()].filter(([name]) => !collapsed.has(name));
  const cached = await getCached<GroupResult>(wanted.map(([, j]) => j.hash));
  signal.throwIfAborted();
  const results = new Map<string, GroupResult>();
  const fresh = new Map<string, unknown>();
  // Largest first: the slowest jobs start first, so two workers finish together.
  const todo = wanted
    .filter(([, j]) => !cached.has(j.hash))
    .sort(([, a], [, b]) => b.nodes.length - a.nodes.length);
  for (const [name, job] of wanted) if (cached.has(job.hash)) results.set(name, cached.get(job.hash)!);
  await Promise.all(
    todo.map(async ([name, job]) => {
      const r = await pool.group(job, signal);
      results.set(name, r);
      fresh.set(job.hash, r);
    }),
  );
  signal.throwIfAborted();
  // The group boxes: linear time, so on this thread.
  const levelJob = groupLevelJob(model, collapsed, results);
  const level = layoutGroupLevel(levelJob);
  void putCached(fresh);
  performance.mark("baton:layout-done");
  return {
    layout: composeLayout(model, collapsed, results, levelJob, level, jobs),
    stats: {
      groupsLaidOut: todo.length,
      groupsFromCache: wanted.length - todo.length,
      ms: performance.now() - started,
    },
  };
}
