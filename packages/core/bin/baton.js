#!/usr/bin/env node
import { main } from "../dist/cli/main.js";

// `baton runs logs ID | head` closes stdout early: stop quietly instead of crashing.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await main(process.argv.slice(2));
