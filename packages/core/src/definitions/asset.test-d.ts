import { describe, expectTypeOf, test } from "vitest";
import { z } from "zod";
import {
  type AssetContext,
  type AssetDefinition,
  type AssetRef,
  asset,
  assetCheck,
  type CheckResult,
  graphAsset,
  input,
  multiAsset,
} from "../index.js";

interface Trip {
  readonly fare: number;
  readonly miles: number;
}

describe("ins are typed from the upstream body's return type", () => {
  test("Promise<{ fare: number }[]> upstream gives { fare: number }[] downstream", () => {
    const trips = asset({ key: "taxi/trips" }, async () => [{ fare: 12.5 }]);
    expectTypeOf(trips).toEqualTypeOf<AssetDefinition<{ fare: number }[]>>();
    const revenue = asset({ key: "taxi/revenue", ins: { trips } }, async (_ctx, inputs) => {
      expectTypeOf(inputs.trips).toEqualTypeOf<{ fare: number }[]>();
      return inputs.trips.reduce((sum, t) => sum + t.fare, 0);
    });
    expectTypeOf(revenue).toEqualTypeOf<AssetDefinition<number>>();
  });

  test("a synchronous body and destructured inputs", () => {
    const count = asset({ key: "count" }, () => 3);
    const label = asset({ key: "label" }, () => "x" as const);
    asset({ key: "both", ins: { count, label } }, (_ctx, { count, label }) => {
      expectTypeOf(count).toEqualTypeOf<number>();
      expectTypeOf(label).toEqualTypeOf<"x">();
    });
  });

  test("an explicitly annotated body return type flows through", () => {
    const trips = asset({ key: "taxi/trips" }, async (): Promise<Trip[]> => []);
    asset({ key: "miles", ins: { trips } }, (_ctx, { trips }) => {
      expectTypeOf(trips).toEqualTypeOf<Trip[]>();
    });
  });

  test("the context is an AssetContext without config or resources by default", () => {
    asset({ key: "plain" }, (ctx) => {
      expectTypeOf(ctx).toEqualTypeOf<AssetContext<undefined, never>>();
      expectTypeOf(ctx.assetKey).toEqualTypeOf<string>();
      expectTypeOf(ctx.config).toEqualTypeOf<undefined>();
    });
  });
});

describe("envelopes: { value?, metadata? }", () => {
  test("{ value: 42, metadata } stores number", () => {
    const counted = asset({ key: "counted" }, async () => ({ value: 42, metadata: { rows: 1 } }));
    expectTypeOf(counted).toEqualTypeOf<AssetDefinition<number>>();
    asset({ key: "d", ins: { counted } }, (_ctx, { counted }) => {
      expectTypeOf(counted).toEqualTypeOf<number>();
    });
  });

  test("{ metadata } only stores undefined", () => {
    const onlyMeta = asset({ key: "only_meta" }, async () => ({ metadata: { rows: 1 } }));
    asset({ key: "d", ins: { onlyMeta } }, (_ctx, { onlyMeta }) => {
      expectTypeOf(onlyMeta).toEqualTypeOf<undefined>();
    });
  });

  test("{ value } only stores the value", () => {
    const onlyValue = asset({ key: "only_value" }, () => ({ value: "s" }));
    asset({ key: "d", ins: { onlyValue } }, (_ctx, { onlyValue }) => {
      expectTypeOf(onlyValue).toEqualTypeOf<string>();
    });
  });

  test("{ value: 1, other: 2 } is not an envelope: the object itself is stored", () => {
    const notEnvelope = asset({ key: "not_envelope" }, async () => ({ value: 1, other: 2 }));
    asset({ key: "d", ins: { notEnvelope } }, (_ctx, { notEnvelope }) => {
      expectTypeOf(notEnvelope).toEqualTypeOf<{ value: number; other: number }>();
    });
  });

  test("arrays and primitives are stored as they are", () => {
    const arr = asset({ key: "arr" }, () => [{ value: 1 }]);
    const str = asset({ key: "str" }, async () => "hello");
    asset({ key: "d", ins: { arr, str } }, (_ctx, { arr, str }) => {
      expectTypeOf(arr).toEqualTypeOf<{ value: number }[]>();
      expectTypeOf(str).toEqualTypeOf<string>();
    });
  });
});

