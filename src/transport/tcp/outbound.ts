// The connection this node dials to one peer to send it messages. It owns the peer's bounded
// queue, dials and redials with capped, jittered exponential backoff, runs the dialer side of
// the handshake, then pipelines frames: the frames queued in one event-loop turn go out in one
// socket write, and when the socket pushes back the queue absorbs (and drops past its limits).

import type { Socket } from "node:net";
import { assert } from "../../assert.js";
import type { Message } from "../../core/messages.js";
import type { NodeId } from "../../core/types.js";
import type { RaftStoreError } from "../../errors.js";
import { HandshakeError, PeerProtocolError, PeerStalledError } from "../errors.js";
import type { PeerStats } from "../transport.js";
import { messageBytes } from "./codec.js";
import {
  type Frame,
  FrameKind,
  frameHeaderBytes,
  handshakeFrameBytesMax,
  messageFrame,
} from "./frame.js";
import { FrameDecoder } from "./frame-decoder.js";
import { FrameQueue } from "./frame-queue.js";
import { type HelloReply, decodeHelloReply, helloFrame } from "./handshake.js";
import { type ResolvedOptions, parseAddress } from "./options.js";
import { dial } from "./sockets.js";
import { describeError, isPeerInputError } from "./peer-input.js";

/** Bytes joined into one socket write at most (beyond the first frame). */
const writeBatchBytesMax = 1024 * 1024;

type LinkState = "idle" | "connecting" | "handshaking" | "ready" | "backoff" | "closed";

export interface OutboundContext {
  readonly options: ResolvedOptions;
  /** Registers a socket so that stop() can close it and wait for it. */
  readonly track: (socket: Socket) => void;
}

export class OutboundPeer {
  private state: LinkState = "idle";
  private socket: Socket | null = null;
  private decoder = new FrameDecoder(handshakeFrameBytesMax);
  private readonly queue = new FrameQueue();
  /** The connect-and-handshake deadline, or the backoff delay before the next dial. */
  private timer: NodeJS.Timeout | null = null;
  private stallTimer: NodeJS.Timeout | null = null;
  private flushHandle: NodeJS.Immediate | null = null;
  private waitingDrain = false;
  /** Consecutive failed connections, for the backoff. */
  private failures = 0;
  private lastError: string | null = null;
  private sent = 0;
  private dropped = 0;
  private reconnects = 0;

  constructor(
    readonly id: NodeId,
    private address: string,
    private readonly ctx: OutboundContext,
  ) {}

  /** Starts dialling (once the transport starts). */
  start(): void {
    if (this.state === "idle") this.connect();
  }

  enqueue(m: Message): void {
    const o = this.ctx.options;
    const payloadBytes = messageBytes(m);
    if (payloadBytes > o.frameBytesMax) {
      this.dropped++;
      o.logger.warn("message larger than frameBytesMax dropped", {
        peer: this.id, type: m.type, bytes: payloadBytes, frameBytesMax: o.frameBytesMax,
      });
      return;
    }
    const full = this.queue.length >= o.queueMessagesMax ||
      this.queue.bytes + frameHeaderBytes + payloadBytes > o.queueBytesMax;
    if (full || this.state === "closed") {
      this.dropped++;
      return;
    }
    this.queue.push(messageFrame(m));
    this.scheduleFlush();
  }

  /** Changes the address; a live connection to the old one is closed and redialled. */
  setAddress(address: string): void {
    parseAddress(address);
    if (address === this.address) return;
    this.address = address;
    this.failures = 0;
    if (this.socket !== null) {
      this.socket.destroy();
    } else if (this.state === "backoff") {
      this.clearTimer();
      this.connect();
    }
  }

  /** Closes the connection for good and drops the queue. */
  close(): void {
    this.state = "closed";
    this.clearTimer();
    this.clearStallTimer();
    if (this.flushHandle !== null) clearImmediate(this.flushHandle);
    this.flushHandle = null;
    this.dropped += this.queue.clear();
    this.socket?.destroy();
  }

  stats(): PeerStats {
    return {
      id: this.id,
      address: this.address,
      connected: this.state === "ready",
      queuedMessages: this.queue.length,
      queuedBytes: this.queue.bytes,
      sentMessages: this.sent,
      droppedMessages: this.dropped,
      reconnects: this.reconnects,
    };
  }

  private connect(): void {
    assert(this.socket === null, () => `peer ${this.id}: dial while a socket is open`);
    const o = this.ctx.options;
    const { socket, readyEvent } = dial(o, parseAddress(this.address));
    this.socket = socket;
    this.state = "connecting";
    this.decoder = new FrameDecoder(handshakeFrameBytesMax);
    this.ctx.track(socket);
    socket.on("error", (error) => {
      this.lastError = describeError(error);
    });
    socket.on("close", () => this.onClose(socket));
    socket.on("data", (chunk: Buffer) => this.onData(socket, chunk));
    socket.on("drain", () => this.onDrain(socket));
    socket.once(readyEvent, () => {
      this.state = "handshaking";
      socket.write(helloFrame({ clusterId: o.clusterId, senderId: o.localId, targetId: this.id }));
    });
    this.timer = setTimeout(() => {
      this.timer = null;
      const ms = o.handshakeTimeoutMs;
      this.fail(socket, new HandshakeError(`connect and handshake not done within ${ms} ms`));
    }, o.handshakeTimeoutMs);
  }

