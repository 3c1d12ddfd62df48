/**
 * Each targeted partition key of a backfill coloured by where it stands, read from the backfill's
 * runs (a run carries the keys it covers): as contiguous ranges, never one element per key, so a
 * million keys draw as fast as ten. Pure functions (unit-tested in partition-states.test.ts).
 */
import type { RunStatus } from "@baton/webserver/api-types";

/** A key's state; the order is the drawing order (later ones are painted on top, never hidden). */
export const KEY_STATES = [
  "pending",
  "unknown",
  "notRun",
  "canceled",
  "succeeded",
  "earlier",
  "queued",
  "running",
  "failed",
] as const;
export type KeyState = (typeof KEY_STATES)[number];

export const KEY_STATE_INFO: Record<KeyState, { word: string; color: string; hint: string }> = {
  pending: {
    word: "not yet requested",
    color: "",
    hint: "the daemon launches its run when a slot frees up or its upstream partitions are done",
  },
  unknown: {
    word: "not among the runs listed",
    color: "missing",
    hint: "the page lists the newest 1,000 runs; older runs are in the runs list",
  },
  notRun: {
    word: "not run",
    color: "stale",
    hint: "skipped (an upstream unit failed) or never launched before the backfill ended",
  },
  canceled: { word: "canceled", color: "missing", hint: "its run was canceled" },
  succeeded: { word: "succeeded", color: "materialized", hint: "its run succeeded" },
  earlier: {
    word: "succeeded earlier",
    color: "materialized",
    hint: "already done by the backfill this one retries: not run again",
  },
  queued: { word: "queued", color: "queued", hint: "its run waits for a worker" },
  running: { word: "running", color: "running", hint: "its run is in progress" },
  failed: { word: "failed", color: "failed", hint: "its run failed" },
};

const CODE = new Map<KeyState, number>(KEY_STATES.map((s, i) => [s, i]));

function stateOfRun(status: RunStatus): KeyState {
  switch (status) {
    case "QUEUED":
      return "queued";
    case "STARTING":
    case "STARTED":
    case "CANCELING":
      return "running";
    case "SUCCESS":
      return "succeeded";
    case "FAILURE":
      return "failed";
    case "CANCELED":
      return "canceled";
  }
}

/** When a key has several runs (one per asset group), the one that matters most wins. */
const PRIORITY: Record<KeyState, number> = {
  pending: 0,
  unknown: 0,
  notRun: 0,
  earlier: 1,
  succeeded: 2,
  canceled: 3,
  queued: 4,
  running: 5,
  failed: 6,
};

export interface KeyStatesInput {
  readonly partitionKeys: readonly string[];
  readonly runs: readonly { status: RunStatus; partitionKeys: readonly string[] | null }[];
  /** The backfill ended: a key without a run will not get one. */
  readonly ended: boolean;
  /** More runs exist than were listed: a key without a listed run may have one. */
  readonly moreRuns: boolean;
  /** Keys a backfill this one retries already materialized (not run again). */
  readonly doneEarlier?: ReadonlySet<string>;
}

/**
 * One state code (index into KEY_STATES) per targeted key. The runs' keys (at most a few thousand)
 * are indexed, not the targeted keys (up to a million): one lookup per key.
 */
export function keyStates(input: KeyStatesInput): Uint8Array {
  const { partitionKeys } = input;
  const byKey = new Map<string, KeyState>();
  for (const run of input.runs) {
    const state = stateOfRun(run.status);
    for (const key of run.partitionKeys ?? []) {
      const had = byKey.get(key);
      if (had === undefined || PRIORITY[state] > PRIORITY[had]) byKey.set(key, state);
    }
  }
  const codeOf = new Map<KeyState, number>([...byKey.values()].map((s) => [s, CODE.get(s)!]));
  const none = CODE.get(input.moreRuns ? "unknown" : input.ended ? "notRun" : "pending")!;
  const earlier = CODE.get("earlier")!;
  const doneEarlier = input.doneEarlier && input.doneEarlier.size > 0 ? input.doneEarlier : undefined;
  const out = new Uint8Array(partitionKeys.length);
  for (let i = 0; i < partitionKeys.length; i++) {
    const key = partitionKeys[i]!;
    const state = byKey.size > 0 ? byKey.get(key) : undefined;
    out[i] = state !== undefined ? codeOf.get(state)! : doneEarlier?.has(key) ? earlier : none;
  }
  return out;
}

export interface KeyRange {
  readonly start: number;
  /** Inclusive. */
  readonly end: number;
  readonly state: KeyState;
}

/** Contiguous runs of one state. */
export function keyRanges(states: Uint8Array): KeyRange[] {
  const out: KeyRange[] = [];
  let start = 0;
  for (let i = 1; i <= states.length; i++)
    if (i === states.length || states[i] !== states[start]) {
      out.push({ start, end: i - 1, state: KEY_STATES[states[start]!]! });
      start = i;
    }
  return out;
}

/** How many keys are in each state. */
export function stateCounts(states: Uint8Array): Record<KeyState, number> {
  const n = new Array<number>(KEY_STATES.length).fill(0);
  for (let i = 0; i < states.length; i++) n[states[i]!]!++;
  return Object.fromEntries(KEY_STATES.map((s, i) => [s, n[i]!])) as Record<KeyState, number>;
}

/** Most important first: what a reader scans for. */
export const SUMMARY_ORDER: readonly KeyState[] = [
  "failed",
  "running",
  "queued",
  "succeeded",
  "earlier",
  "canceled",
  "notRun",
  "pending",
  "unknown",
];

const fmt = (n: number) => n.toLocaleString("en");

/** "12 partitions: 1 failed, 1 running, 8 succeeded, 2 not yet requested." */
export function summarize(counts: Record<KeyState, number>, total: number): string {
  const parts = SUMMARY_ORDER.filter((s) => counts[s] > 0).map(
    (s) => `${fmt(counts[s])} ${KEY_STATE_INFO[s].word}`,
  );
  return `${fmt(total)} partition${total === 1 ? "" : "s"}: ${parts.join(", ") || "none"}.`;
}

/** The first `max` keys in a state (e.g. the failed ones, to name them). */
export function keysIn(states: Uint8Array, keys: readonly string[], state: KeyState, max: number): string[] {
  const code = CODE.get(state)!;
  const out: string[] = [];
  for (let i = 0; i < states.length && out.length < max; i++) if (states[i] === code) out.push(keys[i]!);
  return out;
}
