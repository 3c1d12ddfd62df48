import { z } from "zod";
import { asset, type Computation } from "../definitions/asset.js";
import { assetCheck, type CheckSeverity } from "../definitions/asset-check.js";
import { type Definitions, defineDefinitions } from "../definitions/definitions.js";
import { assetJob } from "../definitions/job.js";
import { multiAsset } from "../definitions/multi-asset.js";
import {
  allPartitionsMapping,
  identityMapping,
  lastPartitionMapping,
  type PartitionMapping,
} from "../definitions/partitions/mappings.js";
import type { PartitionsDefinition } from "../definitions/partitions/partitions.js";
import { type AssetRef, mapped } from "../definitions/refs.js";
import { BatonError } from "../errors.js";
import { partitionsFromSpec } from "./partitions-spec.js";
import type { AssetSnapshot, DefinitionsSnapshot } from "./snapshot.js";

const notHere = () => {
  throw new BatonError(
    "USAGE_ERROR",
    "This definition was rebuilt from a snapshot (the webserver); it validates and queues runs, run workers execute them.",
  );
};

/** A mapping for validation and planning without user code (exact for identity/all/last). */
function mappingOf(kind: string): PartitionMapping {
  if (kind === "identity") return identityMapping();
  if (kind === "last") return lastPartitionMapping();
  return allPartitionsMapping();
}

function configOf(schema: unknown): z.ZodType | undefined {
  if (schema === null || schema === undefined) return undefined;
  try {
    return z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch {
    return z.unknown();
  }
}

/**
 * Definitions rebuilt from a snapshot: the same graph, selections, partitions, config schemas,
 * checks and jobs as the user's, with bodies that never run. The webserver validates launches and
 * backfills with the very code the CLI uses (one source of truth) without loading user code.
 */
export function definitionsFromSnapshot(snapshot: DefinitionsSnapshot): Definitions {
  const partitions = new Map<string, PartitionsDefinition>();
  const partitionsOf = (a: AssetSnapshot) => {
    if (!a.partitions) return undefined;
    const key = JSON.stringify(a.partitions);
    let def = partitions.get(key);
    if (!def) {
      def = partitionsFromSpec(a.partitions);
      partitions.set(key, def);
    }
    return def;
  };
  const depsOf = (a: AssetSnapshot) =>
    a.parents.map((up) => {
      const kind = a.mappings[up];
      return kind === undefined ? up : mapped({ key: up } as AssetRef<unknown>, mappingOf(kind));
    });
  const computations: Computation[] = [];
  const done = new Set<string>();
  for (const a of snapshot.assets) {
    if (done.has(a.computation.name)) continue;
    done.add(a.computation.name);
    const p = partitionsOf(a);
    const config = configOf(a.configSchema);
    if (a.computation.kind === "multi") {
      const siblings = a.computation.assetKeys.map((k) => snapshot.assets.find((x) => x.key === k)!);
      computations.push(
        multiAsset(
          {
            name: a.computation.name,
            outs: Object.fromEntries(
              siblings.map((s, i) => [
                `out${i}`,
                {
                  key: s.key,
                  group: s.group,
                  owners: s.owners,
                  tags: s.tags,
                  kinds: s.kinds,
                  ...(s.description ? { description: s.description } : {}),
                  ...(s.codeVersion ? { codeVersion: s.codeVersion } : {}),
                  deps: depsOf(s),
                },
              ]),
            ),
            canSubset: a.computation.canSubset,
            ...(p ? { partitions: p } : {}),
            ...(config ? { config } : {}),
          } as never,
          notHere,
        ) as Computation,
      );
      continue;
    }
    computations.push(
      asset(
        {
          key: a.key,
          group: a.group,
          owners: a.owners,
          tags: a.tags,
          kinds: a.kinds,
          ...(a.description ? { description: a.description } : {}),
          ...(a.codeVersion ? { codeVersion: a.codeVersion } : {}),
          deps: depsOf(a),
          ...(p ? { partitions: p } : {}),
          ...(config ? { config } : {}),
          ...(a.freshness
            ? {
                freshness: {
                  maxLagMinutes: a.freshness.maxLagMinutes,
                  ...(a.freshness.cron ? { cron: a.freshness.cron } : {}),
                  ...(a.freshness.timezone ? { timezone: a.freshness.timezone } : {}),
                },
              }
            : {}),
        } as never,
        notHere,
      ) as Computation,
    );
  }
  return defineDefinitions({
    assets: computations,
    checks: snapshot.assets.flatMap((a) =>
      a.checks.map((c) =>
        assetCheck(
          {
            asset: a.key,
            name: c.name,
            blocking: c.blocking,
            severity: c.severity as CheckSeverity,
            ...(c.description ? { description: c.description } : {}),
            ...(configOf(c.configSchema) ? { config: configOf(c.configSchema) } : {}),
          } as never,
          notHere,
        ),
      ),
    ),
    // Resources are not needed to validate (no body runs here); the IO manager names are kept.
    resources: Object.fromEntries(snapshot.resources.map((r) => [r.name, null])),
    jobs: snapshot.jobs.map((j) =>
      assetJob({
        name: j.name,
        selection: j.selection,
        ...(j.description ? { description: j.description } : {}),
      }),
    ),
  });
}
