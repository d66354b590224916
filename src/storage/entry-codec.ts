// The value stored for one entry in the lmdb and level backends (the key is the 8-byte
// big-endian index). Neither engine checksums values on every read (LMDB not at all), so each
// value carries a CRC32C that also covers its index: a value found under the wrong key fails.
//
//   0  u32 crc32c(index as u64 LE, bytes 4..end)
//   4  u8  entry type, 3 bytes zero
//   8  u64 term
//   16 data

import { crc32c } from "@node-rs/crc32";
import { assert } from "../assert.js";
import { type Entry, EntryType, type LogIndex } from "../core/types.js";
import { asBuffer, readU64, writeU64 } from "./binary.js";

export const entryValueHeaderBytes = 16;

export function encodeEntryValue(entry: Entry): Buffer {
  const buf = Buffer.allocUnsafe(entryValueHeaderBytes + entry.data.length);
  buf.writeUInt32LE(entry.type, 4);
  writeU64(buf, entry.term, 8);
  buf.set(entry.data, entryValueHeaderBytes);
  buf.writeUInt32LE(valueChecksum(entry.index, buf), 0);
  return buf;
}

/** The decoded entry, or a reason why the value cannot be trusted. */
export function decodeEntryValue(index: LogIndex, value: Uint8Array): Entry | string {
  const buf = asBuffer(value);
  if (buf.length < entryValueHeaderBytes) return `value of ${buf.length} bytes is too short`;
  if (buf.readUInt32LE(0) !== valueChecksum(index, buf)) return "checksum mismatch";
  const type = buf.readUInt32LE(4);
  if (type !== EntryType.Normal && type !== EntryType.ConfChange) return `entry type ${type}`;
  const term = readU64(buf, 8);
  if (term < 0) return "term out of range";
  // Copy the payload: engines may reuse the buffer they returned for the next read.
  const data = new Uint8Array(buf.subarray(entryValueHeaderBytes));
  return { term, index, type, data };
}

function valueChecksum(index: LogIndex, buf: Buffer): number {
  assert(buf.length >= entryValueHeaderBytes, () => `entry value of ${buf.length} bytes`);
  const indexBytes = Buffer.allocUnsafe(8);
  writeU64(indexBytes, index, 0);
  return crc32c(buf.subarray(4), crc32c(indexBytes));
}
