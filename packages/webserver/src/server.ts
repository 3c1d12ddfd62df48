import type { AddressInfo } from "node:net";
import { BatonError, type BatonInstance } from "@baton/core/internal";
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
  /**
   * How often the live event stream reads the store when nothing wakes it (default 250 ms, or
   * BATON_STREAM_POLL_MS). On Postgres, commits wake the streams at once (LISTEN/NOTIFY); this is
   * the fallback.
   */
  readonly streamPollMs?: number;
  /** The built UI to serve (default: the installed `@baton/ui` package's dist); `false`: API only. */
  readonly ui?: UiOptions | false;
  /** Host names answered besides loopback ones (see `AppOptions.allowedHosts`; BATON_ALLOWED_HOSTS). */
  readonly allowedHosts?: readonly string[];
  /** Longest wait for a request's headers (default 10 s). */
  readonly headersTimeoutMs?: number;
  /**
   * Longest wait for a whole request, body included (default 30 s): a slow upload is cut off
   * (408). Answers are not limited: the event stream stays open.
   */
  readonly requestTimeoutMs?: number;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** BATON_STREAM_POLL_MS: the event stream's polling fallback, in ms (10 to 600000). */
export function streamPollMsFromEnv(env: Readonly<Record<string, string | undefined>>): number | undefined {
  const raw = env.BATON_STREAM_POLL_MS?.trim();
  if (raw === undefined || raw === "") return undefined;
  const ms = Number(raw);
  if (!/^\d+$/.test(raw) || ms < 10 || ms > 600_000)
    throw new BatonError(
      "USAGE_ERROR",
      `BATON_STREAM_POLL_MS must be a whole number of milliseconds from 10 to 600000 (got "${raw}").`,
    );
  return ms;
}

/** Start the API server; resolves once it listens. `close()` ends open streams and the server. */
export async function startWebserver(options: WebserverOptions) {
  const host = options.host ?? "127.0.0.1";
  if (!LOOPBACK.has(host) && (options.auth?.tokens.length ?? 0) === 0)
    // The caller's to fix (the CLI prints it as such, without a stack trace).
    throw new BatonError(
      "USAGE_ERROR",
      `Refusing to listen on ${host} without auth: set BATON_API_TOKENS (role:token,…) or BATON_API_TOKENS_FILE, or bind to 127.0.0.1.`,
    );
  const headersTimeoutMs = options.headersTimeoutMs ?? 10_000;
  // Node requires requestTimeout >= headersTimeout (0 would mean none).
  const requestTimeoutMs = Math.max(options.requestTimeoutMs ?? 30_000, headersTimeoutMs);
  const streamPollMs = options.streamPollMs ?? streamPollMsFromEnv(process.env);
  const controller = new AbortController();
  const app = createApp({
    instance: options.instance,
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.readOnly ? { readOnly: true } : {}),
    ...(streamPollMs !== undefined ? { streamPollMs } : {}),
    ...(options.ui !== undefined ? { ui: options.ui } : {}),
    ...(options.allowedHosts ? { allowedHosts: options.allowedHosts } : {}),
    signal: controller.signal,
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve(
      {
        fetch: app.fetch,
        hostname: host,
        port: options.port ?? 3000,
        serverOptions: {
          headersTimeout: headersTimeoutMs,
          requestTimeout: requestTimeoutMs,
          // Node checks both timeouts this often (default 30 s: a 10 s limit could take 40).
          connectionsCheckingInterval: Math.max(
            10,
            Math.min(1000, Math.floor(Math.min(headersTimeoutMs, requestTimeoutMs) / 4)),
          ),
        },
      },
      () => resolve(s),
    );
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
