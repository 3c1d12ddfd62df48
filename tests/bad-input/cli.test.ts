/**
 * Bad input on the command line: flags and values of every command family, selections, partition
 * keys and run config, each with its exit code and message (the CLI in this process, one store).
 */
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe } from "vitest";
import { type CliInput, catalogue, cliInProcess, type Row } from "./table.js";

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixture");
let home: string;
let busy: net.Server;
let busyPort: number;
beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), "baton-bad-input-cli-"));
  busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
  busyPort = (busy.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => busy?.close(resolve));
  if (home) await rm(home, { recursive: true, force: true });
});
/** `{busy}` in an argument: a loopback port another server is listening on. */
const run = (input: CliInput) =>
  cliInProcess(
    { ...input, args: input.args.map((a) => a.replace("{busy}", String(busyPort))) },
    { cwd: FIXTURE, home },
  );
const args = (...a: string[]): CliInput => ({ args: a });

describe("CLI flags and values", () => {
  const rows: Row<CliInput>[] = [
    // Unknown commands and flags (commander), in each command family.
    { name: "unknown command", input: args("frobnicate"), code: 2, message: "unknown command 'frobnicate'" },
    {
      name: "unknown subcommand (runs)",
      input: args("runs", "frobnicate"),
      code: 2,
      message: "unknown command 'frobnicate'",
    },
    {
      name: "unknown flag (materialize)",
      input: args("materialize", "--bogus"),
      code: 2,
      message: "unknown option '--bogus'",
    },
    {
      name: "unknown flag (runs list)",
      input: args("runs", "list", "--bogus"),
      code: 2,
      message: "unknown option '--bogus'",
    },
    {
      name: "unknown flag (backfill list)",
      input: args("backfill", "list", "--bogus"),
      code: 2,
      message: "unknown option '--bogus'",
    },
    {
      name: "unknown flag (schedule list)",
      input: args("schedule", "list", "--bogus"),
      code: 2,
      message: "unknown option '--bogus'",
    },
    {
      name: "unknown flag (asset status)",
      input: args("asset", "status", "shop/daily", "--partition", "2024-01-01"),
      code: 2,
      message: "unknown option '--partition'",
    },
    {
      name: "missing flag value (materialize --select)",
      input: args("materialize", "--select"),
      code: 2,
      message: "option '-s, --select <selection>' argument missing",
    },
    {
      name: "missing flag value (runs list --limit)",
      input: args("runs", "list", "--limit"),
      code: 2,
      message: "option '--limit <n>' argument missing",
    },
    {
      name: "missing argument (runs show)",
      input: args("runs", "show"),
      code: 2,
      message: "missing required argument 'runId'",
    },
    {
      name: "missing required flag (materialize)",
      input: args("materialize"),
      code: 2,
      message: "materialize needs --select SELECTION (e.g. --select '*' for every asset)",
    },
    // Numbers.
    {
      name: "bad number (materialize --concurrency abc)",
      input: args("materialize", "-s", "shop/orders", "--concurrency", "abc"),
      code: 2,
      message: '--concurrency must be a whole number >= 1 (got "abc")',
    },
    {
      name: "bad number (materialize --concurrency 0)",
      input: args("materialize", "-s", "shop/orders", "--concurrency", "0"),
      code: 2,
      message: '--concurrency must be a whole number >= 1 (got "0")',
    },
    {
      name: "bad number (materialize --chunk 1.5)",
      input: args("materialize", "-s", "shop/daily", "--partitions", "all", "--chunk", "1.5"),
      code: 2,
      message: '--chunk must be a whole number >= 1 (got "1.5")',
    },
    {
      name: "bad number (launch --priority)",
      input: args("launch", "-s", "shop/orders", "--priority", "high"),
      code: 2,
      message: '--priority must be a whole number (got "high")',
    },
    {
      name: "bad number (runs list --limit)",
      input: args("runs", "list", "--limit", "-1"),
      code: 2,
      message: '--limit must be a whole number >= 1 (got "-1")',
    },
    {
      name: "bad number (backfill list --limit)",
      input: args("backfill", "list", "--limit", "x"),
      code: 2,
      message: '--limit must be a whole number >= 1 (got "x")',
    },
    {
      name: "bad number (automation --limit)",
      input: args("automation", "--limit", "0"),
      code: 2,
      message: '--limit must be a whole number >= 1 (got "0")',
    },
    {
      name: "bad number (worker --concurrency)",
      input: args("worker", "--concurrency", "0"),
      code: 2,
      message: '--concurrency must be a whole number >= 1 (got "0")',
    },
    {
      name: "bad number (worker --heartbeat-ms)",
      input: args("worker", "--heartbeat-ms", "soon"),
      code: 2,
      message: '--heartbeat-ms must be a whole number >= 1 (got "soon")',
    },
    {
      name: "bad number (daemon --interval-ms)",
      input: args("daemon", "--interval-ms", "0"),
      code: 2,
      message: '--interval-ms must be a whole number >= 1 (got "0")',
    },
    {
      name: "bad number (daemon --heartbeat-timeout-ms)",
      input: args("daemon", "--heartbeat-timeout-ms", "x"),
      code: 2,
      message: '--heartbeat-timeout-ms must be a whole number >= 1 (got "x")',
    },
    {
      name: "bad number (dev --workers)",
      input: args("dev", "--workers", "0"),
      code: 2,
      message: '--workers must be a whole number >= 1 (got "0")',
    },
    {
      name: "bad port (dev --port)",
      input: args("dev", "--port", "abc"),
      code: 2,
      message: '--port must be a whole number from 0 to 65535 (got "abc")',
    },
    {
      name: "dev --port with --no-webserver (the port would be ignored)",
      input: args("dev", "--no-webserver", "--port", "4000"),
      code: 2,
      message: "--port is for the webserver, which --no-webserver does not start: drop one of them",
    },
    {
      name: "bad port (webserver --port)",
      input: args("webserver", "--port", "70000"),
      code: 2,
      message: '--port must be a whole number from 0 to 65535 (got "70000")',
    },
    // Enums and shapes.
    {
      name: "bad enum (materialize --partitions)",
      input: args("materialize", "-s", "shop/daily", "--partitions", "sometimes"),
      code: 2,
      message: '--partitions must be all, missing, failed or stale (got "sometimes")',
    },
    {
      name: "bad enum (runs list --status)",
      input: args("runs", "list", "--status", "WEIRD"),
      code: 2,
      message: /^--status must be one of QUEUED, .*CANCELED \(got "WEIRD"\)$/,
    },
    {
      name: "bad shape (worker --tag-limit)",
      input: args("worker", "--tag-limit", "foo"),
      code: 2,
      message: '--tag-limit must look like KEY=VALUE:N or KEY:N (got "foo")',
    },
    // Conflicting and incomplete flags.
    {
      name: "conflicting flags (--partition with --from/--to)",
      input: args(
        "materialize",
        "-s",
        "shop/daily",
        "-p",
        "2024-01-05",
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-03",
      ),
      code: 2,
      message: "use one of --partition, --from/--to and --partitions",
    },
    {
      name: "conflicting flags (--single-run with --chunk)",
      input: args("materialize", "-s", "shop/daily", "--partitions", "all", "--single-run", "--chunk", "2"),
      code: 2,
      message: "--single-run and --chunk do not go together (one run covers every partition)",
    },
    {
      name: "backfill flags without a backfill",
      input: args("materialize", "-s", "shop/daily", "-p", "2024-01-01", "--single-run"),
      code: 2,
      message:
        "--single-run, --chunk and --runs apply to backfills (--from/--to, --partitions, several --partition)",
    },
    {
      name: "--queue without a backfill",
      input: args("materialize", "-s", "shop/orders", "--queue"),
      code: 2,
      message: "--queue applies to backfills; queue a single run with `baton launch`",
    },
    {
      name: "config not an object",
      input: args("materialize", "-s", "shop/revenue", "--config", "[1,2]"),
      code: 2,
      message:
        "Invalid config for the run:\n  - (root): run config must be a JSON object keyed by asset key, got an array",
    },
    {
      name: "missing argument (reexecute)",
      input: args("reexecute"),
      code: 2,
      message: "missing required argument 'runId'",
    },
    {
      name: "incomplete range (--from without --to)",
      input: args("materialize", "-s", "shop/daily", "--from", "2024-01-01"),
      code: 2,
      message: "--from and --to go together (both ends are included)",
    },
    {
      name: "non-loopback webserver without tokens",
      input: args("webserver", "--host", "0.0.0.0"),
      code: 2,
      message: /^Refusing to listen on 0\.0\.0\.0 without auth: set BATON_API_TOKENS/,
    },
    {
      name: "port in use (webserver)",
      input: args("webserver", "--port", "{busy}"),
      code: 2,
      message: /^Port \d+ is in use: pass --port N \(0 picks a free one\)\.$/,
    },
    {
      name: "unknown flag (check)",
      input: args("check", "--bogus"),
      code: 2,
      message: "unknown option '--bogus'",
    },
    {
      name: "bad project name (init --name)",
      input: args("init", "new-project", "--name", "Bad Name"),
      code: 2,
      message:
        '--name: "Bad Name" is not a valid npm package name (lowercase letters, digits, - . _ ~; optionally @scope/)',
    },
    {
      name: "missing flag value (init --baton-spec)",
      input: args("init", "new-project", "--baton-spec"),
      code: 2,
      message: "option '--baton-spec <spec>' argument missing",
    },
    // Ids and names that do not exist.
    {
      name: "unknown run id (runs show)",
      input: args("runs", "show", "nope"),
      code: 2,
      message: "Run nope was not found. List runs with `baton runs list`.",
    },
    {
      name: "unknown run id (reexecute)",
      input: args("reexecute", "00000000-0000-0000-0000-000000000000"),
      code: 2,
      message: "Run 00000000-0000-0000-0000-000000000000 was not found. List runs with `baton runs list`.",
    },
    {
      name: "unknown backfill id",
      input: args("backfill", "show", "nope"),
      code: 2,
      message: "Backfill nope was not found.",
    },
    {
      name: "unknown schedule (did you mean)",
      input: args("schedule", "start", "nightly_at_3"),
      code: 2,
      message: 'No schedule named "nightly_at_3" (did you mean "nightly_at_2"?). Schedules: nightly_at_2.',
    },
    {
      name: "unknown sensor",
      input: args("sensor", "start", "nope"),
      code: 2,
      message: 'No sensor named "nope". The definitions have no sensors.',
    },
    {
      name: "unknown asset (asset status, did you mean)",
      input: args("asset", "status", "shop/ordres"),
      code: 2,
      message: 'unknown asset "shop/ordres" (did you mean "shop/orders"?)',
    },
    {
      name: "unknown asset (automation, did you mean)",
      input: args("automation", "shop/ordres"),
      code: 2,
      message: 'unknown asset "shop/ordres" (did you mean "shop/orders"?)',
    },
    {
      name: "bad shape (launch --tag)",
      input: args("launch", "-s", "shop/orders", "--tag", "x"),
      code: 2,
      message: '--tag must look like key=value (got "x")',
    },
    {
      name: "unknown asset (why, did you mean)",
      input: args("why", "shop/ordres"),
      code: 2,
      message: 'unknown asset "shop/ordres" (did you mean "shop/orders"?)',
    },
  ];
  catalogue(rows, run);
});

