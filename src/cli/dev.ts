// `raft-store dev` (and `npm start`): a local 3-node cluster in three child processes, data
// under ./data/n<id>, logs in ./data/n<id>/server.log. It prints the endpoints with example
// commands, and stops the members cleanly on Ctrl-C; the next run restarts from the same data.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, openSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

export interface DevOptions {
  readonly nodes: number;
  readonly dataDir: string;
  readonly peerBase: number;
  readonly httpBase: number;
  readonly respBase: number;
  readonly extra: readonly string[];
}

const mainScript = join(fileURLToPath(new URL(".", import.meta.url)), "main.js");

export function parseDevArgs(argv: readonly string[]): DevOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      nodes: { type: "string" },
      data: { type: "string" },
      "peer-base": { type: "string" },
      "http-base": { type: "string" },
      "resp-base": { type: "string" },
    },
  });
  const int = (text: string | undefined, fallback: number): number => {
    const n = text === undefined ? fallback : Number(text);
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`bad number "${text}"`);
    return n;
  };
  return {
    nodes: int(values.nodes, 3),
    dataDir: resolve(values.data ?? "data"),
    peerBase: int(values["peer-base"], 7001),
    httpBase: int(values["http-base"], 8001),
    respBase: int(values["resp-base"], 6379),
    extra: positionals,
  };
}

export function devServeArgs(o: DevOptions, id: number): string[] {
  const cluster = Array.from(
    { length: o.nodes },
    (_, i) => `${i + 1}=127.0.0.1:${o.peerBase + i}`,
  ).join(",");
  return [
    "serve",
    "--id",
    String(id),
    "--data",
    join(o.dataDir, `n${id}`),
    "--peer",
    `127.0.0.1:${o.peerBase + id - 1}`,
    "--http",
    `127.0.0.1:${o.httpBase + id - 1}`,
    "--resp",
    `127.0.0.1:${o.respBase + id - 1}`,
    "--initial-cluster",
    cluster,
    ...o.extra,
  ];
}

async function waitReady(port: number, deadlineMs: number): Promise<boolean> {
  while (Date.now() < deadlineMs) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/ready`);
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

export async function runDev(o: DevOptions, out: (text: string) => void): Promise<number> {
  const children: ChildProcess[] = [];
  let stopping = false;
  for (let id = 1; id <= o.nodes; id++) {
    const dir = join(o.dataDir, `n${id}`);
    mkdirSync(dir, { recursive: true });
    const log = openSync(join(dir, "server.log"), "a");
    const child = spawn(process.execPath, [mainScript, ...devServeArgs(o, id)], {
      stdio: ["ignore", log, log],
    });
    child.on("exit", (code, signal) => {
      if (!stopping) out(`member ${id} exited (${signal ?? code}); see ${join(dir, "server.log")}`);
    });
    children.push(child);
  }
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    out("\nstopping the cluster...");
    for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  const deadline = Date.now() + 30_000;
  const ready = await Promise.all(children.map((_, i) => waitReady(o.httpBase + i, deadline)));
  if (!stopping) printEndpoints(o, ready, out);
  await Promise.all(
    children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.on("exit", r)))),
  );
  return stopping ? 0 : 1;
}

function printEndpoints(
  o: DevOptions,
  ready: readonly boolean[],
  out: (text: string) => void,
): void {
  const lines = [`raft-store: a local ${o.nodes}-node cluster (data in ${o.dataDir})`, ""];
  for (let i = 0; i < o.nodes; i++) {
    lines.push(
      `  n${i + 1}  http http://127.0.0.1:${o.httpBase + i}  resp 127.0.0.1:${o.respBase + i}  ` +
        `peer 127.0.0.1:${o.peerBase + i}${ready[i] === true ? "" : "  (NOT READY: see its server.log)"}`,
    );
  }
  lines.push(
    "",
    "Try:",
    `  curl -X PUT --data-binary 'hello' http://127.0.0.1:${o.httpBase}/v1/kv/greeting`,
    `  curl http://127.0.0.1:${o.httpBase + 1}/v1/kv/greeting`,
    `  curl http://127.0.0.1:${o.httpBase}/v1/cluster`,
    `  redis-cli -p ${o.respBase} SET a 1`,
    `  redis-cli -p ${o.respBase + 1} GET a`,
    `  node dist/src/cli/main.js status`,
    "",
    "Ctrl-C stops the cluster; the next start resumes from the same data.",
  );
  out(lines.join("\n"));
}
