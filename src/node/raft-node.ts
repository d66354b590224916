// RaftNode: the driver that turns the pure core into a running server. It owns the tick timer,
// the storage, the transport and the user's state machine, and runs one turn at a time:
// send what may leave early, persist (one fsync), send the rest, apply, advance. Input arriving
// during a turn (peer messages, ticks, proposals, reads) is queued for the next one, so that
// proposals arriving together become one batch of entries, one Append and one fsync. A leader's
// turn hands its write off instead of waiting for it (pipelineLeaderWrites): the writes run one
// after another behind the turns, and the core hears of each once it is durable.

import { EventEmitter } from "node:events";
import { assert } from "../assert.js";
import { type Message, MessageType } from "../core/messages.js";
import { Sfc32 } from "../core/prng.js";
import { Raft } from "../core/raft.js";
import { type Ready, Role, type SoftState, roleName } from "../core/ready.js";
import {
  type Entry,
  EntryType,
  type HardState,
  type LogIndex,
  type NodeId,
  type SnapshotMeta,
  type Term,
  nodeId,
} from "../core/types.js";
import { NotLeaderError, ProposalDroppedError, StoppedError } from "../errors.js";
import { type ConfChangeRequest, ConfChangeType, type ConfState } from "../core/conf-change.js";
import { DurableLog } from "./durable-log.js";
import { checkIdentity } from "./identity.js";
import { Lease } from "./lease.js";
import { type SnapshotHost, SnapshotManager, restoreOnStart } from "./snapshots.js";
import { type RaftNodeOptions, type ResolvedOptions, resolveOptions } from "./options.js";
import { ReadConsistency } from "./ports.js";
import { type NodeStatus, nodeStatus } from "./status.js";
import { type Deferred, ProposalWaiters, type ReadWaiter, ReadWaiters, deferred } from "./waiters.js";
import {
  type MembershipHost,
  type MembershipOptions,
  PeerDirectory,
  addVoter,
  changeMembership,
  transferLeadership,
} from "./membership.js";

export interface RaftNodeEvents {
  "leader-change": [leaderId: NodeId | null, term: Term];
  "role-change": [role: string, term: Term];
  applied: [index: LogIndex];
  /** The node stopped itself: storage failed or the state machine threw. */
  fatal: [error: Error];
  /** The configuration in this node's log changed (it takes effect at once, committed or not). */
  "membership-change": [configuration: ConfState];
  /** A committed configuration no longer includes this node: it stops campaigning. */
  removed: [];
}

type State = "new" | "starting" | "running" | "stopping" | "stopped" | "failed";

interface QueuedProposal<R> extends Deferred<R> {
  readonly data: Uint8Array;
}

/** What a turn learned of the configuration (PeerDirectory.follow). */
type MembershipEvents = ReturnType<PeerDirectory["follow"]>;

/** Leader writes handed off and not started yet: one save covers them all. */
interface QueuedWrite {
  hardState: HardState | null;
  readonly entries: Entry[];
  /** Whether the leader has other work while this is written (see handOffWrite). */
  overlap: boolean;
}


export class RaftNode<Result = unknown> extends EventEmitter<RaftNodeEvents> {
  readonly id: NodeId;
  private readonly o: ResolvedOptions<Result>;
  private state: State = "new";
  private raft: Raft | null = null;
  private durable: DurableLog | null = null;
  private timer: unknown = null;
  private loopDone: Promise<void> = Promise.resolve();
  private wake: (() => void) | null = null;
  private pendingTicks = 0;
  private inbox: Message[] = [];
  private proposalQueue: QueuedProposal<Result>[] = [];
  private readQueue: ReadWaiter[] = [];
  private controls: (() => void)[] = [];
  private readonly proposals: ProposalWaiters<Result>;
  /** Configuration changes waiting for their entry to be applied. */
  private readonly confChanges = new ProposalWaiters<undefined>();
  private readonly peers: PeerDirectory;
  private snapshots: SnapshotManager | null = null;
  private readonly reads: ReadWaiters;
  private appliedIndex: LogIndex = 0;
  private softState: SoftState | null = null;
  private readonly lastContact = new Map<NodeId, number>();
  private readonly lease: Lease;
  private failure: Error | null = null;
  /** Committed commands this follower has yet to apply (see followerApplyDelayMs). */
  private backlog: Entry[] = [];
  private backlogTimer: unknown = null;
  /** The backlog's delay is over: the loop applies it before waiting again. */
  private backlogDue = false;
  /** The leader's handed-off writes: the one under way (null: none), those waiting for it. */
  private writing: Promise<void> | null = null;
  private writeQueue: QueuedWrite | null = null;
  /** Entries per handed-off write, a moving average (1: one request at a time). */
  private writeEntriesAverage = 1;
  /** The last entry of each handed-off write now durable: the core hears of it next turn. */
  private persistedQueue: Entry[] = [];

