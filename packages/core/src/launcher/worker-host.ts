import { requestReload } from "../daemon/reload.js";
import type { BatonInstance } from "../instance/instance.js";
import type { RunLauncher } from "./launcher.js";

export interface LauncherHostOptions {
  readonly launcher: RunLauncher;
  readonly instance: BatonInstance;
  log(line: string): void;
  /** The lines logged on signals (the CLI words them per launcher). */
  readonly messages: {
    /** First SIGINT/SIGTERM: stopping, letting what is in flight finish. */
    stopping(signal: NodeJS.Signals): string;
    /** Second one: forced. */
    forcing(signal: NodeJS.Signals): string;
    /** SIGHUP: the code is reloaded. */
    reloading(): string;
  };
}

/**
 * Host a run launcher in this process until it is asked to stop (`baton worker`): SIGHUP requests
 * a reload (workers finish their runs and restart with the new code), the first SIGINT/SIGTERM
 * stops the launcher, a second forces it. Resolves once stopped; `forced` when a second signal came.
 */
export async function hostLauncher(options: LauncherHostOptions): Promise<{ forced: boolean }> {
  const { launcher, instance, log, messages } = options;
  const stop = new AbortController();
  const force = new AbortController();
  const onHup = () => {
    log(messages.reloading());
    void requestReload(instance.storage, Date.now()).catch(() => undefined);
  };
  let count = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    count++;
    log(count === 1 ? messages.stopping(sig) : messages.forcing(sig));
    if (count === 1) stop.abort();
    else force.abort();
  };
  process.on("SIGHUP", onHup);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await launcher.run(stop.signal, force.signal);
  } finally {
    process.off("SIGHUP", onHup);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return { forced: force.signal.aborted };
}
