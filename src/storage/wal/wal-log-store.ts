// The WAL LogStore: a segmented append-only log (format in record.ts, segment.ts, README.md).
// Appends go through group commit (group-commit.ts): one append, or every append that queued
// while the previous write was in flight, is one writev() of one record. Segments are opened
// with O_DSYNC, so that writev returns only once the data is durable: the sync costs no extra
// system call or thread-pool round trip (every append is durable, `sync` or not). With
// writeMode "inline" that writev runs on the calling thread instead of the pool. Every other
// operation first waits for the appends before it to settle.
// Suffix deletion truncates and fsyncs before it resolves, so a crash cannot bring deleted
// entries back behind newer ones.
// Prefix deletion records the compaction point, then unlinks whole segments, or keeps a few for
// reuse as new segments (recycled-segments.ts). Any write or fsync error stops the store for good
// (StorageFailedError): after a failed fsync the page cache cannot be trusted, so a retry could
// report lost data as durable.

import { constants } from "node:fs";
import { type FileHandle, open, unlink } from "node:fs/promises";
import { join } from "node:path";
import { AssertionError, assert } from "../../assert.js";
import type { Entry, LogIndex, Term } from "../../core/types.js";
import { ConfigError, RaftStoreError } from "../../errors.js";
import { StorageClosedError, StorageFailedError } from "../errors.js";
import {
  ensureDirectory,
  fsyncDirectory,
  writeFully,
  writevFully,
  writevFullySync,
} from "../fs-util.js";
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

/** Read-write, and every write synchronized (data integrity) before it returns. */
const segmentOpenFlags = constants.O_RDWR | constants.O_DSYNC;
import { writeCompactionPoint } from "../compaction-point.js";
import { BufferPool } from "./buffer-pool.js";
import { GroupCommit, groupBytesMax, pendingBytesMax } from "../group-commit.js";
import type { IndexTable } from "./index-table.js";
import {
  type RecordLimits,
  type EntryRun,
  encodeRuns,
  entryHeaderBytes,
  frameRecords,
  recordHeaderBytes,
  recordLimits,
} from "./record.js";
import { RecycledSegments } from "./recycled-segments.js";
import {
  type SegmentInfo,
  minScanWindowBytes,
  recoverWal,
  scanWindowBytes,
} from "./recovery.js";
import { encodeSegmentHeader, newSalt, segmentHeaderBytes, segmentName } from "./segment.js";
import { SpareSegment } from "./spare-segment.js";
import { readSegmentRange, stopWithin } from "./wal-reader.js";
import { cutInsideRecord, indexWritten } from "./wal-writes.js";

export interface WalOptions {
  readonly dir: string;
  readonly segmentBytes: number;
  readonly entryBytesMax: number;
  /** Where a write is split into records (default 1 MiB): bounds what a read of one entry loads. */
  readonly recordBytesTarget?: number;
  /**
   * "thread" (default): appends are written from libuv's thread pool and the event loop runs on
   * while the disk flushes. "inline": written on the calling thread, so the event loop waits
   * for the disk but skips the hand-off to the pool and the wake-up on completion, which on a
   * virtual machine with idle cores costs more than a small flush. "auto": inline, unless an
   * append of the group says it has work to overlap (AppendOptions.overlap). Inline modes suit
   * a process that serves the log and little else (the raft-store server).
   */
  readonly writeMode?: WalWriteMode;
  /**
   * Keep the next segment ready, filled with zeros (default true): synced writes then overwrite
   * written blocks instead of growing the file, which saves a metadata commit on each of them
   * (spare-segment.ts). Costs one more segment of disk space and a second, background write of
   * each segment. Also keeps up to two compacted segments for reuse as new ones, which need no
   * zeroing (recycled-segments.ts). Turn off on copy-on-write file systems (btrfs, ZFS), where
   * it gains nothing.
   */
  readonly preallocate?: boolean;
  /**
   * Bytes read at a time while opening, when every record is checked (default 8 MiB,
   * recovery.ts); a record longer than this is read whole. At least 56.
   */
  readonly scanWindowBytes?: number;
}