describe("selections", () => {
  const rows: Row<CliInput>[] = [
    {
      name: "typo in an asset key (did you mean)",
      input: args("materialize", "-s", "shop/ordres"),
      code: 2,
      message:
        'Invalid selection: unknown asset "shop/ordres" — did you mean "shop/orders"?\n  shop/ordres\n  ^',
    },
    {
      name: "typo in an asset key (launch)",
      input: args("launch", "-s", "shop/ordres"),
      code: 2,
      message: /^Invalid selection: unknown asset "shop\/ordres" — did you mean "shop\/orders"\?/,
    },
    {
      name: "syntax error with position",
      input: args("materialize", "-s", "shop/orders and ("),
      code: 2,
      message:
        'Invalid selection: unexpected end of selection — expected an asset key, "*", "(", "not" or an attribute like group:NAME\n  shop/orders and (\n                   ^',
    },
    {
      name: "unknown group (lists the groups)",
      input: args("materialize", "-s", "group:nothing"),
      code: 2,
      message:
        "Invalid selection: no asset matches group:nothing — existing groups: ingest, reports\n  group:nothing\n  ^",
    },
    {
      name: "unknown tag (says there are none)",
      input: args("materialize", "-s", "tag:none=x"),
      code: 2,
      message: "Invalid selection: no asset matches tag:none=x — there are no tags\n  tag:none=x\n  ^",
    },
    {
      name: "selection that matches nothing (empty intersection)",
      input: args("materialize", "-s", "shop/orders and shop/daily"),
      code: 2,
      message:
        "Invalid selection: it matches no assets, so there is nothing to run\n  shop/orders and shop/daily\n  ^",
    },
    {
      name: "selection that matches nothing (launch)",
      input: args("launch", "-s", "not *"),
      code: 2,
      message: /^Invalid selection: it matches no assets, so there is nothing to run\n {2}not \*\n {2}\^$/,
    },
    {
      name: "unterminated quote",
      input: args("materialize", "-s", '"shop/orders'),
      code: 2,
      message: `Invalid selection: unterminated quoted string opened here — expected a closing '"'\n  "shop/orders\n  ^`,
    },
    {
      name: "attribute without a value",
      input: args("materialize", "-s", "group:"),
      code: 2,
      message:
        'Invalid selection: expected a value after "group:", found end of selection\n  group:\n        ^',
    },
    {
      name: "unknown kind (says there are none)",
      input: args("materialize", "-s", "kind:parquet"),
      code: 2,
      message: "Invalid selection: no asset matches kind:parquet — there are no kinds\n  kind:parquet\n  ^",
    },
  ];
  catalogue(rows, run);
});

