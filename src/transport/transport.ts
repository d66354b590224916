// The port through which the driver exchanges Raft messages with its peers. Raft tolerates lost,
// duplicated and reordered messages (the core retransmits), so a transport promises little: it
// delivers what it can, in order per link, and sheds load by dropping, never by blocking.

import type { Message } from "../core/messages.js";
import type { NodeId, SnapshotMeta, Term } from "../core/types.js";

/** What a leader offers a follower: the snapshot's place in the log, and the leader's term. */
export interface SnapshotOffer {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
  readonly meta: SnapshotMeta;
}

/** A snapshot arriving from a peer, handed to the `onSnapshot` handler of `start()`. */
export interface IncomingSnapshot extends SnapshotOffer {
  /**
   * The data, in order; iterate once. Throws SnapshotTransferError if the stream breaks or its
   * checksum fails. The stream ends only after its length and checksum were verified.
   */
  readonly chunks: AsyncIterable<Uint8Array>;
}

/**
 * Consumes one incoming snapshot. Resolving acknowledges it to the sender (whose sendSnapshot
 * then resolves); rejecting, or returning before `chunks` ended, refuses it.
 */
export type SnapshotHandler = (incoming: IncomingSnapshot) => Promise<void>;

export interface Transport {
  /**
   * Starts listening (if the transport has a listen address), connecting to its peers and
   * delivering received messages to `onMessage`, one at a time. `onMessage` must not throw: it
   * should queue the message for the driver's next turn. A transport starts at most once.
   * `onSnapshot` is called once per incoming snapshot stream; without it, offers are refused.
   */
  start(onMessage: (message: Message) => void, onSnapshot?: SnapshotHandler): Promise<void>;
  /**
   * Queues messages for their peers; never blocks and never throws for network reasons. When a
   * peer's bounded queue is full, or the peer has no address, the message is dropped and counted.
   * Every message's `from` must be the local id (a bug otherwise).
   */
  send(messages: readonly Message[]): void;
  /**
   * Streams a snapshot to `offer.to` over a channel of its own (never delaying Raft messages):
   * resolves once every byte was accepted by the receiver (it acknowledges the end), rejects
   * with SnapshotTransferError on any failure (peer unknown or down, connection lost, receiver
   * aborted, timeout without progress). Back-pressure: never reads `chunks` faster than the
   * connection drains. `offer.from` must be the local id (a bug otherwise).
   */
  sendSnapshot(offer: SnapshotOffer, chunks: AsyncIterable<Uint8Array>): Promise<void>;
  /** Adds a peer, or changes its address ("host:port"); messages already queued are kept. */
  setPeer(id: NodeId, address: string): void;
  /** Forgets a peer: closes its connections and drops what was queued for it. */
  removePeer(id: NodeId): void;
  /** The local listening address ("host:port") once started, else null. */
  address(): string | null;
  stats(): TransportStats;
  /** Closes every connection and listener; resolves when all are closed and no timer is left. */
  stop(): Promise<void>;
}

export interface PeerStats {
  readonly id: NodeId;
  readonly address: string;
  /** A connection to the peer is established and past its handshake. */
  readonly connected: boolean;
  /** Messages waiting in this node's bounded queue for the peer, and their encoded size. */
  readonly queuedMessages: number;
  readonly queuedBytes: number;
  /** Messages handed to the connection (not an acknowledgement of delivery). */
  readonly sentMessages: number;
  /** Messages dropped because the queue was full or the message was over the frame limit. */
  readonly droppedMessages: number;
  /** Connection attempts made after a failure or a disconnect. */
  readonly reconnects: number;
}

export interface TransportStats {
  readonly peers: readonly PeerStats[];
  /** Messages received from peers and passed to `onMessage`. */
  readonly receivedMessages: number;
  /** Messages dropped because they were addressed to a node with no known address. */
  readonly unroutableMessages: number;
  /** Inbound connections closed for a failed handshake, bad frame or protocol violation. */
  readonly rejectedConnections: number;
}
