// An in-memory LogStore for tests and the simulator. It models a disk with a volatile cache:
// appends without `sync` stay unsynced until a later synced append, and MemoryStorage.crash()
// drops them, as a power loss would. Truncations are durable at once, as on the real backends.

import { assert } from "../../assert.js";
import type { Entry, LogIndex, Term } from "../../core/types.js";
import { StorageClosedError } from "../errors.js";
import {
  type LogBounds,
  checkAppend,
  checkRange,
  checkTermIndex,
  checkTruncatePrefix,
  checkTruncateSuffix,
  entriesWithin,
} from "../log-rules.js";
import type { AppendOptions, LogStore } from "../types.js";

/** The "platters": what survives a MemoryStorage instance, and what a crash keeps of it. */
export interface MemoryLogMedium {
  entries: Entry[];
  firstIndex: LogIndex;
  compactedTerm: Term;
  /** Entries up to here survive a crash; later ones are in the volatile cache only. */
  syncedLastIndex: LogIndex;
}

export function emptyLogMedium(): MemoryLogMedium {
  return { entries: [], firstIndex: 1, compactedTerm: 0, syncedLastIndex: 0 };
}

/** What a crash leaves: the medium without its unsynced tail. */
export function dropUnsynced(medium: MemoryLogMedium): void {
  const keep = medium.syncedLastIndex - medium.firstIndex + 1;
  assert(keep >= 0, `synced last index ${medium.syncedLastIndex} < first ${medium.firstIndex}`);
  if (medium.entries.length > keep) medium.entries.length = keep;
}

export class MemoryLogStore implements LogStore {
  private closed = false;

  constructor(
    private readonly medium: MemoryLogMedium,
    private readonly entryBytesMax: number,
  ) {}

  firstIndex(): LogIndex {
    return this.medium.firstIndex;
  }

  lastIndex(): LogIndex {
    return this.medium.firstIndex + this.medium.entries.length - 1;
  }

  async term(index: LogIndex): Promise<Term> {
    this.checkOpen();
    checkTermIndex(this.bounds(), index);
    return this.termAt(index);
  }

  async entries(lo: LogIndex, hi: LogIndex, bytesMax: number): Promise<Entry[]> {
    this.checkOpen();
    if (!checkRange(this.bounds(), lo, hi, bytesMax)) return [];
    const first = this.medium.firstIndex;
    return entriesWithin(this.medium.entries.slice(lo - first, hi - first), bytesMax).map(copy);
  }

  async append(entries: readonly Entry[], options: AppendOptions): Promise<void> {
    this.checkOpen();
    checkAppend(this.bounds(), entries, this.entryBytesMax);
    for (const entry of entries) this.medium.entries.push(copy(entry));
    if (options.sync) this.medium.syncedLastIndex = this.lastIndex();
  }

  async truncateSuffix(fromIndex: LogIndex): Promise<void> {
    this.checkOpen();
    if (!checkTruncateSuffix(this.bounds(), fromIndex)) return;
    this.medium.entries.length = fromIndex - this.medium.firstIndex;
    this.medium.syncedLastIndex = Math.min(this.medium.syncedLastIndex, fromIndex - 1);
  }

  async truncatePrefix(upToIndex: LogIndex, upToTerm: Term): Promise<void> {
    this.checkOpen();
    const bounds = this.bounds();
    const known = upToIndex >= bounds.firstIndex - 1 && upToIndex <= bounds.lastIndex;
    const termAt = known ? this.termAt(upToIndex) : null;
    if (!checkTruncatePrefix(bounds, upToIndex, upToTerm, termAt)) return;
    const medium = this.medium;
    medium.entries.splice(0, Math.min(upToIndex, bounds.lastIndex) - medium.firstIndex + 1);
    medium.firstIndex = upToIndex + 1;
    medium.compactedTerm = upToTerm;
    medium.syncedLastIndex = Math.max(medium.syncedLastIndex, upToIndex);
    assert(this.lastIndex() >= upToIndex, `last index ${this.lastIndex()} < ${upToIndex}`);
  }

  /** Makes every later call throw StorageClosedError. */
  close(): void {
    this.closed = true;
  }

  private termAt(index: LogIndex): Term {
    if (index === this.medium.firstIndex - 1) return this.medium.compactedTerm;
    const entry = this.medium.entries[index - this.medium.firstIndex];
    assert(entry !== undefined, () => `no entry at ${index}`);
    return entry.term;
  }

  private bounds(): LogBounds {
    const lastIndex = this.lastIndex();
    return { firstIndex: this.medium.firstIndex, lastIndex, lastTerm: this.termAt(lastIndex) };
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageClosedError("memory log store");
  }
}

function copy(entry: Entry): Entry {
  return { term: entry.term, index: entry.index, type: entry.type, data: entry.data.slice() };
}
