// The receiving side of one snapshot stream, on an inbound connection that opened with a
// SnapshotHello. It checks the header (the offer must come from the handshake's sender and be
// addressed to this node), feeds data frames into a bounded channel that the handler iterates,
// pauses the socket while the channel is full, verifies the total length and CRC32C at the end,
// and answers with an ack once the handler settles. Anything wrong closes the connection through
// `reject` (logged and counted), which breaks the handler's iteration with SnapshotTransferError.

import type { Socket } from "node:net";
import { crc32c } from "@node-rs/crc32";
import { assert } from "../../assert.js";
import type { NodeId } from "../../core/types.js";
import type { RaftStoreError } from "../../errors.js";
import { CodecError, PeerProtocolError, SnapshotTransferError } from "../errors.js";
import { SnapshotChunkChannel } from "../snapshot-channel.js";
import type { IncomingSnapshot, SnapshotHandler, SnapshotOffer } from "../transport.js";
import { type Frame, FrameKind } from "./frame.js";
import type { ResolvedOptions } from "./options.js";
import { describeError, isPeerInputError } from "./peer-input.js";
import { decodeSnapshotEnd, decodeSnapshotHeader, snapshotAckFrame } from "./snapshot-frames.js";

/** Data frames buffered for a slow handler before the socket is paused. */
const chunksMax = 4;

export interface SnapshotInboundContext {
  readonly options: ResolvedOptions;
  readonly socket: Socket;
  /** The sender, as established by the handshake. */
  readonly peerId: NodeId;
  readonly handler: SnapshotHandler | null;
  /** Closes the connection for what the peer sent (or did not send): logged and counted. */
  readonly reject: (error: RaftStoreError) => void;
}

type ReceiveStage = "header" | "data" | "ended" | "done";

export class SnapshotInbound {
  private stage: ReceiveStage = "header";
  private channel: SnapshotChunkChannel | null = null;
  private totalBytes = 0;
  private checksum = 0;
  private paused = false;
  private idleTimer: NodeJS.Timeout | null = null;
  private lingerTimer: NodeJS.Timeout | null = null;

  constructor(private readonly ctx: SnapshotInboundContext) {
    this.armIdle();
  }

  /** Bytes arrived: the sender makes progress (unless we stopped reading, it must keep it up). */
  onBytes(): void {
    if (!this.paused && (this.stage === "header" || this.stage === "data")) this.armIdle();
  }

  handleFrame(frame: Frame): void {
    if (this.stage === "done") return; // answered already; the rest is discarded
    switch (frame.kind) {
      case FrameKind.SnapshotHeader:
        return this.handleHeader(frame.payload);
      case FrameKind.SnapshotData:
        return this.handleData(frame.payload);
      case FrameKind.SnapshotEnd:
        return this.handleEnd(frame.payload);
      default: {
        const unexpected = `unexpected frame kind ${frame.kind} in a snapshot stream`;
        return this.ctx.reject(new PeerProtocolError(unexpected));
      }
    }
  }

  /** The connection closed: a stream not yet complete breaks for its consumer. */
  closed(reason: string): void {
    this.clearTimers();
    this.stage = "done";
    const from = this.ctx.peerId;
    this.channel?.fail(new SnapshotTransferError(`snapshot stream from node ${from}: ${reason}`));
  }

  private handleHeader(payload: Buffer): void {
    if (this.stage !== "header") {
      return this.ctx.reject(new PeerProtocolError(`snapshot header in stage ${this.stage}`));
    }
    let offer: SnapshotOffer;
    try {
      offer = decodeSnapshotHeader(payload);
    } catch (error) {
      if (!isPeerInputError(error)) throw error;
      return this.ctx.reject(error);
    }
    const localId = this.ctx.options.localId;
    if (offer.from !== this.ctx.peerId) {
      const spoofed = `snapshot from node ${offer.from} on node ${this.ctx.peerId}'s connection`;
      return this.ctx.reject(new PeerProtocolError(spoofed));
    }
    if (offer.to !== localId) {
      const misrouted = `snapshot to node ${offer.to}, this is ${localId}`;
      return this.ctx.reject(new PeerProtocolError(misrouted));
    }
    const handler = this.ctx.handler;
    if (handler === null) return this.finish("this node does not accept snapshots");
    this.stage = "data";
    const channel = new SnapshotChunkChannel(chunksMax, () => this.resume());
    this.channel = channel;
    void this.runHandler(handler, { ...offer, chunks: channel });
  }

