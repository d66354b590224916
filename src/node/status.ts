// A snapshot of a node's state for operators and the status API.

import type { Raft } from "../core/raft.js";
import { ProgressState } from "../core/progress.js";
import { roleName } from "../core/ready.js";
import type { LogIndex, NodeId, Term } from "../core/types.js";

export interface PeerStatus {
  readonly id: NodeId;
  /** The leader's view (null elsewhere): highest index known replicated, and next to send. */
  readonly matchIndex: LogIndex | null;
  readonly nextIndex: LogIndex | null;
  readonly replication: "probe" | "replicate" | null;
  /** Milliseconds since a message from this peer arrived (null: never). */
  readonly lastContactMs: number | null;
}

export interface NodeStatus {
  readonly id: NodeId;
  readonly state: string;
  readonly role: string;
  readonly term: Term;
  readonly leaderId: NodeId | null;
  readonly commitIndex: LogIndex;
  readonly appliedIndex: LogIndex;
  readonly lastIndex: LogIndex;
  readonly firstIndex: LogIndex;
  readonly peers: readonly PeerStatus[];
  /** Read barriers this node has granted as leader since it started (see ReadCounts). */
  readonly reads: ReadCounts;
}

/**
 * Linearizable and lease reads this node answered as leader: `lease`, at once under its lease;
 * `readIndex`, after a heartbeat round confirmed its leadership (including lease reads whose
 * lease had lapsed).
 */
export interface ReadCounts {
  readonly lease: number;
  readonly readIndex: number;
}

export function nodeStatus(
  raft: Raft,
  state: string,
  appliedIndex: LogIndex,
  lastContact: ReadonlyMap<NodeId, number>,
  now: number,
  reads: ReadCounts,
): NodeStatus {
  const s = raft.status();
  const progress = new Map(s.progress.map((p) => [p.id, p]));
  const peers = raft.tracker.members().filter((id) => id !== raft.id).map((id): PeerStatus => {
    const p = progress.get(id);
    const contact = lastContact.get(id);
    return {
      id,
      matchIndex: p?.match ?? null,
      nextIndex: p?.next ?? null,
      replication: p === undefined ? null : p.state === ProgressState.Replicate ? "replicate" : "probe",
      lastContactMs: contact === undefined ? null : Math.round(now - contact),
    };
  });
  return {
    id: raft.id,
    state,
    role: roleName(s.role),
    term: s.term,
    leaderId: s.leaderId,
    commitIndex: s.commitIndex,
    appliedIndex,
    lastIndex: s.lastIndex,
    firstIndex: raft.log.firstIndex(),
    peers,
    reads: { ...reads },
  };
}
