import { useId } from "react";
import type { InstigatorStatus } from "./automation-model";
import { useToggleInstigator } from "./use-automation";

/**
 * A schedule's or sensor's running/stopped switch (role switch, named "NAME running"). It moves at
 * once and moves back, with the server's message, when the server refuses. Disabled with the reason
 * (described by `reasonId` too) for a token that may not change it.
 */
export function StatusSwitch(props: {
  readonly name: string;
  readonly status: InstigatorStatus;
  /** Why it is disabled (a viewer token); undefined when allowed. */
  readonly disabledReason?: string | undefined;
  /** The id of an element that says why it is disabled (its accessible description). */
  readonly reasonId?: string | undefined;
}) {
  const toggle = useToggleInstigator();
  const errorId = useId();
  const running = props.status === "RUNNING";
  const to: InstigatorStatus = running ? "STOPPED" : "RUNNING";
  const failed = toggle.isError ? toggle.error : null;
  const describedBy =
    [props.disabledReason ? props.reasonId : undefined, failed ? errorId : undefined]
      .filter(Boolean)
      .join(" ") || undefined;
  return (
    <div className="switch-cell">
      <button
        type="button"
        role="switch"
        className="switch"
        aria-checked={running}
        aria-label={`${props.name} running`}
        aria-describedby={describedBy}
        disabled={props.disabledReason !== undefined}
        title={props.disabledReason ?? (running ? `Stop ${props.name}` : `Start ${props.name}`)}
        onClick={() => toggle.mutate({ name: props.name, to })}
      >
        <span className="switch-track" aria-hidden="true">
          <span className="switch-thumb" />
        </span>
        <span className="switch-word" aria-hidden="true">
          {running ? "Running" : "Stopped"}
        </span>
      </button>
      {failed ? (
        <div id={errorId} className="field-error" role="alert">
          Could not {to === "RUNNING" ? "start" : "stop"} {props.name}: {(failed as Error).message}
        </div>
      ) : null}
    </div>
  );
}