  private onData(socket: Socket, chunk: Buffer): void {
    if (socket !== this.socket) return;
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      if (!isPeerInputError(error)) throw error;
      return this.fail(socket, error);
    }
    for (const frame of frames) {
      if (socket.destroyed) return;
      if (this.state !== "handshaking" || frame.kind !== FrameKind.HelloReply) {
        const unexpected = `unexpected frame kind ${frame.kind} in state ${this.state}`;
        return this.fail(socket, new PeerProtocolError(unexpected));
      }
      this.handleHelloReply(socket, frame);
    }
  }

  private handleHelloReply(socket: Socket, frame: Frame): void {
    let reply: HelloReply;
    try {
      reply = decodeHelloReply(frame.payload);
    } catch (error) {
      if (!isPeerInputError(error)) throw error;
      return this.fail(socket, error);
    }
    if (!reply.accepted) {
      return this.fail(socket, new HandshakeError(`peer rejected the handshake: ${reply.reason}`));
    }
    if (reply.responderId !== this.id) {
      const wrong = `reached node ${reply.responderId}, expected ${this.id}`;
      return this.fail(socket, new HandshakeError(wrong));
    }
    this.clearTimer();
    this.state = "ready";
    this.failures = 0;
    this.lastError = null;
    this.ctx.options.logger.info("connected to peer", { peer: this.id, address: this.address });
    this.scheduleFlush();
  }

  /** Closes a connection that broke the protocol; onClose then schedules the redial. */
  private fail(socket: Socket, error: RaftStoreError): void {
    if (socket !== this.socket) return;
    this.ctx.options.logger.warn("outbound connection failed", {
      peer: this.id, address: this.address, code: error.code, reason: error.message,
    });
    this.lastError = null;
    socket.destroy();
  }

  private onClose(socket: Socket): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.waitingDrain = false;
    this.clearTimer();
    this.clearStallTimer();
    if (this.state === "closed") return;
    const o = this.ctx.options;
    const fields = { peer: this.id, address: this.address, error: this.lastError };
    if (this.state === "ready") o.logger.warn("disconnected from peer", fields);
    else if (this.lastError !== null) o.logger.debug("could not connect to peer", fields);
    this.failures++;
    this.state = "backoff";
    this.timer = setTimeout(() => {
      this.timer = null;
      this.reconnects++;
      this.connect();
    }, backoffDelay(this.failures, o.reconnectDelayMinMs, o.reconnectDelayMaxMs));
  }

  /** Writes what is queued now instead of on the next event-loop turn. */
  flushNow(): void {
    if (this.flushHandle !== null) {
      clearImmediate(this.flushHandle);
      this.flushHandle = null;
    }
    this.flush();
  }

  private scheduleFlush(): void {
    if (this.state !== "ready" || this.waitingDrain || this.flushHandle !== null) return;
    this.flushHandle = setImmediate(() => {
      this.flushHandle = null;
      this.flush();
    });
  }

  /** Writes queued frames in batches until the queue is empty or the socket pushes back. */
  private flush(): void {
    const socket = this.socket;
    if (this.state !== "ready" || socket === null || this.waitingDrain) return;
    for (;;) {
      const batch = this.queue.takeBatch(writeBatchBytesMax);
      if (batch === null) return;
      this.sent += batch.count;
      if (!socket.write(batch.buffer)) {
        this.waitingDrain = true;
        const stallMs = this.ctx.options.writeStallTimeoutMs;
        this.stallTimer = setTimeout(() => {
          this.stallTimer = null;
          this.fail(socket, new PeerStalledError(`writes blocked for ${stallMs} ms`));
        }, stallMs);
        return;
      }
    }
  }

  private onDrain(socket: Socket): void {
    if (socket !== this.socket) return;
    this.waitingDrain = false;
    this.clearStallTimer();
    this.flush();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private clearStallTimer(): void {
    if (this.stallTimer !== null) clearTimeout(this.stallTimer);
    this.stallTimer = null;
  }
}

/** Doubles from min per consecutive failure up to max, then takes 50-100% of it (jitter). */
export function backoffDelay(failures: number, minMs: number, maxMs: number): number {
  assert(failures >= 1, () => `backoff after ${failures} failures`);
  const capped = Math.min(maxMs, minMs * 2 ** Math.min(failures - 1, 30));
  return Math.round(capped * (0.5 + Math.random() * 0.5));
}
