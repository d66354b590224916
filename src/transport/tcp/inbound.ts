// A connection a peer dialled to this node. It runs the acceptor side of the handshake under a
// deadline, then decodes frames and delivers messages. Anything hostile (garbage, an oversized
// or corrupt frame, a failed handshake, a message under another node's id) closes this one
// connection with a logged reason; nothing a peer sends can throw out of the transport.

import type { Socket } from "node:net";
import type { Message } from "../../core/messages.js";
import type { NodeId } from "../../core/types.js";
import type { RaftStoreError } from "../../errors.js";
import { HandshakeError, PeerProtocolError } from "../errors.js";
import { decodeMessage } from "./codec.js";
import { type Frame, FrameKind, handshakeFrameBytesMax } from "./frame.js";
import { FrameDecoder } from "./frame-decoder.js";
import { decodeHello, helloRejection, helloReplyFrame } from "./handshake.js";
import type { ResolvedOptions } from "./options.js";
import { describeError, isPeerInputError } from "./peer-input.js";
import { SnapshotInbound } from "./snapshot-inbound.js";
import type { SnapshotHandler } from "../transport.js";

export interface InboundContext {
  readonly options: ResolvedOptions;
  readonly isAllowed: (senderId: NodeId) => boolean;
  /** The handshake succeeded: the connection now speaks for `connection.peerId`. */
  readonly onAccepted: (connection: InboundConnection) => void;
  /** Why a snapshot stream from `senderId` is refused now (a limit), or null to accept it. */
  readonly snapshotRefusal: (senderId: NodeId) => string | null;
  /** The handler of incoming snapshots, null if the node takes none. */
  readonly snapshotHandler: () => SnapshotHandler | null;
  readonly deliver: (message: Message) => void;
  /** The connection was refused or dropped for what the peer sent. */
  readonly onRejected: () => void;
  readonly onClosed: (connection: InboundConnection) => void;
}

type InboundState = "handshake" | "open" | "closed";
/** What the dialer opened the connection for: its Raft messages, or one snapshot stream. */
export type InboundPurpose = "messages" | "snapshot";

