// One side of the snapshot benchmark's TCP case, in its own process (so RSS is per process),
// driven by the parent (snapshot.ts) over IPC. Run with --expose-gc.
//   receiver: a TCP transport whose onSnapshot handler writes the incoming stream into its
//             SnapshotStore (wal) and commits; reports the bytes it committed.
//   sender:   first writes a --stream-mb snapshot of pseudo-random 1 MiB chunks into its own
//             SnapshotStore (wal), then, on "send", streams `latest().chunks()` to the receiver
//             with sendSnapshot, sampling process.memoryUsage().rss every 20 ms.

import { randomFillSync } from "node:crypto";
import type { NodeId, SnapshotMeta } from "../src/core/types.js";
import { nodeId } from "../src/core/types.js";
import { openStorage } from "../src/storage/open-storage.js";
import type { Storage } from "../src/storage/types.js";
import { createTcpTransport } from "../src/transport/tcp/tcp-transport.js";
import type { Transport } from "../src/transport/transport.js";

export interface NodeConfig {
  readonly role: "sender" | "receiver";
  readonly dir: string;
  readonly ports: { readonly sender: number; readonly receiver: number };
  /** Sender only: MiB of snapshot data to prepare. */
  readonly streamMb: number;
}

export type NodeCommand = { readonly type: "send" } | { readonly type: "stop" };

export type NodeReply =
  | { readonly type: "ready" }
  | { readonly type: "prepared"; readonly bytes: number; readonly seconds: number }
  | {
    readonly type: "sent";
    readonly bytes: number;
    readonly seconds: number;
    readonly baselineRssMb: number;
    readonly peakRssMb: number;
    readonly samples: number;
  }
  | { readonly type: "received"; readonly bytes: number; readonly seconds: number }
  | { readonly type: "failed"; readonly error: string };

const senderId = nodeId(1);
const receiverId = nodeId(2);
const chunkBytes = 1024 * 1024;
const mb = 1e6;

function reply(message: NodeReply): void {
  process.send?.(message);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

const config = JSON.parse(process.argv[2] ?? "{}") as NodeConfig;
const address = (port: number): string => `127.0.0.1:${port}`;
const meta: SnapshotMeta = {
  index: 1_000_000,
  term: 1,
  configuration: { voters: [senderId, receiverId], votersOutgoing: [], learners: [] },
};

let storage: Storage | null = null;
let transport: Transport | null = null;

async function shutdown(code: number): Promise<void> {
  await transport?.stop().catch(() => {});
  await storage?.close().catch(() => {});
  process.exit(code);
}

async function* pseudoRandomChunks(totalMb: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < totalMb; i++) yield randomFillSync(Buffer.allocUnsafe(chunkBytes));
}

async function startTransport(localId: NodeId, peerId: NodeId, localPort: number,
  peerPort: number, onSnapshot?: Parameters<Transport["start"]>[1]): Promise<Transport> {
  const t = createTcpTransport({
    localId,
    clusterId: "bench-snapshot",
    listen: address(localPort),
    peers: new Map([[peerId, address(peerPort)]]),
  });
  transport = t;
  await t.start(() => {}, onSnapshot);
  return t;
}

async function runReceiver(): Promise<void> {
  const store = (storage = await openStorage({ kind: "wal", dir: config.dir })).snapshots;
  await startTransport(receiverId, senderId, config.ports.receiver, config.ports.sender,
    async (incoming) => {
      const start = performance.now();
      const writer = await store.create(incoming.meta);
      let bytes = 0;
      try {
        for await (const chunk of incoming.chunks) {
          await writer.write(chunk);
          bytes += chunk.byteLength;
        }
        await writer.commit();
      } catch (error) {
        await writer.abort().catch(() => {});
        reply({ type: "failed", error: `receiver: ${describe(error)}` });
        throw error;
      }
      reply({ type: "received", bytes, seconds: (performance.now() - start) / 1000 });
    });
  reply({ type: "ready" });
}

async function runSender(): Promise<void> {
  storage = await openStorage({ kind: "wal", dir: config.dir });
  const store = storage.snapshots;
  const t = await startTransport(senderId, receiverId, config.ports.sender,
    config.ports.receiver);
  // What a leader has on disk before it streams: a committed snapshot in its SnapshotStore.
  const prepareStart = performance.now();
  const writer = await store.create(meta);
  let prepared = 0;
  for await (const chunk of pseudoRandomChunks(config.streamMb)) {
    await writer.write(chunk);
    prepared += chunk.byteLength;
  }
  await writer.commit();
  reply({ type: "prepared", bytes: prepared, seconds: (performance.now() - prepareStart) / 1000 });

  process.on("message", (command: NodeCommand) => {
    if (command.type !== "send") return;
    void (async () => {
      const reader = await store.latest();
      if (reader === null) throw new Error("no snapshot in the sender's store");
      collectGarbage(); // the preparation's garbage must not hide (or inflate) the growth
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      let samples = 0;
      const sample = (): void => {
        peak = Math.max(peak, process.memoryUsage().rss);
        samples++;
      };
      const timer = setInterval(sample, 20);
      const start = performance.now();
      let bytes = 0;
      async function* counted(): AsyncGenerator<Uint8Array> {
        for await (const chunk of reader!.chunks()) {
          bytes += chunk.byteLength;
          yield chunk;
        }
      }
      try {
        await t.sendSnapshot({ from: senderId, to: receiverId, term: 1, meta: reader.meta },
          counted());
      } finally {
        clearInterval(timer);
      }
      const seconds = (performance.now() - start) / 1000;
      sample();
      reply({ type: "sent", bytes, seconds, baselineRssMb: baseline / mb, peakRssMb: peak / mb,
        samples });
    })().catch((error: unknown) => reply({ type: "failed", error: `sender: ${describe(error)}` }));
  });
}

process.on("message", (command: NodeCommand) => {
  if (command.type === "stop") void shutdown(0);
});
process.on("disconnect", () => void shutdown(0));

try {
  if (config.role === "receiver") await runReceiver();
  else await runSender();
} catch (error) {
  reply({ type: "failed", error: `${config.role}: ${describe(error)}` });
  await shutdown(1);
}
