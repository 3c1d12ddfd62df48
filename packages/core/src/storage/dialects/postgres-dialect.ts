import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import type { BatonDatabase } from "../schema.js";
import type { DialectAdapter, Executor } from "./dialect-adapter.js";
import { redactUrl } from "./redact-url.js";

const INT8_OID = 20;

/** The channel event writers notify (on commit) and webservers listen on. */
export const EVENTS_CHANNEL = "baton_events";

/**
 * One LISTEN connection per store (per process), opened while someone watches: it wakes every
 * subscriber when a writer's transaction commits. A lost connection (server restart, a
 * terminated backend, a network cut noticed by TCP keepalive) reconnects by itself with a capped
 * backoff, and every (re)connection wakes all subscribers once: events committed while nobody
 * listened are then read like any others (subscribers read the log from their own cursor; a
 * notification carries no data, it only says "read now").
 */
export function createEventWatcher(url: string, options: { applicationName?: string } = {}) {
  const subscribers = new Set<() => void>();
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let attempt = 0;
  let closed = false;
  const wakeAll = () => {
    for (const fn of [...subscribers]) {
      try {
        fn();
      } catch {
        // A subscriber's failure is its own; the others are still woken.
      }
    }
  };
  const stopClient = () => {
    const c = client;
    client = undefined;
    if (c) c.end().catch(() => undefined);
  };
  const connect = () => {
    if (closed || client || retry || subscribers.size === 0) return;
    const c = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
      application_name: options.applicationName ?? "baton-listen",
    });
    client = c;
    let lost = false;
    const onLost = () => {
      if (lost) return;
      lost = true;
      if (client !== c) return; // ended on purpose (no subscribers left, or closed)
      client = undefined;
      c.end().catch(() => undefined);
      if (closed || subscribers.size === 0) return;
      const delay = Math.min(5000, 100 * 2 ** Math.min(attempt++, 6));
      retry = setTimeout(() => {
        retry = undefined;
        connect();
      }, delay);
      retry.unref();
    };
    c.on("error", onLost);
    c.on("end", onLost);
    c.on("notification", (message) => {
      if (message.channel === EVENTS_CHANNEL) wakeAll();
    });
    c.connect()
      .then(() => c.query(`LISTEN ${EVENTS_CHANNEL}`))
      .then(() => {
        if (client !== c) return;
        attempt = 0;
        wakeAll();
      }, onLost);
  };
  return {
    watch(onWake: () => void): () => void {
      subscribers.add(onWake);
      connect();
      return () => {
        subscribers.delete(onWake);
        if (subscribers.size === 0) {
          if (retry) clearTimeout(retry);
          retry = undefined;
          stopClient();
        }
      };
    },
    /** Whether the LISTEN connection is open (for tests and health). */
    get listening() {
      return client !== undefined;
    },
    close() {
      closed = true;
      subscribers.clear();
      if (retry) clearTimeout(retry);
      retry = undefined;
      stopClient();
    },
  };
}

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
  const watcher = createEventWatcher(url);
  return {
    name: "postgres",
    location: redactUrl(url),
    db,
    maxRowsPerInsert: 1000,
    async lockEventLog(trx, assetKeys = []) {
      // One round trip for all: this runs in the serialized part of every event write. The select
      // list is evaluated left to right: the event-log lock first, then the assets' in the given
      // (sorted) order.
      const assets = assetKeys.map(
        (k) => sql`, pg_advisory_xact_lock(hashtextextended(${`baton:partitions:${k}`}, 0))`,
      );
      await sql`select pg_advisory_xact_lock(hashtextextended('baton:event-log', 0))${sql.join(assets, sql``)}, pg_notify(${EVENTS_CHANNEL}, '')`.execute(
        trx,
      );
    },
    async lockRunEvents(trx, runIds) {
      if (runIds.length === 1)
        await sql`select pg_advisory_xact_lock(hashtextextended(${`baton:run-events:${runIds[0]}`}, 0))`.execute(
          trx,
        );
      // Volatile functions in the select list run after the sort: the locks are taken in order.
      else
        await sql`select pg_advisory_xact_lock(hashtextextended('baton:run-events:' || r, 0)) from unnest(${[...runIds]}::text[]) as r order by r`.execute(
          trx,
        );
    },
    async lockQueue(trx) {
      await sql`select pg_advisory_xact_lock(hashtextextended('baton:run-queue', 0))`.execute(trx);
    },
    async lockAsset(trx, assetKey) {
      await sql`select pg_advisory_xact_lock(hashtextextended(${`baton:partitions:${assetKey}`}, 0))`.execute(
        trx,
      );
    },
    watchEvents: (onWake) => watcher.watch(onWake),
    writeTransaction: <T>(fn: (trx: Executor) => Promise<T>) => db.transaction().execute(fn),
    close: () => {
      watcher.close();
      return db.destroy();
    },
  };
}
