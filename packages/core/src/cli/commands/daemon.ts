import path from "node:path";
import type { Command } from "commander";
import { createDaemon, type Daemon } from "../../daemon/daemon.js";
import { CODE_GENERATION_KEY, requestReload } from "../../daemon/reload.js";
import type { Definitions } from "../../definitions/definitions.js";
import { describeError, UsageError } from "../../errors.js";
import type { BatonInstance } from "../../instance/instance.js";
import { publishSnapshot } from "../../snapshot/snapshot.js";
import { type TypeCheckResult, typeCheck, typeErrorSummary } from "../../typecheck/typecheck.js";
import { startWorkerPool } from "../../worker/worker-pool.js";
import { type CliContext, parsePositiveInt } from "../cli-context.js";
import { loadDefinitions, resolveDefinitionsPath } from "../load-definitions.js";
import { importWebserver, type WebserverModule } from "../webserver-module.js";
import { printTypeCheck, requireDefinitionsFile } from "./check.js";
import { idleExitMsOf, parseTagLimit, stopSignal } from "./worker.js";

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

/** The code generation now (read before loading the definitions, so no reload is missed). */
async function currentGeneration(instance: BatonInstance): Promise<string> {
  return (await instance.storage.getValue(CODE_GENERATION_KEY)) ?? "";
}

/** Definitions that can be swapped for a freshly imported version (a reload). */
function reloadable(ctx: CliContext, file: string, initial: Definitions) {
  let current = initial;
  return {
    get: () => current,
    /** Import the file again; a broken edit keeps the previous definitions (and says why). */
    async reload(): Promise<boolean> {
      try {
        current = await loadDefinitions(file, { fresh: true });
        return true;
      } catch (error) {
        ctx.stderr.write(`reload failed, keeping the previous definitions: ${describeError(error)}\n`);
        return false;
      }
    },
  };
}

function startDaemon(
  ctx: CliContext,
  instance: BatonInstance,
  defs: ReturnType<typeof reloadable>,
  flags: DaemonFlags,
  signal: AbortSignal,
  /** The code generation read before the definitions were loaded. */
  loadedGeneration: string,
) {
  const daemon: Daemon = createDaemon({
    instance,
    definitions: defs.get,
    log: (line) => ctx.stderr.write(`${line}\n`),
    ...(flags.intervalMs !== undefined ? { intervalMs: flags.intervalMs } : {}),
    ...(flags.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: flags.heartbeatTimeoutMs } : {}),
  });
  // Follow `baton reload` (from any machine: the generation is in the store).
  let generation = loadedGeneration;
  let polling = false;
  const poll = setInterval(() => {
    if (polling) return;
    polling = true;
    void instance.storage
      .getValue(CODE_GENERATION_KEY)
      .then(async (g) => {
        if ((g ?? "") !== generation) {
          generation = g ?? "";
          if (await defs.reload()) {
            daemon.reloaded();
            await publishSnapshot(instance.storage, defs.get()).catch(() => undefined);
            ctx.stderr.write("daemon: definitions reloaded\n");
          }
        }
      })
      .catch(() => undefined)
      .finally(() => {
        polling = false;
      });
  }, 1000);
  void publishSnapshot(instance.storage, defs.get()).catch(() => undefined);
  const done = daemon.run(signal).finally(() => clearInterval(poll));
  return {
    daemon,
    done,
    /** This process reloaded already and published `g`: do not reload again for it. */
    acknowledge: (g: string) => {
      generation = g;
    },
  };
}

/** What `baton dev` and `baton webserver` say when their port is taken. */
function portInUse(port: number, alternative = ""): UsageError {
  return new UsageError(`Port ${port} is in use: pass --port N (0 picks a free one)${alternative}.`);
}

/**
 * `baton dev`'s type checks: one tsc at a time (a newer check cancels an older one), errors on
 * stderr as `file:line:col - error TS…`, "types ok" when they are fixed. `check()` resolves to
 * undefined when a newer check superseded it, and throws when tsc could not run. In the
 * background (`background()`), a tsc that cannot run is said once and not tried again.
 */
