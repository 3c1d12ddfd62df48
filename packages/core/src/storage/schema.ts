import type { Generated } from "kysely";

/** Kysely's view of the tables (see migrations.ts). JSON columns are text. */
export interface BatonDatabase {
  runs: {
    id: Generated<number>;
    run_id: string;
    status: string;
    selection: string;
    asset_keys: string;
    config: string;
    tags: string;
    parent_run_id: string | null;
    root_run_id: string | null;
    created_at: number;
    started_at: number | null;
    ended_at: number | null;
    updated_at: number;
    partition_keys: string | null;
    partition_indices: string | null;
    backfill_id: string | null;
    priority: number;
    request: string | null;
    worker_id: string | null;
    heartbeat_at: number | null;
    cancel_requested: number;
    end_event_id: number | null;
    event_seq: Generated<number>;
  };
  event_logs: {
    id: Generated<number>;
    run_id: string;
    run_seq: number;
    type: string;
    step_key: string | null;
    asset_key: string | null;
    timestamp: number;
    body: string;
  };
  asset_status: {
    asset_key: string;
    last_materialization_event_id: number | null;
    last_materialization_run_id: string | null;
    last_materialized_at: number | null;
    last_materialization_metadata: string | null;
    last_code_version: string | null;
    last_data_version: string | null;
    last_input_versions: string | null;
    last_failure_run_id: string | null;
    last_failed_at: number | null;
    updated_at: number;
  };
  asset_check_latest: {
    asset_key: string;
    check_name: string;
    run_id: string;
    event_id: number;
    passed: number;
    blocking: number;
    severity: string;
    metadata: string;
    timestamp: number;
  };
  asset_partitions: {
    asset_key: string;
    partition_key: string;
    partition_index: number;
    status: string;
    last_run_id: string;
    last_materialization_event_id: number | null;
    last_materialized_at: number | null;
    code_version: string | null;
    data_version: string | null;
    input_versions: string | null;
    last_failure_run_id: string | null;
    last_failed_at: number | null;
    updated_at: number;
  };
  asset_partition_ranges: {
    asset_key: string;
    start_index: number;
    end_index: number;
    status: string;
  };
  asset_partition_defs: {
    asset_key: string;
    fingerprint: string;
  };
  dynamic_partitions: {
    id: Generated<number>;
    name: string;
    partition_key: string;
    created_at: number;
  };
  backfills: {
    id: Generated<number>;
    backfill_id: string;
    status: string;
    selection: string;
    asset_keys: string;
    partition_keys: string;
    options: string;
    counts: string;
    error: string | null;
    created_at: number;
    updated_at: number;
    ended_at: number | null;
  };
  workers: {
    worker_id: string;
    pid: number;
    host: string;
    started_at: number;
    heartbeat_at: number;
    status: string;
  };
  leases: {
    name: string;
    holder: string;
    expires_at: number;
  };
  instigator_state: {
    name: string;
    kind: string;
    status: string | null;
    cursor: string | null;
    last_tick_at: number | null;
    updated_at: number;
  };
  ticks: {
    id: Generated<number>;
    name: string;
    kind: string;
    timestamp: number;
    status: string;
    run_ids: string;
    skip_reason: string | null;
    error: string | null;
    cursor: string | null;
    duration_ms: number;
  };
  run_keys: {
    owner: string;
    run_key: string;
    run_id: string;
    created_at: number;
  };
  automation_evaluations: {
    id: Generated<number>;
    asset_key: string;
    timestamp: number;
    condition: string;
    launched: number;
    reason: string;
    partition_keys: string | null;
    run_id: string | null;
  };
  kv: {
    key: string;
    value: string;
    updated_at: number;
  };
}
