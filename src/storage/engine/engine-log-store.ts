// LogStore on an ordered key-value engine (lmdb or level). Entries live under "e" + big-endian
// index (value format in entry-codec.ts); the compaction point under "m:compaction". Bounds are
// kept in memory and found on open from the compaction point and the last entry key.
// Suffix deletion removes keys from the top down in batches, so a crash part-way leaves a
// contiguous (longer) log, never a gap, and the last batch is synced. Prefix deletion syncs the
// new compaction point first, then clears the keys below it; leftovers are cleared on open.
// Appends go through group commit (group-commit.ts): appends made while a write is in flight
// share the next engine write, one transaction (LMDB) or batch (LevelDB) and one sync. A failed
// write stops the store (StorageFailedError), as the WAL does.

import { assert } from "../../assert.js";
import { type Entry, type LogIndex, type Term, entryBytes } from "../../core/types.js";
import { asBuffer, indexFromKey } from "../binary.js";
import {
  decodeCompactionPoint,
  encodeCompactionPoint,
  initialCompactionPoint,
} from "../compaction-point.js";
import { decodeEntryValue, encodeEntryValue } from "../entry-codec.js";
import { CorruptLogError, StorageClosedError, StorageFailedError } from "../errors.js";
import { GroupCommit, groupBytesMax, pendingBytesMax } from "../group-commit.js";
import {
  type LogBounds,
  checkAppend,
  checkRange,
  checkTermIndex,
  checkTruncatePrefix,
  checkTruncateSuffix,
} from "../log-rules.js";
import { SerialQueue } from "../serial-queue.js";
import type { AppendOptions, LogStore } from "../types.js";
import {
  type KvEngine,
  type KvOperation,
  compactionKey,
  entryKey,
  entryKeyPrefixBytes,
} from "./kv-engine.js";

/** Keys per batch when deleting a suffix, and entries per range read. */
const chunkEntries = 1024;
const syncMarkerKey = Buffer.from("m:sync", "latin1");
const keyAfterAllEntries = entryKey(Number.MAX_SAFE_INTEGER);

/** One append waiting for group commit: its puts, and its last entry (none when empty). */
interface PendingAppend {
  readonly operations: readonly KvOperation[];
  readonly last: Entry | undefined;
}

export class EngineLogStore implements LogStore {
  private readonly queue = new SerialQueue();
  private readonly commits: GroupCommit<PendingAppend>;
  private status: "open" | "closed" | "failed" = "open";
  /** What stopped the store, given again by every later call. */
  private failure: unknown;
  /** Whether anything was written without sync since the last synced write. */
  private unsynced = false;
  /** The last entry accepted by append(), written or still in group commit. */
  private accepted: { readonly index: LogIndex; readonly term: Term };

  private constructor(
    private readonly engine: KvEngine,
    private readonly entryBytesMax: number,
    /** What is written: lastIndex and lastTerm move once a group's write returns. */
    private bounds: LogBounds & { readonly compactedTerm: Term },
  ) {
    this.accepted = { index: bounds.lastIndex, term: bounds.lastTerm };
    this.commits = new GroupCommit((appends, sync) => this.writeGroup(appends, sync),
      groupBytesMax);
  }

  static async open(engine: KvEngine, entryBytesMax: number): Promise<EngineLogStore> {
    const pointValue = await engine.get(compactionKey);
    const point = pointValue === undefined
      ? initialCompactionPoint
      : decodeCompactionPoint(asBuffer(pointValue), `${engine.location} (key m:compaction)`);
    const { firstIndex, compactedTerm } = point;
    await engine.clearRange(entryKey(0), entryKey(firstIndex));
    const lastKey = await engine.lastKey(entryKey(firstIndex), keyAfterAllEntries);
    const lastIndex = lastKey === undefined
      ? firstIndex - 1
      : indexFromKey(lastKey, entryKeyPrefixBytes);
    const store = new EngineLogStore(engine, entryBytesMax,
      { firstIndex, lastIndex, lastTerm: compactedTerm, compactedTerm });
    if (lastIndex >= firstIndex) {
      await store.readEntry(firstIndex);
      const last = await store.readEntry(lastIndex);
      store.bounds = { ...store.bounds, lastTerm: last.term };
      store.accepted = { index: lastIndex, term: last.term };
    }
    return store;
  }

