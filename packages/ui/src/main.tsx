import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App, pageOf, preloadPage } from "./app/App";
import "./app/styles.css";
import { layoutPool } from "./features/asset-graph/layout/pool";

// The first page's code loads now, beside the sign-in check. On the asset graph, the layout
// workers start too: elk loads and warms up while the first API answers arrive (elsewhere they
// would only compete with the page for the CPU; the graph starts them when it needs them).
preloadPage(window.location.pathname);
if (pageOf(window.location.pathname) === "graph") layoutPool();
performance.mark("baton:app-start");

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
