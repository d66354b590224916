// The core reads the durable log synchronously through a LogView. The driver keeps what the
// core needs in memory (the log tail and term lookups); the storage backends are the durable
// truth behind it. Entries the core has produced but that are not yet durable live in the
// core's own unstable buffer, not here.

import type { Configuration, Entry, HardState, LogIndex, SnapshotMeta, Term } from "./types.js";

export interface InitialState {
  readonly hardState: HardState;
  readonly configuration: Configuration;
}

export interface LogView {
  /** The hard state and configuration the server restarts from. */
  initialState(): InitialState;
  /** The index of the first entry still held; entries before it were compacted. */
  firstIndex(): LogIndex;
  /** The index of the last durable entry (firstIndex() - 1 when the log is empty). */
  lastIndex(): LogIndex;
  /**
   * The term of the entry at `index`, for index in [firstIndex() - 1, lastIndex()]; at
   * firstIndex() - 1 it is the term of the compaction point (0 for an empty log).
   * Returns null outside that range.
   */
  term(index: LogIndex): Term | null;
  /**
   * Entries in [low, high), low >= firstIndex() and high <= lastIndex() + 1, stopping before the
   * total would pass bytesMax (but always at least one entry when the range is not empty).
   */
  entries(low: LogIndex, high: LogIndex, bytesMax: number): Entry[];
  /**
   * The latest durable snapshot, which covers every compacted entry (null if there is none):
   * what the leader offers a follower that needs entries before firstIndex().
   */
  snapshot(): SnapshotMeta | null;
}
