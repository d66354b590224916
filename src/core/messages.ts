// The messages Raft servers exchange. They come in request/response pairs; every message
// carries the sender's term, which is how servers learn of newer terms (paper, section 5.1).

import { assertNever } from "../assert.js";
import type { Entry, LogIndex, NodeId, SnapshotMeta, Term } from "./types.js";

export const MessageType = {
  PreVote: 1,
  PreVoteResponse: 2,
  Vote: 3,
  VoteResponse: 4,
  Append: 5,
  AppendResponse: 6,
  Heartbeat: 7,
  HeartbeatResponse: 8,
  TimeoutNow: 9,
  InstallSnapshot: 10,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  /** The sender's term; for a PreVote, the term the pre-candidate would campaign in. */
  readonly term: Term;
}

export interface VoteRequest extends Envelope {
  readonly type: typeof MessageType.PreVote | typeof MessageType.Vote;
  readonly lastLogIndex: LogIndex;
  readonly lastLogTerm: Term;
  /** Set on the campaign a leadership transfer starts: voters then ignore their leader lease. */
  readonly transfer: boolean;
}

export interface VoteResponse extends Envelope {
  readonly type: typeof MessageType.PreVoteResponse | typeof MessageType.VoteResponse;
  readonly granted: boolean;
}

export interface AppendRequest extends Envelope {
  readonly type: typeof MessageType.Append;
  readonly prevIndex: LogIndex;
  readonly prevTerm: Term;
  readonly entries: readonly Entry[];
  readonly commit: LogIndex;
}

export interface AppendResponse extends Envelope {
  readonly type: typeof MessageType.AppendResponse;
  readonly success: boolean;
  /** On success, the last index known to match the leader; on rejection, the prevIndex refused. */
  readonly index: LogIndex;
  /** On rejection: the follower's guess of the last index that may match (fast backtracking). */
  readonly hintIndex: LogIndex;
  /** On rejection: the term of the follower's entry at hintIndex. */
  readonly hintTerm: Term;
}

export interface Heartbeat extends Envelope {
  readonly type: typeof MessageType.Heartbeat;
  /** The leader's commit index, capped at what this follower is known to hold. */
  readonly commit: LogIndex;
  /** Opaque leader context echoed back (used to confirm leadership for reads); 0 if none. */
  readonly context: number;
}

export interface HeartbeatResponse extends Envelope {
  readonly type: typeof MessageType.HeartbeatResponse;
  readonly context: number;
}

/** Sent by a leader transferring leadership: the receiver campaigns at once (thesis 3.10). */
export interface TimeoutNow extends Envelope {
  readonly type: typeof MessageType.TimeoutNow;
}

/**
 * The leader offers a follower its snapshot, for entries it compacted away. Only the metadata
 * travels in the message: the driver streams the snapshot's data separately, and steps this
 * message into the follower's core once the data is received, verified and stored. The answer
 * is an AppendResponse.
 */
export interface InstallSnapshot extends Envelope {
  readonly type: typeof MessageType.InstallSnapshot;
  readonly meta: SnapshotMeta;
}

export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | Heartbeat
  | HeartbeatResponse
  | TimeoutNow
  | InstallSnapshot;

const names: Record<MessageType, string> = {
  [MessageType.PreVote]: "PreVote",
  [MessageType.PreVoteResponse]: "PreVoteResponse",
  [MessageType.Vote]: "Vote",
  [MessageType.VoteResponse]: "VoteResponse",
  [MessageType.Append]: "Append",
  [MessageType.AppendResponse]: "AppendResponse",
  [MessageType.Heartbeat]: "Heartbeat",
  [MessageType.HeartbeatResponse]: "HeartbeatResponse",
  [MessageType.TimeoutNow]: "TimeoutNow",
  [MessageType.InstallSnapshot]: "InstallSnapshot",
};

export function messageTypeName(type: MessageType): string {
  return names[type];
}

/** A one-line human description of a message, for traces. */
export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${names[m.type]} t${m.term}`;
  switch (m.type) {
    case MessageType.PreVote:
    case MessageType.Vote:
      return `${head} last=${m.lastLogIndex}@t${m.lastLogTerm}${m.transfer ? " transfer" : ""}`;
    case MessageType.PreVoteResponse:
    case MessageType.VoteResponse:
      return `${head} ${m.granted ? "granted" : "rejected"}`;
    case MessageType.Append: {
      const last = m.entries.length > 0 ? m.prevIndex + m.entries.length : null;
      const range = last === null ? "none" : `${m.prevIndex + 1}..${last}`;
      return `${head} prev=${m.prevIndex}@t${m.prevTerm} entries=${range} commit=${m.commit}`;
    }
    case MessageType.AppendResponse:
      return m.success
        ? `${head} ok index=${m.index}`
        : `${head} reject index=${m.index} hint=${m.hintIndex}@t${m.hintTerm}`;
    case MessageType.Heartbeat:
      return `${head} commit=${m.commit}`;
    case MessageType.HeartbeatResponse:
    case MessageType.TimeoutNow:
      return head;
    case MessageType.InstallSnapshot:
      return `${head} snapshot=${m.meta.index}@t${m.meta.term}`;
    default:
      return assertNever(m, "message");
  }
}
