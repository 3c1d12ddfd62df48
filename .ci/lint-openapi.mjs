// npm run lint:openapi — write the API's OpenAPI document (built without a store, from the built
// @baton/webserver: run `npm run build` first) to a temp file and lint it with Redocly's recommended
// rules. Exits non-zero on any error or warning.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

let openApiDocument;
try {
  ({ openApiDocument } = await import("@baton/webserver"));
} catch (error) {
  console.error(
    `lint:openapi: cannot load the built @baton/webserver (run \`npm run build\` first): ${error.message}`,
  );
  process.exit(1);
}
const dir = mkdtempSync(path.join(os.tmpdir(), "baton-openapi-"));
const file = path.join(dir, "openapi.json");
try {
  writeFileSync(file, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
  const redocly = createRequire(import.meta.url).resolve("@redocly/cli/bin/cli.js");
  const result = spawnSync(
    process.execPath,
    [redocly, "lint", "--extends", "recommended", "--max-problems", "1000", "--format", "json", file],
    {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
    },
  );
  let report;
  try {
    report = JSON.parse(result.stdout);
  } catch {
    console.error(result.stdout, result.stderr);
    console.error(`lint:openapi: redocly did not answer a JSON report (exit ${result.status})`);
    process.exit(1);
  }
  // Warnings fail too: the document is meant to lint clean (rules turned off say why in redocly.yaml).
  for (const p of report.problems)
    console.log(`${p.severity}: ${p.ruleId}: ${p.message} (${p.location?.[0]?.pointer ?? "?"})`);
  const { errors, warnings } = report.totals;
  const operations = Object.values(JSON.parse(JSON.stringify(openApiDocument().paths))).reduce(
    (n, ops) => n + Object.keys(ops).length,
    0,
  );
  console.log(
    `lint:openapi: ${operations} operations, redocly recommended: ${errors} errors, ${warnings} warnings`,
  );
  process.exitCode = errors + warnings > 0 || result.status !== 0 ? 1 : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
