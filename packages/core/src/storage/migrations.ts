import { type Kysely, type Migration, type MigrationProvider, sql } from "kysely";

/**
 * Versioned migrations, in code (no files to ship or find at run time). Names sort in order;
 * never edit a released one: add the next. `dialect` picks the few dialect-specific column types.
 */
export function migrationProvider(dialect: "sqlite" | "postgres"): MigrationProvider {
  const idColumn = dialect === "postgres" ? "bigserial" : "integer";
  const big = dialect === "postgres" ? "bigint" : "integer";
  const migrations: Record<string, Migration> = {
    "0001_runs_events_asset_status": {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable("runs")
          .addColumn("id", idColumn, (c) =>
            dialect === "sqlite" ? c.primaryKey().autoIncrement() : c.primaryKey(),
          )
          .addColumn("run_id", "text", (c) => c.notNull().unique())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("selection", "text", (c) => c.notNull())
          .addColumn("asset_keys", "text", (c) => c.notNull())
          .addColumn("config", "text", (c) => c.notNull())
          .addColumn("tags", "text", (c) => c.notNull())
          .addColumn("parent_run_id", "text")
          .addColumn("root_run_id", "text")
          .addColumn("created_at", big, (c) => c.notNull())
          .addColumn("started_at", big)
          .addColumn("ended_at", big)
          .addColumn("updated_at", big, (c) => c.notNull())
          .execute();
        await db.schema.createIndex("runs_status_id").on("runs").columns(["status", "id"]).execute();

        await db.schema
          .createTable("event_logs")
          .addColumn("id", idColumn, (c) =>
            dialect === "sqlite" ? c.primaryKey().autoIncrement() : c.primaryKey(),
          )
          .addColumn("run_id", "text", (c) => c.notNull())
          .addColumn("run_seq", "integer", (c) => c.notNull())
          .addColumn("type", "text", (c) => c.notNull())
          .addColumn("step_key", "text")
          .addColumn("asset_key", "text")
          .addColumn("timestamp", big, (c) => c.notNull())
          .addColumn("body", "text", (c) => c.notNull())
          .execute();
        await db.schema.createIndex("event_logs_run_id").on("event_logs").columns(["run_id", "id"]).execute();
        await db.schema
          .createIndex("event_logs_asset_type")
          .on("event_logs")
          .columns(["asset_key", "type", "id"])
          .where(sql.ref("asset_key"), "is not", null)
          .execute();

        await db.schema
          .createTable("asset_status")
          .addColumn("asset_key", "text", (c) => c.primaryKey())
          .addColumn("last_materialization_event_id", big)
          .addColumn("last_materialization_run_id", "text")
          .addColumn("last_materialized_at", big)
          .addColumn("last_materialization_metadata", "text")
          .addColumn("last_code_version", "text")
          .addColumn("last_failure_run_id", "text")
          .addColumn("last_failed_at", big)
          .addColumn("updated_at", big, (c) => c.notNull())
          .execute();

        await db.schema
          .createTable("asset_check_latest")
          .addColumn("asset_key", "text", (c) => c.notNull())
          .addColumn("check_name", "text", (c) => c.notNull())
          .addColumn("run_id", "text", (c) => c.notNull())
          .addColumn("event_id", big, (c) => c.notNull())
          .addColumn("passed", "integer", (c) => c.notNull())
          .addColumn("blocking", "integer", (c) => c.notNull())
          .addColumn("severity", "text", (c) => c.notNull())
          .addColumn("metadata", "text", (c) => c.notNull())
          .addColumn("timestamp", big, (c) => c.notNull())
          .addPrimaryKeyConstraint("asset_check_latest_pk", ["asset_key", "check_name"])
          .execute();
      },
    },
    "0002_partitions_backfills": {
      async up(db: Kysely<any>) {
        await db.schema.alterTable("runs").addColumn("partition_keys", "text").execute();
        await db.schema.alterTable("runs").addColumn("partition_indices", "text").execute();
        await db.schema.alterTable("runs").addColumn("backfill_id", "text").execute();
        await db.schema.createIndex("runs_backfill_id").on("runs").columns(["backfill_id", "id"]).execute();

        // One row per asset partition ever touched: details for staleness and the UI.
        await db.schema
          .createTable("asset_partitions")
          .addColumn("asset_key", "text", (c) => c.notNull())
          .addColumn("partition_key", "text", (c) => c.notNull())
          .addColumn("partition_index", big, (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("last_run_id", "text", (c) => c.notNull())
          .addColumn("last_materialization_event_id", big)
          .addColumn("last_materialized_at", big)
          .addColumn("code_version", "text")
          .addColumn("data_version", "text")
          .addColumn("last_failure_run_id", "text")
          .addColumn("last_failed_at", big)
          .addColumn("updated_at", big, (c) => c.notNull())
          .addPrimaryKeyConstraint("asset_partitions_pk", ["asset_key", "partition_key"])
          .execute();
        await db.schema
          .createIndex("asset_partitions_index")
          .on("asset_partitions")
          .columns(["asset_key", "partition_index"])
          .execute();

        // Maximal runs of consecutive partition indices with one status (see partition-ranges.ts).
        await db.schema
          .createTable("asset_partition_ranges")
          .addColumn("asset_key", "text", (c) => c.notNull())
          .addColumn("start_index", big, (c) => c.notNull())
          .addColumn("end_index", big, (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("asset_partition_ranges_pk", ["asset_key", "start_index"])
          .execute();
        await db.schema
          .createIndex("asset_partition_ranges_end")
          .on("asset_partition_ranges")
          .columns(["asset_key", "end_index"])
          .execute();
        // Which partitions definition the stored indices were computed with.
        await db.schema
          .createTable("asset_partition_defs")
          .addColumn("asset_key", "text", (c) => c.primaryKey())
          .addColumn("fingerprint", "text", (c) => c.notNull())
          .execute();

        await db.schema
          .createTable("dynamic_partitions")
          .addColumn("id", idColumn, (c) =>
            dialect === "sqlite" ? c.primaryKey().autoIncrement() : c.primaryKey(),
          )
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("partition_key", "text", (c) => c.notNull())
          .addColumn("created_at", big, (c) => c.notNull())
          .addUniqueConstraint("dynamic_partitions_name_key", ["name", "partition_key"])
          .execute();

        await db.schema
          .createTable("backfills")
          .addColumn("id", idColumn, (c) =>
            dialect === "sqlite" ? c.primaryKey().autoIncrement() : c.primaryKey(),
          )
          .addColumn("backfill_id", "text", (c) => c.notNull().unique())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("selection", "text", (c) => c.notNull())
          .addColumn("asset_keys", "text", (c) => c.notNull())
          .addColumn("partition_keys", "text", (c) => c.notNull())
          .addColumn("options", "text", (c) => c.notNull())
          .addColumn("counts", "text", (c) => c.notNull())
          .addColumn("error", "text")
          .addColumn("created_at", big, (c) => c.notNull())
          .addColumn("updated_at", big, (c) => c.notNull())
          .addColumn("ended_at", big)
          .execute();
      },
    },
    "0003_run_queue_workers": {
      async up(db: Kysely<any>) {
        // Queued runs carry their request; workers claim them (see claimRuns).
        await db.schema
          .alterTable("runs")
          .addColumn("priority", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.alterTable("runs").addColumn("request", "text").execute();
        await db.schema.alterTable("runs").addColumn("worker_id", "text").execute();
        await db.schema.alterTable("runs").addColumn("heartbeat_at", big).execute();
        await db.schema
          .alterTable("runs")
          .addColumn("cancel_requested", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.createIndex("runs_queue").on("runs").columns(["status", "priority", "id"]).execute();
        await db.schema
          .createTable("workers")
          .addColumn("worker_id", "text", (c) => c.primaryKey())
          .addColumn("pid", "integer", (c) => c.notNull())
          .addColumn("host", "text", (c) => c.notNull())
          .addColumn("started_at", big, (c) => c.notNull())
          .addColumn("heartbeat_at", big, (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("leases")
          .addColumn("name", "text", (c) => c.primaryKey())
          .addColumn("holder", "text", (c) => c.notNull())
          .addColumn("expires_at", big, (c) => c.notNull())
          .execute();
      },
    },
    "0004_automation": {
      async up(db: Kysely<any>) {
        // Schedules' and sensors' stored state: started/stopped (null: the definition's default) and cursor.
        await db.schema
          .createTable("instigator_state")
          .addColumn("name", "text", (c) => c.primaryKey())
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("status", "text")
          .addColumn("cursor", "text")
          .addColumn("last_tick_at", big)
          .addColumn("updated_at", big, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("ticks")
          .addColumn("id", idColumn, (c) =>
            dialect === "sqlite" ? c.primaryKey().autoIncrement() : c.primaryKey(),
          )
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("timestamp", big, (c) => c.notNull())
          .addColumn("status", "text", (c) => c.notNull())
          .addColumn("run_ids", "text", (c) => c.notNull())
          .addColumn("skip_reason", "text")
          .addColumn("error", "text")
          .addColumn("cursor", "text")
          .addColumn("duration_ms", big, (c) => c.notNull())
          .execute();
        await db.schema.createIndex("ticks_name_id").on("ticks").columns(["name", "id"]).execute();
        // A run key launches at most once per owner (sensor, schedule, backfill), ever: the row is
        // written in the same transaction as the run.
        await db.schema
          .createTable("run_keys")
          .addColumn("owner", "text", (c) => c.notNull())
          .addColumn("run_key", "text", (c) => c.notNull())
          .addColumn("run_id", "text", (c) => c.notNull())
          .addColumn("created_at", big, (c) => c.notNull())
          .addPrimaryKeyConstraint("run_keys_pk", ["owner", "run_key"])
          .execute();
        await db.schema
          .createTable("automation_evaluations")
          .addColumn("id", idColumn, (c) =>
            dialect === "sqlite" ? c.primaryKey().autoIncrement() : c.primaryKey(),
          )
          .addColumn("asset_key", "text", (c) => c.notNull())
          .addColumn("timestamp", big, (c) => c.notNull())
          .addColumn("condition", "text", (c) => c.notNull())
          .addColumn("launched", "integer", (c) => c.notNull())
          .addColumn("reason", "text", (c) => c.notNull())
          .addColumn("partition_keys", "text")
          .addColumn("run_id", "text")
          .execute();
        await db.schema
          .createIndex("automation_evaluations_asset")
          .on("automation_evaluations")
          .columns(["asset_key", "id"])
          .execute();
        await db.schema
          .createTable("kv")
          .addColumn("key", "text", (c) => c.primaryKey())
          .addColumn("value", "text", (c) => c.notNull())
          .addColumn("updated_at", big, (c) => c.notNull())
          .execute();
        // The log id of a run's terminal event: runs in the order their ends were stored (a worker's
        // clock or batching cannot hide a run from run-status sensors, as ended_at order could).
        await db.schema.alterTable("runs").addColumn("end_event_id", big).execute();
        await db.schema.createIndex("runs_end_event").on("runs").columns(["end_event_id"]).execute();
      },
    },
    "0005_data_versions": {
      async up(db: Kysely<any>) {
        // Data versions (see status/staleness.ts): each materialization's own version and the
        // versions of the inputs it read (JSON: upstream key → version, or → { partition: version }).
        await db.schema.alterTable("asset_status").addColumn("last_data_version", "text").execute();
        await db.schema.alterTable("asset_status").addColumn("last_input_versions", "text").execute();
        await db.schema.alterTable("asset_partitions").addColumn("input_versions", "text").execute();
      },
    },
    "0006_run_queue_order": {
      async up(db: Kysely<any>) {
        // Claims read queued runs in (priority desc, id) order: runs_queue (status, priority, id)
        // cannot give id ascending within a priority, so every claim sorted all queued runs (4 ms
        // with 10,000 queued on Postgres, under the queue lock; 0.2 ms with this index).
        await sql`create index runs_queue_order on runs (status, priority desc, id)`.execute(db);
      },
    },
    "0007_runs_updated_at": {
      async up(db: Kysely<any>) {
        // listRunKeys(owner, { updatedSince }): the daemon reads a backfill's recently changed runs
        // every step; without these it visited every run of the backfill each time (O(runs)).
        await db.schema.createIndex("runs_updated_at").on("runs").columns(["updated_at"]).execute();
        await db.schema.createIndex("run_keys_run_id").on("run_keys").columns(["run_id"]).execute();
      },
    },
    "0008_runs_event_seq": {
      async up(db: Kysely<any>) {
        // The last per-run event sequence number handed out: an event write allocates its numbers
        // with one UPDATE … RETURNING on the run's row (whose row lock serializes the run's
        // writers). 0 for existing runs: writers take greatest(event_seq, max(run_seq)).
        await db.schema
          .alterTable("runs")
          .addColumn("event_seq", "integer", (c) => c.notNull().defaultTo(0))
          .execute();
      },
    },
  };
  return { getMigrations: async () => migrations };
}
