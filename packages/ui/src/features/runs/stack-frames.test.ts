import type { SerializedError, StackFrame } from "@baton/webserver/api-types";
import { describe, expect, it } from "vitest";
import { commonFolder, errorFrames, frameLocation, framesText, shortFile, toggleLabel } from "./stack-frames";

const frame = (
  file: string,
  origin: StackFrame["origin"],
  fn: string | null = null,
  line = 1,
): StackFrame => ({
  function: fn,
  file,
  line,
  column: 5,
  origin,
  inUserCode: origin === "user",
});

const baton = [
  frame("/srv/app/node_modules/@baton/core/dist/execution/step-runner.js", "baton", "runComputation", 169),
  frame("node:internal/process/task_queues", "node", "process.processTicksAndRejections", 105),
];
const thrown: SerializedError = {
  name: "Error",
  message: "no rows",
  frames: [
    frame("/home/me/proj/lib/part.ts", "user", "totalFare", 13),
    frame("/home/me/proj/definitions.ts", "user", "<anonymous>", 14),
    ...baton,
  ],
};
const wrapped: SerializedError = {
  name: "UserCodeError",
  message: 'Error in asset "total": no rows',
  code: "USER_CODE_ERROR",
  frames: baton,
  cause: thrown,
};

describe("an error's frames", () => {
  it("come from the link that ran the user's code, the user's first, files relative to their folder", () => {
    const f = errorFrames(wrapped)!;
    expect(f.depth).toBe(1);
    expect(f.user.map((x) => frameLocation(x, f.base))).toEqual(["lib/part.ts:13:5", "definitions.ts:14:5"]);
    expect(f.internal).toHaveLength(2);
    expect(f.base).toBe("/home/me/proj/");
  });
  it("are the error's own when no link ran the user's code; none without frames (older errors)", () => {
    expect(errorFrames({ ...wrapped, cause: { name: "Error", message: "x", frames: baton } })!.depth).toBe(0);
    expect(errorFrames({ name: "Error", message: "old", stack: "Error: old\n    at x" })).toBeNull();
  });
  it("shorten internal files to their package", () => {
    expect(shortFile(baton[0]!)).toBe("@baton/core/dist/execution/step-runner.js");
    expect(shortFile(frame("/work/baton/packages/core/dist/a.js", "baton"))).toBe("@baton/core/dist/a.js");
    expect(shortFile(frame("/p/node_modules/zod/v4/core.js", "package"))).toBe("zod/v4/core.js");
    expect(shortFile(frame("node:fs", "node"))).toBe("node:fs");
  });
  it("commonFolder: the folder shared by every file", () => {
    expect(commonFolder(["/a/b/c.ts", "/a/b/d/e.ts"])).toBe("/a/b/");
    expect(commonFolder(["/a/b/c.ts"])).toBe("/a/b/");
    expect(commonFolder([])).toBe("");
    expect(commonFolder(["C:\\p\\a.ts", "C:\\p\\q\\b.ts"])).toBe("C:\\p\\");
  });
  it("the button's name and the text form", () => {
    expect(toggleLabel(4, false)).toBe("Show 4 internal frames");
    expect(toggleLabel(1, true)).toBe("Hide 1 internal frame");
    expect(framesText(errorFrames(wrapped)!)).toBe(
      [
        "    at totalFare (lib/part.ts:13:5)",
        "    at definitions.ts:14:5",
        "    … 2 internal frames:",
        "    at runComputation (@baton/core/dist/execution/step-runner.js:169:5)",
        "    at process.processTicksAndRejections (node:internal/process/task_queues:105:5)",
      ].join("\n"),
    );
  });
});
