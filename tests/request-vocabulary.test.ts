/**
 * Validation messages name the words of the surface the request came through: the CLI's flags
 * (`--partition KEY`) or the API's body fields (`partitions.keys`). Every hint the shared request
 * validation gives is checked for both surfaces, and no API message mentions a `--flag`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  asset,
  type BatonInstance,
  dailyPartitions,
  defineDefinitions,
  dynamicPartitions,
  openInstance,
  staticPartitions,
} from "../packages/core/src/index.js";
import { type RequestSurface, VOCABULARY } from "../packages/core/src/instance/run-partitions-request.js";

const defs = defineDefinitions({
  assets: [
    asset({ key: "daily", partitions: dailyPartitions({ start: "2024-01-01", end: "2024-01-04" }) }, () => 1),
    asset({ key: "colors", partitions: staticPartitions(["red", "blue"]) }, () => 1),
    asset({ key: "plain" }, () => 1),
    asset({ key: "regional", partitions: dynamicPartitions({ name: "regions" }) }, () => 1),
  ],
});

let home: string;
let instance: BatonInstance;
beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), "baton-vocabulary-"));
  instance = await openInstance({ home, databaseUrl: undefined, env: {} });
  await instance.createBackfill(defs, { selection: "daily", partitions: { keys: ["2024-01-01"] } });
  await instance.runBackfill(defs, (await instance.storage.listBackfills()).backfills[0]!.backfillId);
});
afterAll(async () => {
  await instance?.close();
  await rm(home, { recursive: true, force: true });
});

async function messageOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected the call to throw");
}

/** Each bad request, as its message reads for each surface. */
const cases: Record<string, [(surface: RequestSurface) => Promise<unknown>, cli: string, api: string]> = {
  "a partitioned selection without partitions": [
    (surface) => instance.launchRun(defs, { selection: "daily", surface }),
    '"daily" is partitioned (YYYY-MM-DD (daily, UTC)): choose partitions with --partition KEY or --from A --to B.',
    '"daily" is partitioned (YYYY-MM-DD (daily, UTC)): choose partitions with partitions.keys (["KEY", …]) or ' +
      'partitions.range ({ "from": "A", "to": "B" }).',
  ],
  "partitions for unpartitioned assets": [
    (surface) => instance.launchRun(defs, { selection: "plain", partitions: { keys: ["x"] }, surface }),
    "A partition was given, but none of the selected assets is partitioned. Drop --partition/--from/--to.",
    "A partition was given, but none of the selected assets is partitioned. Drop the partitions field.",
  ],
  "two partitions definitions in one run": [
    (surface) =>
      instance.launchRun(defs, { selection: "daily, colors", partitions: { keys: ["red"] }, surface }),
    'One run covers assets with one partitions definition, but "daily" and "colors" are partitioned differently. ' +
      "Materialize them separately, or as a backfill (--from/--to), which plans each definition's runs.",
    'One run covers assets with one partitions definition, but "daily" and "colors" are partitioned differently. ' +
      "Materialize them separately, or as a backfill (POST /api/backfills), which plans each definition's runs.",
  ],
  "partitioned and unpartitioned assets in one run": [
    (surface) =>
      instance.launchRun(defs, { selection: "daily, plain", partitions: { keys: ["2024-01-01"] }, surface }),
    'This selection mixes partitioned assets ("daily") with unpartitioned ones ("plain"). ' +
      "Materialize them in separate runs, or as a backfill (--from/--to).",
    'This selection mixes partitioned assets ("daily") with unpartitioned ones ("plain"). ' +
      "Materialize them in separate runs, or as a backfill (POST /api/backfills).",
  ],
  "a backfill of unpartitioned assets": [
    (surface) => instance.createBackfill(defs, { selection: "plain", partitions: { which: "all" }, surface }),
    "None of the selected assets is partitioned: use `baton materialize` without partitions.",
    "None of the selected assets is partitioned: launch a run (POST /api/runs) without partitions.",
  ],
  "a backfill filter that matches nothing": [
    (surface) =>
      instance.createBackfill(defs, { selection: "daily", partitions: { which: "failed" }, surface }),
    'No partitions of "daily" match --partitions failed: nothing to backfill.',
    'No partitions of "daily" match partitions.which "failed": nothing to backfill.',
  ],
  "a key of dynamic partitions that has not been added": [
    (surface) =>
      instance.launchRun(defs, { selection: "regional", partitions: { keys: ["north"] }, surface }),
    'Invalid partition key "north" for "regional": expected a key added to dynamic partitions "regions" ' +
      "(baton partitions add regions KEY); it has no partitions yet",
    'Invalid partition key "north" for "regional": expected a key added to dynamic partitions "regions" ' +
      "(POST /api/partitions/regions/add); it has no partitions yet",
  ],
  "a backfill range end before the first partition (same message on both)": [
    (surface) =>
      instance.createBackfill(defs, {
        selection: "daily",
        partitions: { range: { from: "2023-12-31", to: "2024-01-02" } },
        surface,
      }),
    'Invalid partition key "2023-12-31" for "daily": it is before the first partition; the partitions run from ' +
      '"2024-01-01" to "2024-01-03" (daily, UTC); nearest valid key: "2024-01-01"',
    'Invalid partition key "2023-12-31" for "daily": it is before the first partition; the partitions run from ' +
      '"2024-01-01" to "2024-01-03" (daily, UTC); nearest valid key: "2024-01-01"',
  ],
  "a retry with nothing left to retry": [
    async (surface) =>
      instance.retryBackfill(defs, (await instance.storage.listBackfills()).backfills.at(-1)!.backfillId, {
        surface,
      }),
    "has nothing left to retry; pass --force to run it all again.",
    'has nothing left to retry; send { "force": true } to run it all again.',
  ],
};

describe("request validation speaks the caller's language", () => {
  for (const [name, [call, cli, api]] of Object.entries(cases)) {
    it(`${name}: the CLI names the flag, the API the body field`, async () => {
      const fromCli = await messageOf(() => call("cli"));
      const fromApi = await messageOf(() => call("api"));
      if (name.startsWith("a retry")) {
        expect(fromCli).toMatch(new RegExp(`^Backfill [0-9a-f-]{36} ${escapeRegex(cli)}$`));
        expect(fromApi).toMatch(new RegExp(`^Backfill [0-9a-f-]{36} ${escapeRegex(api)}$`));
      } else {
        expect(fromCli).toBe(cli);
        expect(fromApi).toBe(api);
      }
      expect(fromApi).not.toMatch(/(^|\s|\()--[a-z]/);
      expect(fromApi).not.toMatch(/`baton /);
    });
  }

  it("no word of the API vocabulary mentions a flag", () => {
    for (const word of Object.values(VOCABULARY.api)) {
      const text = typeof word === "function" ? word("all") : word;
      expect(text).not.toMatch(/--[a-z]/);
    }
  });
});

function escapeRegex(text: string) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
