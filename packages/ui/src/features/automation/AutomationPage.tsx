import type { Schedule, Sensor } from "@baton/webserver/api-types";
import { useId, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { usePermission } from "../../app/Auth";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { ErrorBox } from "../../components/ErrorBox";
import { RelativeTime } from "../../components/RelativeTime";
import { useToast } from "../../components/Toasts";
import {
  countWords,
  describeInterval,
  describeTarget,
  filterDecisions,
  type InstigatorStatus,
  lastLaunches,
  latestDecisions,
  namesToSwitch,
  sensorTypeWord,
} from "./automation-model";
import { DecisionsTable } from "./DecisionsTable";
import { StatusSwitch } from "./StatusSwitch";
import { LastTick } from "./TickOutcome";
import { useEvaluations, useInstigators, useSwitchAll } from "./use-automation";
import "./automation.css";

/** /automation — schedules and sensors with their switches and last ticks; declarative decisions. */
export default function AutomationPage() {
  const query = useInstigators();
  const launcher = usePermission("launcher");
  const reasonId = useId();
  const data = query.data;
  const total = data ? data.schedules.length + data.sensors.length : 0;
  const running = data
    ? [...data.schedules, ...data.sensors].filter((x) => x.status === "RUNNING").length
    : 0;
  const disabledReason = launcher.allowed ? undefined : launcher.reason;

  return (
    <div className="page automation-page">
      <div className="page-header">
        <h1>Automation</h1>
        {data && total > 0 && (
          <span className="muted" aria-live="polite">
            {running} of {total} running
          </span>
        )}
        <span className="spacer" />
        {data && total > 0 && (
          <>
            <SwitchAllButton to="RUNNING" disabledReason={disabledReason} reasonId={reasonId} />
            <SwitchAllButton to="STOPPED" disabledReason={disabledReason} reasonId={reasonId} />
          </>
        )}
      </div>
      {disabledReason && (
        <p className="permission-note" id={reasonId}>
          Read only: {disabledReason}
        </p>
      )}
      {query.isError && !data && (
        <ErrorBox error={query.error} title="Could not load schedules and sensors" />
      )}
      {query.isError && data && (
        <ErrorBox
          error={query.error}
          title="Could not refresh schedules and sensors (showing the last answer)"
        />
      )}
      {!data && !query.isError && (
        <p className="muted" aria-busy="true">
          Loading schedules and sensors…
        </p>
      )}
      {data && (
        <>
          <section className="card" aria-labelledby="schedules-title">
            <h2 id="schedules-title">Schedules</h2>
            {data.schedules.length === 0 ? (
              <p className="empty-hint">
                No schedules. Declare one in your definitions file, e.g.{" "}
                <code>schedule(&#123; name: "nightly", cron: "0 2 * * *", job &#125;)</code>, add it to{" "}
                <code>defineDefinitions(&#123; schedules: [...] &#125;)</code>, and it appears here once a
                worker publishes the definitions.
              </p>
            ) : (
              <SchedulesTable
                schedules={data.schedules}
                disabledReason={disabledReason}
                reasonId={reasonId}
              />
            )}
          </section>
          <section className="card" aria-labelledby="sensors-title">
            <h2 id="sensors-title">Sensors</h2>
            {data.sensors.length === 0 ? (
              <p className="empty-hint">
                No sensors. Declare one in your definitions file, e.g.{" "}
                <code>fileSensor(&#123; name: "landing", dir: "./landing", selection: "raw/*" &#125;)</code>{" "}
                or <code>sensor(&#123; name, evaluate &#125;)</code>, add it to{" "}
                <code>defineDefinitions(&#123; sensors: [...] &#125;)</code>, and it appears here once a
                worker publishes the definitions.
              </p>
            ) : (
              <SensorsTable sensors={data.sensors} disabledReason={disabledReason} reasonId={reasonId} />
            )}
          </section>
        </>
      )}
      <DeclarativeSection />
    </div>
  );
}

function NameCell({ name, description }: { name: string; description: string | null }) {
  return (
    <td className="name-cell">
      <Link to={`/automation/${encodeURIComponent(name)}`} className="mono">
        {name}
      </Link>
      {description && <div className="muted small description">{description}</div>}
    </td>
  );
}

function SchedulesTable(props: {
  schedules: readonly Schedule[];
  disabledReason: string | undefined;
  reasonId: string;
}) {
  return (
    <div className="table-scroll">
      <table className="table automation-table" aria-label="Schedules">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Status</th>
            <th scope="col">Schedule</th>
            <th scope="col">Next tick</th>
            <th scope="col">Target</th>
            <th scope="col">Last tick</th>
          </tr>
        </thead>
        <tbody>
          {props.schedules.map((s) => (
            <tr key={s.name}>
              <NameCell name={s.name} description={s.description} />
              <td>
                <StatusSwitch
                  name={s.name}
                  status={s.status}
                  disabledReason={props.disabledReason}
                  reasonId={props.reasonId}
                />
              </td>
              <td>
                <code>{s.cron}</code>
                <div className="muted small">{s.timezone}</div>
              </td>
              <td className="small nowrap">
                {s.nextTickAt !== null ? (
                  <RelativeTime ms={s.nextTickAt} />
                ) : (
                  <span className="muted">stopped</span>
                )}
              </td>
              <td className="mono small target-cell">{describeTarget(s.target)}</td>
              <td className="last-tick-cell">
                <LastTick tick={s.lastTick} kind="schedule" name={s.name} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function SensorsTable(props: {
  sensors: readonly Sensor[];
  disabledReason: string | undefined;
  reasonId: string;
}) {
  return (
    <div className="table-scroll">
      <table className="table automation-table" aria-label="Sensors">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Status</th>
            <th scope="col">Type</th>
            <th scope="col">Interval</th>
            <th scope="col">Target</th>
            <th scope="col">Last tick</th>
          </tr>
        </thead>
        <tbody>
          {props.sensors.map((s) => (
            <tr key={s.name}>
              <NameCell name={s.name} description={s.description} />
              <td>
                <StatusSwitch
                  name={s.name}
                  status={s.status}
                  disabledReason={props.disabledReason}
                  reasonId={props.reasonId}
                />
              </td>
              <td className="small nowrap">{sensorTypeWord(s.type)}</td>
              <td className="small nowrap">{describeInterval(s.minimumIntervalSeconds)}</td>
              <td className="mono small target-cell">{describeTarget(s.target)}</td>
              <td className="last-tick-cell">
                <LastTick tick={s.lastTick} kind="sensor" name={s.name} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** "Start all" / "Stop all": a confirmation that says how many will change and which. */
function SwitchAllButton(props: {
  to: InstigatorStatus;
  disabledReason: string | undefined;
  reasonId: string;
}) {
  const [open, setOpen] = useState(false);
  const { data } = useInstigators();
  const switchAll = useSwitchAll();
  const toast = useToast();
  const start = props.to === "RUNNING";
  const verb = start ? "Start" : "Stop";
  const names = namesToSwitch(data, props.to);
  const nothing = names.length === 0;
  const label = `${verb} all`;
  const title =
    props.disabledReason ??
    (nothing
      ? `Every schedule and sensor is already ${start ? "running" : "stopped"}.`
      : `${verb} ${countWords(names.length)}`);
  return (
    <>
      <button
        type="button"
        disabled={props.disabledReason !== undefined || nothing}
        aria-describedby={props.disabledReason ? props.reasonId : undefined}
        title={title}
        onClick={() => {
          switchAll.reset();
          setOpen(true);
        }}
      >
        {label}
      </button>
      <ConfirmDialog
        open={open}
        onOpenChange={setOpen}
        title={`${verb} all schedules and sensors?`}
        description={
          <>
            This {start ? "starts" : "stops"} {countWords(names.length)} that{" "}
            {names.length === 1 ? "is" : "are"} {start ? "stopped" : "running"} now:{" "}
            <span className="mono">{names.join(", ")}</span>.{" "}
            {start
              ? "Schedules start from now (missed ticks are not run); sensors evaluate at their next interval."
              : "Nothing is launched while they are stopped; runs already started go on."}
          </>
        }
        confirmLabel={`${verb} ${names.length}`}
        backOutLabel="Back"
        danger={!start}
        pending={switchAll.isPending}
        error={switchAll.error}
        onConfirm={() =>
          switchAll.mutate(
            { to: props.to },
            {
              onSuccess: (answer) => {
                setOpen(false);
                toast(
                  answer.changed.length === 0
                    ? `Nothing to ${verb.toLowerCase()}: every one was already ${start ? "running" : "stopped"}.`
                    : `${start ? "Started" : "Stopped"} ${answer.changed.join(", ")}.`,
                );
              },
            },
          )
        }
      />
    </>
  );
}

/** Latest eager / onCron decision of each asset, filterable by asset. */
function DeclarativeSection() {
  const [params, setParams] = useSearchParams();
  const filter = params.get("asset") ?? "";
  const query = useEvaluations(null);
  const latest = useMemo(() => latestDecisions(query.data?.evaluations ?? []), [query.data]);
  const launches = useMemo(() => lastLaunches(query.data?.evaluations ?? []), [query.data]);
  const shown = useMemo(() => filterDecisions(latest, filter), [latest, filter]);
  const setFilter = (value: string) =>
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        if (value) next.set("asset", value);
        else next.delete("asset");
        return next;
      },
      { replace: true },
    );
  return (
    <section className="card" aria-labelledby="declarative-title">
      <div className="section-head">
        <h2 id="declarative-title">Declarative automation</h2>
        <span className="muted small">latest decision per asset</span>
        <span className="spacer" />
        {latest.length > 0 && (
          <div className="filter">
            <label htmlFor="decisions-filter">Filter by asset</label>
            <input
              id="decisions-filter"
              type="search"
              value={filter}
              placeholder="asset key"
              spellCheck={false}
              onChange={(e) => setFilter(e.target.value)}
            />
          </div>
        )}
      </div>
      {query.isError && <ErrorBox error={query.error} title="Could not load the automation decisions" />}
      {!query.data && !query.isError ? (
        <p className="muted">Loading decisions…</p>
      ) : query.data && latest.length === 0 ? (
        <p className="empty-hint">
          No decisions yet. Give an asset an automation condition, e.g.{" "}
          <code>asset(&#123; key: "daily_summary", deps: [trips], automation: eager() &#125;, …)</code> or{" "}
          <code>automation: onCron("0 6 * * *")</code>; the daemon then decides on its own when to materialize
          it and every decision shows here with its reason.
        </p>
      ) : shown.length === 0 ? (
        <p className="empty-hint" role="status">
          No asset with a decision matches “{filter}”.{" "}
          <button type="button" className="small" onClick={() => setFilter("")}>
            Clear the filter
          </button>
        </p>
      ) : (
        <>
          <p className="muted small" role="status">
            {shown.length === latest.length
              ? `${latest.length} asset${latest.length === 1 ? "" : "s"}`
              : `${shown.length} of ${latest.length} assets`}
          </p>
          <DecisionsTable decisions={shown} label="Automation decisions" lastLaunch={launches} />
        </>
      )}
    </section>
  );
}
