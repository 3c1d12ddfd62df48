import { describe, expect, it } from "vitest";
import {
  asset,
  assetCheck,
  assetJob,
  type DefinitionProblem,
  type DefinitionsInput,
  defineDefinitions,
  graphAsset,
  InvalidDefinitionError,
  input,
  isDefinitions,
  multiAsset,
  resource,
} from "../internal.js";

const body = () => 1;
const pass = () => ({ passed: true });

/** Runs `defineDefinitions` expecting it to throw; returns the error after checking its shape. */
function invalid(input: DefinitionsInput): InvalidDefinitionError {
  let thrown: unknown;
  try {
    defineDefinitions(input);
  } catch (error) {
    thrown = error;
  }
  expect(thrown, "defineDefinitions should have thrown").toBeInstanceOf(InvalidDefinitionError);
  const error = thrown as InvalidDefinitionError;
  expect(error.code).toBe("INVALID_DEFINITION");
  // The message lists every problem, one line each.
  for (const p of error.problems) expect(error.message).toContain(`  - ${p.where}: ${p.message}`);
  return error;
}

function problemsOf(input: DefinitionsInput): readonly DefinitionProblem[] {
  return invalid(input).problems;
}

/** Asserts exactly one problem, at `where`, whose message contains every phrase. */
function expectOneProblem(input: DefinitionsInput, where: string, ...phrases: string[]): DefinitionProblem {
  const problems = problemsOf(input);
  expect(problems).toEqual([{ where, message: expect.any(String) }]);
  for (const phrase of phrases) expect(problems[0]!.message).toContain(phrase);
  return problems[0]!;
}

