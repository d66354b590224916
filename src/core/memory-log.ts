// An in-memory LogView with the mutations a driver needs: append (replacing a conflicting
// suffix), set the hard state, compact a prefix. Used by tests, the simulator, and drivers as
// the cache of the durable log tail.

import { assert } from "../assert.js";
import type { InitialState, LogView } from "./log-view.js";
import {
  type Configuration,
  type Entry,
  type HardState,
  type LogIndex,
  type SnapshotMeta,
  type Term,
  emptyHardState,
  entryBytes,
} from "./types.js";

export class MemoryLog implements LogView {
  private hardState: HardState = emptyHardState;
  /** The last compacted index and its term: entries[0] has index compactedIndex + 1. */
  private compactedIndex: LogIndex = 0;
  private compactedTerm: Term = 0;
  private log: Entry[] = [];
  private latestSnapshot: SnapshotMeta | null = null;

  /** `compacted`: where the log starts when everything before it is in a snapshot. */
  constructor(
    private configuration: Configuration,
    compacted: { readonly index: LogIndex; readonly term: Term } = { index: 0, term: 0 },
  ) {
    assert(compacted.index >= 0, `compacted index ${compacted.index} < 0`);
    this.compactedIndex = compacted.index;
    this.compactedTerm = compacted.term;
  }

  initialState(): InitialState {
    return { hardState: this.hardState, configuration: this.configuration };
  }

  firstIndex(): LogIndex {
    return this.compactedIndex + 1;
  }

  lastIndex(): LogIndex {
    return this.compactedIndex + this.log.length;
  }

  term(index: LogIndex): Term | null {
    if (index === this.compactedIndex) return this.compactedTerm;
    if (index < this.compactedIndex || index > this.lastIndex()) return null;
    const entry = this.log[index - this.compactedIndex - 1];
    assert(entry !== undefined, `memory log has no entry at ${index}`);
    return entry.term;
  }

  entries(low: LogIndex, high: LogIndex, bytesMax: number): Entry[] {
    assert(low >= this.firstIndex(), `entries(${low}) < firstIndex ${this.firstIndex()}`);
    assert(high <= this.lastIndex() + 1, `entries(.., ${high}) > lastIndex+1 ${this.lastIndex() + 1}`);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = low; i < high; i++) {
      const entry = this.log[i - this.compactedIndex - 1];
      assert(entry !== undefined, `memory log has no entry at ${i}`);
      bytes += entryBytes(entry);
      if (out.length > 0 && bytes > bytesMax) break;
      out.push(entry);
    }
    return out;
  }

  snapshot(): SnapshotMeta | null {
    return this.latestSnapshot;
  }

  /** Records a new durable snapshot (entries it covers may then be compacted). */
  setSnapshot(meta: SnapshotMeta): void {
    const current = this.latestSnapshot;
    assert(current === null || meta.index >= current.index, `snapshot ${meta.index} older than ${current?.index}`);
    this.latestSnapshot = meta;
  }

  /**
   * Replaces the whole log by a snapshot received from the leader: every entry goes, the log
   * starts after the snapshot, and the configuration is the snapshot's.
   */
  restoreSnapshot(meta: SnapshotMeta): void {
    this.log = [];
    this.compactedIndex = meta.index;
    this.compactedTerm = meta.term;
    this.configuration = meta.configuration;
    this.latestSnapshot = meta;
    if (this.hardState.commit < meta.index) this.hardState = { ...this.hardState, commit: meta.index };
  }

  setHardState(hardState: HardState): void {
    assert(hardState.term >= this.hardState.term, `term went back: ${this.hardState.term} -> ${hardState.term}`);
    this.hardState = hardState;
  }

  setConfiguration(configuration: Configuration): void {
    this.configuration = configuration;
  }

  /** Appends entries, first dropping any held entries at or after entries[0].index. */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    assert(first.index > this.compactedIndex, `append at ${first.index} <= compacted ${this.compactedIndex}`);
    assert(first.index <= this.lastIndex() + 1, `append at ${first.index} leaves a gap after ${this.lastIndex()}`);
    this.log.length = first.index - this.compactedIndex - 1;
    for (const entry of entries) {
      assert(entry.index === this.lastIndex() + 1, `append: index ${entry.index} is not contiguous`);
      this.log.push(entry);
    }
  }

  /** Drops entries at index >= from (a conflicting suffix). */
  truncateSuffix(from: LogIndex): Entry[] {
    assert(from > this.compactedIndex, `truncateSuffix(${from}) <= compacted ${this.compactedIndex}`);
    return this.log.splice(Math.max(0, from - this.compactedIndex - 1));
  }

  /** Forgets entries up to and including `index`, remembering the term at that point. */
  compact(index: LogIndex): void {
    assert(index <= this.lastIndex(), `compact(${index}) > lastIndex ${this.lastIndex()}`);
    const covered = this.latestSnapshot?.index ?? 0;
    assert(index <= covered, `compact(${index}) beyond the latest snapshot ${covered}`);
    if (index <= this.compactedIndex) return;
    const term = this.term(index);
    assert(term !== null, `compact(${index}): no term`);
    this.log = this.log.slice(index - this.compactedIndex);
    this.compactedIndex = index;
    this.compactedTerm = term;
  }
}
