import type { GraphAssetHeadline } from "@baton/webserver/api-types";

export type AssetHeadline = GraphAssetHeadline;

/** Plain words for each status: shown in legends and in each graph node's accessible description. */
export const STATUS_WORDS: Record<AssetHeadline, string> = {
  materialized: "materialized",
  missing: "missing",
  stale: "stale",
  failed: "failed",
  running: "running",
  queued: "queued",
  check_failed: "check failed",
  overdue: "overdue",
};

/** Legend order: what needs attention first. */
export const STATUS_ORDER: readonly AssetHeadline[] = [
  "running",
  "queued",
  "failed",
  "check_failed",
  "overdue",
  "stale",
  "missing",
  "materialized",
];

export const statusVar = (status: string) => `var(--st-${status})`;