  constructor(options: RaftNodeOptions<Result>) {
    super();
    this.o = resolveOptions(options);
    this.id = this.o.id;
    this.proposals = new ProposalWaiters();
    this.reads = new ReadWaiters(this.o.clock);
    this.peers = new PeerDirectory(this.id, this.o.transport, this.o.members);
    this.lease = new Lease(this.o.leaseMs, this.o.raft.electionTicks * this.o.tickMs);
  }

  // ---- lifecycle ----

  /** Opens the log, restores the state machine, connects to peers and starts ticking. */
  async start(): Promise<void> {
    assert(this.state === "new", `start() on a ${this.state} node`);
    this.state = "starting";
    const { storage, stateMachine, clock, commitSaveIntervalMs, logger } = this.o;
    await checkIdentity(this.o, (await storage.snapshots.indexes()).length === 0);
    const { meta: latest, applied } = await restoreOnStart(storage, stateMachine, logger);
    this.durable = await DurableLog.open(storage, latest, applied, clock, commitSaveIntervalMs);
    this.snapshots = new SnapshotManager(this.snapshotHost(), this.o.snapshotPolicy, latest);
    this.appliedIndex = applied;
    this.raft = new Raft(
      { ...this.o.raft, id: this.id, prng: new Sfc32(this.o.seed), applied: this.appliedIndex },
      this.durable.cache,
    );
    for (const [id, address] of this.o.members) if (id !== this.id) this.o.transport.setPeer(id, address);
    await this.o.transport.start(
      (m) => this.receive(m),
      (incoming) => this.managedSnapshots().receive(incoming),
    );
    this.state = "running";
    this.timer = clock.setInterval(() => this.onTick(), this.o.tickMs);
    this.loopDone = this.loop();
    this.o.logger.info("raft node started", { id: this.id, applied: this.appliedIndex, term: this.raft.term });
  }

  /**
   * Stops the node as a failed log write does, for a host that finds its storage unusable before
   * a write fails (the raft-store server, when a disk is nearly full): pending calls are
   * rejected, nothing more is written or sent, and "fatal" is emitted with `error`. Call stop()
   * afterwards to release the rest. No effect unless the node is running.
   */
  halt(error: Error): void {
    if (this.state === "running") this.fail(error);
  }

  /** Stops ticking, finishes the turn in progress, fails what is pending, closes the transport. */
  async stop(): Promise<void> {
    if (this.state === "stopped" || this.state === "new") {
      this.state = "stopped";
      return;
    }
    const failed = this.state === "failed";
    this.state = "stopping";
    this.o.clock.clearInterval(this.timer);
    this.wake?.();
    await this.loopDone;
    if (!failed) {
      await this.writesDone()
        .catch((error: unknown) => this.logError("final write failed", error));
    }
    this.clearBacklogTimer();
    // Committed entries held back by a follower: applied now, so the state machine is as
    // current as it would have been without the delay (a restart would replay them anyway).
    if (!failed && this.backlog.length > 0) {
      await this.applyBacklog()
        .catch((error: unknown) => this.logError("final apply failed", error));
    }
    this.rejectEverything(new StoppedError("raft node stopped", { cause: this.failure }));
    await this.o.transport.stop();
    if (!failed) await this.durable?.flush().catch((error: unknown) => this.logError("final save failed", error));
    this.state = "stopped";
  }

  private fail(error: unknown): void {
    if (this.state === "failed") return; // a handed-off write and the loop may both report it
    const failure = error instanceof Error ? error : new Error(String(error));
    this.failure = failure;
    this.state = "failed";
    this.o.clock.clearInterval(this.timer);
    this.clearBacklogTimer();
    this.logError("raft node failed, stopping", failure);
    this.rejectEverything(new StoppedError(`raft node failed: ${failure.message}`, { cause: failure }));
    void this.o.transport.stop();
    this.wake?.();
    this.emit("fatal", failure);
  }