describe("wrong uses do not compile", () => {
  const numbers = asset({ key: "numbers" }, () => 42);

  test("a number input assigned to a string", () => {
    asset({ key: "d", ins: { n: numbers } }, (_ctx, inputs) => {
      // @ts-expect-error n is a number
      const s: string = inputs.n;
      return s;
    });
  });

  test("an input name not declared in ins", () => {
    asset({ key: "d", ins: { n: numbers } }, (_ctx, inputs) => {
      expectTypeOf(inputs).toEqualTypeOf<{ readonly n: number }>();
      // @ts-expect-error "nope" is not in ins
      return inputs.nope;
    });
  });

  test("no inputs at all without ins", () => {
    asset({ key: "d" }, (_ctx, inputs) => {
      // @ts-expect-error no ins declared
      return inputs.numbers;
    });
  });

  test("ctx.config.n when there is no config schema", () => {
    asset({ key: "d" }, (ctx) => {
      // @ts-expect-error config is undefined without a schema
      return ctx.config.n;
    });
  });

  test("a value that is not an asset in ins", () => {
    // @ts-expect-error 42 is not an asset ref
    asset({ key: "d", ins: { n: 42 } }, () => 1);
    // @ts-expect-error a key string is not an asset ref (use input<T>("key"))
    asset({ key: "d", ins: { n: "numbers" } }, () => 1);
    // @ts-expect-error an object with a key is not an asset ref either
    asset({ key: "d", ins: { n: { key: "numbers" } } }, () => 1);
  });
});

describe("config", () => {
  test("ctx.config is the schema's output type", () => {
    asset({ key: "cfg", config: z.object({ n: z.number() }) }, (ctx) => {
      expectTypeOf(ctx.config).toEqualTypeOf<{ n: number }>();
      return ctx.config.n * 2;
    });
  });

  test("defaults and transforms give the parsed (output) type", () => {
    const schema = z.object({
      limit: z.number().default(10),
      since: z.string().transform((s) => new Date(s)),
    });
    asset({ key: "cfg2", config: schema }, (ctx) => {
      expectTypeOf(ctx.config).toEqualTypeOf<{ limit: number; since: Date }>();
      // @ts-expect-error not in the schema
      return ctx.config.other;
    });
  });
});

describe("input<T>(key) and multi-asset outs", () => {
  test("input<Trip[]>('taxi/trips') gives a typed input", () => {
    const ref = input<Trip[]>("taxi/trips");
    expectTypeOf(ref).toEqualTypeOf<AssetRef<Trip[]>>();
    expectTypeOf(input<Trip[]>(["taxi", "trips"])).toEqualTypeOf<AssetRef<Trip[]>>();
    asset({ key: "fares", ins: { trips: input<Trip[]>("taxi/trips") } }, (_ctx, { trips }) => {
      expectTypeOf(trips).toEqualTypeOf<Trip[]>();
      return trips.map((t) => t.fare);
    });
  });

  test("multi.outs.x carries the x output's value type into downstream ins", () => {
    const multi = multiAsset(
      { name: "split", outs: { x: { key: "split/x" }, y: { key: "split/y" } } },
      async (ctx) => {
        expectTypeOf(ctx.selectedOutputs).toEqualTypeOf<ReadonlySet<"x" | "y">>();
        return { x: [1, 2, 3], y: { value: "label", metadata: { n: 1 } } };
      },
    );
    expectTypeOf(multi.outs.x).toEqualTypeOf<AssetRef<number[]>>();
    expectTypeOf(multi.outs.y).toEqualTypeOf<AssetRef<string>>();
    // @ts-expect-error no output "z"
    multi.outs.z;
    asset({ key: "down", ins: { x: multi.outs.x, y: multi.outs.y } }, (_ctx, { x, y }) => {
      expectTypeOf(x).toEqualTypeOf<number[]>();
      expectTypeOf(y).toEqualTypeOf<string>();
      // @ts-expect-error x is number[], not string
      const s: string = x;
      return s;
    });
  });

  test("multi-asset ins and config are typed like an asset's", () => {
    const trips = asset({ key: "taxi/trips" }, (): Trip[] => []);
    multiAsset(
      {
        name: "stats",
        ins: { trips },
        config: z.object({ round: z.boolean() }),
        outs: { total: { key: "stats/total" } },
      },
      (ctx, { trips }) => {
        expectTypeOf(trips).toEqualTypeOf<Trip[]>();
        expectTypeOf(ctx.config).toEqualTypeOf<{ round: boolean }>();
        return { total: trips.length };
      },
    );
  });
});

