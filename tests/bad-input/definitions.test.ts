/**
 * Bad definitions: every validation rule of `defineDefinitions` (and of the constructors it
 * relies on) as a row with a minimal definitions file, and definitions files that do not load.
 * Each file is loaded the way users load theirs: `baton asset list --defs FILE` (in this process).
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe } from "vitest";
import { cliHarness, describeResult } from "../support/cli.js";
import { catalogue, cliInProcess, type Row } from "./table.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** Under the repo, so that `@baton/core` and `zod` resolve from the files written here. */
const TMP = path.join(ROOT, "tests/.tmp");
let dir: string;
let home: string;
beforeAll(async () => {
  await mkdir(TMP, { recursive: true });
  dir = await mkdtemp(path.join(TMP, "bad-input-defs-"));
  home = await mkdtemp(path.join(tmpdir(), "baton-bad-input-defs-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  if (home) await rm(home, { recursive: true, force: true });
});

const HEADER = `import {
  allPartitionsMapping, asset, assetCheck, assetJob, dailyPartitions, defineDefinitions,
  dynamicPartitions, eager, graphAsset, hourlyPartitions, identityMapping, input, mapped, monthlyPartitions,
  multiAsset, multiPartitions, multiRunBackfill, onCron, resource, schedule, sensor, singleRunBackfill,
  staticMapping, staticPartitions, timeWindowMapping, timeWindowPartitions,
} from "@baton/core";
const body = async () => 1;
`;

let counter = 0;
/** Write `source` (after the shared imports) to its own file and load it. */
async function load(source: string) {
  const file = path.join(dir, `defs-${++counter}.ts`);
  await writeFile(file, `${HEADER}${source}\n`);
  const answer = await cliInProcess({ args: ["--defs", file, "asset", "list"] }, { cwd: dir, home });
  return { ...answer, message: hideDir(answer.message) };
}

/** The temp folder's name changes every run: show it as DIR (absolute, or relative to this process's cwd). */
const hideDir = (text: string) =>
  text.split(dir).join("DIR").split(path.relative(process.cwd(), dir)).join("DIR");

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** The message of definitions with exactly one problem: where it is, and what. */
const oneProblem = (where: string, message: string) =>
  new RegExp(`^Invalid definitions \\(1 problem\\):\\n {2}- ${esc(where)}: ${esc(message)}$`);
/** A constructor that refuses its options while the file is imported. */
const threw = (message: string) =>
  new RegExp(
    `^Could not load definitions from DIR/defs-(\\d+)\\.ts: importing it threw: DIR/defs-\\1\\.ts:8:\\d+: \\w*Error: ${esc(message)}`,
  );

type DefsRow = Row<string>;

describe("definitions validation rules", () => {
  const rows: DefsRow[] = [
    // Assets and keys.
    {
      name: "not an asset in assets",
      input: "export default defineDefinitions({ assets: [{ key: 'x' } as never] });",
      code: 2,
      message: oneProblem(
        "assets[0]",
        "is not an asset: build it with asset(), graphAsset() or multiAsset()",
      ),
    },
    {
      name: "invalid asset key segment",
      input: "export default defineDefinitions({ assets: [asset({ key: 'taxi/raw trips' }, body)] });",
      code: 2,
      message: oneProblem(
        "taxi/raw trips",
        'invalid asset key "taxi/raw trips": segment "raw trips" must start with a letter, digit or "_" and contain only letters, digits, "_", "-" and "." (segments are joined by "/")',
      ),
    },
    {
      name: "empty asset key",
      input: "export default defineDefinitions({ assets: [asset({ key: '' }, body)] });",
      code: 2,
      message: oneProblem("(empty key)", "asset key is empty"),
    },
    {
      name: "duplicate asset key",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a' }, body), asset({ key: 'a' }, body)] });",
      code: 2,
      message: oneProblem("a", "duplicate asset key: defined more than once"),
    },
    {
      name: "unknown dep (did you mean)",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'orders' }, body), asset({ key: 'b', deps: ['ordres'] }, body)] });",
      code: 2,
      message: oneProblem("b", 'depends on unknown asset "ordres" (did you mean "orders"?)'),
    },
    {
      name: "unknown input (did you mean)",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'orders' }, body), asset({ key: 'b', ins: { o: input<number>('ordres') } }, body)] });",
      code: 2,
      message:
        /^Invalid definitions \(\d problems?\):\n {2}- b: input "o" refers to unknown asset "ordres" \(did you mean "orders"\?\)/,
    },
    {
      name: "dependency cycle",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', deps: ['b'] }, body), asset({ key: 'b', deps: ['a'] }, body)] });",
      code: 2,
      message:
        /^Invalid definitions \(1 problem\):\n {2}- [ab]: dependency cycle: (a -> b -> a|b -> a -> b)$/,
    },
    {
      name: "missing resource",
      input: "export default defineDefinitions({ assets: [asset({ key: 'a', resources: ['db'] }, body)] });",
      code: 2,
      message: oneProblem("a", 'requires resource "db", which is not in definitions.resources'),
    },
    {
      name: "missing IO manager",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', ioManager: 'parquet' }, body)] });",
      code: 2,
      message: oneProblem("a", 'uses IO manager "parquet", which is not in definitions.resources'),
    },
    {
      name: "retry policy: maxRetries",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', retryPolicy: { maxRetries: -1 } }, body)] });",
      code: 2,
      message: oneProblem("a", "retryPolicy.maxRetries must be a whole number >= 0 (got -1)"),
    },
    {
      name: "retry policy: delayMs",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', retryPolicy: { maxRetries: 1, delayMs: -5 } }, body)] });",
      code: 2,
      message: oneProblem("a", "retryPolicy.delayMs must be a number >= 0 (got -5)"),
    },
    {
      name: "graph asset: duplicate op name",
      input:
        "export default defineDefinitions({ assets: [graphAsset({ key: 'a', ops: ['load', 'load'] }, body)] });",
      code: 2,
      message: oneProblem("a", 'duplicate op name "load"'),
    },
    {
      name: "backfillPolicy without partitions",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', backfillPolicy: singleRunBackfill() }, body)] });",
      code: 2,
      message: oneProblem("a", "has a backfillPolicy but no partitions"),
    },
    {
      name: "freshness: maxLagMinutes",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', freshness: { maxLagMinutes: 0 } }, body)] });",
      code: 2,
      message: oneProblem("a", "freshness.maxLagMinutes must be a number > 0 (got 0)"),
    },
    {
      name: "freshness: unknown time zone",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', freshness: { maxLagMinutes: 5, cron: '0 6 * * *', timezone: 'Mars/Olympus' } }, body)] });",
      code: 2,
      message: oneProblem(
        "a",
        'freshness: unknown time zone "Mars/Olympus" (use an IANA name such as "UTC" or "America/New_York")',
      ),
    },
    {
      name: "freshness: invalid cron",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', freshness: { maxLagMinutes: 5, cron: '61 * * * *' } }, body)] });",
      code: 2,
      message:
        /^Invalid definitions \(1 problem\):\n {2}- a: freshness\.cron "61 \* \* \* \*" is invalid: .+$/,
    },
    {
      name: "automation onCron: unknown time zone",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', automation: onCron('0 6 * * *', { timezone: 'Mars/Olympus' }) }, body)] });",
      code: 2,
      message: oneProblem(
        "a",
        'automation onCron: unknown time zone "Mars/Olympus" (use an IANA name such as "UTC" or "America/New_York")',
      ),
    },
    {
      name: "automation onCron: invalid cron",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', automation: onCron('every day') }, body)] });",
      code: 2,
      message:
        /^Invalid definitions \(1 problem\):\n {2}- a: automation onCron\("every day"\) is invalid: .+$/,
    },
    // Multi-assets.
    {
      name: "multi-asset: invalid name",
      input:
        "export default defineDefinitions({ assets: [multiAsset({ name: 'two outs', outs: { a: { key: 'a' } } }, async () => ({ a: 1 }))] });",
      code: 2,
      message: oneProblem("multi-asset two outs", 'invalid name "two outs"'),
    },
    {
      name: "multi-asset: no outs",
      input:
        "export default defineDefinitions({ assets: [multiAsset({ name: 'empty', outs: {} }, async () => ({}))] });",
      code: 2,
      message: oneProblem("multi-asset empty", "declares no outs"),
    },
    {
      name: "multi-asset: duplicate name",
      input:
        "export default defineDefinitions({ assets: [multiAsset({ name: 'm', outs: { a: { key: 'a' } } }, async () => ({ a: 1 })), multiAsset({ name: 'm', outs: { b: { key: 'b' } } }, async () => ({ b: 1 }))] });",
      code: 2,
      message: oneProblem("multi-asset m", "duplicate multi-asset name"),
    },
    {
      name: "multi-asset: name clashes with an asset key",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'm' }, body), multiAsset({ name: 'm', outs: { a: { key: 'a' } } }, async () => ({ a: 1 }))] });",
      code: 2,
      message: oneProblem("multi-asset m", 'name "m" clashes with an asset key; rename the multi-asset'),
    },
    // Partitions between assets.
    {
      name: "mapping for an unpartitioned upstream",
      input:
        "const up = asset({ key: 'up' }, body);\nexport default defineDefinitions({ assets: [up, asset({ key: 'down', partitions: dailyPartitions({ start: '2024-01-01' }), deps: [mapped(up, identityMapping())] }, body)] });",
      code: 2,
      message: oneProblem("down", 'has a partition mapping for "up", which is not partitioned'),
    },
    {
      name: "mapping that does not fit",
      input:
        "const up = asset({ key: 'up', partitions: staticPartitions(['a', 'b']) }, body);\nexport default defineDefinitions({ assets: [up, asset({ key: 'down', partitions: dailyPartitions({ start: '2024-01-01' }), deps: [mapped(up, identityMapping())] }, body)] });",
      code: 2,
      message:
        /^Invalid definitions \(1 problem\):\n {2}- down: partition mapping from "up" does not fit: .+$/,
    },
    {
      name: "unpartitioned reads partitioned through a one-to-one mapping",
      input:
        "const up = asset({ key: 'up', partitions: staticPartitions(['a', 'b']) }, body);\nexport default defineDefinitions({ assets: [up, asset({ key: 'down', deps: [mapped(up, identityMapping())] }, body)] });",
      code: 2,
      message: oneProblem(
        "down",
        'partition mapping from "up" does not fit: an unpartitioned asset can read a partitioned one only through allPartitionsMapping() or lastPartitionMapping()',
      ),
    },
    {
      name: "no default mapping between different partitions",
      input:
        "const up = asset({ key: 'up', partitions: staticPartitions(['a', 'b']) }, body);\nexport default defineDefinitions({ assets: [up, asset({ key: 'down', partitions: dailyPartitions({ start: '2024-01-01' }), deps: [up] }, body)] });",
      code: 2,
      message: /^Invalid definitions \(1 problem\):\n {2}- down: cannot read partitioned asset "up": .+$/,
    },
    // Checks.
    {
      name: "not a check in checks",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a' }, body)], checks: [{} as never] });",
      code: 2,
      message: oneProblem("checks[0]", "is not a check: build it with assetCheck()"),
    },
    {
      name: "check: invalid name",
      input:
        "const a = asset({ key: 'a' }, body);\nexport default defineDefinitions({ assets: [a], checks: [assetCheck({ asset: a, name: 'no nulls' }, () => ({ passed: true }))] });",
      code: 2,
      message: oneProblem(
        "check a:no nulls",
        'invalid check name "no nulls": use letters, digits, "_" and "-", starting with a letter or "_"',
      ),
    },
    {
      name: "check: unknown asset (did you mean)",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'orders' }, body)], checks: [assetCheck({ asset: 'ordres', name: 'c' }, () => ({ passed: true }))] });",
      code: 2,
      message:
        /^Invalid definitions \(1 problem\):\n {2}- check ordres.c: is attached to unknown asset "ordres" \(did you mean "orders"\?\)$/,
    },
    {
      name: "check: duplicate",
      input:
        "const a = asset({ key: 'a' }, body);\nconst c = () => ({ passed: true });\nexport default defineDefinitions({ assets: [a], checks: [assetCheck({ asset: a, name: 'c' }, c), assetCheck({ asset: a, name: 'c' }, c)] });",
      code: 2,
      message:
        /^Invalid definitions \(1 problem\):\n {2}- check a.c: duplicate check: the same name is used twice on this asset$/,
    },
    {
      name: "check: missing resource",
      input:
        "const a = asset({ key: 'a' }, body);\nexport default defineDefinitions({ assets: [a], checks: [assetCheck({ asset: a, name: 'c', resources: ['db'] } as never, () => ({ passed: true }))] });",
      code: 2,
      message:
        /^Invalid definitions \(1 problem\):\n {2}- check a.c: requires resource "db", which is not in definitions.resources$/,
    },
    // Jobs.
    {
      name: "job: duplicate name",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a' }, body)], jobs: [assetJob({ name: 'j', selection: 'a' }), assetJob({ name: 'j', selection: 'a' })] });",
      code: 2,
      message: oneProblem("job j", "duplicate job name"),
    },
    {
      name: "job: selection with a typo",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'orders' }, body)], jobs: [assetJob({ name: 'j', selection: 'ordres' })] });",
      code: 2,
      message:
        /^Invalid definitions \(1 problem\):\n {2}- job j: Invalid selection: unknown asset "ordres" — did you mean "orders"\?/,
    },
    // Schedules.
    {
      name: "not a schedule in schedules",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a' }, body)], schedules: [{} as never] });",
      code: 2,
      message: oneProblem("schedules[0]", "is not a schedule: build it with schedule()"),
    },
    {
      name: "schedule: invalid name",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a' }, body)], schedules: [schedule({ name: 'every day', cron: '0 2 * * *', selection: 'a' })] });",
      code: 2,
      message: oneProblem("schedule every day", 'invalid name "every day": use letters, digits, _ . -'),
    },
    {
      name: "schedule: unknown time zone",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a' }, body)], schedules: [schedule({ name: 's', cron: '0 2 * * *', timezone: 'Mars/Olympus', selection: 'a' })] });",
      code: 2,
      message: oneProblem(
        "schedule s",
        'unknown time zone "Mars/Olympus" (use an IANA name such as "UTC" or "America/New_York")',
      ),
    },
    {
      name: "schedule: invalid cron",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a' }, body)], schedules: [schedule({ name: 's', cron: '0 25 * * *', selection: 'a' })] });",
      code: 2,
      message: /^Invalid definitions \(1 problem\):\n {2}- schedule s: cron "0 25 \* \* \*" is invalid: .+$/,
    },
    {
      name: "schedule: no target",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a' }, body)], schedules: [schedule({ name: 's', cron: '0 2 * * *' })] });",
      code: 2,
      message: oneProblem("schedule s", "needs a job or a selection to launch"),
    },
    {
      name: "schedule: job and selection",
      input:
        "const j = assetJob({ name: 'j', selection: 'a' });\nexport default defineDefinitions({ assets: [asset({ key: 'a' }, body)], jobs: [j], schedules: [schedule({ name: 's', cron: '0 2 * * *', job: j, selection: 'a' })] });",
      code: 2,
      message: oneProblem("schedule s", "give a job or a selection, not both"),
    },
    {
      name: "schedule: unknown job (did you mean)",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a' }, body)], jobs: [assetJob({ name: 'nightly', selection: 'a' })], schedules: [schedule({ name: 's', cron: '0 2 * * *', job: 'nigthly' })] });",
      code: 2,
      message: oneProblem("schedule s", 'targets unknown job "nigthly" (did you mean "nightly"?)'),
    },
    {
      name: "schedule: selection with a typo",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'orders' }, body)], schedules: [schedule({ name: 's', cron: '0 2 * * *', selection: 'ordres' })] });",
      code: 2,
      message:
        /^Invalid definitions \(1 problem\):\n {2}- schedule s: Invalid selection: unknown asset "ordres" — did you mean "orders"\?/,
    },
    {
      name: "schedule: catchUp",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a' }, body)], schedules: [schedule({ name: 's', cron: '0 2 * * *', selection: 'a', catchUp: -1 })] });",
      code: 2,
      message: oneProblem("schedule s", "catchUp must be a whole number >= 0 (got -1)"),
    },
    // Sensors.
    {
      name: "not a sensor in sensors",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a' }, body)], sensors: [{} as never] });",
      code: 2,
      message: oneProblem(
        "sensors[0]",
        "is not a sensor: build it with sensor(), fileSensor(), assetSensor() or runStatusSensor()",
      ),
    },
    {
      name: "sensor: same name as a schedule",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a' }, body)], schedules: [schedule({ name: 'n', cron: '0 2 * * *', selection: 'a' })], sensors: [sensor({ name: 'n', selection: 'a', evaluate: () => [] })] });",
      code: 2,
      message: oneProblem("sensor n", "duplicate name: schedules and sensors share one namespace"),
    },
    {
      name: "sensor: minimumIntervalSeconds",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a' }, body)], sensors: [sensor({ name: 'n', selection: 'a', minimumIntervalSeconds: 0, evaluate: () => [] })] });",
      code: 2,
      message: oneProblem("sensor n", "minimumIntervalSeconds must be > 0 (got 0)"),
    },
    {
      name: "sensor: timeoutSeconds",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a' }, body)], sensors: [sensor({ name: 'n', selection: 'a', timeoutSeconds: -1, evaluate: () => [] })] });",
      code: 2,
      message: oneProblem("sensor n", "timeoutSeconds must be > 0 (got -1)"),
    },
    {
      name: "sensor: evaluate not a function",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a' }, body)], sensors: [sensor({ name: 'n', selection: 'a', evaluate: 'soon' } as never)] });",
      code: 2,
      message: oneProblem("sensor n", "evaluate must be a function"),
    },
    {
      name: "sensor: unknown job",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a' }, body)], sensors: [sensor({ name: 'n', job: 'ghost', evaluate: () => [] })] });",
      code: 2,
      message: oneProblem("sensor n", 'targets unknown job "ghost"'),
    },
    // Every problem at once.
    {
      name: "several problems are all listed",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', deps: ['ghost'] }, body), asset({ key: 'a' }, body)], schedules: [schedule({ name: 's', cron: '0 2 * * *' })] });",
      code: 2,
      message:
        /^Invalid definitions \(3 problems\):\n {2}- a: duplicate asset key: defined more than once\n {2}- a: depends on unknown asset "ghost"\n {2}- schedule s: needs a job or a selection to launch$/,
    },
    // Constructors that refuse their options (thrown while the file is imported).
    {
      name: "static partitions: duplicate key",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', partitions: staticPartitions(['x', 'x']) }, body)] });",
      code: 2,
      message: threw("staticPartitions: "),
    },
    {
      name: "dynamic partitions: invalid name",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', partitions: dynamicPartitions({ name: 'my tenants' }) }, body)] });",
      code: 2,
      message: threw('dynamicPartitions: invalid name "my tenants" (letters, digits, "_", "-", ".")'),
    },
    {
      name: "daily partitions: end before start",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', partitions: dailyPartitions({ start: '2024-02-01', end: '2024-01-01' }) }, body)] });",
      code: 2,
      message: threw('dailyPartitions: end "2024-01-01" is before start "2024-02-01"'),
    },
    {
      name: "daily partitions: bad start",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', partitions: dailyPartitions({ start: 'yesterday' }) }, body)] });",
      code: 2,
      message: threw('dailyPartitions: start "yesterday"'),
    },
    {
      name: "partitions: unknown time zone",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', partitions: dailyPartitions({ start: '2024-01-01', timezone: 'Mars/Olympus' }) }, body)] });",
      code: 2,
      message: threw(
        'dailyPartitions: timezone "Mars/Olympus" is not a known IANA time zone (e.g. "UTC", "America/New_York")',
      ),
    },
    {
      name: "time-window partitions: invalid cron",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', partitions: timeWindowPartitions({ cron: 'daily', start: '2024-01-01' }) }, body)] });",
      code: 2,
      message: threw('timeWindowPartitions: cron "daily" is not valid: '),
    },
    {
      name: "multi partitions: one dimension",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', partitions: multiPartitions({ d: dailyPartitions({ start: '2024-01-01' }) }) }, body)] });",
      code: 2,
      message: threw("multiPartitions needs at least two dimensions"),
    },
    {
      name: "multi partitions: invalid dimension name",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', partitions: multiPartitions({ 'the date': dailyPartitions({ start: '2024-01-01' }), region: staticPartitions(['eu']) }) }, body)] });",
      code: 2,
      message: threw('multiPartitions: invalid dimension name "the date" (letters, digits, "_")'),
    },
    {
      name: "multi partitions: a multi dimension",
      input:
        "const inner = multiPartitions({ a: staticPartitions(['x']), b: staticPartitions(['y']) });\nexport default defineDefinitions({ assets: [asset({ key: 'a', partitions: multiPartitions({ m: inner as never, region: staticPartitions(['eu']) }) }, body)] });",
      code: 2,
      message:
        /^Could not load definitions from DIR\/defs-(\d+)\.ts: importing it threw: DIR\/defs-\1\.ts:9:\d+: Error: multiPartitions: dimension "m" must be a static, time-window or dynamic partitions definition/,
    },
    {
      name: "static partitions: key with a separator",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', partitions: staticPartitions(['eu|west']) }, body)] });",
      code: 2,
      message: threw('staticPartitions: invalid partition key "eu|west"'),
    },
    {
      name: "multi-run backfill: maxPartitionsPerRun",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', partitions: dailyPartitions({ start: '2024-01-01' }), backfillPolicy: multiRunBackfill({ maxPartitionsPerRun: 0 }) }, body)] });",
      code: 2,
      message: threw("multiRunBackfill: maxPartitionsPerRun must be a whole number >= 1 (got 0)"),
    },
    {
      name: "time window mapping: offsets not whole numbers",
      input:
        "const up = asset({ key: 'up', partitions: dailyPartitions({ start: '2024-01-01' }) }, body);\nexport default defineDefinitions({ assets: [up, asset({ key: 'down', partitions: dailyPartitions({ start: '2024-01-01' }), deps: [mapped(up, timeWindowMapping({ startOffset: 0.5 }))] }, body)] });",
      code: 2,
      message:
        /^Could not load definitions from DIR\/defs-(\d+)\.ts: importing it threw: DIR\/defs-\1\.ts:9:\d+: Error: timeWindowMapping: startOffset and endOffset must be whole numbers/,
    },
    {
      name: "hourly partitions: minute offset out of range",
      input:
        "export default defineDefinitions({ assets: [asset({ key: 'a', partitions: hourlyPartitions({ start: '2024-01-01', minuteOffset: 75 }) }, body)] });",
      code: 2,
      message: threw("hourlyPartitions: minuteOffset 75 is not valid: expected an integer from 0 to 59"),
    },
  ];
  catalogue(rows, load);
});

