/**
 * Pipes: an asset body that runs an external process (python3, bash, Rscript, any executable).
 *
 * The child gets its context as JSON in BATON_PIPES_CONTEXT and reports back with one JSON object
 * per line on file descriptor 3 (BATON_PIPES_FD=3), or on stdout prefixed with `::baton::`:
 *   {"type":"log","level":"info","message":"…"}
 *   {"type":"metadata","metadata":{"rows":10,"note":"text","stats":{…}}}
 *   {"type":"check","check":"no_nulls","passed":true,"metadata":{…}}
 *   {"type":"materialize","metadata":{…},"dataVersion":"…","value":…}
 * Other stdout/stderr lines go to the step's log as they arrive. A non-zero exit fails the step
 * with the exit code and the tail of stderr; cancellation kills the whole process group.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { Logger, LogLevel } from "../definitions/context.js";
import type { MetadataInput, MetadataInputMap } from "../definitions/metadata.js";
import type { TimeWindow } from "../definitions/partitions/partitions.js";
import { RunCanceledError } from "../execution/step-runner.js";
import { pipesCheckMetadataKey } from "./pipes-check.js";

/** The prefix of a protocol line written on stdout (when fd 3 is not used). */
export const PIPES_STDOUT_PREFIX = "::baton::";

/** The parts of an asset (or op) context that `runPipes` reads. */
export interface PipesContextSource {
  readonly runId: string;
  readonly stepKey: string;
  readonly log: Logger;
  readonly config: unknown;
  readonly signal: AbortSignal;
  readonly attempt: number;
  readonly assetKey?: string;
  readonly partitionKey?: string | undefined;
  readonly partitionKeys?: readonly string[];
  readonly partitionTimeWindow?: TimeWindow | undefined;
  addMetadata?(metadata: MetadataInputMap): void;
}

export interface PipesOptions {
  /** The executable (looked up on PATH), e.g. "python3". */
  readonly command: string;
  readonly args?: readonly string[];
  readonly cwd?: string;
  /** Extra environment on top of this process's (an `undefined` value removes a variable). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Check names passed to the child in its context (informational). */
  readonly checks?: readonly string[];
  /** Time between SIGTERM and SIGKILL of the process group on cancel (default 3000 ms). */
  readonly killGraceMs?: number;
  /** Lines of stderr quoted in the error of a failed process (default 20). */
  readonly stderrTailLines?: number;
}

/** The context the child reads from BATON_PIPES_CONTEXT. */
export interface PipesContextPayload {
  readonly protocolVersion: 1;
  readonly assetKey: string | null;
  readonly stepKey: string;
  readonly runId: string;
  readonly partitionKey: string | null;
  readonly partitionKeys: readonly string[];
  readonly partitionTimeWindow: { readonly start: string; readonly end: string } | null;
  readonly config: unknown;
  readonly attempt: number;
  readonly checks: readonly string[];
}

export interface PipesCheckReport {
  readonly check: string;
  readonly passed: boolean;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** What `runPipes` resolves to: an asset-body result envelope (`{ value, metadata, dataVersion? }`). */
export interface PipesResult {
  readonly value: unknown;
  readonly metadata: Record<string, MetadataInput>;
  readonly dataVersion?: string;
}

/** The child exited non-zero or was killed by a signal. */
export class PipesProcessError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly exitSignal: NodeJS.Signals | null,
    readonly stderrTail: readonly string[],
  ) {
    const how = exitCode !== null ? `exited with code ${exitCode}` : `was killed by ${exitSignal}`;
    const tail =
      stderrTail.length > 0
        ? `\n--- last ${stderrTail.length} lines of stderr ---\n${stderrTail.join("\n")}`
        : " (no stderr)";
    super(`pipes process "${command}" ${how}${tail}`);
    this.name = "PipesProcessError";
  }
}

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];
const HELPERS = { python: "baton_pipes.py", bash: "baton_pipes.sh" } as const;

