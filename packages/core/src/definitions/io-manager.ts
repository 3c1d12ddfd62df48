import type { Logger } from "./context.js";
import type { MetadataInputMap } from "./metadata.js";

export interface OutputContext {
  readonly assetKey: string;
  /** The partition being stored (partitioned assets; one call per partition). */
  readonly partitionKey: string | undefined;
  readonly runId: string;
  readonly log: Logger;
}

/** What `handleOutput` may report back: metadata for the materialization, a data version. */
export interface OutputResult {
  readonly metadata?: MetadataInputMap;
  /**
   * A fingerprint of the stored data (e.g. a content hash), recorded per materialization: the same
   * data must give the same version, so downstream assets that read it stay fresh when it is stored
   * again unchanged (a body's own `dataVersion` wins). Omit it when unknown: staleness then falls
   * back to materialization order.
   */
  readonly dataVersion?: string;
}

export interface InputContext {
  /** The upstream asset whose value is loaded. */
  readonly assetKey: string;
  /** The upstream partition to load (partitioned upstreams; one call per partition). */
  readonly partitionKey: string | undefined;
  /** The asset (or check) that asked for it. */
  readonly forStep: string;
  readonly runId: string;
  readonly log: Logger;
}

/**
 * Stores the values passed through `ins` between steps and runs. Register one as a resource
 * (default name `io_manager`) and point assets at it with `ioManager: "name"`.
 */
export interface IOManager {
  /** Store an asset's value; may report metadata and a data version for the materialization. */
  handleOutput(ctx: OutputContext, value: unknown): Promise<OutputResult | undefined>;
  /** Load a previously stored value. */
  loadInput(ctx: InputContext): Promise<unknown>;
  /**
   * Whether steps later in the same run may receive the value in memory instead of through
   * `loadInput` (default true). False when what is loaded differs from what was returned (the
   * DuckDB IO manager stores a query's rows and hands out a table handle).
   */
  readonly reuseInRun?: boolean;
}

export const DEFAULT_IO_MANAGER = "io_manager";

export function isIOManager(value: unknown): value is IOManager {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as IOManager).handleOutput === "function" &&
    typeof (value as IOManager).loadInput === "function"
  );
}
