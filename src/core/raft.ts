// The Raft state machine of one server. Pure and deterministic: it reacts to tick(), step()
// and propose(), and hands its effects to the driver as Ready batches. It performs no I/O,
// reads no clock and draws randomness only from the configured Prng.

import { assert } from "../assert.js";
import { NotLeaderError, ProposalDroppedError, TransferRejectedError } from "../errors.js";
import { type RaftConfig, type RaftConfigInput, withDefaults } from "./config.js";
import { type ConfChangeRequest, ConfigurationLog } from "./conf-change.js";
import { afterConfigurationCommit, proposeConfigurationChange } from "./membership-ops.js";
import { type RaftStatus, raftStatus } from "./status.js";
import { CampaignKind, campaign } from "./election.js";
import { RaftLog } from "./log.js";
import type { LogView } from "./log-view.js";
import { type Message, MessageType } from "./messages.js";
import { ProgressState, ProgressTracker } from "./progress.js";
import { ReadIndexTracker } from "./read-index.js";
import { type Ready, Role, type SoftState } from "./ready.js";
import { broadcastAppend, broadcastHeartbeat, sendAppend } from "./replication.js";
import { stepCandidate, stepFollower, stepLeader } from "./step.js";
import {
  type Entry,
  EntryType,
  type HardState,
  type LogIndex,
  type NodeId,
  type SnapshotMeta,
  type Term,
  entryBytes,
  hardStateEqual,
} from "./types.js";

export interface Proposed {
  readonly firstIndex: LogIndex;
  readonly lastIndex: LogIndex;
  readonly term: Term;
}

export class Raft {
  readonly id: NodeId;
  readonly config: RaftConfig;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  /** The configurations in the log; the last one is in force. */
  readonly confLog: ConfigurationLog;
  term: Term;
  vote: NodeId | null;
  role: Role = Role.Follower;
  leaderId: NodeId | null = null;
  /** Ticks since we last heard from a leader (follower) or since the last quorum check (leader). */
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  /** The voter we are handing leadership to, while a transfer is in progress. */
  transferTarget: NodeId | null = null;
  /** Bytes of this leader's entries not yet committed (limits proposals). */
  uncommittedBytes = 0;
  readonly reads = new ReadIndexTracker();
  private stepRole: (r: Raft, m: Message) => void = stepFollower;
  private outbox: Message[] = [];
  private outboxAfterPersist: Message[] = [];
  private persistedHardState: HardState;
  private reportedSoftState: SoftState | null = null;
  private outstanding: Ready | null = null;

  constructor(input: RaftConfigInput, storage: LogView) {
    this.config = withDefaults(input);
    this.id = this.config.id;
    const { hardState, configuration } = storage.initialState();
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.persistedHardState = hardState;
    this.log = new RaftLog(storage, hardState.commit, this.config.applied);
    const held = this.log.entries(this.log.firstIndex(), this.log.lastIndex() + 1, Infinity);
    this.confLog = new ConfigurationLog({ ...configuration, autoLeave: false }, held);
    const { inflightMax, inflightBytesMax } = this.config;
    this.tracker = new ProgressTracker(this.confLog.current(), inflightMax, inflightBytesMax);
    this.becomeFollower(this.term, null);
  }

  // ---- roles ----

  becomeFollower(term: Term, leaderId: NodeId | null): void {
    this.resetTerm(term);
    this.leaderId = leaderId;
    this.role = Role.Follower;
    this.stepRole = stepFollower;
  }

  becomePreCandidate(): void {
    assert(this.role !== Role.Leader, "leader cannot become pre-candidate");
    // Pre-candidacy changes neither the term nor the vote: that is the point of PreVote.
    this.tracker.resetVotes();
    this.leaderId = null;
    this.role = Role.PreCandidate;
    this.stepRole = stepCandidate;
  }

  becomeCandidate(): void {
    assert(this.role !== Role.Leader, "leader cannot become candidate");
    this.resetTerm(this.term + 1);
    this.vote = this.id;
    this.role = Role.Candidate;
    this.stepRole = stepCandidate;
  }

