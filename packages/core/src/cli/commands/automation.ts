import type { Command } from "commander";
import { nextCronTick } from "../../daemon/cron-ticks.js";
import { schedulePartitionKeys, scheduleStatus } from "../../daemon/schedules.js";
import { evaluateSensor } from "../../daemon/sensors.js";
import { type Definitions, suggest } from "../../definitions/definitions.js";
import type { ScheduleDefinition } from "../../definitions/schedule.js";
import type { SensorDefinition } from "../../definitions/sensor.js";
import { describeError, UsageError } from "../../errors.js";
import type { InstigatorKind, TickRecord } from "../../storage/storage.js";
import { type CliContext, parsePositiveInt } from "../cli-context.js";
import { describeTime, table } from "../format.js";
import { loadDefinitions, resolveDefinitionsPath } from "../load-definitions.js";

const defsOf = (ctx: CliContext, cmd: Command) =>
  loadDefinitions(
    resolveDefinitionsPath((cmd.optsWithGlobals() as { defs?: string }).defs, ctx.cwd, ctx.env),
  );

function find<T extends { name: string }>(kind: string, list: readonly T[], name: string): T {
  const found = list.find((x) => x.name === name);
  if (found) return found;
  const names = list.map((x) => x.name);
  throw new UsageError(
    `No ${kind} named "${name}"${suggest(name, names)}. ${names.length ? `${kind[0]!.toUpperCase()}${kind.slice(1)}s: ${names.join(", ")}` : `The definitions have no ${kind}s`}.`,
  );
}

const targetOf = (definitions: Definitions, t: { job?: string; selection?: string }) =>
  t.job !== undefined ? `job ${t.job}` : `${definitions.selectionOf(t)}`;

function printTicks(ctx: CliContext, ticks: readonly TickRecord[], json: boolean) {
  if (json) return ctx.printJson(ticks);
  if (ticks.length === 0) return ctx.print("no ticks yet");
  ctx.print(
    table(
      ["TIME", "STATUS", "RUNS", "DETAIL"],
      ticks.map((t) => [
        new Date(t.timestamp).toISOString(),
        t.status,
        t.runIds.join(", ") || "-",
        (t.error ?? t.skipReason ?? "").split("\n")[0]!.slice(0, 120),
      ]),
    ),
  );
}

function registerStateCommands<T extends ScheduleDefinition | SensorDefinition>(
  group: Command,
  ctx: CliContext,
  kind: InstigatorKind,
  listOf: (d: Definitions) => readonly T[],
) {
  for (const [verb, status] of [
    ["start", "RUNNING"],
    ["stop", "STOPPED"],
  ] as const) {
    group
      .command(verb)
      .description(`${verb} a ${kind} (stored; the daemon follows within a second)`)
      .argument("<name>")
      .action(async (name: string, _opts: unknown, cmd: Command) => {
        const definitions = await defsOf(ctx, cmd);
        find(kind, listOf(definitions), name);
        const instance = await ctx.instance();
        const now = Date.now();
        // A schedule (re)started counts ticks from now: no replay of the stopped period.
        await instance.storage.setInstigatorState(
          name,
          kind,
          { status, ...(kind === "schedule" && status === "RUNNING" ? { cursor: String(now) } : {}) },
          now,
        );
        ctx.print(`${kind} ${name} ${status === "RUNNING" ? "started" : "stopped"}`);
      });
  }
  group
    .command("ticks")
    .description(`recent evaluations of a ${kind}, newest first`)
    .argument("<name>")
    .option("--limit <n>", "how many (default 20)", parsePositiveInt("--limit"))
    .option("--json", "print JSON")
    .action(async (name: string, opts: { limit?: number; json?: boolean }, cmd: Command) => {
      const definitions = await defsOf(ctx, cmd);
      find(kind, listOf(definitions), name);
      const instance = await ctx.instance();
      printTicks(
        ctx,
        await instance.storage.listTicks(name, { limit: opts.limit ?? 20 }),
        Boolean(opts.json),
      );
    });
}

