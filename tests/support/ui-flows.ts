/**
 * Small helpers shared by the browser suites (tests/ui-*.test.ts): the API with or without a token,
 * the graph page's readiness, and accessible descriptions (playwright-core has no `expect`, so
 * `toHaveAccessibleDescription` is computed here from aria-describedby).
 */
import type { Locator, Page } from "playwright-core";
import { expect } from "vitest";
import { type DevServer, errorsOf, screenshot } from "./browser.js";

export interface ApiAnswer<T = unknown> {
  readonly status: number;
  readonly body: T;
}

/** Any API call (JSON in and out), optionally with a bearer token; never throws on a non-2xx answer. */
export async function callApi<T = unknown>(
  dev: DevServer,
  method: "GET" | "POST",
  pathname: string,
  options: { body?: unknown; token?: string } = {},
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${dev.url}${pathname}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: body as T };
}

export interface AssetNodeInfo {
  readonly key: string;
  readonly group: string;
  readonly deps: readonly string[];
  readonly partitions: { kind: string } | null;
  readonly description: string | null;
}

export interface RunInfo {
  readonly runId: string;
  readonly status: string;
  readonly assetKeys: readonly string[];
  readonly partitionKeys: readonly string[] | null;
  readonly backfillId: string | null;
  readonly createdAt: number;
  readonly config: Record<string, unknown>;
}

export async function listAssets(dev: DevServer, token?: string): Promise<AssetNodeInfo[]> {
  const answer = await callApi<{ assets: AssetNodeInfo[] }>(dev, "GET", "/api/assets", {
    ...(token ? { token } : {}),
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.assets;
}

export async function listRuns(dev: DevServer, token?: string): Promise<RunInfo[]> {
  const answer = await callApi<{ runs: RunInfo[] }>(dev, "GET", "/api/runs?limit=1000", {
    ...(token ? { token } : {}),
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.runs;
}

export const encodeKey = (key: string) => key.split("/").map(encodeURIComponent).join("/");

/** The graph (role application, named "Asset graph"). */
export const graphOf = (page: Page) => page.getByRole("application", { name: "Asset graph" });

/**
 * Wait until the graph is laid out and painted (aria-busy="false"). Fails at once when the page
 * throws (an uncaught exception unmounts the app), else after `timeout`, with a screenshot.
 */
export async function graphReady(page: Page, timeout = 30_000): Promise<Locator> {
  const graph = graphOf(page);
  const ready = graph.and(page.locator('[aria-busy="false"]'));
  const deadline = Date.now() + timeout;
  for (;;) {
    if ((await ready.count()) > 0 && (await ready.first().isVisible())) return graph;
    // An uncaught exception, or one an error boundary caught (React logs it as a console error).
    const crashed = errorsOf(page).some(
      (e) =>
        e.startsWith("pageerror:") ||
        (e.startsWith("console.error:") && !e.includes("Failed to load resource")),
    );
    if (crashed || Date.now() > deadline) {
      const state = await graph
        .evaluateAll((els) => els.map((el) => `aria-busy=${el.getAttribute("aria-busy")}`).join(", "))
        .catch(() => "unknown");
      const shot = await screenshot(page, `graph-not-ready-${Date.now()}`).catch(() => "none");
      const shown = (
        await page
          .locator("main")
          .innerText()
          .catch(() => "")
      ).slice(0, 300);
      throw new Error(
        `The asset graph was ${crashed ? "torn down by an uncaught exception" : `not laid out within ${timeout} ms`} (graph: ${state || "absent"}; the page shows: ${JSON.stringify(shown)}; page errors: ${summarizeErrors(errorsOf(page))}; screenshot: ${shot})`,
      );
    }
    await page.waitForTimeout(100);
  }
}

/** An asset node of the graph: a button named exactly by its key. */
export const assetNode = (page: Page, key: string) =>
  graphOf(page).getByRole("button", { name: key, exact: true });

/** The accessible description of an element: the text of the elements its aria-describedby names. */
export async function accessibleDescription(locator: Locator): Promise<string> {
  return locator.evaluate((el) =>
    (el.getAttribute("aria-describedby") ?? "")
      .split(/\s+/)
      .filter(Boolean)
      .map((id) => el.ownerDocument.getElementById(id)?.textContent?.trim() ?? "")
      .join(" ")
      .replace(/\s+/g, " ")
      .trim(),
  );
}

/** Asset keys selected by `root` and everything downstream (`*` suffix), from the graph's deps. */
export function downstreamOf(assets: readonly AssetNodeInfo[], roots: Iterable<string>): Set<string> {
  const children = new Map<string, string[]>();
  for (const a of assets) for (const d of a.deps) children.set(d, [...(children.get(d) ?? []), a.key]);
  const out = new Set<string>();
  const todo = [...roots];
  while (todo.length > 0) {
    const key = todo.pop()!;
    if (out.has(key)) continue;
    out.add(key);
    todo.push(...(children.get(key) ?? []));
  }
  return out;
}

/** A marker set on `window` that survives only as long as no full navigation or reload happens. */
export async function setWindowMarker(page: Page, value: string): Promise<void> {
  await page.evaluate((v) => {
    (window as unknown as { __batonMarker?: string }).__batonMarker = v;
  }, value);
}

export async function windowMarker(page: Page): Promise<string | undefined> {
  return page.evaluate(() => (window as unknown as { __batonMarker?: string }).__batonMarker);
}

/** Parse "partitions: X of N done" out of a node's accessible description. */
export function partitionsDone(description: string): { done: number; total: number } | null {
  const m = /partitions: (\d+) of (\d+) done/.exec(description);
  return m ? { done: Number(m[1]), total: Number(m[2]) } : null;
}

/** A run's status from GET /api/runs/{id}. */
export async function runStatus(dev: DevServer, runId: string, token?: string): Promise<string> {
  const answer = await callApi<{ run: { status: string } }>(dev, "GET", `/api/runs/${runId}`, {
    ...(token ? { token } : {}),
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.run.status;
}

/**
 * The page's one h1 once it shows (optionally with this text); on a timeout the error says what the
 * page shows instead, and its errors.
 */
export async function pageHeading(page: Page, name?: string, timeout = 20_000): Promise<Locator> {
  const h1 = page.getByRole("heading", { level: 1, ...(name !== undefined ? { name, exact: true } : {}) });
  try {
    await h1.waitFor({ timeout });
  } catch (error) {
    const shown = (
      await page
        .locator("body")
        .innerText()
        .catch(() => "")
    ).slice(0, 300);
    throw new Error(
      `No h1${name !== undefined ? ` "${name}"` : ""} on ${page.url()} within ${timeout} ms; the page shows: ${JSON.stringify(shown)}; page errors: ${summarizeErrors(errorsOf(page))} (${(error as Error).message.split("\n")[0]})`,
    );
  }
  expect(await page.getByRole("heading", { level: 1 }).count(), "one h1 per page").toBe(1);
  return h1;
}

/** Page errors for a failure message: each distinct one once, with how often it happened. */
export function summarizeErrors(errors: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const e of errors) counts.set(e, (counts.get(e) ?? 0) + 1);
  return JSON.stringify([...counts].map(([e, n]) => (n > 1 ? `${e} (×${n})` : e)));
}
