import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DefinitionsImportError } from "../cli/load-definitions.js";
import { DefinitionsLoadError } from "../errors.js";
import { openInstance } from "../instance/instance.js";
import {
  clearLoadError,
  LOAD_ERROR_KEY,
  loadFailureOf,
  parseLoadError,
  readLoadError,
  recordLoadError,
} from "./load-error.js";

describe("loadFailureOf", () => {
  it("takes the user's line from a failed import", () => {
    const error = new DefinitionsImportError(
      "/p/definitions.ts",
      "importing it threw: thrower.ts:3:7: Error: boom",
      {
        file: "/p/thrower.ts",
        line: 3,
        column: 7,
      },
    );
    expect(loadFailureOf(error, "/p/definitions.ts", 1000)).toEqual({
      message:
        "Could not load definitions from /p/definitions.ts: importing it threw: thrower.ts:3:7: Error: boom",
      file: "/p/thrower.ts",
      line: 3,
      column: 7,
      since: 1000,
      at: 1000,
    });
  });

  it("names the definitions file when no line is known", () => {
    const missing = new DefinitionsLoadError("/p/other.ts", "file not found.");
    expect(loadFailureOf(missing, "/p/definitions.ts", 5)).toMatchObject({
      file: "/p/other.ts",
      line: null,
      column: null,
    });
    expect(loadFailureOf(new Error("odd"), "/p/definitions.ts", 5)).toMatchObject({
      message: "odd",
      file: "/p/definitions.ts",
      line: null,
    });
  });
});

describe("the stored load error", () => {
  it("keeps `since` across failures, is cleared by a good load, and ignores values it cannot read", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), "baton-load-error-"));
    const instance = await openInstance({ home, env: {} });
    const { storage } = instance;
    try {
      expect(await readLoadError(storage)).toBeUndefined();
      await clearLoadError(storage); // nothing to clear: fine
      const first = loadFailureOf(new Error("syntax"), "/p/definitions.ts", 1000);
      await recordLoadError(storage, first);
      expect(await readLoadError(storage)).toEqual(first);
      // A second failure before any good load: the newest message, still failing since the first.
      await recordLoadError(storage, loadFailureOf(new Error("import"), "/p/definitions.ts", 4000));
      expect(await readLoadError(storage)).toMatchObject({ message: "import", since: 1000, at: 4000 });
      await clearLoadError(storage);
      expect(await storage.getValue(LOAD_ERROR_KEY)).toBeUndefined();
      // After a good load, the next failure starts a new period.
      await recordLoadError(storage, loadFailureOf(new Error("again"), "/p/definitions.ts", 9000));
      expect(await readLoadError(storage)).toMatchObject({ message: "again", since: 9000 });
    } finally {
      await instance.close();
      await rm(home, { recursive: true, force: true });
    }
  });

  it("parses only a complete value", () => {
    expect(parseLoadError(undefined)).toBeUndefined();
    expect(parseLoadError("{not json")).toBeUndefined();
    expect(parseLoadError(JSON.stringify({ message: "m" }))).toBeUndefined();
    expect(parseLoadError(JSON.stringify({ message: "m", since: 1, at: 2 }))).toEqual({
      message: "m",
      file: null,
      line: null,
      column: null,
      since: 1,
      at: 2,
    });
  });
});