describe("assetCheck", () => {
  const trips = asset({ key: "taxi/trips" }, async (): Promise<Trip[]> => []);

  test("value is typed from the asset object", () => {
    assetCheck({ asset: trips, name: "x" }, (_ctx, value) => {
      expectTypeOf(value).toEqualTypeOf<Trip[]>();
      return { passed: value.length > 0 };
    });
  });

  test("value is typed from an input<T>() ref or a multi-asset out", () => {
    assetCheck({ asset: input<Trip[]>("taxi/trips"), name: "x" }, (_ctx, value) => {
      expectTypeOf(value).toEqualTypeOf<Trip[]>();
      return { passed: true };
    });
    const m = multiAsset({ name: "m", outs: { a: { key: "m/a" } } }, () => ({ a: 1 }));
    assetCheck({ asset: m.outs.a, name: "x" }, (_ctx, value) => {
      expectTypeOf(value).toEqualTypeOf<number>();
      return { passed: value > 0 };
    });
  });

  test("value is unknown with a string key or segments", () => {
    assetCheck({ asset: "taxi/trips", name: "x" }, (_ctx, value) => {
      expectTypeOf(value).toEqualTypeOf<unknown>();
      return { passed: true };
    });
    assetCheck({ asset: ["taxi", "trips"], name: "x" }, (_ctx, value) => {
      expectTypeOf(value).toEqualTypeOf<unknown>();
      return { passed: true };
    });
  });

  test("check context and result", () => {
    assetCheck(
      { asset: trips, name: "x", resources: ["warehouse"], config: z.object({ min: z.number() }) },
      async (ctx, value) => {
        expectTypeOf(ctx.assetKey).toEqualTypeOf<string>();
        expectTypeOf(ctx.checkName).toEqualTypeOf<string>();
        expectTypeOf(ctx.config).toEqualTypeOf<{ min: number }>();
        expectTypeOf(ctx.resources.warehouse).toEqualTypeOf<unknown>();
        // @ts-expect-error not a declared resource
        ctx.resources.other;
        const result: CheckResult = { passed: value.length >= ctx.config.min, severity: "WARN" };
        return result;
      },
    );
    // @ts-expect-error a check must return { passed }
    assetCheck({ asset: trips, name: "x" }, () => true);
  });
});

describe("graphAsset", () => {
  test("g.op accepts only declared op names and returns the op fn's type", () => {
    const g = graphAsset({ key: "g", ops: ["download", "parse"] }, async (g) => {
      const raw = await g.op("download", () => "text");
      expectTypeOf(raw).toEqualTypeOf<string>();
      const parsed = await g.op("parse", async (opCtx) => {
        expectTypeOf(opCtx.opName).toEqualTypeOf<string>();
        return raw.length;
      });
      expectTypeOf(parsed).toEqualTypeOf<number>();
      // @ts-expect-error "publish" is not declared in ops
      await g.op("publish", () => 1);
      return { parsed };
    });
    expectTypeOf(g).toEqualTypeOf<AssetDefinition<{ parsed: number }>>();
    asset({ key: "after", ins: { g } }, (_ctx, { g }) => {
      expectTypeOf(g).toEqualTypeOf<{ parsed: number }>();
    });
  });

  test("graph assets take ins and config like assets", () => {
    const trips = asset({ key: "taxi/trips" }, (): Trip[] => []);
    graphAsset(
      { key: "g2", ops: ["sum"], ins: { trips }, config: z.object({ scale: z.number() }) },
      async (g, { trips }) => {
        expectTypeOf(trips).toEqualTypeOf<Trip[]>();
        expectTypeOf(g.config).toEqualTypeOf<{ scale: number }>();
        return g.op("sum", (opCtx) => {
          expectTypeOf(opCtx.config).toEqualTypeOf<{ scale: number }>();
          return trips.length * opCtx.config.scale;
        });
      },
    );
  });
});

describe("resources", () => {
  test("declared resources exist on ctx.resources (unknown unless augmented), others do not", () => {
    asset({ key: "r", resources: ["warehouse"] }, (ctx) => {
      expectTypeOf(ctx.resources.warehouse).toEqualTypeOf<unknown>();
      expectTypeOf(ctx.resources).toEqualTypeOf<{ readonly warehouse: unknown }>();
      // @ts-expect-error "other" is not declared in resources
      return ctx.resources.other;
    });
  });

  test("without resources, ctx.resources has nothing", () => {
    asset({ key: "r" }, (ctx) => {
      // @ts-expect-error no resources declared
      return ctx.resources.warehouse;
    });
  });

  test("several resources on an asset, a multi-asset and a graph op", () => {
    asset({ key: "r2", resources: ["warehouse", "s3"] }, (ctx) => {
      expectTypeOf(ctx.resources).toEqualTypeOf<{ readonly warehouse: unknown; readonly s3: unknown }>();
    });
    multiAsset({ name: "m", resources: ["db"], outs: { a: { key: "m/a" } } }, (ctx) => {
      expectTypeOf(ctx.resources.db).toEqualTypeOf<unknown>();
      // @ts-expect-error not declared
      ctx.resources.warehouse;
      return {};
    });
    graphAsset({ key: "g", ops: ["o"], resources: ["db"] }, (g) =>
      g.op("o", (opCtx) => {
        expectTypeOf(opCtx.resources.db).toEqualTypeOf<unknown>();
        // @ts-expect-error not declared
        return opCtx.resources.warehouse;
      }),
    );
  });
});
