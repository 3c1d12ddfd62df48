export type InitialPartitions =
  | { readonly which: "all" | "missing" | "failed" | "stale" }
  | { readonly keys: readonly string[] };

export interface LaunchDialogProps {
  readonly open: boolean;
  onOpenChange(open: boolean): void;
  /** The assets to materialize (a selection of keys). */
  readonly assetKeys: readonly string[];
  /** Preselected partitions for partitioned assets (e.g. missing ones for "Materialize stale/missing"). */
  readonly initialPartitions?: InitialPartitions;
  /** After launching: go to the run/backfill page ("navigate", default) or stay and show a toast ("stay"). */
  readonly afterLaunch?: "navigate" | "stay";
}

export function LaunchDialog(_props: LaunchDialogProps) {
  return null;
}
