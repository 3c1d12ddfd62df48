/**
 * Declarative automation: when the daemon should materialize an asset on its own.
 * - `eager()`: when it is missing, or an upstream (partition) it reads changed since it was
 *   materialized (a new data version; by materialization order when versions are unknown).
 * - `onCron(cron)`: at each cron tick, when an upstream changed since the asset was materialized.
 * Time-partitioned assets are evaluated for their latest window; other partitioned assets for every
 * partition. Each evaluation's decision and reason is stored (`baton automation history`).
 */
export type AutomationCondition =
  | { readonly kind: "eager" }
  | { readonly kind: "on_cron"; readonly cron: string; readonly timezone: string };

export function eager(): AutomationCondition {
  return { kind: "eager" };
}

export function onCron(cron: string, options: { timezone?: string } = {}): AutomationCondition {
  return { kind: "on_cron", cron, timezone: options.timezone ?? "UTC" };
}

export function describeCondition(condition: AutomationCondition): string {
  return condition.kind === "eager" ? "eager" : `on_cron(${condition.cron}, ${condition.timezone})`;
}
