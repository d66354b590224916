// The core's view of the replicated log: the durable part (read through a LogView) followed by
// the unstable part (entries this server has accepted but not yet persisted, the first of them
// perhaps already being written), plus the commit and apply watermarks. All reads are synchronous.

import { assert } from "../assert.js";
import type { LogView } from "./log-view.js";
import { type Entry, type LogIndex, type SnapshotMeta, type Term, entryBytes } from "./types.js";

export class RaftLog {
  /** Entries not yet durable. unstable[0], if any, has index unstableOffset. */
  private unstable: Entry[] = [];
  private unstableOffset: LogIndex;
  /**
   * How many of the unstable entries (from the first) a leader handed to storage without
   * waiting for them to be durable (Raft.advance with persisted: false): they are not asked for
   * again, and become durable through persisted(). The driver lets those writes finish before
   * anything can replace entries, so these are only ever appended after.
   */
  private handedOff = 0;
  /** Highest index known to be committed. */
  commitIndex: LogIndex;
  /** Highest index handed to the state machine. */
  appliedIndex: LogIndex;
  /**
   * A snapshot received from the leader that replaces the log, not yet applied by the driver:
   * until then it stands in front of storage (whose entries it makes obsolete).
   */
  pendingSnapshot: SnapshotMeta | null = null;

  constructor(
    readonly storage: LogView,
    commitIndex: LogIndex,
    appliedIndex: LogIndex,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    assert(last >= first - 1, `storage lastIndex ${last} < firstIndex ${first} - 1`);
    assert(commitIndex <= last, `hard state commit ${commitIndex} > lastIndex ${last}`);
    assert(appliedIndex <= last, `applied ${appliedIndex} > lastIndex ${last}`);
    this.unstableOffset = last + 1;
    // Compacted entries are in a snapshot, and only committed entries are ever applied: both
    // are committed even if the (lazily saved) commit index says less.
    this.appliedIndex = Math.max(appliedIndex, first - 1);
    this.commitIndex = Math.max(commitIndex, this.appliedIndex);
  }

  firstIndex(): LogIndex {
    return this.pendingSnapshot !== null ? this.pendingSnapshot.index + 1 : this.storage.firstIndex();
  }

  lastIndex(): LogIndex {
    if (this.unstable.length > 0) return this.unstableOffset + this.unstable.length - 1;
    if (this.pendingSnapshot !== null) return this.pendingSnapshot.index;
    return this.storage.lastIndex();
  }

  /** The last index that is durable and agrees with this log (the rest is unstable). */
  lastDurableIndex(): LogIndex {
    if (this.unstable.length > 0 || this.pendingSnapshot !== null) return this.unstableOffset - 1;
    return this.storage.lastIndex();
  }

  lastTerm(): Term {
    const term = this.term(this.lastIndex());
    assert(term !== null, `no term for lastIndex ${this.lastIndex()}`);
    return term;
  }

  /** The term at index, or null if the index is compacted away or beyond the log. */
  term(index: LogIndex): Term | null {
    if (index >= this.unstableOffset) {
      return this.unstable[index - this.unstableOffset]?.term ?? null;
    }
    const snapshot = this.pendingSnapshot;
    if (snapshot !== null) return index === snapshot.index ? snapshot.term : null;
    return this.storage.term(index);
  }

  matchTerm(index: LogIndex, term: Term): boolean {
    return this.term(index) === term;
  }

  /** Section 5.4.1: a log is at least as up to date if its last term is higher, or equal and longer. */
  isUpToDate(lastIndex: LogIndex, lastTerm: Term): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /** Entries in [low, high), at most bytesMax (but at least one if the range is not empty). */
  entries(low: LogIndex, high: LogIndex, bytesMax: number): Entry[] {
    assert(low >= this.firstIndex(), `entries(${low}): compacted (first ${this.firstIndex()})`);
    assert(high <= this.lastIndex() + 1, `entries(.., ${high}) > lastIndex+1 ${this.lastIndex() + 1}`);
    if (low >= high) return [];
    const out =
      low < this.unstableOffset
        ? this.storage.entries(low, Math.min(high, this.unstableOffset), bytesMax)
        : [];
    let bytes = out.reduce((sum, e) => sum + entryBytes(e), 0);
    const tailStart = Math.max(low, this.unstableOffset);
    if (out.length < tailStart - low) return out; // the byte limit cut the durable part short
    for (let i = tailStart; i < high; i++) {
      const entry = this.unstable[i - this.unstableOffset];
      assert(entry !== undefined, `unstable entry ${i} missing`);
      bytes += entryBytes(entry);
      if (out.length > 0 && bytes > bytesMax) break;
      out.push(entry);
    }
    return out;
  }

