// An in-memory network for tests of the driver: transports register with a MemoryNetwork hub,
// which delivers asynchronously (on a later event-loop turn, in order per link) and can cut and
// heal links, one-way or both ways. Limits and counters mirror the TCP transport's so that a
// test can observe the same backpressure: each link holds at most queueMessagesMax in flight.

import { assert } from "../assert.js";
import type { Message } from "../core/messages.js";
import type { NodeId } from "../core/types.js";
import { ConfigError } from "../errors.js";
import { SnapshotTransferError } from "./errors.js";
import { MemoryInboundSnapshot, streamInMemory } from "./memory-snapshot.js";
import type {
  PeerStats,
  SnapshotHandler,
  SnapshotOffer,
  Transport,
  TransportStats,
} from "./transport.js";

export interface MemoryNetworkOptions {
  /** Messages in flight per link (sender to receiver) before new ones are dropped. */
  readonly queueMessagesMax?: number;
  /** Snapshot streams a node receives at once (at most one per sender). Default 4. */
  readonly snapshotsInboundMax?: number;
}

interface PeerCounters {
  address: string;
  queued: number;
  sent: number;
  dropped: number;
}

export class MemoryNetwork {
  private readonly transports = new Map<NodeId, MemoryTransport>();
  private readonly cutLinks = new Set<string>();
  private inFlight: { readonly message: Message; readonly counters: PeerCounters }[] = [];
  private deliveryHandle: NodeJS.Immediate | null = null;
  readonly queueMessagesMax: number;
  readonly snapshotsInboundMax: number;

  constructor(options: MemoryNetworkOptions = {}) {
    this.queueMessagesMax = options.queueMessagesMax ?? 4096;
    this.snapshotsInboundMax = options.snapshotsInboundMax ?? 4;
    for (const [name, max] of [
      ["queueMessagesMax", this.queueMessagesMax],
      ["snapshotsInboundMax", this.snapshotsInboundMax],
    ] as const) {
      if (!Number.isSafeInteger(max) || max <= 0) {
        throw new ConfigError(`${name} must be a positive integer, is ${max}`);
      }
    }
  }

  /** Internal to MemoryTransport: the running transport of `id`, if any. */
  transportOf(id: NodeId): MemoryTransport | undefined {
    return this.transports.get(id);
  }

  /**
   * Creates the transport of node `id`; its address is "memory:<id>". A stopped transport of
   * the same id is replaced (a restarted node); a running one is a configuration error.
   */
  createTransport(id: NodeId): MemoryTransport {
    const existing = this.transports.get(id);
    if (existing !== undefined && !existing.isStopped) {
      throw new ConfigError(`node ${id} already has a running transport`);
    }
    const transport = new MemoryTransport(id, this);
    this.transports.set(id, transport);
    return transport;
  }

  /** Stops and unregisters node `id`'s transport; messages in flight to it are lost. */
  remove(id: NodeId): void {
    void this.transports.get(id)?.stop();
    this.transports.delete(id);
  }

  /** Stops delivery from `from` to `to` (one way); messages in flight on it are lost. */
  cut(from: NodeId, to: NodeId): void {
    this.cutLinks.add(linkKey(from, to));
  }

  /** Restores delivery from `from` to `to`. */
  heal(from: NodeId, to: NodeId): void {
    this.cutLinks.delete(linkKey(from, to));
  }

  /** Cuts every link to and from `id`, both ways. */
  isolate(id: NodeId): void {
    for (const other of this.transports.keys()) {
      if (other === id) continue;
      this.cut(id, other);
      this.cut(other, id);
    }
  }

  healAll(): void {
    this.cutLinks.clear();
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cutLinks.has(linkKey(from, to));
  }

  /** Whether a message from `from` to `to` would be delivered now. */
  reachable(from: NodeId, to: NodeId): boolean {
    return !this.isCut(from, to) && this.transports.get(to)?.running === true;
  }

  /** Internal to MemoryTransport: accepts a message into flight, or reports it dropped. */
  enqueue(message: Message, counters: PeerCounters): boolean {
    if (counters.queued >= this.queueMessagesMax || !this.reachable(message.from, message.to)) {
      return false;
    }
    counters.queued++;
    this.inFlight.push({ message, counters });
    this.deliveryHandle ??= setImmediate(() => this.deliver());
    return true;
  }

  /** Delivers everything in flight, in send order; a cut or stop meanwhile loses the message. */
  private deliver(): void {
    this.deliveryHandle = null;
    const batch = this.inFlight;
    this.inFlight = [];
    for (const { message, counters } of batch) {
      counters.queued--;
      assert(counters.queued >= 0, () => `link to ${message.to} queued ${counters.queued}`);
      if (!this.reachable(message.from, message.to)) {
        counters.dropped++;
        continue;
      }
      counters.sent++;
      this.transports.get(message.to)?.receive(message);
    }
  }
}

