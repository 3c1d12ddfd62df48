/**
 * Regression tests for the findings of an independent security check of the webserver, each
 * reproduced the way it was found (the BUILT `@baton/webserver` and `@baton/core`, a real SQLite
 * store; `app.request()` where no socket matters, a real port with raw `node:http` requests
 * where one does):
 *
 * - config nested ~4,100 levels was stored, then `GET /api/runs` answered 500 for everyone
 *   (deeper: 500 and the run queued anyway): config and tags are bounded at the edge (400 naming
 *   the field), nothing is stored;
 * - a selection of ~5,000 nested parentheses overflowed the parser (500): 400 naming body.selection;
 * - DNS rebinding: the token-less loopback server answered any `Host` (a POST with
 *   `Host: attacker.example` stopped a schedule): only loopback names and allowed hosts now;
 * - bodies were read (up to 2 MB, chunked) before authentication: the token and role are checked
 *   from the headers first, and slow requests are cut off by Node's headers/request timeouts,
 *   while the event stream stays open past them;
 * - 401s without `WWW-Authenticate`; API JSON cacheable: `no-store` (ETag answers: `no-cache`);
 * - refusing a non-loopback bind without tokens printed "this looks like a bug in Baton".
 */
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import {
  asset,
  assetJob,
  type BatonInstance,
  dailyPartitions,
  defineDefinitions,
  isBatonError,
  openInstance,
  publishSnapshot,
  schedule,
} from "@baton/core/internal";
import { authFromEnv, createApp, makeToken, startWebserver } from "@baton/webserver";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { z } from "zod";
import { main } from "../packages/core/src/cli/main.js";

const plain = asset({ key: "plain" }, async () => 1);
/** A one-letter key: the longest flat list under the selection length limit. */
const x = asset({ key: "x" }, async () => 1);
/** Takes any `extra` config value: what a deep config needs to get past the core's validation. */
const free = asset({ key: "free", config: z.object({ extra: z.unknown().optional() }) }, async () => 1);
const daily = asset(
  { key: "daily", partitions: dailyPartitions({ start: "2024-01-01", end: "2024-01-05" }) },
  async () => 1,
);
const nightlyJob = assetJob({ name: "nightly_job", selection: "plain" });
const definitions = defineDefinitions({
  assets: [plain, free, daily, x],
  jobs: [nightlyJob],
  schedules: [schedule({ name: "nightly", cron: "0 2 * * *", job: nightlyJob, defaultStatus: "RUNNING" })],
});

const ADMIN = "admin-token-0123456789abcdef";
const VIEWER = "viewer-token-0123456789abcdef";
const LAUNCHER = "launcher-token-0123456789abcdef";
const tokens = () => ({
  tokens: [
    makeToken("admin", "admin", ADMIN),
    makeToken("ro", "viewer", VIEWER),
    makeToken("ci", "launcher", LAUNCHER),
  ],
});

