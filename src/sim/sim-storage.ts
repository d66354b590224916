// Simulated durable storage: a MemoryLog plus a record of the writes made since the last fsync.
// A simulated crash undoes those writes, as a real power loss may drop anything not synced.

import type { InitialState, LogView } from "../core/log-view.js";
import { MemoryLog } from "../core/memory-log.js";
import {
  type Configuration,
  type Entry,
  type HardState,
  type LogIndex,
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

  /** An empty disk: no configuration until the log (or a snapshot) brings one. */
  private readonly configuration: Configuration = { voters: [], votersOutgoing: [], learners: [] };

  constructor() {
    this.log = new MemoryLog(this.configuration);
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
