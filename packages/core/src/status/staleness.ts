import type { Definitions } from "../definitions/definitions.js";
import { type KeySpaces, UNPARTITIONED_SPACE } from "../execution/run-partitions.js";
import { syncAssetPartitions } from "../instance/run-partitions-request.js";
import type { PartitionRecord, Storage } from "../storage/storage.js";

export type StaleReason =
  | {
      readonly kind: "missing";
      readonly assetKey: string;
      readonly partition: string | null;
      readonly message: string;
    }
  | {
      readonly kind: "code_version";
      readonly assetKey: string;
      readonly partition: string | null;
      readonly from: string | null;
      readonly to: string;
      readonly message: string;
    }
  | {
      readonly kind: "upstream_newer";
      readonly assetKey: string;
      readonly partition: string | null;
      readonly upstream: string;
      readonly upstreamPartitions: readonly string[];
      readonly message: string;
    }
  | {
      readonly kind: "upstream_stale";
      readonly assetKey: string;
      readonly partition: string | null;
      readonly upstream: string;
      readonly upstreamPartition: string | null;
      readonly causes: readonly StaleReason[];
      readonly message: string;
    };

export interface Staleness {
  readonly assetKey: string;
  readonly partition: string | null;
  readonly status: "fresh" | "stale" | "missing";
  readonly lastMaterialization: {
    readonly eventId: number;
    readonly timestamp: number;
    readonly codeVersion: string | null;
  } | null;
  readonly reasons: readonly StaleReason[];
}

const MAX_DEPTH = 8;
/** Upstream partitions checked per edge (e.g. all 24 hours of a day; bounded for "all partitions"). */
const MAX_UPSTREAM_CHECKED = 1000;
/** Upstream partitions named per reason (the chain stays readable; the count says how many more). */
const MAX_SHOWN = 3;

const label = (assetKey: string, partition: string | null) =>
  partition === null ? assetKey : `${assetKey} [${partition}]`;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Why an asset (partition) is stale: its code version changed since it was materialized, an
 * upstream partition it reads (through the partition mapping) was materialized after it, or an
 * upstream is itself stale — with that upstream's reasons nested. Missing = never materialized.
 */
