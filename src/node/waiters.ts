// Promises the driver owes its callers: proposals waiting for their entry to be applied, and
// reads waiting for a quorum's confirmation and then for the state machine to catch up.

import type { LogIndex, Term } from "../core/types.js";
import { ProposalDroppedError, TimeoutError } from "../errors.js";
import type { Clock } from "./ports.js";

export interface Deferred<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

export function deferred<T>(): { promise: Promise<T>; handle: Deferred<T> } {
  let handle!: Deferred<T>;
  const promise = new Promise<T>((resolve, reject) => {
    handle = { resolve, reject };
  });
  return { promise, handle };
}

interface ProposalWaiter<R> extends Deferred<R> {
  readonly term: Term;
  readonly deadline: number;
}

/**
 * Proposals handed to the core, by log index. Timeouts are swept once per tick rather than
 * armed per proposal: at tens of thousands of proposals a second, timers would cost more than
 * the proposals.
 */
export class ProposalWaiters<R> {
  private readonly byIndex = new Map<LogIndex, ProposalWaiter<R>>();

  get size(): number {
    return this.byIndex.size;
  }

  /** Waits for the entry proposed at index in term, until `deadline` (clock time). */
  add(index: LogIndex, term: Term, deadline: number, handle: Deferred<R>): void {
    this.byIndex.set(index, { resolve: handle.resolve, reject: handle.reject, term, deadline });
  }

  /** The entry at index was applied with `result`: settle its proposal, if one waits here. */
  applied(index: LogIndex, term: Term, result: R): void {
    const waiter = this.byIndex.get(index);
    if (waiter === undefined) return;
    this.byIndex.delete(index);
    if (waiter.term === term) waiter.resolve(result);
    else waiter.reject(new ProposalDroppedError(`a new leader replaced the entry at index ${index}`));
  }

  /** Rejects the proposals whose deadline has passed (outcome unknown). */
  sweep(now: number): void {
    // Indexes were added in order, and so were their deadlines.
    for (const [index, waiter] of this.byIndex) {
      if (waiter.deadline > now) break;
      this.byIndex.delete(index);
      waiter.reject(new TimeoutError(`proposal at index ${index} was not applied in time`));
    }
  }

  rejectAll(error: Error): void {
    for (const waiter of this.byIndex.values()) waiter.reject(error);
    this.byIndex.clear();
  }
}

interface ReadWaiter extends Deferred<LogIndex> {
  readonly timer: unknown;
}

/** Reads grouped under a request id until confirmed, then waiting for the apply index. */
export class ReadWaiters {
  private readonly unconfirmed = new Map<number, ReadWaiter[]>();
  private confirmed: { index: LogIndex; waiter: ReadWaiter }[] = [];
  private nextRequestId = 1;
  /** Reads granted so far: after a quorum confirmed them (confirm), or at once (ready). */
  readonly granted = { lease: 0, readIndex: 0 };

  constructor(private readonly clock: Clock) {}

  /** A new read; the caller hands it to the core in a batch under batchId(). */
  wait(timeoutMs: number, queue: ReadWaiter[]): Promise<LogIndex> {
    const { promise, handle } = deferred<LogIndex>();
    const waiter: ReadWaiter = {
      ...handle,
      timer: this.clock.setTimeout(() => {
        waiter.reject(new TimeoutError(`read not confirmed within ${timeoutMs} ms`));
      }, timeoutMs),
    };
    queue.push(waiter);
    return promise;
  }

  /** Registers a batch of reads under a new request id for the core. */
  register(batch: ReadWaiter[]): number {
    const requestId = this.nextRequestId++;
    this.unconfirmed.set(requestId, batch);
    return requestId;
  }

  /** A quorum confirmed the batch: serve it once the state machine reaches index. */
  confirm(requestId: number, index: LogIndex): void {
    const batch = this.unconfirmed.get(requestId) ?? [];
    this.granted.readIndex += batch.length;
    for (const waiter of batch) this.confirmed.push({ index, waiter });
    this.unconfirmed.delete(requestId);
  }

  /** Waits for `index` to be applied, with no confirmation needed (a lease read). */
  ready(index: LogIndex, waiter: ReadWaiter): void {
    this.granted.lease += 1;
    this.confirmed.push({ index, waiter });
  }

  abort(requestId: number, error: Error): void {
    for (const waiter of this.unconfirmed.get(requestId) ?? []) this.settle(waiter, error);
    this.unconfirmed.delete(requestId);
  }

  /** Resolves every confirmed read whose index the state machine has reached. */
  release(appliedIndex: LogIndex): void {
    if (this.confirmed.length === 0) return;
    const still: { index: LogIndex; waiter: ReadWaiter }[] = [];
    for (const read of this.confirmed) {
      if (read.index <= appliedIndex) this.settle(read.waiter, null, read.index);
      else still.push(read);
    }
    this.confirmed = still;
  }

  rejectAll(error: Error, batches: ReadWaiter[][] = []): void {
    for (const batch of [...this.unconfirmed.values(), ...batches]) for (const w of batch) this.settle(w, error);
    for (const read of this.confirmed) this.settle(read.waiter, error);
    this.unconfirmed.clear();
    this.confirmed = [];
  }

  private settle(waiter: ReadWaiter, error: Error | null, index = 0): void {
    this.clock.clearTimeout(waiter.timer);
    if (error === null) waiter.resolve(index);
    else waiter.reject(error);
  }
}

export type { ReadWaiter };
