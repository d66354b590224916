// Opening a WAL directory: validate every segment and record, rebuild the in-memory index, and
// decide between the two kinds of damage a log can show (see README.md, "Recovery rules"):
// - a torn tail: the last segment ends in a bad or partial record with nothing intact after it.
//   That is what a crash during a write leaves (a record frames a whole write, so a torn write
//   is one bad last record); none of it was synced, so the tail is cut off and the store opens.
// - corruption: a bad record in any other segment, or one followed by intact records, or records
//   and segments that do not follow each other. Synced data is damaged; open fails with
//   CorruptLogError naming the file and offset, and the node must be repaired from its peers.

import { type FileHandle, open, readFile, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { assert } from "../../assert.js";
import type { LogIndex, Term } from "../../core/types.js";
import { CorruptLogError } from "../errors.js";
import { fsyncDirectory } from "../fs-util.js";
import { initialCompactionPoint, readCompactionPoint } from "../compaction-point.js";
import { IndexTable } from "./index-table.js";
import {
  type RecordFault,
  type RecordLimits,
  checkRecord,
  describeFault,
  intactRecordAfter,
  isCutRecord,
  recordFirstIndex,
  recordHeaderBytes,
  recordLength,
  walkEntries,
} from "./record.js";
import {
  checkSegmentHeader,
  parseSegmentName,
  segmentHeaderBytes,
  segmentSalt,
} from "./segment.js";

export interface SegmentInfo {
  readonly path: string;
  readonly baseIndex: LogIndex;
  /** Seeds the segment's record checksums (segment.ts); read from its header. */
  salt: number;
  /** Bytes in use: where the next record goes. */
  endOffset: number;
}

export interface RecoveredWal {
  readonly segments: SegmentInfo[];
  readonly table: IndexTable;
  readonly firstIndex: LogIndex;
  readonly compactedTerm: Term;
  /** What was repaired (torn tails cut, leftover files removed), for the operator's log. */
  readonly repairs: readonly string[];
}

interface ScanResult {
  readonly endOffset: number;
  readonly fault: RecordFault | null;
  readonly nextIndex: LogIndex;
  readonly lastTerm: Term;
}

/**
 * Bytes read at a time while scanning a segment; a record longer than this gets a window of its
 * own. Segments are read through one reused buffer of this size rather than one fresh buffer per
 * segment: on a virtual machine, first touching fresh memory was most of the time it took to
 * open a 1,000,000-entry log (about 11 µs a page, some 180 ms for each 64 MiB segment).
 */
export const scanWindowBytes = 8 * 1024 * 1024;
/** A window holds at least a segment header and a record header. */
export const minScanWindowBytes = segmentHeaderBytes + recordHeaderBytes;

export async function recoverWal(dir: string, limits: RecordLimits,
  windowBytes = scanWindowBytes): Promise<RecoveredWal> {
  const point = (await readCompactionPoint(dir)) ?? initialCompactionPoint;
  const { firstIndex, compactedTerm } = point;
  const repairs: string[] = [];
  const segments = await dropCompactedSegments(await listSegments(dir), firstIndex, repairs);
  const first = segments[0];
  if (first !== undefined && first.baseIndex > firstIndex) {
    throw new CorruptLogError(first.path, 0,
      `entries ${firstIndex}..${first.baseIndex - 1} are missing (first index ${firstIndex})`);
  }
  const table = new IndexTable(first?.baseIndex ?? firstIndex);
  const live = await scanSegments(segments, table, limits, repairs, new WindowReader(windowBytes));
  if (table.lastIndex < firstIndex) {
    // Everything left is at or before the compaction point: a compaction was cut short.
    for (const segment of live) await removeSegment(segment, "compacted", repairs);
    live.length = 0;
    table.dropBefore(firstIndex);
  } else {
    checkCompactionTerm(live, table, point.firstIndex, compactedTerm);
    table.dropBefore(firstIndex);
  }
  if (repairs.length > 0) await fsyncDirectory(dir);
  return { segments: live, table, firstIndex, compactedTerm, repairs };
}

async function listSegments(dir: string): Promise<SegmentInfo[]> {
  const segments: SegmentInfo[] = [];
  for (const name of await readdir(dir)) {
    const baseIndex = parseSegmentName(name);
    if (baseIndex === null || baseIndex < 1) continue;
    segments.push({ path: join(dir, name), baseIndex, salt: 0, endOffset: 0 });
  }
  return segments.sort((a, b) => a.baseIndex - b.baseIndex);
}

/** Deletes segments that end before firstIndex (known from the next segment's base). */
async function dropCompactedSegments(
  segments: SegmentInfo[],
  firstIndex: LogIndex,
  repairs: string[],
): Promise<SegmentInfo[]> {
  let keepFrom = 0;
  while (keepFrom + 1 < segments.length && (segments[keepFrom + 1]?.baseIndex ?? 0) <= firstIndex) {
    keepFrom += 1;
  }
  for (const segment of segments.slice(0, keepFrom)) {
    await removeSegment(segment, "compacted", repairs);
  }
  return segments.slice(keepFrom);
}

async function scanSegments(
  segments: SegmentInfo[],
  table: IndexTable,
  limits: RecordLimits,
  repairs: string[],
  reader: WindowReader,
): Promise<SegmentInfo[]> {
  const live: SegmentInfo[] = [];
  let lastTerm = 0;
  for (const [position, segment] of segments.entries()) {
    const isLast = position === segments.length - 1;
    const handle = await open(segment.path, "r");
    let scan: ScanResult | "torn at creation";
    try {
      scan = await scanSegment(handle, reader, segment, table, lastTerm, limits, isLast, repairs);
    } finally {
      await handle.close();
    }
    if (scan === "torn at creation") {
      // A segment being created when the process died: nothing in it was ever synced.
      await removeSegment(segment, scan, repairs);
      continue;
    }
    const following = segments[position + 1];
    if (following !== undefined && following.baseIndex !== scan.nextIndex) {
      const previousEnd = scan.nextIndex - 1;
      throw new CorruptLogError(following.path, 0,
        `segment starts at ${following.baseIndex} but the previous one ends at ${previousEnd}`);
    }
    lastTerm = scan.lastTerm;
    live.push(segment);
  }
  return live;
}

/** Checks one segment's header and records, indexing its entries; repairs a torn tail. */
async function scanSegment(
  handle: FileHandle,
  reader: WindowReader,
  segment: SegmentInfo,
  table: IndexTable,
  previousTerm: Term,
  limits: RecordLimits,
  isLast: boolean,
  repairs: string[],
): Promise<ScanResult | "torn at creation"> {
  const size = (await handle.stat()).size;
  const head = await reader.read(handle, 0, reader.windowBytes, size);
  const headerFault = checkSegmentHeader(head, segment.baseIndex);
  if (headerFault !== null) {
    if (isLast && (size < segmentHeaderBytes || await lastNonZeroIn(handle, reader, size) < 0)) {
      return "torn at creation";
    }
    throw new CorruptLogError(segment.path, 0, headerFault);
  }
  segment.salt = segmentSalt(head);
  const scan = await scanRecords(handle, reader, head, size, segment, table, previousTerm, limits);
  segment.endOffset = scan.endOffset;
  // Zeros after the last record are the unused part of a preallocated segment (spare-segment.ts):
  // its clean end. A sealed segment can have one too (segmentBytes changed between runs); if
  // records were lost there, the next segment's base index says so (scanSegments). The old
  // records of a recycled file (recycled-segments.ts) fail their checksum under the new salt: in
  // the last segment they are cut as a torn tail (nothing intact follows); a sealed one has none.
  if (scan.fault !== null) {
    const dataEnd = await lastNonZeroIn(handle, reader, size) + 1;
    if (dataEnd > scan.endOffset) {
      // Damage to judge (rare): the whole file at once, as the search for intact records needs.
      const whole = await readFile(segment.path);
      await handleFault(whole, segment, scan, isLast, limits, repairs, dataEnd);
    }
  }
  return scan;
}

/** Reads parts of a file into one buffer, reused from read to read (grown when asked for more). */
class WindowReader {
  private buffer: Buffer | null = null;

  constructor(readonly windowBytes: number) {
    assert(windowBytes >= minScanWindowBytes, `window of ${windowBytes} bytes`);
  }

  /**
   * The file's bytes from `from`, `length` of them or up to `size`; valid until the next read.
   * Fewer only if the file is shorter than `size` said.
   */
  async read(handle: FileHandle, from: number, length: number, size: number): Promise<Buffer> {
    const want = Math.max(0, Math.min(length, size - from));
    if (this.buffer === null || this.buffer.length < want) {
      this.buffer = Buffer.allocUnsafeSlow(Math.max(want, this.windowBytes));
    }
    let filled = 0;
    while (filled < want) {
      const { bytesRead } = await handle.read(this.buffer, filled, want - filled, from + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return this.buffer.subarray(0, filled);
  }
}

/** The file offset of the last non-zero byte of the file's first `size` bytes, or -1. */
async function lastNonZeroIn(handle: FileHandle, reader: WindowReader, size: number):
  Promise<number> {
  for (let end = size; end > 0;) {
    const start = Math.max(0, end - reader.windowBytes);
    const at = lastNonZero(await reader.read(handle, start, end - start, size));
    if (at >= 0) return start + at;
    end = start;
  }
  return -1;
}

/** Whether buf[from..] is all zeros. */
export function isZeroFrom(buf: Buffer, from: number): boolean {
  return lastNonZero(buf) < from;
}

/** The offset of the last non-zero byte of buf, or -1 when there is none. */
export function lastNonZero(buf: Buffer): number {
  let end = buf.length;
  while (end > 0) {
    const start = Math.max(0, end - zeroBlock.length);
    if (buf.subarray(start, end).equals(zeroBlock.subarray(0, end - start))) {
      end = start;
      continue;
    }
    for (let at = end - 1; at >= start; at -= 1) if (buf[at] !== 0) return at;
  }
  return -1;
}

const zeroBlock = Buffer.alloc(64 * 1024);

/**
 * Walks the records of one segment, pushing each entry into the table. The segment is read a
 * window at a time (`head`, its first, is already read); each record is checked whole, in a new
 * window starting at it when the current one ends inside it. Offsets are the file's.
 */
async function scanRecords(
  handle: FileHandle,
  reader: WindowReader,
  head: Buffer,
  size: number,
  segment: SegmentInfo,
  table: IndexTable,
  previousTerm: Term,
  limits: RecordLimits,
): Promise<ScanResult> {
  let window = head;
  /** The file offset of window[0]. */
  let base = 0;
  let offset = segmentHeaderBytes;
  let expected = segment.baseIndex;
  let lastTerm = previousTerm;
  while (offset < size) {
    // While the file goes on past this window, make sure the window holds the record whole:
    // first its header, then the length that states. A stated length beyond recordBytesMax is
    // refused by checkRecord, so never read for.
    while (base + window.length < size) {
      const at = offset - base;
      const need = at + recordHeaderBytes <= window.length
        ? Math.min(recordLength(window, at), limits.recordBytesMax)
        : recordHeaderBytes;
      if (at + need <= window.length) break;
      window = await reader.read(handle, offset, Math.max(reader.windowBytes, need), size);
      base = offset;
    }
    const at = offset - base;
    const recordEnd = checkRecord(window, at, window.length, limits, segment.salt);
    if (recordEnd < 0) {
      return { endOffset: offset, fault: recordEnd as RecordFault, nextIndex: expected, lastTerm };
    }
    const first = recordFirstIndex(window, at);
    const recordStart = offset;
    const corrupt = (reason: string) => new CorruptLogError(segment.path, recordStart, reason);
    if (isCutRecord(window, at)) {
      // Only written for a cut inside the previous record, so it must fall within this segment.
      if (!(first > segment.baseIndex && first < expected)) {
        throw corrupt(`cut record at ${first} outside ${segment.baseIndex + 1}..${expected - 1}`);
      }
      table.truncateFrom(first);
      expected = first;
      lastTerm = table.term(first - 1);
    } else if (first !== expected) {
      throw corrupt(`record starts at index ${first}, expected ${expected}`);
    }
    const indexBefore = expected;
    const visit = (term: Term, entryAt: number, dataBytes: number): void => {
      if (term < lastTerm) throw corrupt(`entry ${expected} has term ${term} < ${lastTerm}`);
      table.push(term, base + entryAt, recordStart, dataBytes);
      lastTerm = term;
      expected += 1;
    };
    const structureFault = walkEntries(window, at, recordEnd, limits, visit);
    if (structureFault !== null) throw corrupt(structureFault);
    assert(table.lastIndex === expected - 1, () =>
      `table ends at ${table.lastIndex}, not ${expected - 1}`);
    assert(expected >= indexBefore, () => `record at ${recordStart} moved the index back`);
    offset = base + recordEnd;
  }
  return { endOffset: offset, fault: null, nextIndex: expected, lastTerm };
}

/** A bad record at scan.endOffset: cut it off if it is a torn tail, else refuse to open. */
async function handleFault(
  buf: Buffer,
  segment: SegmentInfo,
  scan: ScanResult,
  isLast: boolean,
  limits: RecordLimits,
  repairs: string[],
  /** Where the segment's non-zero bytes end. */
  dataEnd: number,
): Promise<void> {
  const offset = scan.endOffset;
  const reason = describeFault(scan.fault ?? 0 as RecordFault);
  if (!isLast) throw new CorruptLogError(segment.path, offset, `${reason} in a sealed segment`);
  // A record's kind byte (at +8) is never zero: in a preallocated segment, the zeros after the
  // last written byte need no scan (64 MiB of them took over half a second).
  if (intactRecordAfter(buf, offset + 1, buf.length, limits, segment.salt, dataEnd - 8)) {
    throw new CorruptLogError(segment.path, offset, `${reason}, and intact records follow it`);
  }
  const handle = await open(segment.path, "r+");
  try {
    await handle.truncate(offset);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  repairs.push(`cut a torn tail of ${buf.length - offset} bytes from ${segment.path} at ` +
    `offset ${offset} (${reason})`);
}

function checkCompactionTerm(
  segments: readonly SegmentInfo[],
  table: IndexTable,
  firstIndex: LogIndex,
  compactedTerm: Term,
): void {
  const point = firstIndex - 1;
  if (point < table.firstIndex) return;
  const term = table.term(point);
  if (term === compactedTerm) return;
  const holder = segments.filter((segment) => segment.baseIndex <= point).pop();
  throw new CorruptLogError(holder?.path ?? "log", table.offset(point),
    `entry ${point} has term ${term} but the compaction point says ${compactedTerm}`);
}

async function removeSegment(segment: SegmentInfo, why: string, repairs: string[]): Promise<void> {
  await unlink(segment.path);
  repairs.push(`removed ${segment.path} (${why})`);
}
