import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app/App";
import "./app/styles.css";
import { layoutPool } from "./features/asset-graph/layout/pool";

// Start the layout workers now: elk loads and warms up while the first API answers arrive.
layoutPool();
performance.mark("baton:app-start");

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
