// Simulated durable storage: a MemoryLog plus a record of the writes made since the last fsync.
// A simulated crash undoes those writes, as a real power loss may drop anything not synced.

import type { InitialState, LogView } from "../core/log-view.js";
import { MemoryLog } from "../core/memory-log.js";
import {
  type Configuration,
  type Entry,
  type HardState,
  type LogIndex,
  type SnapshotMeta,
  type Term,
  emptyHardState,
} from "../core/types.js";

export interface StoredSnapshot {
  readonly meta: SnapshotMeta;
  readonly state: readonly string[];
}

interface UnsyncedWrite {
  readonly hardState: HardState;
  /** Index of the first entry written, and the entries it replaced. */
  readonly from: LogIndex | null;
  readonly replaced: Entry[];
}

export class SimStorage implements LogView {
  private readonly log: MemoryLog;
  private hardState: HardState = emptyHardState;
  private unsynced: UnsyncedWrite[] = [];

  /** The configuration at the start of the log (empty on a new disk: the log brings one). */
  private configuration: Configuration = { voters: [], votersOutgoing: [], learners: [] };
  /**
   * The snapshot store, by index: metadata and the state machine each holds (applied keys).
   * Like the driver's store it may hold several: its own, and ones received from leaders
   * (installed, or not yet: the core decides after the driver stored them).
   */
  private readonly snapshots = new Map<LogIndex, StoredSnapshot>();

  constructor() {
    this.log = new MemoryLog(this.configuration);
  }

  /** The snapshot the log currently starts from or records (LogView: what a leader offers). */
  snapshot(): SnapshotMeta | null {
    return this.log.snapshot();
  }

  /** The stored snapshot with the highest index (what a restart starts from), or null. */
  newestSnapshot(): StoredSnapshot | null {
    let newest: StoredSnapshot | null = null;
    for (const stored of this.snapshots.values()) {
      if (newest === null || stored.meta.index > newest.meta.index) newest = stored;
    }
    return newest;
  }

  /** The stored snapshot at `index`, or null. */
  snapshotAt(index: LogIndex): StoredSnapshot | null {
    return this.snapshots.get(index) ?? null;
  }

  /** Whether a stored snapshot covers `index` (its entries are part of the snapshot's state). */
  snapshotCovers(index: LogIndex): boolean {
    return (this.newestSnapshot()?.meta.index ?? 0) >= index;
  }

  /** Stores a snapshot durably, as the driver's store does; the log is not touched. */
  storeSnapshot(meta: SnapshotMeta, state: readonly string[]): void {
    if (!this.snapshots.has(meta.index)) this.snapshots.set(meta.index, { meta, state });
  }

  /** Records a stored snapshot as the log's own (taken here; its entries may be compacted). */
  markSnapshot(meta: SnapshotMeta): void {
    this.log.setSnapshot(meta);
  }

  /**
   * The driver's retention: keeps the newest `count` snapshots and every one above `applied`
   * (a received snapshot the core has not adopted yet may still be the one it installs).
   */
  retainSnapshots(count: number, applied: LogIndex): void {
    const newestFirst = [...this.snapshots.keys()].sort((a, b) => b - a);
    const ahead = newestFirst.filter((index) => index > applied).length;
    for (const index of newestFirst.slice(ahead + count)) this.snapshots.delete(index);
  }

  /** Drops entries up to `index` (covered by the snapshot); `configuration` is the one there. */
  compact(index: LogIndex, configuration: Configuration): void {
    if (index <= this.log.firstIndex() - 1) return;
    this.log.compact(index);
    this.configuration = configuration;
    this.log.setConfiguration(configuration);
    this.unsynced = []; // compaction is synced, and so is everything before it
  }

  /** Replaces the whole log by the stored snapshot (one received from the leader). */
  restoreSnapshot(meta: SnapshotMeta): void {
    this.log.restoreSnapshot(meta);
    this.configuration = meta.configuration;
    this.unsynced = [];
    if (this.hardState.commit < meta.index) this.hardState = { ...this.hardState, commit: meta.index };
  }

  initialState(): InitialState {
    return { hardState: this.hardState, configuration: this.configuration };
  }

  firstIndex(): LogIndex {
    return this.log.firstIndex();
  }

  lastIndex(): LogIndex {
    return this.log.lastIndex();
  }

  term(index: LogIndex): Term | null {
    return this.log.term(index);
  }

  entries(low: LogIndex, high: LogIndex, bytesMax: number): Entry[] {
    return this.log.entries(low, high, bytesMax);
  }

  write(hardState: HardState | null, entries: readonly Entry[], sync: boolean): void {
    const first = entries[0];
    const undo: UnsyncedWrite = {
      hardState: this.hardState,
      from: first?.index ?? null,
      replaced: first === undefined ? [] : this.log.truncateSuffix(first.index),
    };
    this.log.append(entries);
    if (hardState !== null) this.hardState = hardState;
    // An fsync makes every earlier write durable too.
    if (sync) this.unsynced = [];
    else this.unsynced.push(undo);
  }

  /** Loses every write since the last sync; returns how many were lost. */
  crash(): number {
    const lost = this.unsynced.length;
    for (const undo of this.unsynced.reverse()) {
      if (undo.from !== null) {
        this.log.truncateSuffix(undo.from);
        this.log.append(undo.replaced);
      }
      this.hardState = undo.hardState;
    }
    this.unsynced = [];
    return lost;
  }
}
