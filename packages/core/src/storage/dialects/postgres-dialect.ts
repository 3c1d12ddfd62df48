import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { StorageError } from "../../errors.js";
import type { BatonDatabase } from "../schema.js";
import type { DialectAdapter, Executor } from "./dialect-adapter.js";
import { redactUrl } from "./redact-url.js";

const INT8_OID = 20;

/** The channel event writers notify (on commit) and webservers listen on. */
export const EVENTS_CHANNEL = "baton_events";

/** The channel writers of asset_partition_defs notify (payload: the asset key). */
export const PARTITION_DEFS_CHANNEL = "baton_partition_defs";

/**
 * One LISTEN connection per store (per process), opened while someone watches: it wakes every
 * subscriber when a writer's transaction commits. A lost connection (server restart, a
 * terminated backend, a network cut noticed by TCP keepalive) reconnects by itself with a capped
 * backoff, and every (re)connection wakes all subscribers once: events committed while nobody
 * listened are then read like any others (subscribers read the log from their own cursor; a
 * notification carries no data, it only says "read now").
 */
export function createEventWatcher(
  url: string,
  options: { applicationName?: string; channel?: string; unref?: boolean } = {},
) {
  const channel = options.channel ?? EVENTS_CHANNEL;
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
      if (message.channel === channel) wakeAll();
    });
    c.connect()
      .then(() => c.query(`LISTEN ${channel}`))
      .then(() => {
        if (client !== c) return;
        // A cache's listener must not keep a process alive that is otherwise done.
        if (options.unref)
          (c as unknown as { connection?: { stream?: { unref?(): void } } }).connection?.stream?.unref?.();
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

/** How long a write transaction keeps retrying while the server is unreachable (a restart). */
export const RECONNECT_WAIT_MS = 15_000;

/**
 * Whether an error means the server or the connection went away (a restart, a terminated backend,
 * a refused connection), not that the statement was wrong: SQLSTATE class 08 and 57P01-57P03,
 * socket errors, and pg's own messages for a dead client.
 */
export function isConnectionLoss(error: unknown): boolean {
  if (error instanceof AggregateError) return error.errors.some(isConnectionLoss);
  if (typeof error !== "object" || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === "string" && (/^08/.test(code) || /^57P0[123]$/.test(code))) return true;
  if (typeof code === "string" && ["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT"].includes(code))
    return true;
  return (
    typeof message === "string" &&
    /Connection terminated|not queryable|timeout exceeded when trying to connect|connection is closed/i.test(
      message,
    )
  );
}

/** pg's refusal of a query on a dead client (the query was never sent). */
function neverSent(error: unknown): boolean {
  return error instanceof Error && /not queryable/.test(error.message);
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return messageOf(error.errors[0]);
  return error instanceof Error ? error.message || error.name : String(error);
}

/**
 * Runs a write transaction, riding out a server restart: when the connection is lost before COMMIT
 * was sent, the server rolled the transaction back, so it is run again (backoff 100 ms to 1 s) for
 * up to `waitMs`. A loss during COMMIT is not retried (it may have committed: running it again could
 * write twice), unless pg refused to send the COMMIT (the client was already known dead). Either way a connection loss that is given up on becomes a StorageError naming the
 * store, instead of pg's bare "Connection terminated unexpectedly".
 */
export async function retryingTransaction<T>(
  run: (markCommitting: () => void) => Promise<T>,
  options: {
    location: string;
    waitMs?: number;
    sleep?: (ms: number) => Promise<void>;
    /** Told of every connection loss (retried or not). */
    onLoss?: () => void;
  },
): Promise<T> {
  const waitMs = options.waitMs ?? RECONNECT_WAIT_MS;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    let committing = false;
    try {
      return await run(() => {
        committing = true;
      });
    } catch (error) {
      if (!isConnectionLoss(error)) throw error;
      options.onLoss?.();
      // pg refuses a query on a client it already knows is dead without sending it: a COMMIT
      // refused so was never sent, and the server rolled the transaction back.
      if (committing && !neverSent(error))
        throw new StorageError(
          `Lost the connection to the postgres store at ${options.location} while committing (the write may or may not have been saved): ${messageOf(error)}`,
          { cause: error },
        );
      const waited = Date.now() - started;
      if (waited >= waitMs)
        throw new StorageError(
          `The postgres store at ${options.location} was unreachable for ${(waited / 1000).toFixed(1)} s: ${messageOf(error)}. Check that the server is running.`,
          { cause: error },
        );
      await sleep(Math.min(1000, 100 * 2 ** Math.min(attempt, 4), Math.max(0, waitMs - waited)));
    }
  }
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
  // A client erroring (server restart, terminated backend) must not crash the process: the pool
  // handles idle clients ("error" below), but a checked-out one (a transaction between two
  // statements) emits "error" with no listener, which Node throws. Its in-flight or next query
  // fails instead, and the pool drops it on release (it is no longer queryable).
  // When this process last lost the server, and when it connected again after that: the run
  // monitor must not take an outage for dead workers (see `reachableSince`).
  let lostAt: number | undefined;
  let reachableSince = 0;
  const lost = () => {
    lostAt = Date.now();
  };
  pool.on("error", lost);
  pool.on("connect", (client) => {
    client.on("error", lost);
    if (lostAt !== undefined && lostAt >= reachableSince) reachableSince = Date.now();
  });
  const db = new Kysely<BatonDatabase>({ dialect: new PostgresDialect({ pool }) });
  const watcher = createEventWatcher(url);
  // Which partitions definition (fingerprint) each asset's stored indices use, as this process last
  // saw it: syncPartitionsDefinition reads it once per run otherwise (one round trip per run in a
  // backfill). Safe across processes because every write of asset_partition_defs notifies
  // PARTITION_DEFS_CHANNEL in its transaction (delivered at commit) and this process listens:
  // - an entry is used only while the LISTEN connection is up; a (re)connection or any
  //   notification clears every entry (a change made while nobody listened is then read again);
  // - an entry is remembered only if no notification arrived between the read it comes from and
  //   now (`since`: the generation before the read), so a change committed right after the read
  //   cannot be hidden by a late remember.
  // What remains is the delay of a notification (milliseconds): the same check-then-run window as
  // reading the fingerprint without a lock before a run, which the store has always had.
  const defsWatcher = createEventWatcher(url, {
    channel: PARTITION_DEFS_CHANNEL,
    applicationName: "baton-listen-partitions",
    unref: true,
  });
  const known = new Map<string, string>();
  let generation = 0;
  let listening = false;
  let unwatch: (() => void) | undefined;
  const partitionDefs = {
    generation: () => generation,
    known(assetKey: string, fingerprint: string) {
      if (!unwatch)
        unwatch = defsWatcher.watch(() => {
          generation++;
          known.clear();
          listening = true;
        });
      return listening && defsWatcher.listening && known.get(assetKey) === fingerprint;
    },
    remember(assetKey: string, fingerprint: string, since: number) {
      if (listening && defsWatcher.listening && generation === since) known.set(assetKey, fingerprint);
    },
    async changed(trx: Executor, assetKey: string) {
      await sql`select pg_notify(${PARTITION_DEFS_CHANNEL}, ${assetKey})`.execute(trx);
    },
  };
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
    partitionDefs,
    // Every write goes through here: a server restart (down a few seconds) delays writes instead of
    // failing the runs, ticks and heartbeats that make them.
    writeTransaction: <T>(fn: (trx: Executor) => Promise<T>) =>
      retryingTransaction(
        (markCommitting) =>
          db.transaction().execute(async (trx) => {
            const result = await fn(trx);
            markCommitting();
            return result;
          }),
        { location: redactUrl(url), onLoss: lost },
      ),
    /**
     * Since when this process can reach the server again after it last lost it (0: never lost). A
     * worker cannot heartbeat while the server is down, so silence from before this is no sign of a
     * dead worker (kysely-queue's staleRuns waits a full heartbeat timeout after it).
     */
    reachableSince: () => (lostAt !== undefined && lostAt >= reachableSince ? Date.now() : reachableSince),
    close: () => {
      watcher.close();
      defsWatcher.close();
      return db.destroy();
    },
  };
}
