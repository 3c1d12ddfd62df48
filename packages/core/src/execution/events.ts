import type { CheckSeverity } from "../definitions/asset-check.js";
import type { LogLevel } from "../definitions/context.js";
import type { MetadataMap } from "../definitions/metadata.js";
import type { SerializedError } from "../errors.js";

export type RunStatus = "QUEUED" | "STARTING" | "STARTED" | "SUCCESS" | "FAILURE" | "CANCELING" | "CANCELED";
export const TERMINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set(["SUCCESS", "FAILURE", "CANCELED"]);

export type StepKind = "asset" | "graph" | "multi" | "check";
export type StepStatus = "succeeded" | "failed" | "skipped" | "canceled";

/**
 * The data versions a materialization read, by upstream asset key: the version of an
 * unpartitioned upstream, or `{ [upstreamPartitionKey]: version }`. Inputs whose version was not
 * known are left out (staleness then falls back to materialization order).
 */
export type InputDataVersions = Readonly<Record<string, string | Readonly<Record<string, string>>>>;

/** Every state change of a run, in the order it happened. Stored in the event log as is. */
export type RunEventBody =
  | {
      readonly type: "run_started";
      /** Every planned step, so steps that never start are still described. */
      readonly steps: readonly {
        readonly stepKey: string;
        readonly kind: StepKind;
        readonly assetKeys: readonly string[];
      }[];
    }
  | { readonly type: "run_succeeded" }
  | { readonly type: "run_failed"; readonly reason: string; readonly error?: SerializedError | undefined }
  | { readonly type: "run_canceled"; readonly reason: string }
  | {
      readonly type: "step_started";
      readonly stepKey: string;
      readonly kind: StepKind;
      readonly assetKeys: readonly string[];
      readonly attempt: number;
    }
  | { readonly type: "step_succeeded"; readonly stepKey: string; readonly durationMs: number }
  | {
      readonly type: "step_failed";
      readonly stepKey: string;
      readonly assetKeys: readonly string[];
      readonly durationMs: number;
      readonly attempt: number;
      readonly error: SerializedError;
    }
  | {
      readonly type: "step_retrying";
      readonly stepKey: string;
      readonly attempt: number;
      readonly delayMs: number;
      readonly error: SerializedError;
    }
  | {
      readonly type: "step_skipped";
      readonly stepKey: string;
      readonly assetKeys: readonly string[];
      readonly reason: string;
      /** The upstream step (or check) that caused the skip. */
      readonly cause: string;
    }
  | {
      readonly type: "step_canceled";
      readonly stepKey: string;
      readonly assetKeys: readonly string[];
      readonly reason: string;
    }
  | {
      readonly type: "materialization";
      readonly stepKey: string;
      readonly assetKey: string;
      readonly metadata: MetadataMap;
      readonly codeVersion?: string | undefined;
      /** For partitioned assets: the partition and its index in the asset's key space. */
      readonly partition?: string | undefined;
      readonly partitionIndex?: number | undefined;
      /** A fingerprint of the stored value (the body's `dataVersion`, else the IO manager's). */
      readonly dataVersion?: string | undefined;
      /** The data versions of the inputs it read, when known (see `InputDataVersions`). */
      readonly inputDataVersions?: InputDataVersions | undefined;
    }
  | {
      readonly type: "check_evaluation";
      readonly stepKey: string;
      readonly assetKey: string;
      readonly checkName: string;
      readonly passed: boolean;
      readonly blocking: boolean;
      readonly severity: CheckSeverity;
      readonly metadata: MetadataMap;
      readonly description?: string | undefined;
      readonly partition?: string | undefined;
    }
  | { readonly type: "op_started"; readonly stepKey: string; readonly op: string }
  | {
      readonly type: "op_succeeded";
      readonly stepKey: string;
      readonly op: string;
      readonly durationMs: number;
    }
  | {
      readonly type: "op_failed";
      readonly stepKey: string;
      readonly op: string;
      readonly durationMs: number;
      readonly error: SerializedError;
    }
  | {
      readonly type: "log";
      readonly stepKey?: string | undefined;
      readonly level: LogLevel;
      readonly message: string;
      /** "logger" for ctx.log, "stdout"/"stderr" for captured console output. */
      readonly source: "logger" | "stdout" | "stderr";
      readonly fields?: Readonly<Record<string, unknown>> | undefined;
    };

export type RunEvent = RunEventBody & { readonly runId: string; readonly timestamp: number };
export type RunEventType = RunEvent["type"];

/** An event as stored: with its log id (monotonic per store). */
export type StoredRunEvent = RunEvent & { readonly id: number };

export function eventStepKey(event: RunEventBody): string | undefined {
  return "stepKey" in event ? event.stepKey : undefined;
}

export function eventAssetKey(event: RunEventBody): string | undefined {
  return "assetKey" in event ? event.assetKey : undefined;
}
