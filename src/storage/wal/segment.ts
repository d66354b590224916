// WAL segment files. A segment is named after the index of its first entry,
// <baseIndex as 20 zero-padded digits>.wal, so a directory listing sorts in log order, and
// starts with a 32-byte header:
//
//   0  "RSWALSEG"   8  u32 version (3)   12 u32 salt   16 u64 baseIndex
//   24 u32 crc32c of bytes 0..24         28 u32 zero
//
// followed by records (record.ts) for baseIndex, baseIndex + 1, ... with no gaps.
//
// The salt seeds every record checksum in the segment. A segment may be made from a recycled
// file (recycled-segments.ts) whose old records are still on disk after the new ones; drawn
// different from that file's previous salt, it makes each old record fail its checksum (a CRC
// seeded differently never matches the same bytes), so recovery reads them as the clean end.
// Version 2 segments (no recycling yet) have salt 0 and are read as before.

import { randomBytes } from "node:crypto";
import { crc32c } from "@node-rs/crc32";
import { readU64, writeU64 } from "../binary.js";

export const segmentHeaderBytes = 32;
const magic = Buffer.from("RSWALSEG", "latin1");
/**
 * 3: a salt seeds the record checksums. 2: records frame whole writes (record.ts), salt 0; still
 * read. Version 1 (one record per entry) is refused with CorruptLogError rather than misread: its
 * records would look like a torn tail and be cut off. An older build refuses version 3 the same
 * way, rather than reading salted records as a torn tail.
 */
const version = 3;
const unsaltedVersion = 2;
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

export function encodeSegmentHeader(baseIndex: number, salt: number): Buffer {
  const buf = Buffer.alloc(segmentHeaderBytes);
  magic.copy(buf, 0);
  buf.writeUInt32LE(version, 8);
  buf.writeUInt32LE(salt, 12);
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
  const stated = buf.readUInt32LE(8);
  if (stated !== version && stated !== unsaltedVersion) return `unknown segment version ${stated}`;
  if (stated === unsaltedVersion && segmentSalt(buf) !== 0) return "version 2 header with a salt";
  const stored = readU64(buf, 16);
  if (stored !== baseIndex) return `header says base index ${stored}, file name ${baseIndex}`;
  return null;
}

/** The salt of a header that checkSegmentHeader accepted (0 in a version 2 segment). */
export function segmentSalt(header: Buffer): number {
  return header.readUInt32LE(12);
}

/** The salt of what may be an old segment's header: its stated salt, or 0 when not a header. */
export function staleSalt(header: Buffer): number {
  return header.length >= segmentHeaderBytes && header.subarray(0, 8).equals(magic)
    ? segmentSalt(header)
    : 0;
}

/** A random non-zero salt other than `previous` (the salt of the file being reused). */
export function newSalt(previous: number): number {
  for (;;) {
    const salt = randomBytes(4).readUInt32LE(0);
    if (salt !== 0 && salt !== previous) return salt;
  }
}
