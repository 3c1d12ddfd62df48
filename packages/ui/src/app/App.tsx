import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { lazy, Suspense, useState, useSyncExternalStore } from "react";
import { BrowserRouter, Navigate, NavLink, Route, Routes, useLocation } from "react-router";
import { isApiError, tokenStore } from "../api/client";
import { LiveEventsProvider, useLive } from "../api/LiveEvents";
import { prefetchGraph, prefetchGraphStatus, queryKeys, runQuery } from "../api/queries";
import { ErrorBoundary } from "../components/ErrorBoundary";
import { ToastProvider } from "../components/Toasts";
import { AuthGate, SignOutButton, useCurrentUser } from "./Auth";
import { DefinitionsErrorBanner } from "./DefinitionsErrorBanner";
import { HealthBanner } from "./HealthBanner";
import { NotFoundPage } from "./NotFoundPage";

/**
 * Each page's code, loaded on first visit. The current page's code starts loading at once (see
 * `preloadPage`), in parallel with the sign-in check, rather than after it.
 */
const pages = {
  graph: () => import("../features/asset-graph/AssetGraphPage").then((m) => ({ default: m.AssetGraphPage })),
  catalog: () => import("../features/catalog/CatalogPage"),
  asset: () => import("../features/asset-detail/AssetDetailPage"),
  run: () => import("../features/runs/RunPage"),
  runs: () => import("../features/runs/RunsPage"),
  backfill: () => import("../features/backfills/BackfillPage"),
  backfills: () => import("../features/backfills/BackfillsPage"),
  automation: () => import("../features/automation/AutomationPage"),
  instigator: () => import("../features/automation/InstigatorPage"),
  overview: () => import("../features/overview/OverviewPage"),
};
type PageName = keyof typeof pages;

/** Which page a path shows (undefined: not found). */
export function pageOf(pathname: string): PageName | undefined {
  if (pathname === "/" || pathname === "/overview") return "overview";
  if (pathname === "/graph") return "graph";
  if (pathname === "/catalog") return "catalog";
  if (pathname.startsWith("/assets/")) return "asset";
  if (pathname === "/runs") return "runs";
  if (pathname.startsWith("/runs/")) return "run";
  if (pathname === "/backfills") return "backfills";
  if (pathname.startsWith("/backfills/")) return "backfill";
  if (pathname === "/automation") return "automation";
  if (pathname.startsWith("/automation/")) return "instigator";
  return undefined;
}

/**
 * Start loading the code of the page at `pathname` (the app's first page) now, and let a page that
 * exports `preload` start reading its data too.
 */
export function preloadPage(pathname: string): void {
  const page = pageOf(pathname);
  if (!page) return;
  void pages[page]().then(
    (m) => {
      if ("preload" in m && typeof m.preload === "function") m.preload(pathname);
    },
    () => undefined, // the page's own import fails again where the error boundary shows it
  );
}

const AssetGraphPage = lazy(pages.graph);
const CatalogPage = lazy(pages.catalog);
const AssetDetailPage = lazy(pages.asset);
const RunPage = lazy(pages.run);
const RunsPage = lazy(pages.runs);
const BackfillPage = lazy(pages.backfill);
const BackfillsPage = lazy(pages.backfills);
const AutomationPage = lazy(pages.automation);
const InstigatorPage = lazy(pages.instigator);
const OverviewPage = lazy(pages.overview);

function makeQueryClient() {
  const signedOut = (error: unknown) => {
    if (!isApiError(error) || error.status !== 401) return;
    if (client.getQueryState(queryKeys.me)?.status === "success")
      void client.invalidateQueries({ queryKey: queryKeys.me });
  };
  const client: QueryClient = new QueryClient({
    defaultOptions: {
      queries: {
        retry: (count, error) =>
          !(isApiError(error) && error.status >= 400 && error.status < 500) && count < 2,
        refetchOnWindowFocus: true,
      },
    },
    // A token that stops working mid-session: check who we are again (a 401 there asks for a new
    // token). Not for /api/me's own 401, nor before anyone signed in: that would loop.
    queryCache: new QueryCache({
      onError: (error, query) => {
        if (query.queryKey[0] !== queryKeys.me[0]) signedOut(error);
      },
    }),
    mutationCache: new MutationCache({ onError: (error) => signedOut(error) }),
  });
  // The pages that show asset statuses (and the graph's own) read them at once.
  const first = pageOf(window.location.pathname);
  if (first === "graph" || first === "catalog" || first === "asset") prefetchGraph(client);
  else if (first === "overview") prefetchGraphStatus(client);
  else if (first === "run") {
    const id = decodeURIComponent(window.location.pathname.slice("/runs/".length));
    void client.prefetchQuery(runQuery(id));
  }
  return client;
}

export function App() {
  const [client] = useState(makeQueryClient);
  const token = useSyncExternalStore(tokenStore.subscribe, tokenStore.get);
  return (
    <QueryClientProvider client={client}>
      <BrowserRouter>
        <ToastProvider>
          <ErrorBoundary>
            <AuthGate>
              <LiveEventsProvider key={token ?? "anonymous"}>
                <Shell />
              </LiveEventsProvider>
            </AuthGate>
          </ErrorBoundary>
        </ToastProvider>
      </BrowserRouter>
    </QueryClientProvider>
  );
}

function Shell() {
  const me = useCurrentUser();
  const { connected } = useLive();
  const { pathname } = useLocation();
  return (
    <div className="app">
      <header className="header">
        <NavLink to="/" className="brand" aria-label="Baton home">
          <img src="/favicon.svg" alt="" width={22} height={22} />
          Baton
        </NavLink>
        <nav className="nav" aria-label="Main">
          <NavLink to="/" end>
            Overview
          </NavLink>
          <NavLink to="/graph">Asset graph</NavLink>
          <NavLink to="/catalog">Catalog</NavLink>
          <NavLink to="/runs">Runs</NavLink>
          <NavLink to="/backfills">Backfills</NavLink>
          <NavLink to="/automation">Automation</NavLink>
        </nav>
        <div className="header-right">
          <span
            className="live-dot"
            data-live={connected}
            title={connected ? "Receiving live events" : "Reconnecting to the event stream"}
          >
            {connected ? "Live" : "Offline"}
          </span>
          {me.authRequired && (
            <>
              <span className="badge" title={`Signed in as ${me.name}`}>
                {me.name} · {me.role}
              </span>
              <SignOutButton />
            </>
          )}
        </div>
      </header>
      <DefinitionsErrorBanner />
      <HealthBanner />
      <main className="main">
        <ErrorBoundary resetKey={pathname}>
          <Suspense fallback={<p className="empty">Loading…</p>}>
            <Routes>
              <Route path="/" element={<OverviewPage />} />
              <Route path="/overview" element={<Navigate to="/" replace />} />
              <Route path="/graph" element={<AssetGraphPage />} />
              <Route path="/catalog" element={<CatalogPage />} />
              <Route path="/assets/*" element={<AssetDetailPage />} />
              <Route path="/runs" element={<RunsPage />} />
              <Route path="/runs/:id" element={<RunPage />} />
              <Route path="/backfills" element={<BackfillsPage />} />
              <Route path="/backfills/:id" element={<BackfillPage />} />
              <Route path="/automation" element={<AutomationPage />} />
              <Route path="/automation/:name" element={<InstigatorPage />} />
              <Route path="*" element={<NotFoundPage />} />
            </Routes>
          </Suspense>
        </ErrorBoundary>
      </main>
    </div>
  );
}
