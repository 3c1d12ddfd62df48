import type { BatonInstance, Storage } from "@baton/core/internal";
import { isBatonError } from "@baton/core/internal";
import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ErrorSchema } from "./api/common.js";
import type { AppOptions } from "./app.js";
import { type Role, requireRole } from "./auth.js";
import type { CatalogSource } from "./catalog.js";
import { ApiError, fieldOfCoreError } from "./errors.js";

/** What every handler can read from its context: the caller (set by the auth middleware). */
export type Env = { Variables: { role: Role; caller: string } };

/** The one OpenAPI app every route module registers on (so /api/openapi.json lists them all). */
export type ApiApp = OpenAPIHono<Env>;

/** What route modules work with. */
export interface RouteContext {
  readonly instance: BatonInstance;
  readonly storage: Storage;
  readonly catalog: CatalogSource;
  readonly options: AppOptions;
}

/** `T` without `readonly` (core records are readonly; the zod response types are not). */
export type Writable<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly (infer U)[]
    ? Writable<U>[]
    : T extends object
      ? { -readonly [K in keyof T]: Writable<T[K]> }
      : T;
/** A core record as a response body (the same shape, typed as the declared schema expects). */
export const writable = <T>(value: T) => value as Writable<T>;

/** Every operation accepts the bearer token (required when the server has tokens). */
export const BEARER = [{ bearer: [] }];

/** A JSON success answer with its declared schema. */
export function answer<const S extends 200 | 201, T extends z.ZodType>(
  status: S,
  schema: T,
  description: string,
) {
  return { [status]: { content: { "application/json": { schema } }, description } } as {
    [K in S]: { content: { "application/json": { schema: T } }; description: string };
  };
}

const ERROR_MEANING = {
  400: "invalid request: `error.field` names the parameter or body field",
  401: "no valid API token (only when the server has tokens)",
  403: "the token's role does not allow this, or the server is read-only",
  404: "no such resource",
  409: "conflicts with the resource's state",
  413: "request body larger than 2 MB",
  415: "mutations must be sent with Content-Type: application/json",
  503: "no definitions published yet, no daemon answered, or the store is unavailable",
} as const;
export type ErrorStatus = keyof typeof ERROR_MEANING;

/** The error answers an operation can give, all `{ error: { code, message, field? } }`. */
export function errors(...statuses: ErrorStatus[]) {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: ERROR_MEANING[s], content: { "application/json": { schema: ErrorSchema } } },
    ]),
  ) as Record<
    ErrorStatus,
    { description: string; content: { "application/json": { schema: typeof ErrorSchema } } }
  >;
}
/** Errors of every read (GET): a bad parameter, a missing token, an unavailable store. */
export const READ_ERRORS = [400, 401, 503] as const satisfies readonly ErrorStatus[];
/** Errors of every mutation (POST), besides the route's own. */
export const WRITE_ERRORS = [400, 401, 403, 413, 415, 503] as const satisfies readonly ErrorStatus[];

/** An optional JSON body, described in the document but validated by the handler (an empty body is allowed). */
export function optionalJsonBody(ref: string | undefined, description: string) {
  return {
    required: false,
    description,
    content: {
      "application/json": {
        schema: ref
          ? { $ref: `#/components/schemas/${ref}` }
          : { type: "object" as const, description: "no fields (an empty body is fine too)" },
      },
    },
  };
}

export const KeyParam = z.object({
  key: z.string().min(1).max(1000).openapi({ description: "asset key, URL-encoded" }),
});
export const IdParam = z.object({ id: z.string().min(1).max(200) });
export const NameParam = z.object({ name: z.string().min(1).max(200) });

/** Refuse (403) a caller without `role`. */
export const need = (c: Context<Env>, role: Role) => requireRole(c.get("role"), role);

/** `body.partitions.keys[1]` from a zod issue path. */
export function fieldOf(target: string, path: readonly PropertyKey[]): string {
  let out = target === "json" ? "body" : target;
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `.${String(p)}`;
  return out;
}