export class InboundConnection {
  private state: InboundState = "handshake";
  private peer: NodeId | null = null;
  private purposeOf: InboundPurpose = "messages";
  private snapshot: SnapshotInbound | null = null;
  private closeReason = "the connection closed";
  private readonly decoder = new FrameDecoder(handshakeFrameBytesMax);
  /** The handshake deadline, then (after a rejection) the wait for the peer to close. */
  private timer: NodeJS.Timeout | null;
  private readonly remote: string;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: InboundContext,
  ) {
    this.remote = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error) => {
      ctx.options.logger.debug("inbound connection error", {
        remote: this.remote, peer: this.peer, error: describeError(error),
      });
    });
    socket.on("close", () => {
      this.clearTimer();
      this.state = "closed";
      this.snapshot?.closed(this.closeReason);
      ctx.onClosed(this);
    });
    const timeoutMs = ctx.options.handshakeTimeoutMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.reject(new HandshakeError(`handshake not completed within ${timeoutMs} ms`));
    }, timeoutMs);
  }

  get peerId(): NodeId | null {
    return this.peer;
  }

  get purpose(): InboundPurpose {
    return this.purposeOf;
  }

  /** Closes the connection without blaming the peer (stop, peer removed, replaced). */
  close(reason: string): void {
    if (this.state === "closed") return;
    this.ctx.options.logger.debug("closing inbound connection", {
      remote: this.remote, peer: this.peer, reason,
    });
    this.state = "closed";
    this.closeReason = `connection closed: ${reason}`;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.state === "closed") return;
    this.snapshot?.onBytes();
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      if (!isPeerInputError(error)) throw error;
      return this.reject(error);
    }
    for (const frame of frames) {
      if (this.state === "handshake") this.handleHello(frame);
      else if (this.state !== "open") return;
      else if (this.snapshot !== null) this.snapshot.handleFrame(frame);
      else this.handleMessage(frame);
    }
  }

  private handleHello(frame: Frame): void {
    if (frame.kind !== FrameKind.Hello && frame.kind !== FrameKind.SnapshotHello) {
      return this.reject(new HandshakeError(`expected a hello frame, got kind ${frame.kind}`));
    }
    const purpose = frame.kind === FrameKind.Hello ? "messages" : "snapshot";
    const o = this.ctx.options;
    let reason: string | null;
    let hello: ReturnType<typeof decodeHello>;
    try {
      hello = decodeHello(frame.payload);
      reason = helloRejection(hello, {
        localId: o.localId, clusterId: o.clusterId, isAllowed: this.ctx.isAllowed,
      });
    } catch (error) {
      if (!isPeerInputError(error)) throw error;
      return this.reject(new HandshakeError(`bad hello: ${error.message}`, { cause: error }));
    }
    if (reason === null && "senderId" in hello && purpose === "snapshot") {
      reason = this.ctx.snapshotRefusal(hello.senderId);
    }
    if (reason !== null || !("senderId" in hello)) {
      return this.reject(new HandshakeError(reason ?? "unsupported hello"));
    }
    this.clearTimer();
    this.state = "open";
    this.peer = hello.senderId;
    this.purposeOf = purpose;
    this.decoder.setFrameBytesMax(o.frameBytesMax);
    this.socket.write(helloReplyFrame({ accepted: true, responderId: o.localId, reason: "" }));
    const fields = { remote: this.remote, peer: this.peer };
    if (purpose === "messages") o.logger.info("accepted connection from peer", fields);
    else o.logger.debug("accepted snapshot stream from peer", fields);
    if (purpose === "snapshot") this.openSnapshot(hello.senderId);
    this.ctx.onAccepted(this);
  }

  private openSnapshot(peerId: NodeId): void {
    this.snapshot = new SnapshotInbound({
      options: this.ctx.options,
      socket: this.socket,
      peerId,
      handler: this.ctx.snapshotHandler(),
      reject: (error) => this.reject(error),
    });
  }

  private handleMessage(frame: Frame): void {
    if (frame.kind !== FrameKind.Message) {
      return this.reject(new PeerProtocolError(`expected a message frame, got kind ${frame.kind}`));
    }
    let message: Message;
    try {
      message = decodeMessage(frame.payload);
    } catch (error) {
      if (!isPeerInputError(error)) throw error;
      return this.reject(error);
    }
    // A peer speaks only for itself, and only to us: no spoofing another node's messages.
    if (message.from !== this.peer) {
      const spoofed = `message from node ${message.from} on node ${this.peer}'s connection`;
      return this.reject(new PeerProtocolError(spoofed));
    }
    if (message.to !== this.ctx.options.localId) {
      const misrouted = `message to node ${message.to}, this is ${this.ctx.options.localId}`;
      return this.reject(new PeerProtocolError(misrouted));
    }
    this.ctx.deliver(message);
  }

  /**
   * Refuses the peer and logs why. During the handshake the peer gets a reply with the reason
   * and a grace period to read it; after it, the connection is simply destroyed.
   */
  private reject(error: RaftStoreError): void {
    if (this.state === "closed") return;
    const o = this.ctx.options;
    const reason = error.message;
    this.closeReason = `${error.code}: ${reason}`;
    o.logger.warn("inbound connection rejected", {
      remote: this.remote, peer: this.peer, stage: this.state, code: error.code, reason,
    });
    this.ctx.onRejected();
    const wasHandshake = this.state === "handshake";
    this.state = "closed";
    this.clearTimer();
    if (!wasHandshake) {
      this.socket.destroy();
      return;
    }
    this.socket.end(helloReplyFrame({ accepted: false, responderId: o.localId, reason }));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.socket.destroy();
    }, o.handshakeTimeoutMs);
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