describe("defineDefinitions: each validation error on its own", () => {
  describe("invalid asset keys", () => {
    it.each([
      ["bad key!", "bad key!", 'invalid asset key "bad key!"', 'segment "bad key!"'],
      ["", "(empty key)", "asset key is empty"],
      ["a//b", "a//b", 'invalid asset key "a//b"', 'segment ""'],
      ["/lead", "/lead", 'invalid asset key "/lead"', 'segment ""'],
      ["trail/", "trail/", 'invalid asset key "trail/"', 'segment ""'],
      ["-dash", "-dash", 'segment "-dash"'],
    ])("key %j is reported at %j", (key, where, ...phrases) => {
      expectOneProblem({ assets: [asset({ key }, body)] }, where, ...phrases);
    });

    it("validates keys given as segments after joining them", () => {
      expectOneProblem(
        { assets: [asset({ key: ["taxi", "bad seg"] }, body)] },
        "taxi/bad seg",
        'segment "bad seg"',
      );
    });

    it("validates multi-asset output keys", () => {
      const m = multiAsset({ name: "m", outs: { x: { key: "bad key!" } } }, () => ({}));
      expectOneProblem({ assets: [m] }, "bad key!", "invalid asset key");
    });
  });

  describe("duplicate asset keys", () => {
    it("two assets with the same key are one problem at that key", () => {
      // One mistake, one problem: the key is defined twice.
      expectOneProblem(
        { assets: [asset({ key: "a" }, body), asset({ key: "a" }, body)] },
        "a",
        "duplicate asset key",
      );
    });

    it("an asset and a multi-asset output with the same key", () => {
      const m = multiAsset({ name: "m", outs: { a: { key: "a" }, b: { key: "b" } } }, () => ({}));
      expectOneProblem({ assets: [asset({ key: "a" }, body), m] }, "a", "duplicate asset key");
    });

    it("two outputs of different multi-assets with the same key", () => {
      const m1 = multiAsset({ name: "m1", outs: { a: { key: "shared" } } }, () => ({}));
      const m2 = multiAsset({ name: "m2", outs: { a: { key: "shared" } } }, () => ({}));
      expectOneProblem({ assets: [m1, m2] }, "shared", "duplicate asset key");
    });
  });

  describe("unknown deps and ins", () => {
    it("an unknown dep, with a did-you-mean for a near miss", () => {
      expectOneProblem(
        { assets: [asset({ key: "taxi/trips" }, body), asset({ key: "b", deps: ["taxi/trip"] }, body)] },
        "b",
        'depends on unknown asset "taxi/trip" (did you mean "taxi/trips"?)',
      );
    });

    it("no suggestion when nothing is close", () => {
      const p = expectOneProblem(
        { assets: [asset({ key: "taxi/trips" }, body), asset({ key: "b", deps: ["weather/hourly"] }, body)] },
        "b",
        'depends on unknown asset "weather/hourly"',
      );
      expect(p.message).not.toContain("did you mean");
    });

    it("an unknown dep given as segments or as an asset object left out of definitions", () => {
      const orphan = asset({ key: "orphan" }, body);
      const problems = problemsOf({
        assets: [asset({ key: "b", deps: [["taxi", "zones"], orphan] }, body)],
      });
      expect(problems).toEqual([
        { where: "b", message: expect.stringContaining('unknown asset "taxi/zones"') },
        { where: "b", message: expect.stringContaining('unknown asset "orphan"') },
      ]);
    });

    it("an unknown ins (input<number>('nope'))", () => {
      expectOneProblem(
        { assets: [asset({ key: "b", ins: { n: input<number>("nope") } }, body)] },
        "b",
        'input "n" refers to unknown asset "nope"',
      );
    });

    it("an unknown ins with a near miss suggests the key", () => {
      expectOneProblem(
        {
          assets: [
            asset({ key: "taxi/trips" }, body),
            asset({ key: "b", ins: { t: input<number>("taxi/trps") } }, body),
          ],
        },
        "b",
        'input "t" refers to unknown asset "taxi/trps" (did you mean "taxi/trips"?)',
      );
    });

    it("an unknown ins of a multi-asset is reported once, not once per output", () => {
      const m = multiAsset(
        { name: "m", ins: { z: input<number>("nope") }, outs: { x: { key: "m/x" }, y: { key: "m/y" } } },
        () => ({}),
      );
      const problems = problemsOf({ assets: [m] });
      expect(problems.filter((p) => p.message.includes('unknown asset "nope"'))).toHaveLength(1);
    });
  });

  describe("cycles", () => {
    it("a self-dependency", () => {
      expectOneProblem({ assets: [asset({ key: "a", deps: ["a"] }, body)] }, "a", "dependency cycle: a -> a");
    });

    it("a 2-cycle through deps", () => {
      expectOneProblem(
        { assets: [asset({ key: "a", deps: ["b"] }, body), asset({ key: "b", deps: ["a"] }, body)] },
        "a",
        "dependency cycle: a -> b -> a",
      );
    });

    it("a 2-cycle through ins", () => {
      expectOneProblem(
        {
          assets: [
            asset({ key: "a", ins: { b: input<number>("b") } }, body),
            asset({ key: "b", ins: { a: input<number>("a") } }, body),
          ],
        },
        "a",
        "dependency cycle: a -> b -> a",
      );
    });

    it("a 3-cycle, reported in dependency order (upstream -> downstream)", () => {
      // b depends on a, c on b, a on c: a feeds b feeds c feeds a.
      const a = asset({ key: "a", deps: ["c"] }, body);
      const b = asset({ key: "b", deps: ["a"] }, body);
      const c = asset({ key: "c", deps: ["b"] }, body);
      const p = expectOneProblem({ assets: [a, b, c] }, "a");
      expect(p.message).toBe("dependency cycle: a -> b -> c -> a");
      // Starting from whichever node is declared first, still in dependency order.
      const q = expectOneProblem({ assets: [c, a, b] }, "c");
      expect(q.message).toBe("dependency cycle: c -> a -> b -> c");
    });

    it("a cycle among downstream assets does not hide the acyclic part", () => {
      const problems = problemsOf({
        assets: [
          asset({ key: "root" }, body),
          asset({ key: "x", deps: ["root", "y"] }, body),
          asset({ key: "y", deps: ["x"] }, body),
          asset({ key: "leaf", deps: ["y"] }, body),
        ],
      });
      expect(problems).toEqual([{ where: "x", message: "dependency cycle: x -> y -> x" }]);
    });

    it("a multi-asset whose outputs depend on each other via another asset", () => {
      // mc/q depends on via, via depends on mc/p: the step mc must run both before and after via.
      const mc = multiAsset(
        { name: "mc", outs: { p: { key: "mc/p" }, q: { key: "mc/q", deps: ["via"] } } },
        () => ({}),
      );
      const via = asset({ key: "via", deps: ["mc/p"] }, body);
      const problems = problemsOf({ assets: [mc, via] });
      expect(problems).toHaveLength(1);
      expect(problems[0]!.message).toBe("dependency cycle: mc -> via -> mc");
      // Multi-asset problems are reported at `multi-asset NAME` ("mc" is not an asset key).
      expect(problems[0]!.where).toBe("multi-asset mc");
    });

    it("two independent cycles are both reported", () => {
      const problems = problemsOf({
        assets: [
          asset({ key: "a", deps: ["b"] }, body),
          asset({ key: "b", deps: ["a"] }, body),
          asset({ key: "x", deps: ["z"] }, body),
          asset({ key: "y", deps: ["x"] }, body),
          asset({ key: "z", deps: ["y"] }, body),
        ],
      });
      expect(problems).toEqual([
        { where: "a", message: "dependency cycle: a -> b -> a" },
        { where: "x", message: "dependency cycle: x -> y -> z -> x" },
      ]);
    });
  });

  describe("resources", () => {
    it("an asset requiring a resource that is not provided", () => {
      expectOneProblem(
        { assets: [asset({ key: "a", resources: ["db"] }, body)] },
        "a",
        'requires resource "db"',
        "definitions.resources",
      );
    });

    it("a multi-asset requiring a missing resource is reported at the multi-asset", () => {
      const m = multiAsset({ name: "m", resources: ["db"], outs: { x: { key: "m/x" } } }, () => ({}));
      expectOneProblem({ assets: [m] }, "multi-asset m", 'requires resource "db"');
    });

    it("a check requiring a resource that is not provided", () => {
      expectOneProblem(
        {
          assets: [asset({ key: "a" }, body)],
          checks: [assetCheck({ asset: "a", name: "rows", resources: ["warehouse"] }, pass)],
        },
        "check a:rows",
        'requires resource "warehouse"',
      );
    });

    it("an IO manager that is not provided", () => {
      expectOneProblem(
        { assets: [asset({ key: "a", ioManager: "nope" }, body)] },
        "a",
        'uses IO manager "nope"',
      );
    });
  });

  describe("checks", () => {
    it("a check on an unknown asset, with a suggestion", () => {
      expectOneProblem(
        {
          assets: [asset({ key: "taxi/trips" }, body)],
          checks: [assetCheck({ asset: "taxi/trip", name: "x" }, pass)],
        },
        "check taxi/trip:x",
        'attached to unknown asset "taxi/trip" (did you mean "taxi/trips"?)',
      );
    });

    it("two checks with the same name on one asset", () => {
      expectOneProblem(
        {
          assets: [asset({ key: "a" }, body)],
          checks: [
            assetCheck({ asset: "a", name: "rows" }, pass),
            assetCheck({ asset: "a", name: "rows" }, pass),
          ],
        },
        "check a:rows",
        "duplicate check",
      );
    });

    it("the same check name on two different assets is fine", () => {
      const defs = defineDefinitions({
        assets: [asset({ key: "a" }, body), asset({ key: "b" }, body)],
        checks: [
          assetCheck({ asset: "a", name: "rows" }, pass),
          assetCheck({ asset: "b", name: "rows" }, pass),
        ],
      });
      expect(defs.checks).toHaveLength(2);
    });

    it.each(["bad name", "1st", "", "a:b"])("invalid check name %j", (name) => {
      expectOneProblem(
        { assets: [asset({ key: "a" }, body)], checks: [assetCheck({ asset: "a", name }, pass)] },
        `check a:${name}`,
        `invalid check name "${name}"`,
      );
    });
  });

  describe("jobs", () => {
    it("duplicate job names", () => {
      expectOneProblem(
        {
          assets: [asset({ key: "a" }, body)],
          jobs: [assetJob({ name: "daily", selection: "a" }), assetJob({ name: "daily", selection: "*" })],
        },
        "job daily",
        "duplicate job name",
      );
    });

    it("a job whose selection names an unknown asset includes the selection error", () => {
      expectOneProblem(
        {
          assets: [asset({ key: "taxi/trips" }, body)],
          jobs: [assetJob({ name: "broken", selection: "taxi/trip" })],
        },
        "job broken",
        "Invalid selection",
        'unknown asset "taxi/trip"',
        'did you mean "taxi/trips"?',
      );
    });

    it("a job whose selection does not parse", () => {
      expectOneProblem(
        { assets: [asset({ key: "a" }, body)], jobs: [assetJob({ name: "syntax", selection: "a and" })] },
        "job syntax",
        "Invalid selection",
      );
    });

    it("every job with an invalid selection is reported, not only the first", () => {
      const problems = problemsOf({
        assets: [asset({ key: "a" }, body)],
        jobs: [assetJob({ name: "j1", selection: "nope" }), assetJob({ name: "j2", selection: "group:zzz" })],
      });
      expect(problems.map((p) => p.where)).toEqual(["job j1", "job j2"]);
    });

    it("an invalid job selection is reported alongside unrelated problems", () => {
      const problems = problemsOf({
        assets: [asset({ key: "a", resources: ["db"] }, body)],
        jobs: [assetJob({ name: "j1", selection: "nope" })],
      });
      expect(problems.map((p) => p.where)).toEqual(["a", "job j1"]);
    });
  });

  describe("values that are not definitions", () => {
    it("non-asset values in assets", () => {
      const problems = problemsOf({
        assets: [asset({ key: "a" }, body), { key: "x" } as never, null as never, "a" as never],
      });
      expect(problems).toEqual(
        [1, 2, 3].map((i) => ({
          where: `assets[${i}]`,
          message: expect.stringContaining("is not an asset"),
        })),
      );
    });

    it("non-check values in checks (an asset is not a check)", () => {
      expectOneProblem(
        { assets: [asset({ key: "a" }, body)], checks: [asset({ key: "q" }, body) as never] },
        "checks[0]",
        "is not a check",
        "assetCheck()",
      );
    });
  });

  describe("retry policy", () => {
    it("maxRetries: -1", () => {
      expectOneProblem(
        { assets: [asset({ key: "a", retryPolicy: { maxRetries: -1 } }, body)] },
        "a",
        "retryPolicy.maxRetries",
        "(got -1)",
      );
    });

    it("maxRetries not a whole number, negative delay", () => {
      const problems = problemsOf({
        assets: [
          asset({ key: "a", retryPolicy: { maxRetries: 1.5 } }, body),
          asset({ key: "b", retryPolicy: { maxRetries: 1, delayMs: -5 } }, body),
        ],
      });
      expect(problems).toEqual([
        { where: "a", message: expect.stringContaining("retryPolicy.maxRetries") },
        { where: "b", message: expect.stringContaining("retryPolicy.delayMs") },
      ]);
    });
  });

  describe("multi-assets and graph assets", () => {
    it.each([
      ["asset declared first", true],
      ["multi-asset declared first", false],
    ])("a multi-asset name clashing with an asset key (%s) is one problem", (_label, assetFirst) => {
      const clashing = asset({ key: "clash" }, body);
      const m = multiAsset({ name: "clash", outs: { o: { key: "clash_out" } } }, () => ({}));
      expectOneProblem(
        { assets: assetFirst ? [clashing, m] : [m, clashing] },
        "multi-asset clash",
        'name "clash" clashes with an asset key',
      );
    });

    it("a multi-asset named like another multi-asset's output", () => {
      const m1 = multiAsset({ name: "m1", outs: { o: { key: "m2" } } }, () => ({}));
      const m2 = multiAsset({ name: "m2", outs: { o: { key: "m2/o" } } }, () => ({}));
      expectOneProblem({ assets: [m1, m2] }, "multi-asset m2", "clashes with an asset key");
    });

    it("a multi-asset may be named like one of its own outputs", () => {
      const m = multiAsset({ name: "m", outs: { o: { key: "m" }, p: { key: "m/p" } } }, () => ({}));
      expect(defineDefinitions({ assets: [m] }).graph.keys).toEqual(["m", "m/p"]);
    });

    it("an invalid multi-asset name, and one with no outs", () => {
      const problems = problemsOf({ assets: [multiAsset({ name: "bad name", outs: {} }, () => ({}))] });
      expect(problems).toEqual([
        { where: "multi-asset bad name", message: 'invalid name "bad name"' },
        { where: "multi-asset bad name", message: "declares no outs" },
      ]);
    });

    it("duplicate op names in a graph asset", () => {
      expectOneProblem(
        { assets: [graphAsset({ key: "g", ops: ["fetch", "fetch"] }, body)] },
        "g",
        'duplicate op name "fetch"',
      );
    });

    it("outputs of one multi-asset may depend on each other directly (not a cycle)", () => {
      // Both outputs are produced by the same step; the planner ignores such intra-step deps.
      const m = multiAsset(
        { name: "m", outs: { x: { key: "m/x" }, y: { key: "m/y", deps: ["m/x"] } } },
        () => ({}),
      );
      const defs = defineDefinitions({ assets: [m] });
      expect(defs.graph.parents("m/y")).toEqual(["m/x"]);
    });
  });
});

