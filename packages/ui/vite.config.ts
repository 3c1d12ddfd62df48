import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Built into static files the webserver serves on the API's port. Hashed files go under /static/
// because /assets/<key> is the asset page's route.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    assetsDir: "static",
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
  },
  worker: { format: "es" },
  server: {
    // `npm run dev -w @baton/ui` against a running `baton dev` (default port 3000).
    proxy: { "/api": process.env.BATON_API_URL ?? "http://127.0.0.1:3000" },
  },
});