  becomeLeader(): void {
    assert(this.role === Role.Candidate, `only a candidate becomes leader (role ${this.role})`);
    assert(this.vote === this.id, `leader of term ${this.term} did not vote for itself`);
    this.resetTerm(this.term);
    this.leaderId = this.id;
    this.role = Role.Leader;
    this.stepRole = stepLeader;
    const self = this.tracker.get(this.id);
    assert(self !== undefined, `leader ${this.id} is not in its configuration`);
    self.maybeUpdate(this.log.lastDurableIndex());
    self.becomeReplicate();
    // An entry of the new term: committing it commits everything before it (figure 8).
    this.appendEntries([{ term: this.term, index: 0, type: EntryType.Normal, data: new Uint8Array() }]);
    broadcastAppend(this);
  }

  private resetTerm(term: Term): void {
    assert(term >= this.term, `term went back: ${this.term} -> ${term}`);
    if (term !== this.term) {
      this.term = term;
      this.vote = null;
    }
    this.leaderId = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    const { electionTicks, prng } = this.config;
    this.randomizedElectionTimeout = electionTicks + prng.nextInt(electionTicks);
    this.transferTarget = null;
    this.uncommittedBytes = 0;
    this.reads.abortAll();
    this.tracker.resetVotes();
    this.tracker.reset(this.log.lastIndex() + 1);
  }

  promotable(): boolean {
    return this.tracker.isVoter(this.id);
  }

  voters(): NodeId[] {
    const { voters, votersOutgoing } = this.tracker.configuration;
    return [...new Set([...voters, ...votersOutgoing])];
  }

  // ---- inputs ----

