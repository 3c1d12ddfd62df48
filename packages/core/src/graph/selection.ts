/**
 * The asset selection language (modelled on Dagster's):
 *
 *   *                      every asset
 *   taxi/trips             one asset ("taxi/trips" quoted works too, and is needed for e.g. +"2019_trips")
 *   key:taxi/*             glob on the whole key (`*` matches any run, including "/")
 *   group:NAME  kind:NAME  owner:NAME  tag:K  tag:K=V      (values may be double-quoted)
 *   X*  *X  X+  X++  X+N  +X  ++X  N+X  +NX                traversal, on any primary
 *   not X   X and Y   X or Y   X, Y   ( ... )               precedence: not > and > or
 *
 * `parseSelection` is a pure parser producing a `SelectionNode` AST; `evaluateSelection` resolves an AST
 * against a `SelectableGraph`; `resolveSelection` does both. Every problem is a `SelectionError` pointing at
 * the offending character offset.
 */
import { SelectionError } from "../errors.js";

export interface SelectableAsset {
  readonly key: string; // e.g. "taxi/raw_trips"
  readonly group: string; // "default" when unset
  readonly tags: Readonly<Record<string, string>>;
  readonly kinds: readonly string[];
  readonly owners: readonly string[];
}

export interface SelectableGraph {
  readonly keys: readonly string[]; // every asset key
  asset(key: string): SelectableAsset | undefined;
  parents(key: string): readonly string[]; // direct upstream keys
  children(key: string): readonly string[]; // direct downstream keys
}

/** How far a traversal goes: a number of levels (0 = none) or "all" (transitively). */
export type TraversalDepth = number | "all";

/** The attributes that take a single value; `tag:` has its own node type. */
export type ValueAttributeName = "key" | "group" | "kind" | "owner";

/**
 * The selection AST. `position` is the 0-based offset in the selection text of: the key (for a quoted
 * key, its opening quote; for `+2taxi/trips`, the "t"), the attribute name, the first traversal character,
 * the `not` keyword, or the `and` / `or` / `,` operator.
 */
export type SelectionNode =
  | { readonly type: "all"; readonly position: number }
  | { readonly type: "key"; readonly key: string; readonly position: number }
  | {
      readonly type: "attribute";
      readonly name: ValueAttributeName;
      /** For `key:` a glob where `*` matches any run of characters; otherwise an exact value. */
      readonly value: string;
      readonly position: number;
    }
  | {
      readonly type: "tag";
      readonly tagKey: string;
      /** undefined for `tag:K` (the asset has tag K, with any value). */
      readonly tagValue: string | undefined;
      readonly position: number;
    }
  | {
      readonly type: "traverse";
      readonly operand: SelectionNode;
      readonly upstream: TraversalDepth;
      readonly downstream: TraversalDepth;
      readonly position: number;
    }
  | { readonly type: "not"; readonly operand: SelectionNode; readonly position: number }
  | {
      readonly type: "and";
      readonly left: SelectionNode;
      readonly right: SelectionNode;
      readonly position: number;
    }
  | {
      readonly type: "or";
      readonly left: SelectionNode;
      readonly right: SelectionNode;
      readonly position: number;
    };

const ATTRIBUTE_NAMES = ["key", "group", "tag", "kind", "owner"] as const;
type AttributeName = (typeof ATTRIBUTE_NAMES)[number];

const EXPECTED_OPERAND = `an asset key, "*", "(", "not" or an attribute like group:NAME`;
const KNOWN_ATTRIBUTES = ATTRIBUTE_NAMES.map((name) => `${name}:`).join(", ");

// ---------------------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------------------