  /** Appends entries (from this leader, or accepted from one), replacing any conflicting suffix. */
  append(entries: readonly Entry[]): LogIndex {
    const first = entries[0];
    if (first === undefined) return this.lastIndex();
    assert(first.index > this.commitIndex, `append at ${first.index} would overwrite commit ${this.commitIndex}`);
    assert(first.index <= this.lastIndex() + 1, `append at ${first.index} leaves a gap after ${this.lastIndex()}`);
    if (first.index !== this.unstableOffset + this.unstable.length) {
      assert(this.handedOff === 0, `append at ${first.index} would replace entries being written`);
    }
    if (first.index === this.unstableOffset + this.unstable.length) {
      this.unstable.push(...entries);
    } else if (first.index <= this.unstableOffset) {
      // Replaces durable entries too: they are rewritten when this batch is persisted.
      this.unstableOffset = first.index;
      this.unstable = [...entries];
    } else {
      this.unstable = this.unstable.slice(0, first.index - this.unstableOffset).concat(entries);
    }
    return this.lastIndex();
  }

  /**
   * The index of the first entry in `entries` that is not in the log with the same term, or 0
   * when all of them are already present.
   */
  findConflict(entries: readonly Entry[]): LogIndex {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * Fast backtracking: the largest index <= `index` whose term is <= `term`, and that term.
   * Entries between it and `index` cannot match a log whose entry at `index` has `term`.
   */
  findConflictByTerm(index: LogIndex, term: Term): { index: LogIndex; term: Term } {
    let i = Math.min(index, this.lastIndex());
    for (;;) {
      const t = this.term(i);
      if (t === null) return { index: i, term: 0 }; // compacted: nothing older to compare
      if (t <= term) return { index: i, term: t };
      i--;
    }
  }

  /** Whether any entry is neither durable nor being written. */
  hasEntriesToPersist(): boolean {
    return this.unstable.length > this.handedOff;
  }

  /** The entries to persist, a new array: everything not yet durable nor being written. */
  entriesToPersist(): Entry[] {
    return this.unstable.slice(this.handedOff);
  }

  /** The entries up to `index` went to storage; their write is under way, not yet durable. */
  handOff(index: LogIndex): void {
    const count = index - this.unstableOffset + 1;
    assert(count >= this.handedOff && count <= this.unstable.length, () =>
      `hand-off to ${index} outside the unstable entries ` +
      `${this.unstableOffset}..${this.lastIndex()}`);
    this.handedOff = count;
  }

  /**
   * A write handed off earlier is durable, up to `index` (with `term`). Writes finish in order,
   * and nothing replaces entries while one is under way, so the entry is still here.
   */
  persisted(index: LogIndex, term: Term): void {
    if (index < this.unstableOffset) return; // a later synchronous write already covered it
    const entry = this.unstable[index - this.unstableOffset];
    assert(index < this.unstableOffset + this.handedOff && entry?.term === term,
      `persisted(${index}, ${term}): not an entry being written`);
    this.stableTo(index, term);
  }

  /**
   * Replaces the log by a snapshot from the leader (none of our entries fit it): everything up
   * to its index is committed and, once the driver has restored it, applied.
   */
  restore(snapshot: SnapshotMeta): void {
    assert(snapshot.index > this.commitIndex, `snapshot ${snapshot.index} <= commit ${this.commitIndex}`);
    assert(this.handedOff === 0, "a snapshot would replace entries being written");
    this.pendingSnapshot = snapshot;
    this.unstable = [];
    this.unstableOffset = snapshot.index + 1;
    this.commitIndex = snapshot.index;
    this.appliedIndex = snapshot.index;
  }

  /** The driver has stored and restored the pending snapshot. */
  snapshotStable(snapshot: SnapshotMeta): void {
    if (this.pendingSnapshot === snapshot) this.pendingSnapshot = null;
  }

  /** Marks entries up to index (with that term) durable. A replaced entry is left unstable. */
  stableTo(index: LogIndex, term: Term): void {
    const entry = this.unstable[index - this.unstableOffset];
    if (entry === undefined || entry.term !== term) return;
    const count = index + 1 - this.unstableOffset;
    this.unstable = this.unstable.slice(count);
    this.unstableOffset = index + 1;
    this.handedOff = Math.max(0, this.handedOff - count);
  }

  commitTo(index: LogIndex): void {
    assert(index <= this.lastIndex(), `commitTo(${index}) > lastIndex ${this.lastIndex()}`);
    if (index > this.commitIndex) this.commitIndex = index;
  }

  hasEntriesToApply(): boolean {
    return this.commitIndex > this.appliedIndex;
  }

  /** Committed entries not yet applied, at most bytesMax (but at least one). */
  entriesToApply(bytesMax: number): Entry[] {
    return this.entries(this.appliedIndex + 1, this.commitIndex + 1, bytesMax);
  }

  appliedTo(index: LogIndex): void {
    assert(index <= this.commitIndex, `appliedTo(${index}) > commit ${this.commitIndex}`);
    assert(index >= this.appliedIndex, `appliedTo(${index}) < applied ${this.appliedIndex}`);
    this.appliedIndex = index;
  }
}
