// `npm run bench -- snapshot [--keys 1000000] [--value-bytes 100] [--stream-mb 500] [--dir D]`
// Snapshots of the key-value state machine on the WAL backend's SnapshotStore:
//   create   KvStateMachine with --keys keys -> sm.snapshot() -> writer.write/commit (MB/s)
//   install  store.latest().chunks() -> restore into a fresh state machine; stateHash checked
//   restart  what a node does on start: openStorage again + latest() + restore
//   install, over "tcp": a --stream-mb MiB snapshot, first written to the sender's store, streamed
//            from `reader.chunks()` by the TCP transport's sendSnapshot to a receiver process
//            that writes it into its own store and commits; MB/s, and the sender's peak RSS
//            growth (sampled every 20 ms against a baseline taken just before the stream).
// MB = 10^6 bytes throughout.

import { type ChildProcess, fork } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SnapshotMeta } from "../src/core/types.js";
import { nodeId } from "../src/core/types.js";
import { encodeCommand } from "../src/kv/command.js";
import { KvStateMachine } from "../src/kv/kv-state-machine.js";
import { openStorage } from "../src/storage/open-storage.js";
import type { Storage } from "../src/storage/types.js";
import {
  type BenchLine,
  directoryOption,
  freePort,
  parseOptions,
  positiveInteger,
  printLine,
  round,
} from "./report.js";
import type { NodeCommand, NodeConfig, NodeReply } from "./snapshot-node.js";

const mb = 1e6;
const childTimeoutMs = 300_000;

function line(fields: Partial<BenchLine> & Pick<BenchLine, "case" | "seconds">): BenchLine {
  const { case: name, ...rest } = fields;
  return {
    suite: "snapshot", case: name, system: "raft-store", backend: "wal", batch: null,
    clients: null, opsPerSec: null, mbPerSec: null, p50Ms: null, p99Ms: null, maxMs: null,
    errors: 0, ratio: null, ratioTo: null, ...rest,
  };
}

/** Peak RSS growth over a baseline, sampled every 20 ms while `work` runs. */
async function withRssPeak<T>(work: () => Promise<T>): Promise<{ value: T; growthMb: number }> {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sample = (): void => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  const timer = setInterval(sample, 20);
  try {
    const value = await work();
    sample();
    return { value, growthMb: round((peak - baseline) / mb, 1) };
  } finally {
    clearInterval(timer);
  }
}

function buildStateMachine(keys: number, valueBytes: number): KvStateMachine {
  const sm = new KvStateMachine();
  // Values are slices of a fixed pseudo-random text at varying offsets, so they differ.
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  let seed = 0x2545f491;
  let text = "";
  const textBytes = Math.max(valueBytes * 2, 1 << 16);
  for (let i = 0; i < textBytes; i++) {
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    text += alphabet[(seed >>> 0) % alphabet.length];
  }
  for (let i = 1; i <= keys; i++) {
    const key = `key-${String(i).padStart(10, "0")}`;
    const at = (i * 7919) % (textBytes - valueBytes + 1);
    const value = text.slice(at, at + valueBytes);
    sm.apply({ index: i, term: 1, data: encodeCommand({ kind: "put", key, value }) });
  }
  return sm;
}

async function localCases(dir: string, keys: number, valueBytes: number): Promise<void> {
  process.stderr.write(`snapshot: applying ${keys} puts of ${valueBytes}-byte values...\n`);
  const buildStart = performance.now();
  const sm = buildStateMachine(keys, valueBytes);
  const expected = sm.stateHash();
  process.stderr.write(
    `snapshot: built in ${round((performance.now() - buildStart) / 1000, 1)} s\n`);
  const meta: SnapshotMeta = {
    index: keys,
    term: 1,
    configuration: { voters: [nodeId(1)], votersOutgoing: [], learners: [] },
  };
  const storageDir = join(dir, "local");
  let storage: Storage | null = await openStorage({ kind: "wal", dir: storageDir });
  try {
    // create
    const store = storage.snapshots;
    const created = await withRssPeak(async () => {
      const start = performance.now();
      const writer = await store.create(meta);
      let bytes = 0;
      for await (const chunk of sm.snapshot()) {
        await writer.write(chunk);
        bytes += chunk.byteLength;
      }
      await writer.commit();
      return { bytes, seconds: (performance.now() - start) / 1000 };
    });
    const { bytes, seconds: createSeconds } = created.value;
    printLine(line({
      case: "create", opsPerSec: round(keys / createSeconds, 1),
      mbPerSec: round(bytes / mb / createSeconds), seconds: round(createSeconds), keys, bytes,
      peakRssGrowthMb: created.growthMb,
    }));

    // install: from the store into a fresh state machine
    {
      const start = performance.now();
      const reader = await store.latest();
      if (reader === null) throw new Error("no snapshot after commit");
      const fresh = new KvStateMachine();
      await fresh.restore(reader.chunks(), reader.meta);
      const seconds = (performance.now() - start) / 1000;
      const ok = fresh.stateHash() === expected && fresh.size === keys;
      printLine(line({
        case: "install", opsPerSec: round(keys / seconds, 1),
        mbPerSec: round(reader.dataBytes / mb / seconds), errors: ok ? 0 : 1,
        seconds: round(seconds), keys, bytes: reader.dataBytes, over: "local",
      }));
    }

    // restart: open the storage again, latest(), restore
    await storage.close();
    storage = null;
    {
      const start = performance.now();
      storage = await openStorage({ kind: "wal", dir: storageDir });
      const reader = await storage.snapshots.latest();
      if (reader === null) throw new Error("no snapshot after reopening");
      const fresh = new KvStateMachine();
      await fresh.restore(reader.chunks(), reader.meta);
      const seconds = (performance.now() - start) / 1000;
      const ok = fresh.stateHash() === expected && fresh.lastAppliedIndex === keys;
      printLine(line({
        case: "restart", opsPerSec: round(keys / seconds, 1),
        mbPerSec: round(reader.dataBytes / mb / seconds), errors: ok ? 0 : 1,
        seconds: round(seconds), keys, bytes: reader.dataBytes,
      }));
    }
  } finally {
    await storage?.close();
  }
}

