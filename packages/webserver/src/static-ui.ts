import { createReadStream, type Stats } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { Context } from "hono";
import type { ApiApp } from "./http.js";

/** Where the built UI is (`npm run build -w @baton/ui` writes it). */
export interface UiOptions {
  readonly dir: string;
}

/**
 * The Content-Security-Policy of every answer: the UI's own scripts only (no inline script),
 * layout workers from blob URLs, inline styles (positioned graph boxes), API calls to this origin.
 */
export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  workerSrc: ["'self'", "blob:"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", "data:"],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  frameAncestors: ["'none'"],
  formAction: ["'self'"],
};

/** Hashed build output (Vite's `assetsDir: "static"`): cached for a year, never revalidated. */
const IMMUTABLE = "public, max-age=31536000, immutable";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".webmanifest": "application/manifest+json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".otf": "font/otf",
  ".wasm": "application/wasm",
};

/**
 * The UI to serve: `BATON_UI_DIR` when set (another build of the UI), else the `dist` folder of the
 * installed `@baton/ui` package, or undefined when it is not installed.
 */
export function defaultUiDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.BATON_UI_DIR) return path.resolve(env.BATON_UI_DIR);
  let pkg: string;
  try {
    pkg = fileURLToPath(import.meta.resolve("@baton/ui/package.json"));
  } catch {
    try {
      pkg = createRequire(import.meta.url).resolve("@baton/ui/package.json");
    } catch {
      return undefined;
    }
  }
  return path.join(path.dirname(pkg), "dist");
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function notBuiltPage(dir: string | undefined) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Baton: the UI is not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>The Baton UI is not built</h1>
<p>This webserver serves the UI from ${dir ? `<code>${escapeHtml(dir)}</code>` : "the <code>@baton/ui</code> package, which is not installed"}, and there is no <code>index.html</code> there yet.</p>
<p>Build it with <code>npm run build -w @baton/ui</code> (from the repository root), then reload this page.</p>
<p>The JSON API works without it: <a href="/api/health">/api/health</a>, <a href="/api/openapi.json">/api/openapi.json</a>.</p>
</body>
</html>
`;
}

/**
 * The file under `root` a URL path names, or `"bad"` when the path tries to leave it (dot
 * segments, backslashes, NUL or other control characters, hidden files, bad percent-encoding).
 */
export function filePathOf(root: string, urlPath: string): string | "bad" {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return "bad";
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is rejected.
  if (/[\\\u0000-\u001f\u007f]/.test(decoded)) return "bad";
  const segments = decoded.split("/").filter((s) => s !== "");
  if (segments.some((s) => s.startsWith("."))) return "bad";
  const file = path.resolve(root, ...segments);
  if (file !== root && !file.startsWith(root + path.sep)) return "bad";
  return file;
}

async function fileStat(file: string): Promise<Stats | undefined> {
  try {
    const s = await stat(file);
    return s.isFile() ? s : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serve the built UI for every GET/HEAD outside `/api`: files as they are (hashed `/static/…`
 * files cached for good, everything else revalidated), and `index.html` for any other path (the
 * UI's own routes: `/assets/taxi/raw_trips`, `/runs/ID`). Without a build: a 503 page saying how
 * to build it. Register after the API routes.
 */
export function uiRoutes(app: ApiApp, ui: UiOptions | undefined) {
  const root = ui ? path.resolve(ui.dir) : undefined;
  let realRoot: string | undefined;

  const send = async (c: Context, file: string, s: Stats, cacheControl: string) => {
    // Symlinks out of the build folder are not followed.
    realRoot ??= await realpath(root!);
    const real = await realpath(file);
    if (!real.startsWith(realRoot + path.sep)) return undefined;
    const etag = `W/"${s.size.toString(16)}-${Math.floor(s.mtimeMs).toString(16)}"`;
    const headers = {
      "content-type": TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream",
      "cache-control": cacheControl,
      etag,
    };
    if (c.req.header("if-none-match") === etag) return c.body(null, 304, headers);
    if (c.req.method === "HEAD") return c.body(null, 200, { ...headers, "content-length": String(s.size) });
    const body = Readable.toWeb(createReadStream(real)) as ReadableStream<Uint8Array>;
    return c.body(body, 200, { ...headers, "content-length": String(s.size) });
  };

  app.get("*", async (c) => {
    const urlPath = c.req.path;
    if (urlPath === "/api" || urlPath.startsWith("/api/")) return c.notFound();
    const raw = new URL(c.req.url).pathname;
    const file = root ? filePathOf(root, raw) : "bad";
    if (root && file === "bad")
      return c.text("Bad path: it must stay inside the UI's files.", 400, { "cache-control": "no-store" });
    const index = root ? await fileStat(path.join(root, "index.html")) : undefined;
    if (!index) return c.html(notBuiltPage(root), 503, { "cache-control": "no-store", "retry-after": "10" });
    const hashed = raw.startsWith("/static/");
    const s = await fileStat(file);
    if (s) {
      const answer = await send(c, file, s, hashed ? IMMUTABLE : "no-cache");
      if (answer) return answer;
    }
    // A missing build file is a 404 (answering HTML to a script request only hides the problem).
    if (hashed) return c.text("Not found", 404, { "cache-control": "no-store" });
    return (await send(c, path.join(root!, "index.html"), index, "no-cache")) ?? c.notFound();
  });
}