export type WalWriteMode = "thread" | "inline" | "auto";
export const walWriteModes: readonly WalWriteMode[] = ["thread", "inline", "auto"];

/** One append as group commit holds it: its encoded runs and its overlap hint. */
interface PendingAppend {
  readonly runs: readonly EntryRun[];
  readonly overlap: boolean;
}

interface Segment extends SegmentInfo {
  handle: FileHandle | null;
  /** Made from a recycled file: old bytes may follow endOffset (cut before it is sealed). */
  staleTail: boolean;
}

/** Sealed segments keep a read handle open; past this many, they are closed and reopened lazily. */
const handlesMax = 16;
export const defaultRecordBytesTarget = 1024 * 1024;
/**
 * Run buffers kept for reuse, and the largest pooled: at most 2 MiB held. A larger run (a batch
 * of over about 900 entries of 256 bytes) spreads one allocation over as many entries.
 */
const runBuffersKept = 8;
const runBufferBytesMax = 256 * 1024;
/** Compacted segments kept for reuse (when preallocation is on). */
const recycledMax = 2;

export class WalLogStore implements LogStore {
  private readonly queue = new SerialQueue();
  private readonly commits: GroupCommit<PendingAppend>;
  private status: "open" | "closed" | "failed" = "open";
  /** What stopped the store, given again by every later call. */
  private failure: unknown;
  private activeDirty = false;
  private openHandles = 0;
  /** The last entry accepted by append(): written, or waiting in group commit. */
  private acceptedIndex: LogIndex;
  private acceptedTerm: Term;
  private readonly recordBytesTarget: number;
  /** Buffers of encoded runs, reused once their group is written (buffer-pool.ts). */
  private readonly runBuffers = new BufferPool(runBuffersKept, runBufferBytesMax);
  private readonly takeRunBuffer = (bytes: number): Buffer => this.runBuffers.take(bytes);

  private constructor(
    private readonly options: WalOptions,
    private readonly limits: RecordLimits,
    private readonly segments: Segment[],
    private readonly table: IndexTable,
    private compactedTerm: Term,
    /** What recovery repaired on open (torn tails cut), for the operator's log. */
    readonly repairs: readonly string[],
    private readonly spare: SpareSegment | null,
    private readonly recycled: RecycledSegments,
  ) {
    this.recordBytesTarget = options.recordBytesTarget ?? defaultRecordBytesTarget;
    this.commits = new GroupCommit((appends, sync) => this.writeGroup(appends, sync),
      groupBytesMax);
    this.acceptedIndex = table.lastIndex;
    this.acceptedTerm = this.termAt(table.lastIndex);
  }

  static async open(options: WalOptions): Promise<WalLogStore> {
    if (options.writeMode !== undefined && !walWriteModes.includes(options.writeMode)) {
      const modes = walWriteModes.join(", ");
      throw new ConfigError(`writeMode "${String(options.writeMode)}": use one of ${modes}`);
    }
    if (!(options.segmentBytes >= 64)) {
      throw new ConfigError(`segmentBytes ${options.segmentBytes} < 64`);
    }
    if (!(options.entryBytesMax >= 1 && options.entryBytesMax <= 2 ** 31)) {
      throw new ConfigError(`entryBytesMax ${options.entryBytesMax} outside 1..2^31`);
    }
    const target = options.recordBytesTarget ?? defaultRecordBytesTarget;
    if (!(target >= recordHeaderBytes && target <= 2 ** 31)) {
      throw new ConfigError(`recordBytesTarget ${target} outside ${recordHeaderBytes}..2^31`);
    }
    const window = options.scanWindowBytes ?? scanWindowBytes;
    if (!(Number.isSafeInteger(window) && window >= minScanWindowBytes && window <= 2 ** 31)) {
      throw new ConfigError(`scanWindowBytes ${window} outside ${minScanWindowBytes}..2^31`);
    }
    await ensureDirectory(options.dir);
    const limits = recordLimits(options.entryBytesMax, target);
    const recovered = await recoverWal(options.dir, limits, window);
    const segments = recovered.segments.map((info) => ({ ...info, handle: null,
      staleTail: false }));
    const preallocate = options.preallocate !== false;
    const spare = preallocate ? await SpareSegment.open(options.dir, options.segmentBytes) : null;
    const recycled = await RecycledSegments.open(options.dir, preallocate ? recycledMax : 0);
    return new WalLogStore(options, limits, segments, recovered.table, recovered.compactedTerm,
      recovered.repairs, spare, recycled);
  }

