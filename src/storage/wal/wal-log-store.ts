// The WAL LogStore: a segmented append-only log (format in record.ts, segment.ts, README.md).
// A batch is one write() and, with `sync`, one fdatasync. Suffix deletion truncates the file and
// fsyncs before it resolves, so a crash cannot bring deleted entries back behind newer ones.
// Prefix deletion records the compaction point, then unlinks whole segments. Any write or fsync
// error stops the store for good (StorageFailedError): after a failed fsync the page cache cannot
// be trusted, so a retry could report lost data as durable.

import { type FileHandle, open, unlink } from "node:fs/promises";
import { join } from "node:path";
import { AssertionError, assert } from "../../assert.js";
import { type Entry, type LogIndex, type Term, entryBytes } from "../../core/types.js";
import { ConfigError, RaftStoreError } from "../../errors.js";
import { CorruptLogError, StorageClosedError, StorageFailedError } from "../errors.js";
import { ensureDirectory, fsyncDirectory, readFully, writeFully } from "../fs-util.js";
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
import { writeCompactionPoint } from "../compaction-point.js";
import type { IndexTable } from "./index-table.js";
import {
  checkRecord,
  decodeRecord,
  describeFault,
  encodeRecords,
  recordBytes,
  recordHeaderBytes,
  type RecordFault,
} from "./record.js";
import { type SegmentInfo, recoverWal } from "./recovery.js";
import { encodeSegmentHeader, segmentHeaderBytes, segmentName } from "./segment.js";

export interface WalOptions {
  readonly dir: string;
  readonly segmentBytes: number;
  readonly entryBytesMax: number;
}

interface Segment extends SegmentInfo {
  handle: FileHandle | null;
}

/** Sealed segments keep a read handle open; past this many, they are closed and reopened lazily. */
const handlesMax = 16;
/** entryBytes() of an entry beyond its payload: what a byte budget charges per entry. */
const entryOverheadBytes = entryBytes({ term: 0, index: 0, type: 0, data: new Uint8Array(0) });

export class WalLogStore implements LogStore {
  private readonly queue = new SerialQueue();
  private status: "open" | "closed" | "failed" = "open";
  private activeDirty = false;
  private openHandles = 0;

  private constructor(
    private readonly options: WalOptions,
    private readonly segments: Segment[],
    private readonly table: IndexTable,
    private compactedTerm: Term,
    /** What recovery repaired on open (torn tails cut), for the operator's log. */
    readonly repairs: readonly string[],
  ) {}

  static async open(options: WalOptions): Promise<WalLogStore> {
    if (!(options.segmentBytes >= 64)) {
      throw new ConfigError(`segmentBytes ${options.segmentBytes} < 64`);
    }
    if (!(options.entryBytesMax >= 1)) {
      throw new ConfigError(`entryBytesMax ${options.entryBytesMax} < 1`);
    }
    await ensureDirectory(options.dir);
    const recovered = await recoverWal(options.dir, options.entryBytesMax);
    const segments = recovered.segments.map((info) => ({ ...info, handle: null }));
    return new WalLogStore(options, segments, recovered.table, recovered.compactedTerm,
      recovered.repairs);
  }

  firstIndex(): LogIndex {
    return this.table.firstIndex;
  }

  lastIndex(): LogIndex {
    return this.table.lastIndex;
  }

  term(index: LogIndex): Promise<Term> {
    return this.queue.run(async () => {
      this.checkOpen();
      checkTermIndex(this.bounds(), index);
      return this.termAt(index);
    });
  }

  entries(lo: LogIndex, hi: LogIndex, bytesMax: number): Promise<Entry[]> {
    return this.queue.run(async () => {
      this.checkOpen();
      if (!checkRange(this.bounds(), lo, hi, bytesMax)) return [];
      return this.guard("read", () => this.readEntries(lo, hi, bytesMax));
    });
  }

  append(entries: readonly Entry[], options: AppendOptions): Promise<void> {
    return this.queue.run(async () => {
      this.checkOpen();
      checkAppend(this.bounds(), entries, this.options.entryBytesMax);
      if (entries.length > 0) await this.guard("append", () => this.writeBatch(entries));
      if (options.sync && this.activeDirty) await this.guard("fdatasync", () => this.syncActive());
    });
  }

  truncateSuffix(fromIndex: LogIndex): Promise<void> {
    return this.queue.run(async () => {
      this.checkOpen();
      if (!checkTruncateSuffix(this.bounds(), fromIndex)) return;
      await this.guard("truncateSuffix", () => this.cutSuffix(fromIndex));
    });
  }

