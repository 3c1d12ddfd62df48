// npm start — the first experience: a small NYC taxi data set when none has landed yet, then
// `baton dev` (webserver + daemon + run workers) on the example's definitions and embedded store,
// the UI's URL printed (and opened in a browser when there is a display).
//
//   npm start                      # port 3000
//   npm start -- --port 0          # a free port (the printed URL says which)
//   npm start -- --no-open         # do not open a browser; other flags go to `baton dev`
//
// BATON_HOME (default examples/nyc_taxi/.baton), TAXI_LANDING and TAXI_WAREHOUSE are honoured.
// Ctrl-C stops everything: runs in progress finish first (press it again to stop at once).
import { type ChildProcess, fork, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { generateMonth } from "../src/generate.js";
import { partitionOfFile, TAXI_TYPES } from "../src/layout.js";
import { EXAMPLE_DIR, LANDING_DIR } from "../src/paths.js";

const ROOT = path.resolve(EXAMPLE_DIR, "../..");
const BIN = path.join(ROOT, "packages/core/bin/baton.js");
/** The data set generated when nothing has landed: small, so the first materializations are quick. */
const MONTHS = ["2019-01", "2019-02", "2019-03"];
const ROWS = 10_000;

const tty = process.stdout.isTTY === true;
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[22m` : s);
const cyan = (s: string) => (tty ? `\x1b[36m${s}\x1b[39m` : s);
/** Relative to where `npm start` runs when inside it, else absolute. */
const rel = (p: string) => {
  const r = path.relative(process.cwd(), p);
  return r === "" ? "." : r.startsWith("..") || path.isAbsolute(r) ? p : r;
};

function fail(message: string): never {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// Arguments: ours (--no-open, --open, --help); everything else goes to `baton dev`.

const argv = process.argv.slice(2);
if (argv.includes("--help") || argv.includes("-h")) {
  console.log(`npm start [-- --port N] [--no-open] [baton dev flags…]

Generates a small NYC taxi data set if examples/nyc_taxi has none, then runs \`baton dev\`
(webserver + daemon + workers) on the example and prints the UI's URL.
  --port N     webserver port (default 3000; 0 picks a free one)
  --no-open    do not open a browser (also: BROWSER=none, or no display)
Other flags are passed to \`baton dev\` (e.g. --workers 1); see \`npx baton dev --help\`.`);
  process.exit(0);
}
const open = !argv.includes("--no-open") && process.env.BROWSER !== "none" && !process.env.CI;
const devArgs = argv.filter((a) => a !== "--no-open" && a !== "--open");

// ---------------------------------------------------------------------------------------------
// Built packages: `npm install` builds them (the root `prepare` script); build once if missing.

interface Built {
  readonly workspace: string;
  readonly output: string;
}
const BUILT: readonly Built[] = [
  { workspace: "@baton/core", output: "packages/core/dist/cli/main.js" },
  { workspace: "@baton/webserver", output: "packages/webserver/dist/index.js" },
  { workspace: "@baton/ui", output: "packages/ui/dist/index.html" },
];

function hasBuildScript(workspace: string): boolean {
  const dir = path.join(ROOT, "packages", workspace.replace("@baton/", ""));
  try {
    const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as {
      scripts?: Record<string, string>;
    };
    return typeof pkg.scripts?.build === "string";
  } catch {
    return false;
  }
}

const missing = BUILT.filter((b) => !existsSync(path.join(ROOT, b.output)) && hasBuildScript(b.workspace));
if (missing.length > 0) {
  console.log(
    `${missing.map((b) => b.workspace).join(", ")} not built yet (no ${missing.map((b) => b.output).join(", ")}): building once…`,
  );
  for (const b of missing) {
    const r = spawnSync("npm", ["run", "build", "--silent", "-w", b.workspace], {
      cwd: ROOT,
      stdio: "inherit",
    });
    if (r.status !== 0) {
      if (b.workspace === "@baton/ui") {
        console.error("npm start: the UI did not build; starting with the JSON API only.");
        continue;
      }
      fail(
        `building ${b.workspace} failed: fix the error above, then \`npm run build\` (or \`npm install\`).`,
      );
    }
  }
}
if (!existsSync(BIN) || !existsSync(path.join(ROOT, BUILT[0]!.output)))
  fail(`the CLI is not built (${rel(path.join(ROOT, BUILT[0]!.output))}): run \`npm install\` at the root.`);

// ---------------------------------------------------------------------------------------------
// Data: generate a few months when no trip file has landed.

function landed(): string[] {
  try {
    return readdirSync(LANDING_DIR).filter((f) => partitionOfFile(f) !== undefined);
  } catch {
    return [];
  }
}

let files = landed();
if (files.length === 0) {
  const t0 = performance.now();
  console.log(
    `No trip files in ${rel(LANDING_DIR)}: generating ${MONTHS[0]}..${MONTHS.at(-1)} (yellow and green, ${ROWS.toLocaleString("en-US")} rows per file)…`,
  );
  for (const month of MONTHS)
    for (const taxi of TAXI_TYPES) await generateMonth({ month, taxi, rows: ROWS, dir: LANDING_DIR });
  files = landed();
  console.log(`${files.length} files in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

// ---------------------------------------------------------------------------------------------
// baton dev, forked with an IPC channel: it reports its URL there, and stops by itself if this
// process dies (the channel closes). Its own process group, so a terminal's Ctrl-C (which npm
// forwards again) reaches it exactly once, from here.

const env: NodeJS.ProcessEnv = { ...process.env };
env.BATON_HOME ??= path.join(EXAMPLE_DIR, ".baton");
const dev: ChildProcess = fork(BIN, ["dev", "--defs", "definitions.ts", "--report-to-parent", ...devArgs], {
  cwd: EXAMPLE_DIR,
  env,
  // Not this script's `--import tsx` (fork's default): the CLI is JavaScript and loads TypeScript
  // definitions itself, so baton dev and its workers do not each carry a loader they do not use.
  // Small V8 young generation: it grows to 32 MB while the process loads its modules and an idle
  // daemon + webserver never gives it back (bench:rss; the workers get the same from their pool).
  execArgv: ["--max-semi-space-size=4"],
  stdio: ["ignore", "inherit", "inherit", "ipc"],
  // (On Windows a detached child would get a console window of its own.)
  detached: process.platform !== "win32",
});

let ready = false;
dev.on("message", (message: { type?: string; url?: string | null; store?: string; workers?: number }) => {
  if (message?.type !== "baton-dev-ready") return;
  ready = true;
  const url = message.url ? `${message.url}/` : undefined;
  const ui = existsSync(path.join(ROOT, "packages/ui/dist/index.html"));
  const lines = [
    "",
    url
      ? `  ${bold("Baton is running:")} ${bold(cyan(url))}${ui ? "" : "  (UI not built: the JSON API is at /api)"}`
      : `  ${bold("Baton is running")} (no webserver)`,
    "",
    `  Definitions  ${rel(path.join(EXAMPLE_DIR, "definitions.ts"))}`,
    `  Store        ${message.store ?? env.BATON_HOME}`,
    `  Trip files   ${rel(LANDING_DIR)} (${files.length}; the taxi_landing sensor materializes new ones)`,
    `  More data    npm run example:data -- --months 2019-04 --rows 20000`,
    `  Stop         Ctrl-C`,
    "",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  if (url && open) openBrowser(url);
});

/** Open the URL in the desktop's browser when there is one; never fails. */
function openBrowser(url: string) {
  let command: string;
  let args: string[];
  if (process.platform === "darwin") [command, args] = ["open", [url]];
  else if (process.platform === "win32") [command, args] = ["cmd", ["/c", "start", '""', url]];
  else if (process.env.DISPLAY || process.env.WAYLAND_DISPLAY) [command, args] = ["xdg-open", [url]];
  else return;
  try {
    const child = spawn(command, args, { stdio: "ignore", detached: true });
    child.on("error", () => undefined);
    child.unref();
  } catch {
    // no browser: the URL is printed above
  }
}

// Ctrl-C: one SIGINT to baton dev (it lets runs finish and stops its workers). The same key press
// arrives twice (from the terminal and forwarded by npm): a repeat within a second is that echo;
// a later one stops everything at once.
let firstSignalAt: number | undefined;
const onSignal = (signal: NodeJS.Signals) => {
  const now = Date.now();
  if (firstSignalAt === undefined) {
    firstSignalAt = now;
    if (dev.exitCode === null && dev.signalCode === null) dev.kill("SIGINT");
  } else if (now - firstSignalAt > 1000) {
    console.error(`npm start: ${signal} again, stopping at once`);
    killGroup("SIGKILL");
  }
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
process.on("SIGHUP", onSignal);

function killGroup(signal: NodeJS.Signals) {
  try {
    if (process.platform === "win32") dev.kill(signal);
    else if (dev.pid !== undefined) process.kill(-dev.pid, signal);
  } catch {
    // already gone
  }
}
// Whatever ends this process, nothing of baton dev's group outlives it.
process.on("exit", () => {
  if (dev.exitCode === null && dev.signalCode === null) killGroup("SIGKILL");
});

dev.on("exit", (code, signal) => {
  if (!ready && firstSignalAt === undefined) {
    console.error(
      `npm start: baton dev stopped before it was ready (${signal ?? `exit ${code}`}); see above.` +
        " A port in use? `npm start -- --port 0` picks a free one.",
    );
    process.exit(code || 1);
  }
  if (code === 0) console.log("Baton stopped.");
  process.exit(signal ? 1 : (code ?? 0));
});
