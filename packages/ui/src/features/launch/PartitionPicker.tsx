import type { PartitionsSpec } from "@baton/webserver/api-types";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useMemo, useState } from "react";
import { KeyCombobox } from "./KeyCombobox";
import type { DimensionInfo, DimensionPick, KeyRef, PickerState, Which } from "./launch-request";
import { lookUpKeyIndex } from "./use-key-search";

export interface PartitionErrors {
  readonly from?: string;
  readonly to?: string;
  readonly keys?: string;
  readonly any?: string;
}

type Mode = "one" | "range" | "keys" | "dimensions" | Which;

const WHICH_LABELS: Record<Which, string> = {
  all: "All",
  missing: "Missing",
  failed: "Failed",
  stale: "Stale",
};
const WHICH_HINTS: Record<Which, string> = {
  all: "every partition",
  missing: "never materialized",
  failed: "whose latest run failed",
  stale: "materialized, but older than their upstreams or code",
};

const modeOf = (s: PickerState): Mode => (s.mode === "which" ? s.which : s.mode);

/** The starting state for a mode (keys chosen in another mode are not carried over). */
function stateFor(mode: Mode, dims: readonly DimensionInfo[], specs: readonly DimSpecKind[]): PickerState {
  switch (mode) {
    case "one":
      return { mode: "one", key: null };
    case "range":
      return { mode: "range", from: null, to: null };
    case "keys":
      return { mode: "keys", keys: [] };
    case "dimensions":
      return {
        mode: "dimensions",
        picks: dims.map((d, i) =>
          specs[i] === "time" ? { kind: "range", from: null, to: null } : { kind: "list", keys: [...d.keys] },
        ),
      };
    default:
      return { mode: "which", which: mode };
  }
}

type DimSpecKind = "static" | "dynamic" | "time";

/** Resolve the position of a range end chosen from a substring search (sorted key spaces: time partitions). */
function useRangeIndices(
  assetKey: string,
  total: number | undefined,
  state: PickerState,
  onChange: (s: PickerState) => void,
) {
  const client = useQueryClient();
  useEffect(() => {
    if (state.mode !== "range" || total === undefined) return;
    const { from, to } = state;
    const unknown = (ref: KeyRef | null) => ref !== null && ref.index === undefined;
    if (!unknown(from) && !unknown(to)) return;
    let stale = false;
    const resolve = async (ref: KeyRef | null): Promise<KeyRef | null> =>
      ref && ref.index === undefined
        ? // null: not where sorted order puts it; the server counts the range then.
          { key: ref.key, index: await lookUpKeyIndex(client, assetKey, ref.key, total).catch(() => null) }
        : ref;
    void Promise.all([resolve(from), resolve(to)]).then(([f, t]) => {
      if (!stale) onChange({ mode: "range", from: f, to: t });
    });
    return () => {
      stale = true;
    };
  }, [assetKey, total, state, onChange, client]);
}

/**
 * Which partitions to materialize: one (key search), a range, all / missing / failed / stale, or for
 * multi-partitioned assets one pick per dimension (a range or list of the time dimension,
 * checkboxes for the others) that together make the keys.
 */
