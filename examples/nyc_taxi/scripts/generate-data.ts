// npm run example:data -- --months 2019-01..2019-03 --rows 100000 [--taxi yellow,green] [--dir landing] [--plain]
import { parseArgs } from "node:util";
import { generateMonth, parseMonths } from "../src/generate.js";
import { TAXI_TYPES, type TaxiType } from "../src/layout.js";
import { LANDING_DIR } from "../src/paths.js";

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(2);
}

let values: Record<string, string | boolean | undefined>;
try {
  ({ values } = parseArgs({
    options: {
      months: { type: "string", default: "2019-01..2019-02" },
      rows: { type: "string", default: "20000" },
      taxi: { type: "string", default: TAXI_TYPES.join(",") },
      dir: { type: "string", default: LANDING_DIR },
      plain: { type: "boolean", default: false },
    },
  }));
} catch (error) {
  fail((error as Error).message);
}
let months: string[];
try {
  months = parseMonths(String(values.months));
} catch (error) {
  fail((error as Error).message);
}
const rows = Number(values.rows);
if (!Number.isInteger(rows) || rows < 1) fail(`--rows must be a whole number >= 1 (got "${values.rows}")`);
const taxis = String(values.taxi).split(",") as TaxiType[];
for (const t of taxis)
  if (!TAXI_TYPES.includes(t)) fail(`--taxi: "${t}" is not one of ${TAXI_TYPES.join(", ")}`);
const t0 = performance.now();
for (const month of months)
  for (const taxi of taxis) {
    const file = await generateMonth({ month, taxi, rows, dir: String(values.dir), gzip: !values.plain });
    console.log(`wrote ${file}`);
  }
console.log(
  `${months.length * taxis.length} files × ${rows} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
