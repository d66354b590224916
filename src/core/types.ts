// The vocabulary of the Raft core: ids, terms, indexes, log entries and the persistent state.

import { assert } from "../assert.js";

/** A server's id in the cluster: a positive integer, unique for the life of the cluster. */
export type NodeId = number & { readonly __brand: "NodeId" };

/** A Raft term. Terms start at 0 (no election held yet) and only grow. */
export type Term = number;

/** A position in the replicated log. The first entry has index 1; 0 means "before the log". */
export type LogIndex = number;

export function nodeId(value: number): NodeId {
  assert(Number.isSafeInteger(value), `node id ${value} is not an integer`);
  assert(value > 0, `node id ${value} must be positive`);
  return value as NodeId;
}

export const EntryType = {
  /** A client command for the state machine (empty data: the leader's no-op of a new term). */
  Normal: 0,
  /** A membership change, read by the core itself. */
  ConfChange: 1,
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export interface Entry {
  readonly term: Term;
  readonly index: LogIndex;
  readonly type: EntryType;
  /**
   * The payload. Per-entry code reads its size as `data.length` (equal to byteLength for a
   * Uint8Array): V8 inlines `length` but calls a builtin for `byteLength`, several times slower.
   */
  readonly data: Uint8Array;
}

/** The state that must be on stable storage before the server answers any message. */
export interface HardState {
  readonly term: Term;
  readonly vote: NodeId | null;
  readonly commit: LogIndex;
}

export const emptyHardState: HardState = { term: 0, vote: null, commit: 0 };

/**
 * Who takes part in the cluster. `votersOutgoing` is non-empty only during joint consensus,
 * when decisions need a majority of both `voters` and `votersOutgoing`. Learners receive the log
 * but never vote and never count toward a quorum.
 */
export interface Configuration {
  readonly voters: readonly NodeId[];
  readonly votersOutgoing: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /**
   * Members' transport addresses, by id: opaque to the core, carried (in configuration entries
   * and snapshots) so that every server learns how to reach the members from the log itself.
   */
  readonly addresses?: Readonly<Record<string, string>>;
}

/** Where a snapshot stands in the log, and the configuration in force at that point. */
export interface SnapshotMeta {
  readonly index: LogIndex;
  readonly term: Term;
  readonly configuration: Configuration;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** Bytes an entry costs in a message or in memory (payload plus a fixed header estimate). */
export function entryBytes(entry: Entry): number {
  return entry.data.length + 24;
}
