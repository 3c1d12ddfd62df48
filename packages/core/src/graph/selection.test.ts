import { describe, expect, it } from "vitest";
import { SelectionError } from "../errors.js";
import type { SelectableAsset, SelectableGraph, SelectionNode } from "./selection.js";
import { evaluateSelection, MAX_SELECTION_NESTING, parseSelection, resolveSelection } from "./selection.js";

interface AssetSpec {
  readonly key: string;
  readonly group?: string;
  readonly tags?: Record<string, string>;
  readonly kinds?: string[];
  readonly owners?: string[];
  readonly deps?: string[];
}

function makeGraph(specs: readonly AssetSpec[]): SelectableGraph {
  const assets = new Map<string, SelectableAsset>();
  const parents = new Map<string, string[]>();
  const children = new Map<string, string[]>();
  for (const spec of specs) {
    assets.set(spec.key, {
      key: spec.key,
      group: spec.group ?? "default",
      tags: spec.tags ?? {},
      kinds: spec.kinds ?? [],
      owners: spec.owners ?? [],
    });
    parents.set(spec.key, spec.deps ?? []);
    children.set(spec.key, children.get(spec.key) ?? []);
    for (const dep of spec.deps ?? []) {
      const list = children.get(dep) ?? [];
      list.push(spec.key);
      children.set(dep, list);
    }
  }
  return {
    keys: specs.map((s) => s.key),
    asset: (key) => assets.get(key),
    parents: (key) => parents.get(key) ?? [],
    children: (key) => children.get(key) ?? [],
  };
}

/**
 * Diamond (group "shop"):  shop/raw -> shop/left, shop/right -> shop/mart
 * Chain:                   taxi/raw_trips -> 2019_trips -> taxi/trips -> taxi/daily -> taxi/report
 * Loner:                   order/x
 */
const graph = makeGraph([
  {
    key: "shop/raw",
    group: "shop",
    kinds: ["python"],
    owners: ["alice@example.com"],
    tags: { tier: "bronze" },
  },
  {
    key: "shop/left",
    group: "shop",
    kinds: ["duckdb"],
    tags: { tier: "silver", team: "data eng" },
    deps: ["shop/raw"],
  },
  { key: "shop/right", group: "shop", kinds: ["duckdb"], tags: { tier: "silver" }, deps: ["shop/raw"] },
  {
    key: "shop/mart",
    group: "shop",
    kinds: ["duckdb", "dbt"],
    owners: ["team:analytics"],
    tags: { tier: "gold", pii: "" },
    deps: ["shop/left", "shop/right"],
  },
  { key: "taxi/raw_trips", group: "ingest", kinds: ["python"] },
  { key: "2019_trips", group: "ingest", kinds: ["python"], deps: ["taxi/raw_trips"] },
  { key: "taxi/trips", group: "taxi", kinds: ["duckdb"], deps: ["2019_trips"] },
  { key: "taxi/daily", group: "taxi", kinds: ["duckdb"], owners: ["bob@example.com"], deps: ["taxi/trips"] },
  {
    key: "taxi/report",
    group: "reporting",
    owners: ["bob@example.com"],
    tags: { team: "bi" },
    deps: ["taxi/daily"],
  },
  { key: "order/x" },
]);

const ALL = [...graph.keys].sort();
const CHAIN = ["2019_trips", "taxi/daily", "taxi/raw_trips", "taxi/report", "taxi/trips"];
const DIAMOND = ["shop/left", "shop/mart", "shop/raw", "shop/right"];

function select(text: string, g: SelectableGraph = graph): string[] {
  return [...resolveSelection(text, g)].sort();
}

function selectionError(fn: () => unknown): SelectionError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SelectionError);
    return error as SelectionError;
  }
  throw new Error("expected a SelectionError, but nothing was thrown");
}

function expectError(
  text: string,
  position: number,
  phrase: string,
  g: SelectableGraph = graph,
): SelectionError {
  const error = selectionError(() => resolveSelection(text, g));
  expect(error.code).toBe("INVALID_SELECTION");
  expect(error.selection).toBe(text);
  expect(error.position).toBe(position);
  expect(error.message).toContain(phrase);
  return error;
}

describe("keys and *", () => {
  it("selects every asset with a bare *", () => {
    expect(select("*")).toEqual(ALL);
    expect(select("  *  ")).toEqual(ALL);
  });

  it("selects exactly one asset by key", () => {
    expect(select("taxi/trips")).toEqual(["taxi/trips"]);
    expect(select("2019_trips")).toEqual(["2019_trips"]);
  });

  it("accepts double-quoted keys", () => {
    expect(select('"taxi/raw_trips"')).toEqual(["taxi/raw_trips"]);
  });

  it("treats words that merely start with a keyword as keys", () => {
    expect(select("order/x")).toEqual(["order/x"]);
    expect(select("order/x or taxi/trips")).toEqual(["order/x", "taxi/trips"]);
  });
});