/** Characters of an unquoted word: keys, keywords and digit depths. */
const WORD_CHAR = /[A-Za-z0-9_.\-/]/;
/** Characters of an unquoted `key:` glob. */
const GLOB_CHAR = /[A-Za-z0-9_.\-/*]/;
/** Characters of an unquoted group/kind/owner name or tag value (owners look like "team:x" or emails). */
const VALUE_CHAR = /[A-Za-z0-9_.\-/@:=]/;
/** Characters of an unquoted tag name (no "=", which separates the value). */
const TAG_NAME_CHAR = /[A-Za-z0-9_.\-/@:]/;
const UNQUOTED_VALUE = /^[A-Za-z0-9_.\-/@:]+$/;
const KEY_SYNTAX = /^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*$/;
const DIGITS = /^\d+$/;
const LEADING_DIGITS = /^(\d+)(.*)$/s;
const KEYWORDS = new Set(["and", "or", "not"]);

type Token =
  | { readonly kind: "word"; readonly text: string; readonly start: number; readonly end: number }
  | { readonly kind: "string"; readonly value: string; readonly start: number; readonly end: number }
  | {
      readonly kind: "attribute";
      /** Depth digits written before the name, as in `+2group:x` (only valid after a single "+"). */
      readonly digits: string;
      readonly name: AttributeName;
      readonly value: string;
      readonly tagValue: string | undefined;
      readonly start: number;
      readonly end: number;
    }
  | { readonly kind: "(" | ")" | "," | "*" | "+" | "eof"; readonly start: number; readonly end: number };

interface Lexer {
  /** The token `ahead` tokens after the current one (0 = current), lexing lazily. */
  peek(ahead?: number): Token;
  next(): Token;
}

/**
 * A lazy lexer, so that a syntax error early in the text is reported before a lexical error later on.
 */
function createLexer(text: string): Lexer {
  const buffer: Token[] = [];
  let offset = 0;

  function fail(position: number, problem: string): never {
    throw new SelectionError(text, position, problem);
  }

  const readQuoted = (start: number): { value: string; end: number } => {
    let value = "";
    let i = start + 1;
    while (i < text.length) {
      const ch = text[i]!;
      if (ch === '"') return { value, end: i + 1 };
      if (ch === "\\" && i + 1 < text.length) {
        value += text[i + 1];
        i += 2;
      } else {
        value += ch;
        i += 1;
      }
    }
    return fail(start, `unterminated quoted string opened here — expected a closing '"'`);
  };

  const readRun = (start: number, chars: RegExp): number => {
    let i = start;
    while (i < text.length && chars.test(text[i]!)) i += 1;
    return i;
  };

  /** A quoted or unquoted attribute value starting at `start`; `what` names it for the error. */
  const readValue = (start: number, chars: RegExp, what: string): { value: string; end: number } => {
    if (text[start] === '"') return readQuoted(start);
    const end = readRun(start, chars);
    if (end === start) {
      const found = start < text.length ? `"${text[start]}"` : "end of selection";
      fail(start, `expected ${what}, found ${found}`);
    }
    return { value: text.slice(start, end), end };
  };

  const lexAttribute = (start: number, raw: string, colon: number): Token => {
    const match = LEADING_DIGITS.exec(raw);
    const digits = match ? match[1]! : "";
    const lowered = raw.slice(digits.length).toLowerCase();
    const name = ATTRIBUTE_NAMES.find((n) => n === lowered);
    if (name === undefined) fail(start, `unknown attribute "${raw}:" — expected one of ${KNOWN_ATTRIBUTES}`);
    const written = text.slice(start + digits.length, colon + 1);
    if (name === "tag") {
      const tagName = readValue(colon + 1, TAG_NAME_CHAR, `a tag name after "${written}"`);
      if (text[tagName.end] !== "=") {
        return {
          kind: "attribute",
          digits,
          name: "tag",
          value: tagName.value,
          tagValue: undefined,
          start,
          end: tagName.end,
        };
      }
      const tagValue = readValue(
        tagName.end + 1,
        VALUE_CHAR,
        `a tag value after "${text.slice(start + digits.length, tagName.end + 1)}" (use "" for an empty value)`,
      );
      return {
        kind: "attribute",
        digits,
        name: "tag",
        value: tagName.value,
        tagValue: tagValue.value,
        start,
        end: tagValue.end,
      };
    }
    const value = readValue(colon + 1, name === "key" ? GLOB_CHAR : VALUE_CHAR, `a value after "${written}"`);
    return {
      kind: "attribute",
      digits,
      name,
      value: value.value,
      tagValue: undefined,
      start,
      end: value.end,
    };
  };

  const lex = (): Token => {
    while (offset < text.length && /\s/.test(text[offset]!)) offset += 1;
    const start = offset;
    if (start >= text.length) return { kind: "eof", start, end: start };
    const ch = text[start]!;
    if (ch === "(" || ch === ")" || ch === "," || ch === "*" || ch === "+") {
      offset = start + 1;
      return { kind: ch, start, end: offset };
    }
    if (ch === '"') {
      const quoted = readQuoted(start);
      offset = quoted.end;
      return { kind: "string", value: quoted.value, start, end: quoted.end };
    }
    if (WORD_CHAR.test(ch)) {
      const end = readRun(start, WORD_CHAR);
      const raw = text.slice(start, end);
      if (text[end] === ":") {
        const token = lexAttribute(start, raw, end);
        offset = token.end;
        return token;
      }
      offset = end;
      return { kind: "word", text: raw, start, end };
    }
    return fail(
      start,
      `unexpected character "${ch}" — unquoted keys may contain only letters, digits, "_", ".", "-" and "/"`,
    );
  };

  const peek = (ahead = 0): Token => {
    while (buffer.length <= ahead) {
      const last = buffer[buffer.length - 1];
      buffer.push(last?.kind === "eof" ? last : lex());
    }
    return buffer[ahead]!;
  };

  return {
    peek,
    next: () => {
      const token = peek();
      buffer.shift();
      return token;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------------------

/** How deeply "(" and "not" may nest in a selection (deeper ones are refused, not parsed). */
export const MAX_SELECTION_NESTING = 100;

/** Parses a selection into an AST. Throws `SelectionError` for syntax errors. Does not look at any graph. */
export function parseSelection(text: string): SelectionNode {
  if (text.trim() === "") throw new SelectionError(text, 0, `empty selection — expected ${EXPECTED_OPERAND}`);
  const lexer = createLexer(text);

  function fail(position: number, problem: string): never {
    throw new SelectionError(text, position, problem);
  }

  /** Open "(" and "not" around the token being parsed: bounded, so the parser never runs out of stack. */
  let nesting = 0;
  const nest = <T>(position: number, parse: () => T): T => {
    if (nesting >= MAX_SELECTION_NESTING)
      fail(
        position,
        `nested deeper than ${MAX_SELECTION_NESTING} levels of "(" and "not" — write a flatter selection`,
      );
    nesting += 1;
    const node = parse();
    nesting -= 1;
    return node;
  };

  const describe = (token: Token): string => {
    switch (token.kind) {
      case "eof":
        return "end of selection";
      case "string":
        return `quoted key ${text.slice(token.start, token.end)}`;
      default:
        return JSON.stringify(text.slice(token.start, token.end));
    }
  };

  const isKeyword = (token: Token, keyword?: string): boolean =>
    token.kind === "word" &&
    (keyword === undefined ? KEYWORDS.has(token.text.toLowerCase()) : token.text.toLowerCase() === keyword);

  /** Whether `token` starts a primary that a traversal prefix can apply to. */
  const startsPrimary = (token: Token): boolean =>
    token.kind === "string" ||
    token.kind === "attribute" ||
    token.kind === "(" ||
    (token.kind === "word" && !isKeyword(token));

  const keyNode = (key: string, position: number): SelectionNode => {
    if (!KEY_SYNTAX.test(key)) {
      fail(
        position,
        `invalid asset key "${key}" — keys are segments of letters, digits, "_", "." and "-" joined by "/"`,
      );
    }
    return { type: "key", key, position };
  };

  const attributeNode = (token: Extract<Token, { kind: "attribute" }>): SelectionNode => {
    const position = token.start + token.digits.length;
    if (token.name === "tag") return { type: "tag", tagKey: token.value, tagValue: token.tagValue, position };
    return { type: "attribute", name: token.name, value: token.value, position };
  };

  const parsePrimary = (): SelectionNode => {
    const token = lexer.next();
    switch (token.kind) {
      case "word":
        if (isKeyword(token))
          return fail(token.start, `unexpected ${describe(token)} — expected ${EXPECTED_OPERAND}`);
        return keyNode(token.text, token.start);
      case "string":
        if (token.value === "")
          return fail(token.start, `empty quoted key — expected an asset key between the quotes`);
        return { type: "key", key: token.value, position: token.start };
      case "attribute":
        if (token.digits !== "") {
          return fail(
            token.start,
            `unexpected depth "${token.digits}" before "${token.name}:" — write +${token.digits}${token.name}:NAME ` +
              `(or ${token.digits}+${token.name}:NAME) to go ${token.digits} levels upstream`,
          );
        }
        return attributeNode(token);
      case "(": {
        const inner = nest(token.start, parseOr);
        const close = lexer.peek();
        if (close.kind === ")") {
          lexer.next();
          return inner;
        }
        if (close.kind === "eof") return fail(token.start, `unclosed "(" opened here — expected ")"`);
        return fail(close.start, `unexpected ${describe(close)} — expected "and", "or", "," or ")"`);
      }
      default:
        return fail(token.start, `unexpected ${describe(token)} — expected ${EXPECTED_OPERAND}`);
    }
  };

  const countPluses = (): number => {
    let count = 0;
    while (lexer.peek().kind === "+") {
      lexer.next();
      count += 1;
    }
    return count;
  };

  /** [prefix] primary [postfix], or a bare "*". */
  const parseTraversal = (): SelectionNode => {
    const first = lexer.peek();
    let upstream: TraversalDepth = 0;
    let hasPrefix = false;
    let operand: SelectionNode | undefined;

    if (first.kind === "*") {
      lexer.next();
      if (!startsPrimary(lexer.peek())) return { type: "all", position: first.start };
      upstream = "all";
      hasPrefix = true;
    } else if (first.kind === "+") {
      hasPrefix = true;
      const count = countPluses();
      const after = lexer.peek();
      const depthWord = after.kind === "word" ? LEADING_DIGITS.exec(after.text) : null;
      const attributeDigits = after.kind === "attribute" ? after.digits : "";
      if (count === 1 && depthWord) {
        // `+2taxi/trips` (two levels up) or `+2 x`.
        lexer.next();
        upstream = Number(depthWord[1]);
        const rest = depthWord[2]!;
        if (rest !== "") operand = keyNode(rest, after.start + depthWord[1]!.length);
      } else if (count === 1 && after.kind === "attribute" && attributeDigits !== "") {
        // `+2group:x`.
        lexer.next();
        upstream = Number(attributeDigits);
        operand = attributeNode(after);
      } else if (depthWord || attributeDigits !== "") {
        const digits = depthWord ? depthWord[1]! : attributeDigits;
        return fail(
          after.start,
          `ambiguous digits "${digits}" after "${"+".repeat(count)}" — write +${digits}KEY or ${digits}+KEY for a ` +
            `depth, or quote a key that starts with digits (${"+".repeat(count)}"${text.slice(after.start, after.end)}")`,
        );
      } else {
        upstream = count;
      }
    } else if (first.kind === "word" && DIGITS.test(first.text) && lexer.peek(1).kind === "+") {
      // `2+x` is two levels up of x; but `2019+` and `2019+3` are the asset "2019" traversed downstream.
      const target = lexer.peek(2);
      if (startsPrimary(target) && !(target.kind === "word" && DIGITS.test(target.text))) {
        lexer.next();
        lexer.next();
        upstream = Number(first.text);
        hasPrefix = true;
      }
    }

    operand ??= parsePrimary();

    let downstream: TraversalDepth = 0;
    let hasPostfix = false;
    const next = lexer.peek();
    if (next.kind === "*") {
      lexer.next();
      downstream = "all";
      hasPostfix = true;
    } else if (next.kind === "+") {
      hasPostfix = true;
      const count = countPluses();
      const after = lexer.peek();
      if (count === 1 && after.kind === "word" && DIGITS.test(after.text)) {
        lexer.next();
        downstream = Number(after.text);
      } else {
        downstream = count;
      }
    }

    if (!hasPrefix && !hasPostfix) return operand;
    return { type: "traverse", operand, upstream, downstream, position: first.start };
  };

  const parseNot = (): SelectionNode => {
    const token = lexer.peek();
    if (isKeyword(token, "not")) {
      lexer.next();
      return { type: "not", operand: nest(token.start, parseNot), position: token.start };
    }
    return parseTraversal();
  };

  const parseAnd = (): SelectionNode => {
    let left = parseNot();
    for (let token = lexer.peek(); isKeyword(token, "and"); token = lexer.peek()) {
      lexer.next();
      left = { type: "and", left, right: parseNot(), position: token.start };
    }
    return left;
  };

  function parseOr(): SelectionNode {
    let left = parseAnd();
    for (let token = lexer.peek(); token.kind === "," || isKeyword(token, "or"); token = lexer.peek()) {
      lexer.next();
      left = { type: "or", left, right: parseAnd(), position: token.start };
    }
    return left;
  }

  const node = parseOr();
  const rest = lexer.peek();
  if (rest.kind === ")") fail(rest.start, `unexpected ")" — no matching "("`);
  if (rest.kind !== "eof") {
    fail(rest.start, `unexpected ${describe(rest)} — expected "and", "or", "," or end of selection`);
  }
  return node;
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------------------

/** Parses `text` and resolves it against `graph` to a set of asset keys. */
export function resolveSelection(text: string, graph: SelectableGraph): Set<string> {
  return evaluateSelection(parseSelection(text), graph, text);
}

/**
 * Resolves a parsed selection against `graph`. `text` is the selection the node was parsed from, used only
 * to point errors at the right place. A key that is not in the graph, or an attribute that matches no asset,
 * is a `SelectionError`; the result can be empty only through `and` / `not`.
 */
export function evaluateSelection(node: SelectionNode, graph: SelectableGraph, text: string): Set<string> {
  function fail(position: number, problem: string): never {
    throw new SelectionError(text, position, problem);
  }
  let known: Set<string> | undefined;

  const evaluate = (n: SelectionNode): Set<string> => {
    switch (n.type) {
      case "all":
        return new Set(graph.keys);
      case "key": {
        known ??= new Set(graph.keys);
        if (!known.has(n.key)) {
          const suggestion = closestKey(n.key, graph.keys);
          fail(n.position, `unknown asset "${n.key}"${suggestion ? ` — did you mean "${suggestion}"?` : ""}`);
        }
        return new Set([n.key]);
      }
      case "attribute":
      case "tag": {
        const matches = matchAttribute(n, graph);
        if (matches.size === 0) fail(n.position, noMatchProblem(n, graph));
        return matches;
      }
      case "traverse": {
        const base = evaluate(n.operand);
        const result = new Set(base);
        if (n.upstream !== 0) traverse(base, n.upstream, (key) => graph.parents(key), result);
        if (n.downstream !== 0) traverse(base, n.downstream, (key) => graph.children(key), result);
        return result;
      }
      case "not": {
        const excluded = evaluate(n.operand);
        const result = new Set<string>();
        for (const key of graph.keys) if (!excluded.has(key)) result.add(key);
        return result;
      }
      // `a, b, c, …` parses as a left-deep chain as long as the selection: walked in a loop, not
      // recursively (only "(" and "not" nest, and those are bounded by the parser).
      case "and":
      case "or": {
        const operands: SelectionNode[] = [];
        let left: SelectionNode = n;
        while (left.type === n.type) {
          const chain = left as Extract<SelectionNode, { type: "and" | "or" }>;
          operands.push(chain.right);
          left = chain.left;
        }
        operands.push(left);
        operands.reverse();
        let result = evaluate(operands[0]!);
        for (const operand of operands.slice(1)) {
          const next = evaluate(operand);
          if (n.type === "or") for (const key of next) result.add(key);
          else {
            const both = new Set<string>();
            for (const key of result) if (next.has(key)) both.add(key);
            result = both;
          }
        }
        return result;
      }
    }
  };

  return evaluate(node);
}

/**
 * Breadth-first traversal from `start`, adding every key reached within `depth` levels to `out`. Each key is
 * visited at most once, so this is linear in the size of the reached subgraph and safe on cycles.
 */
function traverse(
  start: ReadonlySet<string>,
  depth: TraversalDepth,
  neighbours: (key: string) => readonly string[],
  out: Set<string>,
): void {
  const visited = new Set(start);
  let frontier: string[] = [...start];
  for (let level = 0; frontier.length > 0 && (depth === "all" || level < depth); level += 1) {
    const next: string[] = [];
    for (const key of frontier) {
      for (const neighbour of neighbours(key)) {
        if (visited.has(neighbour)) continue;
        visited.add(neighbour);
        next.push(neighbour);
        out.add(neighbour);
      }
    }
    frontier = next;
  }
}

type AttributeNode = Extract<SelectionNode, { type: "attribute" | "tag" }>;

function matchAttribute(node: AttributeNode, graph: SelectableGraph): Set<string> {
  const result = new Set<string>();
  if (node.type === "attribute" && node.name === "key") {
    const pattern = globToRegExp(node.value);
    for (const key of graph.keys) if (pattern.test(key)) result.add(key);
    return result;
  }
  for (const key of graph.keys) {
    const asset = graph.asset(key);
    if (asset !== undefined && assetMatches(node, asset)) result.add(key);
  }
  return result;
}

/** Whether `asset` matches a group/kind/owner/tag attribute (`key:` globs are matched on the key alone). */
function assetMatches(node: AttributeNode, asset: SelectableAsset): boolean {
  if (node.type === "tag") {
    if (!Object.hasOwn(asset.tags, node.tagKey)) return false;
    return node.tagValue === undefined || asset.tags[node.tagKey] === node.tagValue;
  }
  switch (node.name) {
    case "key":
      return globToRegExp(node.value).test(asset.key);
    case "group":
      return asset.group === node.value;
    case "kind":
      return asset.kinds.includes(node.value);
    case "owner":
      return asset.owners.includes(node.value);
  }
}

function globToRegExp(glob: string): RegExp {
  const source = glob
    .split("*")
    .map((part) => part.replace(/[\\^$.|?+()[\]{}]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`, "s");
}

/** "no asset matches group:nope — existing groups: a, b" with up to 5 values, closest first. */
function noMatchProblem(node: AttributeNode, graph: SelectableGraph): string {
  const written = formatAttribute(node);
  const values = new Set<string>();
  let what: string;
  let wanted: string;
  const assets = graph.keys
    .map((key) => graph.asset(key))
    .filter((a): a is SelectableAsset => a !== undefined);

  if (node.type === "tag") {
    const hasKey = assets.some((a) => Object.hasOwn(a.tags, node.tagKey));
    if (hasKey && node.tagValue !== undefined) {
      for (const asset of assets) {
        const value = asset.tags[node.tagKey];
        if (Object.hasOwn(asset.tags, node.tagKey) && value !== undefined) values.add(value);
      }
      what = `values of tag "${node.tagKey}"`;
      wanted = node.tagValue;
    } else {
      for (const asset of assets) for (const tag of Object.keys(asset.tags)) values.add(tag);
      what = "tags";
      wanted = node.tagKey;
    }
  } else {
    wanted = node.value;
    switch (node.name) {
      case "key":
        for (const key of graph.keys) values.add(key);
        what = "keys";
        wanted = node.value.replaceAll("*", "");
        break;
      case "group":
        for (const asset of assets) values.add(asset.group);
        what = "groups";
        break;
      case "kind":
        for (const asset of assets) for (const kind of asset.kinds) values.add(kind);
        what = "kinds";
        break;
      case "owner":
        for (const asset of assets) for (const owner of asset.owners) values.add(owner);
        what = "owners";
        break;
    }
  }

  if (values.size === 0) return `no asset matches ${written} — there are no ${what}`;
  const ranked = [...values]
    .map((value) => ({ value, distance: editDistance(wanted, value) }))
    .sort((a, b) => a.distance - b.distance || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
    .map((entry) => entry.value);
  const shown = ranked.slice(0, 5).join(", ");
  const more = ranked.length > 5 ? `, and ${ranked.length - 5} more` : "";
  return `no asset matches ${written} — existing ${what}: ${shown}${more}`;
}

function formatAttribute(node: AttributeNode): string {
  if (node.type === "tag") {
    return `tag:${quoteIfNeeded(node.tagKey)}${node.tagValue === undefined ? "" : `=${quoteIfNeeded(node.tagValue)}`}`;
  }
  return `${node.name}:${node.name === "key" && /^[A-Za-z0-9_.\-/*]+$/.test(node.value) ? node.value : quoteIfNeeded(node.value)}`;
}

function quoteIfNeeded(value: string): string {
  return UNQUOTED_VALUE.test(value) ? value : JSON.stringify(value);
}

/** The existing key closest to `key` by edit distance, when it is close enough to be a plausible typo. */
function closestKey(key: string, keys: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(key.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of keys) {
    if (Math.abs(candidate.length - key.length) >= bestDistance) continue;
    const distance = editDistance(key, candidate);
    if (distance < bestDistance || (distance === bestDistance && best !== undefined && candidate < best)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance (insertions, deletions and substitutions each cost 1). */
function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i += 1) {
    current[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length]!;
}
