/**
 * What the launch dialog sends: the partition picker's state → a run or a backfill body, how many
 * partitions that is, and where an API 400's `field` belongs in the form. Pure functions.
 */

export type Which = "all" | "missing" | "failed" | "stale";

/**
 * A chosen key; `index` is its position in the key space when known (for counting a range),
 * undefined while not looked up yet, null when it cannot be known here (the server counts it).
 */
export interface KeyRef {
  readonly key: string;
  readonly index?: number | null | undefined;
}

/** One dimension of a multi-partitioned asset: a range of its keys or a list of them. */
export type DimensionPick =
  | { readonly kind: "range"; readonly from: number | null; readonly to: number | null }
  | { readonly kind: "list"; readonly keys: readonly string[] };

export interface DimensionInfo {
  readonly name: string;
  /** The dimension's keys in index order. */
  readonly keys: readonly string[];
}

export type PickerState =
  | { readonly mode: "one"; readonly key: KeyRef | null }
  | { readonly mode: "range"; readonly from: KeyRef | null; readonly to: KeyRef | null }
  | { readonly mode: "keys"; readonly keys: readonly string[] }
  | { readonly mode: "which"; readonly which: Which }
  | { readonly mode: "dimensions"; readonly picks: readonly DimensionPick[] };

export type PartitionsBody = { keys: string[] } | { range: { from: string; to: string } } | { which: Which };

export type LaunchTarget =
  | { readonly ok: true; readonly endpoint: "run"; readonly partitions?: { keys: string[] } }
  | { readonly ok: true; readonly endpoint: "backfill"; readonly partitions: PartitionsBody }
  | { readonly ok: false; readonly reason: string };

/** Runs take at most this many keys, backfills this many (packages/webserver/src/schemas.ts). */
export const MAX_RUN_KEYS = 100_000;
export const MAX_BACKFILL_KEYS = 1_000_000;

/** The keys a dimension pick stands for, in the dimension's index order. */
export function dimensionKeys(dim: DimensionInfo, pick: DimensionPick): string[] {
  if (pick.kind === "list") {
    const chosen = new Set(pick.keys);
    return dim.keys.filter((k) => chosen.has(k));
  }
  if (pick.from === null || pick.to === null || pick.to < pick.from) return [];
  return dim.keys.slice(pick.from, pick.to + 1);
}

/** How many keys the dimension picks produce together (their product). */
export function dimensionsCount(dims: readonly DimensionInfo[], picks: readonly DimensionPick[]): number {
  return dims.reduce((n, d, i) => n * dimensionKeys(d, picks[i] ?? { kind: "list", keys: [] }).length, 1);
}

/**
 * Multi-partition keys from one pick per dimension: every combination, joined with `|` in
 * declaration order, row-major (the last dimension varies fastest), as the API orders them.
 */
export function multiKeys(dims: readonly DimensionInfo[], picks: readonly DimensionPick[]): string[] {
  let out = [""];
  dims.forEach((d, i) => {
    const keys = dimensionKeys(d, picks[i] ?? { kind: "list", keys: [] });
    const next: string[] = [];
    for (const prefix of out) for (const k of keys) next.push(i === 0 ? k : `${prefix}|${k}`);
    out = next;
  });
  return dims.length === 0 ? [] : out;
}

/** Why a dimension pick is not usable yet (or undefined). */
function dimensionProblem(dim: DimensionInfo, pick: DimensionPick | undefined): string | undefined {
  if (!pick) return `Choose ${dim.name}.`;
  if (pick.kind === "range") {
    if (pick.from === null || pick.to === null) return `Choose the first and last ${dim.name}.`;
    if (pick.to < pick.from) return `The ${dim.name} range is reversed: "to" comes before "from".`;
    return undefined;
  }
  return pick.keys.length === 0 ? `Choose at least one ${dim.name}.` : undefined;
}

/**
 * The request the picker describes. One key → a run (unless `backfillOnly`: the selection spans
 * partitions definitions, which only a backfill plans); several, a range or a filter → a backfill.
 */
