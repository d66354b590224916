// Opening a WAL directory: validate every segment and record, rebuild the in-memory index, and
// decide between the two kinds of damage a log can show (see README.md, "Recovery rules"):
// - a torn tail: the last segment ends in a bad or partial record with nothing intact after it.
//   That is what a crash during a write leaves (a record frames a whole write, so a torn write
//   is one bad last record); none of it was synced, so the tail is cut off and the store opens.
// - corruption: a bad record in any other segment, or one followed by intact records, or records
//   and segments that do not follow each other. Synced data is damaged; open fails with
//   CorruptLogError naming the file and offset, and the node must be repaired from its peers.

import { open, readFile, readdir, unlink } from "node:fs/promises";
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

export async function recoverWal(dir: string, limits: RecordLimits): Promise<RecoveredWal> {
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
  const live = await scanSegments(segments, table, limits, repairs);
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
): Promise<SegmentInfo[]> {
  const live: SegmentInfo[] = [];
  let lastTerm = 0;
  let next = prefetch(segments[0]);
  for (const [position, segment] of segments.entries()) {
    const isLast = position === segments.length - 1;
    const buf = await (next ?? readFile(segment.path));
    // Read the next segment while this one is checked: I/O overlaps the checksum work.
    next = prefetch(segments[position + 1]);
    const headerFault = checkSegmentHeader(buf, segment.baseIndex);
    if (headerFault !== null) {
      if (isLast && (buf.length < segmentHeaderBytes || isZeroFrom(buf, 0))) {
        // A segment being created when the process died: nothing in it was ever synced.
        await removeSegment(segment, "torn at creation", repairs);
        continue;
      }
      throw new CorruptLogError(segment.path, 0, headerFault);
    }
    segment.salt = segmentSalt(buf);
    const scan = scanRecords(buf, segment, table, lastTerm, limits);
    segment.endOffset = scan.endOffset;
    // Zeros after the last record are the unused part of a preallocated segment (spare-segment.ts):
    // its clean end. A sealed segment can have one too (segmentBytes changed between runs); if
    // records were lost there, the next segment's base index says so below. The old records of
    // a recycled file (recycled-segments.ts) fail their checksum under the new salt: in the last
    // segment they are cut as a torn tail (nothing intact follows); a sealed one has none.
    if (scan.fault !== null) {
      const dataEnd = lastNonZero(buf) + 1;
      if (dataEnd > scan.endOffset) {
        await handleFault(buf, segment, scan, isLast, limits, repairs, dataEnd);
      }
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

function prefetch(segment: SegmentInfo | undefined): Promise<Buffer> | null {
  if (segment === undefined) return null;
  const reading = readFile(segment.path);
  // If open fails before this read is awaited, its own failure must not go unhandled.
  reading.catch(() => undefined);
  return reading;
}

/** Walks the records of one segment, pushing each entry into the table. */
function scanRecords(
  buf: Buffer,
  segment: SegmentInfo,
  table: IndexTable,
  previousTerm: Term,
  limits: RecordLimits,
): ScanResult {
  let offset = segmentHeaderBytes;
  let expected = segment.baseIndex;
  let lastTerm = previousTerm;
  while (offset < buf.length) {
    const end = checkRecord(buf, offset, buf.length, limits, segment.salt);
    if (end < 0) {
      return { endOffset: offset, fault: end as RecordFault, nextIndex: expected, lastTerm };
    }
    const first = recordFirstIndex(buf, offset);
    const corrupt = (reason: string) => new CorruptLogError(segment.path, offset, reason);
    if (isCutRecord(buf, offset)) {
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
    const structureFault = walkEntries(buf, offset, end, limits, (term, at, dataBytes) => {
      if (term < lastTerm) throw corrupt(`entry ${expected} has term ${term} < ${lastTerm}`);
      table.push(term, at, offset, dataBytes);
      lastTerm = term;
      expected += 1;
    });
    if (structureFault !== null) throw corrupt(structureFault);
    assert(table.lastIndex === expected - 1, () =>
      `table ends at ${table.lastIndex}, not ${expected - 1}`);
    assert(expected >= indexBefore, () => `record at ${offset} moved the index back`);
    offset = end;
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