  /**
   * Waits until the zero-filled spare that the next segment will be made from is ready (tests
   * and benchmarks that want the preallocated path for certain); false when preallocation is off.
   */
  spareReady(): Promise<boolean> {
    return this.spare?.whenFilled() ?? Promise.resolve(false);
  }

  firstIndex(): LogIndex {
    return this.table.firstIndex;
  }

  lastIndex(): LogIndex {
    return this.table.lastIndex;
  }

  term(index: LogIndex): Promise<Term> {
    return this.queue.run(async () => {
      await this.commits.idle();
      this.checkOpen();
      checkTermIndex(this.bounds(), index);
      return this.termAt(index);
    });
  }

  entries(lo: LogIndex, hi: LogIndex, bytesMax: number): Promise<Entry[]> {
    return this.queue.run(async () => {
      await this.commits.idle();
      this.checkOpen();
      if (!checkRange(this.bounds(), lo, hi, bytesMax)) return [];
      return this.guard("read", () => this.readEntries(lo, hi, bytesMax));
    });
  }

  /**
   * Accepts the batch in call order (checks run against earlier accepted appends, written or
   * not) and hands it to group commit; resolves once the group holding it is written and, when
   * any append in that group asked for sync, fdatasynced.
   */
  append(entries: readonly Entry[], options: AppendOptions): Promise<void> {
    const accepted = this.queue.run(async () => {
      this.checkOpen();
      const bounds = { ...this.bounds(), lastIndex: this.acceptedIndex,
        lastTerm: this.acceptedTerm };
      checkAppend(bounds, entries, this.options.entryBytesMax);
      if (this.commits.pendingBytes >= pendingBytesMax) await this.commits.idle();
      this.checkOpen();
      const last = entries[entries.length - 1];
      if (last !== undefined) {
        this.acceptedIndex = last.index;
        this.acceptedTerm = last.term;
      }
      // Encoded now, while an earlier group's write or fdatasync may still be in flight.
      const runs = entries.length > 0
        ? encodeRuns(entries, this.recordBytesTarget, this.takeRunBuffer)
        : [];
      let bytes = 0;
      for (const run of runs) bytes += run.bytes.length;
      // Wrapped so the queue moves on now: the next append may join this one's group.
      const pending = { runs, overlap: options.overlap === true };
      return { written: this.commits.submit(pending, options.sync, bytes) };
    });
    return accepted.then((result) => result.written);
  }

  truncateSuffix(fromIndex: LogIndex): Promise<void> {
    return this.queue.run(async () => {
      await this.commits.idle();
      this.checkOpen();
      if (!checkTruncateSuffix(this.bounds(), fromIndex)) return;
      await this.guard("truncateSuffix", () => this.cutSuffix(fromIndex));
      this.resetAccepted();
    });
  }

  truncatePrefix(upToIndex: LogIndex, upToTerm: Term): Promise<void> {
    return this.queue.run(async () => {
      await this.commits.idle();
      this.checkOpen();
      const bounds = this.bounds();
      const known = upToIndex >= bounds.firstIndex - 1 && upToIndex <= bounds.lastIndex;
      const termAt = known ? this.termAt(upToIndex) : null;
      if (!checkTruncatePrefix(bounds, upToIndex, upToTerm, termAt)) return;
      await this.guard("truncatePrefix", () => this.cutPrefix(upToIndex, upToTerm));
      this.resetAccepted();
    });
  }