  private rejectEverything(error: Error): void {
    for (const p of this.proposalQueue) p.reject(error);
    this.proposalQueue = [];
    this.proposals.rejectAll(error);
    this.confChanges.rejectAll(error);
    this.reads.rejectAll(error, [this.readQueue]);
    this.readQueue = [];
  }

  private logError(message: string, error: unknown): void {
    const text = error instanceof Error ? error.message : String(error);
    this.o.logger.error(message, { id: this.id, error: text });
  }

  // ---- input ----

  private onTick(): void {
    this.pendingTicks++;
    this.proposals.sweep(this.o.clock.now());
    this.confChanges.sweep(this.o.clock.now());
    this.wake?.();
  }

  private receive(m: Message): void {
    if (this.state !== "running") return;
    if (m.type === MessageType.InstallSnapshot) {
      // Offers come with their data over the snapshot channel; one without it is of no use.
      this.o.logger.warn("dropped an InstallSnapshot without its data", { id: this.id, from: m.from });
      return;
    }
    this.lastContact.set(m.from, this.o.clock.now());
    if (this.inbox.length >= this.o.inboxMessagesMax) return; // dropped: the core retransmits
    this.inbox.push(m);
    this.wake?.();
  }

  private stoppedError(): StoppedError {
    return new StoppedError(`raft node is ${this.state}`, { cause: this.failure });
  }

  private notLeader(raft: Raft): NotLeaderError {
    const leader = raft.leaderId;
    return new NotLeaderError(leader, leader === null ? null : (this.o.members.get(leader) ?? null));
  }

  /**
   * Proposes a command. Resolves with the state machine's result once the entry is committed
   * and applied here; rejects with NotLeaderError (not applied), ProposalDroppedError (not
   * applied), TimeoutError (outcome unknown) or StoppedError.
   */
  propose(command: Uint8Array): Promise<Result> {
    // Byte views only: the log sizes entries by `length` (see Entry.data).
    if (!(command instanceof Uint8Array)) {
      return Promise.reject(new TypeError(`propose() takes a Uint8Array, not ${describe(command)}`));
    }
    const raft = this.raft;
    if (this.state !== "running" || raft === null) return Promise.reject(this.stoppedError());
    if (raft.role !== Role.Leader) return Promise.reject(this.notLeader(raft));
    if (this.proposalQueue.length + this.proposals.size >= this.o.pendingProposalsMax) {
      return Promise.reject(new ProposalDroppedError(`${this.o.pendingProposalsMax} proposals pending`));
    }
    return new Promise<Result>((resolve, reject) => {
      this.proposalQueue.push({ data: command, resolve, reject });
      this.wake?.();
    });
  }

  /**
   * Resolves once reading this node's state machine gives the requested consistency, with the
   * index the state machine has reached. Linearizable and lease reads need the leader.
   */
  readBarrier(consistency: ReadConsistency = ReadConsistency.Linearizable): Promise<LogIndex> {
    const raft = this.raft;
    if (this.state !== "running" || raft === null) return Promise.reject(this.stoppedError());
    if (consistency === ReadConsistency.Stale) return Promise.resolve(this.appliedIndex);
    if (raft.role !== Role.Leader) return Promise.reject(this.notLeader(raft));
    if (consistency === ReadConsistency.Lease && this.lease.valid(raft, this.o.clock.now())) {
      const batch: ReadWaiter[] = [];
      const promise = this.reads.wait(this.o.readTimeoutMs, batch);
      for (const waiter of batch) this.reads.ready(raft.log.commitIndex, waiter);
      this.reads.release(this.appliedIndex);
      return promise;
    }
    const promise = this.reads.wait(this.o.readTimeoutMs, this.readQueue);
    this.wake?.();
    return promise;
  }

  /** Hands leadership to `target` (default: the most up-to-date voter); resolves when done. */
  transferLeadership(target?: number): Promise<NodeId> {
    return transferLeadership(this.membershipHost(), target === undefined ? undefined : nodeId(target));
  }

  // ---- membership (thesis 4.1; paper section 6) ----

  /** Adds a voter: as a learner first, promoted once caught up. Resolves when applied here. */
  addVoter(id: number, address: string, options?: MembershipOptions): Promise<ConfState> {
    return addVoter(this.membershipHost(), nodeId(id), address, options);
  }