class Child {
  private readonly replies: NodeReply[] = [];
  private waiter: (() => void) | null = null;
  private exitCode: number | null = null;

  constructor(readonly name: string, readonly process: ChildProcess) {
    process.on("message", (reply: NodeReply) => {
      this.replies.push(reply);
      this.waiter?.();
    });
    process.on("exit", (code, signal) => {
      this.exitCode = code ?? (signal === null ? 0 : 128);
      this.waiter?.();
    });
  }

  /** The next reply of the given type; throws on a "failed" reply, an exit or a timeout. */
  async next<T extends NodeReply["type"]>(type: T): Promise<Extract<NodeReply, { type: T }>> {
    const deadline = Date.now() + childTimeoutMs;
    for (;;) {
      const failed = this.replies.find((r) => r.type === "failed");
      if (failed !== undefined && failed.type === "failed") throw new Error(failed.error);
      const at = this.replies.findIndex((r) => r.type === type);
      if (at >= 0) return this.replies.splice(at, 1)[0] as Extract<NodeReply, { type: T }>;
      if (this.exitCode !== null) throw new Error(`${this.name} exited (${this.exitCode})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no "${type}" within ${childTimeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = null;
    }
  }

  send(command: NodeCommand): void {
    if (this.exitCode === null && this.process.connected) this.process.send(command);
  }

  /** Asks the child to stop; kills it if it has not exited within 5 s. */
  async stop(): Promise<void> {
    if (this.exitCode !== null || this.process.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.process.once("exit", () => resolve()));
    this.send({ type: "stop" });
    const timer = setTimeout(() => this.process.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}

async function tcpCase(dir: string, streamMb: number): Promise<void> {
  const ports = { sender: await freePort(), receiver: await freePort() };
  const script = join(fileURLToPath(new URL(".", import.meta.url)), "snapshot-node.js");
  const spawn = (role: NodeConfig["role"]): Child => {
    const config: NodeConfig = { role, dir: join(dir, role), ports, streamMb };
    const child = fork(script, [JSON.stringify(config)], {
      execArgv: ["--expose-gc"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    return new Child(role, child);
  };
  const children: Child[] = [];
  try {
    const receiver = spawn("receiver");
    children.push(receiver);
    await receiver.next("ready");
    const sender = spawn("sender");
    children.push(sender);
    process.stderr.write(`snapshot: writing ${streamMb} MiB into the sender's store...\n`);
    await sender.next("prepared");
    sender.send({ type: "send" });
    const sent = await sender.next("sent");
    const received = await receiver.next("received");
    const ok = received.bytes === sent.bytes;
    printLine(line({
      case: "install", opsPerSec: null, mbPerSec: round(sent.bytes / mb / sent.seconds),
      errors: ok ? 0 : 1, seconds: round(sent.seconds), over: "tcp", keys: null,
      bytes: sent.bytes, receivedBytes: received.bytes,
      peakRssGrowthMb: round(sent.peakRssMb - sent.baselineRssMb, 1),
      baselineRssMb: round(sent.baselineRssMb, 1), rssSamples: sent.samples,
    }));
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}

export async function run(args: readonly string[]): Promise<void> {
  const o = parseOptions(args, ["keys", "value-bytes", "stream-mb", "dir"]);
  const keys = positiveInteger(o, "keys", 1_000_000);
  const valueBytes = positiveInteger(o, "value-bytes", 100);
  const streamMb = positiveInteger(o, "stream-mb", 500);
  const dir = await mkdtemp(join(await directoryOption(o), "raft-store-bench-snapshot-"));
  try {
    await localCases(dir, keys, valueBytes);
    await tcpCase(dir, streamMb);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
