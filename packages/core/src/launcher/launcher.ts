import type { BatonInstance } from "../instance/instance.js";

/** Gets queued runs executed somewhere: local worker processes, Kubernetes Jobs, ... */
export interface RunLauncher {
  /** For the start-up line, e.g. "up to 2 local worker processes", "Kubernetes Jobs in namespace data". */
  describe(): string;
  /**
   * Launch queued runs until `signal` aborts; resolves once stopped. Aborting `force` too (a second
   * Ctrl-C) stops without waiting for what is in flight (local: the workers are killed, their runs
   * fail); launchers with nothing to wait for may ignore it.
   */
  run(signal: AbortSignal, force?: AbortSignal): Promise<void>;
}

export interface LauncherContext {
  readonly instance: BatonInstance;
  /** Absolute path of the definitions file (workers load it). */
  readonly definitionsPath: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  log(line: string): void;
}
