// `npm run bench -- resp-floor [--clients 256] [--seconds 10] [--warmup 5] [--cases put]`: the
// floor under raft-store's RESP throughput on this machine. The same load generator as the
// server benchmark (runLoad, one connection per client, one request outstanding on each) drives
// a server process that only parses each command with raft-store's RESP parser and answers it
// (resp-floor-server.ts): no Raft, no log, no state, no other member. What that pair reaches,
// and the CPU µs per operation of each (`cpuUsPerOp`, from /proc), is what the loopback
// sockets and Node.js's streams cost before any replication, so a cluster's leader and load
// generator can do no better. One line per case, system "disk" (a limit measured on this
// machine, as the cluster benchmark's round trip is).

import { fork } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type LoadOp, loadOps, runLoad } from "../src/cli/load.js";
import { MachineMeter, ownCpuUs, processCpuUs } from "./process-cpu.js";
import {
  choiceList,
  integerList,
  numberOption,
  parseOptions,
  printLine,
  round,
} from "./report.js";

export async function run(args: readonly string[]): Promise<void> {
  const o = parseOptions(args, ["clients", "seconds", "warmup", "cases"]);
  const clients = integerList(o, "clients", "256");
  const seconds = numberOption(o, "seconds", 10, "a number > 0");
  const warmup = numberOption(o, "warmup", 5, "a number >= 0");
  const cases = choiceList<LoadOp>(o, "cases", "put", loadOps);
  const child = fork(join(fileURLToPath(new URL(".", import.meta.url)), "resp-floor-server.js"),
    [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once("message", (p: number) => resolve(p));
      child.once("exit", (code) => reject(new Error(`the floor server exited (${code})`)));
    });
    const pid = child.pid ?? null;
    for (const op of cases) {
      for (const n of clients) {
        let serverBefore: number | null = null;
        let ownBefore = 0;
        const machine = new MachineMeter();
        const result = await runLoad({ api: "resp", endpoints: [`127.0.0.1:${port}`],
          clients: n, op, valueBytes: 256, keys: 10_000, seconds, warmupSeconds: warmup,
          onMeasureStart: () => {
            serverBefore = pid === null ? null : processCpuUs(pid);
            ownBefore = ownCpuUs();
            machine.start();
          } });
        const serverAfter = pid === null ? null : processCpuUs(pid);
        const perOp = (used: number | null): number | null =>
          used === null || result.ops === 0 ? null : round(used / result.ops, 1);
        printLine({
          suite: "resp-floor", case: op, system: "disk", backend: null, batch: null, clients: n,
          opsPerSec: round(result.opsPerSec, 1), mbPerSec: null, p50Ms: round(result.p50Ms),
          p99Ms: round(result.p99Ms), maxMs: round(result.maxMs), errors: result.errors,
          seconds: round(result.seconds, 2), ratio: null, ratioTo: null, api: "resp",
          firstError: result.firstError,
          cpuUsPerOp: {
            server: perOp(serverBefore === null || serverAfter === null ? null
              : serverAfter - serverBefore),
            loadgen: perOp(ownCpuUs() - ownBefore),
          },
          machine: machine.shares(),
        });
      }
    }
  } finally {
    child.kill();
  }
}
