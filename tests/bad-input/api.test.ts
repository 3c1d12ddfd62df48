/**
 * Bad input over HTTP: request bodies (wrong types, missing and unknown fields, huge, deeply
 * nested, invalid UTF-8, not JSON, wrong content type), path and query parameters, each with its
 * status, error code, message and field. One app on a real SQLite store, through `app.request()`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type BatonInstance, openInstance, publishSnapshot } from "@baton/core/internal";
import { afterAll, beforeAll, describe } from "vitest";
import { createApp } from "../../packages/webserver/src/app.js";
import definitions from "./fixture/definitions.js";
import { type Answer, catalogue, NEVER_IN_API, type Row } from "./table.js";

let home: string;
let instance: BatonInstance;
let app: ReturnType<typeof createApp>;
let runId: string;
beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), "baton-bad-input-api-"));
  instance = await openInstance({ home, env: {} });
  await publishSnapshot(instance.storage, definitions);
  app = createApp({ instance, ui: false });
  // A queued run for the rows about an existing run ({run} in their URL).
  const res = await app.request("/api/runs", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ selection: "shop/orders" }),
  });
  runId = ((await res.json()) as { run: { runId: string } }).run.runId;
  await instance.storage.addDynamicPartitions("tenants", ["acme", "globex"]);
});
afterAll(async () => {
  await instance?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

interface Request {
  readonly method?: string;
  readonly url: string;
  /** A value is sent as JSON; a string or bytes as they are. */
  readonly body?: unknown;
  readonly contentType?: string;
}

