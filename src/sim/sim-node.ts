// One simulated server: a Raft core over simulated storage, run one turn at a time the way the
// real driver runs it (send what may go early, persist, send the rest, apply, advance), with
// crash points between those steps. A leader may, as the driver does, finish a turn before its
// write is durable: the write then completes later (or is lost in a crash), and the core hears
// of it through persisted().

import type { RaftConfigInput } from "../core/config.js";
import type { Message } from "../core/messages.js";
import { Raft } from "../core/raft.js";
import { Role } from "../core/ready.js";
import type { Sfc32 } from "../core/prng.js";
import { bootstrapEntries } from "../core/conf-change.js";
import type { Entry, HardState, NodeId, SnapshotMeta } from "../core/types.js";
import { assert } from "../assert.js";
import { type DurableLog, type SafetyChecker, entryKey } from "./checker.js";
import { SimStorage } from "./sim-storage.js";

export const CrashPoint = {
  /** After the early messages left, before the batch is written. */
  BeforePersist: 0,
  /** After the batch is written (and synced if it had to be), before anything else. */
  AfterPersist: 1,
  /** Between turns: only unsynced writes are lost. */
  BetweenTurns: 2,
} as const;
export type CrashPoint = (typeof CrashPoint)[keyof typeof CrashPoint];

export type RaftOptions = Omit<RaftConfigInput, "id" | "prng" | "applied">;

/** A leader's write handed off by a turn, not yet on the simulated disk. */
interface PendingWrite {
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly sync: boolean;
}

/** Snapshots a node keeps besides those above its applied index (the driver's default). */
export const retainedSnapshots = 2;

export class SimNode {
  raft: Raft | null = null;
  readonly storage: SimStorage;
  /** Index of the last entry applied to this node's (volatile) state machine. */
  appliedIndex = 0;
  /** The state machine: the key of every applied entry, by index - 1. */
  private appliedKeys: string[] = [];
  /** Take a snapshot after this many applied entries (0: never), keeping `trailingEntries`. */
  snapshotEvery = 0;
  trailingEntries = 0;
  snapshots = 0;
  snapshotInstalls = 0;
  /** Leader turns that handed their write off instead of waiting for it. */
  writesHandedOff = 0;
  /** The disk was lost: this server never comes back (a new one replaces it). */
  lost = false;
  private checkedCommit = 0;
  /** Every node's durable log, by id (set by the cluster, for the commit durability check). */
  durableLogOf: (id: NodeId) => DurableLog = () => ({ term: () => null, snapshotCovers: () => false });
  /** Called with each read the core confirms (requestId, index). */
  onRead: (requestId: number, index: number) => void = () => {};
  /** While now < pausedUntil the process is stopped (SIGSTOP): no ticks, no input handled. */
  pausedUntil = 0;
  /** Reads clients sent while the node was paused (commit index known when each was sent). */
  queuedReads: number[] = [];
  /** Set by the nemesis: crash at this point of the next turn. */
  crashAt: CrashPoint | null = null;
  /** Chance that a leader's turn hands its write off instead of waiting for it (0: never). */
  asyncWriteRate = 0;
  /** Writes handed off, in order; a crash loses them. */
  private pendingWrites: PendingWrite[] = [];
  /** Writes done whose persisted() the core has yet to hear, as the driver queues them. */
  private persistedQueue: Entry[] = [];

  /** A founding member's disk holds the bootstrap entries; a spare's is empty until it joins. */
  constructor(
    readonly id: NodeId,
    founders: readonly NodeId[] | null,
    private readonly options: RaftOptions,
    private readonly prng: Sfc32,
  ) {
    this.storage = new SimStorage();
    if (founders !== null) {
      const boot = bootstrapEntries(founders);
      this.storage.write(boot.hardState, boot.entries, true);
    }
  }

  get up(): boolean {
    return this.raft !== null;
  }

  start(): Raft {
    // As the driver starts: from the newest stored snapshot. One received from a leader but not
    // yet put in place (the node crashed first, or the core had not adopted it) holds committed
    // entries only; where the log does not reach it (or disagrees with it), it replaces the log.
    const newest = this.storage.newestSnapshot();
    if (newest !== null) {
      if (this.storage.term(newest.meta.index) === newest.meta.term) {
        if ((this.storage.snapshot()?.index ?? 0) < newest.meta.index) {
          this.storage.markSnapshot(newest.meta);
        }
      } else {
        this.storage.restoreSnapshot(newest.meta);
      }
    }
    // A volatile state machine restarts from that snapshot, then the log replays.
    this.appliedKeys = [...(newest?.state ?? [])];
    this.appliedIndex = newest?.meta.index ?? 0;
    const raft = new Raft({ ...this.options, id: this.id, prng: this.prng.fork(), applied: this.appliedIndex }, this.storage);
    this.checkedCommit = raft.log.commitIndex;
    this.raft = raft;
    return raft;
  }

  crash(): void {
    this.raft = null;
    this.pausedUntil = 0;
    this.queuedReads = [];
    this.crashAt = null;
    this.pendingWrites = [];
    this.persistedQueue = [];
    this.storage.crash();
  }

