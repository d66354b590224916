// One node of the cluster benchmark, in its own process: a RaftNode on the WAL (fsync on) and
// the TCP transport, driven by the parent over IPC. Its state machine counts commands.

import { createRaftNode } from "../src/node/raft-node.js";
import type { StateMachine } from "../src/node/ports.js";
import { openStorage } from "../src/storage/open-storage.js";
import { createTcpTransport } from "../src/transport/tcp/tcp-transport.js";
import { nodeId } from "../src/core/types.js";

interface Config {
  readonly id: number;
  readonly dir: string;
  readonly ports: Record<string, number>;
  readonly tickMs: number;
  readonly storage: "wal" | "lmdb" | "level" | "memory";
}

export type Command =
  | { readonly type: "status" }
  | { readonly type: "run"; readonly clients: number; readonly seconds: number; readonly bytes: number }
  | { readonly type: "stop" };

class Counter implements StateMachine<number> {
  count = 0;
  apply(): number {
    return ++this.count;
  }
  snapshot(): AsyncIterable<Uint8Array> {
    const data = Buffer.from(String(this.count)); // taken now, streamed later
    return (async function* () {
      yield data;
    })();
  }
  async restore(chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const parts: Buffer[] = [];
    for await (const c of chunks) parts.push(Buffer.from(c));
    this.count = Number(Buffer.concat(parts).toString());
  }
}

const config = JSON.parse(process.argv[2] ?? "{}") as Config;
const members = new Map(Object.entries(config.ports).map(([id, port]) => [Number(id), `127.0.0.1:${port}`]));
const peers = new Map([...members].filter(([id]) => id !== config.id).map(([id, a]) => [nodeId(id), a]));
const storage = await openStorage(
  config.storage === "memory" ? { kind: "memory" } : { kind: config.storage, dir: config.dir },
);
const transport = createTcpTransport({
  localId: nodeId(config.id),
  clusterId: "bench",
  listen: members.get(config.id) ?? "",
  peers,
});
const node = createRaftNode({
  id: config.id,
  clusterId: "bench",
  members,
  storage,
  transport,
  stateMachine: new Counter(),
  tickMs: config.tickMs,
});
await node.start();

async function runLoad(clients: number, seconds: number, bytes: number) {
  const payload = Buffer.alloc(bytes, 0x61);
  const samples: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  const client = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await node.propose(payload);
        samples.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return { samples, errors, seconds: (performance.now() - start) / 1000 };
}

process.on("message", (command: Command) => {
  void (async () => {
    if (command.type === "status") process.send?.({ type: "status", status: node.status() });
    else if (command.type === "run") {
      const result = await runLoad(command.clients, command.seconds, command.bytes);
      process.send?.({ type: "result", ...result });
    } else {
      await node.stop();
      await storage.close();
      process.exit(0);
    }
  })();
});
process.send?.({ type: "ready" });