let home: string;
let instance: BatonInstance;

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), "baton-webserver-security-"));
  instance = await openInstance({ home, env: {} });
  await publishSnapshot(instance.storage, definitions);
});
afterAll(async () => {
  await instance?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

type App = ReturnType<typeof createApp>;
async function call(
  app: App,
  method: string,
  url: string,
  options: { body?: string; headers?: Record<string, string> } = {},
) {
  const res = await app.request(url, {
    method,
    headers: {
      ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** `{"a":{"a":…1…}}`: a JSON value `depth` objects deep. */
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
const runCount = async () => (await instance.storage.listRuns({ limit: 1000 })).runs.length;
const backfillCount = async () => (await instance.storage.listBackfills({ limit: 1000 })).backfills.length;

describe("bounded input: config, tags, selection", () => {
  const app = () => createApp({ instance, ui: false });

  test("config nested 4,100 or 50,000 levels is a 400 naming body.config; nothing is stored; runs still list", async () => {
    const runsBefore = await runCount();
    for (const depth of [4100, 50_000]) {
      const res = await call(app(), "POST", "/api/runs", {
        body: `{"selection":"free","config":{"free":{"extra":${nested(depth)}}}}`,
      });
      expect(res.status, `depth ${depth}`).toBe(400);
      expect(res.body.error).toEqual({
        code: "invalid_request",
        message: "body.config: nested deeper than 32 levels",
        field: "body.config",
      });
    }
    expect(await runCount()).toBe(runsBefore);
    const list = await call(app(), "GET", "/api/runs");
    expect(list.status).toBe(200);
  });

  test("config at the limit (32 levels) is accepted and lists; one more level is refused", async () => {
    // config (1) → "free" (2) → "extra": 30 more levels = 32.
    const okay = await call(app(), "POST", "/api/runs", {
      body: `{"selection":"free","config":{"free":{"extra":${nested(30)}}}}`,
    });
    expect(okay.status).toBe(201);
    const list = await call(app(), "GET", "/api/runs");
    expect(list.status).toBe(200);
    expect(list.body.runs.some((r: { runId: string }) => r.runId === okay.body.run.runId)).toBe(true);
    const deeper = await call(app(), "POST", "/api/runs", {
      body: `{"selection":"free","config":{"free":{"extra":${nested(31)}}}}`,
    });
    expect(deeper.status).toBe(400);
    expect(deeper.body.error.field).toBe("body.config");
    // Arrays count too.
    const arrays = await call(app(), "POST", "/api/runs", {
      body: `{"selection":"free","config":{"free":{"extra":${"[".repeat(31)}1${"]".repeat(31)}}}}`,
    });
    expect(arrays.status).toBe(400);
    expect(arrays.body.error.message).toBe("body.config: nested deeper than 32 levels");
  });

  test("config larger than 256 KiB is a 400; more than 100 tags is a 400 naming body.tags", async () => {
    const runsBefore = await runCount();
    const big = await call(app(), "POST", "/api/runs", {
      body: JSON.stringify({ selection: "free", config: { free: { extra: "x".repeat(300 * 1024) } } }),
    });
    expect(big.status).toBe(400);
    expect(big.body.error.field).toBe("body.config");
    expect(big.body.error.message).toMatch(/^body\.config: larger than 256 KiB as JSON/);
    const tags = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`t${i}`, "v"]));
    const many = await call(app(), "POST", "/api/runs", {
      body: JSON.stringify({ selection: "plain", tags }),
    });
    expect(many.status).toBe(400);
    expect(many.body.error).toEqual({
      code: "invalid_request",
      message: "body.tags: at most 100 tags",
      field: "body.tags",
    });
    expect(await runCount()).toBe(runsBefore);
  });

  test("backfills: the same bounds on config and tags, nothing stored", async () => {
    const before = await backfillCount();
    const deep = await call(app(), "POST", "/api/backfills", {
      body: `{"selection":"daily","partitions":{"which":"all"},"config":{"daily":${nested(4100)}}}`,
    });
    expect(deep.status).toBe(400);
    expect(deep.body.error.message).toBe("body.config: nested deeper than 32 levels");
    const tags = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`t${i}`, "v"]));
    const many = await call(app(), "POST", "/api/backfills", {
      body: JSON.stringify({ selection: "daily", partitions: { which: "all" }, tags }),
    });
    expect(many.status).toBe(400);
    expect(many.body.error.field).toBe("body.tags");
    expect(await backfillCount()).toBe(before);
    expect((await call(app(), "GET", "/api/backfills")).status).toBe(200);
  });

  test("a selection of 5,000 nested parentheses is a 400 naming body.selection (runs and backfills)", async () => {
    const runsBefore = await runCount();
    const selection = `${"(".repeat(4990)}plain${")".repeat(4990)}`;
    const run = await call(app(), "POST", "/api/runs", { body: JSON.stringify({ selection }) });
    expect(run.status).toBe(400);
    expect(run.body.error.field).toBe("body.selection");
    expect(run.body.error.message).toContain("nested deeper than 100 levels");
    const backfill = await call(app(), "POST", "/api/backfills", {
      body: JSON.stringify({
        selection: `${"(".repeat(4990)}daily${")".repeat(4990)}`,
        partitions: { which: "all" },
      }),
    });
    expect(backfill.status).toBe(400);
    expect(backfill.body.error.field).toBe("body.selection");
    // "not" nests too; a long flat list does not nest at all.
    const nots = await call(app(), "POST", "/api/runs", {
      body: JSON.stringify({ selection: `${"not ".repeat(2400)}plain` }),
    });
    expect(nots.status).toBe(400);
    expect(nots.body.error.field).toBe("body.selection");
    expect(await runCount()).toBe(runsBefore);
    const flat = await call(app(), "POST", "/api/runs", {
      body: JSON.stringify({ selection: Array(5000).fill("x").join(",") }),
    });
    expect(flat.status).toBe(201);
    expect(flat.body.run.assetKeys).toEqual(["x"]);
  });
});

