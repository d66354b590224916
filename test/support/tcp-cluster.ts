// Real clusters for end-to-end tests: RaftNodes in this process, each with its own WAL in a
// temporary directory and a TCP transport on 127.0.0.1, in real time with short ticks.

import { mkdtemp, rm } from "node:fs/promises";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, type Server, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { nodeId } from "../../src/core/types.js";
import { NotLeaderError, ProposalDroppedError } from "../../src/errors.js";
import { RaftNode } from "../../src/node/raft-node.js";
import type { RaftNodeOptions } from "../../src/node/options.js";
import { openStorage } from "../../src/storage/open-storage.js";
import type { Storage, StorageKind } from "../../src/storage/types.js";
import { createTcpTransport } from "../../src/transport/tcp/tcp-transport.js";
import { CountingStateMachine } from "./counting-state-machine.js";

/**
 * Ports free on 127.0.0.1 now, for servers a test starts a moment later. They are taken below
 * the kernel's ephemeral range: a port that listen(0) hands out comes from that range, and any
 * outgoing connection (of this or a concurrent test file) may take it as its local port before
 * the server binds it, which made a member exit with EADDRINUSE now and then.
 * Each port is also reserved for this process (reservePort): between this probe and the
 * server's bind, a concurrent test file probing the same port would find it free too, which
 * made a member exit with EADDRINUSE in a CI run.
 */
