// The sending side of one snapshot stream: a connection of its own (so Raft messages never wait
// behind snapshot data), dialled with the same TLS options, opened with a SnapshotHello, then
// header, data frames, end, and the receiver's ack. Back-pressure: the next chunk is pulled from
// the caller's iterable only once the socket took the previous one (write returned true, or
// 'drain' came). Any failure destroys the connection and rejects with SnapshotTransferError.

import type { Socket } from "node:net";
import { crc32c } from "@node-rs/crc32";
import { assert } from "../../assert.js";
import type { RaftStoreError } from "../../errors.js";
import { PeerProtocolError, SnapshotTransferError } from "../errors.js";
import type { SnapshotOffer } from "../transport.js";
import { type Frame, FrameKind, handshakeFrameBytesMax } from "./frame.js";
import { FrameDecoder } from "./frame-decoder.js";
import { decodeHelloReply, helloFrame } from "./handshake.js";
import { type ResolvedOptions, parseAddress } from "./options.js";
import { describeError, isPeerInputError } from "./peer-input.js";
import {
  decodeSnapshotAck,
  snapshotDataFrame,
  snapshotEndFrame,
  snapshotHeaderFrame,
} from "./snapshot-frames.js";
import { dial } from "./sockets.js";

export interface SnapshotSendContext {
  readonly options: ResolvedOptions;
  /** Registers a socket so that stop() can close it and wait for it. */
  readonly track: (socket: Socket) => void;
}

type SendStage = "handshaking" | "streaming" | "awaiting-ack" | "acked";

/** Streams `chunks` to the peer at `address`; see Transport.sendSnapshot. */
export async function sendSnapshotStream(
  ctx: SnapshotSendContext,
  address: string,
  offer: SnapshotOffer,
  chunks: AsyncIterable<Uint8Array>,
): Promise<void> {
  const sender = new SnapshotSender(ctx, offer, address);
  try {
    await sender.run(chunks);
  } finally {
    sender.close();
  }
}

