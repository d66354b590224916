// WAL record framing. A record frames a whole write: one append batch, or several appends that
// group commit writes together, split only where a record would pass recordBytesTarget. So one
// CRC32C covers many entries, and a write torn by a crash is a bad LAST record. Entries are
// encoded when an append is accepted (encodeRuns) and framed when written (frameRecords), so
// the CPU work overlaps the fdatasync in flight. Little endian:
//
//   record header (24 bytes)                  entry (16-byte header, then its data)
//   0  u32 crc32c of bytes 4 .. recordBytes,  0  u64 term
//          seeded with the segment's salt
//   4  u32 recordBytes (header included)      8  u32 dataBytes
//   8  u8  kind: 0xB7 entries, 0xB8 cut       12 u8  entry type
//   9  u8  zero, 10 u16 zero                  13 u8  zero, 14 u16 zero
//   12 u32 entry count                        16 data
//   16 u64 first index
//   24 entries: `count` of them, indexes firstIndex, firstIndex + 1, ..., filling the record
//
// A cut record (kind 0xB8, count 0, no entries) says "entries from firstIndex on are deleted". It
// is written when a suffix deletion falls inside a record: the record stays intact (its checksum
// still holds) and the cut record after it hides its deleted tail.
//
// The salt (segment.ts) tells this segment's records from those a recycled file still holds.
//
// Recovery and reads scan these headers with Buffer reads only; payloads are never decoded into
// objects on open, which keeps opening a 1,000,000-entry log well under two seconds.

import { crc32c } from "@node-rs/crc32";
import { assert } from "../../assert.js";
import { type Entry, EntryType } from "../../core/types.js";
import { readU64, writeU64 } from "../binary.js";

export const recordHeaderBytes = 24;
export const entryHeaderBytes = 16;
const entriesKind = 0xb7;
const cutKind = 0xb8;
const twoTo32 = 0x1_0000_0000;

/** Limits a reader applies to what it finds on disk. */
export interface RecordLimits {
  readonly entryBytesMax: number;
  /** No valid record is longer: max(recordBytesTarget, one header plus the largest entry). */
  readonly recordBytesMax: number;
}

export function recordLimits(entryBytesMax: number, recordBytesTarget: number): RecordLimits {
  const single = recordHeaderBytes + entryHeaderBytes + entryBytesMax;
  const recordBytesMax = Math.max(recordBytesTarget, single);
  assert(recordBytesMax < twoTo32, `recordBytesMax ${recordBytesMax} does not fit in a u32`);
  return { entryBytesMax, recordBytesMax };
}

/** Consecutive entries encoded (entry headers and data) but not yet framed into a record. */
export interface EntryRun {
  readonly bytes: Buffer;
  readonly firstIndex: number;
  readonly count: number;
  /** The batch the run was encoded from; entries[from .. from + count) are the run's. */
  readonly entries: readonly Entry[];
  readonly from: number;
}

/**
 * Encodes a batch into runs of at most `target - recordHeaderBytes` bytes each (an entry larger
 * than that gets a run of its own), each into a buffer from `alloc` (of exactly the size asked).
 * Done when an append is accepted, so the encoding overlaps the write and fdatasync in flight;
 * frameRecords() later frames runs into records.
 */
export function encodeRuns(entries: readonly Entry[], target: number,
  alloc: (bytes: number) => Buffer = Buffer.allocUnsafe): EntryRun[] {
  const runBytesMax = target - recordHeaderBytes;
  const runs: EntryRun[] = [];
  let from = 0;
  while (from < entries.length) {
    let to = from;
    let bytes = 0;
    for (; to < entries.length; to += 1) {
      const size = entryHeaderBytes + (entries[to] as Entry).data.length;
      if (to > from && bytes + size > runBytesMax) break;
      bytes += size;
    }
    runs.push(encodeRun(entries, from, to, alloc(bytes)));
    from = to;
  }
  return runs;
}

