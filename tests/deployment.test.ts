/**
 * The deployment files (docker-compose.yml, Dockerfile, .dockerignore) checked statically: every
 * Baton service runs a real CLI command with flags the built CLI accepts, all share the Postgres
 * service's credentials, the webserver requires API tokens (it listens beyond loopback in its
 * container) and publishes on loopback only, every service has a healthcheck, pgAdmin only runs
 * under a profile, and the image is multi-stage (build, production dependencies, a non-root
 * runtime) with paths that exist. (No Docker here: the containers themselves are not started.)
 * The image's healthcheck script runs for real against real `baton` processes.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BIN, ROOT } from "./support/cli.js";
import { forget, killGroup, spawnBaton, waitFor } from "./support/processes.js";

interface Service {
  build?: string;
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval?: string; timeout?: string; retries?: number };
  profiles?: string[];
}
const compose = parse(readFileSync(path.join(ROOT, "docker-compose.yml"), "utf8"), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const dockerfile = readFileSync(path.join(ROOT, "Dockerfile"), "utf8");
const baton = ["webserver", "daemon", "worker"] as const;

describe("docker-compose.yml", () => {
  it("runs Postgres and the Baton webserver, daemon and workers from one image", () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      "daemon",
      "pgadmin",
      "postgres",
      "webserver",
      "worker",
    ]);
    for (const name of baton) {
      const s = compose.services[name]!;
      expect(s, name).toMatchObject({ build: ".", image: "baton:local" });
      expect(s.volumes, name).toContain("data:/data");
      expect(s.depends_on?.postgres?.condition, name).toBe("service_healthy");
    }
    expect(Object.keys(compose.volumes).sort()).toEqual(["data", "pgdata"]);
  });

  it("points every Baton service at the Postgres service with its credentials", () => {
    const pg = compose.services.postgres!.environment!;
    for (const name of baton) {
      const url = new URL(compose.services[name]!.environment!.BATON_DATABASE_URL!);
      expect(url.protocol, name).toBe("postgres:");
      expect(url.hostname, name).toBe("postgres");
      expect(decodeURIComponent(url.username), name).toBe(pg.POSTGRES_USER);
      expect(decodeURIComponent(url.password), name).toBe(pg.POSTGRES_PASSWORD);
      expect(url.pathname.slice(1), name).toBe(pg.POSTGRES_DB);
    }
  });

  it("requires API tokens for the webserver (it listens on 0.0.0.0) and publishes it on loopback only", () => {
    const web = compose.services.webserver!;
    expect(web.command).toEqual(["webserver", "--host", "0.0.0.0", "--port", "3000"]);
    expect(web.environment?.BATON_API_TOKENS).toMatch(/^\$\{BATON_API_TOKENS:\?/);
    expect(web.ports).toEqual(["127.0.0.1:3000:3000"]);
  });

  it("gives every service a healthcheck; the Baton ones run the image's check script", () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect(s.healthcheck?.test?.[0], name).toMatch(/^CMD(-SHELL)?$/);
      expect(s.healthcheck!.test.length, name).toBeGreaterThan(1);
    }
    for (const name of baton) {
      const test = compose.services[name]!.healthcheck!.test;
      expect(test, name).toEqual(["CMD", "node", "/app/docker/healthcheck.mjs"]);
      expect(existsSync(path.join(ROOT, test[2]!.replace(/^\/app\//, ""))), name).toBe(true);
    }
  });

  it("starts services only after what they need is healthy, and runs pgAdmin only under the tools profile", () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(compose.services[dep], `${name} depends on ${dep}`).toBeDefined();
        expect(condition, `${name} depends on ${dep}`).toBe("service_healthy");
        expect(compose.services[dep]!.healthcheck, dep).toBeDefined();
      }
      if (name === "pgadmin") expect(s.profiles, name).toEqual(["tools"]);
      else expect(s.profiles, name).toBeUndefined();
    }
    expect(compose.services.pgadmin!.depends_on?.postgres?.condition).toBe("service_healthy");
    // Compose interpolates every service before it applies profiles: a required variable (`:?`)
    // in pgAdmin would stop a plain `docker compose up`.
    expect(JSON.stringify(compose.services.pgadmin)).not.toMatch(/\$\{\w+:?\?/);
  });

  it("publishes ports on loopback only", () => {
    const published = Object.entries(compose.services).flatMap(([name, s]) =>
      (s.ports ?? []).map((p) => [name, p] as const),
    );
    expect(published.map(([name]) => name).sort()).toEqual(["pgadmin", "webserver"]);
    for (const [name, port] of published) expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });

  it.each(baton)("the %s command and its flags are accepted by the built CLI", (name) => {
    const command = compose.services[name]!.command!;
    // Commander prints help before it looks at the other flags, so `--help` alone accepts any
    // misspelling: check every flag against the options the command's help declares instead.
    const help = spawnSync(process.execPath, [BIN, command[0]!, "--help"], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(help.stderr).toBe("");
    expect(help.status).toBe(0);
    expect(help.stdout).toContain(`Usage: baton ${command[0]} [options]`);
    expect(unknownArguments(command.slice(1), declaredOptions(help.stdout)), name).toEqual([]);
  });

  it("the flag check itself rejects a misspelled flag, a missing value and a stray argument", () => {
    const declared = declaredOptions(
      "Options:\n  --port <port>  port\n  --read-only    refuse\n  -h, --help     help\n",
    );
    expect(unknownArguments(["--port", "3000", "--read-only"], declared)).toEqual([]);
    expect(unknownArguments(["--prot", "3000"], declared)).toEqual([
      'unknown flag "--prot"',
      'stray argument "3000"',
    ]);
    expect(unknownArguments(["--port"], declared)).toEqual(['"--port" needs a value']);
    expect(unknownArguments(["--port=3000", "-h"], declared)).toEqual([]);
  });
});

/** Flags a command's help lists under "Options:", each with whether it takes a value. */
function declaredOptions(help: string): Map<string, boolean> {
  const options = new Map<string, boolean>();
  const section = help.slice(help.indexOf("Options:"));
  for (const match of section.matchAll(/^ {2}((?:-\w, )?--[\w-]+)( [<[][^>\]]+[>\]])?/gm)) {
    for (const flag of match[1]!.split(", ")) options.set(flag, match[2] !== undefined);
  }
  return options;
}

