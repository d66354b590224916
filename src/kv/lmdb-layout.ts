// How the LMDB state machine lays its state out in LMDB (layout version 1). All databases use
// raw binary keys and values; LMDB orders keys by bytes, which for UTF-8 keys is exactly the
// state machine's key order (code points).
//
//   meta       "layout" u32 = 1 | "slot" u8 (0 or 1: which records/expiry pair is live)
//              | "applied" u64 (last applied index) | "count" u64 (records in the live slot)
//   records-N  slot key -> single record or bucket (below)
//   expiry-N   u64 BE expiresAtMs | slot key -> empty (one entry per distinct expiry per slot key)
//   sessions   clientId (UTF-8) -> u64 stamp | u64 sequence | result (result-codec.ts)
//
// Why slot keys and buckets: LMDB keys are at most 1978 bytes, but the state machine's keys may
// have up to 65535. A key shorter than `slotKeyBytes` is its own slot key and its value is one
// record (u64 createIndex | u64 modIndex | u64 expiresAtMs | value). Longer keys are grouped
// under their first `slotKeyBytes` bytes in a bucket (u32 count | records in the snapshot's
// record layout, keys ascending). Truncation keeps the order: every key of a bucket sorts after
// the keys below its slot key and before those above, so iterating the slot keys in order and
// each bucket in order yields all keys in order. Buckets are rare (keys of 1900+ bytes).
//
// Integers are little endian except in expiry keys, which are big endian so that LMDB's byte
// order is the numeric order of expiries.

import { assert } from "../assert.js";
import { ByteReader, ByteWriter } from "./binary.js";
import { compareKeys } from "./keys.js";
import { readResult, writeResult } from "./result-codec.js";
import type { SessionEntry } from "./sessions.js";
import { writeRecord } from "./snapshot-format.js";
import type { KvRecord } from "./types.js";
import { KvStoreDamagedError } from "./errors.js";

export const LAYOUT_VERSION = 1;
/** Keys of at least this many UTF-8 bytes live in buckets (expiry keys add 8: within 1978). */
export const slotKeyBytes = 1900;
const singleHeaderBytes = 24;
const twoTo32 = 0x1_0000_0000;

export const metaKeys = {
  layout: Buffer.from("layout", "latin1"),
  slot: Buffer.from("slot", "latin1"),
  applied: Buffer.from("applied", "latin1"),
  count: Buffer.from("count", "latin1"),
} as const;

function damaged(reason: string): KvStoreDamagedError {
  return new KvStoreDamagedError(`LMDB key-value state: ${reason}`);
}

function writeU64(bytes: Buffer, at: number, value: number): void {
  assert(Number.isSafeInteger(value) && value >= 0, () => `u64 ${value}`);
  bytes.writeUInt32LE(value >>> 0, at);
  bytes.writeUInt32LE(Math.floor(value / twoTo32), at + 4);
}

export function u64Bytes(value: number): Buffer {
  const bytes = Buffer.allocUnsafe(8);
  writeU64(bytes, 0, value);
  return bytes;
}

export function readU64(bytes: Uint8Array, at = 0): number {
  const buf = asBuf(bytes);
  if (buf.length < at + 8) throw damaged(`u64 at ${at} of ${buf.length} bytes`);
  const high = buf.readUInt32LE(at + 4);
  if (high > 0x1f_ffff) throw damaged("u64 above 2^53");
  return high * twoTo32 + buf.readUInt32LE(at);
}

