// What the core asks its driver to do, one batch at a time. The driver persists `hardState`
// and `entries` (with an fsync when `mustSync`), may send `messages` at once, sends
// `persistedMessages` only once the batch is durable, applies `committed` in order, and then
// calls advance(ready). Only one Ready is outstanding at a time. A leader's Ready that
// Raft.mayPersistLater accepts may be advanced before its write is durable (the write then
// reports back through Raft.persisted).

import type { Message } from "./messages.js";
import type { ReadState } from "./read-index.js";
import type { Entry, HardState, NodeId, SnapshotMeta, Term } from "./types.js";

export const Role = { Follower: 0, PreCandidate: 1, Candidate: 2, Leader: 3 } as const;
export type Role = (typeof Role)[keyof typeof Role];

const roleNames: Record<Role, string> = {
  [Role.Follower]: "follower",
  [Role.PreCandidate]: "precandidate",
  [Role.Candidate]: "candidate",
  [Role.Leader]: "leader",
};

export function roleName(role: Role): string {
  return roleNames[role];
}

/** Volatile state a driver reports (events, status); not persisted. */
export interface SoftState {
  readonly role: Role;
  readonly leaderId: NodeId | null;
  readonly term: Term;
}

export interface Ready {
  readonly softState: SoftState;
  /**
   * A snapshot from the leader that replaces the log: before anything else, restore the state
   * machine from it (the driver already stored its data) and drop every log entry. Null if none.
   */
  readonly snapshot: SnapshotMeta | null;
  /** The hard state to persist, or null if unchanged since the last Ready. */
  readonly hardState: HardState | null;
  /** Entries to append durably; they replace any stored entries at or after entries[0].index. */
  readonly entries: readonly Entry[];
  /** Messages that may be sent before this batch is durable (the leader's Appends, 10.2.1). */
  readonly messages: readonly Message[];
  /** Messages that must wait until this batch is durable (votes, acknowledgements). */
  readonly persistedMessages: readonly Message[];
  /** Committed entries to apply, in order, after the batch is durable. */
  readonly committed: readonly Entry[];
  /** Whether the write must be fsynced (entries, term or vote changed). */
  readonly mustSync: boolean;
  /** Reads confirmed by a quorum: serve each once the state machine has applied its index. */
  readonly readStates: readonly ReadState[];
  /** Reads that will never be confirmed (leadership was lost): fail them. */
  readonly readsAborted: readonly number[];
}
