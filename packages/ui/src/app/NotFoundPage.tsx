import { Link, useLocation } from "react-router";

export function NotFoundPage() {
  const { pathname } = useLocation();
  return (
    <div className="page">
      <h1>Page not found</h1>
      <p className="muted">
        Nothing lives at <code>{pathname}</code>. Go to the <Link to="/graph">asset graph</Link> or the{" "}
        <Link to="/catalog">catalog</Link>.
      </p>
    </div>
  );
}
