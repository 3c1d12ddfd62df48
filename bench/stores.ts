import type { ChildProcess } from "node:child_process";
import { createTestDatabase, dropTestDatabase, startTestPostgres } from "../tests/support/postgres.js";

/**
 * Run a benchmark case on the stores named in BENCH_STORES (default "sqlite,postgres"): SQLite,
 * then a fresh database on a throwaway Postgres (or BATON_TEST_DATABASE_URL).
 */
export async function onStores(
  bench: string,
  runCase: (store: "sqlite" | "postgres", databaseUrl?: string) => Promise<void>,
): Promise<void> {
  const stores = (process.env.BENCH_STORES ?? "sqlite,postgres").split(",");
  if (stores.includes("sqlite")) await runCase("sqlite");
  if (!stores.includes("postgres")) return;
  const server = await startTestPostgres();
  if (!server) {
    console.error(
      `bench:${bench}: no Postgres available (install postgresql or set BATON_TEST_DATABASE_URL); skipping it`,
    );
    return;
  }
  try {
    const url = await createTestDatabase(server.url);
    await runCase("postgres", url);
    await dropTestDatabase(url);
  } finally {
    await server.stop();
  }
}

/** Stop a `baton` process the way an operator would (SIGTERM) and wait for it to exit. */
export async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}
