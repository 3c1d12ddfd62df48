import { createRoute } from "@hono/zod-openapi";
import { HealthSchema, MeSchema } from "../api/system.js";
import { readDefinitionsLoadError } from "../catalog.js";
import { type ApiApp, answer, BEARER, errors, type RouteContext } from "../http.js";

/** Routes: the store, daemon and workers; who is calling. */
export function healthRoutes(app: ApiApp, { storage, catalog, options }: RouteContext) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/api/me",
      operationId: "getMe",
      summary: "The caller: token name and role",
      description:
        'With no tokens configured (auth off, loopback only) every caller is `{ name: "local", role: "admin", authRequired: false }`.',
      tags: ["system"],
      security: BEARER,
      responses: { ...answer(200, MeSchema, "the caller"), ...errors(401) },
    }),
    (c) =>
      c.json(
        { name: c.get("caller"), role: c.get("role"), authRequired: (options.auth?.tokens.length ?? 0) > 0 },
        200,
      ),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/api/health",
      operationId: "getHealth",
      summary: "Store, daemon, workers and published definitions",
      tags: ["system"],
      security: BEARER,
      responses: { ...answer(200, HealthSchema, "store, daemon and workers"), ...errors(401, 503) },
    }),
    async (c) => {
      const started = Date.now();
      await storage.latestEventId();
      const storeMs = Date.now() - started;
      const daemon = await storage.getValue("daemon/heartbeat");
      const beat = daemon ? (JSON.parse(daemon) as { id: string; at: number }) : undefined;
      const workers = (await storage.listWorkers()).filter((w) => w.status === "running");
      const snapshot = await catalog.current();
      const loadError = await readDefinitionsLoadError({ storage });
      return c.json(
        {
          status: "ok" as const,
          store: { dialect: storage.dialect, reachable: true, latencyMs: storeMs },
          daemon: beat ? { id: beat.id, heartbeatAgeMs: Date.now() - beat.at } : null,
          workers: workers.map((w) => ({
            workerId: w.workerId,
            host: w.host,
            pid: w.pid,
            heartbeatAgeMs: Date.now() - w.heartbeatAt,
          })),
          definitions: snapshot
            ? {
                hash: snapshot.snapshot.hash,
                publishedAt: snapshot.snapshot.publishedAt,
                assets: snapshot.snapshot.assets.length,
              }
            : null,
          definitionsLoadError: loadError,
        },
        200,
      );
    },
  );
}
