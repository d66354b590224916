// WAL segment files. A segment is named after the index of its first entry,
// <baseIndex as 20 zero-padded digits>.wal, so a directory listing sorts in log order, and
// starts with a 32-byte header:
//
//   0  "RSWALSEG"   8  u32 version (2)   12 u32 zero   16 u64 baseIndex
//   24 u32 crc32c of bytes 0..24         28 u32 zero
//
// followed by records (record.ts) for baseIndex, baseIndex + 1, ... with no gaps.

import { crc32c } from "@node-rs/crc32";
import { readU64, writeU64 } from "../binary.js";

export const segmentHeaderBytes = 32;
const magic = Buffer.from("RSWALSEG", "latin1");
/**
 * 2: records frame whole writes (record.ts). Version 1 (one record per entry) is refused with
 * CorruptLogError rather than misread: its records would look like a torn tail and be cut off.
 */
const version = 2;
const namePattern = /^(\d{20})\.wal$/;

export function segmentName(baseIndex: number): string {
  return `${String(baseIndex).padStart(20, "0")}.wal`;
}

/** The base index a file name encodes, or null if it is not a segment name. */
export function parseSegmentName(name: string): number | null {
  const match = namePattern.exec(name);
  if (match === null) return null;
  const base = Number(match[1]);
  return Number.isSafeInteger(base) ? base : null;
}

export function encodeSegmentHeader(baseIndex: number): Buffer {
  const buf = Buffer.alloc(segmentHeaderBytes);
  magic.copy(buf, 0);
  buf.writeUInt32LE(version, 8);
  writeU64(buf, baseIndex, 16);
  buf.writeUInt32LE(crc32c(buf.subarray(0, 24)), 24);
  return buf;
}

/** Returns null when the header is intact and names `baseIndex`, else the reason. */
export function checkSegmentHeader(buf: Buffer, baseIndex: number): string | null {
  if (buf.length < segmentHeaderBytes) return `header is truncated (${buf.length} bytes)`;
  if (!buf.subarray(0, 8).equals(magic)) return "bad segment magic";
  if (buf.readUInt32LE(24) !== crc32c(buf.subarray(0, 24))) {
    return "segment header checksum mismatch";
  }
  if (buf.readUInt32LE(8) !== version) return `unknown segment version ${buf.readUInt32LE(8)}`;
  const stored = readU64(buf, 16);
  if (stored !== baseIndex) return `header says base index ${stored}, file name ${baseIndex}`;
  return null;
}