  /** Adds a non-voting member that receives the log. */
  addLearner(id: number, address: string, options?: MembershipOptions): Promise<ConfState> {
    const request = { changes: [{ type: ConfChangeType.AddLearner, id: nodeId(id), address }] };
    return changeMembership(this.membershipHost(), request, options);
  }

  /** Makes a learner a voter (without waiting for it to catch up: see addVoter). */
  promote(id: number, options?: MembershipOptions): Promise<ConfState> {
    const request = { changes: [{ type: ConfChangeType.AddVoter, id: nodeId(id) }] };
    return changeMembership(this.membershipHost(), request, options);
  }

  /** Removes a voter or learner; removing the leader makes it step down once committed. */
  removeServer(id: number, options?: MembershipOptions): Promise<ConfState> {
    const request = { changes: [{ type: ConfChangeType.Remove, id: nodeId(id) }] };
    return changeMembership(this.membershipHost(), request, options);
  }

  /** Any change, several servers at once through a joint configuration (or leave one). */
  changeMembership(request: ConfChangeRequest, options?: MembershipOptions): Promise<ConfState> {
    return changeMembership(this.membershipHost(), request, options);
  }

  /** The configuration in force on this node. */
  configuration(): ConfState {
    assert(this.raft !== null, "configuration() before start()");
    return this.raft.confLog.current();
  }

  private membershipHost(): MembershipHost {
    const clock = this.o.clock;
    return {
      id: this.id,
      inLoop: (action) => this.inLoop(action),
      proposeConfChange: (request) => this.proposeConfChange(request),
      sleep: (ms) => new Promise((resolve) => clock.setTimeout(resolve, ms)),
      setTimer: (callback, ms) => {
        const handle = clock.setTimeout(callback, ms);
        return () => clock.clearTimeout(handle);
      },
      onLeaderChange: (listener) => {
        this.on("leader-change", listener);
        return () => this.off("leader-change", listener);
      },
      now: () => clock.now(),
      tickMs: this.o.tickMs,
      electionMs: this.o.raft.electionTicks * this.o.tickMs,
    };
  }

  /** Runs `action` on the core between turns (never during one). */
  private inLoop<T>(action: (raft: Raft) => T): Promise<T> {
    const raft = this.raft;
    if (this.state !== "running" || raft === null) return Promise.reject(this.stoppedError());
    return new Promise<T>((resolve, reject) => {
      this.controls.push(() => {
        try {
          resolve(action(raft));
        } catch (error) {
          reject(error instanceof NotLeaderError ? this.notLeader(raft) : error);
        }
      });
      this.wake?.();
    });
  }

  private proposeConfChange(request: ConfChangeRequest): Promise<void> {
    const { promise, handle } = deferred<undefined>();
    const proposed = this.inLoop((raft) => {
      const p = raft.proposeConfChange(request);
      // Registered inside the loop, before any turn can apply the entry.
      this.confChanges.add(p.lastIndex, p.term, this.o.clock.now() + this.o.proposalTimeoutMs, handle);
    });
    return proposed.then(() => promise);
  }

  status(): NodeStatus {
    const raft = this.raft;
    assert(raft !== null, "status() before start()");
    return nodeStatus(
      raft, this.state, this.appliedIndex, this.lastContact, this.o.clock.now(), this.reads.granted,
    );
  }

  /** This node's role now ("leader", "follower", ...): status() without the peers. */
  get role(): string {
    return this.raft === null ? "follower" : roleName(this.raft.role);
  }

  /** The leader this node knows of now, or null. */
  get leaderId(): NodeId | null {
    return this.raft?.leaderId ?? null;
  }

  // ---- the loop ----

  private async loop(): Promise<void> {
    while (this.state === "running") {
      const raft = this.raft;
      assert(raft !== null, "running without a core");
      try {
        // Nothing may replace log entries while a write of them is under way (see RaftLog).
        if (this.writing !== null && this.inbox.some(mayReplaceLog)) await this.writesDone();
        this.drainInput(raft);
        if (this.backlogDue) {
          await this.applyBacklog();
          this.afterApply();
        }
        if (!raft.hasReady()) {
          await new Promise<void>((resolve) => {
            // The turn starts in the check phase, after every I/O callback of this event-loop
            // iteration: requests and messages that arrived together share one turn (one
            // fsync) instead of the first starting a turn alone and the rest waiting for it.
            this.wake = () => {
              this.wake = null;
              setImmediate(resolve);
            };
          });
          this.wake = null;
          continue;
        }
        await this.turn(raft, raft.ready());
      } catch (error) {
        this.fail(error);
        return;
      }
    }
  }

