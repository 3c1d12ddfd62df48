import type { TimeWindowOptions } from "./time-window.js";

import type { CommonOptions } from "./time-window-engines.js";
import { compileFormat, type Token } from "./time-window-format.js";
import {
  canonicalTimeZone,
  isValidLocalDateTime,
  type LocalDateTime,
  localMs,
  MINUTE_MS,
  zonedToEpoch,
} from "./zoned-time.js";

export function fail(where: string, message: string): never {
  throw new Error(`${where}: ${message}`);
}

export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function iso(instant: number): string {
  return new Date(instant).toISOString();
}

export function intOption(where: string, name: string, value: unknown, min: number, max: number): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    fail(where, `${name} ${show(value)} is not valid: expected an integer from ${min} to ${max}`);
  return value;
}

export function validateCommon(
  where: string,
  options: TimeWindowOptions,
  defaultFormat: string,
  required: readonly Token[],
  offsetSuffix: boolean,
): CommonOptions {
  if (typeof options !== "object" || options === null) fail(where, "expected an options object");
  const timezone = options.timezone ?? "UTC";
  const zone = typeof timezone === "string" ? canonicalTimeZone(timezone) : undefined;
  if (zone === undefined)
    fail(where, `timezone ${show(timezone)} is not a known IANA time zone (e.g. "UTC", "America/New_York")`);
  const endOffset = options.endOffset ?? 0;
  if (typeof endOffset !== "number" || !Number.isSafeInteger(endOffset))
    fail(where, `endOffset ${show(endOffset)} is not valid: expected an integer`);
  const formatText = options.format ?? defaultFormat;
  if (typeof formatText !== "string")
    fail(where, `format ${show(formatText)} is not valid: expected a string`);
  const format = compileFormat(where, formatText, required, offsetSuffix);
  if (options.start === undefined) fail(where, "start is required");
  const start = parseInstant(where, "start", options.start, zone);
  const end = options.end === undefined ? undefined : parseInstant(where, "end", options.end, zone);
  if (end !== undefined && end < start)
    fail(where, `end ${show(options.end)} is before start ${show(options.start)}`);
  return { where, timezone, zone, format, start, end, endOffset };
}

export const TIME_INPUT =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:?\d{2})?)?)?)?$/;

/** A `start` / `end` option as epoch ms: a Date, or a local (or offset-qualified) ISO-like string. */
export function parseInstant(where: string, name: string, value: unknown, zone: string): number {
  const bad = (): never =>
    fail(
      where,
      `${name} ${show(value)} is not valid: expected a Date or a string like "2024-01-01", "2024-01" or "2024-03-01T05:00" (local time in ${zone}; append Z or an offset for an absolute instant)`,
    );
  if (value instanceof Date) {
    const t = value.getTime();
    return Number.isNaN(t) ? bad() : t;
  }
  if (typeof value !== "string") return bad();
  const m = TIME_INPUT.exec(value.trim());
  if (m === null) return bad();
  const local: LocalDateTime = {
    year: Number(m[1]),
    month: m[2] === undefined ? 1 : Number(m[2]),
    day: m[3] === undefined ? 1 : Number(m[3]),
    hour: m[4] === undefined ? 0 : Number(m[4]),
    minute: m[5] === undefined ? 0 : Number(m[5]),
    second: m[6] === undefined ? 0 : Number(m[6]),
  };
  if (!isValidLocalDateTime(local)) return bad();
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, "0"));
  const designator = m[8];
  if (designator === undefined) return zonedToEpoch(local, zone, "earlier") + ms;
  if (designator === "Z") return localMs(local) + ms;
  const digits = designator.replace(":", "");
  const offsetMinutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5));
  if (Number(digits.slice(3, 5)) > 59) return bad();
  return localMs(local) + ms - (digits[0] === "-" ? -1 : 1) * offsetMinutes * MINUTE_MS;
}
