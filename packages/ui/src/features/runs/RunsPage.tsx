/** Placeholder: being built (issue 11). */
export default function RunsPage() {
  return (
    <div className="page">
      <h1>Runs</h1>
      <p className="empty">This page is being built.</p>
    </div>
  );
}