class SnapshotSender {
  private readonly socket: Socket;
  private readonly decoder = new FrameDecoder(handshakeFrameBytesMax);
  private stage: SendStage = "handshaking";
  private failure: SnapshotTransferError | null = null;
  private drained = true;
  private socketError: string | null = null;
  private wake: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ctx: SnapshotSendContext,
    private readonly offer: SnapshotOffer,
    private readonly address: string,
  ) {
    const o = ctx.options;
    const { socket, readyEvent } = dial(o, parseAddress(address));
    this.socket = socket;
    ctx.track(socket);
    socket.on("error", (error) => {
      this.socketError = describeError(error);
    });
    socket.on("close", () => {
      const why = this.socketError === null ? "" : ` (${this.socketError})`;
      this.fail(new SnapshotTransferError(`the connection to node ${offer.to} closed${why}`));
    });
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("drain", () => {
      this.drained = true;
      this.notify();
    });
    socket.once(readyEvent, () => {
      const hello = { clusterId: o.clusterId, senderId: o.localId, targetId: offer.to };
      socket.write(helloFrame(hello, undefined, FrameKind.SnapshotHello));
    });
  }

  async run(chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const o = this.ctx.options;
    await this.until(() => this.stage !== "handshaking", "the handshake", o.handshakeTimeoutMs);
    this.socket.write(snapshotHeaderFrame(this.offer));
    const end = await this.streamData(chunks);
    this.stage = "awaiting-ack";
    this.socket.write(snapshotEndFrame(end));
    const idleMs = o.snapshotIdleTimeoutMs;
    await this.until(() => this.stage === "acked", "the receiver's acknowledgement", idleMs);
    o.logger.debug("snapshot sent", { peer: this.offer.to, index: this.offer.meta.index, ...end });
  }

  /** Writes the data frames; returns the total length and checksum for the end frame. */
  private async streamData(
    chunks: AsyncIterable<Uint8Array>,
  ): Promise<{ totalBytes: number; checksum: number }> {
    const o = this.ctx.options;
    let totalBytes = 0;
    let checksum = 0;
    try {
      for await (const chunk of chunks) {
        for (let at = 0; at < chunk.byteLength; at += o.snapshotChunkBytes) {
          const piece = chunk.subarray(at, at + o.snapshotChunkBytes);
          totalBytes += piece.byteLength;
          if (totalBytes > o.snapshotBytesMax) {
            const max = o.snapshotBytesMax;
            throw new SnapshotTransferError(`snapshot exceeds snapshotBytesMax ${max}`);
          }
          checksum = crc32c(asBuffer(piece), checksum);
          this.throwIfFailed();
          this.drained = this.socket.write(snapshotDataFrame(piece));
          const what = "the receiver to read";
          await this.until(() => this.drained, what, o.snapshotIdleTimeoutMs);
        }
      }
    } catch (error) {
      if (error instanceof SnapshotTransferError) throw error;
      const reason = `the snapshot data failed: ${describeError(error)}`;
      throw new SnapshotTransferError(reason, { cause: error });
    }
    this.throwIfFailed();
    return { totalBytes, checksum };
  }

  close(): void {
    this.clearTimer();
    this.socket.destroy();
  }

  /**
   * Waits for `condition`, re-checked on every event of the connection; rejects once the stream
   * failed, or when `timeoutMs` pass without any event (no progress).
   */
  private async until(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
    while (!condition()) {
      this.throwIfFailed();
      this.clearTimer();
      this.timer = setTimeout(() => {
        this.timer = null;
        this.fail(new SnapshotTransferError(`no progress for ${timeoutMs} ms awaiting ${what}`));
      }, timeoutMs);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    this.clearTimer();
    this.throwIfFailed();
  }

  private onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      if (!isPeerInputError(error)) throw error;
      return this.violation(error);
    }
    for (const frame of frames) {
      if (this.failure !== null) return;
      this.handleFrame(frame);
    }
  }

  private handleFrame(frame: Frame): void {
    try {
      if (this.stage === "handshaking" && frame.kind === FrameKind.HelloReply) {
        return this.handleHelloReply(decodeHelloReply(frame.payload));
      }
      if (frame.kind === FrameKind.SnapshotAck && this.stage !== "handshaking") {
        return this.handleAck(decodeSnapshotAck(frame.payload));
      }
    } catch (error) {
      if (!isPeerInputError(error)) throw error;
      return this.violation(error);
    }
    const unexpected = `unexpected frame kind ${frame.kind} while ${this.stage}`;
    this.violation(new PeerProtocolError(unexpected));
  }

  private handleHelloReply(reply: { accepted: boolean; responderId: number; reason: string }) {
    const to = this.offer.to;
    if (!reply.accepted) {
      return this.fail(new SnapshotTransferError(`node ${to} refused the stream: ${reply.reason}`));
    }
    if (reply.responderId !== to) {
      const wrong = `reached node ${reply.responderId}, expected ${to}`;
      return this.violation(new PeerProtocolError(wrong));
    }
    this.stage = "streaming";
    this.notify();
  }

  private handleAck(ack: { accepted: boolean; reason: string }): void {
    const to = this.offer.to;
    if (!ack.accepted) {
      return this.fail(new SnapshotTransferError(`node ${to} aborted the snapshot: ${ack.reason}`));
    }
    if (this.stage !== "awaiting-ack") {
      return this.violation(new PeerProtocolError("snapshot acknowledged before its end"));
    }
    this.stage = "acked";
    this.notify();
  }

  /** The peer broke the protocol: logged as a warning, and the stream fails. */
  private violation(error: RaftStoreError): void {
    this.ctx.options.logger.warn("snapshot stream failed", {
      peer: this.offer.to, address: this.address, code: error.code, reason: error.message,
    });
    const reason = `node ${this.offer.to}: ${error.message}`;
    this.fail(new SnapshotTransferError(reason, { cause: error }));
  }

  private fail(error: SnapshotTransferError): void {
    if (this.failure !== null || this.stage === "acked") return;
    this.failure = error;
    this.clearTimer();
    this.socket.destroy();
    this.notify();
  }

  private throwIfFailed(): void {
    if (this.failure !== null) throw this.failure;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// The wire bound on a data frame is frameBytesMax; the options check snapshotChunkBytes fits.
assert(handshakeFrameBytesMax >= 1 + 2 + 512, "an ack (with its reason) fits a handshake frame");
