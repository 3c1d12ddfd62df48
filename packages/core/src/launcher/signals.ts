/**
 * Aborts when the process is asked to stop (SIGINT/SIGTERM); a second signal exits at once (130).
 * `what` names the process in the line it logs ("daemon", "baton dev").
 */
export function stopSignal(
  what: string,
  log: (line: string) => void,
): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  let count = 0;
  const handler = (sig: NodeJS.Signals) => {
    if (++count === 1) {
      log(`${what}: received ${sig}, stopping (again to force)`);
      controller.abort();
    } else process.exit(130);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}

/** SIGHUP runs `onHangup` (a reload) until the returned function is called. */
export function onHangup(handler: () => void): () => void {
  const listener = () => handler();
  process.on("SIGHUP", listener);
  return () => process.off("SIGHUP", listener);
}
