import type { RunRecord, RunsQuery, Storage } from "./storage.js";

/** Every run matching `query`, newest first, read page by page (1,000 a page). */
export async function* allRuns(
  storage: Pick<Storage, "listRuns">,
  query: Omit<RunsQuery, "cursor" | "limit">,
): AsyncGenerator<RunRecord> {
  let cursor: string | undefined;
  do {
    const page = await storage.listRuns({ ...query, limit: 1000, ...(cursor ? { cursor } : {}) });
    yield* page.runs;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}