  private drainInput(raft: Raft): void {
    const persisted = this.persistedQueue;
    this.persistedQueue = [];
    for (const last of persisted) raft.persisted(last.index, last.term);
    for (; this.pendingTicks > 0; this.pendingTicks--) raft.tick();
    const inbox = this.inbox;
    this.inbox = [];
    for (const m of inbox) raft.step(m);
    const controls = this.controls;
    this.controls = [];
    for (const control of controls) control();
    this.proposeQueued(raft);
    this.requestQueuedReads(raft);
  }

  private proposeQueued(raft: Raft): void {
    const batch = this.proposalQueue;
    if (batch.length === 0) return;
    this.proposalQueue = [];
    try {
      const proposed = raft.propose(batch.map((p) => p.data));
      const deadline = this.o.clock.now() + this.o.proposalTimeoutMs;
      batch.forEach((p, i) => this.proposals.add(proposed.firstIndex + i, proposed.term, deadline, p));
    } catch (error) {
      const rejection = error instanceof NotLeaderError ? this.notLeader(raft) : error;
      for (const p of batch) p.reject(rejection instanceof Error ? rejection : new Error(String(rejection)));
    }
  }

  private requestQueuedReads(raft: Raft): void {
    const batch = this.readQueue;
    if (batch.length === 0) return;
    this.readQueue = [];
    const requestId = this.reads.register(batch);
    try {
      raft.requestRead(requestId);
    } catch (error) {
      this.reads.abort(requestId, error instanceof NotLeaderError ? this.notLeader(raft) : (error as Error));
    }
  }

  /** One turn: send early messages, persist, send the rest, apply, advance. */
  private async turn(raft: Raft, ready: Ready): Promise<void> {
    if (ready.messages.length > 0) this.sendMessages(ready.messages);
    const leading = raft.role === Role.Leader;
    // A new leader, or a snapshot about to replace the state: what was held back goes first.
    if ((leading || ready.snapshot !== null) && this.backlog.length > 0) await this.applyBacklog();
    const later = this.o.pipelineLeaderWrites && raft.mayPersistLater(ready);
    let membership: MembershipEvents;
    if (later) {
      // The write goes on behind this turn; the committed entries are durable on a quorum
      // (the followers' alone, perhaps), so they are applied now, from memory.
      // Overlap (the log writes off the main thread) unless the leader serves one request at
      // a time: a lone proposal (one client) waits for this write either way, and an inline
      // write saves the hand-off to a pool thread and back (see WalOptions.writeMode). With
      // concurrent clients a single-entry write is often just the first of a burst, whose rest
      // must not wait behind a blocked event loop: so entries to apply, other proposals
      // waiting, or writes of several entries (this one, or recent ones on average) keep the
      // write off the main thread.
      if (ready.entries.length > 0) {
        this.writeEntriesAverage += (ready.entries.length - this.writeEntriesAverage) / 8;
      }
      const overlap = ready.committed.length > 0 || ready.entries.length > 1 ||
        this.proposals.size > 1 || this.writeEntriesAverage > 1.25;
      this.handOffWrite(ready.hardState, ready.entries, overlap);
      await this.applyAll(ready.committed);
      membership = this.afterWrite(raft, ready);
    } else {
      membership = await this.writeAndApply(raft, ready, leading);
    }
    raft.advance(ready, { persisted: !later });
    this.reads.release(this.appliedIndex);
    this.reportSoftState(ready.softState);
    this.managedSnapshots().maybeTake();
    if (membership.changed) this.emit("membership-change", raft.confLog.current());
    if (membership.removed) {
      this.o.logger.warn("this node was removed from the cluster", { id: this.id });
      this.emit("removed");
    }
  }

