import { z } from "zod";
import { readBatonConfig } from "../cli/load-definitions.js";
import { UsageError } from "../errors.js";
import type { RetentionPolicy } from "./policy.js";

export { type RetentionPolicy, retentionCutoffs } from "./policy.js";

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION = /^(\d+)([smhdw])$/;
export const DURATION_HINT = "a duration such as 12h, 30d or 4w (units s, m, h, d, w)";

/** Milliseconds of "30d", "12h", "4w", "90m", "45s"; undefined when `text` is not one (or is 0). */
export function durationMs(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}

/** A commander argument parser for a duration flag: the error names the flag. */
export function parseDurationFlag(flag: string) {
  return (value: string): number => {
    const ms = durationMs(value);
    if (ms === undefined) throw new UsageError(`${flag} must be ${DURATION_HINT} (got "${value}")`);
    return ms;
  };
}

const duration = z
  .string()
  .refine((s) => durationMs(s) !== undefined, { message: `must be ${DURATION_HINT}` });
const schema = z
  .object({
    events: duration.optional(),
    ticks: duration.optional(),
    automation: duration.optional(),
    every: duration.optional(),
  })
  .strict();

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const key of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * Check a `retention` block (`where` names the file: "/path/baton.config.json"); every problem is
 * reported at once, each naming its field. Undefined when there is no block.
 */
export function parseRetentionConfig(raw: unknown, where: string): RetentionPolicy | undefined {
  if (raw === undefined) return undefined;
  const result = schema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      if (issue.code === "unrecognized_keys")
        return issue.keys
          .map(
            (key) =>
              `${where}: retention.${key} is not a retention setting (events, ticks, automation, every)`,
          )
          .join("\n");
      const field = ["retention", ...issue.path.map(String)].join(".");
      if (issue.path.length === 0)
        return `${where}: retention must be an object such as { "events": "30d", "ticks": "7d", "automation": "7d", "every": "1h" } (got ${JSON.stringify(raw)})`;
      return `${where}: ${field} must be ${DURATION_HINT} (got ${JSON.stringify(valueAt(raw, issue.path))})`;
    });
    throw new UsageError(lines.join("\n"));
  }
  const c = result.data;
  const ms = (s: string | undefined) => (s === undefined ? undefined : durationMs(s));
  const policy: RetentionPolicy = {
    everyMs: ms(c.every) ?? UNIT_MS.h,
    ...(c.events !== undefined ? { eventsMs: ms(c.events)! } : {}),
    ...(c.ticks !== undefined ? { ticksMs: ms(c.ticks)! } : {}),
    ...(c.automation !== undefined ? { automationMs: ms(c.automation)! } : {}),
  };
  if (policy.eventsMs === undefined && policy.ticksMs === undefined && policy.automationMs === undefined)
    throw new UsageError(
      `${where}: retention needs at least one of "events", "ticks", "automation" (e.g. { "events": "30d" })`,
    );
  return policy;
}

/** The retention policy of `cwd`'s baton.config.json (undefined: none configured, nothing purged). */
export function readRetentionConfig(cwd: string): RetentionPolicy | undefined {
  const config = readBatonConfig(cwd);
  if (!config) return undefined;
  return parseRetentionConfig((config.value as { retention?: unknown }).retention, config.file);
}
