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
  };
  return { getMigrations: async () => migrations };
}