describe("DNS rebinding: Host names", () => {
  const scheduleStatus = async (app: App) =>
    (await call(app, "GET", "/api/schedules")).body.schedules.find(
      (s: { name: string }) => s.name === "nightly",
    ).status;

  test("without tokens, a foreign Host cannot stop a schedule (403 saying what to do); loopback names work", async () => {
    const app = createApp({ instance, ui: false });
    expect(await scheduleStatus(app)).toBe("RUNNING");
    const stop = await call(app, "POST", "/api/automation/nightly/stop", {
      body: "{}",
      headers: { host: "attacker.example:3000" },
    });
    expect(stop.status).toBe(403);
    expect(stop.body.error.code).toBe("host_not_allowed");
    expect(stop.body.error.message).toContain('"attacker.example:3000"');
    expect(stop.body.error.message).toContain("BATON_ALLOWED_HOSTS");
    expect(stop.body.error.message).toContain("BATON_API_TOKENS");
    expect(await scheduleStatus(app)).toBe("RUNNING");
    for (const host of [
      "attacker.example",
      "127.0.0.1.attacker.example",
      "localhost.attacker.example",
      "0.0.0.0:3000",
      "[::2]",
    ]) {
      const res = await call(app, "GET", "/api/health", { headers: { host } });
      expect(res.status, host).toBe(403);
    }
    for (const host of [
      "localhost",
      "localhost:3000",
      "LOCALHOST:80",
      "127.0.0.1",
      "127.0.0.1:3000",
      "127.1.2.3:8080",
      "[::1]:3000",
      "[::1]",
      "localhost.:3000",
    ]) {
      const res = await call(app, "GET", "/api/health", { headers: { host } });
      expect(res.status, host).toBe(200);
    }
  });

  test("the UI's files are behind the same check", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "baton-security-ui-"));
    try {
      await import("node:fs/promises").then((fs) =>
        fs.writeFile(path.join(dir, "index.html"), "<!doctype html>"),
      );
      const app = createApp({ instance, ui: { dir } });
      expect((await call(app, "GET", "/", { headers: { host: "attacker.example" } })).status).toBe(403);
      expect((await call(app, "GET", "/runs/x", { headers: { host: "attacker.example" } })).status).toBe(403);
      expect((await call(app, "GET", "/", { headers: { host: "localhost:3000" } })).status).toBe(200);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("allowed hosts: the allowedHosts option and BATON_ALLOWED_HOSTS (ports ignored, case-insensitive)", async () => {
    const byOption = createApp({ instance, ui: false, allowedHosts: ["baton.internal"] });
    expect(
      (await call(byOption, "GET", "/api/health", { headers: { host: "Baton.Internal:8080" } })).status,
    ).toBe(200);
    expect((await call(byOption, "GET", "/api/health", { headers: { host: "other.internal" } })).status).toBe(
      403,
    );
    expect((await call(byOption, "GET", "/api/health", { headers: { host: "127.0.0.1:1" } })).status).toBe(
      200,
    );
    const auth = authFromEnv({ BATON_ALLOWED_HOSTS: " baton.internal:3000, 10.0.0.5 ,[fd00::1]" });
    expect(auth.allowedHosts).toEqual(["baton.internal", "10.0.0.5", "[fd00::1]"]);
    const byEnv = createApp({ instance, ui: false, auth });
    for (const host of ["baton.internal", "10.0.0.5:3000", "[fd00::1]:3000"])
      expect((await call(byEnv, "GET", "/api/health", { headers: { host } })).status, host).toBe(200);
    expect(() => authFromEnv({ BATON_ALLOWED_HOSTS: "http://x.example/" })).toThrow(/BATON_ALLOWED_HOSTS/);
    const any = createApp({ instance, ui: false, allowedHosts: ["*"] });
    expect((await call(any, "GET", "/api/health", { headers: { host: "anything.example" } })).status).toBe(
      200,
    );
  });

  test("with tokens any Host is answered, unless hosts are listed: then only those", async () => {
    const withTokens = createApp({ instance, ui: false, auth: tokens() });
    const bearer = { authorization: `Bearer ${VIEWER}` };
    expect(
      (await call(withTokens, "GET", "/api/health", { headers: { ...bearer, host: "baton.example.com" } }))
        .status,
    ).toBe(200);
    const listed = createApp({
      instance,
      ui: false,
      auth: { ...tokens(), allowedHosts: ["baton.example.com"] },
    });
    expect(
      (await call(listed, "GET", "/api/health", { headers: { ...bearer, host: "baton.example.com" } }))
        .status,
    ).toBe(200);
    const other = await call(listed, "GET", "/api/health", { headers: { ...bearer, host: "localhost" } });
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe("host_not_allowed");
  });

  test("over a real port: Host: attacker.example is refused before anything happens", async () => {
    const server = await startWebserver({ instance, port: 0, ui: false });
    try {
      const stop = await rawRequest(server.port, {
        method: "POST",
        path: "/api/automation/nightly/stop",
        headers: { host: "attacker.example", "content-type": "application/json", "content-length": "2" },
        body: "{}",
      });
      expect(stop.status).toBe(403);
      expect(JSON.parse(stop.text).error.code).toBe("host_not_allowed");
      const app = createApp({ instance, ui: false });
      expect(await scheduleStatus(app)).toBe("RUNNING");
      const ok = await rawRequest(server.port, { method: "GET", path: "/api/health", headers: {} });
      expect(ok.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}
function rawRequest(
  port: number,
  req: { method: string; path: string; headers: Record<string, string>; body?: string },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const r = http.request(
      { host: "127.0.0.1", port, method: req.method, path: req.path, headers: req.headers },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => {
          text += d;
        });
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, text }));
      },
    );
    r.on("error", reject);
    r.end(req.body);
  });
}

