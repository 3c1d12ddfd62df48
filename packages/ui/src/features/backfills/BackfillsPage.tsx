/** Placeholder: being built (issue 11). */
export default function BackfillsPage() {
  return (
    <div className="page">
      <h1>Backfills</h1>
      <p className="empty">This page is being built.</p>
    </div>
  );
}
