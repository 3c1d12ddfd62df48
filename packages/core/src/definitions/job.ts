export interface AssetJobDefinition {
  readonly kind: "asset_job";
  readonly name: string;
  /** An asset selection string (`group:ingest*`, `taxi/trips+` …). */
  readonly selection: string;
  readonly description: string | undefined;
  readonly tags: Readonly<Record<string, string>>;
}

/** A named asset selection to launch together (by schedules, sensors, the UI or the CLI). */
export function assetJob(options: {
  name: string;
  selection: string;
  description?: string;
  tags?: Record<string, string>;
}): AssetJobDefinition {
  return {
    kind: "asset_job",
    name: options.name,
    selection: options.selection,
    description: options.description,
    tags: { ...(options.tags ?? {}) },
  };
}
