import { Component, type ErrorInfo, type ReactNode } from "react";

interface State {
  readonly error: Error | null;
}

/**
 * A page that throws while rendering shows what happened and how to recover, instead of React
 * unmounting everything (a blank page). `resetKey` (e.g. the path) clears it on navigation.
 */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey?: string }, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidUpdate(previous: { resetKey?: string }) {
    if (this.state.error && previous.resetKey !== this.props.resetKey) this.setState({ error: null });
  }

  override componentDidCatch(error: Error, info: ErrorInfo) {
    console.error("Baton UI error:", error, info.componentStack);
  }

  override render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <div className="page">
        <div className="error-box" role="alert">
          <strong>This page failed to render.</strong>
          <div>{error.message}</div>
          <p className="small">
            Other pages still work: use the navigation above, or{" "}
            <button type="button" className="small" onClick={() => window.location.reload()}>
              Reload the page
            </button>
            . If it keeps happening, please report it with the message above.
          </p>
        </div>
      </div>
    );
  }
}
