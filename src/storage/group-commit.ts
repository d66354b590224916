// Group commit for the log stores (the WAL, and the LMDB and LevelDB ones). An append accepted
// while a write or a sync is in flight waits here; when that completes, every waiting append (up
// to groupBytesMax) goes into one write (the WAL: one writev; an engine: one transaction or
// batch) covered by one sync. Each append's promise settles only after the write covering it,
// and, if any append of its group asked for sync, the sync covering it. A lone append is
// written at once: a sequential caller adds no wait.
//
// Groups are written in submission order and their appends resolve in that order. A failed
// write or fdatasync rejects every append of its group and every append waiting behind it, and
// every later submit(): after a failed fsync nothing written since the last good one is known
// to be durable, so nothing may be reported so.

import { assert } from "../assert.js";

/** One group commit writes at most this much (it always takes at least one append). */
export const groupBytesMax = 16 * 1024 * 1024;
/** Appends accepted but not written yet; past this, a store's append() waits (backpressure). */
export const pendingBytesMax = 64 * 1024 * 1024;

/** Writes the appends of one group (in order) together; syncs afterwards when `sync`. */
export type WriteGroup<T> = (appends: readonly T[], sync: boolean) => Promise<void>;

interface Waiter<T> {
  readonly append: T;
  readonly sync: boolean;
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit<T> {
  private pending: Waiter<T>[] = [];
  private pendingBytesTotal = 0;
  private running: Promise<void> | null = null;
  private failure: { readonly error: unknown } | null = null;

  constructor(
    private readonly writeGroup: WriteGroup<T>,
    /** A group stops growing here (it always takes at least one append). */
    private readonly groupBytesMax: number,
  ) {
    assert(groupBytesMax >= 1, `groupBytesMax ${groupBytesMax} < 1`);
  }

  /** Payload bytes accepted but not yet written. */
  get pendingBytes(): number {
    return this.pendingBytesTotal;
  }

  /** Queues one append of `bytes`; settles once it is written (and, with `sync`, durable). */
  submit(append: T, sync: boolean, bytes: number): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure.error);
    assert(bytes >= 0, `append of ${bytes} bytes`);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ append, sync, bytes, resolve, reject });
      this.pendingBytesTotal += bytes;
      this.running ??= this.run();
    });
  }

  /** Settles (never rejects) once nothing is waiting or in flight. */
  async idle(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  private async run(): Promise<void> {
    try {
      for (let first = true; ; first = false) {
        if (!first) {
          // Callers whose appends just resolved get one turn to submit their next ones, so
          // concurrent appenders share the next group instead of splitting into two halves
          // that alternate (each half would then wait for the other's fdatasync).
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (this.pending.length === 0) return;
        }
        const group = this.take();
        try {
          await this.writeGroup(group.map((waiter) => waiter.append),
            group.some((waiter) => waiter.sync));
        } catch (error) {
          this.fail(group, error);
          return;
        }
        for (const waiter of group) waiter.resolve();
      }
    } finally {
      this.running = null;
    }
  }

  /** The oldest waiting appends, up to groupBytesMax (at least one). */
  private take(): Waiter<T>[] {
    let bytes = 0;
    let count = 0;
    for (const waiter of this.pending) {
      if (count > 0 && bytes + waiter.bytes > this.groupBytesMax) break;
      bytes += waiter.bytes;
      count += 1;
    }
    assert(count >= 1, "took an empty group");
    this.pendingBytesTotal -= bytes;
    return this.pending.splice(0, count);
  }

  private fail(group: readonly Waiter<T>[], error: unknown): void {
    this.failure = { error };
    const waiting = this.pending.splice(0);
    this.pendingBytesTotal = 0;
    for (const waiter of [...group, ...waiting]) waiter.reject(error);
  }
}
