// WAL record framing. One record per entry, little endian:
//
//   0  u32 crc32c of bytes 4 .. 28+dataBytes (so it covers the length, index and term too)
//   4  u32 dataBytes
//   8  u8  record kind 0xE7 (an entry)
//   9  u8  entry type
//   10 u16 zero
//   12 u64 index
//   20 u64 term
//   28 data
//
// Recovery scans these headers with Buffer reads only; payloads are never decoded into objects
// on open, which keeps opening a 1,000,000-entry log well under two seconds.

import { crc32c } from "@node-rs/crc32";
import { assert } from "../../assert.js";
import { type Entry, EntryType } from "../../core/types.js";
import { readU64, writeU64 } from "../binary.js";

export const recordHeaderBytes = 28;
const entryKind = 0xe7;

export function recordBytes(entry: Entry): number {
  return recordHeaderBytes + entry.data.byteLength;
}

/** Frames a batch into one buffer, so the batch is one write(). */
export function encodeRecords(entries: readonly Entry[]): Buffer {
  let total = 0;
  for (const entry of entries) total += recordBytes(entry);
  const buf = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const entry of entries) {
    const dataBytes = entry.data.byteLength;
    buf.writeUInt32LE(dataBytes, offset + 4);
    buf.writeUInt32LE(entryKind | (entry.type << 8), offset + 8);
    writeU64(buf, entry.index, offset + 12);
    writeU64(buf, entry.term, offset + 20);
    buf.set(entry.data, offset + recordHeaderBytes);
    const end = offset + recordHeaderBytes + dataBytes;
    buf.writeUInt32LE(crc32c(buf.subarray(offset + 4, end)), offset);
    offset = end;
  }
  assert(offset === total, `encoded ${offset} bytes, expected ${total}`);
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
    case RecordFault.TooLarge: return "record length exceeds entryBytesMax";
    case RecordFault.Checksum: return "record checksum mismatch";
    default: return `record fault ${String(fault)}`;
  }
}

/**
 * Validates the record at `offset` (header and checksum): returns its end offset, or a negative
 * RecordFault. `end` is where the readable bytes stop.
 */
export function checkRecord(
  buf: Buffer,
  offset: number,
  end: number,
  dataBytesMax: number,
): number {
  if (offset + recordHeaderBytes > end) return RecordFault.Truncated;
  const dataBytes = buf.readUInt32LE(offset + 4);
  const kindAndType = buf.readUInt32LE(offset + 8);
  if ((kindAndType & 0xff) !== entryKind || kindAndType >>> 16 !== 0) return RecordFault.BadHeader;
  const type = (kindAndType >>> 8) & 0xff;
  if (type !== EntryType.Normal && type !== EntryType.ConfChange) return RecordFault.BadHeader;
  if (dataBytes > dataBytesMax) return RecordFault.TooLarge;
  const recordEnd = offset + recordHeaderBytes + dataBytes;
  if (recordEnd > end) return RecordFault.Truncated;
  if (buf.readUInt32LE(offset) !== crc32c(buf.subarray(offset + 4, recordEnd))) {
    return RecordFault.Checksum;
  }
  return recordEnd;
}

export function recordIndex(buf: Buffer, offset: number): number {
  return readU64(buf, offset + 12);
}

export function recordTerm(buf: Buffer, offset: number): number {
  return readU64(buf, offset + 20);
}

/** Decodes a record that checkRecord() accepted. Copies the payload out of `buf`. */
export function decodeRecord(buf: Buffer, offset: number): Entry {
  const dataBytes = buf.readUInt32LE(offset + 4);
  const type = buf.readUInt8(offset + 9) === EntryType.ConfChange
    ? EntryType.ConfChange
    : EntryType.Normal;
  const start = offset + recordHeaderBytes;
  const data = new Uint8Array(buf.subarray(start, start + dataBytes));
  return { term: recordTerm(buf, offset), index: recordIndex(buf, offset), type, data };
}

/**
 * Whether any intact record starts in buf[from, end). Used after a bad record in the last
 * segment: if something intact follows, the damage is in the middle of the log, not a torn tail.
 */
export function intactRecordAfter(
  buf: Buffer,
  from: number,
  end: number,
  dataBytesMax: number,
): boolean {
  for (let offset = from; offset + recordHeaderBytes <= end; offset += 1) {
    if (buf[offset + 8] !== entryKind) continue;
    if (checkRecord(buf, offset, end, dataBytesMax) > 0) return true;
  }
  return false;
}
