// The driver's copy of the durable log: a MemoryLog the core reads synchronously, loaded from
// the storage backend at start and kept equal to it by writing every Ready batch to both
// (storage first: the cache never claims what the disk does not hold).

import { assert } from "../assert.js";
import { MemoryLog } from "../core/memory-log.js";
import type { Entry, HardState, LogIndex, SnapshotMeta } from "../core/types.js";
import { RaftStoreError } from "../errors.js";
import type { Clock } from "./ports.js";
import type { Storage } from "../storage/types.js";
import { placeSnapshot } from "./snapshots.js";

/** Entries read from storage per call while loading. */
const loadBytesPerRead = 8 * 1024 * 1024;

/** The state machine and the log do not fit together: the data directory is inconsistent. */
export class InconsistentStateError extends RaftStoreError {
  override readonly code = "INCONSISTENT_STATE";
}

/** Whether the log on disk holds (or was compacted exactly at) the snapshot's last entry. */
async function holds(storage: Storage, snapshot: SnapshotMeta): Promise<boolean> {
  const log = storage.log;
  if (snapshot.index < log.firstIndex() - 1 || snapshot.index > log.lastIndex()) return false;
  return (await log.term(snapshot.index)) === snapshot.term;
}

export class DurableLog {
  private savedHardState: HardState;
  private lastCommitSave: number;

  private constructor(
    private readonly storage: Storage,
    readonly cache: MemoryLog,
    private readonly clock: Clock,
    private readonly commitSaveIntervalMs: number,
  ) {
    this.savedHardState = storage.stable.get().hardState;
    this.lastCommitSave = clock.now();
  }

  /**
   * Loads the log. `appliedIndex` is where the state machine stands: entries up to it were
   * committed, whatever the (lazily saved) commit index says.
   */
  static async open(
    storage: Storage,
    snapshot: SnapshotMeta | null,
    appliedIndex: LogIndex,
    clock: Clock,
    commitSaveIntervalMs: number,
  ): Promise<DurableLog> {
    const log = storage.log;
    if (snapshot !== null && !(await holds(storage, snapshot))) {
      // A snapshot received from a leader but not yet put in place when the node stopped.
      await placeSnapshot(storage, snapshot);
    }
    const first = log.firstIndex();
    const compacted = { index: first - 1, term: await log.term(first - 1) };
    // The configuration at the start of the log: the snapshot's, or none (the log holds it).
    const configuration = snapshot?.configuration ?? { voters: [], votersOutgoing: [], learners: [] };
    const cache = new MemoryLog(configuration, compacted);
    if (snapshot !== null) cache.setSnapshot(snapshot);
    for (let low = first; low <= log.lastIndex(); ) {
      const entries = await log.entries(low, log.lastIndex() + 1, loadBytesPerRead);
      assert(entries.length > 0, `storage returned no entries from ${low}`);
      cache.append(entries);
      low += entries.length;
    }
    if (appliedIndex > cache.lastIndex()) {
      throw new InconsistentStateError(
        `the state machine has applied index ${appliedIndex} but the log ends at ${cache.lastIndex()}`,
      );
    }
    if (appliedIndex < first - 1) {
      throw new InconsistentStateError(
        `the state machine stands at index ${appliedIndex} but the log starts at ${first} ` +
          "and no snapshot covers the entries in between",
      );
    }
    const { hardState } = storage.stable.get();
    const commit = Math.max(Math.min(hardState.commit, cache.lastIndex()), appliedIndex);
    cache.setHardState({ ...hardState, commit });
    return new DurableLog(storage, cache, clock, commitSaveIntervalMs);
  }

  /**
   * Makes a Ready batch durable: replaces any conflicting suffix, appends the entries (one
   * fsync), then saves the hard state when the term or vote changed. A change of the commit
   * index alone is saved at most every commitSaveIntervalMs: it is a restart hint, not a vote.
   * `overlap` tells the log the caller has work to do while the entries are written.
   */
  async save(hardState: HardState | null, entries: readonly Entry[], overlap = false):
    Promise<void> {
    const first = entries[0];
    if (first !== undefined) {
      const log = this.storage.log;
      if (first.index <= log.lastIndex()) await log.truncateSuffix(first.index);
      await log.append(entries, { sync: true, overlap });
      this.cache.append(entries);
    }
    if (hardState === null) return;
    this.cache.setHardState(hardState);
    const saved = this.savedHardState;
    const voteChanged = hardState.term !== saved.term || hardState.vote !== saved.vote;
    const commitDue = this.clock.now() - this.lastCommitSave >= this.commitSaveIntervalMs;
    if (voteChanged || (hardState.commit !== saved.commit && commitDue)) await this.saveHardState(hardState);
  }

  /** Saves the latest hard state if it differs from what is on disk (on a clean stop). */
  async flush(): Promise<void> {
    const { hardState } = this.cache.initialState();
    const saved = this.savedHardState;
    if (hardState.term !== saved.term || hardState.vote !== saved.vote || hardState.commit !== saved.commit) {
      await this.saveHardState(hardState);
    }
  }

  private async saveHardState(hardState: HardState): Promise<void> {
    await this.storage.stable.set({ hardState });
    this.savedHardState = hardState;
    this.lastCommitSave = this.clock.now();
  }
}