export async function freePorts(count: number): Promise<number[]> {
  const ephemeralLow = ephemeralRangeStart();
  const low = 10_000;
  if (ephemeralLow - low < count * 100) return ephemeralPorts(count);
  const span = ephemeralLow - low;
  const start = Math.floor(Math.random() * span);
  const servers: Server[] = [];
  try {
    for (let i = 0; i < span && servers.length < count; i++) {
      const port = low + ((start + i) % span);
      if (!reservePort(port)) continue;
      const server = await bound(port);
      if (server !== null) servers.push(server);
    }
    if (servers.length < count) {
      throw new Error(`fewer than ${count} free ports below ${ephemeralLow}`);
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

const reservations = joinPath(tmpdir(), "raft-store-test-ports");
const reserved: string[] = [];
process.once("exit", () => {
  for (const file of reserved) rmSync(file, { force: true });
});

/**
 * Reserves `port` for this process until it exits: a file named after the port, holding this
 * process's pid, created only if absent (O_EXCL). A reservation whose process is gone is taken
 * over. False when another live test process holds the port.
 */
function reservePort(port: number): boolean {
  mkdirSync(reservations, { recursive: true });
  const file = joinPath(reservations, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: "wx" });
      reserved.push(file);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let holder = Number.NaN;
    try {
      holder = Number(readFileSync(file, "utf8"));
    } catch {
      // Released meanwhile: try again.
    }
    if (Number.isSafeInteger(holder) && processAlive(holder)) return false;
    rmSync(file, { force: true });
  }
  return false;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The first port of the kernel's ephemeral range (Linux), or 32768 where it cannot be read. */
function ephemeralRangeStart(): number {
  try {
    const range = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8");
    const low = Number(range.trim().split(/\s+/)[0]);
    return Number.isSafeInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** A server listening on `port`, or null if the port is taken. */
function bound(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(null));
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

/** Ports the kernel picks (listen(0)), where no range below the ephemeral one is usable. */
async function ephemeralPorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      return server;
    }),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

export interface TcpMember {
  readonly id: number;
  readonly dir: string;
  storage: Storage;
  machine: CountingStateMachine;
  node: RaftNode<number>;
  running: boolean;
}

export interface TcpClusterTuning {
  /** WAL segment size (compaction drops whole segments). */
  readonly segmentBytes?: number;
  readonly node?: Partial<Pick<RaftNodeOptions<number>, "snapshots" | "raft" | "proposalTimeoutMs">>;
}

export class TcpCluster {
  /** Every server's address, founders and those that may join later. */
  readonly members = new Map<number, string>();
  readonly nodes = new Map<number, TcpMember>();
  private root = "";

  /**
   * `size` servers with addresses; the first `founders` (default all) form the cluster at
   * start(), the others can join() later.
   */
  constructor(
    readonly size: number,
    readonly kind: StorageKind = "wal",
    readonly tickMs = 20,
    readonly founders = size,
    readonly tuning: TcpClusterTuning = {},
  ) {}

  async start(): Promise<void> {
    this.root = await mkdtemp(joinPath(tmpdir(), "raft-store-e2e-"));
    const ports = await freePorts(this.size);
    ports.forEach((port, i) => this.members.set(i + 1, `127.0.0.1:${port}`));
    for (let id = 1; id <= this.founders; id++) await this.launch(id, false);
  }

  /** Starts server `id` empty, to be added to the cluster through the membership API. */
  async join(id: number): Promise<TcpMember> {
    return this.launch(id, true);
  }

  private async launch(id: number, joining: boolean): Promise<TcpMember> {
    const dir = joinPath(this.root, `node-${id}`);
    const member: TcpMember = { id, dir, ...(await this.open(id, dir, joining)), running: true };
    this.nodes.set(id, member);
    await member.node.start();
    return member;
  }

  private founderAddresses(): Map<number, string> {
    return new Map([...this.members].filter(([id]) => id <= this.founders));
  }

  private async open(id: number, dir: string, joining = id > this.founders) {
    const segmentBytes = this.tuning.segmentBytes;
    const storage = await openStorage(
      this.kind === "wal" && segmentBytes !== undefined
        ? { kind: "wal", dir, segmentBytes }
        : ({ kind: this.kind, dir } as Parameters<typeof openStorage>[0]),
    );
    // Founders know each other; a joiner knows every address, to answer whoever leads.
    const known = joining ? this.members : this.founderAddresses();
    const peers = new Map([...known].filter(([p]) => p !== id).map(([p, a]) => [nodeId(p), a]));
    const transport = createTcpTransport({
      localId: nodeId(id),
      clusterId: "e2e",
      listen: this.members.get(id) ?? "",
      peers,
      reconnectDelayMinMs: 20,
      reconnectDelayMaxMs: 200,
    });
    const machine = new CountingStateMachine();
    const node = new RaftNode<number>({
      id, clusterId: "e2e", members: known, storage, transport, stateMachine: machine,
      tickMs: this.tickMs, seed: id * 7919, join: joining, ...this.tuning.node,
    });
    return { storage, machine, node };
  }

  member(id: number): TcpMember {
    const m = this.nodes.get(id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  leader(): TcpMember | null {
    for (const m of this.nodes.values()) if (m.running && m.node.status().role === "leader") return m;
    return null;
  }

  async waitFor<T>(what: string, probe: () => T | null | undefined | false, ms = 15_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const value = probe();
      if (value !== null && value !== undefined && value !== false) return value;
      if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async stop(id: number): Promise<void> {
    const m = this.member(id);
    if (!m.running) return;
    m.running = false;
    await m.node.stop();
    await m.storage.close();
  }

  /** Restarts a stopped member from its directory, with a fresh state machine. */
  async restart(id: number): Promise<void> {
    const m = this.member(id);
    Object.assign(m, await this.open(id, m.dir));
    m.running = true;
    await m.node.start();
  }

  async close(): Promise<void> {
    for (const id of this.nodes.keys()) await this.stop(id).catch(() => undefined);
    if (this.root !== "") await rm(this.root, { recursive: true, force: true });
  }
}

/**
 * Proposes `count` distinct commands with at most `concurrency` in flight, through whichever
 * server leads. A command refused as not applied (not leader, dropped) is retried at the new
 * leader; any other failure (an unknown outcome) fails the call.
 */
export async function proposeMany(
  cluster: TcpCluster,
  prefix: string,
  count: number,
  concurrency = 256,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const command = new TextEncoder().encode(`${prefix}-${next++}`);
      for (;;) {
        const leader = await cluster.waitFor("a leader", () => cluster.leader());
        try {
          await leader.node.propose(command);
          break;
        } catch (error) {
          if (!(error instanceof NotLeaderError || error instanceof ProposalDroppedError)) throw error;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
