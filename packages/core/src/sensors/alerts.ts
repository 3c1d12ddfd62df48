import type { RunStatus } from "../execution/events.js";

/** What an alert says about a run. */
export interface AlertPayload {
  readonly event: "run_succeeded" | "run_failed" | "run_canceled";
  readonly runId: string;
  readonly status: RunStatus;
  readonly assetKeys: readonly string[];
  readonly partitionKeys: readonly string[] | null;
  /** The first failure's message (run or step), or null. */
  readonly error: string | null;
  /** Link to the run page in the UI. */
  readonly url: string;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly tags: Readonly<Record<string, string>>;
  readonly sensor: string;
}

export interface Alert {
  readonly kind: "alert";
  readonly name: string;
  /** Deliver (throws when delivery failed; the sensor retries then records the failure). */
  send(payload: AlertPayload, signal: AbortSignal): Promise<"sent" | "skipped">;
}

type UrlInput = string | (() => string | undefined);

export interface WebhookAlertOptions {
  /** Where to POST; a function is read at send time (e.g. from an environment variable). */
  readonly url: UrlInput;
  readonly headers?: Readonly<Record<string, string>>;
  /** Base URL of the UI for the run link (default `$BATON_UI_URL` or http://127.0.0.1:3000). */
  readonly baseUrl?: string;
}

export function runLink(runId: string, baseUrl?: string): string {
  const base = (baseUrl ?? process.env.BATON_UI_URL ?? "http://127.0.0.1:3000").replace(/\/+$/, "");
  return `${base}/runs/${encodeURIComponent(runId)}`;
}

async function post(
  url: string,
  body: unknown,
  headers: Readonly<Record<string, string>>,
  signal: AbortSignal,
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
      signal,
    });
  } catch (error) {
    // fetch's own message is only "fetch failed": the reason (ECONNREFUSED, a DNS error…) is its cause.
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    const detail =
      typeof cause?.code === "string" ? cause.code : typeof cause?.message === "string" ? cause.message : "";
    throw new Error(`POST ${url} failed: ${(error as Error).message}${detail ? ` (${detail})` : ""}`);
  }
  if (!response.ok) {
    const text = await response.text().catch(() => "");
    throw new Error(`POST ${url} answered ${response.status}${text ? `: ${text.slice(0, 200)}` : ""}`);
  }
  await response.arrayBuffer().catch(() => undefined);
}

function makeAlert(
  name: string,
  url: UrlInput,
  headers: Readonly<Record<string, string>>,
  body: (payload: AlertPayload) => unknown,
): Alert {
  return {
    kind: "alert",
    name,
    async send(payload, signal) {
      const target = typeof url === "function" ? url() : url;
      if (!target) return "skipped";
      await post(target, body(payload), headers, signal);
      return "sent";
    },
  };
}

function summaryLine(p: AlertPayload): string {
  const what = p.status === "SUCCESS" ? "succeeded" : p.status === "CANCELED" ? "was canceled" : "failed";
  const partitions = p.partitionKeys?.length
    ? ` [${p.partitionKeys.length === 1 ? p.partitionKeys[0] : `${p.partitionKeys[0]} … ${p.partitionKeys[p.partitionKeys.length - 1]}`}]`
    : "";
  return `Baton run ${p.runId} ${what}: ${p.assetKeys.join(", ")}${partitions}${p.error ? `\nError: ${p.error}` : ""}\n${p.url}`;
}

/** POST the payload as JSON to any URL. */
export function webhookAlert(options: WebhookAlertOptions): Alert {
  return makeAlert("webhook", options.url, options.headers ?? {}, (p) =>
    options.baseUrl ? { ...p, url: runLink(p.runId, options.baseUrl) } : p,
  );
}

/** Slack incoming webhook (`{ text }`). */
export function slackAlert(options: { webhookUrl: UrlInput }): Alert {
  return makeAlert("slack", options.webhookUrl, {}, (p) => ({ text: summaryLine(p) }));
}

/** Discord webhook (`{ content }`, at most 2,000 characters). */
export function discordAlert(options: { webhookUrl: UrlInput }): Alert {
  return makeAlert("discord", options.webhookUrl, {}, (p) => ({ content: summaryLine(p).slice(0, 2000) }));
}