describe("defineDefinitions: every problem at once", () => {
  const trips = asset({ key: "taxi/trips" }, body);
  const input_: DefinitionsInput = {
    resources: { db: resource({ setup: () => ({}) }) },
    assets: [
      trips,
      // invalid keys
      asset({ key: "bad key!" }, body),
      asset({ key: "" }, body),
      asset({ key: "a//b" }, body),
      // duplicate keys: two assets, and an asset vs a multi-asset out
      asset({ key: "dup" }, body),
      asset({ key: "dup" }, body),
      asset({ key: "shared" }, body),
      multiAsset({ name: "owns_shared", outs: { s: { key: "shared" } } }, () => ({})),
      // unknown deps / ins
      asset({ key: "bad_dep", deps: ["taxi/trip"] }, body),
      asset({ key: "bad_in", ins: { n: input<number>("nope") } }, body),
      // cycles: 2-cycle, 3-cycle, multi-asset via another asset
      asset({ key: "c2a", deps: ["c2b"] }, body),
      asset({ key: "c2b", deps: ["c2a"] }, body),
      asset({ key: "c3x", deps: ["c3z"] }, body),
      asset({ key: "c3y", deps: ["c3x"] }, body),
      asset({ key: "c3z", deps: ["c3y"] }, body),
      multiAsset({ name: "mc", outs: { p: { key: "mc/p" }, q: { key: "mc/q", deps: ["via"] } } }, () => ({})),
      asset({ key: "via", deps: ["mc/p"] }, body),
      // missing resources
      asset({ key: "needs_cache", resources: ["db", "cache"] }, body),
      asset({ key: "custom_io", ioManager: "nope" }, body),
      // not an asset
      { key: "fake" } as never,
      // retry policy
      asset({ key: "flaky", retryPolicy: { maxRetries: -1 } }, body),
      // multi-asset name clashing with an asset key
      multiAsset({ name: "taxi/trips", outs: { o: { key: "clash_out" } } }, () => ({})),
    ],
    checks: [
      assetCheck({ asset: trips, name: "chk_res", resources: ["warehouse"] }, pass),
      assetCheck({ asset: "ghost", name: "x" }, pass),
      assetCheck({ asset: trips, name: "dupchk" }, pass),
      assetCheck({ asset: trips, name: "dupchk" }, pass),
      assetCheck({ asset: trips, name: "bad name" }, pass),
      trips as never,
    ],
    jobs: [
      assetJob({ name: "daily", selection: "taxi/trips" }),
      assetJob({ name: "daily", selection: "taxi/trips" }),
      assetJob({ name: "broken", selection: "taxi/nope" }),
    ],
  };

  const expected: readonly (readonly [where: string, phrase: string])[] = [
    ["bad key!", 'invalid asset key "bad key!"'],
    ["(empty key)", "asset key is empty"],
    ["a//b", 'invalid asset key "a//b"'],
    ["dup", "duplicate asset key"],
    ["shared", "duplicate asset key"],
    ["bad_dep", 'depends on unknown asset "taxi/trip" (did you mean "taxi/trips"?)'],
    ["bad_in", 'input "n" refers to unknown asset "nope"'],
    ["c2a", "dependency cycle: c2a -> c2b -> c2a"],
    ["c3x", "dependency cycle: c3x -> c3y -> c3z -> c3x"],
    ["multi-asset mc", "dependency cycle: mc -> via -> mc"],
    ["needs_cache", 'requires resource "cache"'],
    ["custom_io", 'uses IO manager "nope"'],
    ["assets[19]", "is not an asset"],
    ["flaky", "retryPolicy.maxRetries"],
    ["multi-asset taxi/trips", 'name "taxi/trips" clashes with an asset key'],
    ["check taxi/trips:chk_res", 'requires resource "warehouse"'],
    ["check ghost:x", 'attached to unknown asset "ghost"'],
    ["check taxi/trips:dupchk", "duplicate check"],
    ["check taxi/trips:bad name", 'invalid check name "bad name"'],
    ["checks[5]", "is not a check"],
    ["job daily", "duplicate job name"],
    ["job broken", 'unknown asset "taxi/nope"'],
  ];

  it("throws one InvalidDefinitionError listing all of them, each exactly once", () => {
    const error = invalid(input_);
    // Match problems one-to-one against the expected list; report everything missing and extra at once.
    const unmatched = [...error.problems];
    const missing: string[] = [];
    for (const [where, phrase] of expected) {
      const i = unmatched.findIndex((p) => p.where === where && p.message.includes(phrase));
      if (i === -1) missing.push(`${where}: …${phrase}…`);
      else unmatched.splice(i, 1);
    }
    const extra = unmatched.map((p) => `${p.where}: ${p.message}`);
    expect({ missing, extra }).toEqual({ missing: [], extra: [] });
    expect(error.problems).toHaveLength(expected.length);
    expect(error.message).toContain(`Invalid definitions (${expected.length} problems):`);
  });
});

