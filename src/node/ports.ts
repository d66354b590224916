// The ports a RaftNode is built from, besides storage and transport: the user's state machine
// and the clock.

import type { LogIndex, SnapshotMeta, Term } from "../core/types.js";

/** A committed command, handed to the state machine exactly once, in log order. */
export interface AppliedEntry {
  readonly index: LogIndex;
  readonly term: Term;
  readonly data: Uint8Array;
}

/**
 * The replicated state machine. `apply` must be deterministic: every node applies the same
 * commands in the same order and must reach the same state. A throw from `apply` means the
 * replicas could diverge, so it stops the node.
 */
export interface StateMachine<Result = unknown> {
  apply(entry: AppliedEntry): Result | Promise<Result>;
  /**
   * Optional: applies consecutive entries at once (in order, with the same results as calling
   * apply for each), for a state machine that gains from batching, e.g. one storage
   * transaction per batch. The node uses it when present.
   */
  applyBatch?(entries: readonly AppliedEntry[]): readonly Result[] | Promise<readonly Result[]>;
  /**
   * For a state machine that keeps its state durably: the last index it applied (stored
   * atomically with its data). The node then resumes after it, so nothing is applied twice.
   * A volatile state machine omits this; it is rebuilt from the latest snapshot and the log.
   */
  appliedIndex?(): LogIndex | Promise<LogIndex>;
  /**
   * Serializes the state as a stream of chunks. The view must be taken when snapshot() is
   * called (before it returns): the node goes on applying entries while the stream is read.
   */
  snapshot(): AsyncIterable<Uint8Array> | Promise<AsyncIterable<Uint8Array>>;
  /**
   * Replaces the whole state with a snapshot's, only once the stream has been read to its end
   * (the store verifies its checksum as the last chunk is read, and throws if it fails): on a
   * throw the previous state must be left untouched, so that an older snapshot can be tried.
   */
  restore(chunks: AsyncIterable<Uint8Array>, meta: SnapshotMeta): Promise<void>;
}

/** Time, injectable so that tests can run in virtual time. */
export interface Clock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export const ReadConsistency = {
  /** ReadIndex (thesis 6.4): confirmed with a quorum; always safe. */
  Linearizable: "linearizable",
  /** Served under the leader's lease when valid (needs bounded clock drift), else ReadIndex. */
  Lease: "lease",
  /** Whatever this node has applied: may be stale. */
  Stale: "stale",
} as const;
export type ReadConsistency = (typeof ReadConsistency)[keyof typeof ReadConsistency];
