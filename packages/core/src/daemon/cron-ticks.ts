import { CronExpressionParser } from "cron-parser";

/**
 * Cron ticks in (after, until], in order, at most `max` (then `truncated`). DST is cron-parser's:
 * a 02:30 daily tick in a zone that skips 02:00–03:00 fires once at 03:00 that day; a repeated hour
 * fires once. `count` is exact up to `countLimit` (to say how many were missed after downtime).
 */
export function cronTicksBetween(
  cron: string,
  timezone: string,
  after: number,
  until: number,
  max = 1000,
): { ticks: number[]; truncated: boolean } {
  const interval = CronExpressionParser.parse(cron, { tz: timezone, currentDate: new Date(after) });
  const ticks: number[] = [];
  for (;;) {
    const next = interval.next().getTime();
    if (next > until) return { ticks, truncated: false };
    if (next <= after) continue;
    if (ticks.length >= max) return { ticks, truncated: true };
    ticks.push(next);
  }
}

/** The next tick strictly after `after`. */
export function nextCronTick(cron: string, timezone: string, after: number): number {
  return CronExpressionParser.parse(cron, { tz: timezone, currentDate: new Date(after) })
    .next()
    .getTime();
}

/** The latest tick at or before `at`. */
export function previousCronTick(cron: string, timezone: string, at: number): number {
  return CronExpressionParser.parse(cron, { tz: timezone, currentDate: new Date(at + 1) })
    .prev()
    .getTime();
}