describe("defineDefinitions: valid definitions", () => {
  const raw = asset({ key: ["taxi", "raw_trips"] }, () => [{ fare: 1 }]);
  const trips = asset({ key: "taxi/trips", ins: { raw } }, (_ctx, { raw }) => raw);
  const zones = asset({ key: "taxi/zones" }, body);
  const report = asset({ key: "taxi/report", deps: [trips, "taxi/zones"] }, body);
  const split = multiAsset(
    { name: "split", ins: { trips }, outs: { a: { key: "split/a" }, b: { key: "split/b" } } },
    () => ({ a: 1, b: 2 }),
  );
  const rowCount = assetCheck({ asset: trips, name: "row_count" }, pass);
  const nonEmpty = assetCheck({ asset: trips, name: "non_empty", blocking: true }, pass);
  const daily = assetJob({ name: "daily", selection: "taxi/trips+" });
  const defs = defineDefinitions({
    assets: [raw, trips, zones, report, split],
    checks: [rowCount, nonEmpty],
    jobs: [daily],
  });

  it("is branded and keeps what it was given", () => {
    expect(isDefinitions(defs)).toBe(true);
    expect(isDefinitions({})).toBe(false);
    expect(defs.computations).toEqual([raw, trips, zones, report, split]);
    expect(defs.checks).toEqual([rowCount, nonEmpty]);
    expect(defs.jobs).toEqual([daily]);
  });

  it("exposes the graph", () => {
    const { graph } = defs;
    expect(graph.keys).toEqual([
      "taxi/raw_trips",
      "taxi/trips",
      "taxi/zones",
      "taxi/report",
      "split/a",
      "split/b",
    ]);
    expect(graph.parents("taxi/trips")).toEqual(["taxi/raw_trips"]);
    expect([...graph.parents("taxi/report")].sort()).toEqual(["taxi/trips", "taxi/zones"]);
    expect(graph.parents("split/b")).toEqual(["taxi/trips"]);
    expect([...graph.children("taxi/trips")].sort()).toEqual(["split/a", "split/b", "taxi/report"]);
    expect(graph.children("taxi/report")).toEqual([]);
    const order = graph.topologicalOrder();
    expect([...order].sort()).toEqual([...graph.keys].sort());
    expect(order.indexOf("taxi/raw_trips")).toBeLessThan(order.indexOf("taxi/trips"));
    expect(order.indexOf("taxi/trips")).toBeLessThan(order.indexOf("taxi/report"));
    expect(order.indexOf("taxi/zones")).toBeLessThan(order.indexOf("taxi/report"));
    expect(order.indexOf("taxi/trips")).toBeLessThan(order.indexOf("split/a"));
    expect(graph.asset("taxi/trips")?.computation).toBe(trips);
  });

  it("computationOf(key) returns the producing computation, and throws for unknown keys", () => {
    expect(defs.computationOf("taxi/trips")).toBe(trips);
    expect(defs.computationOf("taxi/raw_trips")).toBe(raw);
    expect(defs.computationOf("split/a")).toBe(split);
    expect(defs.computationOf("split/b")).toBe(split);
    expect(() => defs.computationOf("nope")).toThrow(InvalidDefinitionError);
  });

  it("checksFor(key) lists the checks of an asset, in declaration order", () => {
    expect(defs.checksFor("taxi/trips")).toEqual([rowCount, nonEmpty]);
    expect(defs.checksFor("taxi/trips").map((c) => c.key)).toEqual([
      "taxi/trips:row_count",
      "taxi/trips:non_empty",
    ]);
    expect(defs.checksFor("taxi/zones")).toEqual([]);
    expect(defs.checksFor("nope")).toEqual([]);
  });

  it("job(name) finds a job by name", () => {
    expect(defs.job("daily")).toBe(daily);
    expect(defs.job("weekly")).toBeUndefined();
  });

  it("accepts deps as a string, as segments and as an asset object", () => {
    const up = asset({ key: "taxi/trips" }, body);
    const byString = asset({ key: "s", deps: ["taxi/trips"] }, body);
    const bySegments = asset({ key: "g", deps: [["taxi", "trips"]] }, body);
    const byObject = asset({ key: "o", deps: [up] }, body);
    const byMixed = asset({ key: "m", deps: [up, "taxi/trips", ["taxi", "trips"]] }, body);
    const d = defineDefinitions({ assets: [up, byString, bySegments, byObject, byMixed] });
    for (const key of ["s", "g", "o", "m"]) expect(d.graph.parents(key)).toEqual(["taxi/trips"]);
    expect(byMixed.spec.deps).toEqual(["taxi/trips"]);
    expect(d.graph.children("taxi/trips")).toEqual(["s", "g", "o", "m"]);
  });

  it("accepts ins given as asset objects, input() refs and multi-asset outs", () => {
    const d = defineDefinitions({
      assets: [
        raw,
        trips,
        split,
        asset(
          {
            key: "sink",
            ins: { t: input<unknown>(["taxi", "trips"]), a: split.outs.a, r: raw },
          },
          body,
        ),
      ],
    });
    expect([...d.graph.parents("sink")].sort()).toEqual(["split/a", "taxi/raw_trips", "taxi/trips"]);
  });

  it("allows the built-in io_manager without declaring it, and provided resources", () => {
    expect(() =>
      defineDefinitions({
        assets: [
          asset({ key: "a" }, body),
          asset({ key: "b", ioManager: "io_manager" }, body),
          asset({ key: "c", ioManager: "s3", resources: ["db"] }, body),
          multiAsset({ name: "m", resources: ["db"], outs: { x: { key: "m/x" } } }, () => ({})),
        ],
        checks: [assetCheck({ asset: "a", name: "q", resources: ["db"] }, pass)],
        resources: { db: resource({ setup: () => ({}) }), s3: { handleOutput() {}, loadInput() {} } },
      }),
    ).not.toThrow();
  });

  it("an empty definitions object is valid", () => {
    const d = defineDefinitions({});
    expect(d.graph.keys).toEqual([]);
    expect(d.computations).toEqual([]);
    expect(d.graph.topologicalOrder()).toEqual([]);
  });
});