/**
 * Absolute path of a shipped helper: "python" (baton_pipes.py, stdlib only) or "bash"
 * (baton_pipes.sh, to `source`). Its folder can go on PYTHONPATH.
 */
export function pipesHelperPath(kind: keyof typeof HELPERS): string {
  const file = HELPERS[kind];
  if (!file) throw new Error(`pipesHelperPath: unknown helper "${String(kind)}" (use "python" or "bash")`);
  // src/pipes/ or dist/pipes/ → packages/core/pipes/
  const found = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../pipes", file);
  if (!existsSync(found))
    throw new Error(`pipesHelperPath: ${found} is missing from this install of @baton/core`);
  return found;
}

function readOptional<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined; // partitionKey throws in a run over several partitions
  }
}

export function pipesContextPayload(
  ctx: PipesContextSource,
  checks: readonly string[] = [],
): PipesContextPayload {
  const window = readOptional(() => ctx.partitionTimeWindow);
  return {
    protocolVersion: 1,
    assetKey: ctx.assetKey ?? null,
    stepKey: ctx.stepKey,
    runId: ctx.runId,
    partitionKey: readOptional(() => ctx.partitionKey) ?? null,
    partitionKeys: readOptional(() => ctx.partitionKeys) ?? [],
    partitionTimeWindow: window ? { start: window.start.toISOString(), end: window.end.toISOString() } : null,
    config: ctx.config ?? null,
    attempt: ctx.attempt,
    checks,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Run `options.command` as the body of an asset: `asset({ key }, (ctx) => runPipes(ctx, { command:
 * "python3", args: ["etl.py"] }))`. Resolves to `{ value, metadata, dataVersion? }` from what the
 * child reported; check results are recorded as metadata `check:<name>`, which `pipesCheck` checks
 * of the asset turn into asset check results.
 */
export function runPipes(ctx: PipesContextSource, options: PipesOptions): Promise<PipesResult> {
  if (typeof options?.command !== "string" || options.command === "")
    return Promise.reject(
      new Error(`runPipes in ${ctx.stepKey}: options.command must be a non-empty string`),
    );
  if (ctx.signal.aborted) return Promise.reject(new RunCanceledError());
  const graceMs = options.killGraceMs ?? 3000;
  const tailSize = options.stderrTailLines ?? 20;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const payload = pipesContextPayload(ctx, options.checks);
  env.BATON_PIPES_CONTEXT = JSON.stringify(payload);
  // Plain variables too, for shell scripts without a JSON parser.
  env.BATON_ASSET_KEY = payload.assetKey ?? "";
  env.BATON_PARTITION_KEY = payload.partitionKey ?? "";
  env.BATON_RUN_ID = payload.runId;
  env.BATON_ATTEMPT = String(payload.attempt);
  env.BATON_PIPES_FD = "3";

  const metadata: Record<string, MetadataInput> = {};
  let value: unknown; // nothing unless the child sends one (a range run needs nothing or per-partition values)
  let dataVersion: string | undefined;
  const stderrTail: string[] = [];
  const where = `${ctx.stepKey} (${options.command})`;

  const handleMessage = (text: string, origin: string) => {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      ctx.log.warn(
        `pipes: ignored a bad protocol line from ${where} on ${origin} (not JSON): ${text.slice(0, 500)}`,
      );
      return;
    }
    const bad = (why: string) =>
      ctx.log.warn(
        `pipes: ignored a bad protocol line from ${where} on ${origin} (${why}): ${text.slice(0, 500)}`,
      );
    if (!isRecord(msg)) return bad("not a JSON object");
    switch (msg.type) {
      case "log": {
        const level = (LEVELS as readonly unknown[]).includes(msg.level) ? (msg.level as LogLevel) : "info";
        ctx.log[level](String(msg.message ?? ""), { stream: "pipes" });
        return;
      }
      case "metadata":
        if (!isRecord(msg.metadata)) return bad('"metadata" must be an object');
        Object.assign(metadata, msg.metadata);
        return;
      case "check": {
        if (typeof msg.check !== "string" || typeof msg.passed !== "boolean")
          return bad('a check needs "check" (text) and "passed" (true/false)');
        const report: PipesCheckReport = {
          check: msg.check,
          passed: msg.passed,
          metadata: isRecord(msg.metadata) ? msg.metadata : {},
        };
        metadata[pipesCheckMetadataKey(report.check)] = { passed: report.passed, metadata: report.metadata };
        (report.passed ? ctx.log.info : ctx.log.warn)(
          `pipes check ${report.check}: ${report.passed ? "passed" : "FAILED"}`,
          { stream: "pipes" },
        );
        return;
      }
      case "materialize":
        if (msg.metadata !== undefined && msg.metadata !== null && !isRecord(msg.metadata))
          return bad('"metadata" must be an object');
        if (isRecord(msg.metadata)) Object.assign(metadata, msg.metadata);
        if (msg.dataVersion !== undefined && msg.dataVersion !== null) dataVersion = String(msg.dataVersion);
        if (msg.value !== undefined) value = msg.value;
        return;
      default:
        return bad(`unknown type ${JSON.stringify(msg.type)}`);
    }
  };

  return new Promise<PipesResult>((resolve, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(options.command, [...(options.args ?? [])], {
        cwd: options.cwd,
        env,
        detached: true, // its own process group, so cancel reaches grandchildren
        stdio: ["ignore", "pipe", "pipe", "pipe"],
      });
    } catch (error) {
      reject(new Error(`runPipes in ${ctx.stepKey}: could not start "${options.command}": ${String(error)}`));
      return;
    }
    let killTimer: NodeJS.Timeout | undefined;
    let canceled = false;
    let spawnError: Error | undefined;
    const killGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // the group is already gone
      }
    };
    const onAbort = () => {
      canceled = true;
      ctx.log.warn(`pipes: run canceled, stopping ${where} (process group ${child.pid})`);
      killGroup("SIGTERM");
      killTimer = setTimeout(() => {
        ctx.log.warn(`pipes: ${where} still running ${graceMs} ms after SIGTERM, sending SIGKILL`);
        killGroup("SIGKILL");
      }, graceMs);
      killTimer.unref();
    };
    ctx.signal.addEventListener("abort", onAbort, { once: true });

    const lines = (stream: Readable | null | undefined, onLine: (line: string) => void) =>
      new Promise<void>((done) => {
        if (!stream) return done();
        const rl = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
        rl.on("line", onLine);
        rl.on("close", () => done());
        stream.on("error", () => done());
      });
    const streams = Promise.all([
      lines(child.stdout, (line) => {
        if (line.startsWith(PIPES_STDOUT_PREFIX))
          handleMessage(line.slice(PIPES_STDOUT_PREFIX.length), "stdout");
        else ctx.log.info(line, { stream: "stdout" });
      }),
      lines(child.stderr, (line) => {
        stderrTail.push(line);
        if (stderrTail.length > tailSize) stderrTail.shift();
        ctx.log.warn(line, { stream: "stderr" });
      }),
      lines(child.stdio[3] as Readable | null, (line) => {
        if (line.trim() === "") return;
        handleMessage(
          line.startsWith(PIPES_STDOUT_PREFIX) ? line.slice(PIPES_STDOUT_PREFIX.length) : line,
          "fd 3",
        );
      }),
    ]);
    child.on("error", (error) => {
      spawnError = error;
    });
    child.on("close", (code, signal) => {
      void streams.then(() => {
        ctx.signal.removeEventListener("abort", onAbort);
        if (killTimer) clearTimeout(killTimer);
        if (canceled) {
          killGroup("SIGKILL"); // grandchildren that ignored SIGTERM
          return reject(new RunCanceledError());
        }
        if (spawnError)
          return reject(
            new Error(
              `runPipes in ${ctx.stepKey}: could not start "${options.command}": ${spawnError.message}`,
            ),
          );
        if (code !== 0) return reject(new PipesProcessError(options.command, code, signal, stderrTail));
        resolve(dataVersion === undefined ? { value, metadata } : { value, metadata, dataVersion });
      });
    });
  });
}
