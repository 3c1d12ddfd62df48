import { type AssetHeadline, STATUS_WORDS, statusVar } from "./status";

export function StatusBadge({ status }: { status: AssetHeadline | string }) {
  const word = (STATUS_WORDS as Record<string, string>)[status] ?? status.toLowerCase().replace(/_/g, " ");
  return (
    <span className="badge" data-status={status}>
      <span
        className="status-dot"
        style={{ background: statusVar(status.toLowerCase()) }}
        aria-hidden="true"
      />
      {word}
    </span>
  );
}