export function registerAutomationCommands(program: Command, ctx: CliContext) {
  const schedule = program.command("schedule").description("list, start, stop and inspect schedules");
  schedule
    .command("list")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const definitions = await defsOf(ctx, cmd);
      const instance = await ctx.instance();
      const states = new Map((await instance.storage.listInstigatorStates()).map((s) => [s.name, s]));
      const now = Date.now();
      const rows = definitions.schedules.map((s) => {
        const state = states.get(s.name);
        return {
          name: s.name,
          cron: s.cron,
          timezone: s.timezone,
          target: targetOf(definitions, s.target),
          status: scheduleStatus(s, state?.status),
          nextTick: new Date(nextCronTick(s.cron, s.timezone, now)).toISOString(),
          lastTickAt: state?.lastTickAt ?? null,
        };
      });
      if (opts.json) return ctx.printJson(rows);
      if (rows.length === 0) return ctx.print("no schedules in the definitions");
      ctx.print(
        table(
          ["NAME", "STATUS", "CRON", "TIMEZONE", "NEXT TICK", "TARGET"],
          rows.map((r) => [r.name, r.status, r.cron, r.timezone, r.nextTick, r.target]),
        ),
      );
    });
  registerStateCommands(schedule, ctx, "schedule", (d) => d.schedules);
  schedule
    .command("preview")
    .description("the next ticks and the partitions they would request (nothing is launched)")
    .argument("<name>")
    .option("--ticks <n>", "how many ticks (default 5)", parsePositiveInt("--ticks"))
    .option("--json", "print JSON")
    .action(async (name: string, opts: { ticks?: number; json?: boolean }, cmd: Command) => {
      const definitions = await defsOf(ctx, cmd);
      const s = find("schedule", definitions.schedules, name);
      const instance = await ctx.instance();
      const out: { tick: string; partitionKeys: readonly string[] | null; error?: string }[] = [];
      let at = Date.now();
      for (let i = 0; i < (opts.ticks ?? 5); i++) {
        at = nextCronTick(s.cron, s.timezone, at);
        try {
          const keys = await schedulePartitionKeys(s, definitions, instance, at);
          out.push({ tick: new Date(at).toISOString(), partitionKeys: keys ?? null });
        } catch (error) {
          out.push({ tick: new Date(at).toISOString(), partitionKeys: null, error: describeError(error) });
        }
      }
      if (opts.json) return ctx.printJson(out);
      ctx.print(`schedule ${s.name}: ${s.cron} (${s.timezone}) → ${targetOf(definitions, s.target)}`);
      for (const t of out)
        ctx.print(
          `  ${t.tick}  ${t.error ? `error: ${t.error}` : t.partitionKeys ? t.partitionKeys.join(", ") : "(unpartitioned)"}`,
        );
    });

  const sensor = program.command("sensor").description("list, start, stop, preview and inspect sensors");
  sensor
    .command("list")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const definitions = await defsOf(ctx, cmd);
      const instance = await ctx.instance();
      const states = new Map((await instance.storage.listInstigatorStates()).map((s) => [s.name, s]));
      const rows = definitions.sensors.map((s) => {
        const state = states.get(s.name);
        return {
          name: s.name,
          type: s.type,
          status: state?.status ?? s.defaultStatus,
          minimumIntervalSeconds: s.minimumIntervalSeconds,
          lastTickAt: state?.lastTickAt ?? null,
          cursor: state?.cursor ?? null,
          description: s.description ?? "",
        };
      });
      if (opts.json) return ctx.printJson(rows);
      if (rows.length === 0) return ctx.print("no sensors in the definitions");
      ctx.print(
        table(
          ["NAME", "TYPE", "STATUS", "INTERVAL", "LAST TICK", "DESCRIPTION"],
          rows.map((r) => [
            r.name,
            r.type,
            r.status,
            `${r.minimumIntervalSeconds}s`,
            describeTime(r.lastTickAt),
            r.description,
          ]),
        ),
      );
    });
  registerStateCommands(sensor, ctx, "sensor", (d) => d.sensors);
  sensor
    .command("preview")
    .description("evaluate once and show what it would launch (nothing launched, cursor unchanged)")
    .argument("<name>")
    .option("--cursor <cursor>", "evaluate from this cursor instead of the stored one")
    .option("--json", "print JSON")
    .action(async (name: string, opts: { cursor?: string; json?: boolean }, cmd: Command) => {
      const definitions = await defsOf(ctx, cmd);
      const s = find("sensor", definitions.sensors, name);
      const instance = await ctx.instance();
      const target =
        opts.cursor === undefined
          ? s
          : {
              ...s,
              evaluate: (c: Parameters<SensorDefinition["evaluate"]>[0]) =>
                s.evaluate({ ...c, cursor: opts.cursor! }),
            };
      const outcome = await evaluateSensor(target, {
        instance,
        definitions,
        now: Date.now(),
        launch: false,
        log: (line) => ctx.stderr.write(`${line}\n`),
      });
      const requests = outcome.result.runRequests ?? [];
      if (opts.json)
        return ctx.printJson({
          runRequests: requests,
          skipReason: outcome.result.skipReason ?? null,
          cursor: outcome.result.cursor ?? null,
          error: outcome.error,
        });
      if (outcome.error) {
        ctx.print(`evaluation failed: ${outcome.error}`);
        ctx.exitCode = 1;
        return;
      }
      ctx.print(
        `${requests.length} run request(s)${outcome.result.skipReason ? ` (${outcome.result.skipReason})` : ""}`,
      );
      for (const r of requests)
        ctx.print(
          `  ${r.runKey ?? "(no run key)"}  ${r.selection ?? r.job ?? targetOf(definitions, s.target)}${
            r.partitionKey
              ? ` [${r.partitionKey}]`
              : r.partitionKeys
                ? ` [${r.partitionKeys.join(", ")}]`
                : ""
          }`,
        );
      if (outcome.result.cursor !== undefined) ctx.print(`cursor → ${outcome.result.cursor}`);
    });

  program
    .command("automation")
    .description("declarative automation decisions (eager/onCron), newest first")
    .argument("[asset]", "only this asset")
    .option("--limit <n>", "how many (default 20)", parsePositiveInt("--limit"))
    .option("--json", "print JSON")
    .action(async (asset: string | undefined, opts: { limit?: number; json?: boolean }, cmd: Command) => {
      const instance = await ctx.instance();
      const rows = await instance.storage.listAutomationEvaluations({
        ...(asset ? { assetKey: asset } : {}),
        limit: opts.limit ?? 20,
      });
      if (rows.length === 0 && asset) {
        // No decisions for a name: a typo, or an asset without any yet? The definitions say which
        // (when they load; the decisions themselves come from the store alone).
        const globals = cmd.optsWithGlobals() as { defs?: string };
        const definitions = await loadDefinitions(
          resolveDefinitionsPath(globals.defs, ctx.cwd, ctx.env),
        ).catch(() => undefined);
        if (definitions && !definitions.graph.keys.includes(asset))
          throw new UsageError(`unknown asset "${asset}"${suggest(asset, definitions.graph.keys)}`);
      }
      if (opts.json) return ctx.printJson(rows);
      if (rows.length === 0) return ctx.print(`no automation decisions yet${asset ? ` for ${asset}` : ""}`);
      ctx.print(
        table(
          ["TIME", "ASSET", "CONDITION", "DECISION", "REASON"],
          rows.map((r) => [
            new Date(r.timestamp).toISOString(),
            `${r.assetKey}${r.partitionKeys ? ` [${r.partitionKeys.join(", ")}]` : ""}`,
            r.condition,
            r.launched ? `launched ${r.runId}` : "skipped",
            r.reason.slice(0, 120),
          ]),
        ),
      );
    });
}
