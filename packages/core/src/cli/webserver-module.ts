import type { BatonInstance } from "../instance/instance.js";

/** The part of `@baton/webserver` the CLI uses (imported at run time: it depends on this package). */
export interface WebserverModule {
  authFromEnv(env: Readonly<Record<string, string | undefined>>): { tokens: readonly unknown[] };
  startWebserver(options: {
    instance: BatonInstance;
    host?: string;
    port?: number;
    auth?: { tokens: readonly unknown[] };
    readOnly?: boolean;
  }): Promise<{ url: string; port: number; close(): Promise<void> }>;
}

export async function importWebserver(): Promise<WebserverModule> {
  const name = "@baton/webserver";
  try {
    return (await import(name)) as WebserverModule;
  } catch (error) {
    throw new Error(
      `The webserver package (${name}) is not installed or not built: run \`npm install\` at the repository root (${(error as Error).message}).`,
    );
  }
}