function encodeRun(entries: readonly Entry[], from: number, to: number, buf: Buffer): EntryRun {
  const total = buf.length;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let offset = 0;
  for (let k = from; k < to; k += 1) {
    const entry = entries[k] as Entry;
    const dataBytes = entry.data.length;
    view.setUint32(offset, entry.term >>> 0, true);
    view.setUint32(offset + 4, Math.floor(entry.term / twoTo32), true);
    view.setUint32(offset + 8, dataBytes, true);
    view.setUint32(offset + 12, entry.type, true);
    buf.set(entry.data, offset + entryHeaderBytes);
    offset += entryHeaderBytes + dataBytes;
  }
  assert(offset === total, `encoded ${offset} bytes, expected ${total}`);
  const first = entries[from];
  assert(first !== undefined, `empty run at ${from}`);
  return { bytes: buf, firstIndex: first.index, count: to - from, entries, from };
}

/**
 * Frames consecutive runs (of one append or of several that group commit writes together) into
 * records, to be written in order with one writev(). A record takes runs while it stays within
 * `target` bytes, and always at least one.
 */
export function frameRecords(runs: readonly EntryRun[], target: number, salt: number):
  FramedRecord[] {
  const records: FramedRecord[] = [];
  let from = 0;
  while (from < runs.length) {
    let to = from;
    let recordBytes = recordHeaderBytes;
    let count = 0;
    for (; to < runs.length; to += 1) {
      const run = runs[to] as EntryRun;
      if (to > from && recordBytes + run.bytes.length > target) break;
      recordBytes += run.bytes.length;
      count += run.count;
    }
    const first = runs[from] as EntryRun;
    const header = recordHeader(recordBytes, count, first.firstIndex);
    let crc = crc32c(header.subarray(4), salt);
    for (let k = from; k < to; k += 1) crc = crc32c((runs[k] as EntryRun).bytes, crc);
    header.writeUInt32LE(crc, 0);
    records.push({ header, runs: runs.slice(from, to), recordBytes });
    from = to;
  }
  return records;
}

/** One record ready to write: its header, then its runs' bytes. */
export interface FramedRecord {
  readonly header: Buffer;
  readonly runs: readonly EntryRun[];
  readonly recordBytes: number;
}

/** A record header without its checksum (bytes 0..4 are left zero). */
function recordHeader(recordBytes: number, count: number, firstIndex: number): Buffer {
  assert(count >= 1, `record of ${count} entries`);
  assert(Number.isSafeInteger(firstIndex) && firstIndex >= 1, `record first index ${firstIndex}`);
  assert(recordBytes < twoTo32, `record of ${recordBytes} bytes`);
  const header = Buffer.alloc(recordHeaderBytes);
  header.writeUInt32LE(recordBytes, 4);
  header.writeUInt32LE(entriesKind, 8);
  header.writeUInt32LE(count, 12);
  writeU64(header, firstIndex, 16);
  return header;
}

/** A cut record: entries from `fromIndex` on, in the record before it, are deleted. */
export function encodeCutRecord(fromIndex: number, salt: number): Buffer {
  assert(Number.isSafeInteger(fromIndex) && fromIndex >= 2, `cut record at ${fromIndex}`);
  const buf = Buffer.alloc(recordHeaderBytes);
  buf.writeUInt32LE(recordHeaderBytes, 4);
  buf.writeUInt32LE(cutKind, 8);
  writeU64(buf, fromIndex, 16);
  buf.writeUInt32LE(crc32c(buf.subarray(4), salt), 0);
  return buf;
}

/** Why a record failed, for CorruptLogError and repair messages. */
export const RecordFault = {
  Truncated: -1,
  BadHeader: -2,
  TooLarge: -3,
  Checksum: -4,
} as const;
export type RecordFault = (typeof RecordFault)[keyof typeof RecordFault];

export function describeFault(fault: RecordFault): string {
  switch (fault) {
    case RecordFault.Truncated: return "record runs past the end of the file";
    case RecordFault.BadHeader: return "bad record header";
    case RecordFault.TooLarge: return "record length exceeds recordBytesMax";
    case RecordFault.Checksum: return "record checksum mismatch";
    default: return `record fault ${String(fault)}`;
  }
}

/**
 * Validates the framing and checksum of the record at `offset`: returns its end offset, or a
 * negative RecordFault. `end` is where the readable bytes stop; `salt` is the segment's. The
 * entries inside are checked by walkEntries() once the checksum holds.
 */
