import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPostgres } from "./postgres.js";
import {
  createTestDatabase,
  dropTestDatabase,
  handleMissingPostgres,
  requirePostgresOrSkipReason,
  startTestPostgres,
} from "./postgres.js";

const skipReason = requirePostgresOrSkipReason();
if (skipReason !== null) handleMissingPostgres(skipReason); // fails the file under CI, warns otherwise

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on("error", () => {});
  await client.connect();
  return client;
}

async function tableExists(url: string, table: string): Promise<boolean> {
  const client = await connect(url);
  try {
    const result = await client.query<{ found: string | null }>("SELECT to_regclass($1)::text AS found", [
      table,
    ]);
    return result.rows[0]?.found != null;
  } finally {
    await client.end();
  }
}

describe.skipIf(skipReason !== null)("test Postgres harness", () => {
  const throwaway = !process.env.BATON_TEST_DATABASE_URL?.trim();
  let server: TestPostgres | null = null;
  const created: string[] = [];

  beforeAll(async () => {
    server = await startTestPostgres();
    if (server === null)
      throw new Error("startTestPostgres() returned null although no skip reason was found");
  });

  afterAll(async () => {
    for (const url of created) await dropTestDatabase(url).catch(() => {});
    if (server === null) return;
    await server.stop();
    await server.stop(); // idempotent
    if (throwaway) {
      await expect(connect(server.url)).rejects.toThrow(/ECONNREFUSED|connect/);
    }
  });

  it("serves the postgres database", async () => {
    const client = await connect(server!.url);
    try {
      const result = await client.query<{ one: number }>("SELECT 1 AS one");
      expect(result.rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
  });

  it("creates isolated, uniquely named databases and drops them", async () => {
    const first = await createTestDatabase(server!.url);
    created.push(first);
    const second = await createTestDatabase(server!.url);
    created.push(second);

    const nameOf = (url: string) => new URL(url).pathname.slice(1);
    expect(nameOf(first)).toMatch(/^baton_test_[0-9a-f]+$/);
    expect(nameOf(second)).toMatch(/^baton_test_[0-9a-f]+$/);
    expect(nameOf(first)).not.toBe(nameOf(second));

    const client = await connect(first);
    try {
      await client.query("CREATE TABLE widgets (id integer PRIMARY KEY)");
      await client.query("INSERT INTO widgets VALUES (1)");
    } finally {
      await client.end();
    }
    expect(await tableExists(first, "public.widgets")).toBe(true);
    expect(await tableExists(second, "public.widgets")).toBe(false);

    // WITH (FORCE): an open connection does not block the drop.
    const lingering = await connect(first);
    await dropTestDatabase(first);
    await dropTestDatabase(second);
    await lingering.end().catch(() => {});
    await dropTestDatabase(first); // idempotent

    for (const url of [first, second]) {
      await expect(connect(url)).rejects.toThrow(/does not exist/);
    }
  });

  it("refuses to drop databases it did not create", async () => {
    await expect(dropTestDatabase(server!.url)).rejects.toThrow(/refusing to drop "postgres"/);
    expect(await tableExists(server!.url, "pg_catalog.pg_class")).toBe(true);
  });
});