export function PartitionPicker(props: {
  readonly assetKey: string;
  readonly spec: PartitionsSpec;
  readonly state: PickerState;
  onChange(state: PickerState): void;
  readonly dims: readonly DimensionInfo[] | null;
  readonly total: number | undefined;
  readonly counts: { readonly missing?: number; readonly failed?: number } | undefined;
  readonly errors: PartitionErrors;
  readonly allowKeysMode: boolean;
}) {
  const { assetKey, spec, state, onChange, dims, errors } = props;
  const name = useId();
  const multi = spec.kind === "multi";
  const dimSpecs: DimSpecKind[] = multi ? spec.dimensions.map((d) => d.spec.kind) : [];
  const modes: Mode[] = [
    "one",
    multi ? "dimensions" : "range",
    ...(props.allowKeysMode ? (["keys"] as const) : []),
    "all",
    "missing",
    "failed",
    "stale",
  ];
  const labels: Record<Mode, string> = {
    one: "One partition",
    range: "Range",
    keys: "Chosen",
    dimensions: "By dimension",
    ...WHICH_LABELS,
  };
  const fmt = (n: number | undefined) => (n === undefined ? "" : ` (${n.toLocaleString("en")})`);
  const countOf = (m: Mode) =>
    m === "all"
      ? fmt(props.total)
      : m === "missing"
        ? fmt(props.counts?.missing)
        : m === "failed"
          ? fmt(props.counts?.failed)
          : m === "keys" && state.mode === "keys"
            ? fmt(state.keys.length)
            : "";
  useRangeIndices(assetKey, props.total, state, onChange);
  // Time keys sort in time order: a typed query is read as a prefix first (finds recent keys fast).
  const source = { kind: "remote" as const, assetKey, sorted: spec.kind === "time" };
  const mode = modeOf(state);
  return (
    <fieldset className="partition-picker">
      <legend>Partitions</legend>
      <div className="segmented" role="radiogroup" aria-label="Which partitions">
        {modes.map((m) => (
          <label key={m} className={mode === m ? "checked" : undefined}>
            <input
              type="radio"
              name={name}
              value={m}
              checked={mode === m}
              onChange={() => onChange(stateFor(m, dims ?? [], dimSpecs))}
            />
            {labels[m]}
            <span className="muted">{countOf(m)}</span>
          </label>
        ))}
      </div>
      {errors.any && (
        <div className="field-error" role="alert">
          {errors.any}
        </div>
      )}
      {state.mode === "one" && (
        <KeyCombobox
          label="Partition key"
          source={source}
          value={state.key}
          onChange={(key) => onChange({ mode: "one", key })}
          error={errors.keys ?? errors.from}
        />
      )}
      {state.mode === "range" && (
        <div className="range-row">
          <KeyCombobox
            label="From"
            source={source}
            value={state.from}
            onChange={(from) => onChange({ ...state, from })}
            error={errors.from}
          />
          <KeyCombobox
            label="To (inclusive)"
            source={source}
            value={state.to}
            onChange={(to) => onChange({ ...state, to })}
            error={errors.to}
          />
        </div>
      )}
      {state.mode === "keys" && (
        <div>
          <p className="hint">
            {state.keys.slice(0, 8).join(", ")}
            {state.keys.length > 8 ? ` … and ${(state.keys.length - 8).toLocaleString("en")} more` : ""}
          </p>
          {errors.keys && (
            <div className="field-error" role="alert">
              {errors.keys}
            </div>
          )}
        </div>
      )}
      {state.mode === "which" && (
        <p className="hint">
          The partitions of {assetKey} {WHICH_HINTS[state.which]}, when the backfill starts.
        </p>
      )}
      {state.mode === "dimensions" &&
        (dims ? (
          <div className="dimension-picks">
            {dims.map((d, i) => (
              <DimensionPicker
                key={d.name}
                dim={d}
                timeLike={dimSpecs[i] === "time"}
                pick={state.picks[i] ?? { kind: "list", keys: [] }}
                onChange={(pick) =>
                  onChange({ ...state, picks: state.picks.map((p, j) => (j === i ? pick : p)) })
                }
              />
            ))}
            {errors.keys && (
              <div className="field-error" role="alert">
                {errors.keys}
              </div>
            )}
          </div>
        ) : (
          <p className="hint">Loading the dimensions…</p>
        ))}
    </fieldset>
  );
}