  /** A turn that waits for its write: after any handed off before it, in order. */
  private async writeAndApply(raft: Raft, ready: Ready, leading: boolean):
    Promise<MembershipEvents> {
    const durable = this.durable;
    assert(durable !== null, "turn without a durable log");
    await this.writesDone();
    if (ready.snapshot !== null) {
      await this.managedSnapshots().install(ready.snapshot);
      this.appliedIndex = ready.snapshot.index;
    }
    // On the leader, committed entries (durable here: the writes handed off before this turn
    // are done, and this turn's entries cannot be committed yet) are applied while this turn's
    // entries are written; the overlap hint asks the log to write them off the main thread, so
    // apply overlaps the disk.
    // A follower applies after its acknowledgements have gone out, so that applying never
    // delays the leader's commit.
    const durableIndex = durable.cache.lastIndex();
    const split = leading ? ready.committed.findIndex((e) => e.index > durableIndex) : 0;
    const early = split < 0 ? ready.committed : ready.committed.slice(0, split);
    const saving = durable.save(ready.hardState, ready.entries, early.length > 0);
    try {
      if (early.length > 0) await this.applyAll(early);
    } finally {
      await saving;
    }
    const membership = this.afterWrite(raft, ready);
    if (split >= 0) {
      const late = ready.committed.slice(split);
      if (leading) await this.applyAll(late);
      else await this.holdBack(late);
    }
    return membership;
  }

  /** Once the turn's write is durable (or handed off): acknowledgements and reads. */
  private afterWrite(raft: Raft, ready: Ready): MembershipEvents {
    // Before the acknowledgements go out: a new member's address may have just arrived.
    const membership = this.peers.follow(raft);
    if (ready.persistedMessages.length > 0) this.sendMessages(ready.persistedMessages);
    for (const read of ready.readStates) this.reads.confirm(read.requestId, read.index);
    for (const requestId of ready.readsAborted) this.reads.abort(requestId, this.notLeader(raft));
    return membership;
  }

  /**
   * Queues a leader's write behind those under way (Raft.mayPersistLater): writes run one at a
   * time, in order, each covering everything queued while the one before it ran.
   */
  private handOffWrite(hardState: HardState | null, entries: readonly Entry[],
    overlap: boolean): void {
    if (hardState === null && entries.length === 0) return;
    const queued = this.writeQueue;
    if (queued === null) {
      this.writeQueue = { hardState, entries: [...entries], overlap };
    } else {
      // Turns that queued behind a write under way: the leader was busy, so keep it busy.
      if (hardState !== null) queued.hardState = hardState;
      for (const entry of entries) queued.entries.push(entry);
      queued.overlap = true;
    }
    if (this.writing === null) {
      const writing = this.runWrites();
      this.writing = writing;
      // A failed write stops the node even when no turn waits for it.
      writing.catch((error: unknown) => this.fail(error));
    }
  }

  private async runWrites(): Promise<void> {
    const durable = this.durable;
    assert(durable !== null, "write without a durable log");
    try {
      for (;;) {
        const next = this.writeQueue;
        if (next === null) break;
        this.writeQueue = null;
        await durable.save(next.hardState, next.entries, next.overlap);
        const last = next.entries[next.entries.length - 1];
        if (last !== undefined) {
          this.persistedQueue.push(last);
          this.wake?.();
        }
      }
    } finally {
      // In the same synchronous step as the empty-queue check: a write queued later starts anew.
      this.writing = null;
    }
  }

  /** Resolves once every handed-off write is durable; rejects if one failed. */
  private async writesDone(): Promise<void> {
    while (this.writing !== null) await this.writing;
  }

  /** What follows applying: reads waiting for it, a snapshot when enough was applied. */
  private afterApply(): void {
    this.reads.release(this.appliedIndex);
    this.managedSnapshots().maybeTake();
  }

  /**
   * A follower's committed entries join the backlog, applied after followerApplyDelayMs or
   * once followerApplyEntriesMax wait. Anything but a command (a configuration change, a
   * leader's no-op) is applied at once, after the backlog, as is everything when the delay is 0.
   */
  private async holdBack(entries: readonly Entry[]): Promise<void> {
    for (const entry of entries) this.backlog.push(entry);
    const now =
      this.o.followerApplyDelayMs === 0 ||
      this.backlog.length >= this.o.followerApplyEntriesMax ||
      !entries.every(isCommand);
    if (now) {
      await this.applyBacklog();
      return;
    }
    if (this.backlog.length > 0 && this.backlogTimer === null) {
      this.backlogTimer = this.o.clock.setTimeout(() => {
        this.backlogTimer = null;
        this.backlogDue = true;
        this.wake?.();
      }, this.o.followerApplyDelayMs);
    }
  }

  private async applyBacklog(): Promise<void> {
    this.clearBacklogTimer();
    this.backlogDue = false;
    const entries = this.backlog;
    if (entries.length === 0) return;
    this.backlog = [];
    await this.applyAll(entries);
  }

