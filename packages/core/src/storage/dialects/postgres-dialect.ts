import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import type { BatonDatabase } from "../schema.js";
import type { DialectAdapter, Executor } from "./dialect-adapter.js";
import { redactUrl } from "./redact-url.js";

const INT8_OID = 20;

/** `postgres://user:***@host:port/db`: safe to print. */

/**
 * Postgres for teams and several machines (`BATON_DATABASE_URL`). BIGINT columns are parsed to
 * JS numbers per pool (ids and epoch-ms timestamps stay far below 2^53), not globally.
 */
export function openPostgresDialect(url: string, options: { maxConnections?: number } = {}): DialectAdapter {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 10_000,
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === INT8_OID && format !== "binary"
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client erroring (server restart) must not crash the process; the next query reports it.
  pool.on("error", () => undefined);
  const db = new Kysely<BatonDatabase>({ dialect: new PostgresDialect({ pool }) });
  return {
    name: "postgres",
    location: redactUrl(url),
    db,
    maxRowsPerInsert: 1000,
    async lockEventLog(trx) {
      await sql`select pg_advisory_xact_lock(hashtextextended('baton:event-log', 0))`.execute(trx);
    },
    async lockQueue(trx) {
      await sql`select pg_advisory_xact_lock(hashtextextended('baton:run-queue', 0))`.execute(trx);
    },
    async lockAsset(trx, assetKey) {
      await sql`select pg_advisory_xact_lock(hashtextextended(${`baton:partitions:${assetKey}`}, 0))`.execute(
        trx,
      );
    },
    writeTransaction: <T>(fn: (trx: Executor) => Promise<T>) => db.transaction().execute(fn),
    close: () => db.destroy(),
  };
}
