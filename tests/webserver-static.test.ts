/**
 * The built UI served by the webserver (packages/webserver/src/static-ui.ts), on the same port as
 * /api: a temp `dist` folder fixture shaped like Vite's output (`index.html`, hashed files under
 * `static/`), through `app.request()` and once through a real port with raw `node:http` requests
 * (fetch would normalize the traversal attempts away before sending them).
 *
 * The BUILT `@baton/webserver` (run `npm run build -w @baton/webserver` first) and a real SQLite store.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { type BatonInstance, openInstance } from "@baton/core";
import { createApp, defaultUiDir, startWebserver } from "@baton/webserver";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const CSP =
  "default-src 'self'; script-src 'self'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
  "frame-ancestors 'none'; form-action 'self'";
const IMMUTABLE = "public, max-age=31536000, immutable";
const INDEX = `<!doctype html><html><head><script type="module" src="/static/index-abc123.js"></script></head><body><div id="root"></div></body></html>`;
const SECRET = "TOP-SECRET-OUTSIDE-DIST";

let home: string;
let dist: string;
let instance: BatonInstance;

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), "baton-webserver-static-"));
  dist = path.join(home, "ui", "dist");
  await mkdir(path.join(dist, "static"), { recursive: true });
  await writeFile(path.join(dist, "index.html"), INDEX);
  await writeFile(path.join(dist, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
  await writeFile(path.join(dist, "static", "index-abc123.js"), "console.log('ui');\n");
  await writeFile(path.join(dist, "static", "index-abc123.js.map"), '{"version":3}');
  await writeFile(path.join(dist, "static", "index-abc123.css"), "body{margin:0}");
  await writeFile(path.join(dist, "static", "logo-1a2b.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
  await writeFile(path.join(dist, "static", "pic-1a2b.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  await writeFile(path.join(dist, "static", "inter-1a2b.woff2"), Buffer.from("wOF2"));
  await writeFile(path.join(dist, "static", "data-1a2b.json"), "{}");
  await writeFile(path.join(dist, ".env"), SECRET);
  // Next to dist: what a traversal would be after.
  await writeFile(path.join(home, "ui", "secret.txt"), SECRET);
  await writeFile(path.join(home, "secret.txt"), SECRET);
  await symlink(path.join(home, "secret.txt"), path.join(dist, "static", "link-1a2b.txt"));
  await symlink(path.join(home, "secret.txt"), path.join(dist, "linked.txt"));
  instance = await openInstance({ home, env: {} });
});
afterAll(async () => {
  await instance?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

const appWith = (ui: { dir: string } | false) => createApp({ instance, ui });

describe("the built UI (app.request)", () => {
  test("index.html at /: HTML, revalidated (no-cache), the strict CSP, the secure headers", async () => {
    const app = appWith({ dir: dist });
    const res = await app.request("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("content-security-policy")).toBe(CSP);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(await res.text()).toBe(INDEX);
    const again = await app.request("/index.html");
    expect(again.status).toBe(200);
    expect(again.headers.get("cache-control")).toBe("no-cache");
    expect(await again.text()).toBe(INDEX);
  });

  test("hashed files under /static are cached for good, with the right content types", async () => {
    const app = appWith({ dir: dist });
    const expected: Record<string, string> = {
      "/static/index-abc123.js": "text/javascript; charset=utf-8",
      "/static/index-abc123.js.map": "application/json; charset=utf-8",
      "/static/index-abc123.css": "text/css; charset=utf-8",
      "/static/logo-1a2b.svg": "image/svg+xml",
      "/static/pic-1a2b.png": "image/png",
      "/static/inter-1a2b.woff2": "font/woff2",
      "/static/data-1a2b.json": "application/json; charset=utf-8",
    };
    for (const [url, type] of Object.entries(expected)) {
      const res = await app.request(url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get("content-type"), url).toBe(type);
      expect(res.headers.get("cache-control"), url).toBe(IMMUTABLE);
      expect(res.headers.get("content-security-policy"), url).toBe(CSP);
    }
    const js = await app.request("/static/index-abc123.js");
    expect(await js.text()).toBe("console.log('ui');\n");
    expect(js.headers.get("content-length")).toBe("19");
    // Files at the top (not hashed) are revalidated.
    const icon = await app.request("/favicon.svg");
    expect(icon.status).toBe(200);
    expect(icon.headers.get("content-type")).toBe("image/svg+xml");
    expect(icon.headers.get("cache-control")).toBe("no-cache");
  });

  test("HEAD answers the headers without a body; If-None-Match answers 304", async () => {
    const app = appWith({ dir: dist });
    const head = await app.request("/static/index-abc123.js", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await head.text()).toBe("");
    const first = await app.request("/");
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^W\/".+"$/);
    const second = await app.request("/", { headers: { "if-none-match": etag! } });
    expect(second.status).toBe(304);
    expect(second.headers.get("cache-control")).toBe("no-cache");
    expect(await second.text()).toBe("");
  });

  test("SPA fallback: deep links answer index.html; a missing hashed file is a 404", async () => {
    const app = appWith({ dir: dist });
    for (const url of [
      "/assets/taxi/raw_trips",
      "/assets/taxi%2Fraw_trips",
      "/runs/0b5c9a1e-1234",
      "/runs/abc?tab=logs",
      "/automation",
      "/assets/report.v2",
    ]) {
      const res = await app.request(url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get("content-type"), url).toBe("text/html; charset=utf-8");
      expect(res.headers.get("cache-control"), url).toBe("no-cache");
      expect(await res.text(), url).toBe(INDEX);
    }
    const missing = await app.request("/static/index-old999.js");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).not.toMatch(/html/);
  });

  test("/api stays the API: unknown paths are JSON 404s, other methods outside /api too", async () => {
    const app = appWith({ dir: dist });
    for (const url of ["/api/unknown", "/api", "/api/", "/api/assets/x/nope"]) {
      const res = await app.request(url);
      expect(res.status, url).toBe(404);
      expect(res.headers.get("content-type"), url).toMatch(/^application\/json/);
      expect(((await res.json()) as { error: { code: string } }).error.code, url).toBe("not_found");
    }
    const post = await app.request("/runs/abc", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(post.status).toBe(404);
    expect(((await post.json()) as { error: { code: string } }).error.code).toBe("not_found");
    const health = await app.request("/api/health");
    expect(health.status).toBe(200);
    expect(health.headers.get("content-security-policy")).toBe(CSP);
  });

  test("paths leaving the folder are refused: dot segments, encoded dots, backslashes, NUL, dotfiles, symlinks", async () => {
    const app = appWith({ dir: dist });
    for (const url of [
      "/static/..%2f..%2fsecret.txt",
      "/%2e%2e%2fsecret.txt",
      "/static/..%5c..%5csecret.txt",
      "/static/%5c..%5csecret.txt",
      "/index.html%00.js",
      "/static/%00",
      "/.env",
      "/static/%2eenv",
      "/%",
      "/%E0%A4%A",
    ]) {
      const res = await app.request(url);
      const text = await res.text();
      expect(text, url).not.toContain(SECRET);
      expect(res.status, url).toBe(400);
    }
    // Symlinks pointing out of dist are not followed.
    const link = await app.request("/static/link-1a2b.txt");
    expect(link.status).toBe(404);
    expect(await link.text()).not.toContain(SECRET);
    const top = await app.request("/linked.txt");
    expect(await top.text()).toBe(INDEX);
  });

  test("no build: / and deep links answer a 503 page saying how to build it; the API still works", async () => {
    const app = appWith({ dir: path.join(home, "not-built") });
    for (const url of ["/", "/runs/abc"]) {
      const res = await app.request(url);
      expect(res.status, url).toBe(503);
      expect(res.headers.get("content-type"), url).toMatch(/^text\/html/);
      expect(res.headers.get("content-security-policy"), url).toBe(CSP);
      const text = await res.text();
      expect(text).toContain("not built");
      expect(text).toContain("npm run build -w @baton/ui");
      expect(text).not.toMatch(/<script/i);
    }
    expect((await app.request("/api/health")).status).toBe(200);
  });

  test("ui: false serves the API only; the default is the @baton/ui package's dist", async () => {
    const res = await appWith(false).request("/");
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
    expect(defaultUiDir({})).toBe(path.resolve(import.meta.dirname, "../packages/ui/dist"));
    expect(defaultUiDir({ BATON_UI_DIR: "other/build" })).toBe(path.resolve("other/build"));
  });
});

/** A raw request (no URL normalization by the client). */
function rawGet(port: number, rawPath: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method: "GET", path: rawPath }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => {
        text += d;
      });
      res.on("end", () => resolve({ status: res.statusCode!, text }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the built UI (real port)", () => {
  test("raw traversal paths never answer a file outside dist", async () => {
    const server = await startWebserver({ instance, port: 0, ui: { dir: dist } });
    try {
      for (const raw of [
        "/../secret.txt",
        "/../../secret.txt",
        "/static/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2e%2e/%2e%2e/secret.txt",
        "/static/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/..\\..\\secret.txt",
        "/static/..%5c..%5csecret.txt",
        "//secret.txt",
        "/.%2e/secret.txt",
        "/static/%00../secret.txt",
      ]) {
        const { status, text } = await rawGet(server.port, raw);
        expect(text, raw).not.toContain(SECRET);
        // Normalized by the URL parser (then the SPA page), or refused.
        if (status === 200) expect(text, raw).toBe(INDEX);
        else expect([400, 404], raw).toContain(status);
      }
      const js = await fetch(`${server.url}/static/index-abc123.js`);
      expect(js.status).toBe(200);
      expect(js.headers.get("cache-control")).toBe(IMMUTABLE);
      expect(await js.text()).toBe("console.log('ui');\n");
      const deep = await fetch(`${server.url}/assets/taxi/raw_trips`);
      expect(deep.status).toBe(200);
      expect(deep.headers.get("content-security-policy")).toBe(CSP);
      expect(await deep.text()).toBe(INDEX);
    } finally {
      await server.close();
    }
  });
});