describe("partition keys", () => {
  const rows: Row<CliInput>[] = [
    {
      name: "time key in the wrong format",
      input: args("materialize", "-s", "shop/daily", "-p", "2024-13-01"),
      code: 2,
      message: /^Invalid partition key "2024-13-01" for "shop\/daily": expected YYYY-MM-DD \(daily, UTC\)/,
    },
    {
      name: "time key before the first partition",
      input: args("materialize", "-s", "shop/daily", "-p", "2023-12-31"),
      code: 2,
      message:
        'Invalid partition key "2023-12-31" for "shop/daily": it is before the first partition; the partitions run from "2024-01-01" to "2024-01-31" (daily, UTC); nearest valid key: "2024-01-01"',
    },
    {
      name: "time key after the last partition",
      input: args("materialize", "-s", "shop/daily", "-p", "2024-03-01"),
      code: 2,
      message:
        'Invalid partition key "2024-03-01" for "shop/daily": it is after the last partition; the partitions run from "2024-01-01" to "2024-01-31" (daily, UTC); nearest valid key: "2024-01-31"',
    },
    {
      name: "range end out of range (--to)",
      input: args("materialize", "-s", "shop/daily", "--from", "2024-01-30", "--to", "2024-02-05"),
      code: 2,
      message:
        'Invalid partition key "2024-02-05" for "shop/daily": it is after the last partition; the partitions run from "2024-01-01" to "2024-01-31" (daily, UTC); nearest valid key: "2024-01-31"',
    },
    {
      name: "unknown static key (nearest)",
      input: args("materialize", "-s", "shop/by_region", "-p", "europe"),
      code: 2,
      message:
        'Invalid partition key "europe" for "shop/by_region": expected one of eu, us, asia; nearest valid key: "eu"',
    },
    {
      name: "unknown dynamic key (none added yet)",
      input: args("materialize", "-s", "shop/by_tenant", "-p", "acme"),
      code: 2,
      message:
        'Invalid partition key "acme" for "shop/by_tenant": expected a key added to dynamic partitions "tenants" (baton partitions add tenants KEY); it has no partitions yet',
    },
    {
      name: "multi-dimension key missing a dimension",
      input: args("materialize", "-s", "shop/grid", "-p", "2024-01-05"),
      code: 2,
      message:
        /^Invalid partition key "2024-01-05" for "shop\/grid": expected date\|region where date is YYYY-MM-DD \(daily, UTC\) and region is one of eu, us, asia/,
    },
    {
      name: "multi-dimension key, unknown value in one dimension",
      input: args("materialize", "-s", "shop/grid", "-p", "2024-01-05|mars"),
      code: 2,
      message: /^Invalid partition key "2024-01-05\|mars" for "shop\/grid": .*region/,
    },
    {
      name: "multi-dimension key, one dimension out of range",
      input: args("materialize", "-s", "shop/grid", "-p", "2023-12-31|eu"),
      code: 2,
      message:
        'Invalid partition key "2023-12-31|eu" for "shop/grid": its date "2023-12-31" is before the first partition; the date partitions run from "2024-01-01" to "2024-01-31" (daily, UTC); nearest valid key: "2024-01-01|eu"',
    },
    {
      name: "time key close to a valid one (nearest by spelling)",
      input: args("materialize", "-s", "shop/daily", "-p", "2024-01-5"),
      code: 2,
      message:
        'Invalid partition key "2024-01-5" for "shop/daily": expected YYYY-MM-DD (daily, UTC); nearest valid key: "2024-01-05"',
    },
    {
      name: "partition for unpartitioned assets",
      input: args("materialize", "-s", "shop/orders", "-p", "2024-01-05"),
      code: 2,
      message:
        "A partition was given, but none of the selected assets is partitioned. Drop --partition/--from/--to.",
    },
    {
      name: "dynamic key with a separator",
      input: args("partitions", "add", "tenants", "a|b"),
      code: 2,
      message:
        'invalid partition key "a|b": keys may not contain "|", "/" or "\\" nor start or end with spaces',
    },
    {
      name: "dynamic partitions name the definitions do not declare",
      input: args("partitions", "add", "tenant", "acme"),
      code: 2,
      message:
        'No dynamic partitions named "tenant" in the definitions (did you mean "tenants"?); declared: tenants',
    },
  ];
  catalogue(rows, run);
});

