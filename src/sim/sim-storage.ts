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
  /** The latest snapshot: its metadata and the state machine it holds (applied keys). */
  private latest: { readonly meta: SnapshotMeta; readonly state: readonly string[] } | null = null;

  constructor() {
    this.log = new MemoryLog(this.configuration);
  }

  snapshot(): SnapshotMeta | null {
    return this.latest?.meta ?? null;
  }

  snapshotState(): readonly string[] | null {
    return this.latest?.state ?? null;
  }

  /** Stores a snapshot durably (a newer one replaces it). */
  saveSnapshot(meta: SnapshotMeta, state: readonly string[]): void {
    if (this.latest !== null && this.latest.meta.index >= meta.index) return;
    this.latest = { meta, state };
    this.log.setSnapshot(meta);
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