export function launchTarget(
  partitioned: boolean,
  state: PickerState | null,
  dims: readonly DimensionInfo[] = [],
  backfillOnly = false,
): LaunchTarget {
  if (!partitioned) return { ok: true, endpoint: "run" };
  if (!state) return { ok: false, reason: "Choose partitions." };
  const keysTarget = (keys: string[]): LaunchTarget => {
    if (keys.length === 0) return { ok: false, reason: "Choose at least one partition." };
    if (keys.length === 1 && !backfillOnly) return { ok: true, endpoint: "run", partitions: { keys } };
    if (keys.length > MAX_BACKFILL_KEYS)
      return {
        ok: false,
        reason: `${keys.length.toLocaleString("en")} partitions is more than one backfill takes (${MAX_BACKFILL_KEYS.toLocaleString("en")}).`,
      };
    return { ok: true, endpoint: "backfill", partitions: { keys } };
  };
  switch (state.mode) {
    case "one":
      return state.key ? keysTarget([state.key.key]) : { ok: false, reason: "Choose a partition." };
    case "keys":
      return keysTarget([...state.keys]);
    case "range": {
      if (!state.from || !state.to) return { ok: false, reason: "Choose the first and last partition." };
      const [a, b] = [state.from.index, state.to.index];
      if (typeof a === "number" && typeof b === "number" && b < a)
        return {
          ok: false,
          reason: `The range is reversed: "${state.to.key}" comes before "${state.from.key}".`,
        };
      if (state.from.key === state.to.key) return keysTarget([state.from.key]);
      return {
        ok: true,
        endpoint: "backfill",
        partitions: { range: { from: state.from.key, to: state.to.key } },
      };
    }
    case "which":
      return { ok: true, endpoint: "backfill", partitions: { which: state.which } };
    case "dimensions": {
      for (let i = 0; i < dims.length; i++) {
        const problem = dimensionProblem(dims[i]!, state.picks[i]);
        if (problem) return { ok: false, reason: problem };
      }
      const n = dimensionsCount(dims, state.picks);
      if (n > MAX_BACKFILL_KEYS)
        return {
          ok: false,
          reason: `${n.toLocaleString("en")} partitions is more than one backfill takes (${MAX_BACKFILL_KEYS.toLocaleString("en")}).`,
        };
      return keysTarget(multiKeys(dims, state.picks));
    }
  }
}

export interface PartitionCountInputs {
  readonly total?: number | undefined;
  readonly missing?: number | undefined;
  readonly failed?: number | undefined;
}

/**
 * How many partitions the picker stands for, or null when only the server can tell (stale
 * partitions, a range whose ends' positions are unknown).
 */
export function partitionCount(
  state: PickerState | null,
  dims: readonly DimensionInfo[],
  counts: PartitionCountInputs,
): number | null {
  if (!state) return null;
  switch (state.mode) {
    case "one":
      return state.key ? 1 : 0;
    case "keys":
      return new Set(state.keys).size;
    case "range":
      if (!state.from || !state.to) return 0;
      if (state.from.key === state.to.key) return 1;
      if (typeof state.from.index !== "number" || typeof state.to.index !== "number") return null;
      return Math.max(0, state.to.index - state.from.index + 1);
    case "which":
      if (state.which === "all") return counts.total ?? null;
      if (state.which === "missing") return counts.missing ?? null;
      if (state.which === "failed") return counts.failed ?? null;
      return null;
    case "dimensions":
      return dimensionsCount(dims, state.picks);
  }
}

