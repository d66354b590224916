// Buffers for the WAL's encoded runs, reused once the write that carried them has completed.
// A batch of 256 entries of 256 bytes encodes into about 68 KiB. A new Buffer of that size comes
// from malloc, which gives back memory the allocator returned to the kernel on an earlier free,
// so every batch paid page faults on first touching its buffer. On this virtual machine a
// page fault costs about 11 µs per 4 KiB page (recovery.ts), and under `perf` they were the
// largest single cost of a 256-entry append on tmpfs. A buffer reused from batch to batch stays
// mapped and in the cache.
//
// Only buffers this pool handed out come back into it, once each: giving one back twice, or
// giving one it never made, is ignored. The caller must give a buffer back only when nothing
// reads it any more (the WAL: after the write of its group has returned).

/** Below this, Node's own shared pool serves allocUnsafe without page faults. */
const pooledBytesMin = 4096;
/** The smallest buffer the pool makes: a typical batch of the server fits. */
const capacityMin = 64 * 1024;

export class BufferPool {
  private readonly free: Buffer[] = [];
  /**
   * Backing stores of the buffers handed out and not yet given back. Weak: a buffer that never
   * comes back (its append rejected after a failed write) is not held here.
   */
  private readonly out = new WeakSet<ArrayBufferLike>();

  constructor(
    /** Buffers kept for reuse at most. */
    private readonly keepMax: number,
    /** Larger requests get a buffer of their own, never pooled. */
    private readonly bytesMax: number,
  ) {}

  /** A buffer of exactly `bytes` bytes, uninitialized. */
  take(bytes: number): Buffer {
    if (bytes < pooledBytesMin || bytes > this.bytesMax) return Buffer.allocUnsafe(bytes);
    let whole: Buffer | undefined;
    for (let i = this.free.length - 1; i >= 0; i -= 1) {
      const candidate = this.free[i] as Buffer;
      if (candidate.length >= bytes) {
        whole = candidate;
        this.free.splice(i, 1);
        break;
      }
    }
    whole ??= Buffer.allocUnsafeSlow(Math.min(this.bytesMax,
      Math.max(capacityMin, 2 ** Math.ceil(Math.log2(bytes)))));
    this.out.add(whole.buffer);
    return whole.subarray(0, bytes);
  }

  /** Takes back a buffer from take(), for reuse; anything else is ignored. */
  give(buffer: Buffer): void {
    if (!this.out.delete(buffer.buffer)) return;
    if (this.free.length >= this.keepMax) return;
    this.free.push(Buffer.from(buffer.buffer, 0, buffer.buffer.byteLength));
  }

  /** Buffers waiting for reuse (tests). */
  get kept(): number {
    return this.free.length;
  }
}
