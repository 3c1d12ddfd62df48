import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { BatonError } from "@baton/core/internal";
import { ApiError } from "./errors.js";

export type Role = "viewer" | "launcher" | "admin";
export const ROLES: readonly Role[] = ["viewer", "launcher", "admin"];
const RANK: Record<Role, number> = { viewer: 0, launcher: 1, admin: 2 };

export interface ApiToken {
  readonly name: string;
  readonly role: Role;
  /** sha256 of the token (the token itself is not kept). */
  readonly digest: Buffer;
}

/** No tokens: auth is off (allowed only on a loopback address). */
export interface AuthConfig {
  readonly tokens: readonly ApiToken[];
  /**
   * Host names (the `Host` header, without the port) accepted besides the loopback ones. Without
   * tokens only loopback names and these are answered (a DNS-rebinding page cannot drive the
   * server); with tokens, when given, only these are. `*` accepts any. From BATON_ALLOWED_HOSTS.
   */
  readonly allowedHosts?: readonly string[];
}

/** A mistake in the environment or options: the user's to fix (the CLI prints it without a stack). */
const usage = (message: string) => new BatonError("USAGE_ERROR", message);

const digest = (token: string) => createHash("sha256").update(token).digest();

export function makeToken(name: string, role: Role, token: string): ApiToken {
  if (!ROLES.includes(role))
    throw usage(`token "${name}": unknown role "${role}" (viewer, launcher or admin)`);
  if (token.length < 16) throw usage(`token "${name}": at least 16 characters`);
  return { name, role, digest: digest(token) };
}

/**
 * Tokens from `BATON_API_TOKENS` (`role:token,role:token` or `name:role:token`) and/or the JSON
 * file named by `BATON_API_TOKENS_FILE` (`[{ "name", "role", "token" }]`).
 */
export function authFromEnv(env: Readonly<Record<string, string | undefined>>): AuthConfig {
  const tokens: ApiToken[] = [];
  const inline = env.BATON_API_TOKENS?.trim();
  if (inline) {
    inline.split(",").forEach((entry, i) => {
      const parts = entry.trim().split(":");
      if (parts.length === 2) tokens.push(makeToken(`token${i + 1}`, parts[0] as Role, parts[1]!));
      else if (parts.length === 3) tokens.push(makeToken(parts[0]!, parts[1] as Role, parts[2]!));
      else throw usage(`BATON_API_TOKENS entry ${i + 1}: expected role:token or name:role:token`);
    });
  }
  const file = env.BATON_API_TOKENS_FILE;
  if (file) {
    let list: unknown;
    try {
      list = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw usage(`BATON_API_TOKENS_FILE ${file}: ${(error as Error).message}`);
    }
    if (!Array.isArray(list)) throw usage(`BATON_API_TOKENS_FILE ${file}: expected a JSON array`);
    list.forEach((t: { name?: string; role?: Role; token?: string }, i) => {
      if (typeof t?.token !== "string" || typeof t.role !== "string")
        throw usage(`BATON_API_TOKENS_FILE ${file}: entry ${i} needs "role" and "token" strings`);
      tokens.push(makeToken(t.name ?? `file${i + 1}`, t.role, t.token));
    });
  }
  const hosts = env.BATON_ALLOWED_HOSTS?.trim();
  return { tokens, ...(hosts ? { allowedHosts: parseAllowedHosts(hosts) } : {}) };
}

/** `BATON_ALLOWED_HOSTS`: comma-separated host names (a port, if given, is ignored), or `*`. */
export function parseAllowedHosts(list: string): string[] {
  return list
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h !== "")
    .map((h) => {
      const name = h === "*" ? h : hostNameOf(h);
      if (name === undefined || !/^(\*|\[[0-9a-f:.]+\]|[a-z0-9_.-]+)$/.test(name))
        throw usage(`BATON_ALLOWED_HOSTS: "${h}" is not a host name (e.g. baton.internal,10.0.0.5)`);
      return name;
    });
}

/** The host name of a `Host` header value, lower case, without port or trailing dot. */
export function hostNameOf(host: string): string | undefined {
  const h = host.trim().toLowerCase();
  const m = h.startsWith("[") ? /^(\[[^\]]*\])(?::\d*)?$/.exec(h) : /^([^:]*)(?::\d*)?$/.exec(h);
  if (!m || m[1] === "") return undefined;
  return m[1]!.replace(/\.$/, "");
}

/** localhost, 127.x.x.x, [::1] (and IPv4-mapped loopback): names only this machine answers to. */
export function isLoopbackName(name: string): boolean {
  return (
    name === "localhost" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name) ||
    name === "[::1]" ||
    /^\[::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}\]$/.test(name)
  );
}

/**
 * Refuse (403) a request whose `Host` this server must not answer: without tokens anything but a
 * loopback name or an allowed one (DNS rebinding: a page on attacker.example resolving to
 * 127.0.0.1 would otherwise drive a token-less server as admin); with tokens, when hosts are
 * listed, anything not listed.
 */
export function checkHost(auth: AuthConfig, allowed: readonly string[], host: string | undefined) {
  const tokens = auth.tokens.length > 0;
  if (tokens && allowed.length === 0) return;
  if (allowed.includes("*")) return;
  const name = host === undefined ? undefined : hostNameOf(host);
  if (name !== undefined && ((!tokens && isLoopbackName(name)) || allowed.includes(name))) return;
  const shown = JSON.stringify(host ?? "");
  throw new ApiError(
    403,
    "host_not_allowed",
    tokens
      ? `Host ${shown} is not in BATON_ALLOWED_HOSTS: add it (comma-separated host names), or use a listed name.`
      : `Host ${shown} is not allowed: without API tokens this server answers only loopback names (localhost, 127.0.0.1, [::1]). ` +
          "Open it at http://127.0.0.1:<port>, or list this name in BATON_ALLOWED_HOSTS (comma-separated host names), or set BATON_API_TOKENS.",
  );
}

/** Who is calling: the token's name and role (everyone is admin when auth is off). */
export function authenticate(auth: AuthConfig, header: string | undefined): { name: string; role: Role } {
  if (auth.tokens.length === 0) return { name: "local", role: "admin" };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!m) throw new ApiError(401, "unauthorized", "Send an API token: Authorization: Bearer TOKEN.");
  const given = digest(m[1]!);
  let found: ApiToken | undefined;
  // Compare against every token in constant time (no early exit on a match).
  for (const t of auth.tokens) if (timingSafeEqual(t.digest, given)) found ??= t;
  if (!found) throw new ApiError(401, "unauthorized", "This API token is not valid.");
  return { name: found.name, role: found.role };
}

export function requireRole(have: Role, need: Role) {
  if (RANK[have] < RANK[need])
    throw new ApiError(403, "forbidden", `This needs the ${need} role; the token has ${have}.`);
}
