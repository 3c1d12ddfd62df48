import { isApiError } from "../api/client";

/** A server or network error shown inline with the server's own message (never a blank page). */
export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  const message = error instanceof Error ? error.message : String(error);
  const code = isApiError(error) && error.status ? ` (${error.status} ${error.code})` : "";
  return (
    <div className="error-box" role="alert">
      <strong>{title ?? "Something went wrong"}</strong>
      {code && <span className="muted small">{code}</span>}
      <div>{message}</div>
    </div>
  );
}
