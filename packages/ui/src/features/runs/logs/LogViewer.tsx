/** Placeholder: the run's log viewer (issue 11; owned by the log viewer's author). */
export interface LogViewerProps {
  readonly runId: string;
  /** True once the run ended (no more events will come). */
  readonly ended: boolean;
  /** The run's step keys, for the step filter. */
  readonly stepKeys: readonly string[];
  /** Controlled step filter (null: every step); uncontrolled when undefined. */
  readonly step?: string | null;
  readonly onStepChange?: (step: string | null) => void;
}

export function LogViewer(_props: LogViewerProps) {
  return <section aria-label="Logs" aria-busy="false" />;
}