  private handleData(payload: Buffer): void {
    const channel = this.channel;
    if (this.stage !== "data" || channel === null) {
      return this.ctx.reject(new PeerProtocolError(`snapshot data in stage ${this.stage}`));
    }
    const max = this.ctx.options.snapshotBytesMax;
    if (this.totalBytes + payload.length > max) {
      const over = `snapshot exceeds snapshotBytesMax ${max}`;
      return this.ctx.reject(new PeerProtocolError(over));
    }
    this.totalBytes += payload.length;
    this.checksum = crc32c(payload, this.checksum);
    channel.push(payload);
    if (channel.full) this.pause();
  }

  private handleEnd(payload: Buffer): void {
    const channel = this.channel;
    if (this.stage !== "data" || channel === null) {
      return this.ctx.reject(new PeerProtocolError(`snapshot end in stage ${this.stage}`));
    }
    let end: { totalBytes: number; checksum: number };
    try {
      end = decodeSnapshotEnd(payload);
    } catch (error) {
      if (!isPeerInputError(error)) throw error;
      return this.ctx.reject(error);
    }
    if (end.totalBytes !== this.totalBytes || end.checksum !== this.checksum) {
      const got = `${this.totalBytes} bytes, crc32c ${hex(this.checksum)}`;
      const declared = `${end.totalBytes} bytes, crc32c ${hex(end.checksum)}`;
      return this.ctx.reject(new CodecError(`snapshot data (${got}) does not match its end ` +
        `frame (${declared})`));
    }
    this.stage = "ended";
    this.clearTimers();
    channel.end();
  }

  private async runHandler(handler: SnapshotHandler, incoming: IncomingSnapshot): Promise<void> {
    let reason: string | null = null;
    try {
      await handler(incoming);
    } catch (error) {
      reason = describeError(error);
    }
    if (reason === null && this.channel?.fullyConsumed !== true) {
      reason = "the handler returned before the stream ended";
    }
    this.finish(reason);
  }

  /** Answers the sender (accepted when `refusal` is null), then lets it close the connection. */
  private finish(refusal: string | null): void {
    // The connection broke first (its close event may still be pending): the sender knows.
    if (this.stage === "done" || this.ctx.socket.destroyed) return;
    assert(refusal !== null || this.stage === "ended", "a snapshot accepted before its end");
    this.stage = "done";
    this.clearTimers();
    const o = this.ctx.options;
    const fields = { peer: this.ctx.peerId, bytes: this.totalBytes };
    if (refusal === null) o.logger.info("snapshot received", fields);
    else o.logger.warn("snapshot refused", { ...fields, reason: refusal });
    this.channel?.fail(new SnapshotTransferError(`snapshot refused: ${refusal ?? ""}`));
    // Read and discard whatever the sender still sends until it sees the answer and closes.
    this.ctx.socket.resume();
    this.ctx.socket.end(snapshotAckFrame({ accepted: refusal === null, reason: refusal ?? "" }));
    this.lingerTimer = setTimeout(() => this.ctx.socket.destroy(), o.handshakeTimeoutMs);
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.ctx.socket.pause();
    // Our consumer is behind, not the sender: no idle deadline while we do not read.
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private resume(): void {
    if (!this.paused || this.stage === "done") return;
    this.paused = false;
    this.ctx.socket.resume();
    this.armIdle();
  }

  private armIdle(): void {
    if (this.idleTimer !== null) {
      this.idleTimer.refresh();
      return;
    }
    const ms = this.ctx.options.snapshotIdleTimeoutMs;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      this.ctx.reject(new SnapshotTransferError(`no snapshot data for ${ms} ms`));
    }, ms);
  }

  private clearTimers(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    this.idleTimer = null;
    this.lingerTimer = null;
  }
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, "0")}`;
}
