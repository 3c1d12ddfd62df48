/** Placeholder: being built (issue 11). */
export default function OverviewPage() {
  return (
    <div className="page">
      <h1>Overview</h1>
      <p className="empty">This page is being built.</p>
    </div>
  );
}
