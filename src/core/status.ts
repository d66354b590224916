// A read-only summary of a core's state, for drivers and operators.

import type { ProgressState } from "./progress.js";
import type { Raft } from "./raft.js";
import { Role, type SoftState } from "./ready.js";
import type { Configuration, LogIndex, NodeId } from "./types.js";

export interface PeerStatus {
  readonly id: NodeId;
  readonly match: LogIndex;
  readonly next: LogIndex;
  readonly state: ProgressState;
  readonly recentActive: boolean;
  readonly inflight: number;
}

export interface RaftStatus extends SoftState {
  readonly id: NodeId;
  readonly vote: NodeId | null;
  readonly commitIndex: LogIndex;
  readonly appliedIndex: LogIndex;
  readonly lastIndex: LogIndex;
  readonly configuration: Configuration;
  /** The leader's view of every member (empty on other roles). */
  readonly progress: readonly PeerStatus[];
}

export function raftStatus(r: Raft): RaftStatus {
  const progress = [...r.tracker.progress].map(([id, pr]) => ({
    id,
    match: pr.match,
    next: pr.next,
    state: pr.state,
    recentActive: pr.recentActive,
    inflight: pr.inflights.count,
  }));
  return {
    id: r.id,
    ...r.softState(),
    vote: r.vote,
    commitIndex: r.log.commitIndex,
    appliedIndex: r.log.appliedIndex,
    lastIndex: r.log.lastIndex(),
    configuration: r.tracker.configuration,
    progress: r.role === Role.Leader ? progress : [],
  };
}