describe("traversal", () => {
  it("X* selects X and everything downstream", () => {
    expect(select("taxi/trips*")).toEqual(["taxi/daily", "taxi/report", "taxi/trips"]);
    expect(select("shop/raw*")).toEqual(DIAMOND);
  });

  it("*X selects X and everything upstream", () => {
    expect(select("*taxi/trips")).toEqual(["2019_trips", "taxi/raw_trips", "taxi/trips"]);
    expect(select("*shop/mart")).toEqual(DIAMOND);
  });

  it("*X* selects both directions but not siblings", () => {
    expect(select("*shop/left*")).toEqual(["shop/left", "shop/mart", "shop/raw"]);
    expect(select("*taxi/trips*")).toEqual(CHAIN);
  });

  it("X+ and X++ go one and two levels down", () => {
    expect(select("2019_trips+")).toEqual(["2019_trips", "taxi/trips"]);
    expect(select("2019_trips++")).toEqual(["2019_trips", "taxi/daily", "taxi/trips"]);
    expect(select("shop/raw+")).toEqual(["shop/left", "shop/raw", "shop/right"]);
  });

  it("X+N goes N levels down", () => {
    expect(select("taxi/trips+2")).toEqual(["taxi/daily", "taxi/report", "taxi/trips"]);
    expect(select("taxi/raw_trips+1")).toEqual(["2019_trips", "taxi/raw_trips"]);
    expect(select("taxi/raw_trips+0")).toEqual(["taxi/raw_trips"]);
  });

  it("+X and ++X go one and two levels up", () => {
    expect(select("+taxi/daily")).toEqual(["taxi/daily", "taxi/trips"]);
    expect(select("++taxi/daily")).toEqual(["2019_trips", "taxi/daily", "taxi/trips"]);
  });

  it("N+X and +NX go N levels up", () => {
    const twoUp = ["2019_trips", "taxi/daily", "taxi/trips"];
    expect(select("2+taxi/daily")).toEqual(twoUp);
    expect(select("+2taxi/daily")).toEqual(twoUp);
    expect(select("+2 taxi/daily")).toEqual(twoUp);
    expect(select("3+taxi/daily")).toEqual([...twoUp, "taxi/raw_trips"].sort());
  });

  it("reads digits after a leading + as a depth, so keys starting with digits are quoted", () => {
    expect(select('+"2019_trips"')).toEqual(["2019_trips", "taxi/raw_trips"]);
    expect(select('2+"taxi/daily"')).toEqual(["2019_trips", "taxi/daily", "taxi/trips"]);
    const node = parseSelection("+2019_trips");
    expect(node).toMatchObject({ type: "traverse", upstream: 2019, downstream: 0 });
    expect(node.type === "traverse" && node.operand).toEqual({ type: "key", key: "_trips", position: 5 });
  });

  it("combines upstream and downstream depths", () => {
    expect(select("+taxi/trips+")).toEqual(["2019_trips", "taxi/daily", "taxi/trips"]);
    expect(select("2+taxi/daily+3")).toEqual(["2019_trips", "taxi/daily", "taxi/report", "taxi/trips"]);
    expect(select("*taxi/trips+")).toEqual(["2019_trips", "taxi/daily", "taxi/raw_trips", "taxi/trips"]);
  });

  it("applies to parenthesised expressions", () => {
    expect(select("(taxi/trips or shop/left)+")).toEqual([
      "shop/left",
      "shop/mart",
      "taxi/daily",
      "taxi/trips",
    ]);
    expect(select("+(taxi/daily, shop/mart)")).toEqual([
      "shop/left",
      "shop/mart",
      "shop/right",
      "taxi/daily",
      "taxi/trips",
    ]);
  });

  it("applies to attributes", () => {
    expect(select("group:ingest*")).toEqual(CHAIN);
    expect(select("+kind:dbt")).toEqual(["shop/left", "shop/mart", "shop/right"]);
    expect(select("+2group:reporting")).toEqual(["taxi/daily", "taxi/report", "taxi/trips"]);
    expect(select('tag:team="data eng"+')).toEqual(["shop/left", "shop/mart"]);
  });

  it("treats a digits-only key followed by + as a downstream traversal when nothing follows", () => {
    const g = makeGraph([{ key: "2019" }, { key: "a", deps: ["2019"] }, { key: "b", deps: ["a"] }]);
    expect(select("2019+", g)).toEqual(["2019", "a"]);
    expect(select("2019+2", g)).toEqual(["2019", "a", "b"]);
    expect(select("1+b", g)).toEqual(["a", "b"]);
  });

  it("terminates on cycles", () => {
    const cyclic = makeGraph([
      { key: "a", deps: ["c"] },
      { key: "b", deps: ["a"] },
      { key: "c", deps: ["b"] },
      { key: "d" },
    ]);
    expect(select("a*", cyclic)).toEqual(["a", "b", "c"]);
    expect(select("*a", cyclic)).toEqual(["a", "b", "c"]);
    expect(select("a+5", cyclic)).toEqual(["a", "b", "c"]);
  });

  it("handles a 10,000-node chain", () => {
    const keys = Array.from({ length: 10_000 }, (_, i) =>
      i === 0 ? "first" : i === 9_999 ? "last" : `n${i}`,
    );
    const chain: SelectableGraph = {
      keys,
      asset: (key) => ({ key, group: "default", tags: {}, kinds: [], owners: [] }),
      parents: (key) => {
        const i = key === "first" ? 0 : key === "last" ? 9_999 : Number(key.slice(1));
        return i === 0 ? [] : [keys[i - 1]!];
      },
      children: (key) => {
        const i = key === "first" ? 0 : key === "last" ? 9_999 : Number(key.slice(1));
        return i === 9_999 ? [] : [keys[i + 1]!];
      },
    };
    expect(resolveSelection("*", chain).size).toBe(10_000);
    expect(resolveSelection("first*", chain).size).toBe(10_000);
    expect(resolveSelection("*last", chain).size).toBe(10_000);
    expect(resolveSelection("first+", chain).size).toBe(2);
    expect(resolveSelection("n5000*", chain).size).toBe(5_000);
  });
});