  truncatePrefix(upToIndex: LogIndex, upToTerm: Term): Promise<void> {
    return this.queue.run(async () => {
      this.checkOpen();
      const bounds = this.bounds();
      const known = upToIndex >= bounds.firstIndex - 1 && upToIndex <= bounds.lastIndex;
      const termAt = known ? this.termAt(upToIndex) : null;
      if (!checkTruncatePrefix(bounds, upToIndex, upToTerm, termAt)) return;
      await this.guard("truncatePrefix", () => this.cutPrefix(upToIndex, upToTerm));
    });
  }

  /** Syncs anything unsynced (a clean shutdown loses nothing) and closes every file. */
  close(): Promise<void> {
    return this.queue.run(async () => {
      if (this.status === "closed") return;
      const syncFirst = this.status === "open" && this.activeDirty;
      this.status = "closed";
      if (syncFirst) await this.syncActive();
      for (const segment of this.segments) await this.closeHandle(segment);
    });
  }

  private async writeBatch(entries: readonly Entry[]): Promise<void> {
    let active = this.segments[this.segments.length - 1];
    if (active === undefined || active.endOffset >= this.options.segmentBytes) {
      active = await this.roll(active);
    }
    const handle = await this.handleOf(active);
    await writeFully(handle, encodeRecords(entries), active.endOffset);
    let offset = active.endOffset;
    for (const entry of entries) {
      this.table.push(entry.term, offset);
      offset += recordBytes(entry);
    }
    active.endOffset = offset;
    this.activeDirty = true;
  }

  /** Seals the active segment (syncing it first) and starts the next one. */
  private async roll(sealed: Segment | undefined): Promise<Segment> {
    if (sealed !== undefined && this.activeDirty) await this.syncActive();
    const baseIndex = this.lastIndex() + 1;
    const path = join(this.options.dir, segmentName(baseIndex));
    const handle = await open(path, "wx+");
    this.openHandles += 1;
    const segment: Segment = { path, baseIndex, endOffset: segmentHeaderBytes, handle };
    this.segments.push(segment);
    await writeFully(handle, encodeSegmentHeader(baseIndex), 0);
    // The header and the directory entry are durable before any record goes in, so recovery
    // can tell a segment torn at creation (nothing synced) from one damaged later.
    await handle.datasync();
    await fsyncDirectory(this.options.dir);
    return segment;
  }

  private async syncActive(): Promise<void> {
    const active = this.segments[this.segments.length - 1];
    assert(active !== undefined, "unsynced writes but no active segment");
    await (await this.handleOf(active)).datasync();
    this.activeDirty = false;
  }

  private async cutSuffix(fromIndex: LogIndex): Promise<void> {
    const position = this.segmentPosition(fromIndex);
    const keep = this.segments[position];
    assert(keep !== undefined, `no segment holds ${fromIndex}`);
    // Later segments go first, newest first, and the directory is synced before the kept
    // segment is cut: a crash at any point leaves a contiguous log, never a gap.
    const doomed = this.segments.splice(position + 1).reverse();
    for (const segment of doomed) await this.removeSegment(segment);
    if (doomed.length > 0) await fsyncDirectory(this.options.dir);
    const offset = this.table.offset(fromIndex);
    const handle = await this.handleOf(keep);
    await handle.truncate(offset);
    await handle.datasync();
    keep.endOffset = offset;
    this.table.truncateFrom(fromIndex);
    this.activeDirty = false;
    assert(this.lastIndex() === fromIndex - 1, () =>
      `last ${this.lastIndex()} after a cut at ${fromIndex}`);
  }

  private async cutPrefix(upToIndex: LogIndex, upToTerm: Term): Promise<void> {
    const point = { firstIndex: upToIndex + 1, compactedTerm: upToTerm };
    await writeCompactionPoint(this.options.dir, point);
    let drop = 0;
    while (drop < this.segments.length && this.segmentNextIndex(drop) <= upToIndex + 1) drop += 1;
    const doomed = this.segments.splice(0, drop);
    for (const segment of doomed) await this.removeSegment(segment);
    if (doomed.length > 0) await fsyncDirectory(this.options.dir);
    if (this.segments.length === 0) this.activeDirty = false;
    this.table.dropBefore(upToIndex + 1);
    this.compactedTerm = upToTerm;
    assert(this.firstIndex() === upToIndex + 1, `first ${this.firstIndex()} after ${upToIndex}`);
  }

