import { useEffect, useState } from "react";
import { computeLayout, type LayoutStats } from "./layout/compute";
import { layoutPool } from "./layout/pool";
import type { GraphLayout } from "./layout/types";
import type { GraphModel } from "./model";

export interface LayoutState {
  readonly layout: GraphLayout | null;
  /** The model `layout` was computed from (the current one may be newer while it is laid out). */
  readonly model: GraphModel | null;
  /** True while a layout for the current model and groups is being computed. */
  readonly busy: boolean;
  readonly error: Error | null;
  readonly stats: LayoutStats | null;
}

/** Lay out `model` in the workers; a newer model or collapse state cancels the older request. */
export function useGraphLayout(model: GraphModel | null, collapsed: ReadonlySet<string>): LayoutState {
  const [state, setState] = useState<LayoutState>({
    layout: null,
    model: null,
    busy: true,
    error: null,
    stats: null,
  });
  useEffect(() => {
    if (!model) return;
    const controller = new AbortController();
    setState((s) => ({ ...s, busy: true, error: null }));
    computeLayout(model, collapsed, layoutPool(), controller.signal).then(
      ({ layout, stats }) => {
        if (!controller.signal.aborted) setState({ layout, model, busy: false, error: null, stats });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setState((s) => ({ ...s, busy: false, error: error as Error }));
      },
    );
    return () => controller.abort(new DOMException("a newer layout was requested", "AbortError"));
  }, [model, collapsed]);
  return state;
}
