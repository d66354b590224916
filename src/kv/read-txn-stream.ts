// A snapshot stream over an LMDB read transaction. The transaction is taken when snapshot() is
// called (so the stream is the state at that moment while applies go on) and must be released
// exactly once: when the stream ends, fails, or is abandoned through return() (a `for await`
// that breaks or throws calls it), or when the state machine closes. The first chunk waits for
// `ready` (the durable flush that snapshot() started).

import { assert } from "../assert.js";

/** What the stream needs of an LMDB read transaction. */
export interface ReadTxn {
  done(): void;
}

export class ReadTxnStream implements AsyncIterableIterator<Uint8Array> {
  private released = false;
  private started = false;

  constructor(
    private readonly chunks: AsyncGenerator<Uint8Array, void, undefined>,
    private readonly txn: ReadTxn,
    private readonly ready: Promise<void>,
    private readonly onRelease: (stream: ReadTxnStream) => void,
  ) {}

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    assert(!this.started, "a snapshot stream is read once");
    return this;
  }

  async next(): Promise<IteratorResult<Uint8Array, undefined>> {
    if (this.released) return { done: true, value: undefined };
    this.started = true;
    try {
      await this.ready;
      const next = await this.chunks.next();
      if (next.done === true) {
        this.release();
        return { done: true, value: undefined };
      }
      return next;
    } catch (error) {
      await this.return();
      throw error;
    }
  }

  /** Abandons the stream: closes the cursor (the generator's cleanup), then the transaction. */
  async return(): Promise<IteratorResult<Uint8Array, undefined>> {
    if (!this.released) {
      try {
        await this.chunks.return(undefined);
      } finally {
        this.release();
      }
    }
    return { done: true, value: undefined };
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    // The cursor (if any) was closed by the generator's cleanup, so the transaction may end:
    // LMDB requires cursors to close before their transaction.
    this.txn.done();
    this.onRelease(this);
  }
}
