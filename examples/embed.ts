// A complete, runnable example of embedding raft-store: three nodes in one process (in real
// life, one per machine), each with its own write-ahead log and a TCP transport, replicating
// a tiny key-value map. Run it with `npm run build && node dist/examples/embed.js`.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AppliedEntry,
  type RaftNode,
  type StateMachine,
  createRaftNode,
  createTcpTransport,
  nodeId,
  openStorage,
} from "../src/index.js";

/** The replicated state: apply() must be deterministic. */
class KvStateMachine implements StateMachine<string | null> {
  readonly data = new Map<string, string>();

  apply(entry: AppliedEntry): string | null {
    const { op, key, value } = JSON.parse(new TextDecoder().decode(entry.data)) as {
      op: "set" | "del";
      key: string;
      value?: string;
    };
    const previous = this.data.get(key) ?? null;
    if (op === "set" && value !== undefined) this.data.set(key, value);
    else this.data.delete(key);
    return previous;
  }

  snapshot(): AsyncIterable<Uint8Array> {
    // The view is taken now: the node keeps applying while the snapshot is streamed.
    const data = new TextEncoder().encode(JSON.stringify([...this.data]));
    return (async function* () {
      yield data;
    })();
  }

  async restore(chunks: AsyncIterable<Uint8Array>): Promise<void> {
    let text = "";
    for await (const chunk of chunks) text += new TextDecoder().decode(chunk);
    this.data.clear();
    for (const [k, v] of JSON.parse(text) as [string, string][]) this.data.set(k, v);
  }
}

const root = await mkdtemp(join(tmpdir(), "raft-store-example-"));
const members = new Map([
  [1, "127.0.0.1:7401"],
  [2, "127.0.0.1:7402"],
  [3, "127.0.0.1:7403"],
]);
const nodes: RaftNode<string | null>[] = [];
const storages: Awaited<ReturnType<typeof openStorage>>[] = [];
const machines = new Map<number, KvStateMachine>();

for (const [id, address] of members) {
  const storage = await openStorage({ kind: "wal", dir: join(root, `node-${id}`) });
  storages.push(storage);
  const peers = new Map([...members].filter(([p]) => p !== id).map(([p, a]) => [nodeId(p), a]));
  const transport = createTcpTransport({ localId: nodeId(id), clusterId: "example", listen: address, peers });
  const machine = new KvStateMachine();
  machines.set(id, machine);
  const node = createRaftNode({ id, clusterId: "example", members, storage, transport, stateMachine: machine });
  node.on("leader-change", (leader, term) => console.log(`node ${id}: leader is ${leader} (term ${term})`));
  await node.start();
  nodes.push(node);
}

// Wait for an election (1-2 s with the default 100 ms tick).
let leader: RaftNode<string | null> | undefined;
while (leader === undefined) {
  await new Promise((resolve) => setTimeout(resolve, 50));
  leader = nodes.find((n) => n.status().role === "leader");
}

const command = (op: "set" | "del", key: string, value?: string): Uint8Array =>
  new TextEncoder().encode(JSON.stringify({ op, key, value }));
await leader.propose(command("set", "greeting", "hello"));
const previous = await leader.propose(command("set", "greeting", "hello, raft"));
console.log(`replaced ${JSON.stringify(previous)}`);

// A linearizable read: confirm leadership with a quorum, wait until applied, then read locally.
await leader.readBarrier("linearizable");
console.log(`greeting = ${machines.get(leader.id)?.data.get("greeting")}`);

for (const node of nodes) await node.stop();
for (const storage of storages) await storage.close(); // the application owns its storage
await rm(root, { recursive: true, force: true });
console.log("done");
