/**
 * Checks an answer of the webserver against what its operation declares in the OpenAPI registry
 * (the same zod schemas /api/openapi.json is generated from): a 2xx JSON answer must parse with the
 * declared response schema of its status, so a route answering something its schema does not
 * describe fails the suite that called it.
 */
import type { ZodType } from "zod";

interface RouteDefinition {
  readonly type: string;
  readonly route?: {
    readonly method: string;
    readonly path: string;
    readonly responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  };
}
/** Anything with the OpenAPIHono registry (the app createApp returns). */
export interface WithRegistry {
  readonly openAPIRegistry: { readonly definitions: readonly unknown[] };
}

const compiled = new WeakMap<
  object,
  { method: string; path: string; re: RegExp; params: number; route: RouteDefinition["route"] }[]
>();

function routesOf(app: WithRegistry) {
  let routes = compiled.get(app);
  if (!routes) {
    routes = (app.openAPIRegistry.definitions as RouteDefinition[])
      .filter((d) => d.type === "route" && d.route)
      .map((d) => {
        const r = d.route!;
        const source = r.path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+");
        return {
          method: r.method.toUpperCase(),
          path: r.path,
          re: new RegExp(`^${source}$`),
          params: (r.path.match(/\{/g) ?? []).length,
          route: r,
        };
      })
      // Literal paths win over templated ones (fewest parameters first).
      .sort((a, b) => a.params - b.params);
    compiled.set(app, routes);
  }
  return routes;
}

/** The operation answering `method url` (undefined: no declared route). */
export function operationOf(app: WithRegistry, method: string, url: string) {
  const pathname = new URL(url, "http://localhost").pathname;
  return routesOf(app).find((r) => r.method === method.toUpperCase() && r.re.test(pathname));
}

const isZod = (s: unknown): s is ZodType => typeof (s as ZodType | undefined)?.safeParse === "function";

/**
 * Throws when a 2xx JSON answer does not match its operation's declared response schema (or the
 * operation declares none for that status). Other answers are not checked here.
 */
export function checkAnswer(
  app: WithRegistry,
  method: string,
  url: string,
  status: number,
  contentType: string | null,
  body: unknown,
): void {
  if (status < 200 || status >= 300 || !/^application\/json\b/i.test(contentType ?? "")) return;
  // The document itself is not one of its operations.
  if (new URL(url, "http://localhost").pathname === "/api/openapi.json") return;
  const op = operationOf(app, method, url);
  if (!op) throw new Error(`${method} ${url} answered ${status} JSON but no operation declares this route`);
  const schema = op.route!.responses[String(status)]?.content?.["application/json"]?.schema;
  if (!isZod(schema))
    throw new Error(`${method} ${op.path} answered ${status} JSON, but declares no zod schema for ${status}`);
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `  at ${i.path.map(String).join(".") || "(root)"}: ${i.message}`)
      .join("\n");
    throw new Error(
      `${method} ${op.path} answered ${status} with a body its schema does not describe:\n${issues}`,
    );
  }
}
