import { partitionKeyProblem } from "@baton/core/internal";
import { createRoute } from "@hono/zod-openapi";
import { PartitionKeysBody } from "../api/requests.js";
import { PartitionsAddedSchema, PartitionsRemovedSchema } from "../api/system.js";
import { ApiError } from "../errors.js";
import {
  type ApiApp,
  answer,
  BEARER,
  errors,
  NameParam,
  need,
  type RouteContext,
  WRITE_ERRORS,
} from "../http.js";

/** Routes: dynamic partitions (admin). */
export function partitionRoutes(app: ApiApp, { storage, catalog }: RouteContext) {
  for (const verb of ["add", "remove"] as const) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/api/partitions/{name}/${verb}`,
        operationId: verb === "add" ? "addDynamicPartitions" : "removeDynamicPartitions",
        summary:
          verb === "add" ? "Add dynamic partition keys (admin)" : "Remove dynamic partition keys (admin)",
        tags: ["partitions"],
        security: BEARER,
        request: {
          params: NameParam,
          body: { content: { "application/json": { schema: PartitionKeysBody } }, required: true },
        },
        responses: {
          ...(verb === "add"
            ? answer(200, PartitionsAddedSchema, "the keys that were new")
            : answer(200, PartitionsRemovedSchema, "the keys that existed")),
          ...errors(...WRITE_ERRORS, 404),
        },
      }),
      async (c) => {
        need(c, "admin");
        const { name } = c.req.valid("param");
        const { keys } = c.req.valid("json");
        // The same rule as `baton partitions add` (and static keys).
        if (verb === "add")
          keys.forEach((k, i) => {
            const problem = partitionKeyProblem(k);
            if (problem)
              throw new ApiError(400, "invalid_partition", `body.keys[${i}]: ${problem}`, `body.keys[${i}]`);
          });
        const { snapshot } = await catalog.require();
        const known = JSON.stringify(snapshot.assets.map((a) => a.partitions)).includes(
          `"kind":"dynamic","name":${JSON.stringify(name)}`,
        );
        if (!known)
          throw new ApiError(404, "not_found", `No dynamic partitions named "${name}" in the definitions.`);
        const changed =
          verb === "add"
            ? await storage.addDynamicPartitions(name, keys)
            : await storage.removeDynamicPartitions(name, keys);
        return c.json({ name, [verb === "add" ? "added" : "removed"]: changed } as never, 200);
      },
    );
  }
}
