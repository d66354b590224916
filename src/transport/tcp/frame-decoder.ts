// Splits a byte stream into frames. It takes chunks of any size and boundary, holds at most one
// partial frame, and refuses a frame as soon as its length prefix exceeds the limit, before any
// of the body is buffered: a declared length never drives allocation past frameBytesMax.

import { assert } from "../../assert.js";
import { CodecError, FrameTooLargeError } from "../errors.js";
import {
  type Frame,
  type FrameKind,
  frameBytesMaxDefault,
  frameChecksum,
  frameHeaderBytes,
  isFrameKind,
} from "./frame.js";

interface PendingHeader {
  readonly payloadBytes: number;
  readonly kind: FrameKind;
  readonly checksum: number;
}

export class FrameDecoder {
  /** Received bytes not yet part of an emitted frame; the first chunk is read from `offset`. */
  private readonly chunks: Buffer[] = [];
  private offset = 0;
  private bufferedBytes = 0;
  private header: PendingHeader | null = null;
  private failed = false;

  constructor(private frameBytesMax: number = frameBytesMaxDefault) {
    assert(Number.isSafeInteger(frameBytesMax), `frameBytesMax ${frameBytesMax} not an integer`);
    assert(frameBytesMax >= 0, `frameBytesMax ${frameBytesMax} is negative`);
  }

  /** Raises or lowers the bound for frames not yet started (e.g. once a handshake is done). */
  setFrameBytesMax(frameBytesMax: number): void {
    assert(Number.isSafeInteger(frameBytesMax), `frameBytesMax ${frameBytesMax} not an integer`);
    assert(this.header === null || this.header.payloadBytes <= frameBytesMax, "frame in progress");
    this.frameBytesMax = frameBytesMax;
  }

  /** Bytes held for a frame not yet complete. */
  buffered(): number {
    return this.bufferedBytes;
  }

  /**
   * Returns the frames completed by `chunk`, in order. Throws FrameTooLargeError past
   * frameBytesMax and CodecError for an unknown kind or a bad checksum; after a throw the
   * stream is unusable and the decoder refuses further input (frames completed earlier in the
   * same chunk are discarded with it: the connection is closed anyway, and Raft retransmits).
   * The decoder may keep a view of `chunk` until its bytes are consumed: do not reuse it.
   */
  push(chunk: Uint8Array): Frame[] {
    assert(!this.failed, "push after the decoder failed: the connection should be closed");
    try {
      return this.drain(chunk);
    } catch (error) {
      this.failed = true;
      throw error;
    }
  }

  private drain(chunk: Uint8Array): Frame[] {
    if (chunk.byteLength > 0) {
      this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.bufferedBytes += chunk.byteLength;
    }
    const frames: Frame[] = [];
    for (;;) {
      if (this.header === null) {
        this.checkLengthPrefix();
        if (this.bufferedBytes < frameHeaderBytes) return frames;
        this.header = this.readHeader();
      }
      if (this.bufferedBytes < this.header.payloadBytes) return frames;
      const { kind, checksum, payloadBytes } = this.header;
      this.header = null;
      const payload = this.take(payloadBytes);
      const actual = frameChecksum(kind, payload);
      if (actual !== checksum) {
        const expected = hex(checksum);
        throw new CodecError(`frame checksum ${hex(actual)} does not match header ${expected}`);
      }
      frames.push({ kind, payload });
    }
  }

  /** Refuses an oversized frame as soon as its 4-byte length is in, before the rest arrives. */
  private checkLengthPrefix(): void {
    if (this.bufferedBytes < 4) return;
    const payloadBytes = this.peek(4).readUInt32BE(0);
    if (payloadBytes > this.frameBytesMax) {
      throw new FrameTooLargeError(payloadBytes, this.frameBytesMax);
    }
  }

  private readHeader(): PendingHeader {
    const bytes = this.take(frameHeaderBytes);
    const payloadBytes = bytes.readUInt32BE(0);
    const kind = bytes.readUInt8(4);
    assert(payloadBytes <= this.frameBytesMax, "length prefix was checked");
    if (!isFrameKind(kind)) throw new CodecError(`unknown frame kind ${kind}`);
    return { payloadBytes, kind, checksum: bytes.readUInt32BE(5) };
  }

  /** The next `n` buffered bytes without consuming them (a copy only if they span chunks). */
  private peek(n: number): Buffer {
    const first = this.chunks[0];
    assert(this.bufferedBytes >= n, () => `peek ${n} of ${this.bufferedBytes} buffered bytes`);
    assert(first !== undefined, "buffered bytes are in chunks");
    if (first.length - this.offset >= n) return first.subarray(this.offset, this.offset + n);
    const copy = Buffer.allocUnsafe(n);
    let copied = 0;
    let offset = this.offset;
    for (const chunk of this.chunks) {
      copied += chunk.copy(copy, copied, offset, Math.min(chunk.length, offset + n - copied));
      offset = 0;
      if (copied === n) break;
    }
    return copy;
  }

  /** Consumes the next `n` bytes into a new buffer the caller owns. */
  private take(n: number): Buffer {
    assert(this.bufferedBytes >= n, () => `take ${n} of ${this.bufferedBytes} buffered bytes`);
    const out = Buffer.allocUnsafe(n);
    let copied = 0;
    while (copied < n) {
      const chunk = this.chunks[0];
      assert(chunk !== undefined, "buffered bytes are in chunks");
      const end = Math.min(chunk.length, this.offset + n - copied);
      copied += chunk.copy(out, copied, this.offset, end);
      if (end === chunk.length) {
        this.chunks.shift();
        this.offset = 0;
      } else {
        this.offset = end;
      }
    }
    this.bufferedBytes -= n;
    return out;
  }
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, "0")}`;
}
