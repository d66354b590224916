// Raft's safety properties, checked by a global observer that sees every node's state
// (paper figure 3): Election Safety, Log Matching, Leader Completeness, State Machine Safety,
// and that a committed entry stays durable on a quorum and is never replaced.

import type { Raft } from "../core/raft.js";
import { jointActive, majoritySize } from "../core/quorum.js";
import type { Configuration, Entry, LogIndex, NodeId, Term } from "../core/types.js";

export class Violation extends Error {
  override readonly name = "Violation";
}

/** A printable identity of an entry's payload (the simulator's commands are unique strings). */
export function entryKey(entry: Entry): string {
  return `${entry.type}:${Buffer.from(entry.data).toString("latin1")}`;
}

export interface DurableLog {
  term(index: LogIndex): Term | null;
  /** Whether a durable snapshot covers `index` (the log may have dropped it since). */
  snapshotCovers(index: LogIndex): boolean;
}

export class SafetyChecker {
  readonly violations: string[] = [];
  private readonly leaderOfTerm = new Map<Term, NodeId>();
  /** (index, term) -> payload and previous entry's term, first seen anywhere. */
  private readonly registry = new Map<string, { key: string; prevTerm: Term | null }>();
  /** committedTerms[i] / committedKeys[i]: the entry committed at index i. */
  private readonly committedTerms: Term[] = [];
  private readonly committedKeys: string[] = [];
  /** The term of the node that first saw each index committed (the committing leader's). */
  private readonly commitTerms: Term[] = [];
  private readonly appliedKeys: string[] = [];
  committedIndex: LogIndex = 0;

  private fail(message: string): void {
    this.violations.push(message);
    throw new Violation(message);
  }

  /** Election Safety and Leader Completeness, whenever a node is seen leading. */
  onLeader(id: NodeId, raft: Raft): void {
    const existing = this.leaderOfTerm.get(raft.term);
    if (existing === undefined) this.leaderOfTerm.set(raft.term, id);
    else if (existing !== id) {
      this.fail(`election safety: ${existing} and ${id} are both leaders of term ${raft.term}`);
    }
    if (existing !== undefined) return;
    // Leader Completeness binds leaders of later terms than the commit: a leader of an older
    // term elected late (it can no longer commit anything) need not hold newer commits.
    let c = this.committedIndex;
    while (c > 0 && (this.commitTerms[c] ?? Infinity) >= raft.term) c--;
    if (c === 0) return;
    // With Log Matching checked separately, holding that committed entry implies the earlier ones.
    const term = raft.log.term(c);
    if (term !== null && term !== this.committedTerms[c]) {
      this.fail(
        `leader completeness: leader ${id} of term ${raft.term} has term ${term} at ${c}, ` +
          `committed entry has term ${this.committedTerms[c]}`,
      );
    }
    if (term === null && c >= raft.log.firstIndex()) {
      this.fail(`leader completeness: leader ${id} of term ${raft.term} lacks committed index ${c}`);
    }
  }

  /** Log Matching: an (index, term) pair always names the same entry with the same predecessor. */
  onPersist(id: NodeId, entries: readonly Entry[], prevTermOfFirst: Term | null): void {
    let prevTerm = prevTermOfFirst;
    for (const e of entries) {
      const pair = `${e.index}:${e.term}`;
      const key = entryKey(e);
      const seen = this.registry.get(pair);
      if (seen === undefined) this.registry.set(pair, { key, prevTerm });
      else if (seen.key !== key || (seen.prevTerm !== null && prevTerm !== null && seen.prevTerm !== prevTerm)) {
        this.fail(
          `log matching: node ${id} stored (${pair}) = ${key} after term ${prevTerm}, ` +
            `elsewhere it is ${seen.key} after term ${seen.prevTerm}`,
        );
      }
      prevTerm = e.term;
    }
  }

  /** A node's commit index moved from `from` to `to`: those entries must agree everywhere. */
  onCommit(id: NodeId, raft: Raft, from: LogIndex, to: LogIndex): void {
    if (to <= from) return;
    const entries = raft.log.entries(Math.max(from + 1, raft.log.firstIndex()), to + 1, Infinity);
    for (const e of entries) {
      const term = this.committedTerms[e.index];
      if (term === undefined) {
        this.committedTerms[e.index] = e.term;
        this.committedKeys[e.index] = entryKey(e);
        this.commitTerms[e.index] = raft.term;
      } else if (term !== e.term || this.committedKeys[e.index] !== entryKey(e)) {
        this.fail(
          `committed entry lost: node ${id} committed ${entryKey(e)}@t${e.term} at ${e.index}, ` +
            `but ${this.committedKeys[e.index]}@t${term} was committed there before`,
        );
      }
    }
    if (to > this.committedIndex) this.committedIndex = to;
  }

