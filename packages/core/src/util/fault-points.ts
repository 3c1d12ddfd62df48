/**
 * Fault-injection points, for the fault tests only (tests/faults). A point is a named place in
 * the code where a crash is interesting (a run launched but its cursor not saved yet). When
 * `BATON_FAULT_POINT` names the point, reaching it SIGKILLs this process: no cleanup, no
 * `finally`, no exit handlers, exactly as a power cut or the OOM killer would.
 *
 * - `BATON_FAULT_POINT=NAME`: the point to crash at (unset: every point is a no-op: one string
 *   comparison, nothing else).
 * - `BATON_FAULT_POINT_AFTER=N`: let the first N hits of that point pass, crash at the next one
 *   (default 0: the first hit crashes).
 *
 * Points in the code: `sensor:NAME:launched` (a sensor tick launched runs, its cursor and tick are
 * not saved yet) and `schedule:NAME:launched` (a schedule tick launched its run, the tick and the
 * cursor are not saved yet).
 */

/**
 * Hits per point in this process. Module state on purpose: the point kills the process, so the
 * process is the unit that counts (and without the env variable nothing is ever counted).
 */
const hits = new Map<string, number>();

export const FAULT_POINT_ENV = "BATON_FAULT_POINT";
export const FAULT_POINT_AFTER_ENV = "BATON_FAULT_POINT_AFTER";

function passesAllowed(env: NodeJS.ProcessEnv): number {
  const raw = env[FAULT_POINT_AFTER_ENV];
  if (raw === undefined || raw === "") return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`${FAULT_POINT_AFTER_ENV} must be a whole number >= 0 (got "${raw}")`);
  return n;
}

/** SIGKILL this process when `BATON_FAULT_POINT` is `name` (after `BATON_FAULT_POINT_AFTER` hits). */
export function faultPoint(name: string, env: NodeJS.ProcessEnv = process.env): void {
  if (env[FAULT_POINT_ENV] !== name) return;
  const count = (hits.get(name) ?? 0) + 1;
  hits.set(name, count);
  if (count <= passesAllowed(env)) return;
  process.kill(process.pid, "SIGKILL");
}