describe("attributes", () => {
  it("key: globs match the whole key, * spanning slashes", () => {
    expect(select("key:taxi/*")).toEqual(["taxi/daily", "taxi/raw_trips", "taxi/report", "taxi/trips"]);
    expect(select("key:*trips")).toEqual(["2019_trips", "taxi/raw_trips", "taxi/trips"]);
    expect(select("key:*")).toEqual(ALL);
    expect(select("key:shop/mart")).toEqual(["shop/mart"]);
    // An unquoted glob swallows a trailing "*"; quote (or parenthesise) it to traverse.
    expect(select("key:shop/l**")).toEqual(["shop/left"]);
    expect(select('key:"shop/l*"*')).toEqual(["shop/left", "shop/mart"]);
    expect(select("(key:shop/l*)*")).toEqual(["shop/left", "shop/mart"]);
  });

  it("key: globs treat regex characters literally", () => {
    const g = makeGraph([{ key: "a.b" }, { key: "axb" }]);
    expect(select("key:a.b", g)).toEqual(["a.b"]);
  });

  it("group:, kind: and owner: match exactly", () => {
    expect(select("group:taxi")).toEqual(["taxi/daily", "taxi/trips"]);
    expect(select("group:default")).toEqual(["order/x"]);
    expect(select("kind:python")).toEqual(["2019_trips", "shop/raw", "taxi/raw_trips"]);
    expect(select("owner:bob@example.com")).toEqual(["taxi/daily", "taxi/report"]);
    expect(select("owner:team:analytics")).toEqual(["shop/mart"]);
  });

  it("tag:K=V matches a value and tag:K matches any value", () => {
    expect(select("tag:tier=silver")).toEqual(["shop/left", "shop/right"]);
    expect(select("tag:team")).toEqual(["shop/left", "taxi/report"]);
    expect(select('tag:team="data eng"')).toEqual(["shop/left"]);
    expect(select('tag:pii=""')).toEqual(["shop/mart"]);
    expect(select("tag:pii")).toEqual(["shop/mart"]);
  });

  it("accepts quoted values and case-insensitive attribute names", () => {
    expect(select('group:"ingest"')).toEqual(["2019_trips", "taxi/raw_trips"]);
    expect(select("GROUP:ingest")).toEqual(["2019_trips", "taxi/raw_trips"]);
  });
});