function devTypeChecks(ctx: CliContext, file: string) {
  let current: AbortController | undefined;
  let lastOk: boolean | undefined;
  let noted = false;
  let broken = false;
  const check = async (): Promise<TypeCheckResult | undefined> => {
    current?.abort();
    const controller = new AbortController();
    current = controller;
    let result: TypeCheckResult;
    try {
      result = await typeCheck(file, { env: ctx.env, signal: controller.signal });
    } catch (error) {
      if (controller.signal.aborted) return undefined;
      throw error;
    }
    if (controller.signal.aborted) return undefined;
    if (result.note && !noted) ctx.stderr.write(`baton dev: note: ${result.note}\n`);
    noted = true;
    if (!result.ok) {
      printTypeCheck(ctx.stderr, ctx.stderr, { ...result, note: undefined }, ctx.cwd);
    } else if (lastOk !== true)
      ctx.stderr.write(`baton dev: types ok (type-checked in ${result.seconds.toFixed(1)} s)\n`);
    lastOk = result.ok;
    return result;
  };
  return {
    check,
    background() {
      if (broken) return;
      check().then(
        (result) => {
          if (result && !result.ok)
            ctx.stderr.write(
              `baton dev: ${typeErrorSummary(result)} (the code runs anyway; baton dev --typecheck runs only code that type-checks)\n`,
            );
        },
        (error) => {
          broken = true;
          ctx.stderr.write(`baton dev: not type-checking: ${describeError(error)}\n`);
        },
      );
    },
    stop() {
      current?.abort();
    },
  };
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
      const file = defsPathOf(cmd);
      const instance = await ctx.instance();
      const generation = await currentGeneration(instance);
      const defs = reloadable(ctx, file, await loadDefinitions(file));
      const stop = stopSignal(ctx, "daemon");
      const onHup = () => void requestReload(instance.storage, Date.now());
      process.on("SIGHUP", onHup);
      try {
        await startDaemon(ctx, instance, defs, flags, stop.signal, generation).done;
      } finally {
        process.off("SIGHUP", onHup);
        stop.dispose();
      }
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
      const web = await importWebserver();
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
      ctx.stderr.write(
        `baton webserver: ${server.url} (${auth.tokens.length > 0 ? `${auth.tokens.length} API token(s)` : "no auth: loopback only"}${opts.readOnly ? ", read-only" : ""}; Ctrl-C to stop)\n`,
      );
      const stop = stopSignal(ctx, "webserver");
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
        for (const t of opts.tagLimit) parseTagLimit(t); // a bad flag fails before anything starts
        // API tokens as `baton webserver` reads them (bad tokens fail before anything starts).
        const web = opts.webserver ? await importWebserver() : undefined;
        const auth = web ? authOf(web, ctx.env) : undefined;
        // Type checks: with --typecheck, before anything starts and before each reload; else in
        // the background (printed, never blocking), for TypeScript definitions.
        const types = opts.typecheck || /\.[cm]?tsx?$/.test(file) ? devTypeChecks(ctx, file) : undefined;
        if (opts.typecheck) {
          await requireDefinitionsFile(file);
          const result = (await types!.check())!;
          if (!result.ok)
            throw new UsageError(
              `${typeErrorSummary(result)}: baton dev --typecheck starts only code that type-checks (fix them, or run without --typecheck)`,
            );
        }
        const instance = await ctx.instance();
        const generation = await currentGeneration(instance);
        const defs = reloadable(ctx, file, await loadDefinitions(file));
        if (!opts.typecheck) types?.background();
        const size = opts.workers ?? 2;
        // The webserver first (a busy port fails before any process starts); it reads the
        // snapshot, so publish it now rather than when the first worker is up.
        await publishSnapshot(instance.storage, defs.get()).catch(() => undefined);
        let server: Awaited<ReturnType<WebserverModule["startWebserver"]>> | undefined;
        if (web && auth) {
          const port = opts.port ?? 3000;
          try {
            server = await web.startWebserver({
              instance,
              port,
              auth,
              ...(opts.host !== undefined ? { host: opts.host } : {}),
            });
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === "EADDRINUSE")
              throw portInUse(port, ", or --no-webserver");
            throw error;
          }
        }
        const pool = startWorkerPool({
          storage: instance.storage,
          size,
          // On a laptop, idle memory matters more than the second of start-up a burst waits for:
          // one worker is kept, the others start while it is busy (bench:rss).
          warm: 1,
          idleMs: idleExitMsOf(ctx.env) ?? null,
          script: process.argv[1]!,
          args: [
            "worker",
            "--child",
            "--defs",
            file,
            ...(opts.maxConcurrentRuns !== undefined
              ? ["--max-concurrent-runs", String(opts.maxConcurrentRuns)]
              : []),
            ...opts.tagLimit.flatMap((t) => ["--tag-limit", t]),
          ],
          env: { ...process.env, ...ctx.env },
          log: (line) => ctx.stderr.write(`${line}\n`),
        });
        const stop = stopSignal(ctx, "baton dev");
        // Forked by a launcher (`npm start`): its IPC channel closing means it is gone (even
        // SIGKILLed), so stop as on Ctrl-C rather than run on unsupervised.
        const parentGone = new AbortController();
        const supervised = opts.reportToParent === true && typeof process.send === "function";
        const onDisconnect = () => {
          if (parentGone.signal.aborted || stop.signal.aborted) return;
          ctx.stderr.write("baton dev: the launching process is gone, stopping\n");
          parentGone.abort();
        };
        if (supervised) process.on("disconnect", onDisconnect);
        const { daemon, done, acknowledge } = startDaemon(
          ctx,
          instance,
          defs,
          opts,
          AbortSignal.any([stop.signal, parentGone.signal]),
          generation,
        );
        const dir = path.dirname(file);
        let watcher: import("chokidar").FSWatcher | undefined;
        if (opts.watch) {
          const { watch } = await import("chokidar");
          const source = /\.(?:[cm]?[jt]sx?|json)$/;
          watcher = watch(dir, {
            ignoreInitial: true,
            ignored: (p: string) => /(?:^|[/\\])(?:node_modules|\.baton|\.git|dist)(?:[/\\]|$)/.test(p),
          });
          let timer: NodeJS.Timeout | undefined;
          const changed = (p: string) => {
            if (!source.test(p)) return;
            clearTimeout(timer);
            timer = setTimeout(() => {
              void (async () => {
                ctx.stderr.write(`baton dev: ${path.relative(ctx.cwd, p) || p} changed, reloading\n`);
                if (opts.typecheck) {
                  // Opted in: code with type errors is not loaded (a newer change cancels this check).
                  let result: TypeCheckResult | undefined;
                  try {
                    result = await types!.check();
                  } catch (error) {
                    ctx.stderr.write(
                      `baton dev: could not type-check, keeping the previous definitions (--typecheck): ${describeError(error)}\n`,
                    );
                    return;
                  }
                  if (!result) return;
                  if (!result.ok) {
                    ctx.stderr.write(
                      `baton dev: ${typeErrorSummary(result)}, keeping the previous definitions (--typecheck)\n`,
                    );
                    return;
                  }
                } else types?.background();
                // Validate first: broken code keeps the running daemon and workers as they are.
                if (!(await defs.reload())) return;
                daemon.reloaded();
                await publishSnapshot(instance.storage, defs.get()).catch(() => undefined);
                acknowledge(await requestReload(instance.storage, Date.now()));
                ctx.stderr.write("baton dev: reloaded (workers pick up the new code after their runs)\n");
              })();
            }, 200);
          };
          watcher.on("add", changed).on("change", changed);
          // "reloading on changes" (below) holds once chokidar has scanned the folder: an edit
          // right after the banner was missed before (at most 5 s, for a very large folder).
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 5000);
            watcher!.once("ready", () => {
              clearTimeout(timer);
              resolve();
            });
          });
        }
        if (server)
          ctx.stderr.write(
            `baton dev: webserver on ${server.url} (${auth && auth.tokens.length > 0 ? `${auth.tokens.length} API token(s)` : "no auth: loopback only"})\n`,
          );
        if (supervised && process.connected)
          process.send!({
            type: "baton-dev-ready",
            url: server?.url ?? null,
            store: instance.storage.location,
            workers: size,
          });
        ctx.stderr.write(
          `baton dev: daemon + ${size === 1 ? "1 worker" : `up to ${size} workers`} on ${instance.storage.location}` +
            `${opts.watch ? `, reloading on changes in ${dir}` : ""} (Ctrl-C to stop)\n`,
        );
        try {
          await done;
        } finally {
          types?.stop();
          await watcher?.close();
          await server?.close();
          await pool.stop();
          stop.dispose();
          if (supervised) {
            process.off("disconnect", onDisconnect);
            if (process.connected) process.disconnect();
          }
        }
      },
    );
}
