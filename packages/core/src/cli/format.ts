import type { MetadataMap } from "../definitions/metadata.js";
import type { RunSummary } from "../execution/run-summary.js";

export function describeDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "-";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function describeTime(epochMs: number | null | undefined): string {
  return epochMs === null || epochMs === undefined ? "-" : new Date(epochMs).toISOString();
}

/** Metadata as plain `{ name: value }` for JSON output. */
export function plainMetadata(metadata: MetadataMap): Record<string, unknown> {
  return Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, v.value]));
}

/** The `--json` shape of a run: stable, documented in the README. */
export function runToJson(summary: RunSummary) {
  return {
    runId: summary.runId,
    status: summary.status,
    durationMs: summary.durationMs,
    reason: summary.reason,
    steps: summary.steps.map((s) => ({
      stepKey: s.stepKey,
      kind: s.kind ?? null,
      assetKeys: s.assetKeys,
      status: s.status,
      durationMs: s.durationMs,
      attempts: s.attempts,
      reason: s.reason,
      error: s.error ? { name: s.error.name, message: s.error.message } : null,
      metadata: Object.fromEntries(s.materializations.map((m) => [m.assetKey, plainMetadata(m.metadata)])),
      checks: s.checks.map((c) => ({
        assetKey: c.assetKey,
        checkName: c.checkName,
        passed: c.passed,
        blocking: c.blocking,
        severity: c.severity,
        metadata: plainMetadata(c.metadata),
      })),
    })),
  };
}

/** A fixed-width text table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const fmt = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)].join("\n");
}

export function summaryLine(summary: RunSummary): string {
  const count = (status: string) => summary.steps.filter((s) => s.status === status).length;
  return (
    `run ${summary.runId} ${summary.status} in ${describeDuration(summary.durationMs)}: ` +
    `${count("succeeded")} succeeded, ${count("failed")} failed, ${count("skipped")} skipped, ${count("canceled")} canceled`
  );
}
