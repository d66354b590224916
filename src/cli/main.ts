#!/usr/bin/env node
// The `raft-store` command: `serve` runs a member, `dev` a local cluster, the rest are clients
// of a member's HTTP API.

import { RaftStoreError } from "../errors.js";
import { parseServeArgs, serveUsage } from "../server/config.js";
import { pinoLogger } from "../server/log.js";
import { repairAdvice, untrustedData } from "../server/repair.js";
import type { RunningServer } from "../server/server.js";
import { startServer } from "../server/server.js";
import { raftStoreVersion } from "../version.js";
import { UsageError, clientUsage, describeError, runClientCommand } from "./commands.js";
import { parseDevArgs, runDev } from "./dev.js";

const usage = `usage:
${serveUsage}

raft-store --version
  print the version

raft-store dev [--nodes 3] [--data ./data] [--peer-base 7001] [--http-base 8001] [--resp-base 6379]
  a local cluster in child processes (what \`npm start\` runs)

${clientUsage}`;

/** Runs a member: -1 while it runs, 1 when its data cannot be trusted (with the repair). */
async function serve(argv: readonly string[]): Promise<number> {
  const config = parseServeArgs(argv);
  const logger = pinoLogger(config.logLevel, { node: config.id });
  let server: RunningServer;
  try {
    server = await startServer(config, logger);
  } catch (error) {
    if (!untrustedData(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    process.stderr.write(`raft-store: ${reason}\nraft-store: ${repairAdvice(config)}\n`);
    return 1;
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info("stopping", { signal });
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error("stop failed", { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  server.node.on("fatal", () => {
    // The node stopped itself (storage failed or the state machine threw): exit so that a
    // supervisor restarts it, rather than serve errors forever.
    setTimeout(() => process.exit(2), 100);
  });
  return -1; // keeps running
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(`${usage}\n`);
    return command === undefined ? 1 : 0;
  }
  if (command === "version" || command === "--version" || command === "-v") {
    process.stdout.write(`raft-store ${raftStoreVersion}\n`);
    return 0;
  }
  if (command === "serve") return serve(rest);
  if (command === "dev") return runDev(parseDevArgs(rest), (t) => process.stdout.write(`${t}\n`));
  await runClientCommand(command, rest, (t) => process.stdout.write(`${t}\n`));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) process.stderr.write(`${error.message}\n\n${usage}\n`);
    else if (error instanceof RaftStoreError)
      process.stderr.write(`raft-store: ${error.message}\n`);
    else process.stderr.write(`raft-store: ${describeError(error)}\n`);
    process.exitCode = 1;
  },
);
