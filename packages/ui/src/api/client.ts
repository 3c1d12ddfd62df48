import type { ApiErrorBody } from "@baton/webserver/api-types";

/** An answer of the API that is not 2xx, with the server's code, message and the field it names. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export const isApiError = (error: unknown): error is ApiError => error instanceof ApiError;

const TOKEN_KEY = "baton.token";

/** Where the bearer token lives: the browser session (a closed tab forgets it). */
export const tokenStore = {
  get(): string | null {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  set(token: string | null) {
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // storage unavailable (private mode): the token lives for this page only
    }
    for (const l of listeners) l();
  },
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
const listeners = new Set<() => void>();

export function authHeaders(): Record<string, string> {
  const token = tokenStore.get();
  return token ? { authorization: `Bearer ${token}` } : {};
}

export interface RequestOptions {
  readonly method?: "GET" | "POST";
  /** Sent as JSON (mutations always send a JSON body, `{}` when empty). */
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  readonly query?: Record<string, string | number | undefined | null>;
}

/** `/api/...` with the query string appended (undefined values left out). */
export function apiUrl(path: string, query?: RequestOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {}))
    if (v !== undefined && v !== null) params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** Encode an asset key for a path segment (`taxi/raw_trips` → `taxi%2Fraw_trips`). */
export const keySegment = (key: string) => encodeURIComponent(key);

/** Call the JSON API; non-2xx answers throw an ApiError carrying the server's message. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? (options.body !== undefined ? "POST" : "GET");
  let response: Response;
  try {
    response = await fetch(apiUrl(path, options.query), {
      method,
      headers: {
        accept: "application/json",
        ...(method === "POST" ? { "content-type": "application/json" } : {}),
        ...authHeaders(),
      },
      ...(method === "POST" ? { body: JSON.stringify(options.body ?? {}) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw new ApiError(
      0,
      "unreachable",
      "The Baton webserver cannot be reached. Is `baton dev` still running?",
    );
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = (json as ApiErrorBody | undefined)?.error;
    throw new ApiError(
      response.status,
      error?.code ?? "http_error",
      error?.message ?? `The server answered ${response.status} ${response.statusText}.`,
      error?.field ?? undefined,
    );
  }
  return json as T;
}