export function asBuf(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** The LMDB key under which `key`'s record is stored. */
export function slotKeyOf(key: string): Buffer {
  const bytes = Buffer.from(key, "utf8");
  return bytes.length < slotKeyBytes ? bytes : bytes.subarray(0, slotKeyBytes);
}

export function isBucket(slotKey: Uint8Array): boolean {
  assert(slotKey.length >= 1 && slotKey.length <= slotKeyBytes, "slot key length");
  return slotKey.length === slotKeyBytes;
}

export function encodeSingle(record: KvRecord): Buffer {
  const valueBytes = Buffer.byteLength(record.value, "utf8");
  const bytes = Buffer.allocUnsafe(singleHeaderBytes + valueBytes);
  writeU64(bytes, 0, record.createIndex);
  writeU64(bytes, 8, record.modIndex);
  writeU64(bytes, 16, record.expiresAtMs);
  const written = bytes.write(record.value, singleHeaderBytes, "utf8");
  assert(written === valueBytes, "single record value length");
  return bytes;
}

function decodeSingle(key: string, bytes: Buffer): KvRecord {
  if (bytes.length < singleHeaderBytes) throw damaged(`record of ${bytes.length} bytes`);
  const record = {
    key,
    value: bytes.toString("utf8", singleHeaderBytes),
    createIndex: readU64(bytes, 0),
    modIndex: readU64(bytes, 8),
    expiresAtMs: readU64(bytes, 16),
  };
  if (record.createIndex < 1 || record.createIndex > record.modIndex) {
    throw damaged(`record ${key} with createIndex ${record.createIndex}`);
  }
  return record;
}

export function encodeBucket(records: readonly KvRecord[]): Buffer {
  assert(records.length > 0, "an empty bucket is removed, not stored");
  const w = new ByteWriter(256);
  w.u32(records.length);
  let previous: string | undefined;
  for (const record of records) {
    assert(previous === undefined || compareKeys(previous, record.key) < 0, "bucket order");
    previous = record.key;
    writeRecord(w, record);
  }
  return w.take();
}

function decodeBucket(bytes: Buffer): KvRecord[] {
  const r = new ByteReader(bytes, (reason) => damaged(`bucket: ${reason}`));
  const count = r.u32();
  const records: KvRecord[] = [];
  for (let i = 0; i < count; i++) {
    const keyBytes = r.u16();
    const valueBytes = r.u32();
    const createIndex = r.u64();
    const modIndex = r.u64();
    const expiresAtMs = r.u64();
    const key = r.utf8(keyBytes);
    records.push({ key, value: r.utf8(valueBytes), createIndex, modIndex, expiresAtMs });
  }
  r.end();
  return records;
}

/** The records of one slot; `key` (the one looked up) saves decoding a single slot's key. */
export function decodeSlot(slotKey: Uint8Array, value: Uint8Array, key?: string): KvRecord[] {
  const bytes = asBuf(value);
  if (isBucket(slotKey)) return decodeBucket(bytes);
  return [decodeSingle(key ?? asBuf(slotKey).toString("utf8"), bytes)];
}

export function expiryKey(expiresAtMs: number, slotKey: Uint8Array): Buffer {
  assert(Number.isSafeInteger(expiresAtMs) && expiresAtMs > 0, () => `expiry ${expiresAtMs}`);
  const bytes = Buffer.allocUnsafe(8 + slotKey.length);
  bytes.writeUInt32BE(Math.floor(expiresAtMs / twoTo32), 0);
  bytes.writeUInt32BE(expiresAtMs >>> 0, 4);
  bytes.set(slotKey, 8);
  return bytes;
}

export function parseExpiryKey(key: Uint8Array): { expiresAtMs: number; slotKey: Buffer } {
  const bytes = asBuf(key);
  if (bytes.length <= 8) throw damaged(`expiry key of ${bytes.length} bytes`);
  const expiresAtMs = bytes.readUInt32BE(0) * twoTo32 + bytes.readUInt32BE(4);
  return { expiresAtMs, slotKey: bytes.subarray(8) };
}

export function encodeSession(stamp: number, entry: SessionEntry): Buffer {
  const w = new ByteWriter(64);
  w.u64(stamp);
  w.u64(entry.sequence);
  writeResult(w, entry.result);
  return w.take();
}

export function decodeSession(value: Uint8Array): { stamp: number; entry: SessionEntry } {
  const r = new ByteReader(asBuf(value), (reason) => damaged(`session: ${reason}`));
  const stamp = r.u64();
  const sequence = r.u64();
  const result = readResult(r, (reason) => damaged(`session result: ${reason}`));
  r.end();
  return { stamp, entry: { sequence, result } };
}