/** A folder of files (name → text) under the temp folder; resolves to its path. */
async function folder(name: string, files: Readonly<Record<string, string>>): Promise<string> {
  const at = path.join(dir, name);
  await mkdir(at, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(at, file), text);
  return at;
}

interface LoadInput {
  readonly folder: string;
  readonly files: Readonly<Record<string, string>>;
  readonly args?: readonly string[];
  /** Loaded by a real `node` child (what only Node's own loader does, e.g. CommonJS). */
  readonly child?: boolean;
}

async function loadFolder(input: LoadInput) {
  const at = await folder(input.folder, input.files);
  const args = [...(input.args ?? []), "asset", "list"];
  const answer = input.child ? await childCli(args, at) : await cliInProcess({ args }, { cwd: at, home });
  return { ...answer, message: hideDir(answer.message) };
}

const { baton } = cliHarness({ defaultCwd: ROOT, tempPrefix: "baton-bad-input-" });
async function childCli(args: readonly string[], cwd: string) {
  const r = await baton(args, { home, cwd });
  // Node's own warnings (e.g. about the module type) come before Baton's message.
  const message = r.stderr.slice(Math.max(0, r.stderr.indexOf("error: "))).replace(/^error: /, "");
  return { code: r.code ?? -1, message: message.trimEnd(), detail: describeResult(r) };
}

