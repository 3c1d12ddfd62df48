import type { AddressInfo } from "node:net";
import type { BatonInstance } from "@baton/core";
import { serve } from "@hono/node-server";
import { createApp } from "./app.js";
import type { AuthConfig } from "./auth.js";
import type { UiOptions } from "./static-ui.js";

export interface WebserverOptions {
  readonly instance: BatonInstance;
  /** Default 127.0.0.1. Any other address needs auth tokens. */
  readonly host?: string;
  /** Default 3000; 0 picks a free port. */
  readonly port?: number;
  readonly auth?: AuthConfig;
  readonly readOnly?: boolean;
  readonly streamPollMs?: number;
  /** The built UI to serve (default: the installed `@baton/ui` package's dist); `false`: API only. */
  readonly ui?: UiOptions | false;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** Start the API server; resolves once it listens. `close()` ends open streams and the server. */
export async function startWebserver(options: WebserverOptions) {
  const host = options.host ?? "127.0.0.1";
  if (!LOOPBACK.has(host) && (options.auth?.tokens.length ?? 0) === 0)
    throw new Error(
      `Refusing to listen on ${host} without auth: set BATON_API_TOKENS (role:token,…) or BATON_API_TOKENS_FILE, or bind to 127.0.0.1.`,
    );
  const controller = new AbortController();
  const app = createApp({
    instance: options.instance,
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.readOnly ? { readOnly: true } : {}),
    ...(options.streamPollMs !== undefined ? { streamPollMs: options.streamPollMs } : {}),
    ...(options.ui !== undefined ? { ui: options.ui } : {}),
    signal: controller.signal,
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 3000 }, () => resolve(s));
    s.once("error", reject);
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    app,
    port: address.port,
    url: `http://${shownHost}:${address.port}`,
    async close() {
      // End the event streams, then stop accepting; idle keep-alive connections (the streams'
      // included) are closed now, busy ones once their answer is sent (at most 2 s).
      controller.abort();
      const http = server as unknown as {
        closeIdleConnections?: () => void;
        closeAllConnections?: () => void;
      };
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      http.closeIdleConnections?.();
      const force = setTimeout(() => http.closeAllConnections?.(), 2000);
      const idle = setInterval(() => http.closeIdleConnections?.(), 50);
      await closed;
      clearTimeout(force);
      clearInterval(idle);
    },
  };
}