  firstIndex(): LogIndex {
    return this.bounds.firstIndex;
  }

  lastIndex(): LogIndex {
    return this.bounds.lastIndex;
  }

  term(index: LogIndex): Promise<Term> {
    return this.queue.run(async () => {
      await this.commits.idle();
      this.checkOpen();
      checkTermIndex(this.bounds, index);
      return this.termAt(index);
    });
  }

  entries(lo: LogIndex, hi: LogIndex, bytesMax: number): Promise<Entry[]> {
    return this.queue.run(async () => {
      await this.commits.idle();
      this.checkOpen();
      if (!checkRange(this.bounds, lo, hi, bytesMax)) return [];
      const result: Entry[] = [];
      let total = 0;
      let full = false;
      for (let index = lo; index < hi && !full; index = lo + result.length) {
        for (const entry of await this.readChunk(index, Math.min(hi, index + chunkEntries))) {
          total += entryBytes(entry);
          full = result.length > 0 && total > bytesMax;
          if (full) break;
          result.push(entry);
        }
      }
      return result;
    });
  }

  /**
   * Accepts the batch in call order (checked against earlier accepted appends, written or not)
   * and hands it to group commit; resolves once the group holding it is written and, when any
   * append of that group asked for sync, synced.
   */
  append(entries: readonly Entry[], options: AppendOptions): Promise<void> {
    const accepted = this.queue.run(async () => {
      this.checkOpen();
      const bounds = { ...this.bounds, lastIndex: this.accepted.index,
        lastTerm: this.accepted.term };
      checkAppend(bounds, entries, this.entryBytesMax);
      if (this.commits.pendingBytes >= pendingBytesMax) await this.commits.idle();
      this.checkOpen();
      const last = entries[entries.length - 1];
      if (last !== undefined) this.accepted = { index: last.index, term: last.term };
      let bytes = 0;
      const operations: KvOperation[] = entries.map((entry) => {
        const value = encodeEntryValue(entry);
        bytes += value.length;
        return { type: "put", key: entryKey(entry.index), value };
      });
      // Wrapped so the queue moves on now: the next append may join this one's group.
      return { written: this.commits.submit({ operations, last }, options.sync, bytes) };
    });
    return accepted.then((result) => result.written);
  }

  truncateSuffix(fromIndex: LogIndex): Promise<void> {
    return this.queue.run(async () => {
      await this.commits.idle();
      this.checkOpen();
      if (!checkTruncateSuffix(this.bounds, fromIndex)) return;
      const newLastTerm = await this.termAt(fromIndex - 1);
      for (let top = this.bounds.lastIndex; top >= fromIndex; top -= chunkEntries) {
        const bottom = Math.max(fromIndex, top - chunkEntries + 1);
        const operations: KvOperation[] = [];
        for (let index = top; index >= bottom; index -= 1) {
          operations.push({ type: "del", key: entryKey(index) });
        }
        await this.write(operations, bottom === fromIndex);
      }
      this.bounds = { ...this.bounds, lastIndex: fromIndex - 1, lastTerm: newLastTerm };
      this.accepted = { index: fromIndex - 1, term: newLastTerm };
    });
  }

  truncatePrefix(upToIndex: LogIndex, upToTerm: Term): Promise<void> {
    return this.queue.run(async () => {
      await this.commits.idle();
      this.checkOpen();
      const { firstIndex, lastIndex } = this.bounds;
      const known = upToIndex >= firstIndex - 1 && upToIndex <= lastIndex;
      const termAt = known ? await this.termAt(upToIndex) : null;
      if (!checkTruncatePrefix(this.bounds, upToIndex, upToTerm, termAt)) return;
      const point = { firstIndex: upToIndex + 1, compactedTerm: upToTerm };
      await this.write([{ type: "put", key: compactionKey, value: encodeCompactionPoint(point) }],
        true);
      await this.guard(() =>
        this.engine.clearRange(entryKey(firstIndex), entryKey(upToIndex + 1)));
      const emptied = upToIndex >= lastIndex;
      this.bounds = {
        firstIndex: upToIndex + 1,
        lastIndex: emptied ? upToIndex : lastIndex,
        lastTerm: emptied ? upToTerm : this.bounds.lastTerm,
        compactedTerm: upToTerm,
      };
      if (emptied) this.accepted = { index: upToIndex, term: upToTerm };
    });
  }

