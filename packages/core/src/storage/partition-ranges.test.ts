/**
 * The partition status range algebra, checked against a naive per-index model. The in-memory store
 * below applies segments exactly the way kysely-partitions.ts does: select the ranges touching
 * [start - 1, end + 1] (those ending inside that window, plus the first one ending after it when it
 * starts inside it), call `applySegment`, delete `remove` (by start), insert `add`.
 */
import { describe, expect, it } from "vitest";
import {
  applySegment,
  countRanges,
  PARTITION_STATES,
  type PartitionState,
  type StatusRange,
  type StatusSegment,
  toSegments,
} from "./partition-ranges.js";

const SPACE = 200;
const SEQUENCES = 300;

/** mulberry32: small, seeded, good enough for test data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const randInt = (rand: () => number, n: number) => Math.floor(rand() * n);
const STATUSES: readonly (PartitionState | null)[] = [...PARTITION_STATES, null];

/** The store's `touchingRanges`, over an in-memory table sorted by start. */
function touchingRanges(table: readonly StatusRange[], seg: StatusSegment): StatusRange[] {
  const byEnd = [...table].sort((a, b) => a.end - b.end);
  const inside = byEnd.filter((r) => r.end >= seg.start - 1 && r.end <= seg.end + 1);
  const straddling = byEnd.filter((r) => r.end > seg.end + 1).slice(0, 1);
  return [...inside, ...straddling.filter((r) => r.start <= seg.end + 1)];
}

/** The store's `applySegments` for one segment: delete removed ranges by start, insert added ones. */
function applyToTable(table: StatusRange[], seg: StatusSegment): StatusRange[] {
  const touching = touchingRanges(table, seg);
  const { remove, add } = applySegment(touching, seg);
  // Everything removed was handed in (the store deletes by start index, which must exist).
  for (const r of remove) if (!touching.includes(r)) expect(touching).toContainEqual(r);
  const removedStarts = new Set(remove.map((r) => r.start));
  if (removedStarts.size !== remove.length) expect(remove).toEqual("no two removed ranges with one start");
  const next = table.filter((r) => !removedStarts.has(r.start));
  for (const r of add) {
    // The primary key (asset_key, start_index) must not collide.
    const clash = next.find((x) => x.start === r.start);
    if (clash) expect({ adding: r, alreadyStored: clash }).toBeUndefined();
    next.push(r);
  }
  return next.sort((a, b) => a.start - b.start);
}

/** Expected ranges from the naive model: maximal runs of equal non-null status. */
function rangesOf(model: readonly (PartitionState | null)[]): StatusRange[] {
  const out: StatusRange[] = [];
  for (let i = 0; i < model.length; i++) {
    const status = model[i];
    if (status === null || status === undefined) continue;
    const last = out[out.length - 1];
    if (last && last.end === i - 1 && last.status === status) out[out.length - 1] = { ...last, end: i };
    else out.push({ start: i, end: i, status });
  }
  return out;
}

function sameRanges(a: readonly StatusRange[], b: readonly StatusRange[]): boolean {
  return (
    a.length === b.length &&
    a.every((r, i) => r.start === b[i]!.start && r.end === b[i]!.end && r.status === b[i]!.status)
  );
}

function describeStep(history: readonly StatusSegment[]): string {
  return history.map((s) => `[${s.start}..${s.end}]=${s.status}`).join(", ");
}

/** (1) disjoint and sorted, (2) maximal, (3) exactly the model. */
function expectMatchesModel(
  table: readonly StatusRange[],
  model: readonly (PartitionState | null)[],
  context: string,
) {
  if (sameRanges(table, rangesOf(model))) return; // fast path; the checks below say what is wrong
  for (const r of table) {
    expect(r.start, context).toBeLessThanOrEqual(r.end);
    expect(r.start, context).toBeGreaterThanOrEqual(0);
  }
  for (let i = 1; i < table.length; i++) {
    const [a, b] = [table[i - 1]!, table[i]!];
    expect(a.end, `disjoint and sorted: ${context}`).toBeLessThan(b.start);
    if (a.end + 1 === b.start)
      expect(a.status, `maximal (touching ranges differ in status): ${context}`).not.toBe(b.status);
  }
  const covered: (PartitionState | null)[] = new Array(model.length).fill(null);
  for (const r of table) for (let i = r.start; i <= r.end; i++) covered[i] = r.status;
  expect(covered, `statuses: ${context}`).toEqual(model);
  expect(table, `ranges: ${context}`).toEqual(rangesOf(model));
}

