/**
 * The deployment files (docker-compose.yml, Dockerfile, .dockerignore) checked statically: every
 * Baton service runs a real CLI command with flags the built CLI accepts, all share the Postgres
 * service's credentials, the webserver requires API tokens (it listens beyond loopback in its
 * container) and publishes on loopback only, and the image's paths exist. (No Docker here: the
 * containers themselves are not started.)
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BIN, ROOT } from "./support/cli.js";

interface Service {
  build?: string;
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
}
const compose = parse(readFileSync(path.join(ROOT, "docker-compose.yml"), "utf8"), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const dockerfile = readFileSync(path.join(ROOT, "Dockerfile"), "utf8");
const baton = ["webserver", "daemon", "worker"] as const;

describe("docker-compose.yml", () => {
  it("runs Postgres and the Baton webserver, daemon and workers from one image", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["daemon", "postgres", "webserver", "worker"]);
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

  it.each(baton)("the %s command and its flags are accepted by the built CLI", (name) => {
    const command = compose.services[name]!.command!;
    const result = spawnSync(process.execPath, [BIN, ...command, "--help"], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Usage: baton ${command[0]}`);
  });
});

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
});