  /**
   * Runs turns until the core has nothing more to do. Returns false if the node crashed.
   * `send` receives each outgoing message.
   */
  process(send: (m: Message) => void, checker: SafetyChecker): boolean {
    // Handed-off writes finish at random moments, sometimes after acknowledgements arrived.
    if (this.pendingWrites.length > 0 && this.prng.chance(0.5)) this.finishWrites(checker);
    this.deliverPersisted();
    for (let turns = 0; this.raft?.hasReady() === true; turns++) {
      if (turns > 10_000) throw new Error(`node ${this.id}: core never settles`);
      if (!this.turn(this.raft, send, checker)) return false;
    }
    this.observe(checker);
    return true;
  }

  /**
   * The driver's rule before the core steps a message that may replace log entries (an Append
   * or a snapshot offer): writes under way finish first, and the core hears of them.
   */
  quiesce(checker: SafetyChecker): void {
    this.finishWrites(checker);
    this.deliverPersisted();
  }

  private turn(raft: Raft, send: (m: Message) => void, checker: SafetyChecker): boolean {
    const ready = raft.ready();
    for (const m of ready.messages) send(m);
    if (this.crashAt === CrashPoint.BeforePersist) return this.crashNow();
    const later = this.asyncWriteRate > 0 && ready.entries.length > 0 &&
      raft.mayPersistLater(ready) && this.prng.chance(this.asyncWriteRate);
    if (later) {
      const { hardState, entries, mustSync } = ready;
      this.pendingWrites.push({ hardState, entries, sync: mustSync });
      this.writesHandedOff++;
    } else {
      // A write that waits goes after those under way, as the driver orders them.
      this.finishWrites(checker);
      if (ready.snapshot !== null) this.installSnapshot(ready.snapshot, checker);
      this.write(ready.hardState, ready.entries, ready.mustSync, checker);
      if (this.crashAt === CrashPoint.AfterPersist) return this.crashNow();
      for (const m of ready.persistedMessages) send(m);
    }
    for (const read of ready.readStates) this.onRead(read.requestId, read.index);
    for (const entry of ready.committed) {
      checker.onApply(this.id, entry, this.appliedIndex + 1);
      this.appliedIndex = entry.index;
      this.appliedKeys.push(entryKey(entry));
    }
    raft.advance(ready, { persisted: !later });
    this.observe(checker);
    this.maybeSnapshot(raft, checker);
    return true;
  }

  private write(hardState: HardState | null, entries: readonly Entry[], sync: boolean,
    checker: SafetyChecker): void {
    const first = entries[0];
    if (first !== undefined) {
      checker.onPersist(this.id, entries, this.storage.term(first.index - 1));
    }
    this.storage.write(hardState, entries, sync);
  }

  /** Puts every handed-off write on the disk, in order; the core hears of them later. */
  private finishWrites(checker: SafetyChecker): void {
    const writes = this.pendingWrites;
    this.pendingWrites = [];
    for (const w of writes) {
      this.write(w.hardState, w.entries, w.sync, checker);
      const last = w.entries[w.entries.length - 1];
      assert(last !== undefined, "a handed-off write without entries");
      this.persistedQueue.push(last);
    }
  }

  private deliverPersisted(): void {
    const raft = this.raft;
    const done = this.persistedQueue;
    this.persistedQueue = [];
    if (raft === null) return;
    for (const last of done) raft.persisted(last.index, last.term);
  }

  /** The leader's snapshot, already on this disk, replaces the log and the state machine. */
  private installSnapshot(meta: SnapshotMeta, checker: SafetyChecker): void {
    const state = this.storage.snapshotAt(meta.index)?.state;
    assert(state !== undefined, `snapshot ${meta.index} not stored`);
    this.storage.restoreSnapshot(meta);
    checker.onSnapshot(this.id, meta, state);
    this.appliedKeys = [...state];
    this.appliedIndex = meta.index;
    this.snapshotInstalls++;
  }

  /** Compaction policy: snapshot the state machine, then drop the log up to a trailing margin. */
  private maybeSnapshot(raft: Raft, checker: SafetyChecker): void {
    const latest = this.storage.newestSnapshot()?.meta.index ?? 0;
    if (this.snapshotEvery <= 0 || this.appliedIndex - latest < this.snapshotEvery) return;
    const index = this.appliedIndex;
    const term = raft.log.term(index);
    assert(term !== null, `no term at applied index ${index}`);
    const meta = { index, term, configuration: raft.confLog.at(index) };
    const state = this.appliedKeys.slice(0, index);
    checker.onSnapshot(this.id, meta, state);
    this.storage.storeSnapshot(meta, state);
    this.storage.markSnapshot(meta);
    this.storage.retainSnapshots(retainedSnapshots, this.appliedIndex);
    this.snapshots++;
    // Applied entries may still be on their way to this leader's disk: compact what is there.
    const compactTo = Math.min(index - this.trailingEntries, this.storage.lastIndex());
    if (compactTo > 0) this.storage.compact(compactTo, raft.confLog.at(compactTo));
  }

  private crashNow(): boolean {
    this.crash();
    return false;
  }

  private observe(checker: SafetyChecker): void {
    const raft = this.raft;
    if (raft === null) return;
    if (raft.role === Role.Leader) checker.onLeader(this.id, raft);
    const commit = raft.log.commitIndex;
    if (commit > this.checkedCommit) {
      checker.onCommit(this.id, raft, this.checkedCommit, commit);
      if (raft.role === Role.Leader) {
        checker.onLeaderCommit(this.id, raft.tracker.configuration, commit, raft.log.term(commit), this.durableLogOf);
      }
      this.checkedCommit = commit;
    }
  }
}
