import type { Command } from "commander";
import { requestReload } from "../../daemon/reload.js";
import { UsageError } from "../../errors.js";
import { runDaemonHost } from "../../launcher/daemon-host.js";
import { runDevHost } from "../../launcher/dev-host.js";
import { stopSignal } from "../../launcher/signals.js";
import { readRetentionConfig } from "../../retention/retention-config.js";
import { type CliContext, parsePositiveInt } from "../cli-context.js";
import { resolveDefinitionsPath } from "../load-definitions.js";
import { importWebserver, type WebserverModule } from "../webserver-module.js";
import { printTypeCheck, requireDefinitionsFile } from "./check.js";
import { parseTagLimit } from "./worker.js";

const collectFlag = (value: string, previous: string[]) => [...previous, value];

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`--port must be a whole number from 0 to 65535 (got "${value}")`);
  return n;
}

interface DaemonFlags {
  heartbeatTimeoutMs?: number;
  intervalMs?: number;
}

/** What `baton dev` and `baton webserver` say when their port is taken. */
function portInUse(port: number, alternative = ""): UsageError {
  return new UsageError(`Port ${port} is in use: pass --port N (0 picks a free one)${alternative}.`);
}

/** API tokens from BATON_API_TOKENS / BATON_API_TOKENS_FILE; a malformed entry is a usage error. */
function authOf(web: WebserverModule, env: CliContext["env"]) {
  try {
    return web.authFromEnv(env);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function registerDaemonCommands(program: Command, ctx: CliContext) {
  const defsPathOf = (cmd: Command) =>
    resolveDefinitionsPath((cmd.optsWithGlobals() as { defs?: string }).defs, ctx.cwd, ctx.env);
  const log = (line: string) => ctx.stderr.write(`${line}\n`);

  program
    .command("daemon")
    .description(
      "background services: schedules, sensors, automation, daemon backfills, run monitoring and retries; one leader per store",
    )
    .option(
      "--heartbeat-timeout-ms <ms>",
      "fail runs whose worker is silent this long (default 3000)",
      parsePositiveInt("--heartbeat-timeout-ms"),
    )
    .option("--interval-ms <ms>", "how often each loop runs (default 500)", parsePositiveInt("--interval-ms"))
    .action(async (flags: DaemonFlags, cmd: Command) => {
      // Checked before the store opens: a bad retention block fails at start, naming the field.
      const retention = readRetentionConfig(ctx.cwd);
      await runDaemonHost({
        instance: await ctx.instance(),
        definitionsPath: defsPathOf(cmd),
        log,
        ...(flags.intervalMs !== undefined ? { intervalMs: flags.intervalMs } : {}),
        ...(flags.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: flags.heartbeatTimeoutMs } : {}),
        ...(retention ? { retention } : {}),
      });
    });

  program
    .command("reload")
    .description("make workers and the daemon load the definitions again (runs in flight finish first)")
    .action(async () => {
      const instance = await ctx.instance();
      const generation = await requestReload(instance.storage, Date.now());
      ctx.print(`reload requested (generation ${generation})`);
    });

  program
    .command("webserver")
    .description("the JSON API and live events (it reads what workers publish; it never loads your code)")
    .option("--host <host>", "address to listen on (default 127.0.0.1; others need BATON_API_TOKENS)")
    .option("--port <port>", "port (default 3000)", parsePort)
    .option("--read-only", "refuse every mutation")
    .action(async (opts: { host?: string; port?: number; readOnly?: boolean }) => {
      const web = await importWebserver({ cwd: ctx.cwd });
      const auth = authOf(web, ctx.env);
      const instance = await ctx.instance();
      const port = opts.port ?? 3000;
      let server: Awaited<ReturnType<WebserverModule["startWebserver"]>>;
      try {
        server = await web.startWebserver({
          instance,
          auth,
          port,
          ...(opts.host !== undefined ? { host: opts.host } : {}),
          ...(opts.readOnly ? { readOnly: true } : {}),
        });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") throw portInUse(port);
        throw error;
      }
      // Handlers first: a supervisor that stops the server as soon as it prints its URL (a test,
      // a load balancer's health probe failing) gets a clean close, not the default signal death.
      const stop = stopSignal("webserver", log);
      ctx.stderr.write(
        `baton webserver: ${server.url} (${auth.tokens.length > 0 ? `${auth.tokens.length} API token(s)` : "no auth: loopback only"}${opts.readOnly ? ", read-only" : ""}; Ctrl-C to stop)\n`,
      );
      await new Promise<void>((resolve) =>
        stop.signal.addEventListener("abort", () => resolve(), { once: true }),
      );
      await server.close();
      stop.dispose();
    });

  program
    .command("dev")
    .description("daemon + run workers on one machine, reloading when the definitions change")
    .option(
      "--workers <n>",
      "worker processes at most (default 2; one is kept while idle, the others start when it is busy)",
      parsePositiveInt("--workers"),
    )
    .option(
      "--max-concurrent-runs <n>",
      "runs in progress across all workers",
      parsePositiveInt("--max-concurrent-runs"),
    )
    .option("--tag-limit <KEY=VALUE:N>", "at most N runs at once with this tag (repeatable)", collectFlag, [])
    .option("--no-watch", "do not reload on file changes")
    .option(
      "--typecheck",
      "start and reload only code that type-checks (without it, type errors are printed but the code still runs)",
    )
    .option("--port <port>", "webserver port (default 3000; 0 picks one)", parsePort)
    .option("--host <host>", "webserver address (default 127.0.0.1; others need BATON_API_TOKENS)")
    .option("--no-webserver", "do not start the webserver")
    .option(
      "--report-to-parent",
      "for launchers that fork baton dev: send the webserver URL over IPC, stop when the parent goes away",
    )
    .option("--interval-ms <ms>", "daemon loop period (default 500)", parsePositiveInt("--interval-ms"))
    .option(
      "--heartbeat-timeout-ms <ms>",
      "fail runs whose worker is silent this long (default 3000)",
      parsePositiveInt("--heartbeat-timeout-ms"),
    )
    .action(
      async (
        opts: DaemonFlags & {
          workers?: number;
          watch: boolean;
          maxConcurrentRuns?: number;
          tagLimit: string[];
          port?: number;
          host?: string;
          webserver: boolean;
          reportToParent?: boolean;
          typecheck?: boolean;
        },
        cmd: Command,
      ) => {
        const file = defsPathOf(cmd);
        const tagLimits = opts.tagLimit.map(parseTagLimit); // a bad flag fails before anything starts
        if (!opts.webserver && (opts.port !== undefined || opts.host !== undefined))
          throw new UsageError(
            `${opts.port !== undefined ? "--port" : "--host"} is for the webserver, which --no-webserver does not start: drop one of them`,
          );
        // API tokens as `baton webserver` reads them (bad tokens fail before anything starts).
        const web = opts.webserver
          ? await importWebserver({ definitionsFile: file, cwd: ctx.cwd })
          : undefined;
        const auth = web ? authOf(web, ctx.env) : undefined;
        if (opts.typecheck) await requireDefinitionsFile(file);
        const retention = readRetentionConfig(ctx.cwd);
        await runDevHost({
          instance: () => ctx.instance(),
          definitionsPath: file,
          cwd: ctx.cwd,
          env: ctx.env,
          log,
          watch: opts.watch,
          typecheck: opts.typecheck === true,
          printTypeErrors: (result) =>
            printTypeCheck(ctx.stderr, ctx.stderr, { ...result, note: undefined }, ctx.cwd),
          ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
          ...(opts.maxConcurrentRuns !== undefined ? { maxConcurrentRuns: opts.maxConcurrentRuns } : {}),
          tagLimits,
          ...(retention ? { retention } : {}),
          ...(opts.reportToParent ? { reportToParent: true } : {}),
          ...(opts.intervalMs !== undefined ? { intervalMs: opts.intervalMs } : {}),
          ...(opts.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: opts.heartbeatTimeoutMs } : {}),
          ...(web && auth
            ? {
                webserver: async () => {
                  const port = opts.port ?? 3000;
                  try {
                    const server = await web.startWebserver({
                      instance: await ctx.instance(),
                      port,
                      auth,
                      ...(opts.host !== undefined ? { host: opts.host } : {}),
                    });
                    const note =
                      auth.tokens.length > 0
                        ? `${auth.tokens.length} API token(s)`
                        : "no auth: loopback only";
                    return { url: server.url, note, close: () => server.close() };
                  } catch (error) {
                    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE")
                      throw portInUse(port, ", or --no-webserver");
                    throw error;
                  }
                },
              }
            : {}),
        });
      },
    );
}