describe("boolean operators", () => {
  it("or and , are unions", () => {
    expect(select("taxi/trips or shop/raw")).toEqual(["shop/raw", "taxi/trips"]);
    expect(select("taxi/trips,shop/raw, order/x")).toEqual(["order/x", "shop/raw", "taxi/trips"]);
  });

  it("and is an intersection", () => {
    expect(select("kind:duckdb and group:taxi")).toEqual(["taxi/daily", "taxi/trips"]);
    expect(select("kind:python and group:shop")).toEqual(["shop/raw"]);
  });

  it("not is the complement", () => {
    expect(select("not group:shop")).toEqual([...CHAIN, "order/x"].sort());
    expect(select("group:shop and not kind:duckdb")).toEqual(["shop/raw"]);
    expect(select("not not order/x")).toEqual(["order/x"]);
  });

  it("binds and tighter than or", () => {
    // a or (b and c), not (a or b) and c
    expect(select("order/x or group:shop and kind:python")).toEqual(["order/x", "shop/raw"]);
    expect(select("kind:python and group:shop or order/x")).toEqual(["order/x", "shop/raw"]);
    expect(select("(order/x or group:shop) and kind:python")).toEqual(["shop/raw"]);
  });

  it("binds not tighter than and", () => {
    expect(select("not group:shop and kind:python")).toEqual(["2019_trips", "taxi/raw_trips"]);
    expect(select("not (group:shop and kind:python)")).toEqual(ALL.filter((k) => k !== "shop/raw"));
  });

  it("binds traversal tighter than not", () => {
    expect(select("not shop/raw*")).toEqual([...CHAIN, "order/x"].sort());
  });

  it("is case-insensitive for keywords", () => {
    expect(select("NOT group:shop AND kind:python Or order/x")).toEqual([
      "2019_trips",
      "order/x",
      "taxi/raw_trips",
    ]);
  });

  it("can be empty through and / not", () => {
    expect(select("group:shop and group:taxi")).toEqual([]);
    expect(select("not *")).toEqual([]);
  });

  it("is left-associative", () => {
    const node = parseSelection("a or b or c");
    expect(node).toMatchObject({ type: "or", left: { type: "or" }, right: { type: "key", key: "c" } });
  });
});

describe("parseSelection", () => {
  it("produces an AST with positions", () => {
    const expected: SelectionNode = {
      type: "or",
      position: 7,
      left: {
        type: "traverse",
        upstream: 2,
        downstream: "all",
        position: 0,
        operand: { type: "key", key: "a/b", position: 2 },
      },
      right: {
        type: "not",
        position: 10,
        operand: { type: "tag", tagKey: "k", tagValue: "v w", position: 14 },
      },
    };
    expect(parseSelection('2+a/b* or not tag:k="v w"')).toEqual(expected);
  });

  it("evaluateSelection resolves a parsed node", () => {
    const text = "group:ingest and not kind:duckdb";
    expect([...evaluateSelection(parseSelection(text), graph, text)].sort()).toEqual([
      "2019_trips",
      "taxi/raw_trips",
    ]);
  });

  it("accepts escapes in quoted strings", () => {
    expect(parseSelection('"a\\"b"')).toEqual({ type: "key", key: 'a"b', position: 0 });
  });
});

