import type { Definitions } from "../definitions/definitions.js";
import type { InputDataVersions } from "../execution/events.js";
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
    /** Its data version (null: unknown). */
    readonly dataVersion: string | null;
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

interface MaterializationInfo {
  readonly eventId: number;
  readonly timestamp: number;
  readonly codeVersion: string | null;
  readonly dataVersion: string | null;
  readonly inputDataVersions: InputDataVersions | null;
}

/**
 * Whether an upstream (partition) changed since `mine` read it: by data version when both the
 * version `mine` recorded reading and the upstream's current one are known ("data_version": they
 * differ), else by materialization order ("newer": materialized after `mine`).
 */
function upstreamChange(
  mine: MaterializationInfo,
  upstream: string,
  partition: string | null,
  current: { readonly eventId: number; readonly dataVersion: string | null },
): "data_version" | "newer" | null {
  const read = mine.inputDataVersions?.[upstream];
  const consumed =
    partition === null
      ? typeof read === "string"
        ? read
        : undefined
      : typeof read === "object"
        ? read[partition]
        : undefined;
  if (consumed !== undefined && current.dataVersion !== null)
    return consumed === current.dataVersion ? null : "data_version";
  return current.eventId > mine.eventId ? "newer" : null;
}

/**
 * Why an asset (partition) is stale: its code version changed since it was materialized, an
 * upstream partition it reads (through the partition mapping) changed since — its data version
 * differs from the one recorded as read, or, when either version is unknown, it was materialized
 * after — or an upstream is itself stale, with that upstream's reasons nested. Missing = never
 * materialized. An upstream re-materialized with the same data version does not make it stale.
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

  async function info(assetKey: string, partition: string | null): Promise<MaterializationInfo | null> {
    const m =
      partition === null
        ? (await storage.getAssetStatuses([assetKey]))[0]?.lastMaterialization
        : (await storage.getPartitions(assetKey, { keys: [partition] }))[0]?.lastMaterialization;
    if (!m) return null;
    return {
      eventId: m.eventId,
      timestamp: m.timestamp,
      codeVersion: m.codeVersion,
      // Records from older stores or other implementations may lack the version fields.
      dataVersion: m.dataVersion ?? null,
      inputDataVersions: m.inputDataVersions ?? null,
    };
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
        const change = upInfo ? upstreamChange(mine, up, null, upInfo) : null;
        if (change)
          reasons.push({
            kind: "upstream_newer",
            assetKey,
            partition,
            upstream: up,
            upstreamPartitions: [],
            message:
              change === "data_version"
                ? `upstream ${up} data version changed since ${label(assetKey, partition)} was materialized (${iso(mine.timestamp)})`
                : `upstream ${up} was materialized at ${iso(upInfo!.timestamp)}, after ${label(assetKey, partition)} (${iso(mine.timestamp)})`,
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
        const changed: string[] = [];
        const newer: string[] = [];
        for (const r of rows) {
          const m = r.lastMaterialization;
          if (!m) continue;
          const change = upstreamChange(mine, up, r.partitionKey, {
            eventId: m.eventId,
            dataVersion: m.dataVersion ?? null,
          });
          if (change === "data_version") changed.push(r.partitionKey);
          else if (change === "newer") newer.push(r.partitionKey);
        }
        const named = (keys: readonly string[]) =>
          `${up} [${keys.slice(0, MAX_SHOWN).join(", ")}${keys.length > MAX_SHOWN ? `, and ${keys.length - MAX_SHOWN} more` : ""}]`;
        if (changed.length > 0)
          reasons.push({
            kind: "upstream_newer",
            assetKey,
            partition,
            upstream: up,
            upstreamPartitions: changed,
            message: `upstream ${named(changed)} data version changed since ${label(assetKey, partition)} was materialized (${iso(mine.timestamp)})`,
          });
        if (newer.length > 0)
          reasons.push({
            kind: "upstream_newer",
            assetKey,
            partition,
            upstream: up,
            upstreamPartitions: newer,
            message: `upstream ${named(newer)} was materialized after ${label(assetKey, partition)} (${iso(mine.timestamp)})`,
          });
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
      lastMaterialization: {
        eventId: mine.eventId,
        timestamp: mine.timestamp,
        codeVersion: mine.codeVersion,
        dataVersion: mine.dataVersion,
      },
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
