import type { RunStatus } from "@baton/webserver/api-types";
import { useEffect, useMemo, useState } from "react";
import { useAssetGraph } from "../../../api/queries";
import { RUN_STATUS } from "../run-format";
import { FILTER_LABEL, type FilterField, type RunsFilters, STATUS_ORDER, STATUS_WORD } from "./filters";

type TextField = "asset" | "tag" | "sensor" | "schedule" | "backfill" | "createdAfter" | "createdBefore";

const PLACEHOLDER: Record<TextField, string> = {
  asset: "e.g. taxi/trips",
  tag: "key=value",
  sensor: "sensor name",
  schedule: "schedule name",
  backfill: "backfill id",
  createdAfter: "2024-03-01",
  createdBefore: "2024-03-01",
};

const DATE_TITLE =
  "A day (2024-03-01) or a time (2024-03-01T14:30), in local time; or ISO 8601 with an offset. Enter applies it.";

const TEXT_FIELDS: readonly TextField[] = [
  "asset",
  "tag",
  "sensor",
  "schedule",
  "backfill",
  "createdAfter",
  "createdBefore",
];

/**
 * The filters of the runs list: status checkboxes apply at once; text fields apply on Enter or when
 * focus leaves them. A bad value's message sits under its field (aria-invalid, aria-describedby).
 */
export function RunsFilterBar(props: {
  filters: RunsFilters;
  /** Messages by filter (bad URL values, or the API's 400 naming a field). */
  errors: Partial<Record<FilterField, string>>;
  onChange(change: Partial<RunsFilters>): void;
}) {
  const { filters, errors, onChange } = props;
  // The boxes follow a click at once (the URL change renders in a transition, later on a busy page).
  const [status, setStatus] = useState(filters.status);
  const statusKey = filters.status.join(",");
  // biome-ignore lint/correctness/useExhaustiveDependencies: statusKey is the URL's statuses
  useEffect(() => setStatus(filters.status), [statusKey]);
  const toggle = (s: RunStatus, on: boolean) => {
    const next = on ? [...status, s] : status.filter((x) => x !== s);
    setStatus(next);
    onChange({ status: next });
  };
  return (
    // biome-ignore lint/a11y/useSemanticElements: <search> is not yet in every browser we support.
    <div className="runs-filters" role="search" aria-label="Filter runs">
      <fieldset
        className="runs-status-filter"
        aria-describedby={errors.status ? "runs-err-status" : undefined}
      >
        <legend>Status</legend>
        <div className="runs-status-options">
          {STATUS_ORDER.map((s) => (
            <label key={s} className="runs-status-option">
              <input
                type="checkbox"
                checked={status.includes(s)}
                onChange={(e) => toggle(s, e.target.checked)}
              />
              <span className="status-dot" style={{ background: `var(--st-${RUN_STATUS[s].color})` }} />
              {STATUS_WORD[s]}
            </label>
          ))}
        </div>
        {errors.status && (
          <div className="field-error" id="runs-err-status">
            {errors.status}
          </div>
        )}
      </fieldset>
      <div className="runs-text-filters">
        {TEXT_FIELDS.map((f) => (
          <DraftField
            key={f}
            field={f}
            value={filters[f]}
            error={errors[f]}
            onCommit={(v) => onChange({ [f]: v } as Partial<RunsFilters>)}
          />
        ))}
      </div>
      {errors.limit && (
        <div className="field-error" role="alert">
          {errors.limit}
        </div>
      )}
    </div>
  );
}

/** A text filter whose typing is local until Enter or blur (one URL entry per change, not per key). */
function DraftField(props: {
  field: TextField;
  value: string;
  error: string | undefined;
  onCommit(value: string): void;
}) {
  const { field, value } = props;
  const id = `runs-filter-${field}`;
  const errorId = `runs-err-${field}`;
  const [draft, setDraft] = useState(value);
  // The URL changed (back/forward, a link, Clear): show it.
  useEffect(() => setDraft(value), [value]);
  const commit = () => {
    if (draft.trim() !== value) props.onCommit(draft.trim());
  };
  return (
    <div className={`field runs-field runs-field-${field}`}>
      <label htmlFor={id}>{FILTER_LABEL[field]}</label>
      <input
        id={id}
        type="text"
        value={draft}
        placeholder={PLACEHOLDER[field]}
        title={field.startsWith("created") ? DATE_TITLE : undefined}
        spellCheck={false}
        autoComplete="off"
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? errorId : undefined}
        list={field === "asset" ? `${id}-keys` : undefined}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === "Enter") commit();
          if (e.key === "Escape") setDraft(value);
        }}
      />
      {field === "asset" && <AssetKeyOptions id={`${id}-keys`} typed={draft} />}
      {props.error && (
        <div className="field-error" id={errorId}>
          {props.error}
        </div>
      )}
    </div>
  );
}

/** Up to 30 asset keys containing what was typed (a datalist of 10,000 keys would be slow). */
function AssetKeyOptions({ id, typed }: { id: string; typed: string }) {
  const graph = useAssetGraph();
  const keys = useMemo(() => {
    const q = typed.trim().toLowerCase();
    const out: string[] = [];
    for (const a of graph.data?.assets ?? []) {
      if (a.key.toLowerCase().includes(q)) out.push(a.key);
      if (out.length >= 30) break;
    }
    return out;
  }, [graph.data, typed]);
  return (
    <datalist id={id}>
      {keys.map((k) => (
        <option key={k} value={k} />
      ))}
    </datalist>
  );
}
