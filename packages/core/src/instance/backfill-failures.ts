import { allRuns } from "../storage/all-runs.js";
import type { Storage } from "../storage/storage.js";

/** Why one failed unit (a run over one partition, a chunk or a range) of a backfill failed. */
export interface BackfillFailure {
  readonly runId: string;
  readonly assetKeys: readonly string[];
  /** The partitions the run covered (one, or a chunk / range in order). */
  readonly partitionKeys: readonly string[];
  /**
   * What failed first: a step (its error), a blocking check (its name and description), or the
   * run itself before or outside any step (e.g. its worker died).
   */
  readonly kind: "step" | "check" | "run";
  /** The failed step's key, or the check's step key (`asset:check`); null for `run`. */
  readonly stepKey: string | null;
  /** The check's name, for `check`. */
  readonly checkName: string | null;
  /** The first error's message (first line, at most 500 characters). */
  readonly message: string;
}

export interface BackfillFailures {
  /** Oldest run first, at most `limit`. */
  readonly failures: readonly BackfillFailure[];
  /** How many runs of the backfill failed in all. */
  readonly failedRuns: number;
}

const MAX_MESSAGE = 500;

/** `Error in asset "x": boom` → `boom` when the failure already names step "x". */
function withoutStepPrefix(message: string, stepKey: string): string {
  const prefix = /^Error in [a-z]+(?: [a-z]+)* "([^"]*)": /.exec(message);
  return prefix && prefix[1] === stepKey ? message.slice(prefix[0].length) : message;
}

function firstLine(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "") ?? text;
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE - 1)}…` : line;
}

/**
 * The first error of each failed run of a backfill (derived from the runs' events, so also for
 * backfills stored before this existed, driven by the CLI or the daemon). Reads the events of at
 * most `limit` runs; the failed runs themselves are listed from the run index.
 */
export async function listBackfillFailures(
  storage: Storage,
  backfillId: string,
  options: { limit?: number } = {},
): Promise<BackfillFailures> {
  const limit = Math.max(0, options.limit ?? 50);
  const failed: { runId: string; assetKeys: readonly string[]; partitionKeys: readonly string[] }[] = [];
  for await (const r of allRuns(storage, { backfillId, statuses: ["FAILURE"] }))
    failed.push({ runId: r.runId, assetKeys: r.assetKeys, partitionKeys: r.partitionKeys ?? [] });
  failed.reverse(); // newest first from the index: the oldest (first launched) first here
  const failures: BackfillFailure[] = [];
  for (const run of failed.slice(0, limit)) {
    const events = await storage.getEvents(run.runId, {
      types: ["check_evaluation", "step_failed", "run_failed"],
      limit: 500,
    });
    let found: Omit<BackfillFailure, "runId" | "assetKeys" | "partitionKeys"> | undefined;
    for (const e of events) {
      if (e.type === "check_evaluation" && !e.passed && e.blocking) {
        found = {
          kind: "check",
          stepKey: e.stepKey,
          checkName: e.checkName,
          message: firstLine(
            e.description ?? `blocking check "${e.stepKey}" failed (severity ${e.severity})`,
          ),
        };
        break;
      }
      if (e.type === "step_failed" && e.error.name !== "BlockingCheckFailed") {
        found = {
          kind: "step",
          stepKey: e.stepKey,
          checkName: null,
          message: firstLine(withoutStepPrefix(e.error.message, e.stepKey)),
        };
        break;
      }
      if (e.type === "run_failed") {
        found = {
          kind: "run",
          stepKey: null,
          checkName: null,
          message: firstLine(e.reason || "the run failed"),
        };
        break;
      }
    }
    failures.push({
      runId: run.runId,
      assetKeys: run.assetKeys,
      partitionKeys: run.partitionKeys,
      ...(found ?? { kind: "run", stepKey: null, checkName: null, message: "the run failed" }),
    });
  }
  return { failures, failedRuns: failed.length };
}

/** `2024-01-01`, or `2024-01-01 … 2024-01-07 (7)` for a chunk / range; `-` for none. */
export function describeFailurePartitions(keys: readonly string[]): string {
  if (keys.length === 0) return "-";
  if (keys.length === 1) return keys[0]!;
  return `${keys[0]} … ${keys[keys.length - 1]} (${keys.length})`;
}

/** One line: `2024-01-03: step "taxi/raw" failed: no data (run <id>)`. */
export function describeBackfillFailure(f: BackfillFailure): string {
  const what =
    f.kind === "check"
      ? `blocking check "${f.stepKey}" failed: ${f.message}`
      : f.kind === "step"
        ? `step "${f.stepKey}" failed: ${f.message}`
        : `run failed: ${f.message}`;
  return `${describeFailurePartitions(f.partitionKeys)}: ${what} (run ${f.runId})`;
}