/** What is wrong with `args` (flags and their values) for a command declaring `options`. */
function unknownArguments(args: readonly string[], options: Map<string, boolean>): string[] {
  const problems: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("-")) {
      problems.push(`stray argument "${arg}"`);
      continue;
    }
    const [flag, inline] = arg.split(/=(.*)/s) as [string, string | undefined];
    const takesValue = options.get(flag);
    if (takesValue === undefined) problems.push(`unknown flag "${flag}"`);
    else if (takesValue && inline === undefined) {
      if (i + 1 >= args.length || args[i + 1]!.startsWith("-")) problems.push(`"${flag}" needs a value`);
      else i++;
    }
  }
  return problems;
}

describe("Dockerfile", () => {
  it("runs the CLI that exists in the repository, on the NYC taxi definitions by default", () => {
    const entry = /ENTRYPOINT \["node", "\/app\/(.+?)"\]/.exec(dockerfile)?.[1];
    expect(entry).toBe("packages/core/bin/baton.js");
    expect(existsSync(path.join(ROOT, entry!))).toBe(true);
    const defs = /BATON_DEFS=\/app\/(\S+)/.exec(dockerfile)?.[1];
    expect(defs && existsSync(path.join(ROOT, defs))).toBe(true);
    expect(dockerfile).toMatch(/RUN npm ci\b/);
    // Production mode only after the build (the toolchain is a dev dependency).
    expect(dockerfile.indexOf("NODE_ENV=production")).toBeGreaterThan(dockerfile.indexOf("RUN npm ci"));
  });

  it(".dockerignore keeps local installs, builds and stores out of the image", () => {
    const ignored = readFileSync(path.join(ROOT, ".dockerignore"), "utf8").split("\n");
    for (const entry of ["node_modules", "**/node_modules", "**/dist", "**/.baton"])
      expect(ignored).toContain(entry);
  });

  it("has a build, a production-dependencies and a runtime stage", () => {
    expect(stages.map((s) => s.name)).toEqual(["build", "prod-deps", "runtime"]);
    for (const s of stages) expect(s.base, s.name).toBe("node:22-bookworm-slim");
    // The build stage installs the dev toolchain and builds core, webserver and UI (`prepare`).
    expect(stage("build").runs.some((r) => /^npm ci\b/.test(r) && !r.includes("--omit=dev"))).toBe(true);
    const rootPkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(rootPkg.scripts.prepare).toBe("npm run build");
  });

  it("installs only production dependencies for the runtime (native modules rebuilt)", () => {
    const deps = stage("prod-deps").runs.join(" && ");
    const installs = deps
      .split("&&")
      .map((c) => c.trim())
      .filter((c) => /^npm (ci|install|i)\b/.test(c));
    expect(installs.length).toBe(1);
    expect(installs[0]).toContain("--omit=dev");
    expect(deps).toMatch(/npm rebuild better-sqlite3 esbuild/);
    // Nothing in the runtime stage installs anything.
    expect(stage("runtime").runs.join(" ")).not.toMatch(/\bnpm\b/);
    // What the runtime loads at run time is a production dependency (tsx loads .ts definitions).
    const core = JSON.parse(readFileSync(path.join(ROOT, "packages/core/package.json"), "utf8"));
    for (const dep of ["tsx", "better-sqlite3", "@duckdb/node-api", "pg"])
      expect(core.dependencies[dep], dep).toBeDefined();
    const web = JSON.parse(readFileSync(path.join(ROOT, "packages/webserver/package.json"), "utf8"));
    expect(web.dependencies["@baton/core"]).toBeDefined();
  });

  it("copies into the runtime only built packages, production node_modules, the UI and the example", () => {
    const runtime = stage("runtime");
    expect(runtime.copies.length).toBeGreaterThan(0);
    for (const c of runtime.copies) {
      expect(["build", "prod-deps"], c.line).toContain(c.from);
      for (const src of c.sources) {
        expect(src, c.line).toMatch(/^\/app\//);
        const rel = src.slice("/app/".length);
        expect(rel, c.line).not.toMatch(/^(tests|bench|docs|\.git)\b/);
        expect(rel, c.line).not.toMatch(/^packages\/[^/]+\/src\b/);
        if (rel.includes("node_modules")) expect(c.from, c.line).toBe("prod-deps");
      }
    }
    const copied = runtime.copies.flatMap((c) => c.sources.map((s) => s.slice("/app/".length)));
    // What the image must hold is read from the repository, so a folder added to the example
    // (models/, python/) or to what @baton/core publishes (its package.json "files": pipes/)
    // cannot be forgotten: the example's definitions would not load in the image.
    const coreFiles = (
      JSON.parse(readFileSync(path.join(ROOT, "packages/core/package.json"), "utf8")) as {
        files: string[];
      }
    ).files.map((f) => `packages/core/${f}`);
    const exampleOnlyForDevelopment = new Set([
      "README.md",
      "scripts",
      ".gitignore",
      ".baton",
      "node_modules",
    ]);
    const example = readdirSync(path.join(ROOT, "examples/nyc_taxi"))
      .filter((name) => !exampleOnlyForDevelopment.has(name))
      .map((name) => `examples/nyc_taxi/${name}`);
    expect(example).toEqual(expect.arrayContaining(["examples/nyc_taxi/models", "examples/nyc_taxi/python"]));
    for (const needed of [
      "node_modules",
      ...coreFiles,
      "packages/webserver/dist",
      "packages/ui/dist",
      ...example,
      "docker/healthcheck.mjs",
    ])
      expect(copied, `the runtime stage does not copy ${needed}`).toContain(needed);
    // The example's Python step (taxi/quality_report) needs an interpreter in the image.
    expect(dockerfile).toMatch(/apt-get install[^\n]*python3/);
    expect(runtime.env.BATON_UI_DIR).toBe("/app/packages/ui/dist");
    expect(runtime.env.NODE_ENV).toBe("production");
  });

  it("copies only paths that exist in the repository (built dist and node_modules excepted)", () => {
    for (const s of stages)
      for (const c of s.copies) {
        if (c.from === undefined) {
          for (const src of c.sources)
            expect(existsSync(path.join(ROOT, src)), `${s.name}: ${c.line}`).toBe(true);
          continue;
        }
        for (const src of c.sources) {
          const rel = src.slice("/app/".length);
          if (/(^|\/)(dist|node_modules)(\/|$)/.test(rel)) continue;
          expect(existsSync(path.join(ROOT, rel)), `${s.name}: ${c.line}`).toBe(true);
        }
      }
  });

  it("runs as a non-root user that owns /data, with a healthcheck and the webserver's port", () => {
    const runtime = stage("runtime");
    const user = runtime.instructions.filter((i) => i.op === "USER").at(-1)?.args;
    expect(user).toBe("baton");
    const setup = runtime.runs.join(" ");
    expect(setup).toMatch(/useradd [^&]*--uid 10001\b[^&]* baton\b/);
    expect(setup).toMatch(/chown baton:baton \/data/);
    // The USER line comes after every RUN (which need root) and before the entry point.
    const ops = runtime.instructions.map((i) => i.op);
    expect(ops.lastIndexOf("RUN")).toBeLessThan(ops.lastIndexOf("USER"));
    expect(ops.lastIndexOf("USER")).toBeLessThan(ops.indexOf("ENTRYPOINT"));
    const health = runtime.instructions.find((i) => i.op === "HEALTHCHECK")?.args ?? "";
    expect(health).toMatch(/CMD \["node", "\/app\/docker\/healthcheck\.mjs"\]/);
    expect(runtime.instructions.find((i) => i.op === "EXPOSE")?.args).toBe("3000");
  });
});

interface Stage {
  name: string;
  base: string;
  instructions: { op: string; args: string }[];
  runs: string[];
  copies: { from: string | undefined; sources: string[]; line: string }[];
  env: Record<string, string>;
}

/** The Dockerfile's stages: its instructions (continuation lines joined, comments dropped) per FROM. */
function parseStages(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const out: Stage[] = [];
  for (const line of lines) {
    const [, op, args] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    if (!op || args === undefined) throw new Error(`Dockerfile: cannot read "${line}"`);
    if (op === "FROM") {
      const m = /^(\S+) AS (\S+)$/i.exec(args);
      if (!m) throw new Error(`Dockerfile: every stage needs a name: "${line}"`);
      out.push({ name: m[2]!, base: m[1]!, instructions: [], runs: [], copies: [], env: {} });
      continue;
    }
    const s = out.at(-1);
    if (!s) throw new Error(`Dockerfile: "${line}" before the first FROM`);
    s.instructions.push({ op, args });
    if (op === "RUN") s.runs.push(args.replace(/\s+/g, " "));
    if (op === "ENV") for (const [, k, v] of args.matchAll(/(\w+)=(\S+)/g)) s.env[k!] = v!;
    if (op === "COPY") {
      const words = args.split(/\s+/);
      const from = words.find((w) => w.startsWith("--from="))?.slice("--from=".length);
      const paths = words.filter((w) => !w.startsWith("--"));
      out.at(-1)!.copies.push({ from, sources: paths.slice(0, -1), line });
    }
  }
  return out;
}
const stages = parseStages(dockerfile);
const stage = (name: string) => {
  const s = stages.find((x) => x.name === name);
  if (!s) throw new Error(`Dockerfile: no stage "${name}"`);
  return s;
};

describe("docker/healthcheck.mjs (the image's HEALTHCHECK), against real processes", () => {
  const SCRIPT = path.join(ROOT, "docker/healthcheck.mjs");
  const TOKEN = "0123456789abcdef0123456789abcdef";
  const home = mkdtempSync(path.join(tmpdir(), "baton-healthcheck-"));
  const started: ReturnType<typeof spawnBaton>[] = [];
  afterAll(async () => {
    for (const p of started) {
      killGroup(p, "SIGKILL");
      await p.exited;
      forget(p);
    }
    rmSync(home, { recursive: true, force: true });
  });

  const check = (pid: number, env: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(process.execPath, [SCRIPT], {
      encoding: "utf8",
      timeout: 15_000,
      env: { PATH: process.env.PATH, BATON_HEALTH_PID: String(pid), ...env },
    });
    return { status: r.status, stderr: r.stderr };
  };
  const freePort = () =>
    new Promise<number>((resolve, reject) => {
      const srv = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = srv.address() as net.AddressInfo;
        srv.close(() => resolve(port));
      });
      srv.on("error", reject);
    });
  /** A plain node process whose command line carries `args` (no Baton behind it). */
  const idle = (...args: string[]) => {
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", ...args], {
      stdio: "ignore",
    });
    return child;
  };

  it("webserver: healthy when /api/health answers 200 with the token, not without it or once it is gone", async () => {
    const port = await freePort();
    const web = spawnBaton(["webserver", "--port", String(port)], {
      cwd: home,
      env: { ...process.env, BATON_HOME: path.join(home, "web"), BATON_API_TOKENS: `admin:${TOKEN}` },
    });
    started.push(web);
    const env = { BATON_API_TOKENS: `ops:admin:${TOKEN}` };
    await waitFor("the webserver to answer", () => check(web.pid, env).status === 0);
    expect(check(web.pid, env)).toEqual({ status: 0, stderr: "" });
    const noToken = check(web.pid);
    expect(noToken.status).toBe(1);
    expect(noToken.stderr).toContain(`http://127.0.0.1:${port}/api/health answered 401`);
    killGroup(web, "SIGKILL");
    await web.exited;
    const gone = check(web.pid, env);
    expect(gone.status).toBe(1);
    expect(gone.stderr).toContain(`process ${web.pid} is gone`);
  });

  it("worker: healthy while the pool has its run worker processes", async () => {
    const worker = spawnBaton(
      ["worker", "--concurrency", "1", "--defs", path.join(ROOT, "tests/fixtures/basic/definitions.ts")],
      {
        cwd: home,
        env: { ...process.env, BATON_HOME: path.join(home, "worker") },
      },
    );
    started.push(worker);
    await waitFor("the worker pool's child", () => check(worker.pid).status === 0);
    // A process that says `worker` but has no pool children is not healthy.
    const lone = idle("worker");
    try {
      await waitFor("the lone process to start", () => lone.pid !== undefined);
      const r = check(lone.pid!);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`baton worker (pid ${lone.pid}) has no run worker process`);
    } finally {
      lone.kill("SIGKILL");
    }
  });

  it("daemon: healthy while alive; a process running no Baton command is exit 2", async () => {
    const daemon = idle("daemon");
    const other = idle("something-else");
    try {
      await waitFor("both to start", async () => {
        const ok = check(daemon.pid!).status === 0 && check(other.pid!).status === 2;
        return ok;
      });
      expect(check(other.pid!).stderr).toContain("runs none of: baton webserver, worker, daemon");
    } finally {
      daemon.kill("SIGKILL");
      other.kill("SIGKILL");
    }
  });
});
