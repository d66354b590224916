// Linearizable reads without writing to the log (thesis 6.4, ReadIndex). A read asked of the
// leader is served at the commit index of the moment it was asked, once (1) the leader has
// committed an entry of its own term, so that commit index is current, and (2) a quorum has
// acknowledged a heartbeat round sent after the read was asked, so it was still the leader.
// Every heartbeat broadcast is a numbered round; followers echo the number back.

import { assert } from "../assert.js";
import type { LogIndex } from "./types.js";

/** A read the driver may serve once its state machine has applied `index`. */
export interface ReadState {
  readonly requestId: number;
  readonly index: LogIndex;
}

interface PendingRead {
  readonly requestId: number;
  readonly index: LogIndex;
  /** The first heartbeat round sent after the read was asked. */
  readonly round: number;
}

export class ReadIndexTracker {
  /** The number of the last heartbeat round broadcast. */
  round = 0;
  private pending: PendingRead[] = [];
  private awaitingCommit: number[] = [];
  /** Reads confirmed, for the next Ready. */
  confirmed: ReadState[] = [];
  /** Reads that can no longer be confirmed (leadership lost), for the next Ready. */
  aborted: number[] = [];

  /** Starts the next heartbeat round and returns its number. */
  nextRound(): number {
    return ++this.round;
  }

  /** Holds a read until the leader has committed an entry of its term. */
  deferUntilCommit(requestId: number): void {
    this.awaitingCommit.push(requestId);
  }

  takeAwaiting(): number[] {
    const ids = this.awaitingCommit;
    this.awaitingCommit = [];
    return ids;
  }

  add(requestId: number, index: LogIndex, round: number): void {
    const last = this.pending[this.pending.length - 1];
    assert(last === undefined || round >= last.round, `read round ${round} < ${last?.round}`);
    this.pending.push({ requestId, index, round });
  }

  /** Releases every read whose round a quorum has acknowledged. */
  confirmUpTo(round: number): void {
    let n = 0;
    while (n < this.pending.length && (this.pending[n]?.round ?? Infinity) <= round) {
      const read = this.pending[n] as PendingRead;
      this.confirmed.push({ requestId: read.requestId, index: read.index });
      n++;
    }
    if (n > 0) this.pending.splice(0, n);
  }

  /** Leadership ended: every read not yet confirmed is aborted. */
  abortAll(): void {
    for (const read of this.pending) this.aborted.push(read.requestId);
    this.aborted.push(...this.awaitingCommit);
    this.pending = [];
    this.awaitingCommit = [];
  }

  hasOutput(): boolean {
    return this.confirmed.length > 0 || this.aborted.length > 0;
  }

  takeOutput(): { readStates: ReadState[]; readsAborted: number[] } {
    const out = { readStates: this.confirmed, readsAborted: this.aborted };
    this.confirmed = [];
    this.aborted = [];
    return out;
  }
}
