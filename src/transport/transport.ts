// The port through which the driver exchanges Raft messages with its peers. Raft tolerates lost,
// duplicated and reordered messages (the core retransmits), so a transport promises little: it
// delivers what it can, in order per link, and sheds load by dropping, never by blocking.

import type { Message } from "../core/messages.js";
import type { NodeId } from "../core/types.js";

export interface Transport {
  /**
   * Starts listening (if the transport has a listen address), connecting to its peers and
   * delivering received messages to `onMessage`, one at a time. `onMessage` must not throw: it
   * should queue the message for the driver's next turn. A transport starts at most once.
   */
  start(onMessage: (message: Message) => void): Promise<void>;
  /**
   * Queues messages for their peers; never blocks and never throws for network reasons. When a
   * peer's bounded queue is full, or the peer has no address, the message is dropped and counted.
   * Every message's `from` must be the local id (a bug otherwise).
   */
  send(messages: readonly Message[]): void;
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