  private clearBacklogTimer(): void {
    if (this.backlogTimer !== null) this.o.clock.clearTimeout(this.backlogTimer);
    this.backlogTimer = null;
  }

  /** Applies committed entries in order; runs of commands go to applyBatch when it exists. */
  private async applyAll(entries: readonly Entry[]): Promise<void> {
    const batch = this.o.stateMachine.applyBatch?.bind(this.o.stateMachine);
    if (batch === undefined) {
      for (const entry of entries) await this.apply(entry);
      return;
    }
    let run: Entry[] = [];
    const flush = async (): Promise<void> => {
      if (run.length === 0) return;
      const commands = run;
      run = [];
      const results = await batch(commands.map((e) => ({ index: e.index, term: e.term, data: e.data })));
      assert(results.length === commands.length, `applyBatch returned ${results.length} results for ${commands.length}`);
      commands.forEach((entry, i) => this.applied(entry, results[i] as Result));
    };
    for (const entry of entries) {
      if (isCommand(entry)) {
        run.push(entry);
        continue;
      }
      await flush();
      await this.apply(entry);
    }
    await flush();
  }

  private applied(entry: Entry, result: Result): void {
    assert(entry.index === this.appliedIndex + 1, `apply ${entry.index} after ${this.appliedIndex}`);
    this.appliedIndex = entry.index;
    this.proposals.applied(entry.index, entry.term, result);
    this.emit("applied", entry.index);
  }

  private async apply(entry: Entry): Promise<void> {
    assert(entry.index === this.appliedIndex + 1, `apply ${entry.index} after ${this.appliedIndex}`);
    if (isCommand(entry)) {
      const result = await this.o.stateMachine.apply({ index: entry.index, term: entry.term, data: entry.data });
      this.appliedIndex = entry.index;
      this.proposals.applied(entry.index, entry.term, result);
    } else {
      this.appliedIndex = entry.index;
      if (entry.type === EntryType.ConfChange) this.confChanges.applied(entry.index, entry.term, undefined);
    }
    this.emit("applied", entry.index);
  }

  /** Snapshot offers become streams; the other messages go out at once. */
  private sendMessages(messages: readonly Message[]): void {
    this.lease.note(messages, this.o.clock.now());
    const plain: Message[] = [];
    for (const m of messages) {
      if (m.type === MessageType.InstallSnapshot) this.managedSnapshots().send(m);
      else plain.push(m);
    }
    if (plain.length > 0) this.o.transport.send(plain);
  }

  private managedSnapshots(): SnapshotManager {
    assert(this.snapshots !== null, "snapshots before start()");
    return this.snapshots;
  }

  private snapshotHost(): SnapshotHost {
    return {
      id: this.id,
      storage: this.o.storage,
      transport: this.o.transport,
      stateMachine: this.o.stateMachine,
      logger: this.o.logger,
      inLoop: (action) => this.inLoop(action),
      cache: () => {
        assert(this.durable !== null, "no log cache");
        return this.durable.cache;
      },
      appliedIndex: () => this.appliedIndex,
      deliver: (m) => {
        this.inbox.push(m);
        this.wake?.();
      },
    };
  }

  /** Takes a snapshot of the state machine now and compacts the log behind it. */
  snapshot(): Promise<SnapshotMeta> {
    if (this.state !== "running" || this.snapshots === null) return Promise.reject(this.stoppedError());
    return this.snapshots.take();
  }

  private reportSoftState(soft: SoftState): void {
    const before = this.softState;
    this.softState = soft;
    if (before?.role !== soft.role || before.term !== soft.term) {
      this.emit("role-change", roleName(soft.role), soft.term);
    }
    if (before?.leaderId !== soft.leaderId) {
      this.o.logger.info("leader changed", { id: this.id, leader: soft.leaderId, term: soft.term });
      this.emit("leader-change", soft.leaderId, soft.term);
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return value.constructor?.name ?? "an object";
}

/** A message whose step may replace entries of the log (a leader's Append, a snapshot). */
function mayReplaceLog(m: Message): boolean {
  return m.type === MessageType.Append || m.type === MessageType.InstallSnapshot;
}

/** An entry the state machine sees: a normal entry with data (not a no-op or a conf change). */
function isCommand(entry: Entry): boolean {
  return entry.type === EntryType.Normal && entry.data.length > 0;
}

export function createRaftNode<Result>(options: RaftNodeOptions<Result>): RaftNode<Result> {
  return new RaftNode(options);
}