describe("partition keys: dynamic partitions with keys", () => {
  beforeAll(async () => {
    const added = await run(args("partitions", "add", "tenants", "acme", "globex"));
    if (added.code !== 0) throw new Error(`could not add dynamic partitions: ${added.detail}`);
  });
  const rows: Row<CliInput>[] = [
    {
      name: "unknown dynamic key (nearest)",
      input: args("materialize", "-s", "shop/by_tenant", "-p", "acmee"),
      code: 2,
      message:
        'Invalid partition key "acmee" for "shop/by_tenant": expected a key added to dynamic partitions "tenants" (baton partitions add tenants KEY); nearest valid key: "acme"',
    },
  ];
  catalogue(rows, run);
});

describe("run config", () => {
  const rows: Row<CliInput>[] = [
    {
      name: "config not valid JSON",
      input: args("materialize", "-s", "shop/revenue", "--config", "{bad"),
      code: 2,
      message: /^Invalid config for --config:\n {2}- \(root\): not valid JSON: .*position 1/,
    },
    {
      name: "config file not found",
      input: args("materialize", "-s", "shop/revenue", "--config", "@nofile.json"),
      code: 2,
      message: /^Cannot read --config file nofile\.json: ENOENT: no such file or directory/,
    },
    {
      name: "config field of the wrong type (path of the field)",
      input: args("materialize", "-s", "shop/revenue", "--config", '{"shop/revenue":{"multiplier":"two"}}'),
      code: 2,
      message:
        "Invalid config for the run:\n  - shop/revenue.multiplier: Invalid input: expected number, received string",
    },
    {
      name: "config field missing",
      input: args("materialize", "-s", "shop/orders+"),
      code: 2,
      message:
        "Invalid config for the run:\n  - shop/revenue.multiplier: Invalid input: expected number, received undefined",
    },
    {
      name: "config enum value not allowed",
      input: args(
        "materialize",
        "-s",
        "shop/revenue",
        "--config",
        '{"shop/revenue":{"multiplier":2,"currency":"GBP"}}',
      ),
      code: 2,
      message:
        'Invalid config for the run:\n  - shop/revenue.currency: Invalid option: expected one of "EUR"|"USD"',
    },
    {
      name: "config field that the schema does not have (typo, did you mean)",
      input: args(
        "materialize",
        "-s",
        "shop/revenue",
        "--config",
        '{"shop/revenue":{"multiplier":2,"mutliplier":3}}',
      ),
      code: 2,
      message:
        'Invalid config for the run:\n  - shop/revenue.mutliplier: unknown field (did you mean "multiplier"?); the schema has multiplier, currency, table',
    },
    {
      name: "config for an asset not in the run (typo)",
      input: args("materialize", "-s", "shop/revenue", "--config", '{"shop/revnue":{"multiplier":2}}'),
      code: 2,
      message:
        /^Invalid config for the run:\n {2}- shop\/revnue: no step "shop\/revnue" in this run \(steps taking config: shop\/revenue\)/,
    },
  ];
  catalogue(rows, run);
});