describe("errors", () => {
  it("rejects an empty selection", () => {
    expectError("", 0, "empty selection");
    expectError("   ", 0, "empty selection");
  });

  it("reports an unexpected token and what was expected", () => {
    expectError(
      "taxi/trips or )",
      14,
      `unexpected ")" — expected an asset key, "*", "(", "not" or an attribute like group:NAME`,
    );
    expectError("taxi/trips and", 14, "unexpected end of selection — expected an asset key");
    expectError("a or or b", 5, `unexpected "or" — expected an asset key`);
  });

  it("reports two operands without an operator", () => {
    expectError(
      "taxi/trips shop/raw",
      11,
      `unexpected "shop/raw" — expected "and", "or", "," or end of selection`,
    );
  });

  it("reports an unclosed parenthesis at the opening one", () => {
    expectError("a or (b and c", 5, `unclosed "(" opened here`);
  });

  it("reports a stray closing parenthesis", () => {
    expectError("a)", 1, `unexpected ")" — no matching "("`);
  });

  it("reports junk inside parentheses", () => {
    expectError("(taxi/trips taxi/daily)", 12, `expected "and", "or", "," or ")"`);
  });

  it("reports an unknown attribute", () => {
    expectError(
      "a or grp:x",
      5,
      `unknown attribute "grp:" — expected one of key:, group:, tag:, kind:, owner:`,
    );
  });

  it("reports a missing attribute value", () => {
    expectError("group: x", 6, `expected a value after "group:"`);
    expectError("tag:team=", 9, "expected a tag value");
  });

  it("reports an unterminated quote", () => {
    expectError('a or "taxi/trips', 5, "unterminated quoted string");
  });

  it("reports an unexpected character", () => {
    expectError("a & b", 2, `unexpected character "&"`);
  });

  it("reports an invalid key", () => {
    expectError("taxi//trips", 0, `invalid asset key "taxi//trips"`);
  });

  it("reports ambiguous digits after ++", () => {
    expectError("++2x", 2, "ambiguous digits");
  });

  it("reports a depth before an attribute without a +", () => {
    expectError("a or 2group:ingest", 5, `unexpected depth "2" before "group:" — write +2group:NAME`);
  });

  it("reports syntax errors before evaluating anything", () => {
    // The unknown key comes first, but the syntax error wins because nothing is evaluated before parsing.
    expectError("nope or (taxi/trips", 8, `unclosed "(" opened here`);
  });

  it("reports an unknown key with a suggestion", () => {
    const error = expectError(
      "shop/raw or taxi/trip",
      12,
      `unknown asset "taxi/trip" — did you mean "taxi/trips"?`,
    );
    expect(error.message).toContain(`\n  shop/raw or taxi/trip\n  ${" ".repeat(12)}^`);
  });

  it("reports an unknown key without a suggestion when nothing is close", () => {
    const error = expectError("zzzzzz", 0, `unknown asset "zzzzzz"`);
    expect(error.message).not.toContain("did you mean");
  });

  it("reports an unknown key even under not", () => {
    expectError("not taxi/tripz", 4, `unknown asset "taxi/tripz" — did you mean "taxi/trips"?`);
  });

  it("points at the key after a +N depth", () => {
    expectError("+2019_trips", 5, `unknown asset "_trips"`);
  });

  it("reports a key from a quoted key at its opening quote", () => {
    expectError('+"taxi/trip"', 1, `unknown asset "taxi/trip" — did you mean "taxi/trips"?`);
  });

  it("reports a group that matches nothing, listing existing groups", () => {
    expectError(
      "taxi/trips or group:nope*",
      14,
      "no asset matches group:nope — existing groups: shop, taxi, ingest, default, reporting",
    );
  });

  it("reports kinds, owners, tags and key globs that match nothing", () => {
    expectError("kind:duck", 0, "no asset matches kind:duck — existing kinds: duckdb, dbt, python");
    expectError("owner:carol", 0, "no asset matches owner:carol — existing owners:");
    expectError(
      "tag:team=ops",
      0,
      `no asset matches tag:team=ops — existing values of tag "team": bi, data eng`,
    );
    expectError("tag:tem", 0, "no asset matches tag:tem — existing tags: team, tier, pii");
    expectError("key:nothing/*", 0, "no asset matches key:nothing/* — existing keys:");
  });

  it("says and N more when there are over 5 values", () => {
    const g = makeGraph(["a", "b", "c", "d", "e", "f", "g"].map((group) => ({ key: `k_${group}`, group })));
    expectError("group:z", 0, "existing groups: a, b, c, d, e, and 2 more", g);
  });
});

describe("limits", () => {
  it("refuses parentheses nested deeper than MAX_SELECTION_NESTING with a SelectionError, not a stack overflow", () => {
    const deep = `${"(".repeat(5000)}shop/raw${")".repeat(5000)}`;
    expectError(deep, MAX_SELECTION_NESTING, `nested deeper than ${MAX_SELECTION_NESTING} levels`);
    const ok = `${"(".repeat(MAX_SELECTION_NESTING)}shop/raw${")".repeat(MAX_SELECTION_NESTING)}`;
    expect([...resolveSelection(ok, graph)]).toEqual(["shop/raw"]);
  });

  it("counts not as nesting too", () => {
    const nots = (n: number) => `${"not ".repeat(n)}shop/raw`;
    expect(resolveSelection(nots(MAX_SELECTION_NESTING), graph).has("shop/raw")).toBe(true);
    expectError(nots(5000), 4 * MAX_SELECTION_NESTING, `nested deeper than ${MAX_SELECTION_NESTING} levels`);
    expectError(
      `${"(not ".repeat(60)}shop/raw${")".repeat(60)}`,
      50 * 5,
      `nested deeper than ${MAX_SELECTION_NESTING} levels`,
    );
  });

  it("evaluates long flat or/and chains without recursing per operand", () => {
    const or = Array.from({ length: 20_000 }, (_, i) => (i % 2 ? "shop/raw" : "order/x")).join(",");
    expect([...resolveSelection(or, graph)].sort()).toEqual(["order/x", "shop/raw"]);
    const ands = Array.from({ length: 20_000 }, () => "group:shop").join(" and ");
    expect(resolveSelection(ands, graph).size).toBe(4);
  });
});
