/**
 * The event log's reading promise under concurrent writers, on every backend (SQLite and a
 * throwaway Postgres, as tests/storage-contract.test.ts): several writers, each with its own
 * connection pool (its own `openStorage`), append batches of events — to their own runs and to
 * one run they all share — while a reader follows the log with `getEventsAfter(cursor)` as the
 * live stream and the run-status sensors do. Every event must be seen exactly once, in id order
 * (a reader must never move past an id whose transaction commits later), each run's events in the
 * order they were appended, and per-run sequence numbers must stay unique.
 *
 * On Postgres event ids come from a sequence at insert time and transactions commit in any order;
 * without the event-log lock held from id allocation to commit, the reader here skips events
 * (checked when this test was written: with that lock removed, the follower skipped 9 events).
 */
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunEvent, StoredRunEvent } from "../packages/core/src/execution/events.js";
import { openStorage } from "../packages/core/src/storage/open-storage.js";
import type { Storage } from "../packages/core/src/storage/storage.js";
import { storageBackends } from "./support/storage-backends.js";

const WRITERS = 4;
const BATCHES_PER_WRITER = 30;
const SHARED_RUN = "shared-run";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Deterministic pseudo-random numbers (a failure reproduces the same interleaving pressure). */
function random(seed: number) {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x7fffffff;
  };
}

function logEvent(runId: string, writer: number, n: number): RunEvent {
  return {
    type: "log",
    level: "info",
    message: `w${writer}#${n}`,
    source: "logger",
    runId,
    timestamp: 1_700_000_000_000 + n,
  };
}

for (const backend of storageBackends()) {
  describe.skipIf(backend.skipReason !== null)(
    `event log order under concurrent writers (${backend.name})`,
    () => {
      beforeAll(() => backend.start(), 60_000);
      afterAll(() => backend.stop(), 30_000);

      it("a reader following getEventsAfter sees every event once, in id order; per-run order and seqs hold", async () => {
        const location = await backend.createLocation();
        const writers: Storage[] = [];
        let reader: Storage | undefined;
        try {
          reader = await openStorage(location.options);
          for (let w = 0; w < WRITERS; w++)
            writers.push(await openStorage({ ...location.options, migrate: false }));
          const runIds = [SHARED_RUN, ...Array.from({ length: WRITERS }, (_, w) => `run-${w}`)];
          for (const runId of runIds)
            await reader.createRun({
              runId,
              status: "STARTED",
              selection: "a",
              assetKeys: ["a"],
              config: {},
              tags: {},
              createdAt: 1_700_000_000_000,
            });

          let writing = true;
          const seen: StoredRunEvent[] = [];
          const follow = async () => {
            let cursor = 0;
            for (;;) {
              const done = !writing; // read once more after the writers finished
              for (;;) {
                const page = await reader!.getEventsAfter(cursor, { limit: 7 });
                seen.push(...page);
                if (page.length > 0) cursor = page[page.length - 1]!.id;
                if (page.length < 7) break;
              }
              if (done) return;
              await sleep(0);
            }
          };
          const write = async (w: number) => {
            const next = random(w + 1);
            let n = 0;
            for (let b = 0; b < BATCHES_PER_WRITER; b++) {
              // A batch mixes the writer's own run and the run every writer shares.
              const size = 1 + Math.floor(next() * 6);
              const batch: RunEvent[] = [];
              for (let i = 0; i < size; i++)
                batch.push(logEvent(next() < 0.3 ? SHARED_RUN : `run-${w}`, w, n++));
              await writers[w]!.appendEvents(batch);
              if (next() < 0.3) await sleep(Math.floor(next() * 3));
            }
            return n;
          };
          const followed = follow();
          const written = await Promise.all(Array.from({ length: WRITERS }, (_, w) => write(w)));
          writing = false;
          await followed;

          const total = written.reduce((a, b) => a + b, 0);
          const all = await reader.getEventsAfter(0, { limit: 5000 });
          expect(all).toHaveLength(total);
          // Exactly once, in id order, and nothing missed.
          const seenIds = seen.map((e) => e.id);
          expect(new Set(seenIds).size, "an event was seen twice").toBe(seenIds.length);
          expect(seenIds, "out of id order").toEqual([...seenIds].sort((a, b) => a - b));
          const missed = all.filter((e) => !new Set(seenIds).has(e.id));
          expect(
            missed.map((e) => e.id),
            "events the follower skipped",
          ).toEqual([]);
          expect(seenIds).toEqual(all.map((e) => e.id));
          // Each writer's events appear in the order it appended them, in every run.
          for (let w = 0; w < WRITERS; w++) {
            const mine = seen
              .filter((e) => e.type === "log" && e.message.startsWith(`w${w}#`))
              .map((e) => Number((e as { message: string }).message.split("#")[1]));
            expect(mine).toEqual(Array.from({ length: written[w]! }, (_, i) => i));
          }
          // Per-run sequence numbers: unique, 1..n, in id order (read through a raw connection).
          const seqRows = await rawSeqs(location.options);
          for (const runId of runIds) {
            const seqs = seqRows.filter((r) => r.run_id === runId).map((r) => Number(r.run_seq));
            expect(seqs, `run_seq of ${runId}`).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
          }
        } finally {
          for (const s of writers) await s.close();
          await reader?.close();
          await backend.destroyLocation(location);
        }
      }, 60_000);
    },
  );
}

async function rawSeqs(options: { databaseUrl?: string | undefined; sqlitePath: string }) {
  const query = "select run_id, run_seq from event_logs order by id";
  if (options.databaseUrl) {
    const client = new pg.Client({ connectionString: options.databaseUrl });
    await client.connect();
    try {
      return (await client.query<{ run_id: string; run_seq: number }>(query)).rows;
    } finally {
      await client.end();
    }
  }
  const db = new Database(options.sqlitePath, { readonly: true });
  try {
    return db.prepare(query).all() as { run_id: string; run_seq: number }[];
  } finally {
    db.close();
  }
}
