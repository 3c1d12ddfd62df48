// npm run bench:data-versions — what the DuckDB IO manager's data version (a hash of the columns
// and of every row, in the row count's scan) adds to storing a partition: a 1,000,000-row yellow
// month (the example's raw_trips query over a generated TLC file) stored as one partition, with
// `dataVersions: true` (the default) and `false`, alternating; medians reported. Also a copy of an
// existing table (no CSV parsing: the hash's share is largest there), and the fs IO manager's
// sha256 of a 1 MB JSON value.
// Options: BENCH_ROWS=1000000  BENCH_REPEAT=3
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const work = mkdtempSync(path.join(os.tmpdir(), "baton-bench-data-versions-"));

const { generateMonth } = await import("../examples/nyc_taxi/src/generate.js");
const { ingestQuery } = await import("../examples/nyc_taxi/src/ingest.js");
const { duckdbIOManager, sql } = await import("@baton/core/duckdb");
const { createFsIOManager } = await import("@baton/core");

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const log = { debug() {}, info() {}, warn() {}, error() {} };

try {
  const file = await generateMonth({ month: "2019-01", taxi: "yellow", rows: ROWS, dir: work });
  const warehouse = path.join(work, "warehouse.duckdb");
  // Two managers on one file: the same DuckDB instance, with and without data versions.
  const setup = (dataVersions: boolean) =>
    duckdbIOManager({ path: warehouse, previewRows: 0, dataVersions }).setup({} as never);
  const managers = { on: await setup(true), off: await setup(false) };

  const time = async (manager: typeof managers.on, assetKey: string, value: unknown) => {
    const t = performance.now();
    const result = await manager.handleOutput(
      { assetKey, partitionKey: "2019-01|yellow", runId: "bench", log },
      value,
    );
    return { seconds: (performance.now() - t) / 1000, version: result?.dataVersion };
  };

  const csv = { on: [] as number[], off: [] as number[] };
  const copy = { on: [] as number[], off: [] as number[] };
  let version: string | undefined;
  for (let i = 0; i < REPEAT; i++)
    for (const mode of ["on", "off"] as const) {
      const stored = await time(managers[mode], "bench/raw", ingestQuery(file, "yellow"));
      csv[mode].push(stored.seconds);
      if (mode === "on") version = stored.version;
      copy[mode].push(
        (
          await time(
            managers[mode],
            "bench/copy",
            sql`select * exclude (_partition) from bench.raw where _partition = '2019-01|yellow'`,
          )
        ).seconds,
      );
    }

  // The fs IO manager: JSON.stringify + sha256 of what it writes.
  const fs = createFsIOManager(path.join(work, "fs"));
  const value = Array.from({ length: 20_000 }, (_, i) => ({ id: i, name: `zone ${i}`, borough: "Queens" }));
  const fsRuns: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const t = performance.now();
    await fs.handleOutput({ assetKey: "bench/fs", partitionKey: undefined, runId: "bench", log }, value);
    fsRuns.push((performance.now() - t) / 1000);
  }

  const line = (name: string, runs: { on: number[]; off: number[] }) => ({
    bench: "data-versions",
    case: `${name}-${ROWS}`,
    rows: ROWS,
    repeat: REPEAT,
    withVersionSeconds: +median(runs.on).toFixed(3),
    withoutVersionSeconds: +median(runs.off).toFixed(3),
    addedMs: Math.round((median(runs.on) - median(runs.off)) * 1000),
    ratio: +(median(runs.on) / median(runs.off)).toFixed(3),
  });
  console.log(JSON.stringify({ ...line("duckdb-csv-ingest", csv), dataVersion: version }));
  console.log(JSON.stringify(line("duckdb-table-copy", copy)));
  console.log(
    JSON.stringify({
      bench: "data-versions",
      case: "fs-json-20000-objects",
      bytes: JSON.stringify(value).length,
      repeat: REPEAT,
      seconds: +median(fsRuns).toFixed(4),
    }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