/**
 * A raw socket: writes `head` (and then nothing), collects what the server sends, and resolves
 * when the server closes the connection or `ms` pass.
 */
function stalledRequest(port: number, head: string, ms: number) {
  return new Promise<{ text: string; closed: boolean; elapsedMs: number }>((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, "127.0.0.1", () => socket.write(head));
    let text = "";
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed, elapsedMs: Date.now() - started });
    };
    socket.setEncoding("utf8");
    socket.on("data", (d) => {
      text += d;
    });
    socket.on("close", () => finish(true));
    socket.on("error", () => finish(true));
    const timer = setTimeout(() => finish(false), ms);
  });
}

describe("bodies after authentication; timeouts", () => {
  test("an anonymous chunked upload is answered 401 from its headers, without waiting for the body", async () => {
    const server = await startWebserver({ instance, port: 0, ui: false, auth: tokens() });
    try {
      const head =
        "POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
        'Transfer-Encoding: chunked\r\n\r\n10000\r\n{"selection":"';
      const answer = await stalledRequest(server.port, head, 5000);
      expect(answer.text).toMatch(/^HTTP\/1\.1 401 /);
      expect(answer.text).toMatch(/\r\nwww-authenticate: Bearer realm="baton"\r\n/i);
      expect(answer.text).toMatch(/\r\nconnection: close\r\n/i);
      // Answered and closed at once, not when a timeout fired.
      expect(answer.closed).toBe(true);
      expect(answer.elapsedMs).toBeLessThan(2000);
      // A viewer's upload is refused (403) from the headers too.
      const viewer = await stalledRequest(
        server.port,
        head.replace("Host: 127.0.0.1\r\n", `Host: 127.0.0.1\r\nAuthorization: Bearer ${VIEWER}\r\n`),
        5000,
      );
      expect(viewer.text).toMatch(/^HTTP\/1\.1 403 /);
      expect(viewer.closed).toBe(true);
      expect(viewer.elapsedMs).toBeLessThan(2000);
    } finally {
      await server.close();
    }
  });

  test("150 unfinished anonymous uploads are all answered 401 and closed", async () => {
    const server = await startWebserver({ instance, port: 0, ui: false, auth: tokens() });
    try {
      const head =
        "POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
        `Transfer-Encoding: chunked\r\n\r\n100000\r\n${"x".repeat(60_000)}`;
      const answers = await Promise.all(
        Array.from({ length: 150 }, () => stalledRequest(server.port, head, 8000)),
      );
      expect(answers.filter((a) => /^HTTP\/1\.1 401 /.test(a.text)).length).toBe(150);
      expect(answers.every((a) => a.closed)).toBe(true);
    } finally {
      await server.close();
    }
  });

  test("slow requests are cut off (headers and body), the event stream stays open past requestTimeout", async () => {
    const server = await startWebserver({
      instance,
      port: 0,
      ui: false,
      auth: tokens(),
      headersTimeoutMs: 300,
      requestTimeoutMs: 600,
      streamPollMs: 50,
    });
    try {
      // Headers never finished.
      const headers = await stalledRequest(
        server.port,
        "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n",
        5000,
      );
      expect(headers.closed).toBe(true);
      expect(headers.elapsedMs).toBeLessThan(3000);
      // An authenticated launcher's body that never ends.
      const body = await stalledRequest(
        server.port,
        `POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${LAUNCHER}\r\n` +
          'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"selection":',
        5000,
      );
      expect(body.closed).toBe(true);
      expect(body.text === "" || /^HTTP\/1\.1 408 /.test(body.text)).toBe(true);
      expect(body.elapsedMs).toBeGreaterThanOrEqual(500);
      expect(body.elapsedMs).toBeLessThan(3000);

      // The stream: open for 3× requestTimeout, then an event still arrives.
      const controller = new AbortController();
      const stream = await fetch(`${server.url}/api/events/stream`, {
        headers: { authorization: `Bearer ${VIEWER}` },
        signal: controller.signal,
      });
      expect(stream.status).toBe(200);
      const reader = stream.body!.getReader();
      await new Promise((r) => setTimeout(r, 1800));
      const result = await instance.materialize(definitions, { selection: "plain" });
      let text = "";
      const deadline = Date.now() + 10_000;
      while (!text.includes(result.runId) && Date.now() < deadline) {
        const chunk = await reader.read();
        if (chunk.done) break;
        text += new TextDecoder().decode(chunk.value);
      }
      expect(text).toContain(result.runId);
      controller.abort();
    } finally {
      await server.close();
    }
  });
});

