// Builds RaftNode clusters on in-memory storage and transport with a virtual clock, for
// deterministic driver tests.

import { nodeId } from "../../src/core/types.js";
import { RaftNode } from "../../src/node/raft-node.js";
import { MemoryDisk, MemoryStorage } from "../../src/storage/memory/memory-storage.js";
import { MemoryNetwork } from "../../src/transport/memory-transport.js";
import type { RaftNodeOptions } from "../../src/node/options.js";
import { CountingStateMachine } from "./counting-state-machine.js";
import { ManualClock } from "./manual-clock.js";

export interface MemberHandle {
  readonly id: number;
  readonly disk: MemoryDisk;
  storage: MemoryStorage;
  machine: CountingStateMachine;
  node: RaftNode<number>;
}

type Extra = Partial<Omit<RaftNodeOptions<number>, "id" | "members" | "storage" | "transport" | "stateMachine">>;

export class MemoryCluster {
  readonly clock = new ManualClock();
  network = new MemoryNetwork();
  readonly members: Map<number, string>;
  readonly handles = new Map<number, MemberHandle>();

  constructor(
    readonly size: number,
    private readonly extra: Extra = {},
    private readonly newMachine: () => CountingStateMachine = () => new CountingStateMachine(),
  ) {
    this.members = new Map(Array.from({ length: size }, (_, i) => [i + 1, `memory:${i + 1}`]));
  }

  private makeNode(id: number, storage: MemoryStorage, machine: CountingStateMachine): RaftNode<number> {
    return new RaftNode<number>({
      id,
      clusterId: "test",
      members: this.members,
      storage,
      transport: this.network.createTransport(nodeId(id)),
      stateMachine: machine,
      clock: this.clock,
      tickMs: 10,
      seed: id * 1000 + 7,
      ...this.extra,
    });
  }

  async start(): Promise<void> {
    for (const id of this.members.keys()) {
      const disk = new MemoryDisk();
      const storage = new MemoryStorage({ disk });
      const machine = this.newMachine();
      const handle = { id, disk, storage, machine, node: this.makeNode(id, storage, machine) };
      this.handles.set(id, handle);
      await handle.node.start();
    }
  }

  handle(id: number): MemberHandle {
    const handle = this.handles.get(id);
    if (handle === undefined) throw new Error(`no member ${id}`);
    return handle;
  }

  leader(): MemberHandle | null {
    for (const handle of this.handles.values()) {
      const status = handle.node.status();
      if (status.state === "running" && status.role === "leader") return handle;
    }
    return null;
  }

  async waitForLeader(ms = 3000): Promise<MemberHandle> {
    await this.clock.until(() => this.leader() !== null, ms, "a leader");
    return this.leader() as MemberHandle;
  }

  /** Stops a member (a clean stop: its disk keeps what it wrote). */
  async stop(id: number): Promise<void> {
    const handle = this.handle(id);
    await handle.node.stop();
    await handle.storage.close();
  }

  /** Restarts a stopped member from its disk with a fresh (volatile) state machine. */
  async restart(id: number): Promise<void> {
    const handle = this.handle(id);
    handle.storage = new MemoryStorage({ disk: handle.disk });
    handle.machine = new CountingStateMachine();
    handle.node = this.makeNode(id, handle.storage, handle.machine);
    await handle.node.start();
  }

  async stopAll(): Promise<void> {
    for (const handle of this.handles.values()) {
      await handle.node.stop();
      await handle.storage.close();
    }
  }
}
