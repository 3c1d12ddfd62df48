import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { serializeError, UserCodeError } from "../errors.js";
import {
  classifyFile,
  formatFrames,
  frameLocation,
  parseFrame,
  parseStack,
  relevantFrames,
} from "./stack.js";

const CORE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// The line of the throw in userFunctionThatThrows below, read from this file's source.
const THROW_LINE =
  readFileSync(fileURLToPath(import.meta.url), "utf8")
    .split("\n")
    .findIndex((l) => l.trim() === 'throw new TypeError("from a test file");') + 1;
const roots = { batonRoots: ["/srv/baton/packages/core"] };

// A stack as Node prints it for an asset body that threw (paths shortened).
const ASSET_STACK = [
  "Error: no rows to add up",
  "    at totalFare (/home/me/proj/part.ts:7:69)",
  "    at <anonymous> (/home/me/proj/definitions.ts:10:10)",
  "    at file:///srv/baton/packages/core/dist/definitions/asset.js:90:65",
  "    at Object.execute (file:///srv/baton/packages/core/dist/definitions/asset.js:75:45)",
  "    at runComputation (file:///srv/baton/packages/core/dist/execution/step-runner.js:169:33)",
  "    at async runStep (file:///srv/baton/packages/core/dist/execution/step-runner.js:51:29)",
  "    at async Promise.all (index 0)",
  "    at process.processTicksAndRejections (node:internal/process/task_queues:105:5)",
].join("\n");

describe("parseStack", () => {
  test("every frame of a V8 stack, top first, with 1-based positions", () => {
    const frames = parseStack(ASSET_STACK, roots);
    expect(frames).toHaveLength(8);
    expect(frames[0]).toEqual({
      function: "totalFare",
      file: "/home/me/proj/part.ts",
      line: 7,
      column: 69,
      origin: "user",
      inUserCode: true,
    });
    expect(frames[1]).toMatchObject({
      function: "<anonymous>",
      file: "/home/me/proj/definitions.ts",
      line: 10,
    });
    // An anonymous frame has no function; a file:// URL becomes a path.
    expect(frames[2]).toEqual({
      function: null,
      file: "/srv/baton/packages/core/dist/definitions/asset.js",
      line: 90,
      column: 65,
      origin: "baton",
      inUserCode: false,
    });
    expect(frames[5]).toMatchObject({ function: "async runStep", origin: "baton" });
    expect(frames[6]).toEqual({
      function: "async Promise.all",
      file: "index 0",
      line: null,
      column: null,
      origin: "node",
      inUserCode: false,
    });
    expect(frames[7]).toMatchObject({ file: "node:internal/process/task_queues", line: 105, origin: "node" });
  });

  test("message lines (also multi-line messages) are not frames; no stack is no frames", () => {
    expect(
      parseStack("Error: line one\nline two mentions at noon\n    at f (/a/b.ts:1:2)", roots),
    ).toHaveLength(1);
    expect(parseStack(undefined)).toEqual([]);
    expect(parseStack("")).toEqual([]);
  });

  test("constructors, eval, Windows paths, tsx's namespaced URLs, encoded characters", () => {
    expect(parseFrame("    at new Reader (/p/reader.ts:3:9)", roots)).toMatchObject({
      function: "new Reader",
      file: "/p/reader.ts",
      line: 3,
      column: 9,
    });
    expect(
      parseFrame("    at eval (eval at compile (/p/defs.ts:4:5), <anonymous>:1:1)", roots),
    ).toMatchObject({ function: "eval", file: "/p/defs.ts", line: 4, column: 5, origin: "user" });
    expect(parseFrame("    at f (C:\\proj\\part.ts:7:69)", roots)).toMatchObject({
      file: "C:\\proj\\part.ts",
      line: 7,
      column: 69,
      origin: "user",
    });
    expect(parseFrame("    at file:///C:/proj/my%20part.ts:2:3", roots)).toMatchObject({
      file: "C:\\proj\\my part.ts",
      origin: "user",
    });
    expect(parseFrame("    at g (file:///p/definitions.ts?tsx-namespace=1733:12:3)", roots)).toMatchObject({
      file: "/p/definitions.ts",
      line: 12,
      column: 3,
    });
    expect(parseFrame("    at JSON.parse (<anonymous>)", roots)).toMatchObject({
      file: "<anonymous>",
      line: null,
      origin: "node",
    });
    expect(parseFrame("Error: not a frame", roots)).toBeUndefined();
  });
});

