import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
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
}

const digest = (token: string) => createHash("sha256").update(token).digest();

export function makeToken(name: string, role: Role, token: string): ApiToken {
  if (!ROLES.includes(role))
    throw new Error(`token "${name}": unknown role "${role}" (viewer, launcher or admin)`);
  if (token.length < 16) throw new Error(`token "${name}": at least 16 characters`);
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
      else throw new Error(`BATON_API_TOKENS entry ${i + 1}: expected role:token or name:role:token`);
    });
  }
  const file = env.BATON_API_TOKENS_FILE;
  if (file) {
    let list: unknown;
    try {
      list = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw new Error(`BATON_API_TOKENS_FILE ${file}: ${(error as Error).message}`);
    }
    if (!Array.isArray(list)) throw new Error(`BATON_API_TOKENS_FILE ${file}: expected a JSON array`);
    list.forEach((t: { name?: string; role?: Role; token?: string }, i) => {
      if (typeof t?.token !== "string" || typeof t.role !== "string")
        throw new Error(`BATON_API_TOKENS_FILE ${file}: entry ${i} needs "role" and "token" strings`);
      tokens.push(makeToken(t.name ?? `file${i + 1}`, t.role, t.token));
    });
  }
  return { tokens };
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