describe("headers: WWW-Authenticate, Cache-Control", () => {
  test('401s say Bearer realm="baton" (and invalid_token when a token was sent)', async () => {
    const app = createApp({ instance, ui: false, auth: tokens() });
    const missing = await call(app, "GET", "/api/runs");
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="baton"');
    const wrong = await call(app, "GET", "/api/runs", {
      headers: { authorization: "Bearer wrong-token-0123456789" },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toBe('Bearer realm="baton", error="invalid_token"');
    const ok = await call(app, "GET", "/api/runs", { headers: { authorization: `Bearer ${VIEWER}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("www-authenticate")).toBeNull();
  });

  test("API JSON is never stored (no-store); the ETag'd asset graph is revalidated (no-cache, 304)", async () => {
    const app = createApp({ instance, ui: false, auth: tokens() });
    const bearer = { authorization: `Bearer ${VIEWER}` };
    for (const [url, status] of [
      ["/api/health", 200],
      ["/api/runs", 200],
      ["/api/runs/nope", 404],
      ["/api/nope", 404],
      ["/api/runs?limit=0", 400],
    ] as const) {
      const res = await call(app, "GET", url, { headers: bearer });
      expect(res.status, url).toBe(status);
      expect(res.headers.get("cache-control"), url).toBe("no-store");
    }
    expect((await call(app, "GET", "/api/runs")).headers.get("cache-control")).toBe("no-store");
    const graph = await call(app, "GET", "/api/assets", { headers: bearer });
    expect(graph.status).toBe(200);
    const etag = graph.headers.get("etag");
    expect(etag).toBeTruthy();
    expect(graph.headers.get("cache-control")).toBe("private, no-cache");
    const again = await call(app, "GET", "/api/assets", { headers: { ...bearer, "if-none-match": etag! } });
    expect(again.status).toBe(304);
    expect(again.headers.get("cache-control")).toBe("private, no-cache");
  });
});

describe("refusing a non-loopback address without tokens is the user's to fix", () => {
  test("startWebserver throws a coded Baton error naming what to do", async () => {
    const error = await startWebserver({ instance, host: "0.0.0.0", port: 0 }).catch((e: unknown) => e);
    expect(isBatonError(error)).toBe(true);
    expect((error as { code: string }).code).toBe("USAGE_ERROR");
    expect((error as Error).message).toMatch(/BATON_API_TOKENS.*127\.0\.0\.1/);
  });

  test("baton webserver prints it (and a busy port) without 'this looks like a bug'", async () => {
    const run = async (argv: string[]) => {
      const stderr = new PassThrough();
      let text = "";
      stderr.on("data", (d) => {
        text += d;
      });
      const code = await main(argv, {
        stdout: new PassThrough(),
        stderr: stderr as unknown as NodeJS.WriteStream,
        env: { BATON_HOME: home },
        cwd: home,
      });
      return { code, text };
    };
    const refused = await run(["webserver", "--host", "0.0.0.0", "--port", "0"]);
    expect(refused.code).not.toBe(0);
    expect(refused.text).toContain("BATON_API_TOKENS");
    expect(refused.text).not.toMatch(/bug in Baton/);

    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    try {
      const port = (busy.address() as net.AddressInfo).port;
      const taken = await run(["webserver", "--port", String(port)]);
      expect(taken.code).not.toBe(0);
      expect(taken.text).toContain(`error: Port ${port} is in use: pass --port N (0 picks a free one).`);
      expect(taken.text).not.toMatch(/bug in Baton/);
    } finally {
      busy.close();
    }
  });
});
