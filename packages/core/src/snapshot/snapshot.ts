import { createHash } from "node:crypto";
import { z } from "zod";
import { describeCondition } from "../definitions/automation-condition.js";
import type { Definitions } from "../definitions/definitions.js";
import { isResourceDefinition } from "../definitions/resource.js";
import type { Storage } from "../storage/storage.js";
import { type PartitionsSpec, partitionsSpec } from "./partitions-spec.js";

export const SNAPSHOT_KEY = "definitions/snapshot";
/** The snapshot's hash alone: readers poll this small value and re-read the snapshot on change. */
export const SNAPSHOT_HASH_KEY = "definitions/snapshot-hash";

/** What the webserver knows of the definitions: plain JSON published by workers and the daemon. */
export interface DefinitionsSnapshot {
  readonly version: 1;
  /** sha256 of the rest: unchanged definitions publish the same hash. */
  readonly hash: string;
  readonly publishedAt: number;
  readonly assets: readonly AssetSnapshot[];
  readonly jobs: readonly { name: string; selection: string; description: string | null }[];
  readonly schedules: readonly {
    name: string;
    cron: string;
    timezone: string;
    target: { job?: string; selection?: string };
    defaultStatus: "RUNNING" | "STOPPED";
    catchUp: number;
    description: string | null;
  }[];
  readonly sensors: readonly {
    name: string;
    type: string;
    target: { job?: string; selection?: string };
    minimumIntervalSeconds: number;
    defaultStatus: "RUNNING" | "STOPPED";
    description: string | null;
  }[];
  /**
   * Names, descriptions and plain config values with secrets masked (keys like password, token,
   * secret, key, credential); a `resource()`'s setup is code, so only its description is shown.
   */
  readonly resources: readonly { name: string; description: string | null; config: unknown }[];
}

export interface AssetSnapshot {
  readonly key: string;
  readonly description: string | null;
  readonly group: string;
  readonly owners: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
  readonly kinds: readonly string[];
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly codeVersion: string | null;
  /** Every direct upstream key (deps and ins). */
  readonly parents: readonly string[];
  /** The step producing it: its name, kind, sibling assets (multi-assets) and subsetting. */
  readonly computation: { name: string; kind: string; assetKeys: readonly string[]; canSubset: boolean };
  readonly partitions: PartitionsSpec | null;
  /** Partition mappings declared with `mapped(...)`, by upstream key: their kind. */
  readonly mappings: Readonly<Record<string, string>>;
  /** The run config's JSON Schema (from the zod schema), or null when it takes none. */
  readonly configSchema: unknown;
  readonly checks: readonly {
    name: string;
    blocking: boolean;
    severity: string;
    description: string | null;
    /** The check's run config JSON Schema, or null. */
    configSchema: unknown;
  }[];
  readonly freshness: { maxLagMinutes: number; cron: string | null; timezone: string | null } | null;
  readonly automation: string | null;
}

const SECRET = /pass|secret|token|credential|auth|private|(^|_)key$|apikey/i;

