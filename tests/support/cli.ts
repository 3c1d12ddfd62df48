/**
 * Spawning the built CLI (packages/core/bin/baton.js) as a real child process, for the CLI suites.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const BIN = path.join(ROOT, "packages/core/bin/baton.js");
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const STACK_LINE = /^ {4}at /m;
/** A child still running after this is killed and its output shown in the failure. */
export const CHILD_TIMEOUT_MS = 30_000;

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}
export interface CliOptions {
  readonly home: string;
  readonly cwd?: string;
  /** Extra environment (an `undefined` value removes the variable). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}
export interface RunningCli {
  readonly child: ChildProcess;
  readonly result: Promise<CliResult>;
  /** Resolves once stderr contains `text` (or the process has ended, whichever comes first). */
  stderrContains(text: string): Promise<void>;
}

/** The child's environment: ours without BATON_*, FIXTURE_* and CI, plus BATON_HOME and `extra`. */

export function describeResult(r: CliResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ""}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

/** Exit code with the whole output in the failure message. */

export function expectExit(r: CliResult, code: number) {
  expect(r.code, describeResult(r)).toBe(code);
}

/** A usage error: exit 2, nothing on stdout, one short message, no stack trace. */
export function expectUsageError(r: CliResult) {
  expectExit(r, 2);
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(/^error: /);
  expect(r.stderr).not.toMatch(STACK_LINE);
  expect(r.stderr).not.toContain("looks like a bug");
  expect(r.stderr.trimEnd().split("\n").length, r.stderr).toBeLessThanOrEqual(4);
}

/** CLI helpers bound to a suite's default fixture folder and temp-dir prefix. */
export function cliHarness(config: { defaultCwd: string; tempPrefix: string }) {
  function childEnv(home: string, extra: CliOptions["env"] = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env))
      if (!/^(BATON_|FIXTURE_)/.test(k) && k !== "CI" && v !== undefined) env[k] = v;
    env.BATON_HOME = home;
    for (const [k, v] of Object.entries(extra)) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    return env;
  }

  function startCli(args: readonly string[], options: CliOptions): RunningCli {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? config.defaultCwd,
      env: childEnv(options.home, options.env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const waiters: { text: string; resolve: () => void }[] = [];
    const settleWaiters = (all: boolean) => {
      for (const w of [...waiters])
        if (all || stderr.includes(w.text)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
    };
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      settleWaiters(false);
    });
    const result = new Promise<CliResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(
          new Error(
            `baton ${args.join(" ")} did not exit within ${CHILD_TIMEOUT_MS} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`,
          ),
        );
      }, CHILD_TIMEOUT_MS);
      child.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        settleWaiters(true);
        resolve({ code, signal, stdout, stderr });
      });
    });
    return {
      child,
      result,
      stderrContains: (text) =>
        new Promise<void>((resolve) => {
          waiters.push({ text, resolve });
          settleWaiters(child.exitCode !== null || child.signalCode !== null);
        }),
    };
  }

  function baton(args: readonly string[], options: CliOptions): Promise<CliResult> {
    return startCli(args, options).result;
  }

  /** A fresh BATON_HOME, removed after the test (or the suite) that made it. */

  async function makeHome(cleanup: (fn: () => Promise<void>) => void): Promise<string> {
    const home = await mkdtemp(path.join(os.tmpdir(), config.tempPrefix));
    cleanup(() => rm(home, { recursive: true, force: true }));
    return home;
  }

  return { startCli, baton, makeHome };
}
