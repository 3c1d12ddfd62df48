import type { BatonInstance } from "@baton/core/internal";
import { createApp } from "./app.js";

/** The document's top level: what /api/openapi.json says besides the operations. */
export const OPENAPI_CONFIG = {
  openapi: "3.1.0",
  info: {
    title: "Baton API",
    version: "0.1.0",
    description:
      "Assets, runs, backfills, automation and live events. Every error answer is `{ error: { code, message, field? } }`. " +
      "Send `Authorization: Bearer TOKEN` when the server has tokens (viewer reads; launcher also launches, cancels, starts and stops; admin also manages dynamic partitions and sensor cursors). " +
      "Mutations are POSTs with `Content-Type: application/json`.",
    license: { name: "MIT", identifier: "MIT" },
  },
  servers: [{ url: "/", description: "the webserver serving this document" }],
  security: [{ bearer: [] }],
  tags: [
    { name: "system", description: "Health and the caller" },
    { name: "assets", description: "The asset graph, asset status, partitions, lineage reasons, history" },
    { name: "definitions", description: "Jobs and resources from the published definitions" },
    { name: "automation", description: "Schedules and sensors" },
    { name: "runs", description: "Runs: list, detail, events, logs, launch, cancel, re-execute" },
    { name: "backfills", description: "Backfills over partitions" },
    { name: "partitions", description: "Dynamic partition keys (admin)" },
    { name: "events", description: "Live run events" },
  ],
} as const;

/**
 * The OpenAPI document of the API, built without a store (for linting and client generation):
 * registering routes touches no storage.
 */
export function openApiDocument() {
  const app = createApp({ instance: { storage: {} } as unknown as BatonInstance, ui: false });
  return app.getOpenAPI31Document(OPENAPI_CONFIG as never);
}
