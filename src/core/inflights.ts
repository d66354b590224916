// The Append messages in flight to one follower, as a bounded FIFO of their last indexes.
// When it is full the leader stops sending to that follower until acknowledgements free room:
// this is the per-follower flow control (back-pressure, not an unbounded queue).

import { assert } from "../assert.js";
import type { LogIndex } from "./types.js";

export class Inflights {
  private readonly indexes: LogIndex[] = [];
  private readonly sizes: number[] = [];
  private bytes = 0;

  constructor(
    readonly countMax: number,
    readonly bytesMax: number,
  ) {
    assert(countMax > 0, `inflight count limit ${countMax} must be positive`);
    assert(bytesMax > 0, `inflight byte limit ${bytesMax} must be positive`);
  }

  get count(): number {
    return this.indexes.length;
  }

  full(): boolean {
    return this.indexes.length >= this.countMax || this.bytes >= this.bytesMax;
  }

  add(lastIndex: LogIndex, bytes: number): void {
    assert(!this.full(), `inflights full (${this.count}/${this.countMax}, ${this.bytes} bytes)`);
    const previous = this.indexes[this.indexes.length - 1];
    assert(previous === undefined || lastIndex > previous, `inflight ${lastIndex} <= ${previous}`);
    this.indexes.push(lastIndex);
    this.sizes.push(bytes);
    this.bytes += bytes;
  }

  /** Frees every message whose last index is <= index (they have been acknowledged). */
  freeLE(index: LogIndex): void {
    let n = 0;
    while (n < this.indexes.length && (this.indexes[n] ?? Infinity) <= index) {
      this.bytes -= this.sizes[n] ?? 0;
      n++;
    }
    if (n === 0) return;
    this.indexes.splice(0, n);
    this.sizes.splice(0, n);
    assert(this.bytes >= 0, `inflight bytes went negative: ${this.bytes}`);
  }

  /** Frees the oldest message (it may have been lost), so that one more can be sent. */
  freeFirstOne(): void {
    const first = this.indexes[0];
    if (first !== undefined) this.freeLE(first);
  }

  reset(): void {
    this.indexes.length = 0;
    this.sizes.length = 0;
    this.bytes = 0;
  }
}
