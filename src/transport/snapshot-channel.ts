// The receiving end of one snapshot stream: a bounded buffer of chunks between the network (the
// producer) and the driver's handler (the consumer, iterating `chunks`). The producer stops
// reading from the network while the buffer is full and resumes when the consumer makes room,
// so a slow consumer bounds memory instead of growing it. Both transports use it.

import { assert } from "../assert.js";
import { SnapshotTransferError } from "./errors.js";

type ChannelState = "open" | "ended" | "failed";

export class SnapshotChunkChannel implements AsyncIterable<Uint8Array> {
  private readonly buffered: Uint8Array[] = [];
  private state: ChannelState = "open";
  private error: SnapshotTransferError | null = null;
  private iterated = false;
  private consumed = false;
  private wakeConsumer: (() => void) | null = null;
  private wakeProducer: (() => void) | null = null;

  /**
   * @param chunksMax chunks buffered before `full` turns true (the producer should pause).
   * @param onRoom called when a full buffer gets room again (the producer may resume).
   */
  constructor(
    private readonly chunksMax: number,
    private readonly onRoom: () => void = () => {},
  ) {
    assert(Number.isSafeInteger(chunksMax), () => `chunksMax ${chunksMax} is not an integer`);
    assert(chunksMax >= 1, () => `chunksMax ${chunksMax} must be at least 1`);
  }

  /** The buffer holds chunksMax chunks or more: the producer should stop reading. */
  get full(): boolean {
    return this.buffered.length >= this.chunksMax;
  }

  /** The stream ended (verified) or failed: nothing more will be pushed. */
  get settled(): boolean {
    return this.state !== "open";
  }

  /** Why the stream broke, or null. */
  get failure(): SnapshotTransferError | null {
    return this.error;
  }

  /** The consumer has read the end of the stream. */
  get fullyConsumed(): boolean {
    return this.consumed;
  }

  /** Adds a chunk; ignored once the stream failed (the consumer is gone or the stream broke). */
  push(chunk: Uint8Array): void {
    assert(this.state !== "ended", "push after the snapshot stream ended");
    if (this.state === "failed") return;
    this.buffered.push(chunk);
    this.wake();
  }

  /** Marks the end of the data; call only once it is complete and verified. */
  end(): void {
    assert(this.state !== "ended", "end() twice on a snapshot stream");
    if (this.state === "failed") return;
    this.state = "ended";
    this.wake();
  }

  /**
   * Breaks the stream: the consumer's iteration throws `error` (buffered chunks are dropped). A
   * stream that already ended is not failed: every byte of it was received and verified.
   */
  fail(error: SnapshotTransferError): void {
    if (this.state !== "open") return;
    this.state = "failed";
    this.error = error;
    this.buffered.length = 0;
    this.wake();
  }

  /** Resolves when the buffer has room or the stream is settled (for an awaiting producer). */
  waitForRoom(): Promise<void> {
    if (!this.full || this.state !== "open") return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeProducer = resolve;
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    assert(!this.iterated, "a snapshot's chunks can be iterated only once");
    this.iterated = true;
    try {
      for (;;) {
        if (this.error !== null) throw this.error;
        const chunk = this.take();
        if (chunk !== undefined) {
          yield chunk;
          continue;
        }
        if (this.state === "ended") {
          this.consumed = true;
          return;
        }
        await new Promise<void>((resolve) => {
          this.wakeConsumer = resolve;
        });
      }
    } finally {
      // A consumer that stops early (break, or its own error) abandons the stream.
      if (!this.consumed) this.fail(new SnapshotTransferError("the consumer stopped reading"));
    }
  }

  private take(): Uint8Array | undefined {
    const wasFull = this.full;
    const chunk = this.buffered.shift();
    if (chunk === undefined || !wasFull || this.full) return chunk;
    const producer = this.wakeProducer;
    this.wakeProducer = null;
    producer?.();
    this.onRoom();
    return chunk;
  }

  private wake(): void {
    const consumer = this.wakeConsumer;
    const producer = this.wakeProducer;
    this.wakeConsumer = null;
    if (this.state !== "open") this.wakeProducer = null;
    consumer?.();
    if (this.state !== "open") producer?.();
  }
}