  close(): Promise<void> {
    return this.queue.run(async () => {
      await this.commits.idle();
      if (this.status === "closed") return;
      const syncFirst = this.status === "open" && this.unsynced;
      this.status = "closed";
      if (syncFirst) await this.write([syncMarker()], true);
    });
  }

  /** Group commit's writer: every put of the group in one engine write, synced if asked. */
  private async writeGroup(appends: readonly PendingAppend[], sync: boolean): Promise<void> {
    const operations = appends.flatMap((append) => append.operations);
    if (operations.length > 0) await this.write(operations, sync);
    else if (sync && this.unsynced) await this.write([syncMarker()], true);
    for (const { last } of appends) {
      if (last !== undefined) {
        this.bounds = { ...this.bounds, lastIndex: last.index, lastTerm: last.term };
      }
    }
  }

  private async write(operations: readonly KvOperation[], sync: boolean): Promise<void> {
    await this.guard(() => this.engine.write(operations, sync));
    // Both engines apply writes in order, so a synced write makes every earlier one durable.
    this.unsynced = !sync;
  }

  /**
   * Runs an engine operation; if it fails, the store stops. After a failed write or sync nothing
   * written since the last good sync is known to be durable, so nothing more may be reported so.
   */
  private async guard(operation: () => Promise<void>): Promise<void> {
    try {
      await operation();
    } catch (error) {
      if (this.status === "open") {
        this.status = "failed";
        this.failure = error;
      }
      throw new StorageFailedError(`log store ${this.engine.location}`, { cause: error });
    }
  }

  private async termAt(index: LogIndex): Promise<Term> {
    if (index === this.bounds.firstIndex - 1) return this.bounds.compactedTerm;
    if (index === this.bounds.lastIndex) return this.bounds.lastTerm;
    return (await this.readEntry(index)).term;
  }

  private async readEntry(index: LogIndex): Promise<Entry> {
    const value = await this.engine.get(entryKey(index));
    if (value === undefined) throw this.corrupt(index, "entry is missing");
    const entry = decodeEntryValue(index, value);
    if (typeof entry === "string") throw this.corrupt(index, entry);
    return entry;
  }

  /** Entries lo..hi-1, checking that none is missing or damaged. */
  private async readChunk(lo: LogIndex, hi: LogIndex): Promise<Entry[]> {
    const pairs = await this.engine.range(entryKey(lo), entryKey(hi), hi - lo);
    const entries: Entry[] = [];
    for (const [offset, pair] of pairs.entries()) {
      const index = indexFromKey(pair.key, entryKeyPrefixBytes);
      if (index !== lo + offset) throw this.corrupt(lo + offset, "entry is missing");
      const entry = decodeEntryValue(index, pair.value);
      if (typeof entry === "string") throw this.corrupt(index, entry);
      entries.push(entry);
    }
    if (entries.length !== hi - lo) throw this.corrupt(lo + entries.length, "entry is missing");
    assert(entries.length > 0, `empty chunk ${lo}..${hi}`);
    return entries;
  }

  private corrupt(index: LogIndex, reason: string): CorruptLogError {
    return new CorruptLogError(this.engine.location, null, `entry ${index}: ${reason}`);
  }

  private checkOpen(): void {
    if (this.status === "closed") throw new StorageClosedError(`log store ${this.engine.location}`);
    if (this.status === "failed") {
      throw new StorageFailedError(`log store ${this.engine.location}`, { cause: this.failure });
    }
  }
}

function syncMarker(): KvOperation {
  return { type: "put", key: syncMarkerKey, value: Buffer.alloc(0) };
}
