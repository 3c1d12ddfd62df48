import type { Logger } from "./context.js";
import type { MetadataInputMap } from "./metadata.js";

export interface OutputContext {
  readonly assetKey: string;
  readonly runId: string;
  readonly log: Logger;
}

export interface InputContext {
  /** The upstream asset whose value is loaded. */
  readonly assetKey: string;
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
  /** Store an asset's value; may return metadata recorded on the materialization. */
  handleOutput(ctx: OutputContext, value: unknown): Promise<MetadataInputMap | undefined>;
  /** Load a previously stored value. */
  loadInput(ctx: InputContext): Promise<unknown>;
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
