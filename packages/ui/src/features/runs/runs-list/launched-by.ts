/**
 * Who or what launched a run, read from its tags and links (the tag names are core's:
 * `baton/launched-by` set by the webserver to the caller's token name or "local",
 * `baton/sensor`, `baton/schedule`, `baton/automation`, `baton/backfill`, `baton/retry-number`).
 */
import type { Run } from "@baton/webserver/api-types";

export type LaunchedBy =
  | { readonly kind: "backfill"; readonly backfillId: string }
  | { readonly kind: "retry"; readonly parentRunId: string; readonly attempt: number }
  | { readonly kind: "reexecution"; readonly parentRunId: string }
  | { readonly kind: "sensor"; readonly name: string }
  | { readonly kind: "schedule"; readonly name: string }
  | { readonly kind: "automation"; readonly condition: string }
  | { readonly kind: "user"; readonly name: string };

type RunLike = Pick<Run, "tags" | "parentRunId" | "backfillId">;

/**
 * What launched the run, most specific first: a run can carry more than one (a re-execution
 * launched by a token), so every one that applies is listed; empty when nothing says (the CLI).
 */
export function launchedBy(run: RunLike): LaunchedBy[] {
  const tags = run.tags as Record<string, string>;
  const out: LaunchedBy[] = [];
  const backfillId = run.backfillId ?? tags["baton/backfill"];
  if (backfillId) out.push({ kind: "backfill", backfillId });
  if (run.parentRunId) {
    const attempt = Number(tags["baton/retry-number"] ?? 0);
    out.push(
      attempt > 0
        ? { kind: "retry", parentRunId: run.parentRunId, attempt }
        : { kind: "reexecution", parentRunId: run.parentRunId },
    );
  }
  if (tags["baton/sensor"]) out.push({ kind: "sensor", name: tags["baton/sensor"] });
  if (tags["baton/schedule"]) out.push({ kind: "schedule", name: tags["baton/schedule"] });
  if (tags["baton/automation"]) out.push({ kind: "automation", condition: tags["baton/automation"] });
  const user = tags["baton/launched-by"];
  if (user) out.push({ kind: "user", name: user });
  return out;
}

/** The same in words (a cell's title, a screen reader's summary). */
export function describeLaunchedBy(parts: readonly LaunchedBy[]): string {
  if (parts.length === 0) return "nothing recorded (e.g. launched from the CLI)";
  return parts
    .map((p) => {
      switch (p.kind) {
        case "backfill":
          return `backfill ${p.backfillId}`;
        case "retry":
          return `automatic retry ${p.attempt} of run ${p.parentRunId}`;
        case "reexecution":
          return `re-execution of run ${p.parentRunId}`;
        case "sensor":
          return `sensor ${p.name}`;
        case "schedule":
          return `schedule ${p.name}`;
        case "automation":
          return `automation (${p.condition})`;
        case "user":
          return p.name === "local" ? "local (no token)" : `token ${p.name}`;
      }
      return "";
    })
    .join(", ");
}
