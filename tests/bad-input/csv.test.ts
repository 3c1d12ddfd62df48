/**
 * Malformed CSVs in the NYC taxi example's landing folder: each row writes one TLC-named file and
 * materializes its partition of `taxi/raw_trips`; the run fails (code 1) and the step's error
 * names the file, the line (the header is line 1) and, for a bad value, the column. Afterwards one
 * backfill over every bad file and a good one: the good file still ingests.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import type { BatonInstance, Definitions } from "@baton/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Answer, catalogue, type Row } from "./table.js";

let tmp: string;
let landing: string;
let instance: BatonInstance;
let definitions: Definitions;
let gen: typeof import("../../examples/nyc_taxi/src/generate.js");

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "baton-bad-input-csv-"));
  landing = path.join(tmp, "landing");
  await mkdir(landing, { recursive: true });
  // The example reads where its files land and where its warehouse is when it is imported.
  process.env.TAXI_LANDING = landing;
  process.env.TAXI_WAREHOUSE = path.join(tmp, "warehouse.duckdb");
  gen = await import("../../examples/nyc_taxi/src/generate.js");
  definitions = (await import("../../examples/nyc_taxi/definitions.js")).default as unknown as Definitions;
  const core = await import("@baton/core");
  instance = await core.openInstance({ home: path.join(tmp, "home"), env: {} });
});
afterAll(async () => {
  await instance?.close();
  delete process.env.TAXI_LANDING;
  delete process.env.TAXI_WAREHOUSE;
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

type Taxi = "yellow" | "green";
interface CsvInput {
  readonly month: string;
  readonly taxi: Taxi;
  /** Turns the lines of a good generated file (header first) into the bad file's lines. */
  readonly edit: (lines: string[]) => string[];
}

const ROWS = 30;
const GOOD = "2019-08";

async function goodLines(month: string, taxi: Taxi): Promise<string[]> {
  const file = await gen.generateMonth({ month, taxi, rows: ROWS, dir: path.join(tmp, "generated") });
  return gunzipSync(await readFile(file))
    .toString("utf8")
    .trimEnd()
    .split("\n");
}
const fileOf = (input: CsvInput) => path.join(landing, `${input.taxi}_tripdata_${input.month}.csv`);
const keyOf = (input: CsvInput) => `${input.month}|${input.taxi}`;

async function write(input: CsvInput) {
  await writeFile(fileOf(input), `${input.edit(await goodLines(input.month, input.taxi)).join("\n")}\n`);
}

/** The step's error as the user reads it, with the temp folder shown as LANDING. */
async function ingest(input: CsvInput): Promise<Answer> {
  await write(input);
  const summary = await instance.materialize(definitions, {
    selection: "taxi/raw_trips",
    partitions: { keys: [keyOf(input)] },
  });
  const step = summary.steps.find((s) => s.stepKey === "taxi/raw_trips");
  const message = (step?.error?.message ?? `(no error; step ${step?.status})`).split(landing).join("LANDING");
  return { code: summary.status === "SUCCESS" ? 0 : 1, message };
}

/** Replace column `name` of data row `i` (1-based after the header). */
const setValue = (i: number, name: string, value: string) => (lines: string[]) => {
  const header = lines[0]!.split(",");
  const row = lines[i]!.split(",");
  row[header.indexOf(name)] = value;
  return lines.map((l, j) => (j === i ? row.join(",") : l));
};
const lineWith = (i: number, text: (line: string) => string) => (lines: string[]) =>
  lines.map((l, j) => (j === i ? text(l) : l));

const rows: Row<CsvInput>[] = [
  {
    name: "a number that is not one (file, line, column)",
    input: { month: "2019-03", taxi: "yellow", edit: setValue(6, "fare_amount", "12x50") },
    code: 1,
    message:
      /^Error in storing output .*malformed CSV: LANDING\/yellow_tripdata_2019-03\.csv line 7, column fare_amount: could not convert "12x50" to DOUBLE \(line: .+\)$/,
  },
  {
    name: "a timestamp in another format",
    input: {
      month: "2019-04",
      taxi: "yellow",
      edit: setValue(3, "tpep_pickup_datetime", "04/01/2019 10:00"),
    },
    code: 1,
    message:
      /malformed CSV: LANDING\/yellow_tripdata_2019-04\.csv line 4, column tpep_pickup_datetime: .*04\/01\/2019 10:00/,
  },
  {
    name: "a row with too few fields",
    input: { month: "2019-05", taxi: "green", edit: lineWith(10, (l) => l.split(",").slice(0, 5).join(",")) },
    code: 1,
    message:
      /malformed CSV: LANDING\/green_tripdata_2019-05\.csv line 11: expected 20 columns, found 5 \(line: .+\)$/,
  },
  {
    name: "a row with too many fields",
    input: { month: "2019-06", taxi: "yellow", edit: lineWith(2, (l) => `${l},1,2`) },
    code: 1,
    message:
      /malformed CSV: LANDING\/yellow_tripdata_2019-06\.csv line 3: expected 18 columns, found (19|20) \(line: .+\)$/,
  },
  {
    name: "an unterminated quote",
    input: { month: "2019-07", taxi: "yellow", edit: setValue(5, "store_and_fwd_flag", '"N') },
    code: 1,
    message:
      /malformed CSV: LANDING\/yellow_tripdata_2019-07\.csv line 6: value with unterminated quote found \(line: .+\)$/,
  },
];

describe("malformed CSVs in the example's landing folder", () => {
  catalogue(rows, ingest);

  it("a backfill over every bad file and a good one: the good file still ingests", async () => {
    for (const row of rows) await write(row.input);
    const good: CsvInput = { month: GOOD, taxi: "green", edit: (l) => l };
    await write(good);
    const keys = [...rows.map((r) => keyOf(r.input)), keyOf(good)];
    const created = await instance.createBackfill(definitions, {
      selection: "taxi/raw_trips",
      partitions: { keys },
    });
    const done = await instance.runBackfill(definitions, created.backfillId);
    expect(done.counts).toMatchObject({ targeted: keys.length, materialized: 1, failed: rows.length });
  });
});
