import { type KeyboardEvent, useDeferredValue, useEffect, useId, useMemo, useState } from "react";
import type { KeyRef } from "./launch-request";
import { type KeyPage, useKeySearch } from "./use-key-search";

/** Where the keys come from: the asset's key space (searched and paged by the server) or a list in memory. */
export type KeySource =
  | {
      readonly kind: "remote";
      readonly assetKey: string;
      /** Keys sort in index order (time partitions): a query is first read as a prefix. */
      readonly sorted?: boolean;
    }
  | { readonly kind: "local"; readonly keys: readonly string[] };

const PAGE = 50;
const MAX_LIMIT = 1000;

function useLocalKeys(keys: readonly string[], q: string, limit: number): KeyPage {
  return useMemo(() => {
    const needle = q.toLowerCase();
    const out: KeyRef[] = [];
    let total = 0;
    keys.forEach((key, index) => {
      if (needle && !key.toLowerCase().includes(needle)) return;
      total++;
      if (out.length < limit) out.push({ key, index });
    });
    return { keys: out, total, atLeast: false, loading: false, error: null };
  }, [keys, q, limit]);
}

/**
 * A searchable key picker (ARIA combobox with a listbox): typing filters, arrows move, Enter picks.
 * Remote sources search on the server and show one page (never the whole key space).
 */
export function KeyCombobox(props: {
  readonly label: string;
  readonly source: KeySource;
  readonly value: KeyRef | null;
  onChange(value: KeyRef | null): void;
  readonly error?: string | undefined;
  readonly placeholder?: string;
  readonly hideLabel?: boolean;
}) {
  const { source, value, onChange } = props;
  const id = useId();
  const [text, setText] = useState(value?.key ?? "");
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const [limit, setLimit] = useState(PAGE);
  const q = useDeferredValue(text === value?.key ? "" : text.trim());
  useEffect(() => {
    if (value && value.key !== text && !open) setText(value.key);
  }, [value, text, open]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new search starts at the first option
  useEffect(() => {
    setActive(0);
    setLimit(PAGE);
  }, [q]);

  const local = useLocalKeys(source.kind === "local" ? source.keys : [], q, limit);
  const remote = useKeySearch(
    source.kind === "remote" ? source.assetKey : "",
    q,
    limit,
    source.kind === "remote" && open,
    source.kind === "remote" && source.sorted === true,
  );
  const page = source.kind === "local" ? local : remote;

  const listId = `${id}-list`;
  const errorId = `${id}-error`;
  const statusId = `${id}-status`;
  const pick = (ref: KeyRef) => {
    onChange(ref);
    setText(ref.key);
    setOpen(false);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      if (!open) setOpen(true);
      else setActive((a) => Math.min(a + 1, page.keys.length - 1));
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setActive((a) => Math.max(a - 1, 0));
    } else if (e.key === "Enter") {
      if (open && page.keys[active]) {
        e.preventDefault();
        pick(page.keys[active]);
      }
    } else if (e.key === "Escape" && open) {
      // Close the list, not the dialog.
      e.preventDefault();
      e.stopPropagation();
      setOpen(false);
    }
  };
  const more = page.total !== null && page.total > page.keys.length;
  return (
    <div className="key-combobox">
      <label htmlFor={id} className={props.hideLabel ? "sr-only" : undefined}>
        {props.label}
      </label>
      <input
        id={id}
        type="text"
        role="combobox"
        autoComplete="off"
        spellCheck={false}
        placeholder={props.placeholder ?? "Type to search keys"}
        aria-expanded={open}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={open && page.keys[active] ? `${id}-opt-${active}` : undefined}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? `${errorId} ${statusId}` : statusId}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setOpen(true);
          if (value && e.target.value !== value.key) onChange(null);
        }}
        onFocus={() => setOpen(true)}
        onClick={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onKeyDown={onKeyDown}
      />
      {open && (
        <div className="key-popup">
          <div id={listId} role="listbox" aria-label={`${props.label}: keys`} className="key-list">
            {page.keys.map((k, i) => (
              <div
                key={k.key}
                id={`${id}-opt-${i}`}
                role="option"
                aria-selected={i === active}
                className={i === active ? "active" : undefined}
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => pick(k)}
                tabIndex={-1}
                onKeyDown={(e) => {
                  if (e.key === "Enter" || e.key === " ") pick(k);
                }}
              >
                {k.key}
              </div>
            ))}
            {page.keys.length === 0 && !page.loading && (
              <div className="key-empty">{page.error ?? (q ? `No key contains “${q}”` : "No keys")}</div>
            )}
          </div>
          {more && limit < MAX_LIMIT && (
            <button
              type="button"
              className="ghost small key-more"
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => setLimit((l) => Math.min(l + PAGE * 4, MAX_LIMIT))}
            >
              Show more
            </button>
          )}
        </div>
      )}
      <div id={statusId} className="hint" aria-live="polite">
        {open && page.total !== null
          ? `${page.keys.length.toLocaleString("en")} of ${page.total.toLocaleString("en")}${page.atLeast ? "+" : ""} ${q ? "matching keys" : "keys"}${more ? " — type to narrow" : ""}`
          : page.loading
            ? "Searching…"
            : ""}
      </div>
      {props.error && (
        <div id={errorId} className="field-error" role="alert">
          {props.error}
        </div>
      )}
    </div>
  );
}
