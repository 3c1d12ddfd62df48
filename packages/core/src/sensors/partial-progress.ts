import type { SensorResult } from "../definitions/sensor.js";

/**
 * Marks a sensor evaluation that failed after part of its work went through, with the result of
 * that part (its run requests and a cursor just past it): the tick still fails with the error, but
 * the part is launched and its cursor saved, so the next tick does not do it again. A run-status
 * sensor whose alert for the 2nd run of a page fails keeps the 1st run's delivered alert that way.
 *
 * A symbol-keyed property rather than a class: the sensor may come from another copy of
 * `@baton/core` than the daemon's (a user's install), where `instanceof` would not match.
 */
const PARTIAL = Symbol.for("baton.sensor.partialProgress");

export function withPartialProgress(error: Error, partial: SensorResult): Error {
  return Object.assign(error, { [PARTIAL]: partial });
}

/** The part of the work an evaluation's error says went through, if any. */
export function partialProgressOf(error: unknown): SensorResult | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const partial = (error as { [PARTIAL]?: unknown })[PARTIAL];
  return typeof partial === "object" && partial !== null ? (partial as SensorResult) : undefined;
}
