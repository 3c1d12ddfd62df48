import type { BatonInstance } from "@baton/core/internal";
import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { type AuthConfig, authenticate, checkHost, requireRole } from "./auth.js";
import { createCatalog } from "./catalog.js";
import { ApiError, errorAnswer } from "./errors.js";
import { eventRoutes } from "./events.js";
import { checkJsonBody, type Env, fieldOf, type RouteContext, undeclaredQueryGuard } from "./http.js";
import { OPENAPI_CONFIG } from "./openapi.js";
import { assetRoutes } from "./routes/assets.js";
import { automationRoutes } from "./routes/automation.js";
import { backfillRoutes } from "./routes/backfills.js";
import { healthRoutes } from "./routes/health.js";
import { partitionRoutes } from "./routes/partitions.js";
import { runRoutes } from "./routes/runs.js";
import { CONTENT_SECURITY_POLICY, defaultUiDir, type UiOptions, uiRoutes } from "./static-ui.js";

export interface AppOptions {
  readonly instance: BatonInstance;
  /** Bearer tokens and roles (none: every caller is admin; the server only binds to loopback then). */
  readonly auth?: AuthConfig;
  /** Refuse every mutation (403). */
  readonly readOnly?: boolean;
  /** How long a preview waits for the daemon (default 10 s). */
  readonly previewTimeoutMs?: number;
  /** How often the live event stream polls the store (default 250 ms). */
  readonly streamPollMs?: number;
  /** Ends open event streams (server shutdown). */
  readonly signal?: AbortSignal;
  /**
   * The built UI served at every path outside /api (default: the `dist` folder of the installed
   * `@baton/ui` package); `false`: the API only.
   */
  readonly ui?: UiOptions | false;
  /**
   * Host names answered besides loopback ones when there are no tokens (with tokens: the only
   * ones answered, when given); added to `auth.allowedHosts` (BATON_ALLOWED_HOSTS). `*`: any.
   */
  readonly allowedHosts?: readonly string[];
}

/** The Hono app: every route under /api, validated with zod, described at /api/openapi.json. */
export function createApp(options: AppOptions) {
  const { instance } = options;
  const storage = instance.storage;
  const auth = options.auth ?? { tokens: [] };
  const catalog = createCatalog(instance);
  const app = new OpenAPIHono<Env>({
    defaultHook: (result, c) => {
      if (result.success) return;
      const issue = result.error.issues[0]!;
      const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]!] : issue.path;
      const field = fieldOf((result as { target?: string }).target ?? "request", path);
      return c.json(
        { error: { code: "invalid_request", message: `${field}: ${issue.message}`, field } },
        400,
      );
    },
  });

  app.onError((error, c) => {
    const { status, body } = errorAnswer(error);
    if (status >= 500 && status !== 503)
      console.error(`baton webserver: ${c.req.method} ${c.req.path}: ${String(error)}`);
    // RFC 6750: say which scheme, and whether the token given was the problem.
    if (status === 401)
      c.header(
        "WWW-Authenticate",
        c.req.header("authorization")
          ? 'Bearer realm="baton", error="invalid_token"'
          : 'Bearer realm="baton"',
      );
    return c.json(body, status as 400);
  });
  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: `No route ${c.req.method} ${c.req.path}` } }, 404),
  );

  // A request body left unread (refused early, or sent where none is expected) would stay on a
  // keep-alive connection until the server drops it: close that connection after the answer.
  app.use("*", async (c, next) => {
    await next();
    const hasBody = Number(c.req.header("content-length") ?? 0) > 0 || c.req.header("transfer-encoding");
    if (hasBody && !c.req.raw.bodyUsed) c.res.headers.set("Connection", "close");
  });
  app.use("*", secureHeaders({ contentSecurityPolicy: CONTENT_SECURITY_POLICY }));
  // API answers are per caller and change all the time: never stored by a browser or proxy, except
  // those a route validates with an ETag (revalidated every time).
  app.use("/api/*", async (c, next) => {
    await next();
    if (!c.res.headers.has("cache-control"))
      c.res.headers.set(
        "Cache-Control",
        c.res.status === 304 || c.res.headers.has("etag") ? "private, no-cache" : "no-store",
      );
  });
  // DNS rebinding: only names this server is meant to be reached by (UI files included).
  const allowedHosts = [...(auth.allowedHosts ?? []), ...(options.allowedHosts ?? [])];
  app.use("*", async (c, next) => {
    checkHost(auth, allowedHosts, c.req.header("host") ?? new URL(c.req.url).host);
    await next();
  });
  // Control characters in a path or query are never meaningful here (and Postgres rejects NUL).
  app.use("/api/*", async (c, next) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(c.req.url.slice(c.req.url.indexOf("/api/")));
    } catch {
      throw new ApiError(400, "invalid_request", "The URL is not validly percent-encoded.", "url");
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is rejected.
    if (/[\u0000-\u001f\u007f]/.test(decoded))
      throw new ApiError(400, "invalid_request", "The URL contains control characters.", "url");
    await next();
  });
  // Who is calling and may they do this, from the headers alone: nothing of the body is read
  // before (an anonymous client cannot make the server buffer uploads).
  app.use("/api/*", async (c, next) => {
    const who = authenticate(auth, c.req.header("authorization"));
    c.set("role", who.role);
    c.set("caller", who.name);
    if (c.req.method !== "GET" && c.req.method !== "HEAD" && c.req.method !== "OPTIONS") {
      // JSON only: a cross-site form post cannot send this content type without a preflight.
      const type = c.req.header("content-type") ?? "";
      if (!/^application\/json\b/i.test(type))
        throw new ApiError(
          415,
          "unsupported_media_type",
          "Send mutations with Content-Type: application/json.",
        );
      if (options.readOnly)
        throw new ApiError(403, "read_only", "This webserver is read-only (--read-only).");
      // Before any validation: a caller without the role learns nothing about the input.
      const admin = /^\/api\/(?:partitions\/|sensors\/[^/]+\/cursor\/)/.test(c.req.path);
      requireRole(who.role, admin ? "admin" : "launcher");
    }
    await next();
  });
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: 2 * 1024 * 1024,
      onError: (c) =>
        c.json({ error: { code: "too_large", message: "The request body is larger than 2 MB." } }, 413),
    }),
  );

  // Bytes that are not UTF-8 or text that is not JSON: refused with where, before any route.
  app.use("/api/*", async (c, next) => {
    if (c.req.method !== "GET" && c.req.method !== "HEAD" && c.req.method !== "OPTIONS")
      await checkJsonBody(c);
    await next();
  });

  app.use("/api/*", undeclaredQueryGuard(app));

  // One module per resource, all on this app (one OpenAPI document, one middleware chain).
  const ctx: RouteContext = { instance, storage, catalog, options };
  healthRoutes(app, ctx);
  assetRoutes(app, ctx);
  automationRoutes(app, ctx);
  runRoutes(app, ctx);
  backfillRoutes(app, ctx);
  partitionRoutes(app, ctx);
  eventRoutes(app, ctx);

  app.doc31("/api/openapi.json", OPENAPI_CONFIG as never);
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  // Last: every GET the API does not answer (outside /api) is the UI's.
  if (options.ui !== false) {
    const dir = options.ui?.dir ?? defaultUiDir();
    uiRoutes(app, dir === undefined ? undefined : { dir });
  }
  return app;
}