/** A plain config value as JSON, secrets masked, bounded in depth and size. */
function maskedConfig(value: unknown, depth: number): unknown {
  if (value === null || typeof value === "boolean" || typeof value === "number") return value;
  if (typeof value === "string") return value.length > 200 ? `${value.slice(0, 200)}…` : value;
  if (depth >= 4 || typeof value !== "object") return typeof value === "object" ? "…" : null;
  if (Array.isArray(value)) return value.slice(0, 20).map((v) => maskedConfig(v, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return null; // a client, a class instance
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .slice(0, 50)
      .map(([k, v]) => [
        k,
        SECRET.test(k) && v !== null && v !== undefined ? "***" : maskedConfig(v, depth + 1),
      ]),
  );
}

function jsonSchemaOf(schema: z.ZodType | undefined): unknown {
  if (!schema) return null;
  try {
    // The input side: what callers send (defaults optional). A plain `z.object` takes no other
    // keys: run config refuses them (a typo must not run with the default), so say so here too, and
    // the webserver's copy of the schema refuses them the same way.
    return z.toJSONSchema(schema, {
      unrepresentable: "any",
      io: "input",
      override: (ctx) => {
        const def = (ctx.zodSchema as { _zod?: { def?: { type?: string; catchall?: unknown } } })._zod?.def;
        if (
          def?.type === "object" &&
          def.catchall === undefined &&
          ctx.jsonSchema.additionalProperties === undefined
        )
          ctx.jsonSchema.additionalProperties = false;
      },
    });
  } catch {
    return { description: "this config schema cannot be expressed as JSON Schema" };
  }
}

/** The snapshot of `definitions` (deterministic: same definitions, same hash). */
export function snapshotOf(definitions: Definitions, now = Date.now()): DefinitionsSnapshot {
  const assets: AssetSnapshot[] = definitions.graph.topologicalOrder().map((key) => {
    const node = definitions.graph.asset(key)!;
    const c = node.computation;
    return {
      key,
      description: node.description ?? null,
      group: node.group,
      owners: node.owners,
      tags: node.tags,
      kinds: node.kinds,
      metadata: node.metadata,
      codeVersion: node.codeVersion ?? null,
      parents: node.parents,
      computation: {
        name: c.name,
        kind: c.kind,
        assetKeys: c.specs.map((s) => s.key),
        canSubset: c.canSubset,
      },
      partitions: c.partitions ? partitionsSpec(c.partitions) : null,
      mappings: Object.fromEntries(Object.entries(c.mappings).map(([up, m]) => [up, m.kind])),
      configSchema: jsonSchemaOf(c.config),
      checks: definitions.checksFor(key).map((ch) => ({
        name: ch.name,
        blocking: ch.blocking,
        severity: ch.severity,
        description: ch.description ?? null,
        configSchema: jsonSchemaOf(ch.config),
      })),
      freshness: node.freshness
        ? {
            maxLagMinutes: node.freshness.maxLagMinutes,
            cron: node.freshness.cron ?? null,
            timezone: node.freshness.timezone ?? null,
          }
        : null,
      automation: node.automation ? describeCondition(node.automation) : null,
    };
  });
  const body = {
    version: 1 as const,
    assets,
    jobs: definitions.jobs.map((j) => ({
      name: j.name,
      selection: j.selection,
      description: j.description ?? null,
    })),
    schedules: definitions.schedules.map((s) => ({
      name: s.name,
      cron: s.cron,
      timezone: s.timezone,
      target: { ...s.target },
      defaultStatus: s.defaultStatus,
      catchUp: s.catchUp,
      description: s.description ?? null,
    })),
    sensors: definitions.sensors.map((s) => ({
      name: s.name,
      type: s.type,
      target: { ...s.target },
      minimumIntervalSeconds: s.minimumIntervalSeconds,
      defaultStatus: s.defaultStatus,
      description: s.description ?? null,
    })),
    resources: Object.entries(definitions.resources).map(([name, value]) => ({
      name,
      description: isResourceDefinition(value) ? (value.description ?? null) : null,
      config: isResourceDefinition(value) ? null : maskedConfig(value, 0),
    })),
  };
  const hash = createHash("sha256").update(JSON.stringify(body)).digest("hex");
  return { ...body, hash, publishedAt: now };
}

/** Publish the snapshot for the webserver (skipped when the stored one has the same hash). */
export async function publishSnapshot(storage: Storage, definitions: Definitions, now = Date.now()) {
  const snapshot = snapshotOf(definitions, now);
  const stored = await storage.getValue(SNAPSHOT_KEY);
  if (stored) {
    try {
      if ((JSON.parse(stored) as DefinitionsSnapshot).hash === snapshot.hash) return snapshot;
    } catch {
      // a broken stored value is replaced below
    }
  }
  await storage.setValue(SNAPSHOT_KEY, JSON.stringify(snapshot), now);
  await storage.setValue(SNAPSHOT_HASH_KEY, snapshot.hash, now);
  return snapshot;
}

export async function readSnapshotHash(storage: Storage): Promise<string | undefined> {
  return storage.getValue(SNAPSHOT_HASH_KEY);
}

export async function readSnapshot(storage: Storage): Promise<DefinitionsSnapshot | undefined> {
  const stored = await storage.getValue(SNAPSHOT_KEY);
  if (!stored) return undefined;
  const parsed = JSON.parse(stored) as DefinitionsSnapshot;
  return parsed.version === 1 ? parsed : undefined;
}
