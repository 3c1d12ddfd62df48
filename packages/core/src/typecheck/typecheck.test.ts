import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { resolveTypeScript } from "./resolve-typescript.js";
import { formatDiagnostic, parseTscOutput, typeCheck, typeErrorSummary } from "./typecheck.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const OUR_TYPESCRIPT = path.join(ROOT, "node_modules/typescript");
const dirs: string[] = [];
async function tempDir(prefix: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("parseTscOutput", () => {
  test("diagnostics with file, line, column and code; chained explanations; option errors; listed files", () => {
    const out = [
      "definitions.ts(16,22): error TS2551: Property 'fares' does not exist on type 'Trip'. Did you mean 'fare'?",
      "src/b.ts(4,3): error TS2345: Argument of type '(s: string) => number' is not assignable to parameter of type '(n: number) => string'.",
      "  Types of parameters 's' and 'n' are incompatible.",
      "    Type 'number' is not assignable to type 'string'.",
      "error TS5023: Unknown compiler option '--bogus'.",
      "/proj/node_modules/typescript/lib/lib.es2022.d.ts",
      "/proj/definitions.ts",
      "",
    ].join("\n");
    const { diagnostics, files } = parseTscOutput(out, "/proj");
    expect(diagnostics).toEqual([
      {
        file: "/proj/definitions.ts",
        line: 16,
        column: 22,
        category: "error",
        code: 2551,
        message: "Property 'fares' does not exist on type 'Trip'. Did you mean 'fare'?",
      },
      {
        file: "/proj/src/b.ts",
        line: 4,
        column: 3,
        category: "error",
        code: 2345,
        message:
          "Argument of type '(s: string) => number' is not assignable to parameter of type '(n: number) => string'.\n" +
          "  Types of parameters 's' and 'n' are incompatible.\n" +
          "    Type 'number' is not assignable to type 'string'.",
      },
      { category: "error", code: 5023, message: "Unknown compiler option '--bogus'." },
    ]);
    expect(files).toEqual(["/proj/node_modules/typescript/lib/lib.es2022.d.ts", "/proj/definitions.ts"]);
    expect(formatDiagnostic(diagnostics[0]!, "/proj")).toBe(
      "definitions.ts:16:22 - error TS2551: Property 'fares' does not exist on type 'Trip'. Did you mean 'fare'?",
    );
    expect(formatDiagnostic(diagnostics[1]!, "/proj/src")).toMatch(/^b\.ts:4:3 - error TS2345: /);
    expect(formatDiagnostic(diagnostics[2]!, "/proj")).toBe(
      "error TS5023: Unknown compiler option '--bogus'.",
    );
    expect(typeErrorSummary({ diagnostics })).toBe("3 type errors in 2 files");
    expect(typeErrorSummary({ diagnostics: diagnostics.slice(0, 1) })).toBe("1 type error in 1 file");
    expect(typeErrorSummary({ diagnostics: diagnostics.slice(2) })).toBe("1 type error");
  });
});

describe("resolveTypeScript", () => {
  test("a project without TypeScript, and none next to Baton: says to npm install -D typescript", async () => {
    const project = await tempDir("baton-no-ts-");
    expect(() => resolveTypeScript(project, { fallbackDirs: [], env: {} })).toThrow(
      `TypeScript is not installed for ${project}: run \`npm install -D typescript\` there`,
    );
  });

  test("the project's own first, else the one installed next to @baton/core", async () => {
    const project = await tempDir("baton-own-ts-");
    expect(resolveTypeScript(project, { env: {} })).toMatchObject({
      from: "baton",
      dir: OUR_TYPESCRIPT,
      tsc: path.join(OUR_TYPESCRIPT, "bin/tsc"),
    });
    await mkdir(path.join(project, "node_modules"));
    await symlink(OUR_TYPESCRIPT, path.join(project, "node_modules/typescript"), "dir");
    const own = resolveTypeScript(project, { fallbackDirs: [], env: {} });
    expect(own.from).toBe("project");
    expect(own.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(existsSync(own.tsc)).toBe(true);
  });

  test("BATON_TYPESCRIPT names the package folder; a wrong one is a clear error", async () => {
    const project = await tempDir("baton-env-ts-");
    expect(resolveTypeScript(project, { env: { BATON_TYPESCRIPT: OUR_TYPESCRIPT } }).from).toBe("env");
    expect(() => resolveTypeScript(project, { env: { BATON_TYPESCRIPT: project } })).toThrow(
      `BATON_TYPESCRIPT=${project} is not a typescript package folder`,
    );
  });
});

describe("typeCheck", () => {
  test("no tsconfig.json: the file alone with strict defaults, and it says so", async () => {
    const dir = await tempDir("baton-tc-alone-");
    const file = path.join(dir, "definitions.ts");
    // Implicit any is an error only under strict.
    await writeFile(file, "export const fare: number = 'ten';\nexport function f(x) { return x; }\n");
    const result = await typeCheck(file, { env: {} });
    expect(result.ok).toBe(false);
    expect(result.scope).toBe("file");
    expect(result.tsconfig).toBeUndefined();
    expect(result.note).toMatch(
      /^no tsconfig\.json in .* or above: type-checked definitions\.ts alone with strict defaults/,
    );
    expect(result.diagnostics.map((d) => formatDiagnostic(d, dir))).toEqual([
      "definitions.ts:1:14 - error TS2322: Type 'string' is not assignable to type 'number'.",
      "definitions.ts:2:19 - error TS7006: Parameter 'x' implicitly has an 'any' type.",
    ]);
  });

  test("a tsconfig.json that does not include the definitions file: the file is still checked, with its options", async () => {
    const dir = path.join(ROOT, "tests/fixtures/typecheck/not-included");
    const result = await typeCheck(path.join(dir, "definitions.ts"), { env: {} });
    expect(result.tsconfig).toBe(path.join(dir, "tsconfig.json"));
    expect(result.scope).toBe("file");
    expect(result.note).toBe(
      `${path.join(dir, "tsconfig.json")} does not include definitions.ts: type-checked it alone with that tsconfig's options`,
    );
    expect(result.diagnostics.map((d) => formatDiagnostic(d, dir))).toEqual([
      "definitions.ts:3:7 - error TS2322: Type 'string' is not assignable to type 'number'.",
    ]);
  });

  test("incremental: an unchanged file reports its errors again (from tsc's saved state), an edit is seen", async () => {
    const dir = await tempDir("baton-tc-incremental-");
    const file = path.join(dir, "definitions.ts");
    await writeFile(file, "export const fare: number = 'ten';\n");
    const codes = async () =>
      (await typeCheck(file, { env: {} })).diagnostics.map((d) => `${d.line}:${d.code}`);
    expect(await codes()).toEqual(["1:2322"]);
    expect(await codes()).toEqual(["1:2322"]);
    await writeFile(file, "export const fare: number = 10;\nexport const zone: string = 1;\n");
    expect(await codes()).toEqual(["2:2322"]);
    await writeFile(file, "export const fare: number = 10;\n");
    expect(await codes()).toEqual([]);
    // Its state is kept in the temp folder here (no node_modules above this file).
    expect(
      (await readdir(path.join(os.tmpdir(), "baton-typecheck"))).some((f) => f.endsWith(".tsbuildinfo")),
    ).toBe(true);
  });

  test("the cache folder keeps the 200 most recent entries (temp projects come and go)", async () => {
    const cache = path.join(os.tmpdir(), "baton-typecheck");
    await mkdir(cache, { recursive: true });
    const old = new Date(Date.now() - 86_400_000);
    const stale = Array.from({ length: 210 }, (_, i) =>
      path.join(cache, `stale-${process.pid}-${i}.tsbuildinfo`),
    );
    for (const f of stale) {
      await writeFile(f, "{}");
      await utimes(f, old, old);
    }
    const dir = await tempDir("baton-tc-prune-");
    const file = path.join(dir, "definitions.ts");
    await writeFile(file, "export const a = 1;\n");
    expect((await typeCheck(file, { env: {} })).ok).toBe(true);
    const left = await readdir(cache);
    expect(left.length).toBeLessThanOrEqual(201); // 200, plus the state tsc wrote for this check
    expect(stale.filter((f) => existsSync(f)).length).toBeLessThan(200);
    for (const f of stale) await rm(f, { force: true });
  });

  test("an abort stops tsc and rejects with the reason", async () => {
    const dir = await tempDir("baton-tc-abort-");
    const file = path.join(dir, "definitions.ts");
    await writeFile(file, "export const a = 1;\n");
    const controller = new AbortController();
    const started = Date.now();
    const checking = typeCheck(file, { env: {}, signal: controller.signal });
    setTimeout(() => controller.abort(new Error("superseded")), 50);
    await expect(checking).rejects.toThrow("superseded");
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
