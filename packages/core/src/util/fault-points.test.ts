import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { faultPoint } from "./fault-points.js";

const MODULE = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), "fault-points.ts")).href;

/** A real Node process hitting the point `hits` times (printing `hit N` before each). */
function runHits(hits: number, env: Record<string, string>) {
  const script = `
    const { faultPoint } = await import(${JSON.stringify(MODULE)});
    for (let i = 1; i <= ${hits}; i++) { console.log("hit " + i); faultPoint("p:one"); }
    console.log("survived");
  `;
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("BATON_FAULT")) clean[k] = v;
  return spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    env: { ...clean, ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
}

describe("faultPoint", () => {
  it("does nothing unless BATON_FAULT_POINT names the point", () => {
    expect(() => faultPoint("p:one", {})).not.toThrow();
    expect(() => faultPoint("p:one", { BATON_FAULT_POINT: "p:other" })).not.toThrow();
    const r = runHits(3, { BATON_FAULT_POINT: "p:other" });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.stdout).toContain("survived");
  });

  it("SIGKILLs the process at the first hit of the named point", () => {
    const r = runHits(3, { BATON_FAULT_POINT: "p:one" });
    expect(r.signal, r.stderr).toBe("SIGKILL");
    expect(r.stdout.trim().split("\n")).toEqual(["hit 1"]);
  });

  it("lets BATON_FAULT_POINT_AFTER hits pass, then kills", () => {
    const r = runHits(5, { BATON_FAULT_POINT: "p:one", BATON_FAULT_POINT_AFTER: "2" });
    expect(r.signal, r.stderr).toBe("SIGKILL");
    expect(r.stdout.trim().split("\n")).toEqual(["hit 1", "hit 2", "hit 3"]);
  });

  it("names the variable when BATON_FAULT_POINT_AFTER is not a count", () => {
    expect(() => faultPoint("p:bad", { BATON_FAULT_POINT: "p:bad", BATON_FAULT_POINT_AFTER: "two" })).toThrow(
      'BATON_FAULT_POINT_AFTER must be a whole number >= 0 (got "two")',
    );
  });
});