describe("definitions files that do not load", () => {
  const ok = "export default defineDefinitions({ assets: [asset({ key: 'a' }, body)] });\n";
  const rows: Row<LoadInput>[] = [
    {
      name: "file not found (--defs)",
      input: { folder: "missing", files: {}, args: ["--defs", "nope.ts"] },
      code: 2,
      message:
        "Could not load definitions from DIR/missing/nope.ts: file not found. Pass --defs FILE, set BATON_DEFS, or create ./definitions.ts exporting `export default defineDefinitions({ … })`.",
    },
    {
      name: "no definitions file in the folder",
      input: { folder: "empty", files: {} },
      code: 2,
      message: /^Could not load definitions from DIR\/empty\/definitions\.ts: file not found\./,
    },
    {
      name: "syntax error (file:line)",
      input: {
        folder: "syntax",
        child: true,
        files: {
          "definitions.ts": `${HEADER}const a = asset({ key: 'a' }, body;\nexport default defineDefinitions({ assets: [a] });\n`,
        },
      },
      code: 2,
      message:
        /^Could not load definitions from DIR\/syntax\/definitions\.ts: .*importing it threw: definitions\.ts:8:3[45]: SyntaxError: Expected "\)" but found ";"/,
    },
    {
      name: "throwing import (the thrown message)",
      input: {
        folder: "throws",
        child: true,
        files: {
          "definitions.ts": `${HEADER}const a = asset({ key: 'a' }, body);\nconst c = assetChek({ asset: a, name: 'c' }, () => ({ passed: true }));\nexport default defineDefinitions({ assets: [a], checks: [c] });\n`,
        },
      },
      code: 2,
      message:
        /^Could not load definitions from DIR\/throws\/definitions\.ts: importing it threw: definitions\.ts:9:11: ReferenceError: assetChek is not defined\n {4}9 \| const c = assetChek\(/,
    },
    {
      name: "import of a package that is not installed",
      input: {
        folder: "nopackage",
        child: true,
        files: {
          "definitions.ts": `import { sheets } from "google-sheets-for-baton";\n${HEADER}export default defineDefinitions({ assets: [asset({ key: 'a' }, body)] });\nvoid sheets;\n`,
        },
      },
      code: 2,
      message:
        "Could not load definitions from DIR/nopackage/definitions.ts: importing it threw: Cannot find package 'google-sheets-for-baton' imported from DIR/nopackage/definitions.ts.",
    },
    {
      name: "no Definitions exported",
      input: {
        folder: "noexport",
        files: { "definitions.ts": `${HEADER}export const a = asset({ key: 'a' }, body);\n` },
      },
      code: 2,
      message:
        "Could not load definitions from DIR/noexport/definitions.ts: it exports no Definitions (exports: a). Add `export default defineDefinitions({ assets: [...] })`.",
    },
    {
      name: "CommonJS package",
      input: {
        folder: "commonjs",
        child: true,
        files: {
          "package.json": '{ "type": "commonjs" }\n',
          "definitions.js":
            'import { asset, defineDefinitions } from "@baton/core";\nexport default defineDefinitions({ assets: [asset({ key: "a" }, async () => 1)] });\n',
        },
      },
      code: 2,
      message:
        /^Could not load definitions from DIR\/commonjs\/definitions\.js: .*Cannot use import statement outside a module\. The file was loaded as CommonJS: add "type": "module" to the nearest package\.json, or rename it to \.mts\./,
    },
    {
      name: "baton.config.json not valid JSON",
      input: {
        folder: "config-json",
        files: { "baton.config.json": "{ defs: 'x.ts' }", "definitions.ts": `${HEADER}${ok}` },
      },
      code: 2,
      message:
        /^Could not load definitions from DIR\/config-json\/baton\.config\.json: baton\.config\.json is not valid JSON: .*position 2/,
    },
    {
      name: "baton.config.json without defs",
      input: {
        folder: "config-nodefs",
        files: { "baton.config.json": '{ "definitions": "x.ts" }', "definitions.ts": `${HEADER}${ok}` },
      },
      code: 2,
      message:
        'Could not load definitions from DIR/config-nodefs/baton.config.json: baton.config.json needs a "defs" string naming the definitions file',
    },
    {
      name: "baton.config.json naming a missing file",
      input: { folder: "config-missing", files: { "baton.config.json": '{ "defs": "src/defs.ts" }' } },
      code: 2,
      message: /^Could not load definitions from DIR\/config-missing\/src\/defs\.ts: file not found\./,
    },
  ];
  catalogue(rows, loadFolder);
});