  /** State Machine Safety: every node applies the same entry at an index, in order. */
  onApply(id: NodeId, entry: Entry, expectedIndex: LogIndex): void {
    if (entry.index !== expectedIndex) {
      this.fail(`apply order: node ${id} applied ${entry.index}, expected ${expectedIndex}`);
    }
    const key = entryKey(entry);
    const existing = this.appliedKeys[entry.index];
    if (existing === undefined) this.appliedKeys[entry.index] = key;
    else if (existing !== key) {
      this.fail(
        `state machine safety: node ${id} applied ${key} at ${entry.index}, another node applied ${existing}`,
      );
    }
  }

  /**
   * A leader that advances its commit index to `index` must have it durable on a quorum of the
   * configuration it decides with (joint: both majorities): an acknowledgement means "on disk".
   */
  onLeaderCommit(
    id: NodeId,
    configuration: Configuration,
    index: LogIndex,
    term: Term | null,
    durableLog: (id: NodeId) => DurableLog,
  ): void {
    // A voter holds the entry in its log, or in a snapshot that covers it (it may install a
    // newer leader's snapshot after acknowledging the entry, before this leader hears of the
    // acknowledgement). Snapshots hold committed entries only, and onCommit, which runs first,
    // has checked that this leader's entry is the one committed at `index`.
    const holds = (voter: NodeId): boolean => {
      const log = durableLog(voter);
      return term !== null && (log.term(index) === term || log.snapshotCovers(index));
    };
    const { voters, votersOutgoing } = configuration;
    if (!jointActive(voters, votersOutgoing, holds)) {
      this.fail(`leader ${id} committed ${index}@t${term} that a quorum does not hold durably`);
    }
  }

  /** The last committed entry must be durable on a majority of the voters. */
  checkCommittedDurable(voters: readonly NodeId[], durableLog: (id: NodeId) => DurableLog): void {
    const c = this.committedIndex;
    if (c === 0) return;
    const term = this.committedTerms[c];
    let holders = 0;
    for (const id of voters) {
      if (durableLog(id).term(c) === term) holders++;
    }
    if (holders < majoritySize(voters.length)) {
      this.fail(`committed entry ${c}@t${term} is durable on only ${holders} of ${voters.length} voters`);
    }
  }

  /**
   * A snapshot (taken or installed) must hold exactly the applied state at its index, and
   * only committed entries.
   */
  onSnapshot(id: NodeId, meta: { index: LogIndex; term: Term }, state: readonly string[]): void {
    if (meta.index > this.committedIndex) {
      this.fail(`snapshot of node ${id} at ${meta.index} is beyond the commit index ${this.committedIndex}`);
    }
    if (state.length !== meta.index) {
      this.fail(`snapshot of node ${id} at ${meta.index} holds ${state.length} entries`);
    }
    if (this.committedTerms[meta.index] !== undefined && this.committedTerms[meta.index] !== meta.term) {
      this.fail(`snapshot of node ${id} at ${meta.index}@t${meta.term}: committed term ${this.committedTerms[meta.index]}`);
    }
    for (let i = 1; i <= meta.index; i++) {
      const applied = this.appliedKeys[i];
      if (applied !== undefined && applied !== state[i - 1]) {
        this.fail(`snapshot of node ${id}: index ${i} holds ${state[i - 1]}, applied elsewhere ${applied}`);
      }
    }
  }

  committedKey(index: LogIndex): string | undefined {
    return this.committedKeys[index];
  }

  /** Linearizable reads: a read must see every entry committed before it was asked. */
  onRead(id: NodeId, requestId: number, index: LogIndex, committedAtRequest: LogIndex): void {
    if (index < committedAtRequest) {
      this.fail(
        `stale read: node ${id} confirmed read ${requestId} at index ${index}, ` +
          `but ${committedAtRequest} was committed before it was asked`,
      );
    }
  }

  applied(index: LogIndex): string | undefined {
    return this.appliedKeys[index];
  }

  leaders(): ReadonlyMap<Term, NodeId> {
    return this.leaderOfTerm;
  }
}