  /** Syncs anything unsynced (a clean shutdown loses nothing) and closes every file. */
  close(): Promise<void> {
    return this.queue.run(async () => {
      await this.commits.idle();
      if (this.status === "closed") return;
      const wasOpen = this.status === "open";
      const syncFirst = wasOpen && this.activeDirty;
      this.status = "closed";
      await this.spare?.close();
      if (syncFirst) await this.syncActive();
      // A recycled active segment: its old records go, so the next open finds a clean end.
      const active = this.segments[this.segments.length - 1];
      if (wasOpen && active !== undefined) await this.cutStaleTail(active);
      for (const segment of this.segments) await this.closeHandle(segment);
    });
  }

  /** Group commit's writer: one writev() of the whole group, then one fdatasync if asked. */
  private async writeGroup(appends: readonly PendingAppend[], sync: boolean): Promise<void> {
    const mode = this.options.writeMode ?? "thread";
    const inline = mode === "inline" || (mode === "auto" && !appends.some((a) => a.overlap));
    try {
      await this.guard("append", async () => {
        const runs = appends.flatMap((append) => append.runs);
        if (runs.length > 0) await this.writeRecords(runs, inline);
        if (sync && this.activeDirty) await this.syncActive();
      });
    } catch (error) {
      // Whatever failed, appends behind this group are already rejected: stop the store.
      if (this.status === "open") this.stop(error);
      throw error;
    } finally {
      // The write has returned or failed: nothing reads these buffers any more.
      for (const append of appends) {
        for (const run of append.runs) this.runBuffers.give(run.bytes);
      }
    }
  }

  private async writeRecords(runs: readonly EntryRun[], inline: boolean): Promise<void> {
    let active = this.segments[this.segments.length - 1];
    if (active === undefined || active.endOffset >= this.options.segmentBytes) {
      active = await this.roll(active);
    }
    const handle = await this.handleOf(active);
    const records = frameRecords(runs, this.recordBytesTarget, active.salt);
    const buffers = records.flatMap((record) => [record.header, ...record.runs.map((run) =>
      run.bytes)]);
    const written = inline
      ? writevFullySync(handle.fd, buffers, active.endOffset)
      : await writevFully(handle, buffers, active.endOffset);
    const end = indexWritten(this.table, records, active.endOffset);
    assert(end === active.endOffset + written, () => `indexed to ${end}, wrote ${written} bytes`);
    active.endOffset = end;
    // Segments are opened with O_DSYNC: the write itself is durable when it returns, which
    // saves a separate fdatasync (one thread-pool round trip fewer on every append).
    this.activeDirty = false;
  }

  /**
   * Seals the active segment (syncing it first, and cutting a recycled file's old bytes so that
   * only the last segment ever has any) and starts the next one.
   */
  private async roll(sealed: Segment | undefined): Promise<Segment> {
    if (sealed !== undefined && this.activeDirty) await this.syncActive();
    if (sealed !== undefined) await this.cutStaleTail(sealed);
    const baseIndex = this.lastIndex() + 1;
    const path = join(this.options.dir, segmentName(baseIndex));
    // A recycled file first: its header is written and synced already (recycled-segments.ts),
    // and its old records follow it.
    const recycledSalt = await this.recycled.takeAs(path, baseIndex);
    const recycled = recycledSalt !== null;
    let flags = segmentOpenFlags;
    if (!recycled) {
      // A zero-filled spare when one is ready; renamed before its header is written, so the
      // spare's name never holds a header (a crash in between leaves an all-zero segment, which
      // recovery removes as torn at creation).
      // A log without segments (a new store, or one whose log was dropped for a snapshot) waits
      // for the spare being filled, at most one segment's worth of zeros: so a new server writes
      // into a preallocated segment from its first entry. Later rolls never wait: a log that
      // fills segments faster than they can be zeroed gets plain ones.
      if (sealed === undefined) await this.spare?.whenFilled();
      const spare = await this.spare?.takeAs(path) ?? false;
      if (!spare) flags |= constants.O_CREAT | constants.O_EXCL;
    }
    const handle = await open(path, flags);
    this.openHandles += 1;
    const salt = recycledSalt ?? newSalt(0);
    const segment: Segment = { path, baseIndex, salt, endOffset: segmentHeaderBytes, handle,
      staleTail: recycled };
    this.segments.push(segment);
    if (!recycled) {
      await writeFully(handle, encodeSegmentHeader(baseIndex, salt), 0);
      // The header and the directory entry are durable before any record goes in, so recovery
      // can tell a segment torn at creation (nothing synced) from one damaged later.
      await handle.datasync();
    }
    await fsyncDirectory(this.options.dir);
    return segment;
  }

