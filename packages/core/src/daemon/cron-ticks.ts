import { CronExpressionParser } from "cron-parser";

/**
 * Cron ticks in (after, until], in order, at most `max` (then `truncated`). DST is cron-parser's:
 * a 02:30 daily tick on a day that skips 02:00–03:00 fires once, at 03:30 (the instant 02:30 of
 * the old offset would have been); a repeated 01:30 fires once, at the first 01:30; an hourly cron
 * has 23 or 25 distinct ticks on those days.
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

/**
 * The ticks in (after, until] worth launching: those within `tolerance` of `until` and at most
 * `catchUp` older ones (ascending); `olderMissed` is the newest tick older than those (when there
 * is one), from where the missed ones can be counted. Searches back from `until` with a doubling
 * window (forward iteration only: cron-parser's prev() skips some DST-shifted ticks).
 */
export function recentCronTicks(
  cron: string,
  timezone: string,
  after: number,
  until: number,
  tolerance: number,
  catchUp: number,
): { ticks: number[]; olderMissed: number | undefined } {
  for (let window = tolerance + 3_600_000; ; window *= 2) {
    const from = Math.max(after, until - window);
    const { ticks } = cronTicksBetween(cron, timezone, from, until, 1_000_000);
    const late = ticks.filter((t) => until - t > tolerance);
    if (late.length > catchUp) {
      const keep = late.length - catchUp;
      return { ticks: ticks.slice(keep), olderMissed: ticks[keep - 1] };
    }
    if (from === after) return { ticks, olderMissed: undefined };
  }
}
