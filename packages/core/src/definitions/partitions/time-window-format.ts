import { fail } from "./time-window-util.js";
import { HOUR_MS, localFromMs, MINUTE_MS, pad2 } from "./zoned-time.js";

export type Token = "YYYY" | "MM" | "DD" | "HH" | "mm";

export const TOKEN_NAMES: Readonly<Record<Token, string>> = {
  YYYY: "year",
  MM: "month",
  DD: "day",
  HH: "hour",
  mm: "minute",
};
export const RESERVED_LETTERS = "YMDHhms";

export type Segment = { readonly token: Token } | { readonly literal: string };

export interface KeyFormat {
  readonly pattern: string;
  readonly segments: readonly Segment[];
  readonly tokens: ReadonlySet<Token>;
  readonly regex: RegExp;
  /** The token of each capture group of `regex`, in order. */
  readonly groups: readonly Token[];
  /** Keys may end with a UTC offset (`-05:00`) marking a repeated local time. */
  readonly offsetSuffix: boolean;
}

export interface ParsedKey {
  year?: number;
  month?: number;
  day?: number;
  hour?: number;
  minute?: number;
  /** From the offset suffix, in ms. */
  offset?: number;
}

export function compileFormat(
  where: string,
  pattern: string,
  required: readonly Token[],
  offsetSuffix: boolean,
): KeyFormat {
  const bad = (why: string): never =>
    fail(
      where,
      `format ${JSON.stringify(pattern)} is not valid: ${why} (tokens: YYYY MM DD HH mm; other characters are literal)`,
    );
  if (pattern === "") bad("it is empty");
  // The same rule as every partition key: usable in paths, URLs and multi-partition keys.
  if (/[|/\\]/.test(pattern)) bad('keys may not contain "|", "/" or "\\"');
  if (pattern.trim() !== pattern) bad("keys may not start or end with spaces");
  const segments: Segment[] = [];
  const tokens = new Set<Token>();
  let literal = "";
  for (let i = 0; i < pattern.length; ) {
    const ch = pattern[i] as string;
    if (!RESERVED_LETTERS.includes(ch)) {
      literal += ch;
      i++;
      continue;
    }
    let j = i;
    while (pattern[j] === ch) j++;
    const run = pattern.slice(i, j);
    if (run.length === 1) {
      // A lone letter is literal ("T", the "h" of "hour=HH"); runs are tokens.
      literal += ch;
      i = j;
      continue;
    }
    if (run !== "YYYY" && run !== "MM" && run !== "DD" && run !== "HH" && run !== "mm")
      bad(`unsupported token ${JSON.stringify(run)}`);
    const token = run as Token;
    if (tokens.has(token)) bad(`token ${token} appears twice`);
    if (literal !== "") segments.push({ literal });
    literal = "";
    segments.push({ token });
    tokens.add(token);
    i = j;
  }
  if (literal !== "") segments.push({ literal });
  const missing = [...new Set(required)].filter((t) => !tokens.has(t));
  if (missing.length > 0)
    bad(
      `keys must identify each window, so it needs ${missing.map((t) => `${t} (${TOKEN_NAMES[t]})`).join(", ")}`,
    );
  const groups: Token[] = [];
  let source = "^";
  for (const s of segments) {
    if ("token" in s) {
      groups.push(s.token);
      source += s.token === "YYYY" ? "(\\d{4})" : "(\\d{2})";
    } else source += s.literal.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
  }
  if (offsetSuffix) source += "(?:([+-])(\\d{2}):(\\d{2}))?";
  source += "$";
  return { pattern, segments, tokens, regex: new RegExp(source), groups, offsetSuffix };
}

export function formatKey(format: KeyFormat, wall: number): string {
  const t = localFromMs(wall);
  let out = "";
  for (const s of format.segments) {
    if ("literal" in s) out += s.literal;
    else if (s.token === "YYYY")
      out += t.year < 0 ? `-${String(-t.year).padStart(4, "0")}` : String(t.year).padStart(4, "0");
    else if (s.token === "MM") out += pad2(t.month);
    else if (s.token === "DD") out += pad2(t.day);
    else if (s.token === "HH") out += pad2(t.hour);
    else out += pad2(t.minute);
  }
  return out;
}

export function parseKey(format: KeyFormat, key: string): ParsedKey | undefined {
  const m = format.regex.exec(key);
  if (m === null) return undefined;
  const parsed: ParsedKey = {};
  format.groups.forEach((token, i) => {
    const value = Number(m[i + 1]);
    if (token === "YYYY") parsed.year = value;
    else if (token === "MM") parsed.month = value;
    else if (token === "DD") parsed.day = value;
    else if (token === "HH") parsed.hour = value;
    else parsed.minute = value;
  });
  const n = format.groups.length;
  const sign = m[n + 1];
  if (sign !== undefined) {
    const hours = Number(m[n + 2]);
    const minutes = Number(m[n + 3]);
    if (minutes > 59) return undefined;
    parsed.offset = (sign === "-" ? -1 : 1) * (hours * HOUR_MS + minutes * MINUTE_MS);
  }
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Option validation
// ---------------------------------------------------------------------------------------------
