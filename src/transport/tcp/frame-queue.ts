// A FIFO of encoded frames waiting for one peer's connection. The caller enforces the limits
// (it must know why it drops); the queue keeps the counts they are checked against.

import { assert } from "../../assert.js";

export class FrameQueue {
  private items: Buffer[] = [];
  private head = 0;
  private queuedBytes = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  push(frame: Buffer): void {
    this.items.push(frame);
    this.queuedBytes += frame.length;
  }

  /**
   * Removes frames from the front, at least one and at most `bytesMax` bytes beyond the first,
   * joined into one buffer so that one socket write carries them all. Null when empty.
   */
  takeBatch(bytesMax: number): { readonly buffer: Buffer; readonly count: number } | null {
    if (this.length === 0) return null;
    const start = this.head;
    let bytes = 0;
    while (this.head < this.items.length) {
      const frame = this.items[this.head] as Buffer;
      if (this.head > start && bytes + frame.length > bytesMax) break;
      bytes += frame.length;
      this.head++;
    }
    const batch = this.items.slice(start, this.head);
    this.queuedBytes -= bytes;
    this.compact();
    const buffer = batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch, bytes);
    assert(buffer.length === bytes, () => `batch of ${buffer.length} bytes, counted ${bytes}`);
    return { buffer, count: batch.length };
  }

  /** Empties the queue and returns how many frames it held. */
  clear(): number {
    const count = this.length;
    this.items = [];
    this.head = 0;
    this.queuedBytes = 0;
    return count;
  }

  /** Drops the consumed prefix once it dominates, so taking stays O(1) amortised. */
  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    const bytes = this.queuedBytes;
    assert(this.length > 0 || bytes === 0, () => `an empty queue counts ${bytes} bytes`);
  }
}