export function createStalenessResolver(definitions: Definitions, storage: Storage, spaces: KeySpaces) {
  const memo = new Map<string, Promise<Staleness>>();
  const syncs = new Map<string, Promise<void>>();
  const synced = (assetKey: string) => {
    let p = syncs.get(assetKey);
    if (!p) {
      p = syncAssetPartitions(definitions, storage, spaces, assetKey);
      syncs.set(assetKey, p);
    }
    return p;
  };

  async function info(assetKey: string, partition: string | null) {
    if (partition === null) {
      const [s] = await storage.getAssetStatuses([assetKey]);
      const m = s?.lastMaterialization;
      return m ? { eventId: m.eventId, timestamp: m.timestamp, codeVersion: m.codeVersion } : null;
    }
    const [row] = await storage.getPartitions(assetKey, { keys: [partition] });
    return row?.lastMaterialization ?? null;
  }

  async function explain(assetKey: string, partition: string | null, depth: number): Promise<Staleness> {
    const mine = await info(assetKey, partition);
    const node = definitions.graph.asset(assetKey)!;
    if (!mine) {
      return {
        assetKey,
        partition,
        status: "missing",
        lastMaterialization: null,
        reasons: [
          {
            kind: "missing",
            assetKey,
            partition,
            message: `${label(assetKey, partition)} has never been materialized`,
          },
        ],
      };
    }
    const reasons: StaleReason[] = [];
    if (node.codeVersion !== undefined && mine.codeVersion !== node.codeVersion) {
      reasons.push({
        kind: "code_version",
        assetKey,
        partition,
        from: mine.codeVersion,
        to: node.codeVersion,
        message: `code version changed from ${mine.codeVersion === null ? "none" : `"${mine.codeVersion}"`} to "${node.codeVersion}" since ${label(assetKey, partition)} was materialized`,
      });
    }
    const computation = definitions.computationOf(assetKey);
    for (const up of definitions.graph.parents(assetKey)) {
      const upDef = definitions.computationOf(up).partitions;
      let upPartitions: (string | null)[];
      if (!upDef) {
        upPartitions = [null];
        const upInfo = await info(up, null);
        if (upInfo && upInfo.eventId > mine.eventId)
          reasons.push({
            kind: "upstream_newer",
            assetKey,
            partition,
            upstream: up,
            upstreamPartitions: [],
            message: `upstream ${up} was materialized at ${iso(upInfo.timestamp)}, after ${label(assetKey, partition)} (${iso(mine.timestamp)})`,
          });
      } else {
        const mapping = definitions.mappingFor(computation.name, up);
        if (!mapping) continue;
        const downDef = computation.partitions;
        const down = downDef ? spaces.of(downDef) : UNPARTITIONED_SPACE;
        const downIndex = downDef && partition !== null ? down.indexOf(partition) : 0;
        if (downIndex < 0) continue;
        const upSpace = spaces.of(upDef);
        await synced(up);
        // Every mapped upstream partition that exists (bounded), in one query per index range.
        const rows: PartitionRecord[] = [];
        for (const [s, e] of mapping.upstreamOf(downIndex, down, upSpace)) {
          if (rows.length >= MAX_UPSTREAM_CHECKED) break;
          rows.push(
            ...(await storage.getPartitions(up, {
              startIndex: s,
              endIndex: e - 1,
              limit: MAX_UPSTREAM_CHECKED - rows.length,
            })),
          );
        }
        const newer = rows.filter(
          (r) => r.lastMaterialization && r.lastMaterialization.eventId > mine.eventId,
        );
        if (newer.length > 0) {
          const shown = newer.slice(0, MAX_SHOWN).map((r) => r.partitionKey);
          reasons.push({
            kind: "upstream_newer",
            assetKey,
            partition,
            upstream: up,
            upstreamPartitions: newer.map((r) => r.partitionKey),
            message: `upstream ${up} [${shown.join(", ")}${newer.length > MAX_SHOWN ? `, and ${newer.length - MAX_SHOWN} more` : ""}] was materialized after ${label(assetKey, partition)} (${iso(mine.timestamp)})`,
          });
        }
        upPartitions = rows.filter((r) => r.lastMaterialization).map((r) => r.partitionKey);
      }
      if (depth >= MAX_DEPTH) continue;
      const staleUpstreams: Staleness[] = [];
      for (const p of upPartitions) {
        const sub = await staleness(up, p, depth + 1);
        if (sub.status === "stale") staleUpstreams.push(sub);
      }
      staleUpstreams.forEach((sub, i) => {
        if (i >= MAX_SHOWN) return;
        const more =
          i === MAX_SHOWN - 1 && staleUpstreams.length > MAX_SHOWN
            ? ` (and ${staleUpstreams.length - MAX_SHOWN} more stale partitions of ${up})`
            : "";
        reasons.push({
          kind: "upstream_stale",
          assetKey,
          partition,
          upstream: up,
          upstreamPartition: sub.partition,
          causes: sub.reasons,
          message: `upstream ${label(up, sub.partition)} is stale${more}`,
        });
      });
    }
    return {
      assetKey,
      partition,
      status: reasons.length > 0 ? "stale" : "fresh",
      lastMaterialization: mine,
      reasons,
    };
  }

  function staleness(assetKey: string, partition: string | null, depth = 0): Promise<Staleness> {
    const key = `${assetKey}\u0000${partition ?? ""}`;
    let p = memo.get(key);
    if (!p) {
      p = explain(assetKey, partition, depth);
      memo.set(key, p);
    }
    return p;
  }

  return { staleness };
}

/** Render a reason chain as indented lines. */
export function describeReasons(reasons: readonly StaleReason[], indent = "  "): string[] {
  const lines: string[] = [];
  for (const r of reasons) {
    lines.push(`${indent}- ${r.message}`);
    if (r.kind === "upstream_stale") lines.push(...describeReasons(r.causes, `${indent}  `));
  }
  return lines;
}
