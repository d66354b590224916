// The leader's view of each follower: how much of the log it is known to hold (match), what to
// send next (next), and whether replication is probing for the match point or streaming.

import { assert, assertNever } from "../assert.js";
import { Inflights } from "./inflights.js";
import { VoteResult, jointActive, jointIndex, jointVoteResult } from "./quorum.js";
import type { Configuration, LogIndex, NodeId } from "./types.js";

export const ProgressState = {
  /** The leader does not know where the follower's log matches: one Append at a time. */
  Probe: 0,
  /** The follower is matching: stream Appends optimistically, up to the inflight limit. */
  Replicate: 1,
  /** The follower needs compacted entries: a snapshot is on its way; nothing else is sent. */
  Snapshot: 2,
} as const;
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState];

export class Progress {
  match: LogIndex = 0;
  next: LogIndex;
  state: ProgressState = ProgressState.Probe;
  /** In Probe, an Append is outstanding: wait for its answer (or a heartbeat response). */
  probeSent = false;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /** The latest heartbeat round this follower acknowledged (for reads and leases). */
  heartbeatRound = 0;
  /** In Snapshot: the index of the snapshot being sent. */
  pendingSnapshot: LogIndex = 0;
  readonly inflights: Inflights;

  constructor(next: LogIndex, inflightMax: number, inflightBytesMax: number) {
    assert(next >= 1, `progress next ${next} must be >= 1`);
    this.next = next;
    this.inflights = new Inflights(inflightMax, inflightBytesMax);
  }

  becomeProbe(): void {
    // After a snapshot, probe from its end: the follower holds everything up to it if it took it.
    const from = this.state === ProgressState.Snapshot ? Math.max(this.match, this.pendingSnapshot) : this.match;
    this.state = ProgressState.Probe;
    this.next = from + 1;
    this.pendingSnapshot = 0;
    this.probeSent = false;
    this.inflights.reset();
  }

  becomeSnapshot(snapshotIndex: LogIndex): void {
    this.state = ProgressState.Snapshot;
    this.pendingSnapshot = snapshotIndex;
    this.probeSent = false;
    this.inflights.reset();
  }

  becomeReplicate(): void {
    this.state = ProgressState.Replicate;
    this.next = this.match + 1;
    this.inflights.reset();
  }

  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      case ProgressState.Snapshot:
        return true;
      default:
        return assertNever(this.state, "progress state");
    }
  }

  /** Records that an Append ending at lastIndex (possibly empty) was sent. */
  sentAppend(lastIndex: LogIndex, bytes: number, entryCount: number): void {
    if (this.state === ProgressState.Replicate) {
      if (entryCount === 0) return;
      this.next = lastIndex + 1;
      this.inflights.add(lastIndex, bytes);
    } else {
      this.probeSent = true;
    }
  }

  /** An acknowledgement up to index: raise match. Returns false if it told us nothing new. */
  maybeUpdate(index: LogIndex): boolean {
    if (index <= this.match) {
      this.next = Math.max(this.next, index + 1);
      return false;
    }
    this.match = index;
    this.next = Math.max(this.next, index + 1);
    this.probeSent = false;
    return true;
  }

  /**
   * A rejection of the Append whose prevIndex was `rejected`, with the follower's hint of where
   * to probe next. Returns false when the rejection is stale (answers an older message).
   */
  maybeDecrTo(rejected: LogIndex, probeIndex: LogIndex): boolean {
    // While a snapshot is on its way, its outcome decides; rejections are of older Appends.
    if (this.state === ProgressState.Snapshot) return false;
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, probeIndex + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }
}

/** Progress of every member, and the votes of the current election. */
export class ProgressTracker {
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();
  /**
   * Servers a not yet committed configuration removed: the leader keeps replicating to them
   * (they count for nothing) so that they learn of their removal and stop campaigning.
   */
  private readonly retiring = new Set<NodeId>();

  constructor(
    public configuration: Configuration,
    private readonly inflightMax: number,
    private readonly inflightBytesMax: number,
  ) {}

  /** Everyone the leader replicates to: the configuration's members and retiring servers. */
  members(): NodeId[] {
    const all = new Set([
      ...this.configuration.voters,
      ...this.configuration.votersOutgoing,
      ...this.configuration.learners,
      ...this.retiring,
    ]);
    return [...all];
  }

  /**
   * Switches to a new configuration. New members start probing at `next`; removed ones are
   * dropped, or kept as retiring when `keepRemoved` (a leader, until the change commits).
   */
  setConfiguration(configuration: Configuration, next: LogIndex, keepRemoved: boolean): void {
    const before = this.members();
    this.configuration = configuration;
    for (const id of this.retiring) if (this.isMember(id)) this.retiring.delete(id);
    for (const id of before) {
      if (this.isMember(id) || this.retiring.has(id)) continue;
      if (keepRemoved) this.retiring.add(id);
      else this.progress.delete(id);
    }
    for (const id of this.members()) {
      if (!this.progress.has(id)) {
        this.progress.set(id, new Progress(next, this.inflightMax, this.inflightBytesMax));
      }
    }
  }

  private isMember(id: NodeId): boolean {
    const c = this.configuration;
    return c.voters.includes(id) || c.votersOutgoing.includes(id) || c.learners.includes(id);
  }

  /** Servers removed by a configuration that is not yet committed. */
  retiringIds(): NodeId[] {
    return [...this.retiring];
  }

  /** The change that removed the retiring servers committed: stop replicating to them. */
  dropRetiring(): void {
    for (const id of this.retiring) this.progress.delete(id);
    this.retiring.clear();
  }

  isVoter(id: NodeId): boolean {
    return (
      this.configuration.voters.includes(id) || this.configuration.votersOutgoing.includes(id)
    );
  }

  /** Starts fresh progress for every member, expecting to send `next` first. */
  reset(next: LogIndex): void {
    this.progress.clear();
    this.retiring.clear();
    for (const id of this.members()) {
      this.progress.set(id, new Progress(next, this.inflightMax, this.inflightBytesMax));
    }
  }

  get(id: NodeId): Progress | undefined {
    return this.progress.get(id);
  }

  /** The highest index held by a quorum of voters. */
  committedIndex(): LogIndex {
    const { voters, votersOutgoing } = this.configuration;
    const index = jointIndex(voters, votersOutgoing, (id) => this.progress.get(id)?.match);
    assert(Number.isFinite(index), "committedIndex over an empty configuration");
    return index;
  }

  /** The latest heartbeat round acknowledged by a quorum of voters (`own` for the leader). */
  confirmedRound(leaderId: NodeId, own: number): number {
    const { voters, votersOutgoing } = this.configuration;
    const round = (id: NodeId): number | undefined =>
      id === leaderId ? own : this.progress.get(id)?.heartbeatRound;
    return jointIndex(voters, votersOutgoing, round);
  }

  /** True when a quorum of voters were recently heard from (CheckQuorum). */
  quorumActive(): boolean {
    const { voters, votersOutgoing } = this.configuration;
    return jointActive(voters, votersOutgoing, (id) => this.progress.get(id)?.recentActive ?? false);
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Records a voter's answer; later answers from the same voter are ignored. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.isVoter(id) || this.votes.has(id)) return;
    this.votes.set(id, granted);
  }

  voteResult(): VoteResult {
    const { voters, votersOutgoing } = this.configuration;
    return jointVoteResult(voters, votersOutgoing, this.votes);
  }
}
