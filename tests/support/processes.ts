/**
 * Long-lived `baton` processes for the end-to-end suites (workers, daemons, `baton dev`): each is
 * spawned from the BUILT CLI in its own process group, its output is kept for failure messages,
 * and every group still alive is SIGKILLed when the test process exits. Bounded waits only.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { expect } from "vitest";
import { BIN } from "./cli.js";

/** Every bounded wait's default (conditions are polled, never slept on). */
export const WAIT_MS = 15_000;
export const POLL_MS = 100;
/** A CLI command that runs to completion is killed (and its test failed) after this. */
export const CLI_TIMEOUT_MS = 30_000;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  /** What was started, for messages: "baton" for `spawnBaton`. */
  readonly name: string;
  readonly args: readonly string[];
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<Exit>;
  /** Its output streams are closed too (every output read). */
  readonly closed: Promise<void>;
  exitInfo(): Exit | undefined;
}

export interface CliResult extends Exit {
  readonly stdout: string;
  readonly stderr: string;
}

/** Process groups started and not reaped yet (SIGKILLed at exit). */
const groups = new Set<Proc>();

export function killGroup(proc: Proc, signal: NodeJS.Signals) {
  try {
    process.kill(-proc.pid, signal);
  } catch {
    // already gone
  }
}

process.on("exit", () => {
  for (const proc of groups) killGroup(proc, "SIGKILL");
});

/** The process is reaped: no need to kill its group at exit. */
export function forget(proc: Proc) {
  groups.delete(proc);
}

export function describeProc(proc: Proc): string {
  const exit = proc.exitInfo();
  const status = exit ? `exited ${exit.code ?? exit.signal}` : "running";
  return `${proc.name} ${proc.args.join(" ")} (pid ${proc.pid}, ${status})\n--- stdout ---\n${proc.stdout()}\n--- stderr ---\n${proc.stderr()}`;
}

/** Start `baton ARGS` in its own process group. */
export function spawnBaton(args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Proc {
  return spawnCommand("baton", process.execPath, [BIN], args, options);
}

/** Start any command (`npm start`, …) in its own process group, like `spawnBaton`. */
export function spawnCommand(
  name: string,
  command: string,
  prefix: readonly string[],
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Proc {
  const child = spawn(command, [...prefix, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`could not spawn ${name} ${args.join(" ")}`);
  let stdout = "";
  let stderr = "";
  let exit: Exit | undefined;
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<Exit>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const proc: Proc = {
    child,
    pid: child.pid,
    name,
    args,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    closed,
    exitInfo: () => exit,
  };
  groups.add(proc);
  return proc;
}

/** Wait for a started command to finish (killed and failed after CLI_TIMEOUT_MS). */
export async function completion(proc: Proc): Promise<CliResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      killGroup(proc, "SIGKILL");
      reject(new Error(`did not exit within ${CLI_TIMEOUT_MS} ms: ${describeProc(proc)}`));
    }, CLI_TIMEOUT_MS);
  });
  try {
    const exit = await Promise.race([proc.exited, timeout]);
    await Promise.race([proc.closed, timeout]);
    return { ...exit, stdout: proc.stdout(), stderr: proc.stderr() };
  } finally {
    clearTimeout(timer);
    forget(proc);
  }
}

export function expectExit(r: CliResult, code: number) {
  expect(r.code, `exit ${r.code ?? r.signal}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`).toBe(
    code,
  );
}

/** Wait for a process's exit, at most `ms`. */
export async function exitOf(proc: Proc, ms = WAIT_MS): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      proc.exited,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () => reject(new Error(`still running after ${ms} ms: ${describeProc(proc)}`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves as soon as the process writes `text` to stderr (no polling delay); rejects after `ms`. */
export function stderrShows(proc: Proc, text: string, ms = WAIT_MS): Promise<void> {
  return outputShows(proc, "stderr", text, ms);
}

/** Resolves as soon as the process writes `text` to that stream (no polling delay); rejects after `ms`. */
export function outputShows(
  proc: Proc,
  which: "stdout" | "stderr",
  text: string,
  ms = WAIT_MS,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const stream = proc.child[which]!;
    const done = () => {
      clearTimeout(timer);
      stream.off("data", check);
    };
    const check = () => {
      if (!proc[which]().includes(text)) return;
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${ms} ms waiting for "${text}": ${describeProc(proc)}`));
    }, ms);
    // Listeners run in order: ours after the one accumulating the output.
    stream.on("data", check);
    check();
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Poll `check` until it returns something other than undefined/false; throws after `ms`. */
export async function waitFor<T>(
  what: string | (() => string | Promise<string>),
  check: () => Promise<T | undefined | false> | T | undefined | false,
  ms = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const text = typeof what === "string" ? what : await what();
      throw new Error(
        `timed out after ${ms} ms waiting for ${text}${lastError ? ` (last error: ${String(lastError)})` : ""}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