describe("classifyFile", () => {
  test("user code, Baton (this package or any @baton copy), other packages, Node", () => {
    expect(classifyFile("/home/me/proj/definitions.ts", roots)).toBe("user");
    expect(classifyFile("/srv/baton/packages/core/src/execution/step-runner.ts", roots)).toBe("baton");
    expect(classifyFile("/home/me/proj/node_modules/@baton/core/dist/index.js", roots)).toBe("baton");
    expect(classifyFile("/home/me/proj/node_modules/zod/v4/core/core.js", roots)).toBe("package");
    // A dependency installed inside Baton's folder is that dependency's, not Baton's.
    expect(classifyFile("/srv/baton/packages/core/node_modules/tsx/dist/esm.mjs", roots)).toBe("package");
    // A sibling folder whose name starts like Baton's is not Baton's.
    expect(classifyFile("/srv/baton/packages/core-extras/x.ts", roots)).toBe("user");
    expect(classifyFile("node:internal/modules/esm/module_job", roots)).toBe("node");
    expect(classifyFile("native", roots)).toBe("node");
  });

  test("by default Baton is this package's own folder (found from the running module)", () => {
    expect(classifyFile(path.join(CORE, "src/execution/step-runner.ts"))).toBe("baton");
    expect(classifyFile(path.join(CORE, "dist/execution/step-runner.js"))).toBe("baton");
    expect(classifyFile(path.join(CORE, "../../tests/fixtures/frames/part.ts"))).toBe("user");
  });
});

describe("formatFrames", () => {
  const frames = parseStack(ASSET_STACK, roots);

  test("the user's frames, then one line for the rest", () => {
    expect(formatFrames(frames, { cwd: "/home/me/proj" })).toEqual([
      "    at totalFare (part.ts:7:69)",
      "    at definitions.ts:10:10",
      "    … 6 frames in Baton and Node (run with --verbose to see them)",
    ]);
  });

  test("verbose lists the rest after the user's frames", () => {
    const lines = formatFrames(frames, { cwd: "/home/me/proj", verbose: true });
    expect(lines.slice(0, 3)).toEqual([
      "    at totalFare (part.ts:7:69)",
      "    at definitions.ts:10:10",
      "    … 6 frames in Baton and Node:",
    ]);
    expect(lines[3]).toBe("    at /srv/baton/packages/core/dist/definitions/asset.js:90:65");
    expect(lines).toHaveLength(9);
  });

  test("names what is hidden; one frame is 'it'", () => {
    const f = parseStack(
      "E: x\n    at a (/p/a.ts:1:1)\n    at b (/p/node_modules/zod/x.js:2:2)\n    at c (node:fs:3:3)",
      roots,
    );
    expect(formatFrames(f).at(-1)).toBe(
      "    … 2 frames in node_modules and Node (run with --verbose to see them)",
    );
    expect(formatFrames(f.slice(0, 2), { indent: "  " }).at(-1)).toBe(
      "  … 1 frame in node_modules (run with --verbose to see it)",
    );
    expect(formatFrames(f.slice(0, 1))).toEqual(["    at a (/p/a.ts:1:1)"]);
  });

  test("frameLocation shortens only files inside cwd", () => {
    expect(frameLocation({ file: "/p/a.ts", line: 1, column: 2 }, "/p")).toBe("a.ts:1:2");
    expect(frameLocation({ file: "/pa/a.ts", line: 1, column: 2 }, "/p")).toBe("/pa/a.ts:1:2");
    expect(frameLocation({ file: "node:fs", line: null, column: null }, "/p")).toBe("node:fs");
  });
});

describe("with real errors", () => {
  function userFunctionThatThrows(): never {
    throw new TypeError("from a test file");
  }
  function thrown(): unknown {
    try {
      userFunctionThatThrows();
    } catch (error) {
      return new UserCodeError("total", "asset", error);
    }
  }

  test("serializeError stores each link's frames; this file is Baton's own", () => {
    const serialized = serializeError(thrown());
    expect(serialized.frames).toEqual(parseStack(serialized.stack));
    const cause = serialized.cause!;
    expect(cause.frames![0]).toMatchObject({
      function: "userFunctionThatThrows",
      file: fileURLToPath(import.meta.url),
      origin: "baton",
    });
  });

  test("the frames of what the user's code threw come first, at the .ts line", () => {
    // As if this file were the user's (Baton somewhere else).
    const elsewhere = { batonRoots: ["/srv/baton/packages/core"] };
    const error = thrown() as UserCodeError;
    const wrapper = {
      stack: "UserCodeError: x\n    at runComputation (/srv/baton/packages/core/dist/a.js:1:1)",
    };
    const frames = relevantFrames({ ...wrapper, cause: { stack: (error.cause as Error).stack } }, elsewhere);
    expect(frames[0]).toMatchObject({ function: "userFunctionThatThrows", inUserCode: true });
    // Vitest runs this .ts file through its transform with source maps: the line is the throw's.
    expect(frames[0]!.line).toBe(THROW_LINE);
  });

  test("relevantFrames: the outermost link's frames when no link ran user code", () => {
    const inner = { stack: "E\n    at x (node:fs:1:1)" };
    const outer = { stack: "E\n    at y (/srv/baton/packages/core/dist/a.js:1:1)", cause: inner };
    expect(relevantFrames(outer, roots).map((f) => f.function)).toEqual(["y"]);
  });
});