/** The answer as `CODE: message (field F)`, so that a row pins the error code and field too. */
async function call(req: Request): Promise<Answer> {
  const url = req.url.replace("{run}", runId);
  const body =
    req.body === undefined || typeof req.body === "string" || req.body instanceof Uint8Array
      ? (req.body as string | Uint8Array<ArrayBuffer> | undefined)
      : JSON.stringify(req.body);
  const res = await app.request(url, {
    method: req.method ?? (body === undefined ? "GET" : "POST"),
    headers:
      body === undefined && !req.contentType ? {} : { "content-type": req.contentType ?? "application/json" },
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.text();
  let error: { code?: string; message?: string; field?: string } | undefined;
  try {
    error = JSON.parse(text).error;
  } catch {
    error = undefined;
  }
  const message = error
    ? `${error.code}: ${error.message}${error.field ? ` (field ${error.field})` : ""}`
    : `(not a JSON error) ${text.slice(0, 300)}`;
  return { code: res.status, message };
}

const post = (url: string, body: unknown, contentType?: string): Request => ({
  url,
  body,
  ...(contentType ? { contentType } : {}),
});
const get = (url: string): Request => ({ url });
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

describe("API bodies", () => {
  const rows: Row<Request>[] = [
    // Wrong types and missing fields (zod, the field's path).
    {
      name: "launch: missing selection",
      input: post("/api/runs", {}),
      code: 400,
      message:
        "invalid_request: body.selection: Invalid input: expected string, received undefined (field body.selection)",
    },
    {
      name: "launch: selection of the wrong type",
      input: post("/api/runs", { selection: 42 }),
      code: 400,
      message:
        "invalid_request: body.selection: Invalid input: expected string, received number (field body.selection)",
    },
    {
      name: "launch: priority not a whole number",
      input: post("/api/runs", { selection: "shop/orders", priority: 1.5 }),
      code: 400,
      message:
        "invalid_request: body.priority: Invalid input: expected int, received number (field body.priority)",
    },
    {
      name: "launch: maxRetries out of range",
      input: post("/api/runs", { selection: "shop/orders", maxRetries: 11 }),
      code: 400,
      message:
        "invalid_request: body.maxRetries: Too big: expected number to be <=10 (field body.maxRetries)",
    },
    {
      name: "launch: tag value of the wrong type",
      input: post("/api/runs", { selection: "shop/orders", tags: { team: 1 } }),
      code: 400,
      message:
        "invalid_request: body.tags.team: Invalid input: expected string, received number (field body.tags.team)",
    },
    {
      name: "launch: NUL in a tag value",
      input: post("/api/runs", { selection: "shop/orders", tags: { team: "a\u0000b" } }),
      code: 400,
      message: "invalid_request: body.tags.team: must not contain control characters (field body.tags.team)",
    },
    {
      name: "launch: JSON array instead of an object",
      input: post("/api/runs", "[]"),
      code: 400,
      message: "invalid_request: body: Invalid input: expected object, received array (field body)",
    },
    // Unknown fields: a typo is refused, naming the field (the UI sends only declared fields).
    {
      name: "launch: unknown field (typo)",
      input: post("/api/runs", { selection: "shop/orders", partition: "2024-01-05" }),
      code: 400,
      message: 'invalid_request: body.partition: Unrecognized key: "partition" (field body.partition)',
    },
    {
      name: "launch: unknown field inside partitions",
      input: post("/api/runs", { selection: "shop/daily", partitions: { key: "2024-01-05" } }),
      code: 400,
      message: 'invalid_request: body.partitions.key: Unrecognized key: "key" (field body.partitions.key)',
    },
    {
      name: "reexecute: unknown field",
      input: post("/api/runs/{run}/reexecute", { fromFailures: true }),
      code: 400,
      message:
        'invalid_request: body.fromFailures: Unrecognized key: "fromFailures" (field body.fromFailures)',
    },
    {
      name: "cancel: a field where none is taken",
      input: post("/api/runs/{run}/cancel", { force: true }),
      code: 400,
      message: 'invalid_request: body.force: Unrecognized key: "force" (field body.force)',
    },
    {
      name: "schedule start: a field where none is taken",
      input: post("/api/automation/nightly_at_2/start", { when: "now" }),
      code: 400,
      message: 'invalid_request: body.when: Unrecognized key: "when" (field body.when)',
    },
    {
      name: "start-all: kind not sensor or schedule",
      input: post("/api/automation/start-all", { kind: "cron" }),
      code: 400,
      message:
        'invalid_request: body.kind: Invalid option: expected one of "sensor"|"schedule" (field body.kind)',
    },
    {
      name: "backfill: unknown field",
      input: post("/api/backfills", { selection: "shop/daily", partitions: { which: "all" }, chunk: 5 }),
      code: 400,
      message: 'invalid_request: body.chunk: Unrecognized key: "chunk" (field body.chunk)',
    },
    {
      name: "backfill: chunkSize of the wrong type",
      input: post("/api/backfills", {
        selection: "shop/daily",
        partitions: { which: "all" },
        chunkSize: "ten",
      }),
      code: 400,
      message:
        "invalid_request: body.chunkSize: Invalid input: expected number, received string (field body.chunkSize)",
    },
    {
      name: "backfill: no partitions",
      input: post("/api/backfills", { selection: "shop/daily" }),
      code: 400,
      message:
        "invalid_request: body.partitions: Invalid input: expected object, received undefined (field body.partitions)",
    },
    {
      name: "backfill: which not one of the four",
      input: post("/api/backfills", { selection: "shop/daily", partitions: { which: "some" } }),
      code: 400,
      message:
        'invalid_request: body.partitions.which: Invalid option: expected one of "all"|"missing"|"failed"|"stale" (field body.partitions.which)',
    },
    // What the core says, with the body field (never a CLI flag).
    {
      name: "launch: keys and range together",
      input: post("/api/runs", {
        selection: "shop/daily",
        partitions: { keys: ["2024-01-05"], range: { from: "2024-01-01", to: "2024-01-02" } },
      }),
      code: 400,
      message: "invalid_request: body.partitions: give either keys or range (field body.partitions)",
    },
    {
      name: "launch: selection with a typo (did you mean)",
      input: post("/api/runs", { selection: "shop/ordres" }),
      code: 400,
      message:
        'invalid_selection: Invalid selection: unknown asset "shop/ordres" — did you mean "shop/orders"?\n  shop/ordres\n  ^ (field body.selection)',
    },
    {
      name: "launch: selection syntax error",
      input: post("/api/runs", { selection: "shop/orders and (" }),
      code: 400,
      message:
        'invalid_selection: Invalid selection: unexpected end of selection — expected an asset key, "*", "(", "not" or an attribute like group:NAME\n  shop/orders and (\n                   ^ (field body.selection)',
    },
    {
      name: "launch: selection that matches nothing",
      input: post("/api/runs", { selection: "shop/orders and shop/daily" }),
      code: 400,
      message:
        "invalid_selection: Invalid selection: it matches no assets, so there is nothing to run\n  shop/orders and shop/daily\n  ^ (field body.selection)",
    },
    {
      name: "launch: partition key out of range (names the key's place)",
      input: post("/api/runs", {
        selection: "shop/daily",
        partitions: { keys: ["2024-01-05", "2023-12-31"] },
      }),
      code: 400,
      message:
        'invalid_partition: Invalid partition key "2023-12-31" for "shop/daily": it is before the first partition; the partitions run from "2024-01-01" to "2024-01-31" (daily, UTC); nearest valid key: "2024-01-01" (field body.partitions.keys[1])',
    },
    {
      name: "launch: range end out of range",
      input: post("/api/runs", {
        selection: "shop/daily",
        partitions: { range: { from: "2024-01-30", to: "2024-02-02" } },
      }),
      code: 400,
      message:
        'invalid_partition: Invalid partition key "2024-02-02" for "shop/daily": it is after the last partition; the partitions run from "2024-01-01" to "2024-01-31" (daily, UTC); nearest valid key: "2024-01-31" (field body.partitions.range.to)',
    },
    {
      name: "launch: partitioned asset without partitions (names the field, not a flag)",
      input: post("/api/runs", { selection: "shop/daily" }),
      code: 400,
      message:
        'invalid_selection: "shop/daily" is partitioned (YYYY-MM-DD (daily, UTC)): choose partitions with partitions.keys (["KEY", …]) or partitions.range ({ "from": "A", "to": "B" }). (field body.partitions)',
    },
    {
      name: "launch: partitions for unpartitioned assets",
      input: post("/api/runs", { selection: "shop/orders", partitions: { keys: ["2024-01-05"] } }),
      code: 400,
      message:
        "invalid_selection: A partition was given, but none of the selected assets is partitioned. Drop the partitions field. (field body.partitions)",
    },
    {
      name: "launch: config field of the wrong type",
      input: post("/api/runs", {
        selection: "shop/revenue",
        config: { "shop/revenue": { multiplier: "two" } },
      }),
      code: 400,
      message:
        "invalid_config: Invalid config for the run:\n  - shop/revenue.multiplier: Invalid input: expected number, received string (field body.config.shop/revenue.multiplier)",
    },
    {
      name: "launch: config missing a field",
      input: post("/api/runs", { selection: "shop/revenue" }),
      code: 400,
      message:
        "invalid_config: Invalid config for the run:\n  - shop/revenue.multiplier: Invalid input: expected number, received undefined (field body.config.shop/revenue.multiplier)",
    },
    {
      name: "launch: config field that the schema does not have (typo, did you mean)",
      input: post("/api/runs", {
        selection: "shop/revenue",
        config: { "shop/revenue": { multiplier: 2, mutliplier: 3 } },
      }),
      code: 400,
      message:
        'invalid_config: Invalid config for the run:\n  - shop/revenue.mutliplier: unknown field (did you mean "multiplier"?); the schema has multiplier, currency, table (field body.config.shop/revenue.mutliplier)',
    },
    {
      name: "launch: config for an asset not in the run (typo)",
      input: post("/api/runs", { selection: "shop/revenue", config: { "shop/revnue": { multiplier: 2 } } }),
      code: 400,
      message:
        'invalid_config: Invalid config for the run:\n  - shop/revnue: no step "shop/revnue" in this run (steps taking config: shop/revenue)\n  - shop/revenue.multiplier: Invalid input: expected number, received undefined (field body.config.shop/revnue)',
    },
    {
      name: "launch: unknown dynamic partition key (nearest)",
      input: post("/api/runs", { selection: "shop/by_tenant", partitions: { keys: ["acmee"] } }),
      code: 400,
      message:
        'invalid_partition: Invalid partition key "acmee" for "shop/by_tenant": expected a key added to dynamic partitions "tenants" (POST /api/partitions/tenants/add); nearest valid key: "acme" (field body.partitions.keys[0])',
    },
    {
      name: "dynamic partitions: unknown name",
      input: post("/api/partitions/tenant/add", { keys: ["acme"] }),
      code: 404,
      message: 'not_found: No dynamic partitions named "tenant" in the definitions.',
    },
    {
      name: "dynamic partitions: key with a separator",
      input: post("/api/partitions/tenants/add", { keys: ["ok", "a|b"] }),
      code: 400,
      message:
        'invalid_partition: body.keys[1]: invalid partition key "a|b": keys may not contain "|", "/" or "\\" nor start or end with spaces (field body.keys[1])',
    },
    {
      name: "dynamic partitions: keys missing",
      input: post("/api/partitions/tenants/add", { key: "acme" }),
      code: 400,
      message:
        "invalid_request: body.keys: Invalid input: expected array, received undefined (field body.keys)",
    },
    // Size and shape of the bytes.
    {
      name: "launch: config nested too deep",
      input: post("/api/runs", `{"selection":"shop/orders","config":${nested(40)}}`),
      code: 400,
      message: "invalid_request: body.config: nested deeper than 32 levels (field body.config)",
    },
    {
      name: "launch: JSON nested 100,000 levels",
      input: post(
        "/api/runs",
        `{"selection":"shop/orders","config":{"a":${"[".repeat(100_000)}${"]".repeat(100_000)}}}`,
      ),
      code: 400,
      message: "invalid_request: body.config: nested deeper than 32 levels (field body.config)",
    },
    {
      name: "launch: body larger than 2 MB",
      input: post(
        "/api/runs",
        JSON.stringify({ selection: "shop/orders", tags: { big: "x".repeat(3 * 1024 * 1024) } }),
      ),
      code: 413,
      message: "too_large: The request body is larger than 2 MB.",
    },
    {
      name: "launch: not JSON (says where)",
      input: post("/api/runs", "{selection: shop/orders}"),
      code: 400,
      message: /^invalid_request: body: not valid JSON \(.*position 1.*\) \(field body\)$/,
    },
    {
      name: "launch: empty body",
      input: post("/api/runs", ""),
      code: 400,
      message:
        "invalid_request: body: empty; send a JSON object (Content-Type: application/json) (field body)",
    },
    {
      name: "launch: invalid UTF-8 (says which byte)",
      input: post(
        "/api/runs",
        new Uint8Array([...Buffer.from('{"selection":"'), 0xff, 0xfe, ...Buffer.from('"}')]),
      ),
      code: 400,
      message:
        "invalid_request: body: not valid UTF-8 (byte 14 is 0xff); send JSON encoded as UTF-8 (field body)",
    },
    {
      name: "launch: UTF-8 surrogate half",
      input: post(
        "/api/runs",
        new Uint8Array([...Buffer.from('{"selection":"a'), 0xed, 0xa0, 0x80, ...Buffer.from('"}')]),
      ),
      code: 400,
      message:
        "invalid_request: body: not valid UTF-8 (byte 15 is 0xed); send JSON encoded as UTF-8 (field body)",
    },
    {
      name: "launch: wrong content type",
      input: post("/api/runs", '{"selection":"shop/orders"}', "text/plain"),
      code: 415,
      message: "unsupported_media_type: Send mutations with Content-Type: application/json.",
    },
    {
      name: "launch: form content type",
      input: post("/api/runs", "selection=shop/orders", "application/x-www-form-urlencoded"),
      code: 415,
      message: "unsupported_media_type: Send mutations with Content-Type: application/json.",
    },
    // Things that do not exist.
    {
      name: "cancel: unknown run",
      input: post("/api/runs/nope/cancel", {}),
      code: 404,
      message: 'not_found: No run "nope".',
    },
    {
      name: "schedule start: unknown name",
      input: post("/api/automation/nightly_at_3/start", {}),
      code: 404,
      message: 'not_found: No schedule or sensor named "nightly_at_3".',
    },
  ];
  catalogue(rows, call, { never: NEVER_IN_API });
});

describe("API path and query parameters", () => {
  const rows: Row<Request>[] = [
    {
      name: "unknown route",
      input: get("/api/nope"),
      code: 404,
      message: "not_found: No route GET /api/nope",
    },
    { name: "unknown run id", input: get("/api/runs/nope"), code: 404, message: 'not_found: No run "nope".' },
    {
      name: "unknown asset key",
      input: get("/api/assets/shop%2Fordres"),
      code: 404,
      message: 'not_found: No asset "shop/ordres" in the definitions.',
    },
    {
      name: "asset key not URL-encoded",
      input: get("/api/assets/shop/orders/nope"),
      code: 404,
      message: "not_found: No route GET /api/assets/shop/orders/nope",
    },
    {
      name: "bad percent-encoding",
      input: get("/api/assets/shop%2"),
      code: 400,
      message: "invalid_request: The URL is not validly percent-encoded. (field url)",
    },
    {
      name: "control character in the path",
      input: get("/api/assets/shop%00orders"),
      code: 400,
      message: "invalid_request: The URL contains control characters. (field url)",
    },
    {
      name: "asset key too long",
      input: get(`/api/assets/${"k".repeat(1001)}`),
      code: 400,
      message:
        "invalid_request: param.key: Too big: expected string to have <=1000 characters (field param.key)",
    },
    {
      name: "runs: status not a status",
      input: get("/api/runs?status=DONE"),
      code: 400,
      message:
        'invalid_request: query.status: unknown status "DONE" (QUEUED, STARTING, STARTED, SUCCESS, FAILURE, CANCELING, CANCELED) (field query.status)',
    },
    {
      name: "runs: limit not a number",
      input: get("/api/runs?limit=many"),
      code: 400,
      message:
        "invalid_request: query.limit: Invalid input: expected number, received NaN (field query.limit)",
    },
    {
      name: "runs: limit too large",
      input: get("/api/runs?limit=100000"),
      code: 400,
      message: "invalid_request: query.limit: Too big: expected number to be <=1000 (field query.limit)",
    },
    {
      name: "runs: cursor not from a page",
      input: get("/api/runs?cursor=abc"),
      code: 400,
      message: "invalid_request: query.cursor: must be a cursor from a previous page (field query.cursor)",
    },
    {
      name: "runs: unknown query parameter (typo)",
      input: get("/api/runs?stauts=FAILURE"),
      code: 400,
      message: 'invalid_request: query.stauts: Unrecognized key: "stauts" (field query.stauts)',
    },
    {
      name: "asset list: a query parameter it does not take (a filter)",
      input: get("/api/assets?group=ingest"),
      code: 400,
      message:
        'invalid_request: query.group: Unrecognized key: "group" (this operation takes no query parameters) (field query.group)',
    },
    {
      name: "asset: a query parameter it does not take",
      input: get("/api/assets/shop%2Fdaily?partition=2024-01-05"),
      code: 400,
      message:
        'invalid_request: query.partition: Unrecognized key: "partition" (this operation takes no query parameters) (field query.partition)',
    },
    {
      name: "runs: createdAfter not a date",
      input: get("/api/runs?createdAfter=yesterday"),
      code: 400,
      message: "invalid_request: query.createdAfter: Invalid ISO datetime (field query.createdAfter)",
    },
    {
      name: "runs: tag and sensor together",
      input: get("/api/runs?tag=a&sensor=b"),
      code: 400,
      message: "invalid_request: query.tag: give at most one of tag, sensor and schedule (field query.tag)",
    },
    {
      name: "run events: after negative",
      input: get("/api/runs/nope/events?after=-1"),
      code: 400,
      message: "invalid_request: query.after: Too small: expected number to be >=0 (field query.after)",
    },
    {
      name: "backfills: limit zero",
      input: get("/api/backfills?limit=0"),
      code: 400,
      message: "invalid_request: query.limit: Too small: expected number to be >=1 (field query.limit)",
    },
    {
      name: "ticks: unknown schedule or sensor",
      input: get("/api/automation/nope/ticks"),
      code: 404,
      message: 'not_found: No schedule or sensor named "nope".',
    },
    {
      name: "partitions of an unpartitioned asset",
      input: get("/api/assets/shop%2Forders/partitions"),
      code: 409,
      message: 'not_partitioned: Asset "shop/orders" is not partitioned.',
    },
  ];
  catalogue(rows, call, { never: NEVER_IN_API });
});
