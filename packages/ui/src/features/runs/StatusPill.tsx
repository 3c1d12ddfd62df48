/** A run, backfill or step status as a badge in the asset status colours (words, never colour alone). */
export function StatusPill({ word, color }: { word: string; color: string }) {
  return (
    <span className="badge" data-status={color}>
      <span className="status-dot" style={{ background: `var(--st-${color})` }} aria-hidden="true" />
      {word}
    </span>
  );
}
