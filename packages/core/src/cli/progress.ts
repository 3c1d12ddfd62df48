import cliProgress from "cli-progress";
import type { RunEvent } from "../execution/events.js";
import { formatFrames, relevantFrames } from "../util/stack.js";
import { describeDuration } from "./format.js";

export interface ProgressReporter {
  onEvent(event: RunEvent): void;
  stop(): void;
}

/**
 * Live progress on stderr: a progress bar above which step lines scroll when stderr is a TTY,
 * plain lines otherwise (CI logs, pipes). stdout stays free for `--json`.
 */
export function createProgressReporter(
  stream: NodeJS.WriteStream = process.stderr,
  options: { readonly verbose?: boolean; readonly cwd?: string } = {},
): ProgressReporter {
  const tty = Boolean(stream.isTTY) && process.env.CI === undefined;
  let total = 0;
  let done = 0;
  let multibar: cliProgress.MultiBar | undefined;
  let bar: cliProgress.SingleBar | undefined;
  const line = (text: string) => {
    if (multibar) multibar.log(`${text}\n`);
    else stream.write(`${text}\n`);
  };
  const tick = () => {
    done++;
    bar?.update(done);
  };
  return {
    onEvent(event) {
      switch (event.type) {
        case "run_started":
          total = event.steps.length;
          line(`run ${event.runId} started: ${total} step${total === 1 ? "" : "s"}`);
          if (tty && total > 0) {
            multibar = new cliProgress.MultiBar(
              { stream, format: " {bar} {value}/{total} steps", hideCursor: true, clearOnComplete: true },
              cliProgress.Presets.shades_classic,
            );
            bar = multibar.create(total, 0);
          }
          break;
        case "step_succeeded":
          tick();
          line(`  ✓ ${event.stepKey} (${describeDuration(event.durationMs)})`);
          break;
        case "step_failed":
          tick();
          // The user's frames under the message, Baton's and Node's collapsed (listed with --verbose).
          line(
            [
              `  ✗ ${event.stepKey} failed: ${event.error.message}`,
              ...formatFrames(relevantFrames(event.error), {
                verbose: options.verbose ?? false,
                cwd: options.cwd ?? process.cwd(),
                indent: "      ",
              }),
            ].join("\n"),
          );
          break;
        case "step_skipped":
          tick();
          line(`  - ${event.stepKey} skipped: ${event.reason}`);
          break;
        case "step_canceled":
          tick();
          line(`  ⊘ ${event.stepKey} canceled: ${event.reason}`);
          break;
        case "step_retrying":
          line(
            `  ↻ ${event.stepKey} attempt ${event.attempt} in ${describeDuration(event.delayMs)}: ${event.error.message}`,
          );
          break;
        case "check_evaluation":
          line(
            `    ${event.passed ? "✓" : "✗"} check ${event.assetKey}:${event.checkName} ${event.passed ? "passed" : `failed (${event.blocking ? "blocking, " : ""}${event.severity})`}`,
          );
          break;
        case "log":
          if (event.level !== "debug") line(`    ${event.stepKey ?? "run"} | ${event.message}`);
          break;
        case "run_succeeded":
        case "run_failed":
        case "run_canceled":
          multibar?.stop();
          multibar = undefined;
          bar = undefined;
          break;
        default:
          break;
      }
    },
    stop() {
      multibar?.stop();
      multibar = undefined;
    },
  };
}

/** Backfill progress on stderr: a bar of runs on a TTY, a line per ~10% otherwise. */
export function createBackfillProgressReporter(stream: NodeJS.WriteStream = process.stderr) {
  const tty = Boolean(stream.isTTY) && process.env.CI === undefined;
  let bar: cliProgress.SingleBar | undefined;
  let lastPrinted = -1;
  return {
    onProgress(p: {
      backfillId: string;
      unitsDone: number;
      unitsTotal: number;
      counts: { failed: number; skipped: number };
    }) {
      if (tty) {
        if (!bar) {
          bar = new cliProgress.SingleBar(
            {
              stream,
              format: " backfill {bar} {value}/{total} units  failed: {failed}  skipped: {skipped}",
              hideCursor: true,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(p.unitsTotal, p.unitsDone, { failed: 0, skipped: 0 });
        }
        bar.update(p.unitsDone, { failed: p.counts.failed, skipped: p.counts.skipped });
        return;
      }
      const tenth = p.unitsTotal === 0 ? 10 : Math.floor((p.unitsDone / p.unitsTotal) * 10);
      if (tenth !== lastPrinted) {
        lastPrinted = tenth;
        stream.write(
          `backfill ${p.backfillId}: ${p.unitsDone}/${p.unitsTotal} units settled (failed partitions: ${p.counts.failed}, skipped: ${p.counts.skipped})\n`,
        );
      }
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