export function checkRecord(
  buf: Buffer,
  offset: number,
  end: number,
  limits: RecordLimits,
  salt: number,
): number {
  if (offset + recordHeaderBytes > end) return RecordFault.Truncated;
  const recordBytes = buf.readUInt32LE(offset + 4);
  const kind = buf.readUInt32LE(offset + 8);
  if (kind !== entriesKind && kind !== cutKind) return RecordFault.BadHeader;
  if (recordBytes < recordHeaderBytes) return RecordFault.BadHeader;
  if (recordBytes > limits.recordBytesMax) return RecordFault.TooLarge;
  const recordEnd = offset + recordBytes;
  if (recordEnd > end) return RecordFault.Truncated;
  if (buf.readUInt32LE(offset) !== crc32c(buf.subarray(offset + 4, recordEnd), salt)) {
    return RecordFault.Checksum;
  }
  return recordEnd;
}

/** The length of the record at `offset` as its header states it (unchecked). */
export function recordLength(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset + 4);
}

export function isCutRecord(buf: Buffer, offset: number): boolean {
  return buf.readUInt32LE(offset + 8) === cutKind;
}

export function recordFirstIndex(buf: Buffer, offset: number): number {
  return readU64(buf, offset + 16);
}

export function recordCount(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset + 12);
}

/** Called for each entry of a record: its term, entry-header offset (in buf) and payload size. */
export type EntryVisitor = (term: number, entryOffset: number, dataBytes: number) => void;

/**
 * Walks the entries of the record buf[offset, recordEnd) that checkRecord() accepted, checking
 * its structure. Returns null, or what is wrong: with a valid checksum that is not a torn write
 * but a bad writer or deliberate damage, so callers treat it as corruption.
 */
export function walkEntries(
  buf: Buffer,
  offset: number,
  recordEnd: number,
  limits: RecordLimits,
  visit: EntryVisitor,
): string | null {
  const count = recordCount(buf, offset);
  if (recordFirstIndex(buf, offset) < 1) return "record has an invalid first index";
  if (isCutRecord(buf, offset)) {
    return count === 0 && recordEnd - offset === recordHeaderBytes ? null : "malformed cut record";
  }
  if (count < 1) return "record holds no entries";
  let at = offset + recordHeaderBytes;
  for (let k = 0; k < count; k += 1) {
    if (at + entryHeaderBytes > recordEnd) return `entry ${k} of ${count} runs past the record`;
    const term = readU64(buf, at);
    const dataBytes = buf.readUInt32LE(at + 8);
    const typeWord = buf.readUInt32LE(at + 12);
    if (term < 0) return `entry ${k} has an invalid term`;
    if (typeWord !== EntryType.Normal && typeWord !== EntryType.ConfChange) {
      return `entry ${k} has a bad type word ${typeWord}`;
    }
    if (dataBytes > limits.entryBytesMax) return `entry ${k} is larger than entryBytesMax`;
    visit(term, at, dataBytes);
    at += entryHeaderBytes + dataBytes;
  }
  return at === recordEnd ? null : `entries end at ${at}, the record at ${recordEnd}`;
}

/** Reads the entry whose header is at `at`; copies its payload out of `buf`. */
export function decodeEntry(buf: Buffer, at: number, index: number): Entry {
  const dataBytes = buf.readUInt32LE(at + 8);
  const type = buf.readUInt8(at + 12) === EntryType.ConfChange
    ? EntryType.ConfChange
    : EntryType.Normal;
  const start = at + entryHeaderBytes;
  const data = new Uint8Array(buf.subarray(start, start + dataBytes));
  return { term: readU64(buf, at), index, type, data };
}

/**
 * Whether any intact record starts in buf[from, end). Used after a bad record in the last
 * segment: if something intact follows, the damage is in the middle of the log, not a torn tail.
 */
export function intactRecordAfter(
  buf: Buffer,
  from: number,
  end: number,
  limits: RecordLimits,
  salt: number,
  /** No record starts at or after this offset (its kind byte would be zero): stop there. */
  startsBefore = end,
): boolean {
  const ignore: EntryVisitor = () => undefined;
  for (let offset = from; offset < startsBefore && offset + recordHeaderBytes <= end; offset += 1) {
    const kind = buf[offset + 8];
    if (kind !== entriesKind && kind !== cutKind) continue;
    const recordEnd = checkRecord(buf, offset, end, limits, salt);
    if (recordEnd > 0 && walkEntries(buf, offset, recordEnd, limits, ignore) === null) return true;
  }
  return false;
}
