import type { Computation } from "../definitions/asset.js";
import type { Definitions } from "../definitions/definitions.js";
import { explainKey } from "../definitions/partitions/explain-key.js";
import type { PartitionKeySpace, PartitionsDefinition } from "../definitions/partitions/partitions.js";
import { BatonError, InvalidPartitionKeyError } from "../errors.js";
import type { ExecutionPlan } from "../execution/plan.js";
import { createKeySpaces, type KeySpaces, type RunPartitions } from "../execution/run-partitions.js";
import type { Storage } from "../storage/storage.js";

/**
 * The surface a request came through. Validation messages that tell the caller what to do name
 * that surface's own words: CLI flags (`--partition KEY`) or API body fields (`partitions.keys`).
 */
export type RequestSurface = "cli" | "api";

/** How each surface spells the ways of choosing partitions (and the other hints messages give). */
export interface RequestVocabulary {
  /** Explicit keys. */
  readonly keys: string;
  /** An inclusive range. */
  readonly range: string;
  /** Every way of choosing partitions (to drop them). */
  readonly anyPartitions: string;
  /** A backfill's filter of all partitions, e.g. `--partitions missing`. */
  readonly which: (filter: string) => string;
  /** How to ask a retry to re-run everything. */
  readonly force: string;
  /** Where to ask for a backfill. */
  readonly backfill: string;
  /** How to run assets that are not partitioned. */
  readonly plainRun: string;
}

export const VOCABULARY: Readonly<Record<RequestSurface, RequestVocabulary>> = {
  cli: {
    keys: "--partition KEY",
    range: "--from A --to B",
    anyPartitions: "--partition/--from/--to",
    which: (filter) => `--partitions ${filter}`,
    force: "pass --force",
    backfill: "as a backfill (--from/--to)",
    plainRun: "use `baton materialize` without partitions",
  },
  api: {
    keys: 'partitions.keys (["KEY", …])',
    range: 'partitions.range ({ "from": "A", "to": "B" })',
    anyPartitions: "the partitions field",
    which: (filter) => `partitions.which "${filter}"`,
    force: 'send { "force": true }',
    backfill: "as a backfill (POST /api/backfills)",
    plainRun: "launch a run (POST /api/runs) without partitions",
  },
};

/** Which partitions a run covers: explicit keys, or an inclusive range. */
export interface PartitionRequest {
  readonly keys?: readonly string[];
  readonly range?: { readonly from: string; readonly to: string };
}

function dynamicNames(def: PartitionsDefinition | undefined, into: Set<string>) {
  if (!def) return;
  if (def.kind === "dynamic") into.add(def.name);
  if (def.kind === "multi") for (const d of Object.values(def.dimensions)) dynamicNames(d, into);
}

/** The names of the dynamic partitions sets the definitions declare (also inside multi partitions). */
export function dynamicPartitionsNames(definitions: Definitions): ReadonlySet<string> {
  const names = new Set<string>();
  for (const c of definitions.computations) dynamicNames(c.partitions, names);
  return names;
}

/** Key spaces for one clock reading, with every dynamic partitions set loaded from the store. */
export async function loadKeySpaces(
  definitions: Definitions,
  storage: Storage,
  now: number,
): Promise<KeySpaces> {
  const names = dynamicPartitionsNames(definitions);
  const keys = new Map<string, readonly string[]>();
  for (const name of names) keys.set(name, await storage.getDynamicPartitions(name));
  return createKeySpaces({ now, dynamicKeys: (name) => keys.get(name) ?? [] });
}

/**
 * Make the stored partition indices of `assetKey` match its current key space (a changed
 * definition, or dynamic keys added/removed) before reading anything by index.
 */
export async function syncAssetPartitions(
  definitions: Definitions,
  storage: Storage,
  spaces: KeySpaces,
  assetKey: string,
): Promise<void> {
  const def = definitions.computationOf(assetKey).partitions;
  if (!def) return;
  const space = spaces.of(def);
  await storage.syncPartitionsDefinition(assetKey, spaces.fingerprintOf(def), (k) => space.indexOf(k));
}

export function validateKey(
  where: string,
  def: PartitionsDefinition,
  space: PartitionKeySpace,
  key: string,
  surface: RequestSurface = "cli",
): number {
  const index = space.indexOf(key);
  if (index < 0) throw new InvalidPartitionKeyError(where, key, explainKey(def, space, key, surface));
  return index;
}

/** The one partitions definition shared by the plan's computations (or undefined). */
export function planPartitions(
  plan: ExecutionPlan,
  surface: RequestSurface = "cli",
): {
  definition: PartitionsDefinition | undefined;
  where: string;
} {
  const words = VOCABULARY[surface];
  const computations = plan.steps.map((s) => s.computation).filter((c): c is Computation => c !== undefined);
  const partitioned = computations.filter((c) => c.partitions);
  if (partitioned.length === 0) return { definition: undefined, where: "" };
  const first = partitioned[0]!;
  const differing = partitioned.find((c) => c.partitions!.fingerprint !== first.partitions!.fingerprint);
  if (differing)
    throw new BatonError(
      "INVALID_SELECTION",
      `One run covers assets with one partitions definition, but "${first.name}" and "${differing.name}" are partitioned differently. ` +
        `Materialize them separately, or ${words.backfill}, which plans each definition's runs.`,
    );
  const unpartitioned = computations.filter((c) => !c.partitions);
  if (unpartitioned.length > 0)
    throw new BatonError(
      "INVALID_SELECTION",
      `This selection mixes partitioned assets ("${first.name}") with unpartitioned ones ("${unpartitioned[0]!.name}"). ` +
        `Materialize them in separate runs, or ${words.backfill}.`,
    );
  return { definition: first.partitions, where: `"${first.name}"` };
}

/** Validate and resolve the request into sorted keys and indices. */
export function resolveRunPartitions(
  plan: ExecutionPlan,
  spaces: KeySpaces,
  request: PartitionRequest | undefined,
  surface: RequestSurface = "cli",
): RunPartitions | undefined {
  const words = VOCABULARY[surface];
  const { definition, where } = planPartitions(plan, surface);
  const asked = request && (request.keys !== undefined || request.range !== undefined);
  if (!definition) {
    if (asked)
      throw new BatonError(
        "INVALID_SELECTION",
        `A partition was given, but none of the selected assets is partitioned. Drop ${words.anyPartitions}.`,
      );
    return undefined;
  }
  const space = spaces.of(definition);
  if (!asked)
    throw new BatonError(
      "INVALID_SELECTION",
      `${where} is partitioned (${definition.describeFormat(surface)}): choose partitions with ${words.keys} or ${words.range}.`,
    );
  let indices: number[];
  if (request.range) {
    const from = validateKey(where, definition, space, request.range.from, surface);
    const to = validateKey(where, definition, space, request.range.to, surface);
    if (to < from)
      throw new BatonError(
        "INVALID_PARTITION",
        `The partition range is reversed: "${request.range.from}" comes after "${request.range.to}".`,
      );
    indices = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  } else {
    const keys = request.keys!;
    if (keys.length === 0)
      throw new BatonError("INVALID_PARTITION", "An empty list of partitions was given.");
    indices = [...new Set(keys.map((k) => validateKey(where, definition, space, k, surface)))].sort(
      (a, b) => a - b,
    );
  }
  return { definition, space, indices, keys: indices.map((i) => space.keyAt(i)) };
}