const plural = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString("en")} ${n === 1 ? one : many}`;

/** "1 run of 2 assets", "1 run of taxi/zones for partition 2019-01|yellow", "a backfill of 24 partitions in 24 runs (one run per partition)". */
export function launchSummary(
  target: LaunchTarget,
  assetCount: number,
  count: number | null,
  which?: Which,
  /** The selection spans partitions definitions: each definition's assets run separately. */
  mixed = false,
): string {
  const perRun = mixed ? "one run per partition and partitions definition" : "one run per partition";
  if (!target.ok) return target.reason;
  const assets = plural(assetCount, "asset");
  if (target.endpoint === "run") {
    const key = target.partitions?.keys[0];
    return `1 run of ${assets}${key !== undefined ? ` for partition ${key}` : ""}`;
  }
  if (count === null) {
    const what =
      which === "stale"
        ? "the stale partitions"
        : which === "missing"
          ? "the missing partitions"
          : which === "failed"
            ? "the failed partitions"
            : "the partitions in the range";
    return `a backfill of ${assets} over ${what} (counted when it starts), ${perRun}`;
  }
  if (mixed) return `a backfill of ${assets} over ${plural(count, "partition")} (${perRun})`;
  return `a backfill of ${assets} over ${plural(count, "partition")} in ${plural(count, "run")} (${perRun})`;
}

/** Where an API 400's `field` belongs in the dialog. */
export type ErrorPlace =
  | { readonly area: "config"; readonly step: string; readonly path: string }
  | { readonly area: "partitions"; readonly part: "from" | "to" | "keys" | "any" }
  | { readonly area: "tags" }
  | { readonly area: "top" };

/**
 * `body.config.taxi/raw_trips.landing` → the config field `landing` of step `taxi/raw_trips` (the
 * longest step key that prefixes the path, since asset keys may contain dots); partitions and tags
 * to their controls; anything else (selection, unknown config keys, no field) to the top.
 */
export function placeApiError(field: string | undefined, stepKeys: readonly string[]): ErrorPlace {
  if (!field) return { area: "top" };
  if (field.startsWith("body.config.")) {
    const rest = field.slice("body.config.".length);
    const step = [...stepKeys]
      .sort((a, b) => b.length - a.length)
      .find((k) => rest === k || rest.startsWith(`${k}.`));
    if (step !== undefined) return { area: "config", step, path: rest.slice(step.length + 1) };
    return { area: "top" };
  }
  if (field === "body.partitions.range.from") return { area: "partitions", part: "from" };
  if (field === "body.partitions.range.to") return { area: "partitions", part: "to" };
  if (field.startsWith("body.partitions.keys")) return { area: "partitions", part: "keys" };
  if (field.startsWith("body.partitions")) return { area: "partitions", part: "any" };
  if (field.startsWith("body.tags")) return { area: "tags" };
  return { area: "top" };
}

/**
 * The issues an INVALID_CONFIG message lists (`  - taxi/raw_trips.landing: expected string`), each
 * with its path under the run config; empty when the message lists none.
 */
export function configIssues(message: string): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  for (const line of message.split("\n")) {
    const m = /^\s*- (.+?): (.+)$/.exec(line);
    if (m) out.push({ path: m[1] === "(root)" ? "" : m[1]!, message: m[2]! });
  }
  return out;
}

/** A selection naming exactly these assets (quoted, so any key parses). */
export const selectionOf = (keys: readonly string[]) => keys.map((k) => JSON.stringify(k)).join(", ");

/** Tags from key=value rows: blank rows skipped; a row without a key or a repeated key is an error. */
export function tagsOf(rows: readonly { key: string; value: string }[]): {
  tags: Record<string, string>;
  errors: Record<number, string>;
} {
  const tags: Record<string, string> = {};
  const errors: Record<number, string> = {};
  rows.forEach((r, i) => {
    const key = r.key.trim();
    if (key === "" && r.value.trim() === "") return;
    if (key === "") errors[i] = "A tag needs a key.";
    else if (key in tags) errors[i] = `"${key}" is given twice.`;
    else tags[key] = r.value;
  });
  return { tags, errors };
}

/**
 * The first position whose key is not below `key` (`total` when every key is), in a key space read
 * one key at a time and sorted in index order (time partitions are). A search with `fanout` probes
 * read in parallel per round: ~8 rounds for a million keys (a binary search takes 20 in a row).
 */
export async function lowerBound(
  key: string,
  total: number,
  keyAt: (index: number) => Promise<string | undefined>,
  fanout = 6,
): Promise<number> {
  // Keys before lo are below `key`; keys from hi on are not.
  let lo = 0;
  let hi = total;
  while (lo < hi) {
    const step = Math.max(1, Math.ceil((hi - lo) / fanout));
    const probes: number[] = [];
    for (let p = lo; p < hi; p += step) probes.push(p);
    const keys = await Promise.all(probes.map(keyAt));
    const j = keys.findIndex((k) => k === undefined || k >= key);
    if (j === -1) lo = probes[probes.length - 1]! + 1;
    else {
      hi = probes[j]!;
      if (j > 0) lo = probes[j - 1]! + 1;
    }
  }
  return lo;
}

/**
 * The position of `key` in a sorted key space read one key at a time (see lowerBound); null when
 * the key is not where sorted order puts it (then the space is not sorted, and only the server can
 * count a range).
 */
export async function findKeyIndex(
  key: string,
  total: number,
  keyAt: (index: number) => Promise<string | undefined>,
): Promise<number | null> {
  const i = await lowerBound(key, total, keyAt);
  return i < total && (await keyAt(i)) === key ? i : null;
}