describe("applySegment against a naive model", () => {
  it(`keeps ranges disjoint, sorted, maximal and exact over ${SEQUENCES} random sequences`, () => {
    const rand = prng(0xba70);
    let steps = 0;
    for (let seq = 0; seq < SEQUENCES; seq++) {
      const model: (PartitionState | null)[] = new Array(SPACE).fill(null);
      let table: StatusRange[] = [];
      const history: StatusSegment[] = [];
      const length = 1 + randInt(rand, 20);
      for (let k = 0; k < length; k++) {
        const x = randInt(rand, SPACE);
        const y = randInt(rand, SPACE);
        const seg: StatusSegment = {
          start: Math.min(x, y),
          end: Math.max(x, y),
          status: STATUSES[randInt(rand, STATUSES.length)]!,
        };
        history.push(seg);
        table = applyToTable(table, seg);
        for (let i = seg.start; i <= seg.end; i++) model[i] = seg.status;
        expectMatchesModel(table, model, `sequence ${seq}: ${describeStep(history)}`);
        steps++;
      }
    }
    expect(steps).toBeGreaterThan(SEQUENCES);
  });

  it("also holds with short segments that mostly touch or abut existing ranges", () => {
    // Narrow segments over a small space hit the adjacent/absorb edge cases far more often.
    const rand = prng(7);
    for (let seq = 0; seq < SEQUENCES; seq++) {
      const space = 12;
      const model: (PartitionState | null)[] = new Array(space).fill(null);
      let table: StatusRange[] = [];
      const history: StatusSegment[] = [];
      const length = 1 + randInt(rand, 20);
      for (let k = 0; k < length; k++) {
        const start = randInt(rand, space);
        const end = Math.min(space - 1, start + randInt(rand, 3));
        const seg: StatusSegment = { start, end, status: STATUSES[randInt(rand, STATUSES.length)]! };
        history.push(seg);
        table = applyToTable(table, seg);
        for (let i = start; i <= end; i++) model[i] = seg.status;
        expectMatchesModel(table, model, `sequence ${seq}: ${describeStep(history)}`);
      }
    }
  });

  it("applies a batch of index changes the way the store does (toSegments, then each segment)", () => {
    const rand = prng(42);
    for (let seq = 0; seq < SEQUENCES; seq++) {
      const model: (PartitionState | null)[] = new Array(SPACE).fill(null);
      let table: StatusRange[] = [];
      for (let batch = 0; batch < 1 + randInt(rand, 5); batch++) {
        const changes = new Map<number, PartitionState | null>();
        const count = 1 + randInt(rand, 60);
        for (let k = 0; k < count; k++)
          changes.set(randInt(rand, SPACE), STATUSES[randInt(rand, STATUSES.length)]!);
        for (const seg of toSegments(changes)) table = applyToTable(table, seg);
        for (const [i, status] of changes) model[i] = status;
        expectMatchesModel(table, model, `sequence ${seq}, batch ${batch}`);
      }
    }
  });

  it("merges a segment bridging two ranges of its status into one", () => {
    const touching: StatusRange[] = [
      { start: 0, end: 4, status: "materialized" },
      { start: 10, end: 14, status: "materialized" },
    ];
    expect(applySegment(touching, { start: 5, end: 9, status: "materialized" })).toEqual({
      remove: touching,
      add: [{ start: 0, end: 14, status: "materialized" }],
    });
  });

  it("splits a range around a segment of another status, and forgets on null", () => {
    const touching: StatusRange[] = [{ start: 0, end: 9, status: "materialized" }];
    expect(applySegment(touching, { start: 3, end: 5, status: "failed" })).toEqual({
      remove: touching,
      add: [
        { start: 0, end: 2, status: "materialized" },
        { start: 6, end: 9, status: "materialized" },
        { start: 3, end: 5, status: "failed" },
      ],
    });
    expect(applySegment(touching, { start: 0, end: 5, status: null })).toEqual({
      remove: touching,
      add: [{ start: 6, end: 9, status: "materialized" }],
    });
  });

  it("leaves an adjacent range of another status alone", () => {
    const touching: StatusRange[] = [{ start: 0, end: 4, status: "failed" }];
    expect(applySegment(touching, { start: 5, end: 9, status: "materialized" })).toEqual({
      remove: [],
      add: [{ start: 5, end: 9, status: "materialized" }],
    });
    expect(applySegment(touching, { start: 5, end: 9, status: null })).toEqual({ remove: [], add: [] });
  });
});