  tick(): void {
    assert(this.outstanding === null, "tick() while a Ready is outstanding");
    if (this.role === Role.Leader) this.tickLeader();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      campaign(this, this.config.preVote ? CampaignKind.PreElection : CampaignKind.Election);
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum && !this.checkQuorum()) {
        this.becomeFollower(this.term, null);
        return;
      }
      // A transfer that has not happened within an election timeout is abandoned.
      this.transferTarget = null;
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      broadcastHeartbeat(this);
    }
  }

  /** True if a quorum was heard from since the last check; starts the next round. */
  private checkQuorum(): boolean {
    const self = this.tracker.get(this.id);
    if (self !== undefined) self.recentActive = true;
    const active = this.tracker.quorumActive();
    for (const [id, pr] of this.tracker.progress) pr.recentActive = id === this.id;
    return active;
  }

  step(m: Message): void {
    assert(this.outstanding === null, "step() while a Ready is outstanding");
    assert(m.to === this.id, `message for ${m.to} delivered to ${this.id}`);
    if (m.term > this.term) {
      if (!this.acceptHigherTerm(m)) return;
    } else if (m.term < this.term) {
      this.answerStaleTerm(m);
      return;
    }
    this.stepRole(this, m);
  }

  /** Campaigns now instead of waiting for the election timeout (as on a timeout). */
  startElection(): void {
    assert(this.outstanding === null, "startElection() while a Ready is outstanding");
    if (this.role === Role.Leader) return;
    campaign(this, this.config.preVote ? CampaignKind.PreElection : CampaignKind.Election);
  }

  /** A message from a later term. Returns false if it is to be ignored. */
  private acceptHigherTerm(m: Message): boolean {
    if (m.type === MessageType.PreVote || m.type === MessageType.Vote) {
      // Thesis 4.2.3: while we hear from a leader, a vote request is a disruption, not news.
      if (!m.transfer && this.inLease(m.type === MessageType.PreVote)) return false;
      if (m.type === MessageType.PreVote) return true; // a pre-vote never changes our term
    }
    if (m.type === MessageType.PreVoteResponse && m.granted) return true; // carries term + 1
    const fromLeader =
      m.type === MessageType.Append ||
      m.type === MessageType.Heartbeat ||
      m.type === MessageType.InstallSnapshot;
    this.becomeFollower(m.term, fromLeader ? m.from : null);
    return true;
  }

  private inLease(preVote: boolean): boolean {
    if (this.leaderId === null || this.electionElapsed >= this.config.electionTicks) return false;
    return preVote || this.config.checkQuorum;
  }

  private answerStaleTerm(m: Message): void {
    const { checkQuorum, preVote } = this.config;
    const fromLeader =
      m.type === MessageType.Append ||
      m.type === MessageType.Heartbeat ||
      m.type === MessageType.InstallSnapshot;
    if ((checkQuorum || preVote) && fromLeader) {
      // A stale leader, or one cut off while we moved on: tell it our term so that it steps
      // down (with CheckQuorum we may ignore its vote requests, so it would not learn otherwise).
      this.send({
        type: MessageType.AppendResponse,
        from: this.id,
        to: m.from,
        term: this.term,
        success: false,
        index: 0,
        hintIndex: 0,
        hintTerm: 0,
      });
    } else if (m.type === MessageType.PreVote) {
      this.send({ type: MessageType.PreVoteResponse, from: this.id, to: m.from, term: this.term, granted: false });
    }
  }

  /** Appends client commands to the leader's log; returns where they went. */
  propose(commands: readonly Uint8Array[]): Proposed {
    assert(this.outstanding === null, "propose() while a Ready is outstanding");
    assert(commands.length > 0, "propose() needs at least one command");
    if (this.role !== Role.Leader) throw new NotLeaderError(this.leaderId);
    if (this.transferTarget !== null) {
      throw new ProposalDroppedError(`leadership transfer to ${this.transferTarget} in progress`);
    }
    // Byte views only: the log sizes entries by `length` (see Entry.data).
    for (const c of commands) {
      if (!(c instanceof Uint8Array)) throw new TypeError("propose() takes Uint8Array commands");
    }
    const bytes = commands.reduce((sum, c) => sum + c.length + 24, 0);
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > this.config.uncommittedBytesMax) {
      throw new ProposalDroppedError(
        `uncommitted bytes ${this.uncommittedBytes} + ${bytes} > ${this.config.uncommittedBytesMax}`,
      );
    }
    const entries = commands.map((data) => ({ term: this.term, index: 0, type: EntryType.Normal, data }));
    const lastIndex = this.appendEntries(entries);
    broadcastAppend(this);
    return { firstIndex: lastIndex - commands.length + 1, lastIndex, term: this.term };
  }

  /** Starts handing leadership to `target` (thesis 3.10). */
  transferLeadership(target: NodeId): void {
    if (this.role !== Role.Leader) throw new NotLeaderError(this.leaderId);
    if (!this.tracker.isVoter(target)) {
      throw new TransferRejectedError(`cannot transfer leadership to ${target}: not a voter`);
    }
    if (target === this.id || this.transferTarget === target) return;
    this.transferTarget = target;
    this.electionElapsed = 0; // the transfer has one election timeout to complete
    if (!this.maybeSendTimeoutNow(target)) sendAppend(this, target, true);
  }

  /**
   * Asks for a linearizable read (ReadIndex). It comes back in a later Ready's `readStates` with
   * the index the state machine must reach before serving it, or in `readsAborted` if
   * leadership is lost first.
   */
  requestRead(requestId: number): void {
    assert(this.outstanding === null, "requestRead() while a Ready is outstanding");
    if (this.role !== Role.Leader) throw new NotLeaderError(this.leaderId);
    if (!this.committedInCurrentTerm()) {
      this.reads.deferUntilCommit(requestId); // the no-op of this term will commit soon
      return;
    }
    this.reads.add(requestId, this.log.commitIndex, this.reads.round + 1);
    broadcastHeartbeat(this);
  }

  /** Whether the commit index is known to be current: an entry of this term is committed. */
  committedInCurrentTerm(): boolean {
    return this.log.term(this.log.commitIndex) === this.term;
  }

  /**
   * The latest heartbeat round a quorum has acknowledged this term (0 if none). A driver that
   * notes when it sent each round can derive a leader lease from it.
   */
  confirmedHeartbeatRound(): number {
    if (this.role !== Role.Leader) return 0;
    return this.tracker.confirmedRound(this.id, this.reads.round);
  }

  /** Releases the reads a quorum has confirmed. */
  confirmReads(): void {
    const unchecked = this.config.plantedBugs?.readWithoutQuorum === true;
    this.reads.confirmUpTo(unchecked ? Infinity : this.confirmedHeartbeatRound());
  }

  /** Follower: replaces the log by the leader's snapshot (configuration included). */
  restoreSnapshot(meta: SnapshotMeta): void {
    this.log.restore(meta);
    this.confLog.restore({ ...meta.configuration, autoLeave: false });
    this.tracker.setConfiguration(this.confLog.current(), meta.index + 1, false);
  }

  /**
   * The driver reports how sending a snapshot to `to` ended (its data fully delivered, or not).
   */
  reportSnapshot(to: NodeId, ok: boolean): void {
    const pr = this.tracker.get(to);
    if (this.role !== Role.Leader || pr === undefined || pr.state !== ProgressState.Snapshot) return;
    // Either way, probe next (after the next heartbeat exchange): from the snapshot's end if it
    // was delivered (the follower may crash before answering), else from the match again.
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    pr.probeSent = true;
  }

  /** Sends TimeoutNow to the transfer target once it holds our whole log. */
  maybeSendTimeoutNow(id: NodeId): boolean {
    if (id !== this.transferTarget || this.tracker.get(id)?.match !== this.log.lastIndex()) return false;
    this.send({ type: MessageType.TimeoutNow, from: this.id, to: id, term: this.term });
    return true;
  }

  // ---- leader log handling ----

  /** Appends entries of the current term at the end of the leader's log (indexes assigned here). */
  appendEntries(entries: readonly Entry[]): LogIndex {
    let index = this.log.lastIndex();
    const numbered = entries.map((e) => ({ ...e, index: ++index, term: this.term }));
    assert(numbered.length > 0, "appendEntries() with no entries");
    for (const e of numbered) this.uncommittedBytes += entryBytes(e);
    return this.appendToLog(numbered);
  }

  /** Appends to the log (replacing a conflicting suffix) and follows configuration entries. */
  appendToLog(entries: readonly Entry[]): LogIndex {
    const first = entries[0];
    assert(first !== undefined, "appendToLog() with no entries");
    const last = this.log.append(entries);
    if (this.confLog.onAppend(first.index, entries)) {
      this.tracker.setConfiguration(this.confLog.current(), last + 1, this.role === Role.Leader);
    }
    return last;
  }

  /**
   * Proposes a membership change (thesis 4.1 and paper section 6): see membership-ops.ts.
   */
  proposeConfChange(request: ConfChangeRequest): Proposed {
    this.assertNoOutstandingReady("proposeConfChange()");
    return proposeConfigurationChange(this, request);
  }

  /** Leader duties once a configuration entry commits: see membership-ops.ts. */
  afterCommit(): void {
    afterConfigurationCommit(this);
  }

  /** Advances the commit index to what a quorum holds, for entries of this term only. */
  maybeCommit(): boolean {
    const index = this.tracker.committedIndex();
    if (index <= this.log.commitIndex) return false;
    // Figure 8: counting replicas only commits an entry of the leader's own term.
    const ownTerm = this.log.term(index) === this.term;
    if (!ownTerm && this.config.plantedBugs?.commitPriorTermByCounting !== true) return false;
    // Only this leader's own entries were counted as uncommitted when they were appended.
    const committed = this.log.entries(this.log.commitIndex + 1, index + 1, Infinity);
    for (const e of committed) if (e.term === this.term) this.uncommittedBytes -= entryBytes(e);
    assert(this.uncommittedBytes >= 0, `uncommitted bytes went negative: ${this.uncommittedBytes}`);
    this.log.commitTo(index);
    const waiting = ownTerm ? this.reads.takeAwaiting() : [];
    if (waiting.length > 0) {
      for (const requestId of waiting) this.reads.add(requestId, index, this.reads.round + 1);
      broadcastHeartbeat(this);
    }
    return true;
  }

  // ---- outputs ----

  /** Queues a message; the outbox depends on whether it may leave before persistence. */
  send(m: Message): void {
    if (this.sendsBeforePersist(m)) this.outbox.push(m);
    else this.outboxAfterPersist.push(m);
  }

  private sendsBeforePersist(m: Message): boolean {
    switch (m.type) {
      case MessageType.Append:
      case MessageType.Heartbeat:
      case MessageType.TimeoutNow:
      case MessageType.InstallSnapshot:
        // The leader's own term is durable; its log write may proceed in parallel (10.2.1).
        return true;
      case MessageType.AppendResponse:
        return this.config.plantedBugs?.ackBeforePersist === true;
      default:
        return false;
    }
  }

  status(): RaftStatus {
    return raftStatus(this);
  }

  softState(): SoftState {
    return { role: this.role, leaderId: this.leaderId, term: this.term };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.commitIndex };
  }

  hasReady(): boolean {
    const soft = this.reportedSoftState;
    return (
      this.outbox.length > 0 ||
      this.outboxAfterPersist.length > 0 ||
      this.log.hasEntriesToPersist() ||
      this.log.hasEntriesToApply() ||
      this.log.pendingSnapshot !== null ||
      this.reads.hasOutput() ||
      !hardStateEqual(this.hardState(), this.persistedHardState) ||
      soft === null ||
      soft.role !== this.role ||
      soft.leaderId !== this.leaderId ||
      soft.term !== this.term
    );
  }

  assertNoOutstandingReady(what: string): void {
    assert(this.outstanding === null, `${what} while a Ready is outstanding`);
  }

  ready(): Ready {
    assert(this.outstanding === null, "ready() called twice without advance()");
    const hardState = this.hardState();
    const changed = !hardStateEqual(hardState, this.persistedHardState);
    const entries = this.log.entriesToPersist();
    const voteChanged =
      hardState.term !== this.persistedHardState.term || hardState.vote !== this.persistedHardState.vote;
    const snapshot = this.log.pendingSnapshot;
    const ready: Ready = {
      softState: this.softState(),
      snapshot,
      hardState: changed ? hardState : null,
      entries,
      messages: this.outbox,
      persistedMessages: this.outboxAfterPersist,
      committed: this.log.hasEntriesToApply() ? this.log.entriesToApply(this.config.applyBytesMax) : [],
      mustSync: entries.length > 0 || voteChanged || snapshot !== null,
      ...this.reads.takeOutput(),
    };
    this.outbox = [];
    this.outboxAfterPersist = [];
    this.outstanding = ready;
    return ready;
  }

  /**
   * Whether the driver may finish `ready` before its write is durable (advance with persisted:
   * false, then persisted() once it is). Only a leader's Ready qualifies, when nothing in it
   * waits for the disk: no snapshot, no message held until the write, the same term and vote
   * as on disk (a changed commit index is a hint, not a promise). The leader goes on proposing,
   * replicating and applying what a quorum of others made durable while its own write runs
   * (thesis 10.2.1); it counts itself toward commit only once persisted() says so.
   */
  mayPersistLater(ready: Ready): boolean {
    const saved = this.persistedHardState;
    return (
      this.role === Role.Leader &&
      ready.snapshot === null &&
      ready.persistedMessages.length === 0 &&
      (ready.hardState === null ||
        (ready.hardState.term === saved.term && ready.hardState.vote === saved.vote))
    );
  }

  /**
   * The driver has sent and applied `ready` and persisted it, or, with `persisted: false` (see
   * mayPersistLater), handed its entries and hard state to storage, writes in order, and will
   * call persisted() when they are durable.
   */
  advance(ready: Ready, options?: { readonly persisted: boolean }): void {
    assert(this.outstanding === ready, "advance() with a Ready that is not the outstanding one");
    const later = options?.persisted === false;
    assert(!later || this.mayPersistLater(ready),
      "advance() without persisting a Ready that must wait");
    this.outstanding = null;
    this.reportedSoftState = ready.softState;
    if (ready.hardState !== null) this.persistedHardState = ready.hardState;
    if (ready.snapshot !== null) this.log.snapshotStable(ready.snapshot);
    const last = ready.entries[ready.entries.length - 1];
    if (last !== undefined) {
      if (later) this.log.handOff(last.index);
      else this.log.stableTo(last.index, last.term);
    }
    const applied = ready.committed[ready.committed.length - 1];
    if (applied !== undefined) this.log.appliedTo(applied.index);
    this.countSelf();
  }

  /** A write handed off by advance(ready, {persisted: false}) is durable, up to `index`. */
  persisted(index: LogIndex, term: Term): void {
    assert(this.outstanding === null, "persisted() while a Ready is outstanding");
    this.log.persisted(index, term);
    this.countSelf();
  }

  /** The leader counts itself toward commit only for what is durable on its own disk. */
  private countSelf(): void {
    if (this.role !== Role.Leader) return;
    const self = this.tracker.get(this.id);
    assert(self !== undefined, `leader ${this.id} has no progress of its own`);
    if (self.maybeUpdate(this.log.lastDurableIndex()) && this.maybeCommit()) {
      if (this.config.broadcastCommit) broadcastAppend(this);
      this.afterCommit();
    }
  }
}
