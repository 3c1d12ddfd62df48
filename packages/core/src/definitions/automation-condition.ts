/**
 * Declarative automation: when the daemon should materialize an asset on its own.
 * - `eager()`: when it is missing, or an upstream (partition) it reads was materialized after it.
 * - `onCron(cron)`: at each cron tick, when an upstream was materialized since the asset was.
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
