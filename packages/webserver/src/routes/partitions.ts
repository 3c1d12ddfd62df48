import { partitionKeyProblem } from "@baton/core";
import { createRoute, z } from "@hono/zod-openapi";
import { ApiError } from "../errors.js";
import { type ApiApp, NameParam, need, ok, type RouteContext } from "../http.js";

/** Routes: dynamic partitions (admin). */
export function partitionRoutes(app: ApiApp, { storage, catalog }: RouteContext) {
  const PartitionKeysBody = z
    .object({ keys: z.array(z.string().min(1).max(1000)).min(1).max(100_000) })
    .strict();
  for (const verb of ["add", "remove"] as const) {
    app.openapi(
      createRoute({
        method: "post",
        path: `/api/partitions/{name}/${verb}`,
        request: {
          params: NameParam,
          body: { content: { "application/json": { schema: PartitionKeysBody } }, required: true },
        },
        responses: ok(`${verb} dynamic partition keys`),
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
        return c.json({ name, [verb === "add" ? "added" : "removed"]: changed }, 200);
      },
    );
  }
}