/** One page of rows fetched with `limit + 1` (newest first): the cursor is the last id shown. */
export function pageOf<T extends { id: number }>(rows: readonly T[], limit: number) {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? String(items[items.length - 1]!.id) : null };
}

/** Run `fn`; a core validation error it throws names the precise body field. */
export async function withFields<T>(body: unknown, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const field = fieldOfCoreError(error, body);
    if (field && isBatonError(error)) throw new ApiError(400, error.code.toLowerCase(), error.message, field);
    throw error;
  }
}

/**
 * The offset of the first byte that is not part of valid UTF-8 in `bytes` (overlong forms,
 * surrogates and code points past U+10FFFF included), or undefined when all of it is.
 */
export function invalidUtf8At(bytes: Uint8Array): number | undefined {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const [n, min, max] =
      b >= 0xc2 && b <= 0xdf
        ? [1, 0x80, 0xbf]
        : b === 0xe0
          ? [2, 0xa0, 0xbf]
          : b === 0xed
            ? [2, 0x80, 0x9f]
            : b >= 0xe1 && b <= 0xef
              ? [2, 0x80, 0xbf]
              : b === 0xf0
                ? [3, 0x90, 0xbf]
                : b === 0xf4
                  ? [3, 0x80, 0x8f]
                  : b >= 0xf1 && b <= 0xf3
                    ? [3, 0x80, 0xbf]
                    : [0, 0, 0];
    if (n === 0) return i;
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? min : 0x80) || c > (k === 1 ? max : 0xbf)) return i;
    }
    i += n + 1;
  }
  return undefined;
}

/**
 * A mutation's body, read once before any route sees it: bytes that are not UTF-8 and text that
 * is not JSON are refused here with where the problem is (Hono would decode with U+FFFD and say
 * only "Malformed JSON"). An empty body passes: routes with an optional body accept it.
 */
export async function checkJsonBody(c: Context): Promise<void> {
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  const bad = invalidUtf8At(bytes);
  if (bad !== undefined)
    throw new ApiError(
      400,
      "invalid_request",
      `body: not valid UTF-8 (byte ${bad} is 0x${bytes[bad]!.toString(16).padStart(2, "0")}); send JSON encoded as UTF-8`,
      "body",
    );
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "") return;
  try {
    JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, "invalid_request", `body: not valid JSON (${(error as Error).message})`, "body");
  }
}

/**
 * GET operations that declare no query parameters, as path patterns (filled once every route is
 * registered): a parameter sent to one of them would be ignored without a word (`/api/assets?group=x`
 * lists every asset), so it is refused like an unknown parameter of the operations that declare some.
 */
export function undeclaredQueryGuard(app: ApiApp) {
  let noQuery: RegExp[] | undefined;
  const patterns = () =>
    (noQuery ??= app.openAPIRegistry.definitions.flatMap((d) => {
      if (d.type !== "route" || d.route.method !== "get" || d.route.request?.query) return [];
      const source = d.route.path
        .split(/\{[^}]+\}/)
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
        .join("[^/]+");
      return [new RegExp(`^${source}$`)];
    }));
  return async (c: Context, next: () => Promise<void>) => {
    if (c.req.method === "GET") {
      const first = new URL(c.req.url).searchParams.keys().next();
      if (!first.done && patterns().some((p) => p.test(c.req.path)))
        throw new ApiError(
          400,
          "invalid_request",
          `query.${first.value}: Unrecognized key: "${first.value}" (this operation takes no query parameters)`,
          `query.${first.value}`,
        );
    }
    await next();
  };
}

/** A JSON body that may be absent (then `{}`), validated like the declared ones. */
export async function optionalBody<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  const text = await c.req.text();
  let raw: unknown = {};
  if (text.trim() !== "") {
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new ApiError(
        400,
        "invalid_request",
        `body: not valid JSON (${(error as Error).message})`,
        "body",
      );
    }
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]!] : issue.path;
  const field = fieldOf("json", path);
  throw new ApiError(400, "invalid_request", `${field}: ${issue.message}`, field);
}
