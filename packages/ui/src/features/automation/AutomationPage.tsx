/** Placeholder: being built (issue 11). */
export default function AutomationPage() {
  return (
    <div className="page">
      <h1>Automation</h1>
      <p className="empty">This page is being built.</p>
    </div>
  );
}