  private async readEntries(lo: LogIndex, hi: LogIndex, bytesMax: number): Promise<Entry[]> {
    const result: Entry[] = [];
    let budget = bytesMax;
    let index = lo;
    for (let position = this.segmentPosition(lo); index < hi; position += 1) {
      const segment = this.segments[position];
      assert(segment !== undefined, `no segment for entry ${index}`);
      const segmentNext = this.segmentNextIndex(position);
      const stopAt = Math.min(hi, segmentNext);
      let stop = index;
      let endOffset = this.table.offset(index);
      while (stop < stopAt) {
        const recordEnd = stop + 1 < segmentNext ? this.table.offset(stop + 1) : segment.endOffset;
        const bytes = recordEnd - this.table.offset(stop) - recordHeaderBytes + entryOverheadBytes;
        if (result.length + stop - index > 0 && bytes > budget) break;
        budget -= bytes;
        stop += 1;
        endOffset = recordEnd;
      }
      if (stop > index) result.push(...(await this.readRecords(segment, index, stop, endOffset)));
      if (stop < stopAt) break;
      index = stop;
    }
    assert(result.length > 0, `read of ${lo}..${hi} returned nothing`);
    return result;
  }

  /** Reads and verifies the records for entries from..to-1, which end at endOffset. */
  private async readRecords(
    segment: Segment,
    from: LogIndex,
    to: LogIndex,
    endOffset: number,
  ): Promise<Entry[]> {
    const start = this.table.offset(from);
    const handle = await this.handleOf(segment);
    const buf = await readFully(handle, endOffset - start, start);
    const entries: Entry[] = [];
    let offset = 0;
    for (let index = from; index < to; index += 1) {
      const end = checkRecord(buf, offset, buf.length, this.options.entryBytesMax);
      const fault = end < 0 ? describeFault(end as RecordFault) : null;
      const entry = fault === null ? decodeRecord(buf, offset) : null;
      if (entry === null || entry.index !== index) {
        throw new CorruptLogError(segment.path, start + offset,
          fault ?? `record has index ${entry?.index}, expected ${index}`);
      }
      entries.push(entry);
      offset = end;
    }
    return entries;
  }

  /** Position in `segments` of the segment holding `index`. */
  private segmentPosition(index: LogIndex): number {
    let low = 0;
    let high = this.segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if ((this.segments[middle]?.baseIndex ?? Infinity) <= index) low = middle;
      else high = middle - 1;
    }
    assert((this.segments[low]?.baseIndex ?? Infinity) <= index, `no segment holds ${index}`);
    return low;
  }

  /** The index after the last entry of segment `position`. */
  private segmentNextIndex(position: number): LogIndex {
    return this.segments[position + 1]?.baseIndex ?? this.lastIndex() + 1;
  }

  private async handleOf(segment: Segment): Promise<FileHandle> {
    if (segment.handle !== null) return segment.handle;
    if (this.openHandles >= handlesMax) {
      const sealed = this.segments.slice(0, -1);
      for (const other of sealed) await this.closeHandle(other);
    }
    segment.handle = await open(segment.path, "r+");
    this.openHandles += 1;
    return segment.handle;
  }

  private async closeHandle(segment: Segment): Promise<void> {
    if (segment.handle === null) return;
    const handle = segment.handle;
    segment.handle = null;
    this.openHandles -= 1;
    await handle.close();
  }

  private async removeSegment(segment: Segment): Promise<void> {
    await this.closeHandle(segment);
    await unlink(segment.path);
  }

  private termAt(index: LogIndex): Term {
    return index === this.table.firstIndex - 1 ? this.compactedTerm : this.table.term(index);
  }

  private bounds(): LogBounds {
    const lastIndex = this.lastIndex();
    return { firstIndex: this.firstIndex(), lastIndex, lastTerm: this.termAt(lastIndex) };
  }

  /** Runs I/O; any failure other than a typed error or a bug stops the store. */
  private async guard<T>(what: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof RaftStoreError || error instanceof AssertionError) throw error;
      this.status = "failed";
      throw new StorageFailedError(`${what} in ${this.options.dir}`, { cause: error });
    }
  }

  private checkOpen(): void {
    if (this.status === "closed") throw new StorageClosedError(`WAL ${this.options.dir}`);
    if (this.status === "failed") throw new StorageFailedError(`WAL ${this.options.dir}`);
  }
}
