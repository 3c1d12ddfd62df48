// Prints vitest's JSON report as one plain closing line ("N passed, N failed, N skipped") and
// fails when anything was skipped: under CI=true nothing may be skipped.
import { readFileSync } from "node:fs";

const report = JSON.parse(readFileSync(process.argv[2], "utf8"));
const passed = report.numPassedTests ?? 0;
const failed = report.numFailedTests ?? 0;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`vitest: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (skipped > 0) {
  for (const file of report.testResults ?? [])
    for (const t of file.assertionResults ?? [])
      if (t.status === "pending" || t.status === "todo" || t.status === "skipped")
        console.log(`skipped under CI: ${file.name} > ${t.fullName}`);
  process.exit(1);
}
if (failed > 0 || passed === 0 || report.success === false) process.exit(1);
