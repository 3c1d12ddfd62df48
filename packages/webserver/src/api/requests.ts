/** Request bodies declared here (the others are in ../schemas.ts). */
import { z } from "@hono/zod-openapi";

/** POST /api/partitions/{name}/add|remove */
export const PartitionKeysBody = z
  .object({ keys: z.array(z.string().min(1).max(1000)).min(1).max(100_000) })
  .strict()
  .openapi("DynamicPartitionKeys");