  /** Truncates a segment made from a recycled file at its end, dropping the old bytes. */
  private async cutStaleTail(segment: Segment): Promise<void> {
    if (!segment.staleTail) return;
    const handle = await this.handleOf(segment);
    if ((await handle.stat()).size > segment.endOffset) {
      await handle.truncate(segment.endOffset);
      await handle.datasync();
    }
    segment.staleTail = false;
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
    const handle = await this.handleOf(keep);
    const recordStart = this.table.recordStart(fromIndex);
    if (this.table.offset(fromIndex) === recordStart + recordHeaderBytes) {
      // The cut opens its record: drop the record and everything after it.
      await handle.truncate(recordStart);
      await handle.datasync();
      keep.endOffset = recordStart;
    } else {
      const entryEnd = this.table.offset(fromIndex) + entryHeaderBytes;
      keep.endOffset = await cutInsideRecord(handle, keep, recordStart, entryEnd, fromIndex);
    }
    // Either way the file now ends where the kept records do.
    keep.staleTail = false;
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
    // Newest first: those are the ones kept for reuse when there is room for fewer than all.
    for (const segment of doomed.reverse()) {
      // A full segment is worth reusing; a partly written last one is not.
      if (segment.endOffset >= this.options.segmentBytes && !segment.staleTail) {
        await this.closeHandle(segment);
        await this.recycled.keep(segment.path);
      } else {
        await this.removeSegment(segment);
      }
    }
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
      const stopAt = Math.min(hi, this.segmentNextIndex(position));
      const { stop, budgetLeft } = stopWithin(this.table, index, stopAt, budget,
        result.length === 0);
      budget = budgetLeft;
      if (stop > index) {
        const handle = await this.handleOf(segment);
        const read = await readSegmentRange(handle, segment, this.table, index, stop,
          this.limits);
        for (const entry of read) result.push(entry);
      }
      if (stop < stopAt) break;
      index = stop;
    }
    assert(result.length > 0, `read of ${lo}..${hi} returned nothing`);
    assert(result[0]?.index === lo, () => `read of ${lo}..${hi} started at ${result[0]?.index}`);
    return result;
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
    segment.handle = await open(segment.path, segmentOpenFlags);
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

  /** After a deletion, nothing is waiting: what is accepted is what the table holds. */
  private resetAccepted(): void {
    this.acceptedIndex = this.table.lastIndex;
    this.acceptedTerm = this.termAt(this.acceptedIndex);
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
      this.stop(error);
      throw new StorageFailedError(`${what} in ${this.options.dir}`, { cause: error });
    }
  }

  private stop(error: unknown): void {
    if (this.status === "failed") return;
    this.status = "failed";
    this.failure = error;
  }

  private checkOpen(): void {
    if (this.status === "closed") throw new StorageClosedError(`WAL ${this.options.dir}`);
    if (this.status === "failed") {
      throw new StorageFailedError(`WAL ${this.options.dir}`, { cause: this.failure });
    }
  }
}