/** One dimension: a from/to range (time) or a list of checkboxes (any kind). */
function DimensionPicker(props: {
  dim: DimensionInfo;
  timeLike: boolean;
  pick: DimensionPick;
  onChange(pick: DimensionPick): void;
}) {
  const { dim, pick, onChange } = props;
  const name = useId();
  const source = useMemo(() => ({ kind: "local" as const, keys: dim.keys }), [dim.keys]);
  const ref = (i: number | null): KeyRef | null => (i === null ? null : { key: dim.keys[i]!, index: i });
  return (
    <fieldset className="dimension">
      <legend>
        {dim.name} <span className="muted small">({dim.keys.length.toLocaleString("en")} keys)</span>
      </legend>
      {props.timeLike && (
        <div className="segmented small" role="radiogroup" aria-label={`How to choose ${dim.name}`}>
          {(["range", "list"] as const).map((k) => (
            <label key={k} className={pick.kind === k ? "checked" : undefined}>
              <input
                type="radio"
                name={name}
                checked={pick.kind === k}
                onChange={() =>
                  onChange(
                    k === "range" ? { kind: "range", from: null, to: null } : { kind: "list", keys: [] },
                  )
                }
              />
              {k === "range" ? "Range" : "List"}
            </label>
          ))}
        </div>
      )}
      {pick.kind === "range" ? (
        <div className="range-row">
          <KeyCombobox
            label={`First ${dim.name}`}
            source={source}
            value={ref(pick.from)}
            onChange={(r) => onChange({ ...pick, from: r?.index ?? null })}
          />
          <KeyCombobox
            label={`Last ${dim.name}`}
            source={source}
            value={ref(pick.to)}
            onChange={(r) => onChange({ ...pick, to: r?.index ?? null })}
          />
        </div>
      ) : (
        <KeyChecklist dim={dim} chosen={pick.keys} onChange={(keys) => onChange({ kind: "list", keys })} />
      )}
    </fieldset>
  );
}

const SHOWN = 300;

/** Checkboxes for a dimension's keys, filterable, showing at most SHOWN at a time. */
function KeyChecklist(props: {
  dim: DimensionInfo;
  chosen: readonly string[];
  onChange(keys: string[]): void;
}) {
  const { dim, chosen, onChange } = props;
  const [filter, setFilter] = useState("");
  const id = useId();
  const set = useMemo(() => new Set(chosen), [chosen]);
  const matching = useMemo(
    () => (filter ? dim.keys.filter((k) => k.toLowerCase().includes(filter.toLowerCase())) : dim.keys),
    [dim.keys, filter],
  );
  const toggle = (k: string, on: boolean) => {
    const next = new Set(set);
    if (on) next.add(k);
    else next.delete(k);
    onChange(dim.keys.filter((x) => next.has(x)));
  };
  return (
    <div className="checklist">
      <div className="row">
        {dim.keys.length > 12 && (
          <>
            <label htmlFor={id} className="sr-only">
              Filter {dim.name}
            </label>
            <input
              id={id}
              type="search"
              placeholder={`Filter ${dim.name}`}
              value={filter}
              onChange={(e) => setFilter(e.target.value)}
            />
          </>
        )}
        <button
          type="button"
          className="ghost small"
          onClick={() => {
            const add = new Set(matching);
            onChange(dim.keys.filter((k) => set.has(k) || add.has(k)));
          }}
        >
          Select {filter ? "matching" : "all"}
        </button>
        <button
          type="button"
          className="ghost small"
          onClick={() => {
            const drop = new Set(matching);
            onChange(dim.keys.filter((k) => set.has(k) && !drop.has(k)));
          }}
        >
          Clear{filter ? " matching" : ""}
        </button>
        <span className="muted small">{chosen.length.toLocaleString("en")} chosen</span>
      </div>
      <div className="checklist-keys">
        {matching.slice(0, SHOWN).map((k) => (
          <label key={k} className="check">
            <input type="checkbox" checked={set.has(k)} onChange={(e) => toggle(k, e.target.checked)} />
            {k}
          </label>
        ))}
      </div>
      {matching.length > SHOWN && (
        <p className="hint">
          {SHOWN} of {matching.length.toLocaleString("en")} shown: filter to find the others.
        </p>
      )}
    </div>
  );
}
