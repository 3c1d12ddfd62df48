// The image's HEALTHCHECK. One image runs the webserver, the daemon and the run workers, so the
// check first reads which Baton command this container runs: the command line of its main
// process (/proc/1/cmdline; BATON_HEALTH_PID names another process), then:
//   webserver  GET http://127.0.0.1:<its --port>/api/health answers 200 with status "ok" (the
//              store is reachable; the first token of BATON_API_TOKENS / BATON_API_TOKENS_FILE
//              is sent)
//   worker     the pool has at least one run worker process (`baton worker --child`, a child of
//              the main process)
//   daemon     the main process is the live daemon (its store heartbeat shows in /api/health as
//              daemon.heartbeatAgeMs)
// Exit 0 healthy, 1 unhealthy, 2 for a process it cannot check; the reason goes to stderr.
import { readdirSync, readFileSync } from "node:fs";

const fail = (code, message) => {
  process.stderr.write(`healthcheck: ${message}\n`);
  process.exit(code);
};

const read = (file) => {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
};
const cmdline = (pid) => (read(`/proc/${pid}/cmdline`) ?? "").split("\0").filter(Boolean);
/** The parent pid (field 4 of /proc/<pid>/stat, after the parenthesized command name). */
const parentOf = (pid) => Number((read(`/proc/${pid}/stat`) ?? "").split(") ")[1]?.split(" ")[1]);

const mainPid = process.env.BATON_HEALTH_PID ?? "1";
const main = cmdline(mainPid);
if (main.length === 0) fail(1, `process ${mainPid} is gone`);
const ROLES = ["webserver", "worker", "daemon"];
const role = main.find((arg) => ROLES.includes(arg));
if (role === undefined)
  fail(2, `process ${mainPid} (${main.join(" ")}) runs none of: baton ${ROLES.join(", ")}`);

/** The first API token, if any (BATON_API_TOKENS: `role:token` or `name:role:token`, comma-separated). */
function firstToken() {
  const inline = process.env.BATON_API_TOKENS?.trim();
  if (inline) return inline.split(",")[0].trim().split(":").at(-1);
  const file = process.env.BATON_API_TOKENS_FILE;
  if (file) return JSON.parse(readFileSync(file, "utf8"))[0]?.token;
  return undefined;
}

if (role === "webserver") {
  const at = main.indexOf("--port");
  const url = `http://127.0.0.1:${at >= 0 ? main[at + 1] : "3000"}/api/health`;
  const token = firstToken();
  let res;
  try {
    res = await fetch(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(4000),
    });
  } catch (error) {
    fail(1, `${url}: ${error.cause?.message ?? error.message}`);
  }
  if (res.status !== 200) fail(1, `${url} answered ${res.status}`);
  const body = await res.json();
  if (body.status !== "ok") fail(1, `${url} answered status ${JSON.stringify(body.status)}`);
} else if (role === "worker") {
  const workers = readdirSync("/proc").filter(
    (pid) => /^\d+$/.test(pid) && parentOf(pid) === Number(mainPid) && cmdline(pid).includes("--child"),
  );
  if (workers.length === 0) fail(1, `baton worker (pid ${mainPid}) has no run worker process`);
}
