import type { CheckEvaluationEvent } from "@baton/webserver/api-types";
import { type FormEvent, useDeferredValue, useEffect, useId, useRef, useState } from "react";
import { Link } from "react-router";
import { useMaterializations, usePartitionKeys, useWhy } from "../../api/queries";
import { RelativeTime } from "../../components/RelativeTime";
import { MaterializationList } from "./MaterializationList";
import { MetadataList } from "./MetadataView";
import { Pill } from "./Pill";
import { WhyView } from "./WhyTree";

/** Find a partition by typing part of its key (the keyboard way to the partition panel). */
export function PartitionPicker(props: {
  assetKey: string;
  selected: string | null;
  onSelect(key: string): void;
}) {
  const [q, setQ] = useState(props.selected ?? "");
  const deferred = useDeferredValue(q.trim());
  // Keys are listed once the input is used (not on every page load of a million-partition asset).
  const [used, setUsed] = useState(false);
  const keys = usePartitionKeys(props.assetKey, deferred, 0, 200, used || q !== "");
  const [message, setMessage] = useState<string | null>(null);
  const listId = useId();
  const inputId = useId();
  // A partition chosen elsewhere (the bar, the URL) shows in the input.
  useEffect(() => {
    if (props.selected) setQ(props.selected);
  }, [props.selected]);
  const listed = keys.data?.keys ?? [];
  // The suggestions answer what is typed now (not the previous search, kept on screen meanwhile).
  const current = keys.data !== undefined && !keys.isPlaceholderData && deferred === q.trim();
  // "Open" pressed before the suggestions for the typed text arrived: opened when they do.
  const [pending, setPending] = useState<string | null>(null);
  const open = (value: string) => {
    if (listed.includes(value)) {
      setMessage(null);
      props.onSelect(value);
    } else if (listed.length === 1 && deferred === value) {
      setQ(listed[0]!);
      props.onSelect(listed[0]!);
    } else
      setMessage(
        listed.length
          ? `No partition is exactly “${value}”: pick one of the ${keys.data?.truncated ? "" : `${keys.data?.total ?? listed.length} `}suggestions.`
          : `No partition key contains “${value}”.`,
      );
  };
  const openRef = useRef(open);
  openRef.current = open;
  useEffect(() => {
    if (pending === null) return;
    if (keys.isError) {
      setPending(null);
      setMessage("Could not list the partition keys; try again.");
    } else if (current && pending === deferred) {
      setPending(null);
      openRef.current(pending);
    }
  }, [pending, current, deferred, keys.isError]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const value = q.trim();
    if (!value) return;
    if (current) openRef.current(value);
    else setPending(value);
  };
  return (
    <form className="partition-picker" onSubmit={submit}>
      <label htmlFor={inputId}>Partition</label>
      <input
        id={inputId}
        type="search"
        list={listId}
        value={q}
        placeholder="Part of a key, e.g. 2020-03"
        spellCheck={false}
        autoComplete="off"
        onFocus={() => setUsed(true)}
        onChange={(e) => {
          setQ(e.target.value);
          setMessage(null);
          setPending(null);
          // Picking a suggestion from the list opens it at once.
          if (listed.includes(e.target.value)) props.onSelect(e.target.value);
        }}
        aria-describedby={message ? `${inputId}-msg` : undefined}
      />
      <datalist id={listId}>
        {listed.map((k) => (
          <option key={k} value={k} />
        ))}
      </datalist>
      <button type="submit">Open</button>
      {message && (
        <span id={`${inputId}-msg`} className="field-error" role="alert">
          {message}
        </span>
      )}
    </form>
  );
}

/** One partition: why it is (not) stale, its materializations and its check results. */
export function PartitionPanel(props: {
  assetKey: string;
  partition: string;
  checkHistory: readonly CheckEvaluationEvent[];
  onClose(): void;
}) {
  const { assetKey, partition } = props;
  const why = useWhy(assetKey, partition);
  const mats = useMaterializations(assetKey, partition);
  const checks = props.checkHistory.filter((c) => c.partition === partition);
  const headingId = useId();
  return (
    <section className="partition-panel" aria-labelledby={headingId}>
      <div className="panel-head">
        <h3 id={headingId}>
          Partition <span className="mono">{partition}</span>
        </h3>
        <button
          type="button"
          className="ghost small"
          onClick={props.onClose}
          aria-label="Close the partition"
        >
          ✕
        </button>
      </div>
      <div className="partition-panel-body">
        <div>
          <h4>Why</h4>
          <WhyView why={why} />
        </div>
        <div>
          <h4>Materializations</h4>
          <MaterializationList
            query={mats}
            showPartition={false}
            empty="This partition was never materialized."
          />
        </div>
        <div>
          <h4>Checks</h4>
          {checks.length === 0 ? (
            <p className="muted small">No check results for this partition among the recent ones.</p>
          ) : (
            <ul className="check-history">
              {checks.map((c) => (
                <li key={c.id}>
                  <Pill color={c.passed ? "var(--st-materialized)" : "var(--st-failed)"}>
                    {c.checkName} {c.passed ? "passed" : "failed"}
                  </Pill>{" "}
                  <RelativeTime ms={c.timestamp} /> ·{" "}
                  <Link to={`/runs/${c.runId}`}>run {c.runId.slice(0, 8)}</Link>
                  {Object.keys(c.metadata).length > 0 && <MetadataList metadata={c.metadata} />}
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
    </section>
  );
}
