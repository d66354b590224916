// Torn writes for the chaos nemesis: damage the tail of a stopped member's WAL the way a crash
// in the middle of a write can, then let the member's recovery find and repair it.
//
// Two modes:
// - "append": add the first half of a record after the last one (over the zeros of a
//   preallocated segment, or at the end of the file), as a crash during the write of a new
//   record leaves it. That record was never synced, so never acknowledged: recovery
//   must cut it off and the member loses nothing. This is the realistic torn write, and sound
//   for a correctness check.
// - "cut": truncate the file in the middle of its last record. The record was written and
//   (with SIGKILL, which loses no written bytes) most likely synced and acknowledged, so this
//   simulates a disk that loses synced data: stronger than Raft's fault model. The member may
//   refuse to start when its state machine applied what the log no longer holds
//   (InconsistentStateError), and acknowledged entries could in principle be lost.
//
// Record layout: src/storage/wal/record.ts (u32 crc | u32 recordBytes | u8 kind ... | u32 count
// | u64 firstIndex); segments: src/storage/wal/segment.ts (a 32-byte header, then records).

import { open, readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import {
  checkRecord,
  isCutRecord,
  recordCount,
  recordFirstIndex,
  recordHeaderBytes,
} from "../../src/storage/wal/record.js";
import { isZeroFrom } from "../../src/storage/wal/recovery.js";
import {
  parseSegmentName,
  segmentHeaderBytes,
  segmentSalt,
} from "../../src/storage/wal/segment.js";

export type TearMode = "append" | "cut";

export interface TearResult {
  readonly segment: string;
  /** Where the torn record starts. */
  readonly recordOffset: number;
  /** The size of the record the tear is made of. */
  readonly recordBytes: number;
  readonly sizeBefore: number;
  readonly sizeAfter: number;
  readonly mode: TearMode;
}

/** Where a server (`serve --storage wal --data DIR`) keeps its WAL segments. */
export function walLogDir(dataDir: string): string {
  return join(dataDir, "raft", "log");
}

/** The newest segment file of a WAL directory, or null when there is none. */
export async function newestSegment(logDir: string): Promise<string | null> {
  let names: string[];
  try {
    names = await readdir(logDir);
  } catch {
    return null;
  }
  const segments = names
    .map((name) => ({ name, base: parseSegmentName(name) }))
    .filter((s): s is { name: string; base: number } => s.base !== null)
    .sort((a, b) => a.base - b.base);
  const last = segments[segments.length - 1];
  return last === undefined ? null : join(logDir, last.name);
}

// Reading our own files: no size bound beyond what a u32 length field allows.
const looseLimits = { entryBytesMax: 0xffff_ffff, recordBytesMax: 0xffff_ffff } as const;

/** A record's place in its segment file. */
export interface RecordSpan {
  readonly offset: number;
  readonly bytes: number;
}

/** Offset and length of each intact record of a segment, in order, up to the first bad one. */
export function intactRecords(buf: Buffer): RecordSpan[] {
  const records: RecordSpan[] = [];
  if (buf.length < segmentHeaderBytes) return records;
  const salt = segmentSalt(buf);
  let offset = segmentHeaderBytes;
  while (offset + recordHeaderBytes <= buf.length) {
    const end = checkRecord(buf, offset, buf.length, looseLimits, salt);
    if (end < 0) break;
    records.push({ offset, bytes: end - offset });
    offset = end;
  }
  return records;
}

/** Offset and length of the last intact record of a segment, or null when it holds none. */
export function lastRecord(buf: Buffer): RecordSpan | null {
  return intactRecords(buf).at(-1) ?? null;
}

/**
 * Tears the tail of the newest segment in `logDir` (see the modes above). Returns null, with
 * nothing changed, when there is no record to tear, or in "cut" mode when the last record is a
 * cut record (removing it would bring deleted entries back, which no crash can do).
 */
export async function tearWal(logDir: string, mode: TearMode): Promise<TearResult | null> {
  const segment = await newestSegment(logDir);
  if (segment === null) return null;
  const buf = await readFile(segment);
  const record = lastRecord(buf);
  if (record === null) return null;
  if (mode === "cut" && isCutRecord(buf, record.offset)) return null;
  const half = Math.max(1, Math.floor(record.bytes / 2));
  const inZeros = isZeroFrom(buf, record.offset + record.bytes) &&
    buf.length >= record.offset + record.bytes + half;
  const handle = await open(segment, "r+");
  try {
    if (mode === "cut") {
      await handle.truncate(record.offset + half);
    } else {
      const end = record.offset + record.bytes;
      const torn = Buffer.from(buf.subarray(record.offset, record.offset + half));
      if (!isCutRecord(buf, record.offset) && half >= recordHeaderBytes) {
        // The record a crash interrupted would have started where this one's entries end.
        const next = recordFirstIndex(buf, record.offset) + recordCount(buf, record.offset);
        torn.writeUInt32LE(next % 0x1_0000_0000, 16);
        torn.writeUInt32LE(Math.floor(next / 0x1_0000_0000), 20);
      }
      // In a preallocated segment the torn write lands on the zeros after the last record, as
      // a crash leaves it. Otherwise anything after that record is already a torn tail: replace
      // it.
      if (!inZeros) await handle.truncate(end);
      await handle.write(torn, 0, torn.length, end);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  const sizeAfter = mode === "cut"
    ? record.offset + half
    : inZeros ? buf.length : record.offset + record.bytes + half;
  return {
    segment, recordOffset: record.offset, recordBytes: record.bytes,
    sizeBefore: buf.length, sizeAfter, mode,
  };
}
