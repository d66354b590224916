// The TCP transport: one listener for the connections peers dial to us (their messages), and one
// dialled connection per peer for ours. Optional mutual TLS; see README.md for the wire format.

import type { AddressInfo, Server, Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { assert } from "../../assert.js";
import type { Message } from "../../core/messages.js";
import type { NodeId } from "../../core/types.js";
import { ConfigError } from "../../errors.js";
import { ListenError, SnapshotTransferError } from "../errors.js";
import type {
  SnapshotHandler,
  SnapshotOffer,
  Transport,
  TransportStats,
} from "../transport.js";
import { InboundConnection } from "./inbound.js";
import {
  type Address,
  type ResolvedOptions,
  type TcpTransportOptions,
  formatAddress,
  parseAddress,
  resolveOptions,
} from "./options.js";
import { OutboundPeer } from "./outbound.js";
import { describeError } from "./peer-input.js";
import { sendSnapshotStream } from "./snapshot-outbound.js";
import { createListener } from "./sockets.js";

/** Creates a TCP transport; throws ConfigError or InsecureListenError for bad options. */
export function createTcpTransport(options: TcpTransportOptions): Transport {
  return new TcpTransport(resolveOptions(options));
}

type TransportState = "new" | "started" | "stopped";

class TcpTransport implements Transport {
  private state: TransportState = "new";
  private server: Server | null = null;
  private listening: string | null = null;
  private onMessage: ((message: Message) => void) | null = null;
  private onSnapshot: SnapshotHandler | null = null;
  private readonly outbound = new Map<NodeId, OutboundPeer>();
  private readonly inbound = new Set<InboundConnection>();
  /** Every open socket, inbound and outbound, so that stop() can close and await them. */
  private readonly sockets = new Set<Socket>();
  private stopping: Promise<void> | null = null;
  private listenDone: Promise<void> | null = null;
  private received = 0;
  private unroutable = 0;
  private rejected = 0;

  constructor(private readonly options: ResolvedOptions) {
    for (const [id, address] of options.peers) this.addPeer(id, address);
  }

  async start(onMessage: (message: Message) => void, onSnapshot?: SnapshotHandler): Promise<void> {
    assert(this.state === "new", () => `start() on a ${this.state} transport`);
    this.state = "started";
    this.onMessage = onMessage;
    this.onSnapshot = onSnapshot ?? null;
    if (this.options.listen !== null) {
      this.listenDone = this.listen(this.options.listen);
      try {
        await this.listenDone;
      } catch (error) {
        await this.stop();
        throw error;
      }
    }
    if (this.state !== "started") return;
    for (const peer of this.outbound.values()) peer.start();
  }

  /**
   * Queues the messages, then writes each peer's share at once: a driver's turn sends its
   * messages in one call, so that call is already the batch, and waiting for a later
   * event-loop turn to coalesce would only add latency.
   */
  send(messages: readonly Message[]): void {
    const localId = this.options.localId;
    const touched = new Set<OutboundPeer>();
    for (const m of messages) {
      assert(m.from === localId, () => `sending a message from ${m.from} on node ${localId}`);
      assert(m.to !== localId, () => `node ${localId} sending a message to itself`);
      const peer = this.outbound.get(m.to);
      if (peer === undefined) this.unroutable++;
      else {
        peer.enqueue(m);
        touched.add(peer);
      }
    }
    for (const peer of touched) peer.flushNow();
  }

  /** Dials a connection of its own for the stream; see Transport.sendSnapshot. */
  async sendSnapshot(offer: SnapshotOffer, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const localId = this.options.localId;
    assert(offer.from === localId, () => `sending a snapshot from ${offer.from} on ${localId}`);
    assert(offer.to !== localId, () => `node ${localId} sending a snapshot to itself`);
    if (this.state !== "started") {
      throw new SnapshotTransferError(`the transport of node ${localId} is ${this.state}`);
    }
    const peer = this.outbound.get(offer.to);
    if (peer === undefined) throw new SnapshotTransferError(`unknown peer ${offer.to}`);
    const context = { options: this.options, track: (socket: Socket) => this.track(socket) };
    await sendSnapshotStream(context, peer.stats().address, offer, chunks);
  }

  setPeer(id: NodeId, address: string): void {
    if (id === this.options.localId) throw new ConfigError(`setPeer with the local id ${id}`);
    parseAddress(address);
    const peer = this.outbound.get(id);
    if (peer !== undefined) return peer.setAddress(address);
    const added = this.addPeer(id, address);
    if (this.state === "started") added.start();
    else if (this.state === "stopped") added.close();
  }

  removePeer(id: NodeId): void {
    this.outbound.get(id)?.close();
    this.outbound.delete(id);
    if (this.options.acceptUnknownPeers) return;
    for (const connection of this.inbound) {
      if (connection.peerId === id) connection.close(`peer ${id} was removed`);
    }
  }

  address(): string | null {
    return this.listening;
  }

  stats(): TransportStats {
    return {
      peers: [...this.outbound.values()].map((peer) => peer.stats()),
      receivedMessages: this.received,
      unroutableMessages: this.unroutable,
      rejectedConnections: this.rejected,
    };
  }

  stop(): Promise<void> {
    this.stopping ??= this.closeAll();
    return this.stopping;
  }

  private async closeAll(): Promise<void> {
    this.state = "stopped";
    // A listener still opening is closed below once it is open (or has failed).
    await this.listenDone?.catch(() => {});
    for (const peer of this.outbound.values()) peer.close();
    for (const connection of this.inbound) connection.close("transport stopping");
    const closed = [...this.sockets].map((socket) => whenClosed(socket));
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    if (server !== null && server.listening) {
      closed.push(new Promise((resolve) => server.close(() => resolve())));
    }
    await Promise.all(closed);
    this.listening = null;
  }

  private addPeer(id: NodeId, address: string): OutboundPeer {
    const peer = new OutboundPeer(id, address, {
      options: this.options,
      track: (socket) => this.track(socket),
    });
    this.outbound.set(id, peer);
    return peer;
  }

  private track(socket: Socket): void {
    if (this.state === "stopped") {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
  }

  private async listen(address: Address): Promise<void> {
    const server = createListener(this.options, {
      onConnection: (raw) => this.track(raw),
      onReady: (socket) => this.accept(socket),
      onTlsError: (error, socket) => this.onTlsError(error, socket),
    });
    this.server = server;
    server.on("drop", (data) => {
      this.rejected++;
      this.options.logger.warn("inbound connection refused: inboundConnectionsMax reached", {
        remote: `${data?.remoteAddress ?? "?"}:${data?.remotePort ?? "?"}`,
        inboundConnectionsMax: this.options.inboundConnectionsMax,
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: address.host, port: address.port }, () => {
        server.off("error", reject);
        resolve();
      });
    }).catch((error: unknown) => {
      throw new ListenError(`cannot listen on ${formatAddress(address)}: ${describeError(error)}`, {
        cause: error,
      });
    });
    server.on("error", (error) => {
      this.options.logger.warn("listener error", { error: describeError(error) });
    });
    const bound = server.address() as AddressInfo;
    this.listening = formatAddress({ host: bound.address, port: bound.port });
    const tls = this.options.tls !== null;
    this.options.logger.info("listening", { address: this.listening, tls });
  }

  private accept(socket: Socket): void {
    if (this.state !== "started") {
      socket.destroy();
      return;
    }
    const connection = new InboundConnection(socket, {
      options: this.options,
      isAllowed: (id) => this.options.acceptUnknownPeers || this.outbound.has(id),
      onAccepted: (accepted) => this.onAccepted(accepted),
      snapshotRefusal: (senderId) => this.snapshotRefusal(senderId),
      snapshotHandler: () => (this.state === "started" ? this.onSnapshot : null),
      deliver: (message) => {
        this.received++;
        this.onMessage?.(message);
      },
      onRejected: () => this.rejected++,
      onClosed: (closed) => this.inbound.delete(closed),
    });
    this.inbound.add(connection);
  }

  /**
   * A newer connection from the same peer replaces the old one of the same purpose: a message
   * connection is likely half-dead, and a snapshot stream is superseded by the newer one.
   */
  private onAccepted(accepted: InboundConnection): void {
    for (const connection of this.inbound) {
      if (connection === accepted || connection.peerId !== accepted.peerId) continue;
      if (connection.purpose !== accepted.purpose) continue;
      connection.close(`replaced by a newer ${accepted.purpose} connection from the same peer`);
    }
  }

  /** Refuses a snapshot stream past snapshotsInboundMax (one per sender: it replaces). */
  private snapshotRefusal(senderId: NodeId): string | null {
    let others = 0;
    for (const connection of this.inbound) {
      const isSnapshot = connection.purpose === "snapshot" && connection.peerId !== null;
      if (isSnapshot && connection.peerId !== senderId) others++;
    }
    const max = this.options.snapshotsInboundMax;
    return others >= max ? `already receiving ${max} snapshots (snapshotsInboundMax)` : null;
  }

  private onTlsError(error: Error, socket: TLSSocket): void {
    this.rejected++;
    this.options.logger.warn("inbound TLS handshake failed", {
      remote: `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`,
      error: describeError(error),
    });
  }
}

function whenClosed(socket: Socket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise((resolve) => socket.once("close", () => resolve()));
}
