// `npm run bench -- cluster [--seconds 10] [--clients 1,16,64,256] [--tick-ms 100] [--dir D]
//   [--storage wal|lmdb|level|memory]` (wal by default; memory shows the cost without disks)
// Three raft-store nodes in three processes over TCP loopback, each on the WAL with fsync on.
// For each number of concurrent proposers, the leader's process proposes 256-byte commands to
// a counting state machine for --seconds: proposals/s and commit latency (propose to applied).
// The same run measures the disk's fdatasync latency and the loopback TCP round trip, printed
// as system "disk" rows; the 1-proposer line gives its p50 as a ratio to their sum.

import { type ChildProcess, fork } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { storageKinds } from "../src/storage/types.js";
import { measureDisk } from "./disk.js";
import {
  type BenchLine,
  choice,
  directoryOption,
  freePort,
  integerList,
  latency,
  numberOption,
  parseOptions,
  printLine,
  round,
} from "./report.js";
import type { Command } from "./cluster-node.js";

interface Reply {
  readonly type: string;
  readonly status?: { readonly role: string; readonly id: number };
  readonly samples?: number[];
  readonly errors?: number;
  readonly seconds?: number;
}

/**
 * Round trips of a 64-byte ping-pong over loopback TCP between this process and a child
 * process (the cluster's nodes are separate processes too), with Nagle off as in the transport.
 */
async function measureRtt(rounds: number): Promise<BenchLine> {
  const echo = fork(join(fileURLToPath(new URL(".", import.meta.url)), "echo-server.js"), [], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const port = await new Promise<number>((resolve) => echo.once("message", (p: number) => resolve(p)));
  const socket = connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  const samples: number[] = [];
  const ping = Buffer.alloc(64, 1);
  const start = performance.now();
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      socket.once("data", () => resolve());
      socket.write(ping);
    });
    samples.push(performance.now() - t0);
  }
  const seconds = (performance.now() - start) / 1000;
  socket.destroy();
  echo.kill();
  return {
    suite: "cluster", case: "rtt", system: "disk", backend: null, batch: null, clients: 1,
    opsPerSec: round(rounds / seconds, 1), mbPerSec: null, ...latency(samples), errors: 0,
    seconds: round(seconds), ratio: null, ratioTo: null, between: "processes",
  };
}

class NodeProcess {
  private readonly waiting: ((reply: Reply) => void)[] = [];
  constructor(readonly id: number, readonly child: ChildProcess) {
    child.on("message", (reply: Reply) => this.waiting.shift()?.(reply));
  }
  /** Asks the node to stop cleanly; kills it if it has not exited within 5 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.send({ type: "stop" } satisfies Command);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }

  ask(command: Command): Promise<Reply> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.child.send(command);
    });
  }
}

async function startCluster(dir: string, tickMs: number, storage: string): Promise<NodeProcess[]> {
  const ports: Record<string, number> = {};
  for (const id of [1, 2, 3]) ports[id] = await freePort();
  const script = join(fileURLToPath(new URL(".", import.meta.url)), "cluster-node.js");
  return Promise.all(
    [1, 2, 3].map(async (id) => {
      const config = JSON.stringify({ id, dir: join(dir, `node-${id}`), ports, tickMs, storage });
      const child = fork(script, [config], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
      const proc = new NodeProcess(id, child);
      await new Promise<void>((resolve) => proc.child.once("message", () => resolve()));
      return proc;
    }),
  );
}

async function findLeader(nodes: readonly NodeProcess[]): Promise<NodeProcess> {
  for (let attempt = 0; attempt < 200; attempt++) {
    for (const n of nodes) {
      if ((await n.ask({ type: "status" })).status?.role === "leader") return n;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("no leader elected within 10 s");
}

export async function run(args: readonly string[]): Promise<void> {
  const o = parseOptions(args, ["seconds", "clients", "tick-ms", "dir", "storage"]);
  const storage = choice(o, "storage", "wal", storageKinds);
  const seconds = numberOption(o, "seconds", 10, "a number > 0");
  const tickMs = numberOption(o, "tick-ms", 100, "an integer >= 1");
  const clientCounts = integerList(o, "clients", "1,16,64,256");
  const dir = await mkdtemp(join(await directoryOption(o), "raft-store-bench-cluster-"));
  let nodes: NodeProcess[] = [];
  try {
    const disk = (await measureDisk(dir, 2)).lines[0];
    if (disk === undefined) throw new Error("disk measurement printed nothing");
    const fsyncLine: BenchLine = { ...disk, suite: "cluster" };
    const rtt = await measureRtt(2000);
    printLine(fsyncLine);
    printLine(rtt);
    nodes = await startCluster(dir, tickMs, storage);
    const leader = await findLeader(nodes);
    for (const clients of clientCounts) {
      const r = await leader.ask({ type: "run", clients, seconds, bytes: 256 });
      const samples = r.samples ?? [];
      const elapsed = r.seconds ?? seconds;
      const stats = latency(samples);
      const floor = (fsyncLine.p50Ms ?? 0) + (rtt.p50Ms ?? 0);
      printLine({
        suite: "cluster", case: "put", system: "raft-store", backend: storage, batch: null, clients,
        opsPerSec: round(samples.length / elapsed, 1),
        mbPerSec: round((samples.length * 256) / 1e6 / elapsed), ...stats, errors: r.errors ?? 0,
        seconds: round(elapsed),
        ratio: clients === 1 && floor > 0 ? round(stats.p50Ms / floor) : null,
        ratioTo: clients === 1 ? "disk" : null,
      });
    }
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await rm(dir, { recursive: true, force: true });
  }
}