function linkKey(from: NodeId, to: NodeId): string {
  return `${from}>${to}`;
}

export class MemoryTransport implements Transport {
  private onMessage: ((message: Message) => void) | null = null;
  private onSnapshot: SnapshotHandler | null = null;
  /** Incoming snapshot streams, at most one per sender. */
  private readonly snapshots = new Map<NodeId, MemoryInboundSnapshot>();
  private stopped = false;
  private readonly peers = new Map<NodeId, PeerCounters>();
  private received = 0;
  private unroutable = 0;

  constructor(
    readonly id: NodeId,
    private readonly network: MemoryNetwork,
  ) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  get running(): boolean {
    return this.onMessage !== null && !this.stopped;
  }

  start(onMessage: (message: Message) => void, onSnapshot?: SnapshotHandler): Promise<void> {
    assert(this.onMessage === null && !this.stopped, `start() twice on node ${this.id}`);
    this.onMessage = onMessage;
    this.onSnapshot = onSnapshot ?? null;
    return Promise.resolve();
  }

  async sendSnapshot(offer: SnapshotOffer, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    assert(offer.from === this.id, () => `sending a snapshot from ${offer.from} on ${this.id}`);
    assert(offer.to !== this.id, () => `node ${this.id} sending a snapshot to itself`);
    if (!this.running) throw new SnapshotTransferError(`node ${this.id} is not running`);
    if (!this.peers.has(offer.to)) throw new SnapshotTransferError(`unknown peer ${offer.to}`);
    const receiver = this.network.transportOf(offer.to);
    if (receiver === undefined || !this.network.reachable(this.id, offer.to)) {
      throw new SnapshotTransferError(`node ${offer.to} is unreachable`);
    }
    const inbound = receiver.acceptSnapshot(offer);
    const linkUp = (): boolean =>
      this.running && this.network.reachable(this.id, offer.to) && receiver.running;
    await streamInMemory(chunks, inbound, linkUp);
  }

  /** Called by a sending transport: opens a stream into this node (throws if refused). */
  acceptSnapshot(offer: SnapshotOffer): MemoryInboundSnapshot {
    const handler = this.onSnapshot;
    if (!this.running || handler === null) {
      throw new SnapshotTransferError(`node ${this.id} does not accept snapshots`);
    }
    const previous = this.snapshots.get(offer.from);
    if (previous === undefined && this.snapshots.size >= this.network.snapshotsInboundMax) {
      const max = this.network.snapshotsInboundMax;
      throw new SnapshotTransferError(`node ${this.id} already receives ${max} snapshots`);
    }
    previous?.channel.fail(new SnapshotTransferError("replaced by a newer snapshot stream"));
    const inbound = new MemoryInboundSnapshot(offer, handler);
    this.snapshots.set(offer.from, inbound);
    void inbound.settled.then(() => {
      if (this.snapshots.get(offer.from) === inbound) this.snapshots.delete(offer.from);
    });
    return inbound;
  }

  send(messages: readonly Message[]): void {
    for (const m of messages) {
      assert(m.from === this.id, () => `sending a message from ${m.from} on node ${this.id}`);
      assert(m.to !== this.id, () => `node ${this.id} sending a message to itself`);
      const counters = this.peers.get(m.to);
      if (counters === undefined) this.unroutable++;
      else if (this.stopped || !this.network.enqueue(m, counters)) counters.dropped++;
    }
  }

  setPeer(id: NodeId, address: string): void {
    if (id === this.id) throw new ConfigError(`setPeer with the local id ${id}`);
    const counters = this.peers.get(id);
    if (counters !== undefined) counters.address = address;
    else this.peers.set(id, { address, queued: 0, sent: 0, dropped: 0 });
  }

  removePeer(id: NodeId): void {
    this.peers.delete(id);
  }

  address(): string | null {
    return this.running ? `memory:${this.id}` : null;
  }

  stats(): TransportStats {
    const peers: PeerStats[] = [...this.peers].map(([id, c]) => ({
      id,
      address: c.address,
      connected: !this.stopped && this.network.reachable(this.id, id),
      queuedMessages: c.queued,
      queuedBytes: 0,
      sentMessages: c.sent,
      droppedMessages: c.dropped,
      reconnects: 0,
    }));
    return {
      peers,
      receivedMessages: this.received,
      unroutableMessages: this.unroutable,
      rejectedConnections: 0,
    };
  }

  stop(): Promise<void> {
    this.stopped = true;
    for (const inbound of this.snapshots.values()) {
      inbound.channel.fail(new SnapshotTransferError(`node ${this.id} stopped`));
    }
    return Promise.resolve();
  }

  /** Called by the network on delivery. */
  receive(message: Message): void {
    if (!this.running) return;
    this.received++;
    this.onMessage?.(message);
  }
}