describe("toSegments", () => {
  it("is empty for no changes", () => {
    expect(toSegments(new Map())).toEqual([]);
  });

  it("sorts indices numerically and groups consecutive equal states", () => {
    // Inserted out of order, and with 10 < 9 lexically: the sort must be numeric.
    const changes = new Map<number, PartitionState | null>([
      [10, "materialized"],
      [2, "failed"],
      [9, "materialized"],
      [0, "materialized"],
      [1, "materialized"],
      [3, "failed"],
      [11, "materialized"],
      [5, null],
      [6, null],
      [8, "in_progress"],
    ]);
    expect(toSegments(changes)).toEqual([
      { start: 0, end: 1, status: "materialized" },
      { start: 2, end: 3, status: "failed" },
      { start: 5, end: 6, status: null },
      { start: 8, end: 8, status: "in_progress" },
      { start: 9, end: 11, status: "materialized" },
    ]);
  });

  it("does not join equal states across a gap", () => {
    const changes = new Map<number, PartitionState | null>([
      [0, "materialized"],
      [2, "materialized"],
      [3, null],
      [5, null],
    ]);
    expect(toSegments(changes)).toEqual([
      { start: 0, end: 0, status: "materialized" },
      { start: 2, end: 2, status: "materialized" },
      { start: 3, end: 3, status: null },
      { start: 5, end: 5, status: null },
    ]);
  });

  it("round-trips random change maps", () => {
    const rand = prng(99);
    for (let n = 0; n < 200; n++) {
      const changes = new Map<number, PartitionState | null>();
      for (let k = 0; k < randInt(rand, 40); k++)
        changes.set(randInt(rand, 100), STATUSES[randInt(rand, STATUSES.length)]!);
      const segments = toSegments(changes);
      const back = new Map<number, PartitionState | null>();
      for (const s of segments) for (let i = s.start; i <= s.end; i++) back.set(i, s.status);
      expect(back).toEqual(changes);
      for (let i = 1; i < segments.length; i++) {
        const [a, b] = [segments[i - 1]!, segments[i]!];
        expect(a.end).toBeLessThan(b.start);
        if (a.end + 1 === b.start) expect(a.status).not.toBe(b.status);
      }
    }
  });
});

describe("countRanges", () => {
  const ranges: StatusRange[] = [
    { start: 0, end: 4, status: "materialized" },
    { start: 5, end: 9, status: "failed" },
    { start: 10, end: 14, status: "in_progress" },
    { start: 20, end: 29, status: "materialized" },
  ];

  it("counts every state and the missing rest", () => {
    expect(countRanges(ranges, 40)).toEqual({ materialized: 15, failed: 5, in_progress: 5, missing: 15 });
    expect(countRanges(ranges, 30)).toEqual({ materialized: 15, failed: 5, in_progress: 5, missing: 5 });
  });

  it("clips ranges that extend past total, and ignores ranges starting at or past it", () => {
    expect(countRanges(ranges, 12)).toEqual({ materialized: 5, failed: 5, in_progress: 2, missing: 0 });
    expect(countRanges(ranges, 10)).toEqual({ materialized: 5, failed: 5, in_progress: 0, missing: 0 });
    expect(countRanges(ranges, 3)).toEqual({ materialized: 3, failed: 0, in_progress: 0, missing: 0 });
    expect(countRanges(ranges, 1)).toEqual({ materialized: 1, failed: 0, in_progress: 0, missing: 0 });
    expect(countRanges(ranges, 22)).toEqual({ materialized: 7, failed: 5, in_progress: 5, missing: 5 });
    expect(countRanges(ranges, 0)).toEqual({ materialized: 0, failed: 0, in_progress: 0, missing: 0 });
  });

  it("is all missing without ranges", () => {
    expect(countRanges([], 7)).toEqual({ materialized: 0, failed: 0, in_progress: 0, missing: 7 });
  });

  it("agrees with a per-index count for random ranges and totals", () => {
    const rand = prng(2024);
    for (let n = 0; n < 200; n++) {
      const model: (PartitionState | null)[] = new Array(SPACE).fill(null);
      let table: StatusRange[] = [];
      for (let k = 0; k < 1 + randInt(rand, 10); k++) {
        const x = randInt(rand, SPACE);
        const y = randInt(rand, SPACE);
        const seg: StatusSegment = {
          start: Math.min(x, y),
          end: Math.max(x, y),
          status: STATUSES[randInt(rand, STATUSES.length)]!,
        };
        table = applyToTable(table, seg);
        for (let i = seg.start; i <= seg.end; i++) model[i] = seg.status;
      }
      const total = randInt(rand, SPACE + 20);
      const expected = { materialized: 0, failed: 0, in_progress: 0, missing: 0 };
      for (let i = 0; i < total; i++) expected[model[i] ?? "missing"]++;
      expect(countRanges(table, total)).toEqual(expected);
    }
  });
});
